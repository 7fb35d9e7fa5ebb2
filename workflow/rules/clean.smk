def _printed_sheets():
    return config["data"].get("sheets", [])


def _tidy_sheet_paths():
    """Paths of data.tidy_sheets (an entry is a path or {path, worksheet})."""
    return [e["path"] if isinstance(e, dict) else e for e in config["data"].get("tidy_sheets", [])]


def _ledger():
    """The corrections ledger, read only when there are printed sheets to repair."""
    return [config["data"]["corrections"]] if _printed_sheets() else []


rule clean_extraction:
    """Validate every sheet, apply the corrections ledger to the printed ones, parse the
    printed cells and write one tidy table with the tidy sheets' rows after them."""
    input:
        sheets=_printed_sheets(),
        corrections=_ledger(),
        tidy_sheets=_tidy_sheet_paths(),
        code=package("data/extraction", "data/printed_cells", "data/dose_strings", "data/raw_schema", "data/vocabulary", "data/sheets", "data/tidy_schema", "data/errors"),
    output:
        outcomes="results/clean/outcomes.csv",
    params:
        cleanup=config["cleanup"],
        ledger=(_ledger() or [None])[0],
        tidy_sheets=config["data"].get("tidy_sheets", []),
    log:
        "results/logs/clean_extraction.log",
    script:
        "../scripts/clean_extraction.py"
