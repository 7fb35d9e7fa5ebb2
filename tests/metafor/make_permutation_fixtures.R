# Reference values from metafor's permutest for issue 12, item 6 (sbrtmeta.stats.permutation).
#
#   Rscript tests/metafor/make_permutation_fixtures.R tests/fixtures/sensitivity_tests_inputs.csv \
#       tests/fixtures/metafor_permutation.csv
#
# Inputs: tests/metafor/make_sensitivity_tests_inputs.py. Output: one long table, dataset,
# analysis, term, quantity, value (written by write.csv: 15 significant digits, so an exact
# p-value, a count over at most 1e5 permutations, is recovered exactly as round(p * n)).
#   perm_sites  permutest(rma(yi, vi, mods = ~ factor(site), method = "REML", test = "knha"), exact = TRUE)
#               per dataset of role "sites" (and with ML + z for synthetic:zero_study)
#   perm_dose   permutest(rma(yi, vi, mods = ~ log(bed10), method = "REML", test = "z"), exact = TRUE)
#               per dataset of role "dose" with one site
# Exact (every distinct permutation of the rows of X) when there are at most 1e5 of them; else only
# the observed statistics and the count of distinct permutations are written (a random permutest
# cannot be matched draw for draw). rma by Fisher scoring to threshold 1e-12; permutest refits
# every permutation with the model's control, so each is as tight. This takes about 10 CPU minutes.
suppressPackageStartupMessages(library(metafor))
options(warn = 1)
args <- commandArgs(trailingOnly = TRUE)
d_all <- read.csv(args[1], stringsAsFactors = FALSE)
tight <- list(threshold = 1e-12, maxiter = 10000)
EXACT_MAX <- 1e5
out <- list()
put <- function(dataset, analysis, term, quantity, value) {
  out[[length(out) + 1]] <<- data.frame(dataset = dataset, analysis = analysis, term = term,
                                        quantity = quantity, value = as.numeric(value))
}
put_perm <- function(ds, analysis, res) {
  # distinct permutations of X's rows, k! / prod(n_j!) (as permutest counts them; the
  # installed metafor has no exact = "i")
  tab <- table(apply(res$X, 1, function(r) paste(format(r, digits = 17), collapse = "|")))
  n_i <- round(exp(lfactorial(res$k) - sum(lfactorial(tab))))
  put(ds, analysis, "", "n_distinct", n_i)
  put(ds, analysis, "", "QM", res$QM)
  put(ds, analysis, "", "QMp_parametric", res$QMp)
  put(ds, analysis, rownames(res$beta), "zval", res$zval)
  if (n_i <= EXACT_MAX) {
    pt <- permutest(res, exact = TRUE, progbar = FALSE)
    put(ds, analysis, "", "QMp", pt$QMp)
    put(ds, analysis, rownames(res$beta), "pval", pt$pval)
  }
}
for (ds in unique(d_all$dataset)) {
  d <- d_all[d_all$dataset == ds, ]
  cat(ds, "\n")
  d$site <- factor(d$site)
  if (d$role[1] == "sites") {
    res <- rma(yi, vi, mods = ~ site, data = d, method = "REML", test = "knha", control = tight)
    put_perm(ds, "perm_sites", res)
    if (ds == "synthetic:zero_study") {
      res_ml <- rma(yi, vi, mods = ~ site, data = d, method = "ML", test = "z", control = tight)
      put_perm(ds, "perm_sites_ml_z", res_ml)
    }
  } else if (nlevels(d$site) == 1) {
    res_u <- rma(yi, vi, mods = ~ log(bed10), data = d, method = "REML", test = "z", control = tight)
    put_perm(ds, "perm_dose", res_u)
  }
}
res <- do.call(rbind, out)
write.csv(res, args[2], row.names = FALSE)
cat(sprintf("%d values written to %s\n", nrow(res), args[2]))
