# hettest() and clustered leave-one-out from metafor 5.1-12 (issue 25, item 5).
#
#   R_LIBS=/opt/R-metafor51 Rscript tests/metafor/make_hettest_fixtures.R \
#       tests/fixtures/sensitivity_tests_inputs.csv tests/fixtures
#
# Inputs: the datasets of role "sites" of make_sensitivity_tests_inputs.py (yi, vi, site, study).
# metafor_hettest.csv: per dataset, each site with >= 3 rows and all rows together ("all"):
#   hettest(rma(yi, vi, method), test = c("score", "lrt", "wald"), boot = FALSE), method REML and ML,
#   the model by Fisher scoring to threshold 1e-12 and the tau2_i by hettest's fixed-point
#   iteration to threshold 1e-13 (control), so that the values are the fixed point itself.
# metafor_leave1out_cluster.csv: per dataset in which a study gives several rows,
#   leave1out(rma(yi, vi, method = "REML", test), cluster = study), test z, knha and adhoc.
suppressPackageStartupMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
inp <- read.csv(args[1], stringsAsFactors = FALSE)
inp <- inp[inp$role == "sites", ]
tight <- list(threshold = 1e-12, maxiter = 10000)
het <- list()
loo <- list()
for (ds in unique(inp$dataset)) {
  d <- inp[inp$dataset == ds, ]
  groups <- c(list(all = d), split(d, d$site))
  for (g in names(groups)) {
    x <- groups[[g]]
    if (nrow(x) < 3) next
    for (method in c("REML", "ML")) {
      res <- rma(x$yi, x$vi, method = method, control = tight)
      h <- hettest(res, test = c("score", "lrt", "wald"), boot = FALSE, progbar = FALSE,
                   control = list(threshold = 1e-13, maxiter = 1e6))
      het[[length(het) + 1]] <- data.frame(dataset = ds, site = g, k = nrow(x), tau2_method = method,
                                           test = h$test, statistic = h$statistic, df = h$df, pval = h$pval)
    }
  }
  if (anyDuplicated(d$study)) {
    for (test in c("z", "knha", "adhoc")) {
      res <- rma(yi, vi, data = d, method = "REML", test = test, control = tight)
      l1 <- leave1out(res, cluster = study)
      loo[[length(loo) + 1]] <- data.frame(dataset = ds, ci_method = test, omitted = l1$slab,
                                           estimate = l1$estimate, se = l1$se, ci_low = l1$ci.lb,
                                           ci_high = l1$ci.ub, tau2 = l1$tau2, i2 = l1$I2, q = l1$Q)
    }
  }
}
het <- do.call(rbind, het)
loo <- do.call(rbind, loo)
write.csv(het, file.path(args[2], "metafor_hettest.csv"), row.names = FALSE)
write.csv(loo, file.path(args[2], "metafor_leave1out_cluster.csv"), row.names = FALSE)
cat(sprintf("metafor %s, %s: wrote %d hettest rows and %d clustered leave-one-out rows to %s\n",
            as.character(packageVersion("metafor")), R.version.string, nrow(het), nrow(loo), args[2]))
