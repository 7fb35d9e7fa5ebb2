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
write.csv(do.call(rbind, out), args[2], row.names = FALSE)
