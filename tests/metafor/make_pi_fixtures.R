# Prediction-interval df, the ad hoc Knapp-Hartung correction and the mean back-transform from
# metafor 5.1-12 (issue 25, item 4).
#
#   R_LIBS=/opt/R-metafor51 Rscript tests/metafor/make_pi_fixtures.R tests/fixtures/metafor_inputs.csv tests/fixtures
#
# metafor_pi.csv: every dataset of metafor_inputs.csv with k >= 2, PLO, PR and PAS, REML and DL,
# test = "z", "knha" and "adhoc" (Jackson et al. 2017): the model's estimate, se, CI and
# prediction interval (predict.rma: pooling.pi_df = metafor); the intervals of pi_df = k-1 and
# k-2, which use the model-based se with t on k - 1 / k - 2 df, are predict(rma(test = "z"),
# pi.type = "t" | "riley") (k - p and k - p - 1 df; "riley" only for k >= 3); the share above
# 0.8 under each; and the mean back-transform of the estimate and CI: predict(res, transf =
# transf.ilogit.int) for PLO, transf.iarcsin.int for PAS (integrals over N(., tau2)).
# metafor_adhoc_leave1out.csv: leave1out() of the datasets with k >= 3, test = "knha" and "adhoc".
suppressPackageStartupMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
inp <- read.csv(args[1], stringsAsFactors = FALSE)
tight <- list(threshold = 1e-12, maxiter = 10000, tol = 1e-12)
fwd <- list(PLO = qlogis, PR = identity, PAS = function(p) asin(sqrt(p)))
mean_transf <- list(PLO = transf.ilogit.int, PR = NULL, PAS = transf.iarcsin.int)
num <- function(x) if (is.null(x)) NA_real_ else as.numeric(x)
rows <- list()
loo <- list()
for (ds in unique(inp$dataset)) {
  d <- inp[inp$dataset == ds, ]
  k <- nrow(d)
  if (k < 2) next
  for (measure in names(fwd)) {
    es <- escalc(measure = measure, xi = d$xi, ni = d$ni)
    c08 <- paste0(">", sprintf("%.17g", fwd[[measure]](0.8)))
    for (method in c("REML", "DL")) {
      res_z <- rma(es$yi, es$vi, method = method, test = "z", control = tight)
      p_t <- predict(res_z, pi.type = "t", prob = c08)
      p_r <- if (k >= 3) predict(res_z, pi.type = "riley", prob = c08) else NULL
      for (test in c("z", "knha", "adhoc")) {
        res <- rma(es$yi, es$vi, method = method, test = test, control = tight)
        p <- predict(res, prob = c08)
        row <- data.frame(dataset = ds, k = k, measure = measure, tau2_method = method, ci_method = test,
                          estimate = as.numeric(res$beta), se = res$se, ci_low = res$ci.lb, ci_high = res$ci.ub,
                          tau2 = res$tau2, pi_low = p$pi.lb, pi_high = p$pi.ub, share_80 = p$prob,
                          pi_low_k1 = p_t$pi.lb, pi_high_k1 = p_t$pi.ub, share_80_k1 = p_t$prob,
                          pi_low_k2 = num(p_r$pi.lb), pi_high_k2 = num(p_r$pi.ub), share_80_k2 = num(p_r$prob),
                          mean_estimate = NA_real_, mean_ci_low = NA_real_, mean_ci_high = NA_real_)
        if (!is.null(mean_transf[[measure]])) {
          m <- predict(res, transf = mean_transf[[measure]])
          row$mean_estimate <- m$pred
          row$mean_ci_low <- m$ci.lb
          row$mean_ci_high <- m$ci.ub
        }
        rows[[length(rows) + 1]] <- row
        if (k >= 3 && measure == "PLO" && test != "z") {
          l1 <- leave1out(res)
          loo[[length(loo) + 1]] <- data.frame(dataset = ds, tau2_method = method, ci_method = test,
                                               omitted = seq_len(k), estimate = l1$estimate, se = l1$se,
                                               ci_low = l1$ci.lb, ci_high = l1$ci.ub, tau2 = l1$tau2)
        }
      }
    }
  }
}
out <- do.call(rbind, rows)
write.csv(out, file.path(args[2], "metafor_pi.csv"), row.names = FALSE)
write.csv(do.call(rbind, loo), file.path(args[2], "metafor_adhoc_leave1out.csv"), row.names = FALSE)
cat(sprintf("metafor %s, %s: wrote %d fits to %s/metafor_pi.csv and %d leave-one-out rows\n",
            as.character(packageVersion("metafor")), R.version.string, nrow(out), args[2],
            nrow(do.call(rbind, loo))))
