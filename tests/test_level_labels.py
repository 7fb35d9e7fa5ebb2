"""The level comes from config, everywhere (issue 22 item 4): no literal "95 %" in plots/ or report/,
and the figures and texts name the level they are given."""

import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "workflow" / "sbrtmeta"


@pytest.mark.parametrize("layer", ["plots", "report", "steps"])
def test_no_literal_95_percent_in_labels(layer):
    hits = [
        f"{path.name}:{i}: {line.strip()}"
        for path in sorted((PACKAGE / layer).glob("*.py"))
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"95\s?%", line)
    ]
    assert hits == []


def test_labels_take_the_level():
    from sbrtmeta.plots.labels import ci_label, level_prefix, study_ci_text, tau2_ci_text

    assert ci_label("knha", 0.9) == "Knapp-Hartung 90% CI"
    assert tau2_ci_text("REML", "z", 0.99) == "REML τ², Wald (z) 99% CI"
    assert study_ci_text("clopper-pearson", "logit", 0.9).startswith("Study 90% CIs: Clopper-Pearson")
    assert level_prefix(float("nan")) == "" and level_prefix(0.8) == "80% "


def test_a_level_0_9_forest_plot_says_90():
    from sbrtmeta.plots.forest import draw_forest
    from test_plots import make_tables, texts

    drawn = " ".join(texts(draw_forest(*make_tables({"lung": 3}), "LC", 24, level=0.9)))
    assert "90% CI" in drawn and "95%" not in drawn


NOT_THE_LEVEL = re.compile(r"(?<![\d.])95\s?%")  # "95 %" or "95%", not 0.95% nor 95.8%


@pytest.mark.workflow
def test_a_level_0_9_pdf_run_prints_no_95_percent(shipped_run, tmp_path):
    """Issue 22 item 4: with every level at 0.9 (pooling, dose_response, curves) and figures.formats [pdf], no
    PDF (pdftotext), table, summary.md, methods.md or report.docx prints "95 %". A copy of the session's shipped
    run reruns what the levels and formats change; GOSH, the multiverse and the permutation tests are off, and
    the dose bootstrap draws 100 replicates, to keep that short (none of them prints a level)."""
    import shutil
    import subprocess

    import docx
    import yaml
    from project_copy import copy_run, run_snakemake

    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    work = copy_run(shipped_run.work, tmp_path / "project")
    path = work / "config" / "config.yaml"
    cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
    for section in ("pooling", "dose_response", "curves"):
        cfg[section]["level"] = 0.9
    cfg["figures"]["formats"] = ["pdf"]
    cfg["robustness"]["gosh"]["enabled"] = cfg["robustness"]["multiverse"]["enabled"] = False
    cfg["sensitivity"]["permutations"]["enabled"] = False
    cfg["dose_response"]["bootstrap"]["replicates"] = 100
    path.write_text(yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True), encoding="utf-8")
    proc = run_snakemake(work, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-4000:]
    results = work / "results"
    pdfs = sorted((results / "figures").rglob("*.pdf"))
    assert any(p.parent.name == "funnel" for p in pdfs) and any(p.parent.name == "forest" for p in pdfs)
    found = {}
    for pdf in pdfs:
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        found[pdf.relative_to(results).as_posix()] = text
    for table in sorted((results / "tables").glob("*.csv")) + sorted((results / "report").glob("*.md")):
        found[table.relative_to(results).as_posix()] = table.read_text(encoding="utf-8")
    document = docx.Document(str(results / "report" / "report.docx"))
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    found["report/report.docx"] = "\n".join([p.text for p in document.paragraphs] + cells)
    hits = {name: NOT_THE_LEVEL.findall(text) for name, text in found.items() if NOT_THE_LEVEL.search(text)}
    assert hits == {}
    assert "90% CI" in found["report/summary.md"]
