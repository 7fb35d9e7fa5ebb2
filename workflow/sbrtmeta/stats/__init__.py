"""Pure statistics: arrays in, result objects out.

Effect sizes of proportions and their transforms, common- and random-effects models
with every τ² estimator, the binomial-normal GLMM, mixed-effects meta-regression, the
study/arm multilevel model, small-study tests, influence diagnostics and the
dose-response (tumour-control) model. Each estimator is checked against R's metafor in
the tests. Nothing here reads a file, knows a column name of the workflow's tables, or
imports another layer of the package.
"""
