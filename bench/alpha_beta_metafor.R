# metafor's side of the α/β profile benchmark (bench/speed_checks.py): the same arms, the same model, refitted
# by ML at some of the profile's α/β values (metafor has no profile over a parameter of the design, so a
# profile is one rma.mv fit per value).
#
#   Rscript bench/alpha_beta_metafor.R arms.csv 3 10 40
#
# arms.csv: study, arm, total_gy, fractions, events, n. Prints the mean seconds per fit.
suppressPackageStartupMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = FALSE)
values <- as.numeric(args[-1])
dat <- escalc(measure = "PLO", xi = events, ni = n, data = d)
several <- any(duplicated(dat$study))
took <- system.time(for (ab in values) {
  dat$bed <- dat$total_gy * (1 + dat$total_gy / dat$fractions / ab)
  if (several) {
    rma.mv(yi, vi, mods = ~ log(bed), random = ~ 1 | study/arm, data = dat, method = "ML")
  } else {
    rma(yi, vi, mods = ~ log(bed), data = dat, method = "ML")
  }
})[["elapsed"]]
cat(sprintf("%.6f\n", took / length(values)))
