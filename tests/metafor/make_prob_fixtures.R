# Shares of true rates above a cutoff from metafor 5.1-12's predict(res, prob = ">c") (issue 25, item 3).
#
#   R_LIBS=/opt/R-metafor51 Rscript tests/metafor/make_prob_fixtures.R tests/fixtures/metafor_inputs.csv \
#       tests/fixtures/metafor_prob.csv
#
# For every dataset of metafor_inputs.csv with k >= 2, PLO, PR and PAS, REML, DL and FE, knha and z: the
# share above 0.5, 0.8 and 0.9, the cutoff put on the measure's scale (qlogis, identity, asin(sqrt)).
suppressPackageStartupMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
inp <- read.csv(args[1], stringsAsFactors = FALSE)
tight <- list(threshold = 1e-12, maxiter = 10000, tol = 1e-12)
fwd <- list(PLO = qlogis, PR = identity, PAS = function(p) asin(sqrt(p)))
rows <- list()
for (ds in unique(inp$dataset)) {
  d <- inp[inp$dataset == ds, ]
  if (nrow(d) < 2) next
  for (measure in names(fwd)) {
    es <- escalc(measure = measure, xi = d$xi, ni = d$ni)
    for (method in c("REML", "DL", "FE")) {
      for (test in if (method == "FE") "z" else c("knha", "z")) {
        res <- rma(es$yi, es$vi, method = method, test = test, control = tight)
        for (cutoff in c(0.5, 0.8, 0.9)) {
          c_scale <- fwd[[measure]](cutoff)
          p <- predict(res, prob = paste0(">", sprintf("%.17g", c_scale)))
          rows[[length(rows) + 1]] <- data.frame(dataset = ds, measure = measure, tau2_method = method,
                                                 ci_method = test, cutoff = cutoff, share = as.numeric(p$prob))
        }
      }
    }
  }
}
out <- do.call(rbind, rows)
write.csv(out, args[2], row.names = FALSE)
cat(sprintf("metafor %s, %s: wrote %d shares to %s\n", as.character(packageVersion("metafor")),
            R.version.string, nrow(out), args[2]))
