# Reference values from metafor for the curve model (sbrtmeta.stats.curves, issue 13).
#
#   Rscript tests/metafor/make_curve_fixtures.R tests/fixtures/curve_inputs.csv tests/fixtures \
#       tests/fixtures/dose_time_inputs.csv
#
# For each dataset of the input (make_curve_inputs.py: the shipped cells and two synthetic
# sets) the logits of the rates with escalc's continuity correction (add 1/2 to events and
# non-events of a rate of 0 or 1) and their within-cohort covariance, written out directly:
#   V[i, i] = 1/x_i + 1/(n_i - x_i),
#   V[i, j] = 1 / (min(n_i, n_j) * max(S_i, S_j) * (1 - min(S_i, S_j)))  (same cohort),
# then
#   rma.mv(yi, V, mods = ~ f(t), random = ~ t | study, struct, method = "REML")
# with f = log(t), t or splines::ns(t, df = 3), and predict(res, newmods = f(months)) on the
# months 6, 9, ..., 60 (for HCS at the levels of t, with tau2.levels). nlminb is run with
# rel.tol = 1e-12, else 1e-10, else 1e-8 (column rel_tol; HCS: optim BFGS, reltol 1e-14),
# then polished by Newton steps (function polish) so that the fixture is the optimum itself; a fit
# whose correlation ends on its bound (rho = 1 - 6e-12 for shipped:lung|sarcoma|OS CAR/log) is
# refitted with rho held at the bound, rma.mv(..., rho = 1), the maximum the pipeline approaches
# there (function at_rho_bound in curve_helpers.R; its rho column is then exactly 1). The dose x
# time model is fitted at the end of this script (its fits are polished, none is on a bound).
suppressMessages(library(metafor))
library(splines)
args <- commandArgs(trailingOnly = TRUE)
inp <- read.csv(args[1], stringsAsFactors = FALSE)
out <- args[2]

here <- dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)[1]))
source(file.path(here, "curve_helpers.R"))  # cov_logit, polish, at_rho_bound

months <- seq(6, 60, by = 3)
fits <- list(); coefs <- list(); preds <- list()
run <- function(name, d, struct, f) {
  cv <- cov_logit(d); d$yi <- cv$yi; V <- cv$V
  ctrl <- if (struct == "HCS") list(optimizer = "optim", optmethod = "BFGS", reltol = 1e-14, maxit = 10000) else
    list(rel.tol = 1e-12, eval.max = 5000, iter.max = 5000)
  if (f == "log") { fm <- ~ log(t); nm <- cbind(log(months)) }
  if (f == "linear") { fm <- ~ t; nm <- cbind(months) }
  if (f == "spline") { B <- ns(d$t, df = 3); d$B <- B; fm <- ~ B; nm <- predict(B, months) }
  r <- NULL
  for (tol in c(1e-12, 1e-10, 1e-8)) {  # nlminb may end in "false convergence" on a flat ridge
    if (struct != "HCS") ctrl$rel.tol <- tol
    r <- tryCatch(rma.mv(yi, V, mods = fm, random = ~ t | study, struct = struct, data = d, control = ctrl),
                  error = function(e) NULL)
    if (!is.null(r)) break
  }
  r <- at_rho_bound(polish(r, d, V, fm, struct), d, V, fm, struct, ctrl)
  cat(name, struct, f, "rel.tol", tol, if (struct == "HCS") r$g.levels.f[[1]], "\n")
  id <- paste(name, struct, f, sep = "/")
  fits[[id]] <<- data.frame(fit = id, dataset = name, struct = struct, f = f,
    tau2 = paste(sprintf("%.17g", r$tau2), collapse = " "), rho = if (struct == "ID") NA else r$rho,
    loglik = as.numeric(logLik(r)), k = r$k, rel_tol = tol)
  coefs[[id]] <<- data.frame(fit = id, term = seq_along(coef(r)), coef = as.numeric(coef(r)), se = r$se,
    ci_low = r$ci.lb, ci_high = r$ci.ub, pval = r$pval)
  if (struct == "HCS") {
    lv <- sort(unique(d$t)); keep <- months %in% lv
    p <- predict(r, newmods = nm[keep, , drop = FALSE], tau2.levels = as.character(months[keep]))
    mo <- months[keep]
  } else { p <- predict(r, newmods = nm); mo <- months }
  preds[[id]] <<- data.frame(fit = id, month = mo, pred = p$pred, se = p$se, ci_low = p$ci.lb, ci_high = p$ci.ub,
    pi_low = p$pi.lb, pi_high = p$pi.ub)
}
for (name in unique(inp$dataset)) {
  d <- inp[inp$dataset == name, ]
  several <- any(table(d$grp) > 1)
  if (startsWith(name, "shipped")) {
    run(name, d, if (several) "CAR" else "ID", "log")
    run(name, d, if (several) "CAR" else "ID", "linear")
  } else if (name == "synthetic") {
    for (f in c("log", "linear", "spline")) run(name, d, "CAR", f)
    run(name, d, "ID", "log")
  } else {
    run(name, d, "HCS", "log")
    run(name, d, "CAR", "log")
  }
}
write.csv(do.call(rbind, fits), file.path(out, "metafor_curve_fits.csv"), row.names = FALSE)
write.csv(do.call(rbind, coefs), file.path(out, "metafor_curve_coefs.csv"), row.names = FALSE)
write.csv(do.call(rbind, preds), file.path(out, "metafor_curve_predictions.csv"), row.names = FALSE)

# V of a study with three time points, written out for the direct check
d <- inp[inp$dataset == "synthetic", ]
g <- names(which(table(d$grp) == 3))[1]
s3 <- d[d$grp == g, ]
s3 <- s3[order(s3$t), ]
V3 <- cov_logit(s3)$V
write.csv(data.frame(study = g, i = rep(1:3, 3), j = rep(1:3, each = 3), t_i = s3$t[rep(1:3, 3)],
  t_j = s3$t[rep(1:3, each = 3)], v = as.vector(V3)), file.path(out, "metafor_curve_V.csv"), row.names = FALSE)

# --- the dose x time model -------------------------------------------------------------------------
if (length(args) >= 3) {
  dt <- read.csv(args[3], stringsAsFactors = FALSE)
  dfits <- list(); dcoefs <- list(); dvcov <- list()
  for (name in unique(dt$dataset)) {
    d <- dt[dt$dataset == name, ]
    d$grp <- paste(d$study, d$arm, sep = "/")
    d$arm <- d$grp
    cv <- cov_logit(d); d$yi <- cv$yi; V <- cv$V
    several_times <- any(table(d$grp) > 1)
    multi_arm <- any(tapply(d$grp, d$study, function(x) length(unique(x))) > 1)
    fm <- if (length(unique(d$t)) > 1) ~ log(bed) + I(log(t) - log(24)) else ~ log(bed)
    ctrl <- list(rel.tol = 1e-12, eval.max = 5000, iter.max = 5000)
    rho <- NA; sigma2 <- NA; tau2 <- NA; struct <- "ID"
    if (several_times) {
      struct <- "CAR"
      random <- if (multi_arm) list(~ 1 | study, ~ t | arm) else ~ t | arm
      r <- NULL
      for (tol in c(1e-12, 1e-10, 1e-8)) {
        ctrl$rel.tol <- tol
        r <- tryCatch(rma.mv(yi, V, mods = fm, random = random, struct = "CAR", data = d, control = ctrl),
                      error = function(e) NULL)
        if (!is.null(r)) break
      }
      r <- polish(r, d, V, fm, "CAR", random)
      rho <- r$rho; tau2 <- r$tau2; if (multi_arm) sigma2 <- r$sigma2
    } else if (multi_arm) {
      d$vi <- diag(V)
      r <- rma.mv(yi, vi, mods = fm, random = ~ 1 | study/arm, data = d, control = ctrl)
      sigma2 <- r$sigma2[1]; tau2 <- r$sigma2[2]
    } else {
      d$vi <- diag(V)
      r <- rma(yi, vi, mods = fm, data = d, method = "REML", control = list(threshold = 1e-12, maxiter = 10000))
      tau2 <- r$tau2
    }
    cat("dose x time", name, struct, "\n")
    dfits[[name]] <- data.frame(dataset = name, struct = struct, sigma2 = sigma2, tau2 = tau2, rho = rho,
      loglik = as.numeric(logLik(r)), k = r$k, p = length(coef(r)))
    dcoefs[[name]] <- data.frame(dataset = name, term = seq_along(coef(r)), coef = as.numeric(coef(r)), se = r$se,
      ci_low = r$ci.lb, ci_high = r$ci.ub, pval = r$pval)
    vc <- vcov(r)
    dvcov[[name]] <- data.frame(dataset = name, i = as.vector(row(vc)), j = as.vector(col(vc)), v = as.vector(vc))
  }
  write.csv(do.call(rbind, dfits), file.path(out, "metafor_dose_time_fits.csv"), row.names = FALSE)
  write.csv(do.call(rbind, dcoefs), file.path(out, "metafor_dose_time_coefs.csv"), row.names = FALSE)
  write.csv(do.call(rbind, dvcov), file.path(out, "metafor_dose_time_vcov.csv"), row.names = FALSE)
}
