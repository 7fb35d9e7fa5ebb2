# Reference values from metafor (and clubSandwich) for issue 12, items 7-9: CR2 cluster-robust
# tests (robust(..., clubSandwich = TRUE)), the location-scale model (rma(..., scale = ~ site))
# and likelihood-ratio tests (anova). The permutation tests (item 6) are
# tests/metafor/make_permutation_fixtures.R.
#
#   Rscript tests/metafor/make_sensitivity_tests_fixtures.R tests/fixtures/sensitivity_tests_inputs.csv \
#       tests/fixtures/metafor_sensitivity_tests.csv
#
# Inputs: tests/metafor/make_sensitivity_tests_inputs.py (shipped cells, shipped dose arms and
# three synthetic sets). Output: one long table, dataset, analysis, term, quantity, value.
#
# Per dataset of role "sites" (yi, vi given):
#   lrt_sites      anova(rma(mods = ~ factor(site), method = "ML"), rma(method = "ML"))
#   ls_REML/ls_ML  rma(yi, vi, mods = ~ site, scale = ~ site, method) on the sites with >= 3 rows
#                  (polished, see location_scale below),
#                  and the LRT against rma(yi, vi, mods = ~ site, method) (equal tau2)
#   robust_sites   robust(rma(mods = ~ factor(site), test = "z"), cluster = study, clubSandwich = TRUE)
#                  when a study gives several rows
# Per dataset of role "dose":
#   the model of sbrtmeta.stats.dose_response: rma.mv(yi, vi, mods = ~ log(bed10) [+ factor(site)],
#   random = ~ 1 | study/arm) when a study has several arms, else rma(yi, vi, mods = ...), REML, z;
#   robust_dose    robust(model, cluster = study, clubSandwich = TRUE)
#   lrt_dose       anova(model with ML, the same without log(bed10) with ML)
# Convergence: rma by Fisher scoring to threshold 1e-12; rma.mv and the location-scale model by
# nlminb at rel.tol 1e-15 (else 1e-12, 1e-10, the tightest at which nlminb reports convergence).
suppressPackageStartupMessages({
  library(metafor)
  library(clubSandwich)
})
options(warn = 1)
args <- commandArgs(trailingOnly = TRUE)
d_all <- read.csv(args[1], stringsAsFactors = FALSE)
tight <- list(threshold = 1e-12, maxiter = 10000)
nlminb_at <- function(tol) list(optimizer = "nlminb", rel.tol = tol, eval.max = 10000, iter.max = 10000)
# nlminb at the tightest rel.tol at which it reports convergence (1e-15, else 1e-12, 1e-10)
tightest <- function(fit_with) {
  for (tol in c(1e-15, 1e-12, 1e-10)) {
    res <- tryCatch(fit_with(nlminb_at(tol)), error = function(e) NULL)
    if (!is.null(res)) return(res)
  }
  stop("nlminb did not converge")
}
out <- list()
put <- function(dataset, analysis, term, quantity, value) {
  out[[length(out) + 1]] <<- data.frame(dataset = dataset, analysis = analysis, term = term,
                                        quantity = quantity, value = as.numeric(value))
}
put_robust <- function(ds, analysis, res, study) {
  rb <- robust(res, cluster = study, clubSandwich = TRUE)
  terms <- rownames(rb$beta)
  put(ds, analysis, terms, "beta", rb$beta)
  put(ds, analysis, terms, "se", rb$se)
  put(ds, analysis, terms, "tval", rb$zval)
  put(ds, analysis, terms, "df", rb$ddf)
  put(ds, analysis, terms, "pval", rb$pval)
  put(ds, analysis, terms, "ci_low", rb$ci.lb)
  put(ds, analysis, terms, "ci_high", rb$ci.ub)
  put(ds, analysis, "", "QM", rb$QM)
  put(ds, analysis, "", "QM_df1", rb$QMdf[1])
  put(ds, analysis, "", "QM_df2", rb$QMdf[2])
  put(ds, analysis, "", "QMp", rb$QMp)
  put(ds, analysis, "", "n_clusters", length(unique(study)))
}
put_lrt <- function(ds, analysis, full, reduced) {
  a <- anova(full, reduced)
  put(ds, analysis, "", "ll_full", logLik(full))
  put(ds, analysis, "", "ll_reduced", logLik(reduced))
  put(ds, analysis, "", "LRT", a$LRT)
  put(ds, analysis, "", "df", a$parms.f - a$parms.r)
  put(ds, analysis, "", "pval", a$pval)
}
several_rows <- function(d) any(duplicated(d$study))
# rma(yi, vi, mods = ~ site, scale = ~ site): nlminb (tightest), then each site's log tau2 polished
# by Newton steps on metafor's own log-likelihood at fixed alpha, logLik(rma(..., alpha = a)), with
# numDeriv gradients and the numDeriv Hessian at nlminb's estimate, until the step is below 1e-10
# (at most 30 steps); a site whose tau2 is on its boundary (< 1e-8: log tau2 runs to -Inf) keeps
# nlminb's value. The model is then refitted from the polished alpha (control alpha.init), and
# that fit's numbers are reported.
location_scale <- function(dl, method) {
  fit_with <- function(ctrl) rma(yi, vi, mods = ~ site, scale = ~ site, data = dl, method = method, control = ctrl)
  ls <- tightest(fit_with)
  # per-site log tau2 (theta); alpha = (theta_1, theta_g - theta_1); sites on the boundary stay fixed
  theta <- c(ls$alpha[1], ls$alpha[1] + ls$alpha[-1])
  free <- sapply(levels(dl$site), function(s) ls$tau2[dl$site == s][1] >= 1e-8)
  if (!any(free)) return(ls)
  ll_at <- function(th_free) {
    th <- theta
    th[free] <- th_free
    a <- c(th[1], th[-1] - th[1])
    as.numeric(logLik(rma(yi, vi, mods = ~ site, scale = ~ site, data = dl, method = method, alpha = a)))
  }
  t <- theta[free]
  H <- numDeriv::hessian(ll_at, t)
  for (i in 1:30) {
    step <- -solve(H, numDeriv::grad(ll_at, t))
    t <- t + step
    if (max(abs(step)) < 1e-10) break
  }
  theta[free] <- t
  tightest(function(ctrl) fit_with(c(ctrl, list(alpha.init = c(theta[1], theta[-1] - theta[1])))))
}

for (ds in unique(d_all$dataset)) {
  d <- d_all[d_all$dataset == ds, ]
  role <- d$role[1]
  cat(ds, "\n")
  if (role == "sites") {
    d$site <- factor(d$site)
    full <- rma(yi, vi, mods = ~ site, data = d, method = "ML", control = tight)
    reduced <- rma(yi, vi, data = d, method = "ML", control = tight)
    put_lrt(ds, "lrt_sites", full, reduced)
    sizes <- table(d$site)
    keep <- names(sizes)[sizes >= 3]
    if (length(keep) >= 2) {
      dl <- d[d$site %in% keep, ]
      dl$site <- factor(dl$site)
      for (method in c("REML", "ML")) {
        an <- paste0("ls_", method)
        ls <- location_scale(dl, method)
        eq <- rma(yi, vi, mods = ~ site, data = dl, method = method, control = tight)
        put(ds, an, rownames(ls$alpha), "alpha", ls$alpha)
        put(ds, an, rownames(ls$alpha), "se_alpha", ls$se.alpha)
        for (s in levels(dl$site)) put(ds, an, s, "tau2", ls$tau2[dl$site == s][1])
        put(ds, an, rownames(ls$beta), "beta", ls$beta)
        put(ds, an, rownames(ls$beta), "se_beta", ls$se)
        put(ds, an, "", "QS", ls$QS)
        put(ds, an, "", "QS_df", ls$QSdf[1])
        put(ds, an, "", "QSp", ls$QSp)
        put(ds, an, "", "ll", logLik(ls))
        put(ds, an, "", "ll_equal", logLik(eq))
        put(ds, an, "", "tau2_equal", eq$tau2)
        lrt <- 2 * (as.numeric(logLik(ls)) - as.numeric(logLik(eq)))
        put(ds, an, "", "LRT", lrt)
        put(ds, an, "", "LRT_p", pchisq(lrt, df = length(keep) - 1, lower.tail = FALSE))
      }
    }
    if (several_rows(d)) {
      res_z <- rma(yi, vi, mods = ~ site, data = d, method = "REML", test = "z", control = tight)
      put_robust(ds, "robust_sites", res_z, d$study)
    }
  } else {
    d$site <- factor(d$site)
    across <- nlevels(d$site) > 1
    f_full <- if (across) ~ log(bed10) + site else ~ log(bed10)
    f_red <- if (across) ~ site else ~ 1
    multi <- several_rows(d)
    fit <- function(mods, method) {
      if (multi) {
        tightest(function(ctrl) rma.mv(yi, vi, mods = mods, random = ~ 1 | study / arm, data = d, method = method, control = ctrl))
      } else {
        rma(yi, vi, mods = mods, data = d, method = method, control = tight)
      }
    }
    res <- fit(f_full, "REML")
    put(ds, "robust_dose", "", "multilevel", as.numeric(multi))
    put_robust(ds, "robust_dose", res, d$study)
    put_lrt(ds, "lrt_dose", fit(f_full, "ML"), fit(f_red, "ML"))
  }
}
res <- do.call(rbind, out)
res$value <- sprintf("%.17g", res$value)  # every digit (write.csv keeps 15)
write.csv(res, args[2], row.names = FALSE, quote = c(1, 2, 3, 4))
cat(sprintf("%d values written to %s\n", nrow(res), args[2]))
