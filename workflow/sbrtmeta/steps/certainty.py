"""The certainty step: the GRADE summary-of-findings table
(:func:`sbrtmeta.analysis.certainty.summary_of_findings`), the methods text
(:func:`sbrtmeta.report.methods.methods_markdown`) and the PRISMA checklist
(:func:`sbrtmeta.report.prisma.prisma_markdown`), all from the config the run used."""

from __future__ import annotations

import pandas as pd

from sbrtmeta.analysis.certainty import summary_of_findings
from sbrtmeta.report.methods import methods_markdown
from sbrtmeta.report.prisma import prisma_markdown


def certainty(
    pooled: pd.DataFrame,
    studies: pd.DataFrame,
    risk_of_bias: pd.DataFrame,
    dose: pd.DataFrame | None,
    config: dict,
    log=None,
) -> tuple[pd.DataFrame, str, str]:
    """``(summary_of_findings, methods.md, prisma_checklist.md)``."""
    dose_cfg = config.get("dose_response") or {}
    what = (
        f"{dose_cfg.get('endpoint', '?')} at {float(dose_cfg.get('timepoint_months', 0)):g} months"
        if dose_cfg
        else "none"
    )
    predictor = (config.get("sensitivity") or {}).get("funnel", {}).get("predictor", "sei")
    sof = summary_of_findings(
        pooled, studies, risk_of_bias, dose, config["grade"], config["pooling"]["level"], what, predictor
    )
    if log is not None:
        for level, n in sof["certainty"].value_counts().sort_index().items():
            log.info("certainty %s: %d cells", level, n)
    return sof, methods_markdown(config), prisma_markdown(config)
