# metafor reference values for GOSH (tests/test_gosh.py): gosh() on every subset.
#
#   Rscript tests/metafor/make_gosh_fixtures.R tests/fixtures/metafor_inputs.csv tests/fixtures
#
# Reads the counts of make_inputs.py (dataset, study, xi, ni) and, for
#   * two of the project's cells: liver colorectal OS 24 months (k = 5) and lung colorectal
#     LC 24 months (k = 11, 2047 subsets), with REML;
#   * two synthetic sets: extreme heterogeneity (k = 6) with every tau2 estimator, and
#     studies at 0 % and 100 % (k = 5) with REML;
# fits rma(escalc(measure = "PLO"), method) and gosh() on all its subsets. Writes
# metafor_gosh.csv: dataset, method, row (gosh's order), subset (the bit mask of
# res$incl: bit j - 1 set when study j is in), k, estimate, q, i2, h2, tau2.
suppressPackageStartupMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
inp <- read.csv(args[1], stringsAsFactors = FALSE)
outdir <- args[2]
tight <- list(threshold = 1e-12, maxiter = 10000, tol = 1e-12)
all_methods <- c("REML", "ML", "DL", "PM", "EB", "HE", "HS", "SJ", "FE")
cases <- list(
  "project:liver:colorectal:OS:24" = "REML",
  "project:lung:colorectal:LC:24" = "REML",
  "synthetic:extreme_heterogeneity" = all_methods,
  "synthetic:zero_and_full" = "REML"
)
rows <- list()
for (ds in names(cases)) {
  d <- inp[inp$dataset == ds, ]
  es <- escalc(measure = "PLO", xi = d$xi, ni = d$ni)
  for (method in cases[[ds]]) {
    res <- rma(es$yi, es$vi, method = method, control = tight)
    g <- gosh(res, progbar = FALSE)
    stopifnot(all(g$fit))  # every subset fitted
    bits <- as.vector(g$incl %*% 2^(seq_len(ncol(g$incl)) - 1))
    rows[[length(rows) + 1]] <- data.frame(
      dataset = ds, method = method, row = seq_len(nrow(g$res)) - 1, subset = bits,
      k = g$res$k, estimate = g$res$estimate, q = g$res$QE, i2 = g$res$I2, h2 = g$res$H2,
      tau2 = g$res$tau2
    )
  }
}
out <- do.call(rbind, rows)
write.csv(out, file.path(outdir, "metafor_gosh.csv"), row.names = FALSE)
cat("wrote", nrow(out), "GOSH fits to", file.path(outdir, "metafor_gosh.csv"), "\n")
