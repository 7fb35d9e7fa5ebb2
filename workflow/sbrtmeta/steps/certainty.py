"""The certainty step: the GRADE summary-of-findings table
(:func:`sbrtmeta.analysis.certainty.summary_of_findings`), the weighted risk of bias per pooled result
(:func:`weighted_risk_of_bias`, which rule ``certainty_figures`` draws), the methods text
(:func:`sbrtmeta.report.methods.methods_markdown`) and the PRISMA checklist
(:func:`sbrtmeta.report.prisma.prisma_markdown`), all from the config the run used. No matplotlib here."""

from __future__ import annotations

import pandas as pd

from sbrtmeta.analysis.certainty import concern_weights, study_concerns, summary_of_findings
from sbrtmeta.data.minors import FOLLOW_UP_COLUMNS, follow_up_by_result
from sbrtmeta.report.headline import synthetic_note
from sbrtmeta.report.methods import methods_markdown
from sbrtmeta.report.prisma import prisma_markdown


def certainty(
    pooled: pd.DataFrame,
    studies: pd.DataFrame,
    risk_of_bias: pd.DataFrame,
    dose: pd.DataFrame | None,
    config: dict,
    log=None,
    overrides_source: str = "config/config.yaml",
    config_files: list[str] | None = None,
    included: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, str, str]:
    """``(summary_of_findings, follow_up_by_result, risk_of_bias_weighted, methods.md, prisma_checklist.md)``
    (the third: :func:`weighted_risk_of_bias`); ``overrides_source`` is
    the config file ``grade.overrides`` came from, which a message about an override names; methods.md names
    ``config_files`` and warns when the ``included`` rows are synthetic; MINORS item 6 is judged per pooled
    result from the ``included`` rows' median follow-up (:func:`sbrtmeta.data.minors.follow_up_by_result`)."""
    dose_cfg = config.get("dose_response") or {}
    what = (
        f"{dose_cfg.get('endpoint', '?')} at {float(dose_cfg.get('timepoint_months', 0)):g} months"
        if dose_cfg
        else "none"
    )
    predictor = (config.get("sensitivity") or {}).get("funnel", {}).get("predictor", "sei")
    sof = summary_of_findings(
        pooled,
        studies,
        risk_of_bias,
        dose,
        config["grade"],
        config["pooling"]["level"],
        what,
        predictor,
        overrides_source,
    )
    follow_up = (
        follow_up_by_result(studies, included) if included is not None else pd.DataFrame(columns=FOLLOW_UP_COLUMNS)
    )
    if log is not None:
        for level, n in sof["certainty"].value_counts().sort_index().items():
            log.info("certainty %s: %d cells", level, n)
    methods = methods_markdown(
        config,
        risk_of_bias=risk_of_bias,
        config_files=config_files,
        note=synthetic_note(included),
        follow_up=follow_up if included is not None else None,
    )
    weighted = weighted_risk_of_bias(pooled, studies, risk_of_bias, config)
    return sof, follow_up, weighted, methods, prisma_markdown(config, risk_of_bias)


def weighted_risk_of_bias(
    pooled: pd.DataFrame, studies: pd.DataFrame, risk_of_bias: pd.DataFrame, config: dict
) -> pd.DataFrame:
    """``risk_of_bias_weighted.csv``: per pooled result (its key and k), the ``rule`` of config
    ``grade.risk_of_bias.rule`` and the share of its weight (%) from studies of each concern
    (:func:`sbrtmeta.analysis.certainty.concern_weights`: robvis' weighted summary, per pooled result)."""
    rule = config["grade"]["risk_of_bias"].get("rule", "overall")
    shares = concern_weights(pooled, studies, study_concerns(risk_of_bias, rule))
    shares.insert(shares.columns.get_loc("k") + 1, "rule", rule)
    return shares
