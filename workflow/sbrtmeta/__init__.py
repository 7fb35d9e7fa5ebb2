"""sbrtmeta: meta-analysis of SBRT for oligometastases.

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

__version__ = "0.1.0"
