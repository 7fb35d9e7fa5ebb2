"""data/raw/primary_studies.csv holds exactly what shared/sources/primary-studies.md prints.

The source is read from its copy in the repository, tests/fixtures/sources/primary-studies.md
(see the README there), so the test runs, and fails if the copy is missing, in any clone.
"""

import csv
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "tests" / "fixtures" / "sources" / "primary-studies.md"
RAW = ROOT / "data" / "raw" / "primary_studies.csv"


def _tables():
    """The markdown tables of the source, as lists of dicts keyed by header."""
    tables, header = [], None
    for line in SOURCE.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = cells
            tables.append([])
        elif not set("".join(cells)) <= set("-: "):
            tables[-1].append(dict(zip(header, cells)))
    return tables


def _raw():
    with open(RAW, encoding="utf-8", newline="") as f:
        return {r["ref"]: r for r in csv.DictReader(f)}


def _empty_if_not_reported(value):
    return "" if value in ("", "not found") else value


def test_every_sarcoma_study_is_transcribed_as_printed():
    sarcoma, _ = _tables()
    raw = _raw()
    assert len(sarcoma) == 12
    for src in sarcoma:
        row = raw[src["ref"]]
        author, year, citation = re.match(r"^(\S+) (\d{4}), (.+)$", src["study"]).groups()
        assert (row["first_author"], row["year"], row["citation"]) == (author, year, citation)
        assert row["review"] == "sarcoma2023"
        if src["patients"] == "not found":
            assert row["patients_printed"] == "not found"
            assert all(
                row[c] == "" for c in ("lesions_printed", "dose_printed", "mfu_printed", "lc_printed", "os_printed")
            )
            continue
        assert row["patients_printed"] == src["patients"]
        assert row["lesions_printed"] == src["lesions"]
        assert row["dose_printed"] == src["dose"]
        assert row["mfu_printed"] == src["median follow-up (mo)"]
        assert row["lc_printed"] == src["local control"]
        assert row["os_printed"] == src["overall survival"]
        address = src["source"]
        assert row["source_address"] == address
        if address.startswith("PMID "):
            assert row["pmid"] == address.split()[1]


def test_colorectal_text_studies_are_transcribed_as_printed():
    _, colorectal = _tables()
    raw = _raw()
    identified = [s for s in colorectal if s["source"].startswith("PMID")]
    assert {s["review ref"] for s in identified} == {"86", "92", "99"}
    for src in identified:
        row = raw[src["review ref"]]
        author, year, citation = re.match(r"^(\S+)(?: [A-Z]{1,3})? (\d{4}), (.+)$", src["study"]).groups()
        assert (row["first_author"], row["year"], row["citation"], row["review"]) == (author, year, citation, "crc2014")
        assert row["patients_printed"] == src["patients"]
        assert row["dose_printed"] == src["dose"]
        assert row["lc_printed"] == src["local control"]
        assert row["os_printed"] == src["overall survival"]
        assert row["pmid"] == src["source"].split()[1]


def test_median_follow_up_from_the_note_below_the_table():
    note = re.search(
        r"Median follow-up: Kim 2008, (\S+) mo; Casamassima 2012, (.+?) mo \((.+?)\)\.",
        SOURCE.read_text(encoding="utf-8"),
    )
    raw = _raw()
    assert raw["92"]["mfu_printed"] == note.group(1)
    assert raw["99"]["mfu_printed"] == f"{note.group(2)} ({note.group(3)})"


def test_soyfer_local_control_is_marked_unusable():
    from sbrtmeta.data.printed_cells import parse_rates

    (rate,) = parse_rates(_raw()["25"]["lc_printed"])
    assert rate.rate_pct is None and "unusable" in rate.note


def test_sites_follow_the_source_note():
    raw = _raw()
    for ref in ("30", "15"):  # "All sarcoma studies above treated lung metastases except Spałek 2022 and Brown 2014"
        assert raw[ref]["site"] == "multiple"
    assert {raw[r]["site"] for r in ("19", "20", "21", "22", "23", "24", "25", "26", "27", "29")} == {"lung"}
