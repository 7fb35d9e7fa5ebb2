"""Your own tidy sheet: the format of results/clean/outcomes.csv, its defaults, and how it
joins the shipped data. The faults it refuses are in tests/test_input_faults.py."""

from pathlib import Path

import pandas as pd
import pytest
import yaml
from sbrtmeta.data.extraction import TIDY_COLUMNS, clean_extraction
from sbrtmeta.data.inclusion import apply_inclusion
from sbrtmeta.data.tidy_schema import DEFAULTS, REQUIRED_COLUMNS, WRITTEN_BY_CLEANUP, tidy_sheet_rows

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw" / "crc2014_extraction.csv"
PRIMARY = ROOT / "data" / "raw" / "primary_studies.csv"
LEDGER = ROOT / "data" / "raw" / "corrections.csv"
EXAMPLE = ROOT / "config" / "examples" / "example_studies.csv"
CONFIG = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
CLEANUP = CONFIG["cleanup"]


def _clean(sheets=(), tidy_sheets=()):
    return clean_extraction(
        list(sheets),
        LEDGER if sheets else None,
        denominator=CLEANUP["denominator"],
        alpha_beta=CLEANUP["alpha_beta"],
        review_histology=CLEANUP["review_histology"],
        tidy_sheets=list(tidy_sheets),
    )


def _csv(frame):
    return frame.to_csv(index=False, lineterminator="\n")


@pytest.fixture(scope="module")
def shipped():
    return _clean([RAW, PRIMARY])


def test_the_cleanups_own_table_is_a_valid_tidy_sheet(shipped, tmp_path):
    """outcomes.csv, less the provenance the cleanup writes, goes back in unchanged."""
    sheet = tmp_path / "outcomes_copy.csv"
    shipped.drop(columns=list(WRITTEN_BY_CLEANUP)).to_csv(sheet, index=False)
    again = _clean(tidy_sheets=[str(sheet)])
    keep = [c for c in TIDY_COLUMNS if c not in WRITTEN_BY_CLEANUP]
    assert _csv(again[keep]) == _csv(shipped[keep])
    assert set(again.raw_file) == {"outcomes_copy.csv"}
    assert list(again.raw_row) == [str(i + 2) for i in range(len(again))]


def test_minimal_sheet_gets_the_documented_defaults(tmp_path):
    sheet = tmp_path / "mine.csv"
    sheet.write_text(",".join(REQUIRED_COLUMNS) + "\n" + "s-1,Doe,2020,lung,LC,24,18,20\n", encoding="utf-8")
    row = _clean(tidy_sheets=[str(sheet)]).iloc[0]
    for column, default in DEFAULTS.items():
        assert row[column] == default, column
    assert (row.ref, row.histology, row.review_histology) == ("s-1", "mixed", "mixed")
    assert row.rate == 0.9 and row.events == 18 and row.n == 20
    assert pd.isna(row.bed10) and row.dose_text == "" and row.dose_rule == ""
    assert (row.raw_file, row.raw_row, row.corrected_columns) == ("mine.csv", "2", "")


def test_rate_or_events_may_be_given(tmp_path):
    sheet = tmp_path / "mine.csv"
    sheet.write_text(
        "study_id,first_author,year,site,endpoint,timepoint_months,events,n,rate\n"
        "s-1,Doe,2020,lung,LC,24,,28,0.68\n"
        "s-2,Roe,,liver,OS,12,,,\n",
        encoding="utf-8",
    )
    t = _clean(tidy_sheets=[str(sheet)])
    assert (t.events[0], t.rate[0]) == (19, 0.68)  # 0.68 × 28 = 19.04, rounded half up as for printed sheets
    # nothing reported: the row stays, and inclusion will say why it is not pooled
    assert pd.isna(t.rate[1]) and pd.isna(t.n[1]) and pd.isna(t.events[1]) and pd.isna(t.year[1])


def test_review_histology_comes_from_config(tmp_path):
    sheet = tmp_path / "mine.csv"
    sheet.write_text(
        "study_id,first_author,year,site,endpoint,timepoint_months,events,n,review,primary\n"
        "s-1,Doe,2020,lung,LC,24,18,20,crc2014,mixed\n"
        "s-2,Doe,2020,lung,LC,24,18,20,newreview,sarcoma\n",
        encoding="utf-8",
    )
    t = _clean(tidy_sheets=[str(sheet)])
    assert list(t.review_histology) == ["colorectal", "sarcoma"]
    assert list(t.histology) == ["mixed", "sarcoma"]


def test_dose_columns_are_computed_from_dose_text(tmp_path):
    sheet = tmp_path / "mine.csv"
    sheet.write_text(
        "study_id,first_author,year,site,endpoint,timepoint_months,events,n,dose_text\n"
        "s-1,Doe,2020,lung,LC,24,18,20,50/5\n"
        "s-2,Doe,2020,lung,LC,24,18,20,48 Gy in 4 fractions\n",
        encoding="utf-8",
    )
    t = _clean(tidy_sheets=[str(sheet)])
    assert list(t.total_dose_gy) == [50, 48] and list(t.fractions) == [5, 4]
    assert list(t.bed10) == pytest.approx([100.0, 105.6])


def test_example_sheet_joins_the_shipped_data(shipped):
    both = _clean([RAW, PRIMARY], [str(EXAMPLE)])
    assert _csv(both.iloc[: len(shipped)]) == _csv(shipped)
    mine = both.iloc[len(shipped) :]
    assert len(mine) == len(pd.read_csv(EXAMPLE)) and set(mine.review) == {"own"}
    assert set(mine.raw_file) == {EXAMPLE.name}
    inclusion = {**CONFIG["inclusion"], "reviews": CONFIG["inclusion"]["reviews"] + ["own"]}
    included, excluded = apply_inclusion(both, inclusion)
    assert set(mine.study_id) <= set(included.study_id)
    # with the shipped criteria the example's review is not selected: its rows say why
    _, excluded = apply_inclusion(both, CONFIG["inclusion"])
    assert set(excluded[excluded.review == "own"].criterion) == {"review"}


def test_example_is_labelled_synthetic():
    ex = pd.read_csv(EXAMPLE, dtype=str, keep_default_na=False)
    assert ex.first_author.str.startswith("Synthetic-").all()
    assert ex.source.str.contains("SYNTHETIC").all() and ex.note.str.contains("not real data").all()


def test_xlsx_reads_like_csv(tmp_path):
    frame = pd.read_csv(EXAMPLE, keep_default_na=False)  # numbers as numbers, as Excel stores them
    frame["rate"] = pd.to_numeric(frame["rate"], errors="coerce")
    book = tmp_path / "mine.xlsx"
    with pd.ExcelWriter(book, engine="openpyxl") as xw:
        frame.to_excel(xw, sheet_name="Studies", index=False)
        frame.head(2).to_excel(xw, sheet_name="Other", index=False)
    from_xlsx = _clean(tidy_sheets=[{"path": str(book), "worksheet": "Studies"}])
    from_csv = _clean(tidy_sheets=[str(EXAMPLE)])
    cols = [c for c in TIDY_COLUMNS if c != "raw_file"]
    assert _csv(from_xlsx[cols]) == _csv(from_csv[cols])


def test_single_worksheet_needs_no_name(tmp_path):
    book = tmp_path / "mine.xlsx"
    pd.read_csv(EXAMPLE, dtype=str, keep_default_na=False).to_excel(book, index=False)
    assert len(tidy_sheet_rows(book)) == len(pd.read_csv(EXAMPLE))


def test_excel_csv_with_byte_order_mark(tmp_path):
    sheet = tmp_path / "mine.csv"
    sheet.write_bytes(b"\xef\xbb\xbf" + EXAMPLE.read_bytes())
    assert len(_clean(tidy_sheets=[str(sheet)])) == len(pd.read_csv(EXAMPLE))
