# metafor's permutest timed for bench/permutest_bench.py (which writes the inputs and reads the output).
#   Rscript bench/permutest_bench.R <input csv> <output csv> <iterations>
suppressPackageStartupMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = FALSE)
iter <- as.integer(args[3])
out <- list()
res <- rma(yi, vi, mods = ~ factor(site), data = d, method = "REML", test = "knha")
t <- system.time(p <- permutest(res, iter = iter, progbar = FALSE))[["elapsed"]]
out[[1]] <- data.frame(case = "sites", seconds = t, p = p$QMp)
res <- rma(yi, vi, mods = ~ log(bed10), data = d, method = "REML", test = "z")
t <- system.time(p <- permutest(res, iter = iter, progbar = FALSE))[["elapsed"]]
out[[2]] <- data.frame(case = "dose", seconds = t, p = p$pval[2])
write.csv(do.call(rbind, out), args[2], row.names = FALSE)
