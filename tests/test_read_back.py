"""Ids and text read back as written (issue 26, item 1): every table a step reads back keeps
``007``, ``1e3``, ``NA``, ``None``, ``nan``, ``1.0``, ``TRUE`` and ``-0`` as they were written."""

from pathlib import Path

import pandas as pd
import pytest
import yaml
from sbrtmeta.analysis.pooling import PoolingOptions
from sbrtmeta.data.inclusion import read_outcomes
from sbrtmeta.data.read_back import TEXT_COLUMNS, header_of
from sbrtmeta.steps.apply_inclusion import apply_inclusion as inclusion_step
from sbrtmeta.steps.clean_extraction import clean_extraction as clean_step
from sbrtmeta.steps.pool import pool as pool_step
from sbrtmeta.steps.runner import read_result, write_table
from validated_config import validated

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
RESULTS = ROOT / "results"
# Ids pandas would rewrite or lose: the list and zero-padded ids.
HOSTILE_IDS = ("7", "007", "1000", "1e3", "NA", "None", "nan", "1.0", "TRUE", "-0", "N/A", "001")


def _tidy_sheet(path: Path, ids=HOSTILE_IDS) -> Path:
    """A tidy sheet of one liver LC 24-month rate per study, each id its own study; the
    first authors are ids too (``NA``, ``None`` ... are names here)."""
    rows = ["study_id,first_author,year,site,endpoint,timepoint_months,events,n"]
    rows += [f"{sid},{sid},{2000 + i},liver,LC,24,{10 + i},{20 + 2 * i}" for i, sid in enumerate(ids)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _inclusion(**changes) -> dict:
    return {**CONFIG["inclusion"], "reviews": ["own"], "overlaps": [], **changes}


def test_text_columns_round_trip(tmp_path):
    """A table with every text column holding every hostile id is read back unchanged."""
    columns = [c for c in TEXT_COLUMNS if c != "first_author"] + ["first_author", "k", "estimate"]
    frame = pd.DataFrame({c: list(HOSTILE_IDS) for c in columns[:-2]})
    frame["k"] = range(len(frame))
    frame["estimate"] = [0.5] * len(frame)
    write_table(frame, tmp_path / "t.csv")
    back = read_result(tmp_path / "t.csv")
    for c in columns[:-2]:
        assert list(back[c]) == list(HOSTILE_IDS), c
    assert back["k"].dtype.kind == "i" and back["estimate"].dtype.kind == "f"


def test_only_empty_cells_are_missing_and_never_in_id_columns(tmp_path):
    (tmp_path / "t.csv").write_text("study_id,note,estimate\n,,\nNA,NA,1.5\n", encoding="utf-8")
    back = read_result(tmp_path / "t.csv")
    assert list(back["study_id"]) == ["", "NA"]
    assert pd.isna(back["note"][0]) and back["note"][1] == "NA"
    assert pd.isna(back["estimate"][0]) and back["estimate"][1] == 1.5


def test_outcomes_round_trip(tmp_path):
    """outcomes.csv from a tidy sheet of hostile ids: read_outcomes gives the ids, authors and
    references as typed (the issue: 7 and 007 merged into 7.0, NA/None/nan became blank)."""
    tidy = clean_step([], None, CONFIG["cleanup"], [str(_tidy_sheet(tmp_path / "ids.csv"))])
    assert list(tidy["study_id"]) == list(HOSTILE_IDS)
    write_table(tidy, tmp_path / "outcomes.csv")
    back = read_outcomes(tmp_path / "outcomes.csv")
    for c in ("study_id", "ref", "first_author"):
        assert list(back[c]) == list(HOSTILE_IDS), c
    assert back["n"].dtype == "Int64" and back["rate"].dtype.kind == "f"


def test_hostile_ids_pool_as_studies_of_their_own(tmp_path):
    """End to end (cleanup → inclusion → pooling, each table written and read back): a sheet
    whose ids are all hostile pools every study once, under the id it was given."""
    tidy = clean_step([], None, CONFIG["cleanup"], [str(_tidy_sheet(tmp_path / "ids.csv"))])
    write_table(tidy, tmp_path / "outcomes.csv")
    included, excluded = inclusion_step(read_outcomes(tmp_path / "outcomes.csv"), _inclusion())
    assert excluded.empty
    write_table(included, tmp_path / "included.csv")
    write_table(excluded, tmp_path / "excluded.csv")
    included = read_result(tmp_path / "included.csv")
    included["first_author"] = included["first_author"].fillna("")  # as the pool script does
    t = pool_step(
        included,
        read_result(tmp_path / "excluded.csv"),
        PoolingOptions.from_config(validated(CONFIG)),
        ["liver"],
        ["LC"],
    )
    write_table(t.pooled, tmp_path / "pooled.csv")
    write_table(t.studies, tmp_path / "pooled_studies.csv")
    pooled, studies = read_result(tmp_path / "pooled.csv"), read_result(tmp_path / "pooled_studies.csv")
    assert list(pooled["k"]) == [len(HOSTILE_IDS)]
    assert sorted(studies["study_id"]) == sorted(HOSTILE_IDS)
    assert all(label.startswith(sid + " ") for sid, label in zip(studies["study_id"], studies["label"]))


def test_excluding_a_zero_padded_id(tmp_path):
    """exclude_studies: ['001'] names the study 001, not 1 (the issue: refused as not a study of the data)."""
    tidy = clean_step([], None, CONFIG["cleanup"], [str(_tidy_sheet(tmp_path / "ids.csv"))])
    write_table(tidy, tmp_path / "outcomes.csv")
    criteria = _inclusion(exclude_studies=[{"study_id": "001", "reason": "test"}])
    included, excluded = inclusion_step(read_outcomes(tmp_path / "outcomes.csv"), criteria)
    assert list(excluded["study_id"]) == ["001"] and "7" in set(included["study_id"])


def test_a_review_named_nan(tmp_path):
    """A review named nan is a review like any other (the issue: every row excluded, review nan not in ['nan'])."""
    sheet = _tidy_sheet(tmp_path / "ids.csv")
    text = sheet.read_text().splitlines()
    sheet.write_text("\n".join([text[0] + ",review"] + [line + ",nan" for line in text[1:]]) + "\n", encoding="utf-8")
    tidy = clean_step([], None, {**CONFIG["cleanup"], "review_histology": {}}, [str(sheet)])
    write_table(tidy, tmp_path / "outcomes.csv")
    included, excluded = inclusion_step(read_outcomes(tmp_path / "outcomes.csv"), _inclusion(reviews=["nan"]))
    assert excluded.empty and len(included) == len(HOSTILE_IDS)


# Columns whose meaning differs by table: a confidence level or a multiverse choice's value; a
# GOSH part's row number or a leave-one-out row's kind (omitted, all).
BY_TABLE = ("level", "row")


@pytest.mark.skipif(not (RESULTS / "tables").is_dir(), reason="no results/tables of a run here")
def test_every_written_column_is_text_or_a_number():
    """Each column of the tables of a run is listed as text, or holds numbers or flags only."""
    for path in sorted([*(RESULTS / "tables").rglob("*.csv"), *(RESULTS / "robustness").rglob("*.csv")]):
        back = read_result(path)
        for c in header_of(path):
            if c not in TEXT_COLUMNS and c not in BY_TABLE:
                values = back[c].dropna()
                assert values.map(lambda v: isinstance(v, (int, float, bool))).all(), (path.name, c)
