# Reference values for issue 12 items 1-5: study confidence intervals, escalc's continuity
# correction (add/to), regtest's predictors, cumul() and baujat().
#
#   Rscript tests/metafor/make_sensitivity_study_fixtures.R \
#       tests/fixtures/sensitivity_study_inputs.csv tests/fixtures/workflow_included.csv tests/fixtures
#
# The input (tests/metafor/make_sensitivity_study_inputs.py) has columns dataset, study,
# label, xi, ni, year. Models are rma(yi, vi, method, test, control = ctrl) on
# escalc("PLO", xi, ni) for (REML, z), (REML, knha), (DL, z), (DL, knha), (FE, z), REML
# iterated to a tight threshold so the fixture is the estimate itself.
#
# Written (numbers with 17 significant digits):
#   metafor_study_ci.csv      per distinct (x, n) of both inputs (workflow_included.csv: every
#                             study of the shipped run, single-study cells too) and level 0.95/0.90: Clopper-Pearson
#                             (binom.test), Wilson (prop.test(correct = FALSE)), Wilson with
#                             continuity correction (prop.test(correct = TRUE), null p chosen
#                             far from x/n so that R's YATES = min(0.5, |x - n p|) is 0.5),
#                             Agresti-Coull and Jeffreys from Brown, Cai & DasGupta (Stat Sci
#                             2001;16:101-133, eqs. for the AC and Jeffreys intervals): AC
#                             clipped to [0, 1], Jeffreys' lower limit 0 at x = 0 and upper
#                             limit 1 at x = n, as BCD define it.
#   metafor_escalc_continuity.csv  escalc(PLO / PR, add = 0.5 / 0.1, to = all / only0 /
#                             if0all / none): yi, vi per study (NA where undefined)
#   metafor_regtest_predictors.csv regtest(res, predictor = sei/vi/ni/ninv/sqrtninv) per model
#   metafor_cumul.csv         cumul(res, order = ord) with ord = order(year, tie-break):
#                             tie_break n (larger first) or precision (smaller vi first),
#                             then the input's row order; one row per step
#   metafor_baujat.csv        baujat(res) coordinates x (contribution) and y (influence)
suppressPackageStartupMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
inp <- read.csv(args[1], stringsAsFactors = FALSE)
shipped <- read.csv(args[2], stringsAsFactors = FALSE)
outdir <- args[3]
ctrl <- list(threshold = 1e-12, maxiter = 10000)
models <- list(c("REML", "z"), c("REML", "knha"), c("DL", "z"), c("DL", "knha"), c("FE", "z"))

fmt <- function(df) {
  for (nm in names(df)) {
    if (is.numeric(df[[nm]])) {
      x <- df[[nm]]
      df[[nm]] <- ifelse(is.na(x), NA, sprintf("%.17g", x))
    }
  }
  df
}
write_out <- function(rows, name) {
  df <- do.call(rbind, rows)
  path <- file.path(outdir, paste0(name, ".csv"))
  write.csv(fmt(df), path, row.names = FALSE, na = "NA")
  cat(sprintf("metafor %s, %s: wrote %d rows to %s\n", as.character(packageVersion("metafor")),
              R.version.string, nrow(df), path))
}

# ---- study intervals
ci_rows <- list()
xn <- unique(rbind(inp[, c("xi", "ni")], shipped[, c("xi", "ni")]))
xn <- rbind(xn, data.frame(xi = c(0, 1, 5, 10, 0, 1), ni = c(1, 1, 10, 10, 3, 2)))
xn <- unique(xn)
for (level in c(0.95, 0.90)) {
  z <- qnorm(1 - (1 - level) / 2)
  for (j in seq_len(nrow(xn))) {
    x <- xn$xi[j]; n <- xn$ni[j]
    cp <- binom.test(x, n, conf.level = level)$conf.int
    w <- suppressWarnings(prop.test(x, n, conf.level = level, correct = FALSE))$conf.int
    pnull <- if (x >= n / 2) 1e-9 else 1 - 1e-9
    wcc <- suppressWarnings(prop.test(x, n, p = pnull, conf.level = level, correct = TRUE))$conf.int
    nt <- n + z^2; pt <- (x + z^2 / 2) / nt
    ac <- c(max(0, pt - z * sqrt(pt * (1 - pt) / nt)), min(1, pt + z * sqrt(pt * (1 - pt) / nt)))
    a <- (1 - level) / 2
    jl <- if (x == 0) 0 else qbeta(a, x + 0.5, n - x + 0.5)
    ju <- if (x == n) 1 else qbeta(1 - a, x + 0.5, n - x + 0.5)
    ci_rows[[length(ci_rows) + 1]] <- data.frame(
      xi = x, ni = n, level = level,
      method = c("clopper-pearson", "wilson", "wilson-cc", "agresti-coull", "jeffreys"),
      ci_low = c(cp[1], w[1], wcc[1], ac[1], jl), ci_high = c(cp[2], w[2], wcc[2], ac[2], ju))
  }
}
write_out(ci_rows, "metafor_study_ci")

# ---- escalc add / to
esc_rows <- list()
for (ds in unique(inp$dataset)) {
  d <- inp[inp$dataset == ds, ]
  for (measure in c("PLO", "PR")) for (add in c(0.5, 0.1)) for (to in c("all", "only0", "if0all", "none")) {
    es <- suppressWarnings(escalc(measure = measure, xi = d$xi, ni = d$ni, add = add, to = to))
    yi <- as.numeric(es$yi); vi <- as.numeric(es$vi)
    yi[!is.finite(yi)] <- NA; vi[!is.finite(vi)] <- NA
    esc_rows[[length(esc_rows) + 1]] <- data.frame(dataset = ds, measure = measure, add = add, to = to,
                                                   row = seq_len(nrow(d)), yi = yi, vi = vi)
  }
}
write_out(esc_rows, "metafor_escalc_continuity")

# ---- regtest predictors, cumul, baujat
reg_rows <- list(); cum_rows <- list(); bj_rows <- list()
for (ds in unique(inp$dataset)) {
  d <- inp[inp$dataset == ds, ]
  es <- escalc(measure = "PLO", xi = d$xi, ni = d$ni)
  k <- nrow(d)
  orders <- list(n = order(d$year, -d$ni, seq_len(k)), precision = order(d$year, es$vi, seq_len(k)))
  for (mt in models) {
    method <- mt[1]; test <- mt[2]
    res <- rma(yi, vi, data = es, method = method, test = test, control = ctrl)
    if (k >= 3) {
      for (pred in c("sei", "vi", "ni", "ninv", "sqrtninv")) {
        r <- try(regtest(res, predictor = pred, ni = d$ni), silent = TRUE)
        if (inherits(r, "try-error")) next
        lim <- !is.null(r$est)
        reg_rows[[length(reg_rows) + 1]] <- data.frame(
          dataset = ds, tau2_method = method, ci_method = test, predictor = pred,
          zval = r$zval, pval = r$pval, est = if (lim) r$est else NA_real_,
          ci_low = if (lim) r$ci.lb else NA_real_, ci_high = if (lim) r$ci.ub else NA_real_)
      }
    }
    for (tb in names(orders)) {
      ord <- orders[[tb]]
      rank <- integer(k); rank[ord] <- seq_len(k)
      cm <- suppressWarnings(cumul(res, order = rank))
      stat <- if (is.null(cm$zval)) cm$tval else cm$zval
      tau2 <- if (is.null(cm$tau2)) rep(0, k) else cm$tau2
      cum_rows[[length(cum_rows) + 1]] <- data.frame(
        dataset = ds, tau2_method = method, ci_method = test, tie_break = tb, step = seq_len(k),
        study_row = ord, label = d$label[ord], k = seq_len(k), estimate = cm$estimate, se = cm$se,
        zval = stat, pval = if (is.null(cm$pval)) cm$pvals else cm$pval, ci_low = cm$ci.lb, ci_high = cm$ci.ub, q = cm$Q, q_p = cm$Qp,
        tau2 = tau2, i2 = cm$I2, h2 = cm$H2)
    }
    pdf(NULL)
    bj <- try(baujat(res), silent = TRUE)  # the plot stops when no coordinate is finite
    invisible(dev.off())
    if (inherits(bj, "try-error")) {
      cat(sprintf("baujat(%s, %s, %s): %s", ds, method, test, bj))
      next
    }
    bj_rows[[length(bj_rows) + 1]] <- data.frame(
      dataset = ds, tau2_method = method, ci_method = test, row = seq_len(k),
      x = bj$x, y = bj$y)
  }
}
write_out(reg_rows, "metafor_regtest_predictors")
write_out(cum_rows, "metafor_cumul")
write_out(bj_rows, "metafor_baujat")
