# Reference values from metafor for the shipped workflow's own tables.
#
#   Rscript tests/metafor/make_workflow_fixtures.R tests/fixtures/workflow_included.csv tests/fixtures
#
# The input holds the rows a run with the shipped config includes, with their pooling cell
# (site x the review's histology x endpoint x target time point; made by
# tests/metafor/make_workflow_inputs.py from included.csv). Writes:
#   metafor_workflow_studies.csv   pooled_studies.csv: escalc("PLO") yi and vi of every row, its
#                                  Wald CI yi -/+ qnorm(0.975) sqrt(vi) back-transformed with
#                                  transf.ilogit, and weights(rma(yi, vi)) of its cell in %
#                                  (100 for a cell of one study);
#   metafor_workflow_glmm.csv      the GLMM rows of pooled.csv (pooling.model: glmm): for every
#                                  cell of 2 or more studies rma.glmm(measure = "PLO") and
#                                  predict(res, transf = transf.ilogit) (ci and pi), tau2, and
#                                  the logit-scale estimate; glmer iterated to tight tolerances
#                                  (as make_glmm_fixtures.R), so the fixture is the ML estimate;
#   metafor_workflow_leave1out.csv leave_one_out_<site>.csv: for every cell of 3 or more studies
#                                  leave1out(rma(yi, vi, method = "REML", test = "knha"),
#                                  transf = transf.ilogit), one row per omitted study, with tau2
#                                  and I2 of each refit;
#   metafor_workflow_subgroups.csv subgroup_tests.csv: per histology x endpoint x time point with
#                                  2 or more sites and more studies than sites,
#                                  rma(yi, vi, mods = ~ factor(site), method = "REML", test) with
#                                  test "knha" and "z": QM, its df and p, and tau2.
# REML runs to threshold 1e-12, as make_fixtures.R.
suppressPackageStartupMessages({
  library(metafor)
  library(lme4)
})
args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 2) stop("usage: make_workflow_fixtures.R workflow_included.csv outdir")
inp <- read.csv(args[1], stringsAsFactors = FALSE)
outdir <- args[2]
tight <- list(threshold = 1e-12, maxiter = 10000)
glmm_tight <- list(glmerCtrl = list(optimizer = "bobyqa", tolPwrss = 1e-13,
                                    optCtrl = list(rhobeg = 1e-2, rhoend = 1e-12, maxfun = 1e5)))
inp$cell <- paste(inp$site, inp$histology, inp$endpoint, inp$timepoint_months, sep = "|")
cells <- unique(inp$cell)
z <- qnorm(0.975)

study_rows <- list()
glmm_rows <- list()
loo_rows <- list()
for (cell in cells) {
  d <- inp[inp$cell == cell, ]
  es <- escalc(measure = "PLO", xi = d$xi, ni = d$ni)
  k <- nrow(d)
  w <- if (k >= 2) weights(rma(es$yi, es$vi, method = "REML", test = "knha", control = tight)) else 100
  study_rows[[length(study_rows) + 1]] <- data.frame(
    site = d$site, histology = d$histology, endpoint = d$endpoint,
    timepoint_months = d$timepoint_months, study = d$study, xi = d$xi, ni = d$ni,
    yi = as.numeric(es$yi), vi = as.numeric(es$vi),
    estimate = transf.ilogit(as.numeric(es$yi)),
    ci_low = transf.ilogit(as.numeric(es$yi) - z * sqrt(as.numeric(es$vi))),
    ci_high = transf.ilogit(as.numeric(es$yi) + z * sqrt(as.numeric(es$vi))),
    weight_pct = as.numeric(w))
  if (k >= 2) {
    g <- rma.glmm(xi = d$xi, ni = d$ni, measure = "PLO", control = glmm_tight)
    p <- predict(g, transf = transf.ilogit)
    glmm_rows[[length(glmm_rows) + 1]] <- data.frame(
      site = d$site[1], histology = d$histology[1], endpoint = d$endpoint[1],
      timepoint_months = d$timepoint_months[1], k = g$k,
      model_estimate = as.numeric(g$beta), se = g$se, tau2 = g$tau2,
      estimate = as.numeric(p$pred), ci_low = as.numeric(p$ci.lb), ci_high = as.numeric(p$ci.ub),
      pi_low = as.numeric(p$pi.lb), pi_high = as.numeric(p$pi.ub))
  }
  if (k >= 3) {
    res <- rma(es$yi, es$vi, method = "REML", test = "knha", control = tight)
    l1 <- leave1out(res, transf = transf.ilogit)
    loo_rows[[length(loo_rows) + 1]] <- data.frame(
      site = d$site, histology = d$histology, endpoint = d$endpoint,
      timepoint_months = d$timepoint_months, study = d$study, k = k - 1,
      estimate = l1$estimate, ci_low = l1$ci.lb, ci_high = l1$ci.ub, tau2 = l1$tau2, i2 = l1$I2)
  }
}

sub_rows <- list()
inp$group <- paste(inp$histology, inp$endpoint, inp$timepoint_months, sep = "|")
for (grp in unique(inp$group)) {
  d <- inp[inp$group == grp, ]
  sites <- sort(unique(d$site))
  if (length(sites) < 2 || nrow(d) <= length(sites)) next
  es <- escalc(measure = "PLO", xi = d$xi, ni = d$ni)
  for (test in c("knha", "z")) {
    res <- rma(es$yi, es$vi, mods = ~ factor(d$site), method = "REML", test = test, control = tight)
    sub_rows[[length(sub_rows) + 1]] <- data.frame(
      histology = d$histology[1], endpoint = d$endpoint[1], timepoint_months = d$timepoint_months[1],
      sites = paste(sites, collapse = "; "), k = res$k, ci_method = test,
      qm = res$QM, df1 = res$QMdf[1], df2 = res$QMdf[2], p = res$QMp, tau2 = res$tau2)
  }
}

out <- list(
  metafor_workflow_studies.csv = do.call(rbind, study_rows),
  metafor_workflow_glmm.csv = do.call(rbind, glmm_rows),
  metafor_workflow_leave1out.csv = do.call(rbind, loo_rows),
  metafor_workflow_subgroups.csv = do.call(rbind, sub_rows))
for (name in names(out)) write.csv(out[[name]], file.path(outdir, name), row.names = FALSE)
cat(sprintf("metafor %s, %s: wrote %s to %s\n", as.character(packageVersion("metafor")),
            R.version.string, paste(sprintf("%s (%d rows)", names(out), sapply(out, nrow)), collapse = ", "),
            outdir))
