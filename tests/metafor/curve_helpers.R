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
polish <- function(r, d, V, fm, struct, random = ~ t | study) {
  to_par <- function(r) c(if (is.list(random)) log(r$sigma2), log(r$tau2), if (struct == "CAR") qlogis(r$rho) else if (struct == "HCS") atanh(r$rho))
  fit_at <- function(p) {
    two <- is.list(random)  # list(~ 1 | study, ~ t | arm): sigma2 first
    if (two) { sigma2 <- exp(p[1]); p <- p[-1] }
    nt <- length(p) - (struct != "ID")
    tau2 <- exp(p[1:nt])
    rho <- if (struct == "CAR") plogis(p[nt + 1]) else if (struct == "HCS") tanh(p[nt + 1]) else NA
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
