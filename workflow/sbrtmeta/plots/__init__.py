"""Plots: figures drawn from result tables, never fitted.

One style (:mod:`~sbrtmeta.plots.style`) and one set of labels
(:mod:`~sbrtmeta.plots.labels`: endpoint names, site titles, number formats) for forest,
funnel, leave-one-out, flow and dose-response figures. A plot reads the columns of a
result table; it imports no estimator.
"""
