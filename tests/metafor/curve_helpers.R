# Shared by make_curve_fixtures.R and make_curve_bound_fixtures.R: the logits of the rates and
# their within-cohort covariance V (binomial approximation, escalc's continuity correction), and
# Newton polishing of an rma.mv fit so that a fixture is the optimum itself.
suppressMessages(library(metafor))

cov_logit <- function(d) {
  x <- d$x; n <- d$n; m <- n - x
  z <- x == 0 | m == 0
  xa <- ifelse(z, x + .5, x); ma <- ifelse(z, m + .5, m); na <- xa + ma; s <- xa / na
  k <- nrow(d); V <- matrix(0, k, k)
  for (i in 1:k) for (j in 1:k) if (d$grp[i] == d$grp[j]) {
    V[i, j] <- if (i == j) 1/xa[i] + 1/ma[i] else 1/(min(na[i], na[j]) * max(s[i], s[j]) * (1 - min(s[i], s[j])))
  }
  list(yi = log(xa/ma), V = V)
}

# Newton steps on metafor's own (restricted) log-likelihood at fixed variance components
# (rma.mv(..., tau2 = , rho = )), on metafor's scale (log tau2, qlogis rho for CAR, atanh rho
# for HCS), gradient and Hessian by numDeriv's Richardson extrapolation, until the step is
# below 1e-10; then the model refitted at the polished values (logLik never lower).
# With rho_fixed (a correlation held at its bound, see at_rho_bound) only the variances move.
polish <- function(r, d, V, fm, struct, random = ~ t | study, rho_fixed = NULL) {
  free_rho <- is.null(rho_fixed) && struct != "ID"
  to_par <- function(r) c(if (is.list(random)) log(r$sigma2), log(r$tau2),
    if (free_rho) { if (struct == "CAR") qlogis(r$rho) else atanh(r$rho) })
  fit_at <- function(p) {
    two <- is.list(random)  # list(~ 1 | study, ~ t | arm): sigma2 first
    if (two) { sigma2 <- exp(p[1]); p <- p[-1] }
    nt <- length(p) - free_rho
    tau2 <- exp(p[1:nt])
    rho <- if (!is.null(rho_fixed)) rho_fixed else if (struct == "CAR") plogis(p[nt + 1]) else if (struct == "HCS") tanh(p[nt + 1]) else NA
    if (two) rma.mv(yi, V, mods = fm, random = random, struct = struct, data = d, sigma2 = sigma2, tau2 = tau2, rho = rho)
    else if (struct == "ID") rma.mv(yi, V, mods = fm, random = random, struct = struct, data = d, tau2 = tau2)
    else rma.mv(yi, V, mods = fm, random = random, struct = struct, data = d, tau2 = tau2, rho = rho)
  }
  ll <- function(p) tryCatch(as.numeric(logLik(fit_at(p))), error = function(e) -Inf)
  p <- to_par(r)
  if (any(abs(p) > 12)) return(r)  # a component on its boundary: nlminb's value stands
  for (it in 1:30) {
    g <- numDeriv::grad(ll, p); H <- numDeriv::hessian(ll, p)
    if (any(eigen(H, only.values = TRUE)$values >= 0)) break
    step <- -solve(H, g)
    t <- 1
    while (t > 1e-6 && ll(p + t * step) < ll(p) - 1e-12) t <- t / 2
    p <- p + t * step
    if (max(abs(t * step)) < 1e-10) break
  }
  r2 <- fit_at(p)
  if (as.numeric(logLik(r2)) >= as.numeric(logLik(r)) - 1e-12) r2 else r
}

# A correlation that ends on its bound. rma.mv's nlminb may stop with rho a hair inside its bound
# (shipped:lung|sarcoma|OS CAR/log ends at rho = 1 - 6e-12 with metafor 5.1-12, and at
# 1 - 5e-12 with 3.8-1), where polish does not step (a component beyond |12| on metafor's scale);
# the variances there are then only as good as nlminb's stop. The pipeline
# (sbrtmeta.stats.block_model) maximises on the same scale and lets such a component run off
# towards its bound (|theta| up to 30: rho = 1 - 1e-13), i.e. it reports the maximum over the
# closed parameter space, approached at the bound. CAR's rho^|t_a - t_b| is continuous in rho up
# to 1 (rho = 1: one random effect per study at every time), so that maximum is the fit with the
# correlation held at its bound, rma.mv(..., rho = 1) (0 for the lower bound of CAR, -1 for HCS),
# which estimates the variances alone; polished by Newton steps as the interior fits. It replaces
# the free fit when the free fit's correlation is beyond |12| on metafor's scale (within 6e-6 of
# the bound) and its (restricted) log-likelihood is at least the free fit's.
at_rho_bound <- function(r, d, V, fm, struct, ctrl, random = ~ t | study) {
  if (struct == "ID") return(r)
  th <- if (struct == "CAR") qlogis(r$rho) else atanh(r$rho)
  if (abs(th) <= 12) return(r)
  bound <- if (th > 0) 1 else if (struct == "CAR") 0 else -1
  b <- NULL
  for (tol in c(1e-12, 1e-10, 1e-8)) {  # nlminb may end in "false convergence" on the flat tau2
    if (is.null(ctrl$optimizer)) ctrl$rel.tol <- tol
    b <- tryCatch(rma.mv(yi, V, mods = fm, random = random, struct = struct, data = d, rho = bound, control = ctrl),
                  error = function(e) NULL)
    if (!is.null(b)) break
  }
  if (is.null(b)) return(r)
  b <- polish(b, d, V, fm, struct, random, rho_fixed = bound)
  keep <- as.numeric(logLik(b)) >= as.numeric(logLik(r))
  cat("  rho", format(r$rho, digits = 17), "is at its bound", bound, ": logLik", format(as.numeric(logLik(r)), digits = 15),
      "free,", format(as.numeric(logLik(b)), digits = 15), "at the bound;", if (keep) "the bound fit is the fixture" else "the free fit stays", "\n")
  if (keep) b else r
}
