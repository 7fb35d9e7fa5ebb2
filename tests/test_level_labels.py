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
