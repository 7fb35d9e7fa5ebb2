# metafor reference values for the data edge cases of tests/test_edge_cases.py.
#
#   Rscript tests/metafor/make_edge_fixtures.R tests/fixtures
#
# Writes
#   metafor_edge_inputs.csv : the edge-case counts (dataset, study, xi, ni), defined here;
#   metafor_edge.csv        : escalc(measure = "PLO") + rma(method, test) + predict(transf =
#                             transf.ilogit) per dataset, for REML and FE with knha and z.
# A dataset of one study is fitted as rma() fits it (k = 1: the study itself, Wald CI),
# which is what pool_cells reports for a single study.
# (The k = 2, 0 %/100 % and zero-heterogeneity cases are in metafor_rma.csv already.)
suppressPackageStartupMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
outdir <- if (length(args)) args[1] else "tests/fixtures"
tight <- list(threshold = 1e-12, maxiter = 10000, tol = 1e-12)

cases <- list(
  single_study       = list(c(17, 20)),
  single_study_n1    = list(c(1, 1)),
  all_full           = list(c(10, 10), c(20, 20), c(15, 15)),
  all_full_k2        = list(c(12, 12), c(30, 30)),
  identical          = list(c(16, 20), c(16, 20), c(16, 20), c(16, 20)),
  one_study_n1       = list(c(1, 1), c(17, 20), c(30, 45), c(40, 52)),
  one_study_n1_none  = list(c(0, 1), c(17, 20), c(30, 45), c(40, 52))
)
inp <- do.call(rbind, lapply(names(cases), function(ds) {
  xn <- do.call(rbind, cases[[ds]])
  data.frame(dataset = ds, study = paste0("s", seq_len(nrow(xn)) - 1), xi = xn[, 1], ni = xn[, 2])
}))
write.csv(inp, file.path(outdir, "metafor_edge_inputs.csv"), row.names = FALSE)

na_or <- function(x) if (is.null(x)) NA_real_ else as.numeric(x)
rows <- list()
for (ds in unique(inp$dataset)) {
  d <- inp[inp$dataset == ds, ]
  es <- escalc(measure = "PLO", xi = d$xi, ni = d$ni)
  for (method in c("REML", "FE")) {
    for (test in c("knha", "z")) {
      if (nrow(d) == 1 && test == "knha") next  # one study: no t-based interval
      res <- suppressWarnings(rma(es$yi, es$vi, method = method, test = test, control = tight))
      p <- predict(res)
      pt <- predict(res, transf = transf.ilogit)
      rows[[length(rows) + 1]] <- data.frame(
        dataset = ds, measure = "PLO", tau2_method = method, ci_method = test, k = res$k,
        estimate = as.numeric(res$beta), se = res$se, ci_low = res$ci.lb, ci_high = res$ci.ub,
        pi_low = na_or(p$pi.lb), pi_high = na_or(p$pi.ub), tau2 = res$tau2, q = res$QE,
        i2 = res$I2, prop_estimate = as.numeric(pt$pred), prop_ci_low = pt$ci.lb, prop_ci_high = pt$ci.ub,
        prop_pi_low = na_or(pt$pi.lb), prop_pi_high = na_or(pt$pi.ub))
    }
  }
}
write.csv(do.call(rbind, rows), file.path(outdir, "metafor_edge.csv"), row.names = FALSE)
