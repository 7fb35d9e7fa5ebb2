# metafor's gosh() timed for bench/robustness_bench.py (which writes the input and reads the output).
#   Rscript bench/gosh_metafor.R <input csv: yi, vi> <output csv>
# Fits gosh(rma(yi, vi, method = "REML")) on every subset of the k studies of the input
# (2^k - 1 fits, one core, no progress bar) and writes the elapsed time and the number of fits.
suppressPackageStartupMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
res <- rma(d$yi, d$vi, method = "REML")
t <- system.time(g <- gosh(res, progbar = FALSE))[["elapsed"]]
write.csv(data.frame(k = nrow(d), fits = nrow(g$res), seconds = t), args[2], row.names = FALSE)
