"""GRADE domains (analysis/certainty.py) at and around each threshold, overrides, the
summary-of-findings table, methods.md and the PRISMA checklist; the example config in a
project copy (every judgement level) and what a changed threshold reruns."""

import copy
import math

import numpy as np
import pandas as pd
import pytest
import yaml
from project_copy import ROOT, copy_project, run_snakemake
from sbrtmeta.analysis import certainty as c
from sbrtmeta.data.errors import InputError
from sbrtmeta.report.methods import methods_markdown
from sbrtmeta.report.prisma import AUTHORS, ITEMS, prisma_markdown

CONFIG = yaml.safe_load((ROOT / "config/config.yaml").read_text())
GRADE = CONFIG["grade"]
EPS = 1e-9


@pytest.mark.parametrize(
    "share, level",
    [
        (0.25 - 0.01, c.NOT_SERIOUS),
        (0.25, c.SERIOUS),
        (0.5 - 0.01, c.SERIOUS),
        (0.5, c.VERY_SERIOUS),
        (1.0, c.VERY_SERIOUS),
    ],
)
def test_risk_of_bias_share(share, level):
    rules = {"serious": 0.25, "very_serious": 0.5}
    j = c.risk_of_bias_domain(
        [100 * share / 2, 100 * share / 2, 100 * (1 - share)], ["high", "not assessed", "low"], rules
    )
    assert j.level == level
    assert j.reason.startswith(
        f"{100 * share:.0f}% of the weight from studies at high risk of bias ({100 * share / 2:.0f}%)"
    )
    assert j.reason.endswith("serious from 25%, very serious from 50%")
    # some concerns does not count
    assert c.risk_of_bias_domain([50, 50], ["some concerns", "low"], rules).level == c.NOT_SERIOUS


INC = {"i2_serious": 50, "i2_very_serious": 75, "pi_width": 0.3}


@pytest.mark.parametrize(
    "i2, width, level",
    [
        (49.9, 0.3 - 0.01, c.NOT_SERIOUS),
        (50, 0.3 - 0.01, c.SERIOUS),
        (49.9, 0.3, c.SERIOUS),
        (74.9, 0.3, c.SERIOUS),
        (75, 0.3 - 0.01, c.SERIOUS),
        (75, 0.3, c.VERY_SERIOUS),
        (90, 0.9, c.VERY_SERIOUS),
    ],
)
def test_inconsistency_i2_and_prediction_interval(i2, width, level):
    j = c.inconsistency_domain(5, i2, 0.5, 0.5 + width, INC)
    assert j.level == level
    wide = "at least" if width >= 0.3 else "less than"
    assert j.reason.startswith(f"I² = {i2:.0f}% (serious from 50%, very serious from 75%")
    assert f"spans {100 * width:.1f} points ({wide} 30.0)" in j.reason


def test_inconsistency_without_a_prediction_interval_and_of_one_study():
    j = c.inconsistency_domain(4, 60, math.nan, math.nan, INC)
    assert j.level == c.SERIOUS and "no prediction interval" in j.reason
    one = c.inconsistency_domain(1, math.nan, math.nan, math.nan, INC)
    assert (
        one.level == c.NOT_ASSESSABLE and one.reason == "a single study: there is no between-study variation to judge"
    )


@pytest.mark.parametrize(
    "share, level", [(0.5 - 0.01, c.NOT_SERIOUS), (0.5, c.SERIOUS), (0.75 - 0.01, c.SERIOUS), (0.75, c.VERY_SERIOUS)]
)
def test_indirectness_share_of_mixed_primaries(share, level):
    j = c.indirectness_domain(
        [100 * share, 100 * (1 - share)], [True, False], 1, {"serious": 0.5, "very_serious": 0.75}
    )
    assert j.level == level
    assert j.reason.startswith(f"{100 * share:.0f}% of the weight from 1 of 2 studies whose patients mix primary")


def test_optimal_information_size_is_the_single_proportion_sample_size():
    # z = 1.959964; 1.959964² · 0.5 · 0.5 / 0.1² = 96.04 → 97
    assert c.optimal_information_size(0.5, 0.1, 0.95) == 97
    assert c.optimal_information_size(0.9, 0.1, 0.95) == math.ceil(1.959963984540054**2 * 0.09 / 0.01)


IMP = {"ci_width": 0.2, "margin": 0.1}


@pytest.mark.parametrize(
    "width, n, level",
    [
        (0.2, 97, c.NOT_SERIOUS),  # width at the threshold, N at the OIS (97 at p = 0.5)
        (0.2 + 0.001, 97, c.SERIOUS),
        (0.2, 96, c.SERIOUS),
        (0.2 + 0.001, 96, c.VERY_SERIOUS),
    ],
)
def test_imprecision_ci_width_and_information_size(width, n, level):
    j = c.imprecision_domain(3, n, 0.5, 0.5 - width / 2, 0.5 + width / 2, IMP, 0.95)
    assert j.level == level
    assert f"is {100 * width:.1f} points wide ({'more than' if width > 0.2 else 'at most'} 20.0)" in j.reason
    assert f"N = {n} {'<' if n < 97 else '≥'} optimal information size 97 (±10.0 points at 50.0%)" in j.reason


def test_imprecision_of_one_study_says_why_it_cannot_be_judged():
    j = c.imprecision_domain(1, 40, 0.5, 0.3, 0.7, IMP, 0.95)
    assert j.level == c.NOT_ASSESSABLE
    assert j.reason.startswith("a single study: no pooled estimate whose precision could be judged (its own 95% CI")


PB = {"min_k": 10, "egger_p": 0.1, "trimfill_share": 0.2}


@pytest.mark.parametrize(
    "k, p, k0, level",
    [
        (9, 0.001, 5, c.NOT_ASSESSABLE),
        (10, 0.1, 1, c.UNDETECTED),  # p at the threshold is not below it; 1 < 0.2 × 10
        (10, 0.1 - EPS, 0, c.SUSPECTED),
        (10, 0.5, 2, c.SUSPECTED),  # 2 ≥ 0.2 × 10
        (10, math.nan, 0, c.UNDETECTED),
    ],
)
def test_publication_bias(k, p, k0, level):
    j = c.publication_bias_domain(k, p, k0, PB)
    assert j.level == level
    if level == c.NOT_ASSESSABLE:
        assert j.reason == "k = 9 < 10: too few studies for the small-study tests (does not rate down)"
    else:
        assert f"trim and fill imputes {k0}" in j.reason and f"of k = {k})" in j.reason


@pytest.mark.parametrize(
    "slope, p, down, level, words",
    [
        (1.0, 0.05, 0, c.NO_UPGRADE, "no gradient"),
        (1.0, 0.05 - EPS, 0, c.UPGRADE, "gradient of benefit"),
        (-1.0, 0.01, 0, c.NO_UPGRADE, "falls with dose"),
        (1.0, 0.01, 1, c.NO_UPGRADE, "rates up only evidence not rated down"),
    ],
)
def test_dose_response_gradient(slope, p, down, level, words):
    j = c.dose_response_domain({"slope": slope, "slope_p": p}, {"p": 0.05}, down, "LC at 24 months")
    assert j.level == level and words in j.reason
    assert c.dose_response_domain(None, {"p": 0.05}, 0, "LC at 24 months").reason.endswith(
        "(config dose_response: LC at 24 months)"
    )


def _judged(**levels):
    base = {d: c.Judgement(c.NOT_SERIOUS, "") for d in c.DOMAINS}
    base["publication_bias"] = c.Judgement(c.NOT_ASSESSABLE, "")
    base["dose_response"] = c.Judgement(c.NO_UPGRADE, "")
    base.update({d: c.Judgement(v, "") for d, v in levels.items()})
    return base


@pytest.mark.parametrize(
    "levels, certainty",
    [
        ({}, "low"),
        ({"dose_response": c.UPGRADE}, "moderate"),
        ({"imprecision": c.SERIOUS}, "very low"),
        ({"risk_of_bias": c.VERY_SERIOUS, "indirectness": c.VERY_SERIOUS}, "very low"),
        ({"publication_bias": c.SUSPECTED}, "very low"),
    ],
)
def test_certainty_starts_at_low(levels, certainty):
    down, up, level, reason = c.certainty_of(_judged(**levels))
    assert level == certainty
    unjudged = "" if "publication_bias" in levels else "; not assessable: publication bias"
    assert reason.startswith("starts at low (non-randomised studies); ") and reason.endswith(f"→ {certainty}{unjudged}")


def _tables():
    pooled = pd.DataFrame(
        [
            dict(
                site="liver",
                histology="colorectal",
                endpoint="LC",
                timepoint_months=24.0,
                k=2,
                k_mixed_primaries=1,
                n_total=100,
                model="random effects",
                tau2_method="REML",
                ci_method="knha",
                estimate=0.8,
                ci_low=0.7,
                ci_high=0.88,
                pi_low=0.6,
                pi_high=0.95,
                i2=10.0,
            ),
            dict(
                site="lung",
                histology="colorectal",
                endpoint="LC",
                timepoint_months=24.0,
                k=1,
                k_mixed_primaries=0,
                n_total=40,
                model="single study",
                tau2_method="",
                ci_method="z",
                estimate=0.9,
                ci_low=0.77,
                ci_high=0.96,
                pi_low=np.nan,
                pi_high=np.nan,
                i2=np.nan,
            ),
        ]
    )
    studies = pd.DataFrame(
        dict(
            site=["liver", "liver", "lung"],
            histology="colorectal",
            endpoint="LC",
            timepoint_months=24.0,
            study_id=["a", "b", "c"],
            mixed_primaries=[True, False, False],
            weight_pct=[40.0, 60.0, 100.0],
            yi=[1.0, 1.5, 2.2],
            vi=[0.1, 0.1, 0.2],
        )
    )
    rob = pd.DataFrame(dict(study_id=["a", "b"], overall=["high", "low"]))
    return pooled, studies, rob


def test_summary_of_findings_rows_and_overrides():
    pooled, studies, rob = _tables()
    sof = c.summary_of_findings(pooled, studies, rob, None, GRADE)
    assert list(sof.columns) == list(c.COLUMNS)
    liver, lung = sof.iloc[0], sof.iloc[1]
    assert liver["risk_of_bias"] == c.SERIOUS and liver["risk_of_bias_reason"].startswith("40% of the weight")
    assert lung["risk_of_bias"] == c.VERY_SERIOUS and "not assessed (100%)" in lung["risk_of_bias_reason"]
    assert lung["inconsistency"] == lung["imprecision"] == c.NOT_ASSESSABLE
    grade = copy.deepcopy(GRADE)
    grade["overrides"] = [
        dict(
            site="liver",
            endpoint="LC",
            timepoint_months=24,
            domain="risk_of_bias",
            judgement="not serious",
            reason="the high-risk study's bias does not touch local control",
        ),
    ]
    over = c.summary_of_findings(pooled, studies, rob, None, grade).iloc[0]
    assert over["risk_of_bias"] == c.NOT_SERIOUS
    assert over["risk_of_bias_reason"].startswith(
        "overridden in config (grade.overrides[0]): the high-risk study's bias does not touch local control "
        "[the rule gave serious: 40% of the weight"
    )
    grade["overrides"][0]["site"] = "spine"
    with pytest.raises(InputError, match=r"grade.overrides\[0\].*matches no pooled cell"):
        c.summary_of_findings(pooled, studies, rob, None, grade)
    grade["overrides"][0].update(site="liver", judgement="upgrade")
    with pytest.raises(InputError, match="is not a judgement of risk_of_bias"):
        c.summary_of_findings(pooled, studies, rob, None, grade)


def test_methods_describe_the_config_used():
    text = methods_markdown(CONFIG, {"Python": "3.x", "numpy": "9"})
    assert "REML τ² estimator, a Knapp-Hartung 95% CI" in text and "logit scale (logit transform)" in text
    assert "Python 3.x and numpy 9" in text
    assert "MINORS" in text and "serious from 25%" in text
    other = copy.deepcopy(CONFIG)
    other["pooling"].update(tau2_method="DL", ci_method="z", transform="PFT")
    for section in ("sensitivity", "curves", "robustness"):
        other.pop(section, None)
    text = methods_markdown(other, {"Python": "3.x"})
    assert "DerSimonian-Laird τ² estimator, a Wald (z) 95% CI" in text and "added to events" not in text
    # a section the config lacks is not described
    for title in ("## Sensitivity analyses", "## Curves over time", "## Robustness"):
        assert title not in text
    other["pooling"]["transform"] = "PLO"
    other["sensitivity"] = {"study_ci": "wilson", "continuity": {"add": 0.25, "to": "all"}}
    text = methods_markdown(other, {"Python": "3.x"})
    assert "## Sensitivity analyses" in text and "All studies had 0.25 added to events" in text


def test_prisma_checklist_lists_every_item():
    text = prisma_markdown(CONFIG)
    rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| Section")]
    assert len(rows) == len(ITEMS) == 42
    assert "| Methods | 7 | Search strategy | – | to be completed by the authors |" in rows
    assert any("| 22 | Certainty of evidence | results/tables/summary_of_findings.csv" in r for r in rows)
    assert sum(AUTHORS in r.split("|")[5] for r in rows) == sum(w is None for *_, w in ITEMS)


# The outputs of the two rules of certainty.smk: the example config's run builds only these (the
# other analyses are tested elsewhere, and the whole example workflow takes minutes on 2 cores).
TARGETS = (
    "results/tables/summary_of_findings.csv",
    "results/tables/risk_of_bias.csv",
    "results/report/methods.md",
    "results/report/prisma_checklist.md",
)


@pytest.fixture(scope="module")
def example_run(tmp_path_factory):
    work = copy_project(tmp_path_factory.mktemp("certainty") / "project")
    proc = run_snakemake(work, *TARGETS, "--cores", "2", "--configfile", "config/examples/config.yaml")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return work


@pytest.mark.workflow
def test_example_config_shows_every_judgement_level(example_run):
    sof = pd.read_csv(example_run / "results/tables/summary_of_findings.csv")
    for domain, levels in c.DOMAIN_JUDGEMENTS.items():
        assert set(sof[domain]) == set(levels), domain
    assert set(sof["certainty"]) == {"very low", "low", "moderate"}  # high: not reachable from low with one upgrade
    rob = pd.read_csv(example_run / "results/tables/risk_of_bias.csv")
    assert rob.set_index("study_id").loc["ex-03", "overall"] == "not assessed"
    for name in ("methods.md", "prisma_checklist.md"):
        assert (example_run / "results/report" / name).stat().st_size > 1000
    assert (example_run / "results/figures/risk_of_bias_traffic_light.png").exists()


@pytest.mark.workflow
def test_a_changed_threshold_or_override_reruns_only_the_certainty_step(example_run):
    """A GRADE threshold or override: only `certainty` is planned for its outputs (report_summary,
    which reads summary_of_findings.csv, follows from that changed input)."""
    path = example_run / "config/examples/config.yaml"
    original = path.read_text()
    try:
        for old, new in [("margin: 0.1", "margin: 0.05"), ("of the imprecision rule}", "of the imprecision rule!}")]:
            path.write_text(original.replace(old, new, 1))
            proc = run_snakemake(
                example_run, "-n", *TARGETS, "--quiet", "rules", "--configfile", "config/examples/config.yaml"
            )
            assert proc.returncode == 0, proc.stderr[-2000:]
            table = (proc.stdout + proc.stderr).split("Job stats:", 1)[1].split("\ntotal", 1)[0].splitlines()[3:]
            assert {line.split()[0] for line in table if line.strip()} == {"certainty"}, new
    finally:
        path.write_text(original)


def test_report_summary_reads_the_summary_of_findings():
    rules = (ROOT / "workflow/rules/report.smk").read_text()
    assert "sof=rules.certainty.output.table" in rules


def test_summary_section_table_reasons_and_studies_not_assessed():
    from sbrtmeta.report.certainty_section import certainty_lines

    pooled, studies, rob = _tables()
    grade = copy.deepcopy(GRADE)
    grade["overrides"] = [
        dict(
            site="lung",
            endpoint="LC",
            timepoint_months=24,
            domain="indirectness",
            judgement="serious",
            reason="an invented reason for the test",
        ),
    ]
    sof = c.summary_of_findings(pooled, studies, rob, None, grade)
    table = pd.DataFrame(
        dict(
            study_id=["a", "b", "c"],
            label=["A [1]", "B [2]", "C [3]"],
            tool="MINORS",
            overall=["high", "low", "not assessed"],
            assessed=[True, True, False],
        )
    )
    lines = certainty_lines(sof, table)
    text = "\n".join(lines)
    assert lines[2].startswith("Risk of bias (MINORS, results/tables/risk_of_bias.csv): 3 studies in the data, 2 with")
    assert "overall judgement: low 1; high 1; not assessed 1. Not assessed (no row): C [3]." in lines[2]
    assert "| liver | colorectal | Local control at 24 months | 2 | 100 | 80.0 [70.0, 88.0] | serious |" in text
    assert "  Single study: inconsistency: a single study: there is no between-study variation to judge;" in text
    assert "  indirectness: overridden in config (grade.overrides[0]): an invented reason for the test" in text
    assert certainty_lines(sof.iloc[:0])[2] == "No pooled result, so no certainty was rated."
