"""sbrtmeta: meta-analysis of SBRT for oligometastases.

As a library (README, "Use as a library")::

    import sbrtmeta
    res = sbrtmeta.pool_proportions(frame, events="events", n="n")
    res.summary_frame()        # estimate, CI, PI as proportions; τ², I², Q
    res.conf_int(0.9)

The public names (``__all__``) are the effect sizes of proportions and their transforms, the
models (:func:`fit_random_effects`, :func:`fit_meta_regression`, :func:`fit_multilevel`,
:func:`fit_glmm_logit`) and :func:`pool_proportions`. They come from ``sbrtmeta.stats`` and
need only numpy, scipy, pandas and statsmodels; each is imported when first used, so
``import sbrtmeta`` imports nothing else and the workflow's rules do not depend on this list.

The package behind the Snakemake workflow, in five layers (docs/architecture.md):

* :mod:`sbrtmeta.stats`: pure estimators, arrays in and result objects out;
* :mod:`sbrtmeta.data`: sheets, schemas, vocabulary, parsers of printed cells, cleanup and inclusion;
* :mod:`sbrtmeta.analysis`: tables in, result tables out (pooling, dose-response, ...);
* :mod:`sbrtmeta.plots`: figures drawn from result tables only;
* :mod:`sbrtmeta.report`: the summary report and the step runner the workflow scripts use.

``data`` and ``stats`` import nothing else of the package, ``analysis`` imports them, and
``plots`` and ``report`` take tables. import-linter checks this (``[tool.importlinter]`` in
pyproject.toml).
"""

import importlib

__version__ = "0.1.0"

# public name -> the module that defines it (imported on first use, PEP 562)
_PUBLIC = {
    "pool_proportions": "sbrtmeta.stats.proportions",
    "PooledProportion": "sbrtmeta.stats.proportions",
    "proportion_effect_sizes": "sbrtmeta.stats.effect_sizes",
    "inverse_transform": "sbrtmeta.stats.effect_sizes",
    "forward_transform": "sbrtmeta.stats.effect_sizes",
    "study_intervals": "sbrtmeta.stats.effect_sizes",
    "MEASURES": "sbrtmeta.stats.effect_sizes",
    "fit_random_effects": "sbrtmeta.stats.random_effects",
    "fit_meta_regression": "sbrtmeta.stats.meta_regression",
    "fit_multilevel": "sbrtmeta.stats.multilevel",
    "fit_glmm_logit": "sbrtmeta.stats.glmm",
}

__all__ = list(_PUBLIC)


def __getattr__(name: str):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'sbrtmeta' has no attribute {name!r}")
    value = getattr(importlib.import_module(_PUBLIC[name]), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted([*globals(), *_PUBLIC])
