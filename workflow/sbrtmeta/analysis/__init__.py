"""Analyses: tables in, result tables out.

Each module turns the tidy or included rows into the result tables of one workflow step:
pooling per site × endpoint × time point, the dose-response arms and fits, and the
tables behind the figures (leave-one-out, small-study tests). It calls :mod:`sbrtmeta.stats`
for the numbers and :mod:`sbrtmeta.data` for the rows; it draws nothing. A new analysis
goes here, with its estimator in ``stats``.
"""
