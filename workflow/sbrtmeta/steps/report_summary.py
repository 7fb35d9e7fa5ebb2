"""The report_summary step: the result tables and figure paths in; ``results/report/summary.md``
out (:func:`sbrtmeta.report.summary.summary_markdown` and its sections)."""

from __future__ import annotations

from sbrtmeta.report.alpha_beta_section import alpha_beta_section
from sbrtmeta.report.curves_section import curves_section
from sbrtmeta.report.headline import participant_units
from sbrtmeta.report.robustness_section import robustness_section
from sbrtmeta.report.sensitivity_section import sensitivity_section
from sbrtmeta.report.sensitivity_tests_section import sensitivity_tests_section
from sbrtmeta.report.summary import figure_files, figure_list, summary_markdown


def report_summary(
    tables: dict, figures: list[str], report_dir: str, sites: list[str], targets=(), *, level: float
) -> str:
    """``summary.md`` from the result tables (``tables``: pooled, subgroups, included, excluded,
    not_pooled, dose, pooled_studies, and curves, curve_models, curve_studies, alpha_beta if given) and the figure paths
    (files, or folders of figures); ``targets``: the time points of the curve section; ``level``: the
    pooling's confidence level (config's ``pooling.level``)."""
    curve_lines = curves_section(
        tables.get("curves"), tables.get("curve_models"), tables.get("curve_studies"), tables["pooled"], list(targets)
    )
    return summary_markdown(
        tables["pooled"],
        tables["subgroups"],
        tables["included"],
        tables["excluded"],
        tables["not_pooled"],
        tables["dose"],
        figure_list(figure_files(figures)),
        report_dir=report_dir,
        sites=sites,
        sof=tables.get("sof"),
        rob=tables.get("rob"),
        robustness=robustness_section(tables.get("gosh"), tables.get("multiverse")),
        sensitivity=sensitivity_section(tables.get("cumulative"), tables.get("baujat"), sites, level),
        curves=curve_lines,
        sensitivity_tests=sensitivity_tests_section(
            tables.get("sensitivity_tests"), tables.get("heterogeneity_by_site"), sites
        ),
        level=level,
        units=participant_units(tables.get("pooled_studies"), tables["included"]),
        alpha_beta=alpha_beta_section(tables.get("alpha_beta")),
    )
