# Reference values from metafor for the project's pooling engine.
#
#   Rscript tests/metafor/make_fixtures.R tests/fixtures/metafor_inputs.csv tests/fixtures
#
# Writes, for every dataset of the input file:
#   metafor_escalc.csv : escalc(measure, xi, ni) for PLO, PR, PAS and PFT (yi, vi per study);
#   metafor_rma.csv    : rma(yi, vi, method, test) + predict() (also back-transformed) +
#                        confint() (Q-profile CI of tau2), for every measure, every tau2
#                        estimator and both tests.
# Iterative estimators run to tight tolerances (threshold and tol 1e-12) so that the
# fixture is the estimate itself, not where a default stopping rule stopped.
suppressPackageStartupMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
inp <- read.csv(args[1], stringsAsFactors = FALSE)
outdir <- args[2]
tight <- list(threshold = 1e-12, maxiter = 10000, tol = 1e-12)
back <- list(PLO = transf.ilogit, PR = NULL, PAS = transf.iarcsin, PFT = transf.ipft.hm)
na_or <- function(x) if (is.null(x)) NA_real_ else as.numeric(x)
es_rows <- list()
fit_rows <- list()
for (ds in unique(inp$dataset)) {
  d <- inp[inp$dataset == ds, ]
  for (measure in c("PLO", "PR", "PAS", "PFT")) {
    es <- escalc(measure = measure, xi = d$xi, ni = d$ni)
    es_rows[[length(es_rows) + 1]] <- data.frame(dataset = ds, study = d$study, measure = measure,
                                                 yi = as.numeric(es$yi), vi = as.numeric(es$vi))
    for (method in c("REML", "ML", "DL", "PM", "EB", "HE", "HS", "SJ", "FE")) {
      for (test in if (method == "FE") "z" else c("knha", "z")) {
        res <- rma(es$yi, es$vi, method = method, test = test, control = tight)
        p <- predict(res)
        tf <- back[[measure]]
        pt <- if (is.null(tf)) p else if (measure == "PFT")
          predict(res, transf = tf, targs = list(ni = d$ni)) else predict(res, transf = tf)
        ci <- if (method == "FE") NULL else confint(res, control = list(tol = 1e-12))
        fit_rows[[length(fit_rows) + 1]] <- data.frame(
          dataset = ds, measure = measure, tau2_method = method, ci_method = test, k = res$k,
          estimate = as.numeric(res$beta), se = res$se, ci_low = res$ci.lb, ci_high = res$ci.ub,
          pi_low = na_or(p$pi.lb), pi_high = na_or(p$pi.ub), tau2 = res$tau2,
          tau2_ci_low = if (is.null(ci)) NA_real_ else ci$random["tau^2", "ci.lb"],
          tau2_ci_high = if (is.null(ci)) NA_real_ else ci$random["tau^2", "ci.ub"],
          q = res$QE, q_p = res$QEp, i2 = res$I2, h2 = res$H2,
          prop_estimate = as.numeric(pt$pred), prop_ci_low = as.numeric(pt$ci.lb),
          prop_ci_high = as.numeric(pt$ci.ub), prop_pi_low = na_or(pt$pi.lb),
          prop_pi_high = na_or(pt$pi.ub))
      }
    }
  }
}
es <- do.call(rbind, es_rows)
fits <- do.call(rbind, fit_rows)
write.csv(es, file.path(outdir, "metafor_escalc.csv"), row.names = FALSE)
write.csv(fits, file.path(outdir, "metafor_rma.csv"), row.names = FALSE)
cat(sprintf("metafor %s, %s: wrote %d escalc rows and %d fits to %s\n",
            as.character(packageVersion("metafor")), R.version.string, nrow(es), nrow(fits), outdir))
