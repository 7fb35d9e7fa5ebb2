# Reference values from metafor for the curve model under its constraint slope <= 0 (issue 22):
# sbrtmeta.stats.curves.fit_curve with f(t) = ln t or t.
#
#   Rscript tests/metafor/make_curve_bound_fixtures.R tests/fixtures/curve_inputs.csv tests/fixtures
#
# Datasets: those of curve_inputs.csv (make_curve_inputs.py) with ln t and t, and "mirrored", the
# synthetic set with each time t replaced by 66 - t (6 <-> 60 months), whose rates rise with time
# within studies; every dataset fitted is written to curve_bound_inputs.csv.
# For each dataset and f, the unconstrained fit
#   rma.mv(yi, V, mods = ~ f(t), random = ~ t | study, struct)
# (struct CAR where a cohort prints several time points, else ID). Where its slope is <= 0 it is
# the answer (at_bound FALSE); where the slope is positive the answer is the fit at the bound,
# slope 0, which is the model without the f(t) term, fitted directly:
#   rma.mv(yi, V, random = ~ t | study, struct)
# with predict(res) at the months 6, 9, ..., 60 (the same value at every month). nlminb runs with
# rel.tol = 1e-12, else 1e-10, else 1e-8, and each fit is polished by Newton steps (polish, in
# curve_helpers.R) so that the fixture is the optimum itself; a fit whose correlation ends on its
# bound is refitted with rho held there, rma.mv(..., rho = 1) (at_rho_bound, in curve_helpers.R).
args <- commandArgs(trailingOnly = TRUE)
inp <- read.csv(args[1], stringsAsFactors = FALSE)
out <- args[2]
here <- dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)[1]))
source(file.path(here, "curve_helpers.R"))  # cov_logit, polish, at_rho_bound

mirrored <- inp[inp$dataset == "synthetic", ]
mirrored$dataset <- "mirrored"
mirrored$t <- 66 - mirrored$t
inp <- rbind(inp[startsWith(inp$dataset, "shipped") | inp$dataset == "synthetic", ], mirrored)
write.csv(inp, file.path(out, "curve_bound_inputs.csv"), row.names = FALSE)

months <- seq(6, 60, by = 3)
fit_mv <- function(d, V, fm, struct) {
  ctrl <- list(rel.tol = 1e-12, eval.max = 5000, iter.max = 5000)
  for (tol in c(1e-12, 1e-10, 1e-8)) {
    ctrl$rel.tol <- tol
    r <- tryCatch(rma.mv(yi, V, mods = fm, random = ~ t | study, struct = struct, data = d, control = ctrl),
                  error = function(e) NULL)
    if (!is.null(r)) break
  }
  at_rho_bound(polish(r, d, V, fm, struct), d, V, fm, struct, ctrl)
}
fits <- list(); preds <- list()
for (name in unique(inp$dataset)) {
  d <- inp[inp$dataset == name, ]
  cv <- cov_logit(d); d$yi <- cv$yi; V <- cv$V
  struct <- if (any(table(d$grp) > 1)) "CAR" else "ID"
  for (f in c("log", "linear")) {
    fm <- if (f == "log") ~ log(t) else ~ t
    free <- fit_mv(d, V, fm, struct)
    slope <- as.numeric(coef(free)[2])
    at_bound <- slope > 0
    r <- if (at_bound) fit_mv(d, V, ~ 1, struct) else free
    nm <- if (f == "log") cbind(log(months)) else cbind(months)
    p <- if (at_bound) predict(r, newmods = NULL) else predict(r, newmods = nm)
    id <- paste(name, struct, f, sep = "/")
    cat(id, "slope", slope, if (at_bound) "at the bound" else "free", "\n")
    fits[[id]] <- data.frame(fit = id, dataset = name, struct = struct, f = f, at_bound = at_bound,
      free_slope = slope, tau2 = r$tau2, rho = if (struct == "ID") NA else r$rho,
      loglik = as.numeric(logLik(r)), intercept = as.numeric(coef(r)[1]), intercept_se = r$se[1],
      slope = if (at_bound) 0 else slope, slope_se = if (at_bound) NA else r$se[2])
    preds[[id]] <- data.frame(fit = id, month = months, pred = rep_len(p$pred, length(months)),
      se = rep_len(p$se, length(months)), ci_low = rep_len(p$ci.lb, length(months)),
      ci_high = rep_len(p$ci.ub, length(months)), pi_low = rep_len(p$pi.lb, length(months)),
      pi_high = rep_len(p$pi.ub, length(months)))
  }
}
write.csv(do.call(rbind, fits), file.path(out, "metafor_curve_bound_fits.csv"), row.names = FALSE)
write.csv(do.call(rbind, preds), file.path(out, "metafor_curve_bound_predictions.csv"), row.names = FALSE)
