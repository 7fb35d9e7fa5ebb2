# Reference values from metafor 5.1-12 for every tau2 estimator rma.uni accepts (issue 25).
#
#   R_LIBS=/opt/R-metafor51 Rscript tests/metafor/make_tau2_fixtures.R \
#       tests/fixtures/metafor_inputs.csv tests/fixtures/tau2_synthetic_inputs.csv tests/fixtures/metafor_tau2.csv
#
# For the shipped cells (the project: datasets of metafor_inputs.csv) and the synthetic datasets
# with k = 2, 3, 10 and 100: escalc(PLO and PAS), then rma(yi, vi, method, test) for every
# estimator and alias and both tests, with predict(). GENQ and GENQM take weights = ni (the
# arm's patients, what the pipeline passes) for tau2 only: the fit is then
# rma(yi, vi, tau2 = <that tau2>, test), the inverse-variance estimate the pipeline reports.
# GENQM needs CompQuadForm (tests/metafor/README). Iterative estimators run to tight tolerances.
suppressPackageStartupMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
shipped <- read.csv(args[1], stringsAsFactors = FALSE)
shipped <- shipped[startsWith(shipped$dataset, "project:"), ]
inp <- rbind(shipped, read.csv(args[2], stringsAsFactors = FALSE))
tight <- list(threshold = 1e-12, maxiter = 10000, tol = 1e-12)
methods <- c("REML", "ML", "DL", "PM", "EB", "HE", "HS", "SJ", "FE", "HSk", "DLIT", "SJIT", "PMM",
             "GENQ", "GENQM", "EE", "CE", "CO", "VC", "MP")
na_or <- function(x) if (is.null(x)) NA_real_ else as.numeric(x)
rows <- list()
for (ds in unique(inp$dataset)) {
  d <- inp[inp$dataset == ds, ]
  for (measure in c("PLO", "PAS")) {
    es <- escalc(measure = measure, xi = d$xi, ni = d$ni)
    for (method in methods) {
      common <- method %in% c("FE", "EE", "CE")
      for (test in if (common) "z" else c("knha", "z")) {
        if (method %in% c("GENQ", "GENQM")) {
          t2 <- if (nrow(d) < 2) 0 else rma(es$yi, es$vi, weights = d$ni, method = method, control = tight)$tau2
          res <- rma(es$yi, es$vi, tau2 = t2, test = test, control = tight)
        } else {
          res <- rma(es$yi, es$vi, method = method, test = test, control = tight)
        }
        p <- predict(res)
        rows[[length(rows) + 1]] <- data.frame(
          dataset = ds, measure = measure, tau2_method = method, ci_method = test, k = res$k,
          tau2 = res$tau2, estimate = as.numeric(res$beta), se = res$se, ci_low = res$ci.lb,
          ci_high = res$ci.ub, pi_low = na_or(p$pi.lb), pi_high = na_or(p$pi.ub))
      }
    }
  }
}
out <- do.call(rbind, rows)
write.csv(out, args[3], row.names = FALSE)
cat(sprintf("metafor %s, %s: wrote %d fits to %s\n", as.character(packageVersion("metafor")),
            R.version.string, nrow(out), args[3]))
