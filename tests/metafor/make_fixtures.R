# Reference values from metafor for the project's pooling engine.
#
#   Rscript tests/metafor/make_fixtures.R tests/fixtures/metafor_inputs.csv tests/fixtures/metafor_rma.csv
#
# For each dataset and each (tau2 method, test) pair it runs
#   rma(xi = xi, ni = ni, measure = "PLO", method = ..., test = ...)
# and predict(), and writes the estimates on the logit scale and back-transformed
# with transf.ilogit. REML is iterated to a tight threshold so that the fixture is
# the REML estimate itself, not the point where metafor's default stopping rule
# (threshold 1e-5) happened to stop.
suppressPackageStartupMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
inp <- read.csv(args[1], stringsAsFactors = FALSE)
out <- list()
for (ds in unique(inp$dataset)) {
  d <- inp[inp$dataset == ds, ]
  for (method in c("REML", "DL", "FE")) {
    for (test in if (method == "FE") "z" else c("knha", "z")) {
      res <- rma(xi = d$xi, ni = d$ni, measure = "PLO", method = method, test = test,
                 control = list(threshold = 1e-12, maxiter = 10000))
      p <- predict(res)
      pt <- predict(res, transf = transf.ilogit)
      pi_lb <- if (is.null(p$pi.lb)) NA else p$pi.lb
      pi_ub <- if (is.null(p$pi.ub)) NA else p$pi.ub
      out[[length(out) + 1]] <- data.frame(
        dataset = ds, tau2_method = method, ci_method = test, k = res$k,
        estimate = as.numeric(res$beta), se = res$se, ci_low = res$ci.lb, ci_high = res$ci.ub,
        pi_low = pi_lb, pi_high = pi_ub, tau2 = res$tau2, q = res$QE, q_p = res$QEp,
        i2 = res$I2, h2 = res$H2,
        prop_estimate = pt$pred, prop_ci_low = pt$ci.lb, prop_ci_high = pt$ci.ub,
        prop_pi_low = if (is.null(pt$pi.lb)) NA else pt$pi.lb,
        prop_pi_high = if (is.null(pt$pi.ub)) NA else pt$pi.ub)
    }
  }
}
res <- do.call(rbind, out)
write.csv(res, args[2], row.names = FALSE)
cat(sprintf("metafor %s, %s: wrote %d rows to %s\n", as.character(packageVersion("metafor")),
            R.version.string, nrow(res), args[2]))
