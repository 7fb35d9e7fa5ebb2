# Reference values from metafor for sbrtmeta.dose_response (logit LC on BED10).
#
#   Rscript tests/metafor/make_dose_response_fixtures.R tests/fixtures/dose_response_inputs.csv tests/fixtures
#
# Inputs come from tests/metafor/make_dose_response_inputs.py: the project's LC rows
# (liver, lung) and a synthetic 25-study set with 1-3 dose arms per study.
#
# For each dataset and subset (one site, or both sites with site as a moderator),
# each dose scale (log: x = log(bed10); linear: x = bed10), each method (REML, ML)
# and each test (z, t) it runs
#   dat <- escalc(measure = "PLO", xi = events, ni = n)
#   rma.mv(yi, vi, mods = ~ x [+ factor(site)], random = ~ 1 | study/arm)
# when some study has two or more arms, and otherwise
#   rma(yi, vi, mods = ~ x [+ factor(site)])
# Subset "first_arm" of the synthetic data keeps the first arm of each study, so
# that the two-level model is fitted with a clear dose-response.
#
# Convergence: as tests/metafor/make_multilevel_fixtures.R. rma.mv is run with
# nlminb at rel.tol = 1e-14 (then 1e-12, 1e-10 if nlminb reports no convergence),
# then the variance components are polished by Newton steps on metafor's own
# (restricted) log-likelihood, logLik(rma.mv(..., sigma2 = s)), with numDeriv
# gradients and Hessians; a component nlminb left below 1e-6 * mean(vi) is set to 0
# after checking that moving it off 0 lowers the likelihood. Gradients use a larger
# numDeriv step than the default (GRAD_ARGS below). Iterations stop when the Newton
# step is below 1e-9 of the component (after 50 iterations a step below 1e-8 is
# accepted). Every reported number
# is metafor's at the polished sigma2. rma() is run with Fisher scoring to
# threshold = 1e-12.
#
# TCP parameters, from b <- coef(res) and V <- vcov(res), for each site; g0 and g1
# are the gradients of b0 (the site's intercept: intercept + the site's dummy) and
# b1 (the slope) with respect to b, L = qlogis(target), crit = qnorm(0.975) for
# test = "z" and qt(0.975, k - p) for test = "t":
#   log scale (logit LC = b0 + b1 log BED):
#     gamma50 = b1 / 4,                  grad = g1 / 4
#     log BED50 = -b0 / b1,              grad = -g0 / b1 + b0 / b1^2 * g1
#     log BEDp = (L - b0) / b1,          grad = -g0 / b1 - (L - b0) / b1^2 * g1
#   linear scale (logit LC = b0 + b1 BED):
#     BED50 = -b0 / b1,                  grad = -g0 / b1 + b0 / b1^2 * g1
#     BEDp = (L - b0) / b1,              grad = -g0 / b1 - (L - b0) / b1^2 * g1
#     gamma50 = b1 * BED50 / 4 = -b0/4,  grad = -g0 / 4
#     se(log BED) = se(BED) / BED
#   se = sqrt(t(grad) %*% V %*% grad); gamma50 +/- crit * se; BED: exp(log BED +/- crit * se(log BED)).
#   Undefined values (b1 <= 0; on the linear scale BED50 or BEDp <= 0) are NA.
# Each hand-written gradient is checked against numDeriv::jacobian of the
# parameter as a function of b.
#
# Predictions: predict(res, newmods = <x on a BED grid, site dummies>) on the logit
# scale, and with transf = transf.ilogit on the proportion scale.
#
# Writes to the output folder:
#   metafor_dose_response_fits.csv         one row per fit
#   metafor_dose_response_coefs.csv        one row per coefficient
#   metafor_dose_response_vcov.csv         vcov(res) in long form
#   metafor_dose_response_tcp.csv          TCP parameters per fit, site, target and level
#   metafor_dose_response_predictions.csv  predictions per fit, site and BED
suppressPackageStartupMessages({
  library(metafor)
  library(numDeriv)
})
invisible(Sys.setlocale("LC_COLLATE", "C"))
args <- commandArgs(trailingOnly = TRUE)
inp <- read.csv(args[1], stringsAsFactors = FALSE)
outdir <- args[2]
ctrl_mv <- list(optimizer = "nlminb", rel.tol = 1e-14, x.tol = 1e-15, sing.tol = 1e-20,
                iter.max = 10000, eval.max = 10000)
ctrl_uni <- list(threshold = 1e-12, maxiter = 10000)
# numDeriv's Richardson extrapolation with a step of 1% of the component (default
# 0.01%): metafor's likelihood is computed to ~1e-14, and with the default step that
# rounding gives gradients noisy at ~1e-7, enough to keep Newton from settling.
GRAD_ARGS <- list(d = 1e-2, r = 6)
GRID <- c(40, 60, 80, 100, 125, 150, 200, 250)
TARGETS <- c(0.90, 0.80)
LEVELS <- c(0.95, 0.90)

mods_for <- function(scale, with_site) {
  x <- if (scale == "log") "log(bed10)" else "bed10"
  as.formula(paste("~", x, if (with_site) "+ factor(site)" else ""))
}

fit_at <- function(d, mods, method, test, sigma2)
  rma.mv(yi, vi, mods = mods, random = ~ 1 | study/arm, data = d, method = method, test = test,
         sigma2 = sigma2)

# Newton on the free variance components of metafor's (restricted) log-likelihood
polish <- function(d, mods, method, s0) {
  f <- function(s) as.numeric(logLik(fit_at(d, mods, method, "z", s)))
  vbar <- mean(d$vi)
  free <- s0 > 1e-6 * vbar
  s <- ifelse(free, s0, 0)
  for (it in seq_len(50)) {
    if (!any(free)) break
    fz <- function(z) { t <- s; t[free] <- z; f(t) }
    g <- grad(fz, s[free], method.args = GRAD_ARGS)
    H <- hessian(fz, s[free])
    if (any(eigen(H, symmetric = TRUE, only.values = TRUE)$values >= 0))
      stop("Hessian not negative definite at ", paste(s, collapse = ", "))
    step <- -solve(H, g)
    t <- 1
    repeat {
      new <- s
      new[free] <- s[free] + t * step
      if (all(new >= 0) && f(new) >= f(s) - 1e-12) break
      t <- t / 2
      if (t < 1e-10) stop("line search failed")
    }
    s <- new
    rel <- max(abs(t * step) / s[free])
    if (rel < 1e-9) break
    if (it == 50 && rel > 1e-8) stop("Newton polish did not converge")
  }
  for (j in which(!free)) {
    t <- s
    t[j] <- 1e-6 * vbar
    if (f(t) > f(s)) stop("component ", j, " is not at a boundary optimum")
  }
  score <- if (any(free)) max(abs(grad(function(z) { t <- s; t[free] <- z; f(t) }, s[free],
                                       method.args = GRAD_ARGS))) else 0
  list(sigma2 = s, score = score)
}

fit_model <- function(d, mods, method, test, multilevel) {
  if (!multilevel) {
    res <- rma(yi, vi, mods = mods, data = d, method = method, test = test, control = ctrl_uni)
    return(list(res = res, score = NA_real_, s_raw = c(NA, NA), rt = NA))
  }
  raw <- NULL
  for (rt in c(1e-14, 1e-12, 1e-10)) {
    ctrl_mv$rel.tol <- rt
    raw <- tryCatch(rma.mv(yi, vi, mods = mods, random = ~ 1 | study/arm, data = d, method = method,
                           control = ctrl_mv), error = function(e) NULL)
    if (!is.null(raw)) break
  }
  if (is.null(raw)) stop("nlminb did not converge")
  pol <- polish(d, mods, method, raw$sigma2)
  gain <- as.numeric(logLik(fit_at(d, mods, method, "z", pol$sigma2))) - as.numeric(logLik(raw))
  if (gain < -1e-12) stop("polish lowered the likelihood by ", -gain)
  list(res = fit_at(d, mods, method, test, pol$sigma2), score = pol$score, s_raw = raw$sigma2, rt = rt)
}

# TCP parameters of one site (formulas in the header)
tcp <- function(b, V, j_site, scale, target, crit) {
  p <- length(b)
  g0 <- replace(numeric(p), 1, 1)
  if (!is.na(j_site)) g0[j_site] <- 1
  g1 <- replace(numeric(p), 2, 1)
  b0 <- sum(g0 * b)
  b1 <- b[2]
  L <- qlogis(target)
  se <- function(g) sqrt(as.numeric(t(g) %*% V %*% g))
  out <- list(b0 = b0, b1 = b1, slope_se = se(g1), bed50 = NA, log_bed50_se = NA, gamma50 = NA,
              gamma50_se = NA, bed_target = NA, log_bed_target_se = NA)
  check <- function(fun, g) {
    jac <- as.numeric(jacobian(fun, b))
    if (max(abs(jac - g)) > 1e-6 * max(1, max(abs(g)))) stop("delta-method gradient does not match numDeriv")
  }
  b0f <- function(bb) sum(g0 * bb)
  if (scale == "log") {
    out$gamma50 <- b1 / 4
    out$gamma50_se <- se(g1 / 4)
    if (b1 > 0) {
      d50 <- -g0 / b1 + b0 / b1^2 * g1
      dT <- -g0 / b1 - (L - b0) / b1^2 * g1
      check(function(bb) -b0f(bb) / bb[2], d50)
      check(function(bb) (L - b0f(bb)) / bb[2], dT)
      out$bed50 <- exp(-b0 / b1)
      out$log_bed50_se <- se(d50)
      out$bed_target <- exp((L - b0) / b1)
      out$log_bed_target_se <- se(dT)
    }
  } else if (b1 > 0) {
    d50 <- -g0 / b1 + b0 / b1^2 * g1
    dT <- -g0 / b1 - (L - b0) / b1^2 * g1
    check(function(bb) -b0f(bb) / bb[2], d50)
    check(function(bb) (L - b0f(bb)) / bb[2], dT)
    bed50 <- -b0 / b1
    bedT <- (L - b0) / b1
    if (bed50 > 0) {
      out$bed50 <- bed50
      out$log_bed50_se <- se(d50) / bed50
      out$gamma50 <- -b0 / 4
      out$gamma50_se <- se(-g0 / 4)
    }
    if (bedT > 0) {
      out$bed_target <- bedT
      out$log_bed_target_se <- se(dT) / bedT
    }
  }
  out$slope_ci_low <- b1 - crit * out$slope_se
  out$slope_ci_high <- b1 + crit * out$slope_se
  out$bed50_ci_low <- exp(log(out$bed50) - crit * out$log_bed50_se)
  out$bed50_ci_high <- exp(log(out$bed50) + crit * out$log_bed50_se)
  out$gamma50_ci_low <- out$gamma50 - crit * out$gamma50_se
  out$gamma50_ci_high <- out$gamma50 + crit * out$gamma50_se
  out$bed_target_ci_low <- exp(log(out$bed_target) - crit * out$log_bed_target_se)
  out$bed_target_ci_high <- exp(log(out$bed_target) + crit * out$log_bed_target_se)
  out$crit <- crit
  as.data.frame(lapply(out, as.numeric))
}

subsets <- function(d, ds) {
  out <- list(list(name = "liver", rows = d$site == "liver", site = FALSE),
              list(name = "lung", rows = d$site == "lung", site = FALSE),
              list(name = "liver+lung", rows = rep(TRUE, nrow(d)), site = TRUE))
  if (ds == "synthetic")
    out[[4]] <- list(name = "first_arm", rows = !duplicated(d$study), site = TRUE)
  out
}

fits <- list(); coefs <- list(); vcovs <- list(); tcps <- list(); preds <- list()
for (ds in unique(inp$dataset)) {
  all <- inp[inp$dataset == ds, ]
  for (sub in subsets(all, ds)) {
    d <- escalc(measure = "PLO", xi = events, ni = n, data = all[sub$rows, ])
    sites <- sort(unique(d$site))
    multilevel <- length(unique(paste(d$study, d$arm, sep = "\r"))) > length(unique(d$study))
    for (scale in c("log", "linear")) {
      mods <- mods_for(scale, sub$site)
      for (method in c("REML", "ML")) {
        for (test in c("z", "t")) {
          fm <- fit_model(d, mods, method, test, multilevel)
          res <- fm$res
          fit_id <- paste(ds, sub$name, scale, method, test, sep = " | ")
          p <- length(coef(res))
          df <- if (test == "t") res$ddf[1] else NA
          fits[[length(fits) + 1]] <- data.frame(
            fit_id = fit_id, dataset = ds, subset = sub$name, site_moderator = sub$site, scale = scale,
            method = method, test = test, model = if (multilevel) "multilevel" else "two-level",
            k = res$k, n_studies = length(unique(d$study)), p = p, df = df,
            sigma2_study = if (multilevel) res$sigma2[1] else NA,
            sigma2_arm = if (multilevel) res$sigma2[2] else NA,
            tau2 = if (multilevel) NA else res$tau2, loglik = as.numeric(logLik(res)),
            QM = res$QM, QM_df1 = res$QMdf[1], QM_df2 = res$QMdf[2], QM_p = res$QMp,
            sigma2_study_nlminb = fm$s_raw[1], sigma2_arm_nlminb = fm$s_raw[2],
            nlminb_rel_tol = fm$rt, score_at_optimum = fm$score)
          coefs[[length(coefs) + 1]] <- data.frame(
            fit_id = fit_id, j = seq_len(p), name = rownames(res$beta), coef = as.numeric(res$beta),
            se = res$se, stat = res$zval, pval = res$pval, ci_low = res$ci.lb, ci_high = res$ci.ub)
          V <- vcov(res)
          vcovs[[length(vcovs) + 1]] <- data.frame(
            fit_id = fit_id, i = rep(seq_len(p), p), j = rep(seq_len(p), each = p), value = as.vector(V))
          for (s in sites) {
            j_site <- if (sub$site && s != sites[1]) 2 + match(s, sites[-1]) else NA
            for (target in TARGETS) for (level in LEVELS) {
              crit <- if (test == "t") qt(0.5 + level / 2, df) else qnorm(0.5 + level / 2)
              tcps[[length(tcps) + 1]] <- cbind(
                data.frame(fit_id = fit_id, site = s, target_lc = target, level = level),
                tcp(as.numeric(coef(res)), V, j_site, scale, target, crit))
            }
            site_site <- if (sub$site) s else NA
            x <- if (scale == "log") log(GRID) else GRID
            nm <- cbind(x)
            if (sub$site) nm <- cbind(x, sapply(sites[-1], function(l) as.numeric(s == l)))
            pr <- predict(res, newmods = nm)
            pt <- predict(res, newmods = nm, transf = transf.ilogit)
            preds[[length(preds) + 1]] <- data.frame(
              fit_id = fit_id, site = s, bed10 = GRID, pred = as.numeric(pr$pred), se = as.numeric(pr$se),
              ci_low = as.numeric(pr$ci.lb), ci_high = as.numeric(pr$ci.ub),
              pi_low = as.numeric(pr$pi.lb), pi_high = as.numeric(pr$pi.ub),
              lc = as.numeric(pt$pred), lc_ci_low = as.numeric(pt$ci.lb), lc_ci_high = as.numeric(pt$ci.ub),
              lc_pi_low = as.numeric(pt$pi.lb), lc_pi_high = as.numeric(pt$pi.ub))
          }
        }
      }
    }
  }
}
w <- function(x, name) {
  x <- do.call(rbind, x)
  write.csv(x, file.path(outdir, name), row.names = FALSE)
  cat(sprintf("wrote %d rows to %s\n", nrow(x), file.path(outdir, name)))
}
w(fits, "metafor_dose_response_fits.csv")
w(coefs, "metafor_dose_response_coefs.csv")
w(vcovs, "metafor_dose_response_vcov.csv")
w(tcps, "metafor_dose_response_tcp.csv")
w(preds, "metafor_dose_response_predictions.csv")
cat(sprintf("metafor %s, %s\n", as.character(packageVersion("metafor")), R.version.string))
