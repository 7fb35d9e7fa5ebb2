# The pooling and plots of the workflow done with metafor, for bench/workflow_bench.py.
#
#   Rscript bench/workflow_metafor.R results/tables/included.csv <output dir> [dpi]
#
# Reads the included rows, fits rma(measure = "PLO", method = "REML", test = "knha") per
# site x histology x endpoint x time point (a single study is reported as its own
# escalc value with a Wald interval, as the workflow does), writes pooled.csv, and for
# every endpoint x time point draws forest() (one panel per cell) and funnel() (one panel
# per fitted cell) to PNG and PDF. Timed as a whole by the Python bench, R start-up included.
suppressPackageStartupMessages(library(metafor))
options(warn = -1)
args <- commandArgs(trailingOnly = TRUE)
inc <- read.csv(args[1], stringsAsFactors = FALSE)
out <- args[2]
dpi <- if (length(args) >= 3) as.integer(args[3]) else 200
dir.create(out, showWarnings = FALSE, recursive = TRUE)
hist <- if ("review_histology" %in% names(inc)) inc$review_histology else rep("unspecified", nrow(inc))
inc$cell_histology <- hist
inc <- inc[!is.na(inc$events) & !is.na(inc$n), ]
inc$label <- paste0(ifelse(is.na(inc$first_author) | inc$first_author == "", "Ref.", inc$first_author),
                    " [", inc$ref, "]")
key <- paste(inc$endpoint, inc$target_timepoint_months, sep = "|")
pooled <- list()
for (et in sort(unique(key))) {
  d_et <- inc[key == et, ]
  parts <- strsplit(et, "|", fixed = TRUE)[[1]]
  cells <- split(d_et, list(d_et$site, d_et$cell_histology), drop = TRUE)
  fits <- list()
  for (nm in sort(names(cells))) {
    d <- cells[[nm]]
    es <- escalc(measure = "PLO", xi = d$events, ni = d$n)
    if (nrow(d) >= 2) {
      res <- rma(es$yi, es$vi, method = "REML", test = "knha", slab = d$label)
      p <- predict(res, transf = transf.ilogit)
      fits[[nm]] <- res
      pooled[[length(pooled) + 1]] <- data.frame(cell = nm, endpoint = parts[1], timepoint = parts[2],
        k = res$k, estimate = p$pred, ci_low = p$ci.lb, ci_high = p$ci.ub, pi_low = p$pi.lb, pi_high = p$pi.ub,
        tau2 = res$tau2, i2 = res$I2, q = res$QE)
    } else {
      z <- qnorm(0.975)
      pooled[[length(pooled) + 1]] <- data.frame(cell = nm, endpoint = parts[1], timepoint = parts[2], k = 1,
        estimate = transf.ilogit(es$yi), ci_low = transf.ilogit(es$yi - z * sqrt(es$vi)),
        ci_high = transf.ilogit(es$yi + z * sqrt(es$vi)), pi_low = NA, pi_high = NA, tau2 = NA, i2 = NA, q = NA)
    }
  }
  stem <- sprintf("%s_%sm", parts[1], parts[2])
  draw_forest <- function() {
    par(mfrow = c(length(cells), 1), mar = c(4, 4, 2, 2))
    for (nm in sort(names(cells))) {
      d <- cells[[nm]]
      if (!is.null(fits[[nm]])) {
        forest(fits[[nm]], transf = transf.ilogit, refline = NA, header = nm)
      } else {
        es <- escalc(measure = "PLO", xi = d$events, ni = d$n)
        forest(es$yi, es$vi, transf = transf.ilogit, slab = d$label, refline = NA, header = nm)
      }
    }
  }
  draw_funnel <- function() {
    n <- max(1, length(fits))
    par(mfrow = c(1, n))
    if (!length(fits)) plot.new()
    for (nm in names(fits)) funnel(fits[[nm]], main = nm)
  }
  h <- 2 + 1.2 * sum(sapply(cells, nrow)) / 3 + length(cells)
  png(file.path(out, paste0("forest_", stem, ".png")), width = 7, height = h, units = "in", res = dpi)
  draw_forest(); invisible(dev.off())
  pdf(file.path(out, paste0("forest_", stem, ".pdf")), width = 7, height = h)
  draw_forest(); invisible(dev.off())
  png(file.path(out, paste0("funnel_", stem, ".png")), width = 3 * max(1, length(fits)), height = 3.5,
      units = "in", res = dpi)
  draw_funnel(); invisible(dev.off())
  pdf(file.path(out, paste0("funnel_", stem, ".pdf")), width = 3 * max(1, length(fits)), height = 3.5)
  draw_funnel(); invisible(dev.off())
}
write.csv(do.call(rbind, pooled), file.path(out, "pooled.csv"), row.names = FALSE)
cat(sprintf("metafor: %d cells, %d figures\n", length(pooled), length(list.files(out, pattern = "\\.(png|pdf)$"))))
