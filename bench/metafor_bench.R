# Timings of metafor for bench/run_benchmarks.py (which writes the inputs and reads the output).
#   Rscript bench/metafor_bench.R <input dir> <output csv>
suppressPackageStartupMessages(library(metafor))
options(warn = -1)  # rma warns on some synthetic sets; timings only
args <- commandArgs(trailingOnly = TRUE)
dir <- args[1]
out <- list()
add <- function(case, seconds, note = "") out[[length(out) + 1]] <<- data.frame(case = case, seconds = seconds, note = note)
for (f in sort(list.files(dir, pattern = "^single_k[0-9]+\\.csv$", full.names = TRUE))) {
  d <- read.csv(f)
  t <- system.time(rma(d$yi, d$vi, method = "REML", test = "knha"))[["elapsed"]]
  add(sub("\\.csv$", "", basename(f)), t)
}
if (file.exists(file.path(dir, "batch.csv"))) {
  b <- read.csv(file.path(dir, "batch.csv"))
  ids <- unique(b$id)
  n_loop <- as.integer(args[3])
  use <- ids[seq_len(min(n_loop, length(ids)))]
  split_b <- split(b, b$id)[as.character(use)]
  failed <- 0
  t <- system.time(for (d in split_b) {
    r <- tryCatch(rma(d$yi, d$vi, method = "REML", test = "knha"), error = function(e) NULL)
    if (is.null(r)) failed <- failed + 1
  })[["elapsed"]]
  add("batch", t * length(ids) / length(use),
      sprintf("timed %d analyses (%d stopped with an error), scaled to %d", length(use), failed, length(ids)))
}
if (file.exists(file.path(dir, "glmm.csv")) && requireNamespace("lme4", quietly = TRUE)) {
  g <- read.csv(file.path(dir, "glmm.csv"))
  t <- system.time(for (r in 1:5) rma.glmm(xi = g$xi, ni = g$ni, measure = "PLO"))[["elapsed"]] / 5
  add("glmm", t)
}
for (f in sort(list.files(dir, pattern = "^sensitivity_k[0-9]+\\.csv$", full.names = TRUE))) {
  d <- read.csv(f)
  k <- sub("^sensitivity_(k[0-9]+)\\.csv$", "\\1", basename(f))
  res <- rma(d$yi, d$vi, method = "REML", test = "knha")
  reps <- 50
  t <- system.time(for (r in seq_len(reps)) cumul(res))[["elapsed"]] / reps
  add(paste0("cumul_", k), t, sprintf("cumul(res), mean of %d calls", reps))
  pdf(NULL)
  t <- system.time(for (r in seq_len(reps)) baujat(res))[["elapsed"]] / reps
  invisible(dev.off())
  add(paste0("baujat_", k), t, sprintf("baujat(res) (coordinates and its plot, to a null device), mean of %d calls", reps))
}
# the curve model (issue 13): V from the binomial approximation, then rma.mv with struct CAR
for (f in sort(list.files(dir, pattern = "^curve_s[0-9]+\\.csv$", full.names = TRUE))) {
  d <- read.csv(f)
  x <- d$x; n <- d$n; m <- n - x; z <- x == 0 | m == 0
  xa <- ifelse(z, x + .5, x); ma <- ifelse(z, m + .5, m); s <- xa / (xa + ma)
  d$yi <- log(xa / ma)
  blocks <- lapply(split(seq_len(nrow(d)), d$study), function(i) {
    hi <- outer(s[i], s[i], pmax); lo <- outer(s[i], s[i], pmin)
    V <- 1 / (outer(xa[i] + ma[i], xa[i] + ma[i], pmin) * hi * (1 - lo))
    diag(V) <- 1 / xa[i] + 1 / ma[i]
    V
  })
  V <- bldiag(blocks)
  t <- system.time(rma.mv(yi, V, mods = ~ log(t), random = ~ t | study, struct = "CAR", data = d))[["elapsed"]]
  add(paste0(sub("\\.csv$", "", basename(f)), "x3"), t, "rma.mv only (V built before)")
}
write.csv(do.call(rbind, out), args[2], row.names = FALSE)
