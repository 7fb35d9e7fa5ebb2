# Reference values from metafor for the binomial-normal GLMM (sbrtmeta.glmm).
#
#   Rscript tests/metafor/make_glmm_fixtures.R \
#       tests/fixtures/metafor_inputs.csv tests/fixtures/glmm_inputs_k200.csv \
#       tests/fixtures/metafor_glmm.csv
#
# For each dataset it runs
#   rma.glmm(xi = xi, ni = ni, measure = "PLO")
# i.e. lme4::glmer(cbind(xi, ni - xi) ~ 1 + (1 | study), family = binomial,
# nAGQ = 7), twice:
#   control = "default": metafor's and lme4's default settings (bobyqa then
#       Nelder-Mead; the optimum is only as precise as their stopping rules,
#       about 1e-5 relative);
#   control = "tight": bobyqa in both glmer stages with rhoend = 1e-12 and the
#       penalized IRLS for the conditional modes iterated to tolPwrss = 1e-13
#       (default 1e-7), so that the fixture is the ML estimate itself rather
#       than the point where the default stopping rules happened to stop (as
#       make_fixtures.R tightens REML). On flat likelihoods (few studies, large
#       tau2) the two differ by up to ~4e-4 relative.
# It also records the common-effect fit rma.glmm(..., method = "FE") (the
# logistic model with tau2 = 0), which is what the GLMM reduces to when tau2 is
# estimated at the boundary, and what a dataset that glmer refuses to fit can
# be checked against.
#
# Columns: status is "ok" or "error: <message>" (glmer fails e.g. with
# "Response is constant" when all observed proportions are equal); warnings
# lists any warnings; singular is lme4::isSingular() of the glmer fit (tau2 at
# the boundary 0). loglik is logLik() of the rma.glmm object, which metafor
# computes as ll(saturated glm) - deviance(glmer)/2 with lme4's conditional
# deviance; loglik_glmer is logLik() of the glmer fit itself (the maximised
# marginal log-likelihood under 7-point adaptive Gauss-Hermite quadrature,
# which for nAGQ > 1 lme4 reports relative to the saturated model, i.e. without
# the saturated log-likelihood); loglik_saturated is metafor's ll.QE, the
# log-likelihood of the saturated logistic model (logLik + deviance/2).
suppressPackageStartupMessages({
  library(metafor)
  library(lme4)
})
args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 3) stop("usage: make_glmm_fixtures.R inputs.csv inputs_k200.csv out.csv")
inp <- rbind(read.csv(args[1], stringsAsFactors = FALSE),
             read.csv(args[2], stringsAsFactors = FALSE))

controls <- list(
  default = list(),
  tight = list(glmerCtrl = list(optimizer = "bobyqa", tolPwrss = 1e-13,
                                optCtrl = list(rhobeg = 1e-2, rhoend = 1e-12, maxfun = 1e5))))

fit <- function(d, control, method = "ML") {
  warns <- character(0)
  res <- tryCatch(
    withCallingHandlers(
      rma.glmm(xi = d$xi, ni = d$ni, measure = "PLO", method = method,
               control = control, retfit = TRUE),
      warning = function(w) {
        warns <<- c(warns, conditionMessage(w))
        invokeRestart("muffleWarning")
      }),
    error = function(e) e)
  list(res = res, warnings = paste(unique(gsub("[\r\n]+", " ", warns)), collapse = " | "))
}

out <- list()
for (ds in unique(inp$dataset)) {
  d <- inp[inp$dataset == ds, ]
  fe <- fit(d, list(), method = "FE")$res
  for (ctl in names(controls)) {
    f <- fit(d, controls[[ctl]])
    res <- f$res
    row <- data.frame(dataset = ds, control = ctl, k = nrow(d), status = "ok",
                      warnings = f$warnings, singular = NA,
                      estimate = NA_real_, se = NA_real_, zval = NA_real_, pval = NA_real_,
                      ci_low = NA_real_, ci_high = NA_real_, tau2 = NA_real_,
                      loglik = NA_real_, loglik_glmer = NA_real_, loglik_saturated = NA_real_,
                      qe_wald = NA_real_, qe_wald_p = NA_real_, qe_lrt = NA_real_,
                      qe_lrt_p = NA_real_, qe_df = NA_real_, i2 = NA_real_, h2 = NA_real_,
                      fe_estimate = as.numeric(fe$beta), fe_se = fe$se,
                      fe_loglik = as.numeric(logLik(fe)),
                      stringsAsFactors = FALSE)
    if (inherits(res, "error")) {
      glmer_msg <- tryCatch({
        st <- factor(seq_len(nrow(d)))
        suppressMessages(glmer(cbind(d$xi, d$ni - d$xi) ~ 1 + (1 | st), family = binomial, nAGQ = 7))
        ""
      }, error = function(e) paste0(" (glmer: ", conditionMessage(e), ")"))
      row$status <- paste0("error: ", conditionMessage(res), glmer_msg)
    } else {
      row$singular <- isSingular(res$res.ML)
      row$k <- res$k
      row$estimate <- as.numeric(res$beta)
      row$se <- res$se
      row$zval <- res$zval
      row$pval <- res$pval
      row$ci_low <- res$ci.lb
      row$ci_high <- res$ci.ub
      row$tau2 <- res$tau2
      row$loglik <- as.numeric(logLik(res))
      row$loglik_glmer <- as.numeric(logLik(res$res.ML))
      row$loglik_saturated <- as.numeric(logLik(res)) + deviance(res) / 2
      row$qe_wald <- res$QE.Wld
      row$qe_wald_p <- res$QEp.Wld
      row$qe_lrt <- res$QE.LRT
      row$qe_lrt_p <- res$QEp.LRT
      row$qe_df <- res$QE.df
      row$i2 <- res$I2
      row$h2 <- res$H2
    }
    out[[length(out) + 1]] <- row
  }
}
res <- do.call(rbind, out)
res$metafor_version <- as.character(packageVersion("metafor"))
res$lme4_version <- as.character(packageVersion("lme4"))
res$r_version <- paste(R.version$major, R.version$minor, sep = ".")
write.csv(res, args[3], row.names = FALSE)
cat(sprintf("metafor %s, lme4 %s, %s: wrote %d rows to %s\n",
            as.character(packageVersion("metafor")), as.character(packageVersion("lme4")),
            R.version.string, nrow(res), args[3]))
for (i in seq_len(nrow(res))) {
  if (res$status[i] != "ok" || nzchar(res$warnings[i]) || isTRUE(res$singular[i]))
    cat(sprintf("  %s [%s]: status=%s singular=%s warnings=%s\n", res$dataset[i], res$control[i],
                res$status[i], res$singular[i], res$warnings[i]))
}
