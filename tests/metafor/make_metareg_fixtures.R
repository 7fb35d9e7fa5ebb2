# Reference values from metafor for the project's meta-regression engine
# (sbrtmeta.meta_regression).
#
#   Rscript tests/metafor/make_metareg_fixtures.R \
#       tests/fixtures/metareg_project_inputs.csv tests/fixtures/metareg_synthetic_inputs.csv \
#       tests/fixtures/metafor_inputs.csv tests/fixtures
#
# Inputs come from tests/metafor/make_metareg_inputs.py (project LC at 24 months with
# site and bed10; a synthetic k = 40 set with a 3-level factor and a continuous
# moderator) and tests/metafor/make_inputs.py (the pooling cells, for regtest).
#
# Writes
#   metafor_metareg.json  for each model and each (tau2 method, test) pair:
#       rma(yi, vi, mods = ..., method = ..., test = ..., btt = ...) and
#       predict(..., newmods = ...); plus the subgroup test (site) on the project data;
#   metafor_regtest.csv   regtest() with model = "rma" (each method and test) and
#                         model = "lm", for every pooling cell with k >= 3.
#
# ML and REML are iterated to a tight threshold so that the fixture is the optimum
# itself, not the point where metafor's default stopping rule (1e-5) happened to stop.
# Factor levels are sorted in the C locale, which is how sbrtmeta sorts them.
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})
invisible(Sys.setlocale("LC_COLLATE", "C"))
args <- commandArgs(trailingOnly = TRUE)
project <- read.csv(args[1], stringsAsFactors = FALSE)
synthetic <- read.csv(args[2], stringsAsFactors = FALSE)
pooling <- read.csv(args[3], stringsAsFactors = FALSE)
out_dir <- args[4]

ctrl <- list(threshold = 1e-12, maxiter = 10000)
methods <- c("REML", "ML", "DL", "FE")
tests <- c("z", "knha", "adhoc")
num <- function(x) if (is.null(x)) NA_real_ else as.numeric(x)

project$site <- factor(project$site)
synthetic$group <- factor(synthetic$group)
project <- escalc(measure = "PLO", xi = events, ni = n, data = project)
synthetic <- escalc(measure = "PLO", xi = events, ni = n, data = synthetic)

# newmods rows are the design rows without the intercept column (metafor adds it)
models <- list(
  list(name = "project_site_bed10", data = "project", mods = ~ site + bed10, btt = NULL,
       newmods = rbind(c(0, 75), c(0, 150), c(1, 100), c(1, 200))),
  list(name = "project_site", data = "project", mods = ~ site, btt = NULL,
       newmods = rbind(0, 1)),
  list(name = "synthetic_group_dose", data = "synthetic", mods = ~ group + dose, btt = NULL,
       newmods = rbind(c(0, 0, 60), c(1, 0, 110), c(0, 1, 170), c(1, 0, 140))),
  list(name = "synthetic_group_dose_btt_group", data = "synthetic", mods = ~ group + dose, btt = 2:3,
       newmods = rbind(c(0, 1, 100))),
  list(name = "synthetic_group_cellmeans", data = "synthetic", mods = ~ group - 1, btt = NULL,
       newmods = rbind(c(1, 0, 0), c(0, 0, 1)))
)

cases <- list()
for (mdl in models) {
  d <- if (mdl$data == "project") project else synthetic
  for (method in methods) {
    for (test in tests) {
      res <- suppressWarnings(rma(yi, vi, mods = mdl$mods, data = d, method = method, test = test,
                                  btt = mdl$btt, control = ctrl))
      pr <- predict(res, newmods = mdl$newmods)
      cases[[length(cases) + 1]] <- list(
        model = mdl$name, data = mdl$data, mods = paste(deparse(mdl$mods), collapse = ""),
        intercept = res$int.incl, tau2_method = method, ci_method = test,
        btt = I(as.integer(res$btt)), k = res$k, p = res$p,
        coef_names = I(rownames(res$beta)), coef = I(as.numeric(res$beta)), se = I(as.numeric(res$se)),
        zval = I(as.numeric(res$zval)), pval = I(as.numeric(res$pval)),
        ci_low = I(as.numeric(res$ci.lb)), ci_high = I(as.numeric(res$ci.ub)),
        vcov = unname(as.matrix(res$vb)), df = num(res$ddf),
        tau2 = res$tau2, se_tau2 = num(res$se.tau2),
        QM = res$QM, QM_df = I(as.numeric(res$QMdf)), QM_p = res$QMp,
        QE = res$QE, QE_df = res$k - res$p, QE_p = res$QEp,
        I2 = res$I2, H2 = res$H2, R2 = num(res$R2),
        newX = unname(cbind(if (res$int.incl) 1 else NULL, mdl$newmods)),
        pred = I(as.numeric(pr$pred)), pred_se = I(as.numeric(pr$se)),
        pred_ci_low = I(as.numeric(pr$ci.lb)), pred_ci_high = I(as.numeric(pr$ci.ub)),
        pred_pi_low = I(if (is.null(pr$pi.lb)) rep(NA_real_, length(pr$pred)) else as.numeric(pr$pi.lb)),
        pred_pi_high = I(if (is.null(pr$pi.ub)) rep(NA_real_, length(pr$pred)) else as.numeric(pr$pi.ub)))
    }
  }
}

# test for subgroup differences between sites: the QM test of rma(mods = ~ factor(site))
subgroup <- list()
for (method in methods) {
  for (test in tests) {
    res <- suppressWarnings(rma(yi, vi, mods = ~ factor(site), data = project, method = method,
                                test = test, control = ctrl))
    subgroup[[length(subgroup) + 1]] <- list(
      data = "project", groups = "site", levels = I(levels(project$site)), tau2_method = method,
      ci_method = test, QM = res$QM, QM_df = I(as.numeric(res$QMdf)), QM_p = res$QMp,
      tau2 = res$tau2, QE = res$QE, QE_p = res$QEp, coef = I(as.numeric(res$beta)))
  }
}

inputs <- list(
  project = list(study = project$study, site = as.character(project$site), bed10 = project$bed10,
                 events = project$events, n = project$n, yi = as.numeric(project$yi),
                 vi = as.numeric(project$vi)),
  synthetic = list(study = synthetic$study, group = as.character(synthetic$group), dose = synthetic$dose,
                   events = synthetic$events, n = synthetic$n, yi = as.numeric(synthetic$yi),
                   vi = as.numeric(synthetic$vi)))

meta <- list(metafor = as.character(packageVersion("metafor")), R = R.version.string,
             control = ctrl, script = "tests/metafor/make_metareg_fixtures.R")
json_path <- file.path(out_dir, "metafor_metareg.json")
writeLines(toJSON(list(generated_by = meta, inputs = inputs, cases = cases, subgroup = subgroup),
                  auto_unbox = TRUE, digits = NA, na = "null", pretty = TRUE), json_path)

# Egger's regression test
rt_rows <- list()
add_rt <- function(ds, k, model, predictor, method, test, rt) {
  fit <- rt$fit
  if (model == "rma") {
    b <- as.numeric(fit$beta); s <- as.numeric(fit$se); tau2 <- fit$tau2
  } else {
    cf <- coef(summary(fit)); b <- cf[, 1]; s <- cf[, 2]; tau2 <- NA
  }
  data.frame(dataset = ds, k = k, model = model, predictor = predictor, tau2_method = method,
             ci_method = test, zval = num(rt$zval), pval = num(rt$pval), df = num(rt$dfs),
             est = num(rt$est), ci_low = num(rt$ci.lb), ci_high = num(rt$ci.ub),
             fit_tau2 = tau2, fit_b0 = b[1], fit_b1 = b[2], fit_se0 = s[1], fit_se1 = s[2])
}
for (ds in unique(pooling$dataset)) {
  d <- pooling[pooling$dataset == ds, ]
  if (nrow(d) < 3) next  # regtest needs k >= 3 (two coefficients plus one df)
  for (method in methods) {
    for (test in tests) {
      res <- suppressWarnings(rma(xi = d$xi, ni = d$ni, measure = "PLO", method = method, test = test,
                                  control = ctrl))
      predictors <- if (method == "REML") c("sei", "vi", "ninv", "sqrtninv") else "sei"
      for (pred in predictors) {
        rt <- suppressWarnings(regtest(res, model = "rma", predictor = pred))
        rt_rows[[length(rt_rows) + 1]] <- add_rt(ds, nrow(d), "rma", pred, method, test, rt)
      }
    }
  }
  res <- rma(xi = d$xi, ni = d$ni, measure = "PLO", method = "REML", control = ctrl)
  for (pred in c("sei", "vi", "ninv", "sqrtninv")) {
    rt <- suppressWarnings(regtest(res, model = "lm", predictor = pred))
    rt_rows[[length(rt_rows) + 1]] <- add_rt(ds, nrow(d), "lm", pred, "", "", rt)
  }
}
rt_tab <- do.call(rbind, rt_rows)
csv_path <- file.path(out_dir, "metafor_regtest.csv")
write.csv(rt_tab, csv_path, row.names = FALSE)

cat(sprintf("metafor %s, %s: wrote %d cases and %d subgroup tests to %s, %d regtest rows to %s\n",
            meta$metafor, R.version.string, length(cases), length(subgroup), json_path,
            nrow(rt_tab), csv_path))
