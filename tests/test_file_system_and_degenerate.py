"""Issue 26, items 6 and 7: the file system gives one line, not a traceback; a cell of identical
studies reads well (no nan or inf); long labels are shortened on figures, kept whole in tables."""

import errno
import logging
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sbrtmeta.analysis.baujat import baujat_table
from sbrtmeta.analysis.cumulative import ZERO_SE, cumulative_table
from sbrtmeta.analysis.pooling import PoolingOptions
from sbrtmeta.data.errors import InputError
from sbrtmeta.data.risk_of_bias import read_risk_of_bias
from sbrtmeta.data.sheets import read_table
from sbrtmeta.plots.forest import draw_forest
from sbrtmeta.plots.labels import LABEL_CHARS, shorten
from sbrtmeta.report.robustness_section import multiverse_lines
from sbrtmeta.report.sensitivity_section import _baujat_items
from sbrtmeta.steps.apply_inclusion import apply_inclusion
from sbrtmeta.steps.clean_extraction import clean_extraction
from sbrtmeta.steps.pool import pool
from sbrtmeta.steps.runner import file_system_error, run_step, unwritable_folders
from validated_config import validated

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "config/config.yaml").read_text())


# --- item 6: the file system -------------------------------------------------------------------


def test_a_directory_named_like_a_sheet(tmp_path):
    """adir.csv as a tidy or risk-of-bias path gave IsADirectoryError."""
    (tmp_path / "adir.csv").mkdir()
    with pytest.raises(InputError, match="adir.csv: is a directory, not a sheet"):
        read_table(tmp_path / "adir.csv")
    with pytest.raises(InputError, match="is a directory"):
        read_risk_of_bias(str(tmp_path / "adir.csv"), "MINORS", ["s-1"])


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_sheet(tmp_path):
    sheet = tmp_path / "mine.csv"
    sheet.write_text("study_id\ns-1\n")
    sheet.chmod(0)
    with pytest.raises(InputError, match="cannot be read"):
        read_table(sheet)


@pytest.mark.parametrize(
    "code, hint",
    [(errno.EACCES, "writable"), (errno.EROFS, "read-only"), (errno.ENOSPC, "disk is full")],
)
def test_a_read_only_or_full_results_folder_is_one_line(tmp_path, caplog, capsys, code, hint):
    """results/tables made read-only while an output is missing gave PermissionError."""
    target = "results/tables/pooled.csv"

    def body(log):
        raise OSError(code, os.strerror(code), target)

    with pytest.raises(SystemExit) as stop:
        run_step("pool", str(tmp_path / "pool.log"), body)
    assert stop.value.code == 1
    (line,) = (tmp_path / "pool.log").read_text().strip().splitlines()
    assert line.startswith(f"[pool] ERROR: {target}: {os.strerror(code)}") and hint in line
    assert "Traceback" not in capsys.readouterr().err


def test_unwritable_output_folders_are_named_once_before_any_job(tmp_path, monkeypatch):
    """A read-only file system under results/tables: Snakemake's removal of a job's old outputs failed with a
    traceback (EROFS, not FileNotFoundError) before the step could say it; the Snakefile's onstart asks first."""
    import tempfile

    (tmp_path / "results/tables").mkdir(parents=True)
    outputs = [
        tmp_path / "results/tables/pooled.csv",
        tmp_path / "results/tables/x.csv",
        tmp_path / "results/new/a/b.png",
    ]
    assert unwritable_folders(outputs) == []
    real = tempfile.TemporaryFile

    def read_only(*args, dir=None, **kwargs):
        if Path(dir) == tmp_path / "results/tables":
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(Path(dir) / "tmpabc"))
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "TemporaryFile", read_only)
    (line,) = unwritable_folders(outputs)  # one line for the folder, not one per file
    assert line.startswith(f"{tmp_path / 'results/tables'}: {os.strerror(errno.EROFS)} (")
    assert line.endswith("(the file system is read-only: run in a writable copy)")


def test_file_system_error_names_the_path():
    assert file_system_error(PermissionError(errno.EACCES, "Permission denied", "x.csv")).startswith(
        "x.csv: Permission denied"
    )


def test_a_risk_of_bias_workbook_with_two_worksheets_names_its_own_key(tmp_path):
    """It said to set the data.tidy_sheets entry (the wrong key)."""
    path = tmp_path / "rob.xlsx"
    with pd.ExcelWriter(path) as xl:
        pd.DataFrame({"study_id": ["s-1"]}).to_excel(xl, sheet_name="A", index=False)
        pd.DataFrame({"study_id": ["s-1"]}).to_excel(xl, sheet_name="B", index=False)
    with pytest.raises(InputError) as err:
        read_risk_of_bias(str(path), "MINORS", ["s-1"])
    assert "data.risk_of_bias" in str(err.value) and "tidy_sheets" not in str(err.value)


# --- item 7: degenerate cells and long labels ---------------------------------------------------


@pytest.fixture(scope="module")
def identical(tmp_path_factory):
    """Five identical studies (18/20 each), with one 500-character first author."""
    sheet = tmp_path_factory.mktemp("same") / "same.csv"
    authors = ["A" * 500] + [f"Author{i}" for i in range(1, 5)]
    sheet.write_text(
        "study_id,first_author,year,site,endpoint,timepoint_months,events,n\n"
        + "".join(f"s{i},{a},{2000 + i},liver,LC,24,18,20\n" for i, a in enumerate(authors)),
        encoding="utf-8",
    )
    tidy = clean_extraction([], None, CONFIG["cleanup"], [str(sheet)])
    inclusion = {**CONFIG["inclusion"], "reviews": ["own"], "overlaps": []}
    included, excluded = apply_inclusion(tidy, inclusion)
    return included, pool(included, excluded, PoolingOptions.from_config(validated(CONFIG)), ["liver"], ["LC"])


def _finite_or_empty(frame: pd.DataFrame) -> bool:
    numbers = frame.select_dtypes("number").to_numpy(dtype=float)
    return not np.isinf(numbers).any() and "inf" not in frame.to_csv(index=False)


def test_identical_studies_give_no_inf_in_the_cumulative_table(identical):
    included, t = identical
    cum = cumulative_table(t.pooled, t.studies, included, "n", 0.95)
    assert _finite_or_empty(cum) and _finite_or_empty(t.pooled)
    assert (cum["note"].iloc[1:] == ZERO_SE).all() and cum["stat"].iloc[1:].isna().all()


def test_identical_studies_read_well_in_the_summary(identical):
    """summary.md printed 'nan% of the cell's total' and '(0.0 points: nan)'."""
    _, t = identical
    bj = baujat_table(t.pooled, t.studies, 0.95)
    items = _baujat_items(bj)
    assert items and not any("nan" in i for i in items)
    summary = pd.DataFrame(
        [
            dict(
                site="liver",
                histology="mixed",
                endpoint="LC",
                timepoint_months=24.0,
                k_main=5,
                main_estimate=0.9,
                margin=0.05,
                total_specs=4,
                specs=4,
                specs_within=4,
                share_within=1.0,
                min_estimate=0.9,
                median_estimate=0.9,
                max_estimate=0.9,
                most_influential_choice="none",
                influential_range=0.0,
                influential_levels=np.nan,  # an empty cell read back
            )
        ]
    )
    text = "\n".join(multiverse_lines(summary))
    assert "0.0 points: every choice gives the same estimate" in text and "nan" not in text


def test_a_long_label_is_shortened_on_the_figure_and_kept_in_the_table(identical):
    """A 500-character author name made a forest plot 9,841 px wide."""
    _, t = identical
    assert t.studies["label"].str.len().max() > 500  # the table keeps the whole label
    fig = draw_forest(t.pooled, t.studies, "LC", 24.0, level=0.95)
    assert fig.get_size_inches()[0] * 200 < 3000
    shown = [x.get_text() for x in fig.texts]
    assert any(s.startswith("A" * (LABEL_CHARS - 11) + "… 2000 [s0]") for s in shown)
    assert shorten("x" * 100) == "x" * (LABEL_CHARS - 1) + "…" and shorten("short") == "short"


def test_a_run_step_logs_input_errors_as_before(tmp_path):
    def body(log):
        raise InputError("bad", file="a.csv", row=2, column="n", value="x")

    with pytest.raises(SystemExit):
        run_step("x", str(tmp_path / "x.log"), body)
    assert "a.csv, row 2, column 'n', value 'x': bad" in (tmp_path / "x.log").read_text()
    logging.getLogger("sbrtmeta.x").handlers.clear()


def test_a_glyph_no_font_has_is_logged_once_per_figure(tmp_path, caplog):
    """CJK names drew as empty boxes, silently: a fallback face draws them when installed, else the log says so."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from sbrtmeta.plots import style

    with style.figure_style():
        fig = Figure(figsize=(3, 1))
        FigureCanvasAgg(fig)
        fig.text(0.1, 0.5, "Müller \U0001d518\U0001d518 東京")
    with caplog.at_level(logging.WARNING, logger="sbrtmeta.figures"):
        style.save_figure(fig, [str(tmp_path / "x.png")], dpi=50)
    lines = [r.getMessage() for r in caplog.records if r.name == "sbrtmeta.figures"]
    assert len(lines) == 1 and "FRAKTUR CAPITAL U" in lines[0] and "glyph is missing" in lines[0]
    cjk = any(f in style.FONT_FAMILY for f in style._FALLBACK)
    assert ("CJK UNIFIED" in lines[0]) == (not cjk)


def test_the_missing_glyph_line_is_in_the_rule_log_and_said_once(tmp_path):
    """The line went to the terminal only (an unconfigured logger), after matplotlib's own warning,
    which named a line of our layout code, once per measured text: now the rule's log has the line,
    and no raw warning is passed on."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from sbrtmeta.plots import style
    from sbrtmeta.steps import runner

    assert runner.GLYPH_LOG == style.GLYPH_LOG

    def body(log):
        with style.figure_style():
            fig = Figure(figsize=(3, 1))
            FigureCanvasAgg(fig)
            text = fig.text(0.1, 0.5, "Author \U0001d518")
            text.get_window_extent(fig.canvas.get_renderer())  # a layout step measuring the label
        style.save_figure(fig, [str(tmp_path / "x.png")], dpi=50)

    with warnings.catch_warnings(record=True) as caught:
        style.ignore_glyph_warnings()  # as on import in a job (pytest drops the filters set while collecting)
        run_step("forest_plots", str(tmp_path / "x.log"), body)
    lines = (tmp_path / "x.log").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 and lines[0].startswith("[forest_plots] ") and "FRAKTUR CAPITAL U" in lines[0]
    assert "fonts-noto-cjk" in lines[0]
    assert not [w for w in caught if "missing from font" in str(w.message)], [
        (w.filename, w.lineno, str(w.message)) for w in caught
    ]
    for name in ("sbrtmeta.forest_plots", style.GLYPH_LOG):
        logging.getLogger(name).handlers.clear()
