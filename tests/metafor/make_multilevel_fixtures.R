# Reference values from metafor for sbrtmeta.multilevel (three-level model).
#
#   Rscript tests/metafor/make_multilevel_fixtures.R tests/fixtures/multilevel_inputs.csv tests/fixtures
#
# For each dataset of the input file (made by make_multilevel_inputs.py), each
# moderator formula the dataset supports, each method (REML, ML) and each test
# (z, t) it runs
#   dat <- escalc(measure = "PLO", xi = xi, ni = ni)
#   rma.mv(yi, vi, random = ~ 1 | study/arm, mods = <formula>, method, test)
# and predict(): fitted values (predict(res)) and, for models with moderators, a
# grid of new moderator values.
#
# Getting to the optimum itself. nlminb works on log(sigma2) with finite-difference
# gradients, so it cannot place sigma2 better than about 1e-7 relative (the
# (restricted) log-likelihood is flat to rounding there; rel.tol below 1e-12 ends
# in "singular/false convergence"), and at a boundary it stops at some tiny
# positive value. So each fit is done in two steps, both on metafor's own
# likelihood:
#   1. rma.mv with nlminb, rel.tol = 1e-14 (sing.tol lowered so that a component
#      drifting to 0 ends in "relative convergence" instead of an error; where
#      nlminb still reports no convergence, rel.tol 1e-12, then 1e-10; the value
#      used is written to the fits file);
#   2. Newton steps on the variance components, with gradient and Hessian of
#      logLik(rma.mv(..., sigma2 = s)) (metafor's likelihood at fixed sigma2) by
#      numDeriv's Richardson extrapolation. A component that nlminb left below
#      1e-6 * mean(vi) is set to 0, and the script checks that the likelihood
#      falls when that component is moved off 0 (so 0 is the constrained optimum).
#      Iterations stop when the step is below 1e-10 relative; the script then
#      asserts that the polished logLik is not below nlminb's, and writes the
#      largest |score| left at the optimum (column score_at_optimum).
# The reference values are those of rma.mv(..., sigma2 = <polished>), i.e. every
# number is computed by metafor. The raw nlminb sigma2 and logLik are written too
# (columns *_nlminb) so the size of the polish is on record.
#
# Writes four files to the output folder:
#   metafor_multilevel_fits.csv         one row per fit (variance components, logLik, QE, QM)
#   metafor_multilevel_coefs.csv        one row per coefficient
#   metafor_multilevel_vcov.csv         vcov(res) in long form
#   metafor_multilevel_predictions.csv  predict() rows, with the design row used
suppressPackageStartupMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
inp <- read.csv(args[1], stringsAsFactors = FALSE)
outdir <- args[2]
suppressPackageStartupMessages(library(numDeriv))
ctrl <- list(optimizer = "nlminb", rel.tol = 1e-14, x.tol = 1e-15, sing.tol = 1e-20,
             iter.max = 10000, eval.max = 10000)

fit_at <- function(d, model, method, test, sigma2)
  rma.mv(yi, vi, random = ~ 1 | study/arm, mods = as.formula(model), data = d,
         method = method, test = test, sigma2 = sigma2)

# Newton on the free variance components of metafor's (restricted) log-likelihood
polish <- function(d, model, method, s0) {
  f <- function(s) as.numeric(logLik(fit_at(d, model, method, "z", s)))
  vbar <- mean(d$vi)
  free <- s0 > 1e-6 * vbar
  s <- ifelse(free, s0, 0)
  for (it in seq_len(50)) {
    if (!any(free)) break
    fz <- function(z) { t <- s; t[free] <- z; f(t) }
    g <- grad(fz, s[free])
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
    # 1e-10 relative; after 20 steps 1e-8: with metafor 5.1-12 the log-likelihood of
    # synthetic:repeated_arm (ML) is flat to its last digits there, and numDeriv's steps wander
    # at ~1e-9 relative around the optimum (3.8-1 reached 1e-10)
    if (max(abs(t * step) / s[free]) < (if (it > 20) 1e-8 else 1e-10)) break
    if (it == 50) stop("Newton polish did not converge")
  }
  for (j in which(!free)) {
    h <- 1e-6 * vbar
    t <- s
    t[j] <- h
    if (f(t) > f(s)) stop("component ", j, " is not at a boundary optimum")
  }
  # largest |score| of the free components at the polished point (should be ~0)
  score <- if (any(free)) max(abs(grad(function(z) { t <- s; t[free] <- z; f(t) }, s[free]))) else 0
  list(sigma2 = s, score = score)
}

models_for <- function(d) {
  m <- "~ 1"
  has_bed <- all(!is.na(d$bed10))
  has_site <- all(!is.na(d$site) & d$site != "") && length(unique(d$site)) > 1
  if (has_bed) m <- c(m, "~ bed10")
  if (has_site) m <- c(m, "~ site")
  if (has_bed && has_site) m <- c(m, "~ bed10 + site")
  m
}

# a few new moderator rows (without the intercept) for predict(newmods = ...)
newmods_for <- function(model, d) {
  if (model == "~ bed10") return(cbind(c(60, 100, 150)))
  if (model == "~ site") return(cbind(c(0, 1)))
  if (model == "~ bed10 + site") return(cbind(c(60, 100, 150), c(0, 1, 1)))
  NULL
}

fits <- list(); coefs <- list(); vcovs <- list(); preds <- list()
pmax <- 3
pred_rows <- function(fit_id, kind, X) {
  Xp <- matrix(NA_real_, nrow(X), pmax)
  Xp[, seq_len(ncol(X))] <- X
  colnames(Xp) <- paste0("X", seq_len(pmax))
  data.frame(fit_id = fit_id, kind = kind, row = seq_len(nrow(X)), Xp, check.names = FALSE)
}
worst <- 0
for (ds in unique(inp$dataset)) {
  d <- escalc(measure = "PLO", xi = xi, ni = ni, data = inp[inp$dataset == ds, ])
  for (model in models_for(d)) {
    for (method in c("REML", "ML")) {
      raw <- NULL
      for (rt in c(1e-14, 1e-12, 1e-10)) {
        ctrl$rel.tol <- rt
        raw <- tryCatch(rma.mv(yi, vi, random = ~ 1 | study/arm, mods = as.formula(model), data = d,
                               method = method, control = ctrl), error = function(e) NULL)
        if (!is.null(raw)) break
      }
      if (is.null(raw)) stop("nlminb did not converge for ", ds, " ", model, " ", method)
      pol <- polish(d, model, method, raw$sigma2)
      s <- pol$sigma2
      gain <- as.numeric(logLik(fit_at(d, model, method, "z", s))) - as.numeric(logLik(raw))
      if (gain < -1e-12) stop("polish lowered the likelihood by ", -gain)
      worst <- max(worst, max(abs(s - raw$sigma2)))
      for (test in c("z", "t")) {
        fit_id <- paste(ds, model, method, test, sep = " | ")
        res <- fit_at(d, model, method, test, s)
        p <- res$p
        fits[[length(fits) + 1]] <- data.frame(
          fit_id = fit_id, dataset = ds, model = model, method = method, test = test,
          k = res$k, n_studies = res$s.nlevels[1], n_arms = res$s.nlevels[2], p = p,
          df = if (test == "t") res$ddf[1] else NA,
          sigma2_study = res$sigma2[1], sigma2_arm = res$sigma2[2],
          loglik = as.numeric(logLik(res)), QE = res$QE, QE_p = res$QEp,
          QM = res$QM, QM_df1 = res$QMdf[1], QM_df2 = res$QMdf[2], QM_p = res$QMp,
          sigma2_study_nlminb = raw$sigma2[1], sigma2_arm_nlminb = raw$sigma2[2],
          loglik_nlminb = as.numeric(logLik(raw)), nlminb_rel_tol = rt, score_at_optimum = pol$score)
        coefs[[length(coefs) + 1]] <- data.frame(
          fit_id = fit_id, j = seq_len(p), name = rownames(res$beta), coef = as.numeric(res$beta),
          se = res$se, stat = res$zval, pval = res$pval, ci_low = res$ci.lb, ci_high = res$ci.ub)
        vb <- vcov(res)
        vcovs[[length(vcovs) + 1]] <- data.frame(
          fit_id = fit_id, i = rep(seq_len(p), p), j = rep(seq_len(p), each = p), value = as.vector(vb))
        # fitted values / the pooled estimate
        pr <- predict(res, addx = TRUE)
        preds[[length(preds) + 1]] <- cbind(
          pred_rows(fit_id, "fitted", pr$X),
          pred = pr$pred, se = pr$se, ci_low = pr$ci.lb, ci_high = pr$ci.ub,
          pi_low = pr$pi.lb, pi_high = pr$pi.ub)
        nm <- newmods_for(model, d)
        if (!is.null(nm)) {
          pr <- predict(res, newmods = nm, addx = TRUE)
          preds[[length(preds) + 1]] <- cbind(
            pred_rows(fit_id, "newmods", pr$X),
            pred = pr$pred, se = pr$se, ci_low = pr$ci.lb, ci_high = pr$ci.ub,
            pi_low = pr$pi.lb, pi_high = pr$pi.ub)
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
w(fits, "metafor_multilevel_fits.csv")
w(coefs, "metafor_multilevel_coefs.csv")
w(vcovs, "metafor_multilevel_vcov.csv")
w(preds, "metafor_multilevel_predictions.csv")
cat(sprintf("metafor %s, %s; largest |polished - nlminb| sigma2: %g\n",
            as.character(packageVersion("metafor")), R.version.string, worst))
