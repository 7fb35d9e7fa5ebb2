# Reference values from metafor for the profile likelihood of alpha/beta in the dose-response model
# (sbrtmeta.stats.alpha_beta_profile.profile_alpha_beta).
#
#   R_LIBS=/opt/R-metafor51 Rscript tests/metafor/make_alpha_beta_fixtures.R tests/fixtures
#
# Data (written to alpha_beta_arms.csv, so the Python tests fit the same rows): 30 synthetic studies with
# 1-3 dose arms each, every arm a total dose D in f fractions (f from 1, 3, 5, 8; d = D / f), n from 30 to
# 150, and local control drawn from logit LC = -4 + 1.5 log(BED) + study effect (SD 0.3) + arm effect
# (SD 0.15) with BED = D (1 + d / 15): a true alpha/beta of 15 Gy. Seeded, so rerunning gives the same file.
# Dataset "multilevel" has every arm (rma.mv, random = ~ 1 | study/arm); "two_level" the first arm of each
# study (rma).
#
# For each dataset and alpha/beta, with dat <- escalc(measure = "PLO", xi = events, ni = n) and
# bed <- D * (1 + d / alpha_beta):
#   loglik(ab) = logLik(rma.mv(yi, vi, mods = ~ log(bed), random = ~ 1 | study/arm, method = "ML"))
#   (two_level: logLik(rma(yi, vi, mods = ~ log(bed), method = "ML")))
# at alpha/beta = 3, 10 and 40 Gy (quantity "loglik"); its maximum over log(alpha/beta) in [log 1, log 100]
# by optimize() (tol 1e-10; quantity "loglik_max", and "estimate"); and the likelihood-ratio interval, the
# roots of loglik(ab) = loglik_max - qchisq(0.95, 1) / 2 on each side of the estimate by uniroot()
# (tol 1e-12; "ci_low", "ci_high"). nlminb runs at rel.tol = 1e-14 (1e-12, 1e-10 where it reports no
# convergence) so each logLik is the maximum's (the log-likelihood is flat to second order there).
suppressPackageStartupMessages(library(metafor))
invisible(Sys.setlocale("LC_COLLATE", "C"))
outdir <- commandArgs(trailingOnly = TRUE)[1]
ctrl_mv <- list(optimizer = "nlminb", rel.tol = 1e-14, x.tol = 1e-15, iter.max = 10000, eval.max = 10000)
ctrl_uni <- list(threshold = 1e-12, maxiter = 10000)

set.seed(20261207)
rows <- list()
for (i in 1:30) {
  n_arms <- sample(1:3, 1, prob = c(0.5, 0.3, 0.2))
  u <- rnorm(1, 0, 0.3)
  for (j in seq_len(n_arms)) {
    f <- sample(c(1, 3, 5, 8), 1)
    d <- round(runif(1, 6, 30) / sqrt(f), 1)
    D <- d * f
    n <- sample(30:150, 1)
    eta <- -4 + 1.5 * log(D * (1 + d / 15)) + u + rnorm(1, 0, 0.15)
    rows[[length(rows) + 1]] <- data.frame(study = sprintf("s%02d", i), arm = sprintf("a%d", j),
                                           total_gy = D, fractions = f, n = n,
                                           events = rbinom(1, n, plogis(eta)))
  }
}
arms <- do.call(rbind, rows)
first <- arms[!duplicated(arms$study), ]
data_sets <- list(multilevel = arms, two_level = first)

loglik_at <- function(d, ab, multilevel) {
  d$bed <- d$total_gy * (1 + d$total_gy / d$fractions / ab)
  dat <- escalc(measure = "PLO", xi = events, ni = n, data = d)
  if (!multilevel) return(as.numeric(logLik(rma(yi, vi, mods = ~ log(bed), data = dat, method = "ML",
                                                control = ctrl_uni))))
  for (rt in c(1e-14, 1e-12, 1e-10)) {  # nlminb may report no convergence at the tightest tolerance
    ctrl_mv$rel.tol <- rt
    res <- tryCatch(rma.mv(yi, vi, mods = ~ log(bed), random = ~ 1 | study/arm, data = dat, method = "ML",
                           control = ctrl_mv), error = function(e) NULL)
    if (!is.null(res)) return(as.numeric(logLik(res)))
  }
  stop("nlminb did not converge at alpha/beta = ", ab)
}

out <- list()
add <- function(name, quantity, ab, value)
  out[[length(out) + 1]] <<- data.frame(dataset = name, quantity = quantity, alpha_beta = ab, value = value)
for (name in names(data_sets)) {
  d <- data_sets[[name]]
  multilevel <- name == "multilevel"
  for (ab in c(3, 10, 40)) add(name, "loglik", ab, loglik_at(d, ab, multilevel))
  prof <- function(u) loglik_at(d, exp(u), multilevel)
  opt <- optimize(prof, c(log(1), log(100)), maximum = TRUE, tol = 1e-10)
  add(name, "estimate", NA, exp(opt$maximum))
  add(name, "loglik_max", NA, opt$objective)
  target <- opt$objective - qchisq(0.95, 1) / 2
  for (side in c("ci_low", "ci_high")) {
    ends <- if (side == "ci_low") c(log(1), opt$maximum) else c(opt$maximum, log(100))
    vals <- sapply(ends, prof) - target
    if (prod(vals) < 0) {
      add(name, side, NA, exp(uniroot(function(u) prof(u) - target, ends, tol = 1e-12)$root))
    } else {
      add(name, side, NA, NA)  # the profile does not fall that far within 1-100 Gy
    }
  }
}
write.csv(arms, file.path(outdir, "alpha_beta_arms.csv"), row.names = FALSE)
write.csv(do.call(rbind, out), file.path(outdir, "metafor_alpha_beta.csv"), row.names = FALSE)
cat(sprintf("metafor %s: %d arms, %d studies\n", packageVersion("metafor"), nrow(arms), nrow(first)))
