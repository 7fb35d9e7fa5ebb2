"""Pure statistics: arrays in, result objects out.

Effect sizes of proportions and their transforms, common- and random-effects models
with every τ² estimator, the binomial-normal GLMM, mixed-effects meta-regression, the
study/arm multilevel model, small-study tests, influence diagnostics and the
dose-response (tumour-control) model, and pooled proportions in one call
(:mod:`sbrtmeta.stats.proportions`, the library's ``pool_proportions``: a data frame with
the caller's column names in, a result with ``summary_frame()`` out). Each estimator is checked against R's metafor in
the tests. Nothing here reads a file, knows a column name of the workflow's tables, or
imports another layer of the package.
"""
