"""Hypothesis tests of issue 26's surfaces (item 8): study ids, the risk-of-bias sheet, config
strings and the pre-flight budget; and the property that for any sheet the checks accept, every
output CSV cell is free of control characters, bidirectional overrides and formula prefixes.

Bounded and derandomized for CI (``SBRTMETA_FUZZ_EXAMPLES``, 25 by default); the issue's cases are
kept as ``@example``s.
"""

from __future__ import annotations

import copy
import csv
import os
import re
import tempfile
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sbrtmeta.analysis.budget import budget_faults, curve_grid
from sbrtmeta.analysis.pooling import PoolingOptions
from sbrtmeta.data.errors import InputError
from sbrtmeta.data.hidden_text import hidden_config_text
from sbrtmeta.data.inclusion import read_outcomes
from sbrtmeta.data.risk_of_bias import TOOLS, read_risk_of_bias
from sbrtmeta.steps.apply_inclusion import apply_inclusion
from sbrtmeta.steps.clean_extraction import clean_extraction
from sbrtmeta.steps.pool import pool
from sbrtmeta.steps.runner import read_result, write_table
from validated_config import validated

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "config/config.yaml").read_text())
MAX_EXAMPLES = int(os.environ.get("SBRTMETA_FUZZ_EXAMPLES", "25"))
FUZZ = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# The test's own rules (not taken from the code they check): hidden characters and formula prefixes.
HIDDEN = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")


def _unsafe(cell: str) -> bool:
    if HIDDEN.search(cell):
        return True
    stripped = cell.lstrip()
    if cell[:1] in ("\t", "\r") or stripped[:1] in ("=", "+", "@"):
        return not NUMBER.fullmatch(stripped)
    return stripped.startswith("-") and stripped != "-" and not NUMBER.fullmatch(stripped)


# Text as a careless collaborator types it: ids that look like numbers or NA, control characters,
# bidirectional overrides, formula prefixes behind spaces or NBSP, CJK.
_HOSTILE_PIECES = ["7", "007", "1e3", "NA", "None", "nan", "1.0", "TRUE", "-0", "=1+1", " =x", "\xa0@x", "-x"]
_HOSTILE_PIECES += ["\x00", "\x1b[31m", "\x07", "\n", "\u202eevil", "\u2066", "\x85", "東京", "Müller", "a,b", '"q"']
TEXT = st.one_of(
    st.sampled_from(_HOSTILE_PIECES),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12),
    st.lists(st.sampled_from(_HOSTILE_PIECES), min_size=1, max_size=3).map("".join),
)


def _sheet(path: Path, rows: list[tuple[str, str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["study_id", "first_author", "year", "site", "endpoint", "timepoint_months", "events", "n"])
        for i, (sid, author) in enumerate(rows):
            w.writerow([sid, author, 2000 + i, "liver", "LC", 24, 10 + i, 20 + i])
    return path


def _run(rows: list[tuple[str, str]], folder: Path):
    """Cleanup, inclusion and pooling of a tidy sheet, each table written and read back as the
    workflow does; None when the sheet is refused (an InputError: the checks' business)."""
    try:
        tidy = clean_extraction([], None, CONFIG["cleanup"], [str(_sheet(folder / "mine.csv", rows))])
    except InputError:
        return None
    write_table(tidy, folder / "outcomes.csv")
    inclusion = {**CONFIG["inclusion"], "reviews": ["own"], "overlaps": []}
    included, excluded = apply_inclusion(read_outcomes(folder / "outcomes.csv"), inclusion)
    write_table(included, folder / "included.csv")
    write_table(excluded, folder / "excluded.csv")
    included = read_result(folder / "included.csv")
    included["first_author"] = included["first_author"].fillna("")
    options = PoolingOptions.from_config(validated(CONFIG))
    t = pool(included, read_result(folder / "excluded.csv"), options, ["liver"], ["LC"])
    for name, table in (("pooled", t.pooled), ("pooled_studies", t.studies), ("not_pooled", t.not_pooled)):
        write_table(table, folder / f"{name}.csv")
    return t


@FUZZ
@given(rows=st.lists(st.tuples(TEXT, TEXT), min_size=1, max_size=5, unique_by=lambda r: r[0]))
@example(rows=[(sid, sid) for sid in ("7", "007", "1000", "1e3", "NA", "None", "nan", "1.0")])
@example(rows=[("evil\u202e", "x"), ("s2", "\x1b[31mred")])
@example(rows=[("\xa0=HYPERLINK(1)", "a"), (" @x", "b")])
def test_every_output_cell_of_an_accepted_sheet_is_safe_and_ids_round_trip(rows):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t = _run(rows, folder)
        if t is None:
            return
        for path in sorted(folder.glob("*.csv")):
            if path.name == "mine.csv":
                continue
            with open(path, newline="", encoding="utf-8") as fh:
                bad = [c for row in csv.reader(fh) for c in row if _unsafe(c)]
            assert not bad, (path.name, bad)
        ids = {sid.strip() for sid, _ in rows}  # the tidy sheet ignores spaces around a value
        assert set(read_result(folder / "pooled_studies.csv")["study_id"]) <= ids
        assert set(read_outcomes(folder / "outcomes.csv")["study_id"]) == ids


def _rob(path: Path, source: str, note: str) -> Path:
    row = {"study_id": "s-1", **{c: "2" for c in TOOLS["MINORS"].columns}, "overall": "low"}
    pd.DataFrame([{**row, "source": source, "note": note}]).to_csv(path, index=False)
    return path


@FUZZ
@given(source=TEXT, note=TEXT)
@example(source=" =HYPERLINK(1)", note="")
@example(source="\xa0=1", note="ok")
@example(source="Table 1", note="\u202eevil")
def test_a_risk_of_bias_sheet_is_read_safe_or_refused_in_lines(source, note):
    with tempfile.TemporaryDirectory() as tmp:
        path = _rob(Path(tmp) / "rob.csv", source, note)
        try:
            frame = read_risk_of_bias(str(path), "MINORS", ["s-1"])
        except InputError as err:
            assert str(err).startswith(str(path)) and "Traceback" not in str(err)
            return
        assert not any(_unsafe(str(v)) for v in frame[["source", "note"]].iloc[0])


@FUZZ
@given(reason=TEXT)
@example(reason="ev\u202eil")
@example(reason="bell\x07")
def test_config_strings_are_refused_exactly_when_they_hide_a_character(reason):
    cfg = copy.deepcopy(CONFIG)
    cfg["inclusion"]["exclude_studies"] = [{"study_id": "crc2014-76", "reason": reason}]
    faults = hidden_config_text(cfg)
    hidden = "\t" in reason or bool(HIDDEN.search(reason))
    assert bool(faults) == hidden
    assert all(key == "inclusion.exclude_studies[0].reason" and "U+" in m for key, m in faults)


@FUZZ
@given(
    start=st.floats(0.1, 1200),
    stop=st.floats(0.1, 1200),
    step=st.floats(1e-4, 100),
    samples=st.integers(1, 10**9),
    exhaustive=st.integers(1, 2**20),
    dpi=st.integers(50, 1200),
    max_rows=st.integers(1, 10**5),
)
@example(start=60, stop=6, step=3, samples=10**6, exhaustive=2**20, dpi=200, max_rows=50)
@example(start=6, stop=60, step=0.001, samples=10**6, exhaustive=2**20, dpi=200, max_rows=50)
def test_the_budget_answers_every_config_in_one_line_each(start, stop, step, samples, exhaustive, dpi, max_rows):
    cfg = copy.deepcopy(CONFIG)
    cfg["curves"].update({"from": start, "to": stop, "step": step})
    cfg["robustness"]["gosh"].update(samples=samples, exhaustive_max=exhaustive)
    cfg["figures"]["dpi"] = dpi
    faults = budget_faults(cfg, max_rows)
    assert all("\n" not in m and m for _, m in faults)
    curves = [m for k, m in faults if k.startswith("curves.")]
    if start > stop:
        assert curves == [f"{start:g} is after curves.to {stop:g}: the grid would be empty"]
    else:
        over = curve_grid(cfg["curves"]) * len(cfg["inclusion"]["sites"]) * len(cfg["inclusion"]["endpoints"]) * 3
        assert bool(curves) == (over > 1_000_000)


@pytest.mark.parametrize("sid", ["NA", "007", "1e3", "-0", "TRUE"])
def test_a_hostile_id_is_named_as_typed_in_an_error(tmp_path, sid):
    """An error about a row quotes its id as typed (not 7.0 or nan)."""
    sheet = tmp_path / "mine.csv"
    sheet.write_text(
        f"study_id,first_author,year,site,endpoint,timepoint_months,events,n\n{sid},A,2000,liver,LC,24,30,20\n"
    )
    with pytest.raises(InputError) as err:
        clean_extraction([], None, CONFIG["cleanup"], [str(sheet)])
    assert "events" in str(err.value)
