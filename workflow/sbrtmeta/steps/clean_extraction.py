"""The clean_extraction step: printed sheets, the corrections ledger and tidy sheets in;
``results/clean/outcomes.csv`` out (:func:`sbrtmeta.data.extraction.clean_extraction`)."""

from __future__ import annotations

import logging

import pandas as pd

from sbrtmeta.data import extraction

_LOG = logging.getLogger(__name__)


def clean_extraction(sheets: list[str], ledger: str, cleanup: dict, tidy_sheets: list[str], log=_LOG) -> pd.DataFrame:
    """``outcomes.csv`` from the printed sheets, the corrections ledger and the tidy sheets."""
    tidy = extraction.clean_extraction(
        sheets,
        ledger,
        denominator=dict(cleanup["denominator"]),
        alpha_beta=float(cleanup["alpha_beta"]),
        review_histology=dict(cleanup["review_histology"]),
        tidy_sheets=tidy_sheets,
    )
    printed = tidy[tidy["raw_file"].isin({s.rsplit("/", 1)[-1] for s in sheets})]
    corrected = (printed.drop_duplicates("raw_row")["corrected_columns"] != "").sum()
    log.info(
        "%d tidy rows from %d printed sheet(s) and %d tidy sheet(s); %d raw rows repaired by the corrections ledger",
        len(tidy),
        len(sheets),
        len(tidy_sheets),
        corrected,
    )
    return tidy
