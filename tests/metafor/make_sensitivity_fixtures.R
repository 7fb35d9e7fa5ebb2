# Reference values from metafor for sbrtmeta.small_study and sbrtmeta.influence.
#
#   Rscript tests/metafor/make_sensitivity_fixtures.R \
#       tests/fixtures/metafor_inputs.csv tests/fixtures/asymmetric_inputs.csv tests/fixtures
#
# Every input file has columns dataset, study, xi, ni. For each dataset the effect
# sizes are escalc(measure = "PLO", xi =, ni =) and each model is
#   rma(yi, vi, method = ..., test = ..., control = ctrl)
# for (REML, DL) x (z, knha) and (FE, z). REML is iterated to a tight threshold
# so that the fixture holds the REML estimate itself, not the point where
# metafor's default stopping rule (threshold 1e-5) stopped.
#
# Written (all numbers with 17 significant digits):
#   metafor_ranktest.csv          ranktest(res, exact = TRUE / FALSE), once per dataset
#                                 (it uses only yi and vi, not the model's tau^2)
#   metafor_trimfill.csv          trimfill(res, estimator = L0/R0/Q0, side = auto/left/right,
#                                 test = <model's test>, control = ctrl): one row per call,
#                                 status "ok" or "error" with metafor's message
#   metafor_trimfill_filled.csv   yi, vi and the fill flag of each augmented data set
#   metafor_leave1out.csv         leave1out(res), one row per omitted study; also the
#                                 escalc yi and vi that every fixture was computed from
#   metafor_influence.csv         influence(res), rstandard(res), rstudent(res)
#   metafor_influence_refused.csv models for which influence() stops with an error
#
# trimfill() in metafor 5.1-12 (since 4.3-8, commit dc5fe5cc of wviechtb/metafor) passes the
# model's control to the fits that estimate k0, so control may not go through '...' as it did for
# 3.8-1 ("formal argument control matched by multiple actual arguments"); its final fit on the
# filled data gets neither the model's test nor its control, so the test goes through '...' and
# the filled data are refitted here with rma(method, test, control) for the tight estimate.
suppressPackageStartupMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
outdir <- args[length(args)]
inp <- do.call(rbind, lapply(args[-length(args)], read.csv, stringsAsFactors = FALSE))
ctrl <- list(threshold = 1e-12, maxiter = 10000)
models <- list(c("REML", "z"), c("REML", "knha"), c("DL", "z"), c("DL", "knha"), c("FE", "z"))

num <- function(x) if (is.null(x) || length(x) == 0) NA_real_ else as.numeric(x)

# run an expression, keep the value (or the error message) and any warnings
run <- function(expr) {
  warns <- character(0)
  val <- withCallingHandlers(
    tryCatch(expr, error = function(e) structure(conditionMessage(e), class = "fit_error")),
    warning = function(w) {
      warns <<- c(warns, conditionMessage(w))
      invokeRestart("muffleWarning")
    })
  list(value = val, ok = !inherits(val, "fit_error"),
       message = if (inherits(val, "fit_error")) as.character(unclass(val)) else "",
       warnings = paste(unique(warns), collapse = " | "))
}

fmt <- function(df) {
  for (nm in names(df)) {
    if (is.numeric(df[[nm]])) {
      x <- df[[nm]]
      df[[nm]] <- ifelse(is.na(x), NA, sprintf("%.17g", x))
    }
  }
  df
}

rank_rows <- list(); tf_rows <- list(); fill_rows <- list()
l1_rows <- list(); inf_rows <- list(); refused <- list()

for (ds in unique(inp$dataset)) {
  d <- inp[inp$dataset == ds, ]
  es <- escalc(measure = "PLO", xi = d$xi, ni = d$ni)
  k <- nrow(d)

  res0 <- rma(yi, vi, data = es, method = "REML", control = ctrl)
  for (exact in c(TRUE, FALSE)) {
    r <- run(ranktest(res0, exact = exact))
    rank_rows[[length(rank_rows) + 1]] <- data.frame(
      dataset = ds, exact = exact, k = k, status = if (r$ok) "ok" else "error",
      message = r$message, warnings = r$warnings,
      tau = if (r$ok) num(r$value$tau) else NA_real_,
      pval = if (r$ok) num(r$value$pval) else NA_real_)
  }

  for (mt in models) {
    method <- mt[1]; test <- mt[2]
    res <- rma(yi, vi, data = es, method = method, test = test, control = ctrl)

    for (estimator in c("L0", "R0", "Q0")) {
      for (side in c("auto", "left", "right")) {
        targs <- list(res, estimator = estimator, test = test)
        if (side != "auto") targs$side <- side
        r <- run(do.call(trimfill, targs))
        row <- data.frame(dataset = ds, tau2_method = method, ci_method = test,
                          estimator = estimator, side_arg = side, k = k,
                          status = if (r$ok) "ok" else "error", message = r$message,
                          side = NA_character_, k0 = NA_real_, se_k0 = NA_real_, p_k0 = NA_real_,
                          k_all = NA_real_, estimate = NA_real_, se = NA_real_, zval = NA_real_,
                          pval = NA_real_, ci_low = NA_real_, ci_high = NA_real_, tau2 = NA_real_,
                          q = NA_real_, q_p = NA_real_, i2 = NA_real_, h2 = NA_real_)
        if (r$ok) {
          tf <- r$value
          row$side <- tf$side; row$k0 <- tf$k0; row$se_k0 <- num(tf$se.k0); row$p_k0 <- num(tf$p.k0)
          tf <- c(list(side = tf$side, yi = tf$yi, vi = tf$vi, fill = tf$fill),
                  rma(as.numeric(tf$yi), as.numeric(tf$vi), method = method, test = test, control = ctrl))
          row$k_all <- tf$k; row$estimate <- num(tf$beta); row$se <- num(tf$se)
          row$zval <- num(tf$zval); row$pval <- num(tf$pval)
          row$ci_low <- num(tf$ci.lb); row$ci_high <- num(tf$ci.ub); row$tau2 <- num(tf$tau2)
          row$q <- num(tf$QE); row$q_p <- num(tf$QEp); row$i2 <- num(tf$I2); row$h2 <- num(tf$H2)
          fill_rows[[length(fill_rows) + 1]] <- data.frame(
            dataset = ds, tau2_method = method, ci_method = test, estimator = estimator,
            side_arg = side, row = seq_along(tf$yi), yi = as.numeric(tf$yi),
            vi = as.numeric(tf$vi), fill = tf$fill)
        }
        tf_rows[[length(tf_rows) + 1]] <- row
      }
    }

    r <- run(leave1out(res))
    if (r$ok) {
      l1 <- r$value
      stat <- if (is.null(l1$zval)) l1$tval else l1$zval
      tau2 <- if (is.null(l1$tau2)) rep(NA_real_, k) else l1$tau2  # FE: metafor reports no tau^2
      l1_rows[[length(l1_rows) + 1]] <- data.frame(
        dataset = ds, tau2_method = method, ci_method = test, study = d$study,
        yi = as.numeric(es$yi), vi = as.numeric(es$vi),
        estimate = l1$estimate, se = l1$se, zval = stat, pval = l1$pval,
        ci_low = l1$ci.lb, ci_high = l1$ci.ub, q = l1$Q, q_p = l1$Qp, tau2 = tau2,
        i2 = l1$I2, h2 = l1$H2)
    } else {
      refused[[length(refused) + 1]] <- data.frame(
        dataset = ds, tau2_method = method, ci_method = test, call = "leave1out", message = r$message)
    }

    r <- run(influence(res))
    if (r$ok) {
      inf <- r$value
      rs <- rstandard(res)
      rt <- rstudent(res)
      inf_rows[[length(inf_rows) + 1]] <- data.frame(
        dataset = ds, tau2_method = method, ci_method = test, study = d$study,
        yi = as.numeric(es$yi), vi = as.numeric(es$vi),
        rstudent = inf$inf$rstudent, dffits = inf$inf$dffits, cook_d = inf$inf$cook.d,
        cov_r = inf$inf$cov.r, tau2_del = inf$inf$tau2.del, qe_del = inf$inf$QE.del,
        hat = inf$inf$hat, weight = inf$inf$weight, dfbetas = inf$dfbs$intrcpt,
        is_infl = inf$is.infl & !is.na(inf$is.infl),
        rstudent_resid = rt$resid, rstudent_se = rt$se,
        rstandard_resid = rs$resid, rstandard_se = rs$se, rstandard_z = rs$z)
    } else {
      refused[[length(refused) + 1]] <- data.frame(
        dataset = ds, tau2_method = method, ci_method = test, call = "influence", message = r$message)
    }
  }
}

out <- list(metafor_ranktest = rank_rows, metafor_trimfill = tf_rows,
            metafor_trimfill_filled = fill_rows, metafor_leave1out = l1_rows,
            metafor_influence = inf_rows, metafor_influence_refused = refused)
for (nm in names(out)) {
  df <- do.call(rbind, out[[nm]])
  path <- file.path(outdir, paste0(nm, ".csv"))
  write.csv(fmt(df), path, row.names = FALSE, na = "NA")
  cat(sprintf("metafor %s, %s: wrote %d rows to %s\n", as.character(packageVersion("metafor")),
              R.version.string, nrow(df), path))
}
