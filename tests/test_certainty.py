"""GRADE domains (analysis/certainty.py) at and around each threshold, overrides, the
summary-of-findings table, methods.md and the PRISMA checklist; the example config in a
project copy (every judgement level) and what a changed threshold reruns."""

import copy
import math

import numpy as np
import pandas as pd
import pytest
import yaml
from project_copy import ROOT, copy_run, job_stats, run_snakemake
from sbrtmeta.analysis import certainty as c
from sbrtmeta.data.errors import InputError
from sbrtmeta.report.methods import methods_markdown
from sbrtmeta.report.prisma import AUTHORS, ITEMS, prisma_markdown
from validated_config import validated

CONFIG = yaml.safe_load((ROOT / "config/config.yaml").read_text())
GRADE = CONFIG["grade"]
EPS = 1e-9


ROB = {"serious": 0.25, "very_serious": 0.5, "provisional": 0.5}
S, VS, NA = c.SERIOUS, c.VERY_SERIOUS, c.NOT_ASSESSED


@pytest.mark.parametrize(
    "weights, concerns, level, provisional",
    [
        # 24% serious, 76% not serious: below 25% → not serious
        ([24, 76], [S, c.NOT_SERIOUS], c.NOT_SERIOUS, False),
        # exactly 25% serious → serious (the threshold is "from")
        ([25, 75], [S, c.NOT_SERIOUS], S, False),
        # 49% very serious: serious or worse 49% ≥ 25% → serious; very serious 49% < 50%
        ([49, 51], [VS, c.NOT_SERIOUS], S, False),
        # 50% very serious → very serious
        ([50, 50], [VS, c.NOT_SERIOUS], VS, False),
        # 40% serious (retrospective) and 60% not assessed: 40% ≥ 25% → serious, provisional (60% ≥ 50%);
        # the not-assessed 60% is in no share (were it counted as high, this would be very serious)
        ([40, 60], [S, NA], S, True),
        # 10% serious, 90% not assessed: 10% < 25% → not serious, provisional
        ([10, 90], [S, NA], c.NOT_SERIOUS, True),
        # 51% not serious, 49% not assessed: not provisional (49% < 50%)
        ([51, 49], [c.NOT_SERIOUS, NA], c.NOT_SERIOUS, False),
        # nothing assessed: the domain is not assessed (never rated down), provisional
        ([30, 70], [NA, NA], NA, True),
    ],
)
def test_risk_of_bias_domain_never_counts_not_assessed_as_high(weights, concerns, level, provisional):
    j = c.risk_of_bias_domain(weights, concerns, ROB)
    assert (j.level, j.provisional) == (level, provisional)
    assert c.RATE_DOWN[NA] == 0
    if level != NA:
        assert j.reason.endswith(
            "very serious from 50% at very serious"
            + ("" if not provisional else "; provisional: at least 50% of the weight not assessed")
        )


def test_study_concerns_by_the_design_and_the_overall_rules():
    """Hand-derived on a small invented sheet: item 3 is 2 (prospective), 0 (retrospective), 1 (reported,
    inadequate: not prospective), not reported; the overall column low, some concerns, high, not assessed."""
    sheet = pd.DataFrame(
        dict(
            study_id=["p", "r", "i", "u"],
            prospective_collection=["2", "0", "1", "not reported"],
            overall=["low", "some concerns", "high", "not assessed"],
        )
    )
    assert c.study_concerns(sheet, "design") == {"p": c.NOT_SERIOUS, "r": S, "i": S, "u": NA}
    assert c.study_concerns(sheet, "overall") == {"p": c.NOT_SERIOUS, "r": S, "i": VS, "u": NA}
    with pytest.raises(InputError, match="the design rule reads MINORS item 3"):
        c.study_concerns(sheet.drop(columns="prospective_collection"), "design")


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


IMP = {"ci_width": 0.2, "ci_width_very_serious": 0.4, "margin": 0.1}


@pytest.mark.parametrize(
    "low, high, n, level, words",
    [
        # exactly 20.0 points wide is at most 20.0 (compared as printed), N at the OIS (97 at p = 0.5)
        (0.4, 0.6, 97, c.NOT_SERIOUS, "is 20.0 points wide (at most 20.0)"),
        (0.4, 0.6001, 97, c.NOT_SERIOUS, "is 20.0 points wide (at most 20.0)"),  # 20.01 prints as 20.0
        (0.4, 0.601, 97, c.SERIOUS, "is 20.1 points wide (more than 20.0, at most 40.0)"),
        # N one below the OIS: one level, whatever the width (never two for the pair)
        (0.4, 0.6, 96, c.SERIOUS, "N = 96 < optimal information size 97"),
        (0.4, 0.601, 96, c.SERIOUS, "N = 96 < optimal information size 97"),
        # the CI alone makes it very serious: exactly 40.0 is not, 40.1 is
        (0.3, 0.7, 500, c.SERIOUS, "is 40.0 points wide (more than 20.0, at most 40.0)"),
        (0.3, 0.701, 500, c.VERY_SERIOUS, "is 40.1 points wide (more than 40.0)"),
    ],
)
def test_imprecision_one_rule_for_ci_width_and_information_size(low, high, n, level, words):
    j = c.imprecision_domain(n, 0.5, low, high, IMP, 0.95)
    assert j.level == level and words in j.reason


def test_imprecision_of_one_study_is_judged_on_its_own_interval():
    # Kim 2009 (crc2014-86, OS at 36 months): n = 7, its CI 33-93%: 60 points wide > 40 → very serious
    j = c.imprecision_domain(7, 0.714, 0.33, 0.93, IMP, 0.95)
    assert j.level == c.VERY_SERIOUS and "is 60.0 points wide (more than 40.0)" in j.reason
    # a CI of 0.7-99.9% is very serious, not merely serious
    assert c.imprecision_domain(20, 0.5, 0.007, 0.999, IMP, 0.95).level == c.VERY_SERIOUS
    # N = 94 or 96 against an OIS of 96 or 97 at tau2 = 0: one level either way (the double count is gone)
    assert {c.imprecision_domain(n, 0.5, 0.35, 0.6, IMP, 0.95).level for n in (94, 96, 97)} == {c.SERIOUS}


@pytest.mark.parametrize(
    "low, high, n, rule, level",
    [
        # one study of 56 at 96% (the shipped lung sarcoma LC at 12 months): CI 11.9 points, OIS 14 ≤ 56, so the
        # interval alone is not serious; a single small study is rated down one level all the same (GRADE 6,
        # the KCE process book), unless single_study is own_interval
        (0.877, 0.996, 56, "serious", c.SERIOUS),
        (0.877, 0.996, 56, "own_interval", c.NOT_SERIOUS),
        # already serious by its interval (27 points): one level, not two
        (0.597, 0.868, 44, "serious", c.SERIOUS),
        # very serious by its interval (Kim 2009, 60 points): stays very serious
        (0.33, 0.93, 7, "serious", c.VERY_SERIOUS),
        (0.33, 0.93, 7, "own_interval", c.VERY_SERIOUS),
    ],
)
def test_imprecision_of_a_single_study_is_at_least_serious(low, high, n, rule, level):
    j = c.imprecision_domain(n, 0.9, low, high, dict(IMP, single_study=rule), 0.95, k=1)
    assert j.level == level
    assert (c.SINGLE_STUDY_REASON in j.reason) == (rule == "serious")
    # the default is serious, and two or more studies are judged on the pooled interval alone
    assert (
        c.imprecision_domain(n, 0.9, low, high, IMP, 0.95, k=1).level
        == c.imprecision_domain(n, 0.9, low, high, dict(IMP, single_study="serious"), 0.95, k=1).level
    )
    assert c.SINGLE_STUDY_REASON not in c.imprecision_domain(n, 0.9, low, high, IMP, 0.95, k=2).reason


PB = {"min_k": 10, "regtest_p": 0.1, "trimfill_share": 0.2}


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


UP = {"upgrade": True, "reason": "an invented reason for the test", "p": 0.05}


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
    j = c.dose_response_domain({"slope": slope, "slope_p": p}, UP, down, "LC at 24 months")
    assert j.level == level and words in j.reason
    if level == c.UPGRADE:
        assert j.reason.endswith("rated up because: an invented reason for the test")
    assert c.dose_response_domain(None, UP, 0, "LC at 24 months").reason.endswith(
        "(config dose_response: LC at 24 months)"
    )


def test_dose_response_upgrade_is_off_by_default():
    off = c.dose_response_domain({"slope": 1.0, "slope_p": 0.001}, {"p": 0.05}, 0, "LC at 24 months")
    assert off == c.Judgement(c.NO_UPGRADE, c.DOSE_OFF)
    assert GRADE["dose_response"]["upgrade"] is False


def _judged(**levels):
    base = {d: c.Judgement(c.NOT_SERIOUS, "") for d in c.DOMAINS}
    base["publication_bias"] = c.Judgement(c.NOT_ASSESSABLE, "")
    base["dose_response"] = c.Judgement(c.NO_UPGRADE, "")
    base.update({d: c.Judgement(v, "") for d, v in levels.items()})
    return base


@pytest.mark.parametrize(
    "start, levels, down, up, certainty",
    [
        ("low", {}, 0, 0, "low"),
        ("low", {"dose_response": c.UPGRADE}, 0, 1, "moderate"),
        ("low", {"imprecision": c.SERIOUS}, 1, 0, "very low"),
        # low − 4 stops at very low: rated_down is the 1 level applied, not 4
        ("low", {"risk_of_bias": c.VERY_SERIOUS, "indirectness": c.VERY_SERIOUS}, 1, 0, "very low"),
        ("low", {"publication_bias": c.SUSPECTED}, 1, 0, "very low"),
        ("high", {}, 0, 0, "high"),
        ("high", {"dose_response": c.UPGRADE}, 0, 0, "high"),  # already at high
        ("high", {"risk_of_bias": c.SERIOUS}, 1, 0, "moderate"),
        ("high", {"risk_of_bias": c.SERIOUS, "imprecision": c.VERY_SERIOUS}, 3, 0, "very low"),
        # 2 + 2 + 2 + 1 = 7 wanted, 3 applied (high → very low)
        (
            "high",
            {d: c.VERY_SERIOUS for d in ("risk_of_bias", "inconsistency", "indirectness")}
            | {"publication_bias": c.SUSPECTED},
            3,
            0,
            "very low",
        ),
        ("high", {"risk_of_bias": c.NOT_ASSESSED}, 0, 0, "high"),  # not assessed never rates down
    ],
)
def test_certainty_from_its_start_down_to_the_floor(start, levels, down, up, certainty):
    got_down, got_up, level, reason = c.certainty_of(_judged(**levels), start)
    assert (got_down, got_up, level) == (down, up, certainty)
    assert reason.startswith(f"starts at {start} ({c.STARTS[start]}); ")
    assert f"→ {certainty}" in reason
    wanted = sum(c.RATE_DOWN[v] for d, v in levels.items() if d != "dose_response")
    assert (f"({wanted} levels in all: stops at very low)" in reason) == (wanted > down)


@pytest.mark.parametrize(
    "start, ceiling, levels, certainty",
    [
        # provisional, nothing rated down: high is capped at moderate (the default), not rated down
        ("high", "moderate", {}, "moderate"),
        ("high", "high", {}, "high"),  # no cap
        ("high", "low", {}, "low"),
        # rated down below the ceiling already: no cap
        ("high", "moderate", {"imprecision": c.VERY_SERIOUS}, "low"),
        ("low", "moderate", {}, "low"),
    ],
)
def test_a_provisional_cell_reaches_at_most_the_ceiling(start, ceiling, levels, certainty):
    j = _judged(**levels) | {"risk_of_bias": c.Judgement(c.NOT_ASSESSED, "", provisional=True)}
    down, _, level, reason = c.certainty_of(j, start, ceiling)
    assert level == certainty and down == sum(c.RATE_DOWN[v] for v in levels.values())
    capped = c.LEVELS.index(ceiling) < c.LEVELS.index(start) - down
    assert (f"at most {ceiling} while provisional" in reason) == capped
    assert reason.count(f"→ {certainty}") == 1
    # not provisional: no cap
    assert c.certainty_of(_judged(**levels), start, ceiling)[2] == c.LEVELS[c.LEVELS.index(start) - down]


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
    # design rule (the shipped config's): a retrospective (0), b prospective (2); c has no row
    rob = pd.DataFrame(dict(study_id=["a", "b"], prospective_collection=["0", "2"], overall=["high", "low"]))
    return pooled, studies, rob


def test_summary_of_findings_rows_and_overrides():
    pooled, studies, rob = _tables()
    sof = c.summary_of_findings(pooled, studies, rob, None, GRADE)
    assert list(sof.columns) == list(c.COLUMNS)
    liver, lung = sof.iloc[0], sof.iloc[1]
    # liver: a (retrospective, serious) carries 40% ≥ 25% → serious; b prospective
    assert liver["risk_of_bias"] == c.SERIOUS and liver["risk_of_bias_reason"].startswith("40% of the weight")
    assert not liver["provisional"]
    # lung: c has no row → not assessed, not rated down, provisional
    assert lung["risk_of_bias"] == c.NOT_ASSESSED and lung["provisional"]
    assert lung["inconsistency"] == c.NOT_ASSESSABLE
    # lung's own CI 77-96% is 19 points wide (≤ 20) and N = 40 ≥ the OIS at 90% (1.96² · 0.09 / 0.01 = 34.6 → 35):
    # not serious by its interval, but a single study is rated down one level (single_study: serious) → moderate
    assert lung["imprecision"] == c.SERIOUS and "is 19.0 points wide (at most 20.0)" in lung["imprecision_reason"]
    assert lung["certainty"] == "moderate" and "provisional" in lung["certainty_reason"]
    # judged on its interval alone (single_study: own_interval) it would be high, capped at moderate while
    # provisional (the default provisional_ceiling), and high only with the cap lifted
    grade = copy.deepcopy(GRADE)
    grade["imprecision"]["single_study"] = "own_interval"
    capped = c.summary_of_findings(pooled, studies, rob, None, grade)
    assert capped.iloc[1]["certainty"] == "moderate" and capped.iloc[1]["rated_down"] == 0
    assert "no change → high; at most moderate while provisional: high certainty" in capped.iloc[1]["certainty_reason"]
    # the summary-of-findings table says why it is not high: a footnote of its own
    from sbrtmeta.report.certainty_section import summary_of_findings_table

    table, notes = summary_of_findings_table(capped.iloc[1:])
    assert table.iloc[0, 4] == "⊕⊕⊕◯ MODERATE (provisional) a,b"
    assert notes[1] == (
        "b. Certainty at most moderate while provisional (grade.risk_of_bias.provisional_ceiling): high certainty "
        "needs the risk of bias judged; a cap, not a rating down"
    )
    grade["risk_of_bias"]["provisional_ceiling"] = "high"
    assert c.summary_of_findings(pooled, studies, rob, None, grade).iloc[1]["certainty"] == "high"
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
    assert "MINORS" in text and "serious when at least 25% of the cell's weight" in text
    assert (
        "The evidence starts at high (for a question of prognosis, observational evidence" in text and "Iorio" in text
    )
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


# The outputs of the two rules of certainty.smk (the example config's run is the session's: tests/conftest.py).
TARGETS = (
    "results/tables/summary_of_findings.csv",
    "results/tables/risk_of_bias.csv",
    "results/report/methods.md",
    "results/report/prisma_checklist.md",
)


@pytest.mark.workflow
def test_example_config_shows_every_judgement_level(example_run):
    sof = pd.read_csv(example_run / "results/tables/summary_of_findings.csv")
    for domain, levels in c.DOMAIN_JUDGEMENTS.items():
        # a cell of only studies not assessed (risk of bias not assessed) is in the unit tests above
        assert set(sof[domain]) == set(levels) - {c.NOT_ASSESSED}, domain
    assert set(sof["certainty"]) == {"very low", "low", "moderate"}  # high: not reachable from low with one upgrade
    rob = pd.read_csv(example_run / "results/tables/risk_of_bias.csv")
    assert rob.set_index("study_id").loc["ex-03", "overall"] == "not assessed"
    for name in ("methods.md", "prisma_checklist.md"):
        assert (example_run / "results/report" / name).stat().st_size > 1000
    assert (example_run / "results/figures/risk_of_bias/risk_of_bias_traffic_light.png").exists()


@pytest.mark.workflow
def test_a_changed_threshold_or_override_reruns_only_the_certainty_step(example_run, tmp_path):
    """A GRADE threshold or override: only `certainty` is planned for its outputs (report_summary,
    which reads summary_of_findings.csv, follows from that changed input)."""
    example_run = copy_run(example_run, tmp_path / "project")
    path = example_run / "config/examples/config.yaml"
    original = path.read_text()
    try:
        for old, new in [("margin: 0.1", "margin: 0.05"), ("of the imprecision rule}", "of the imprecision rule!}")]:
            path.write_text(original.replace(old, new, 1))
            proc = run_snakemake(
                example_run, "-n", *TARGETS, "--quiet", "rules", "--configfile", "config/examples/config.yaml"
            )
            assert proc.returncode == 0, proc.stderr[-2000:]
            assert set(job_stats(proc.stdout + proc.stderr)) == {"certainty"}, new
    finally:
        path.write_text(original)


def test_report_summary_reads_the_summary_of_findings():
    rules = (ROOT / "workflow/rules/report.smk").read_text()
    assert "sof=rules.certainty.output.table" in rules


def test_summary_section_in_gradepro_layout_with_footnotes_and_statements():
    """Hand-derived from _tables() and the shipped rules (start high):
    liver: a (retrospective, 40% of the weight) → risk of bias serious (40% ≥ 25%); the prediction
    interval 60-95% spans 35 points (≥ 30) → inconsistency serious; 40% mixed < 50% → indirectness not
    serious; CI 70-88% is 18 points (≤ 20) and N = 100 ≥ OIS 62 (1.96² · 0.8 · 0.2 / 0.1² = 61.5) → not
    serious; k = 2 < 10 → publication bias not assessable. high − 1 − 1 = low, footnotes a, b.
    lung: c has no row → risk of bias not assessed (100%), provisional; indirectness overridden to
    serious → high − 1 = moderate (provisional), footnotes c (the override), d (why provisional); its single
    study is judged on its own interval here (single_study: own_interval: CI 77-96% is 19 points, N = 40 ≥ OIS 35)."""
    from sbrtmeta.report.certainty_section import certainty_lines, letters, summary_of_findings_table

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
    grade["imprecision"]["single_study"] = "own_interval"
    sof = c.summary_of_findings(pooled, studies, rob, None, grade)
    assert list(sof["certainty"]) == ["low", "moderate"] and list(sof["provisional"]) == [False, True]
    table, notes = summary_of_findings_table(sof)
    assert table.iloc[0].tolist() == [
        "Local control at 24 months",
        "Liver, colorectal",
        "100 (2 studies)",
        "80.0 [70.0, 88.0]",
        "⊕⊕◯◯ LOW a,b",
        "Local control at 24 months after SBRT of liver metastases (colorectal) may be about 80%.",
    ]
    assert table.iloc[1].tolist()[2:] == [
        "40 (1 study)",
        "90.0 [77.0, 96.0]",
        "⊕⊕⊕◯ MODERATE (provisional) c,d",
        "Local control at 24 months after SBRT of lung metastases (colorectal) is probably about 90%. "
        "Provisional: the risk of bias of most of this evidence was not assessed.",
    ]
    starts = [
        "a. Risk of bias: serious: 40% of the weight",
        "b. Inconsistency: serious: I² = 10%",
        "c. Indirectness: serious: overridden in config",
        "d. Risk of bias: not assessed (provisional): no study",
    ]
    assert len(notes) == 4 and all(n.startswith(s) for n, s in zip(notes, starts)), notes
    # two rows with the same reasons share their letters
    twice, twice_notes = summary_of_findings_table(pd.concat([sof.iloc[:1], sof.iloc[:1]]))
    assert list(twice.iloc[:, 4]) == ["⊕⊕◯◯ LOW a,b"] * 2 and len(twice_notes) == 2
    very_low = sof.iloc[:1].assign(certainty="very low")
    assert summary_of_findings_table(very_low)[0].iloc[0, 4].startswith("⊕◯◯◯ VERY LOW")
    assert summary_of_findings_table(very_low)[0].iloc[0, 5] == (
        "The evidence is very uncertain about local control at 24 months after SBRT of liver metastases (colorectal)."
    )
    assert letters(28)[-3:] == ["z", "aa", "ab"]
    rob_table = pd.DataFrame(
        dict(
            study_id=["a", "b", "c"],
            label=["A [1]", "B [2]", "C [3]"],
            tool="MINORS",
            overall=["high", "low", "not assessed"],
            assessed=[True, True, False],
        )
    )
    lines = certainty_lines(sof, rob_table, level=0.95)
    text = "\n".join(lines)
    assert lines[2].startswith("Risk of bias (MINORS, results/tables/risk_of_bias.csv): 3 studies in the data, 2 with")
    assert "overall judgement: low 1; high 1; not assessed 1. Not assessed (no row): C [3]." in lines[2]
    assert "| Outcome | Metastases | № of participants (studies) | Rate, % (95% CI) |" in text
    assert "| liver | colorectal | Local control at 24 months | serious | serious | not serious | not serious |" in text
    assert certainty_lines(sof.iloc[:0])[2] == "No pooled result, so no certainty was rated."


def _shipped_rob_table():
    """A risk-of-bias table like the shipped one: item 3 scored for 2 studies, not reported for 1; item 6 for
    1; every other item and every overall judgement not assessed."""
    from sbrtmeta.data.risk_of_bias import TOOLS

    table = pd.DataFrame({col: ["not assessed"] * 3 for col in TOOLS["MINORS"].columns})
    table["prospective_collection"] = ["0", "2", "not reported"]
    table["appropriate_follow_up"] = ["1", "not assessed", "not assessed"]
    return table.assign(study_id=["a", "b", "c"], overall="not assessed", tool="MINORS")


def test_methods_say_what_was_assessed_the_kaplan_meier_step_and_the_tolerances():
    text = methods_markdown(CONFIG, {"Python": "3.x"}, _shipped_rob_table())
    assert (
        "The sheet scores item 3 (prospective collection of data) for 2 of 3 studies, not reported for 1; item 6 "
        "(follow-up period appropriate to the aim of the study) for 1 of 3 studies. Items 1, 2, 4, 5, 7, 8 were not "
        "assessed for any study. 0 of 3 studies have an overall judgement (low, some concerns, high); the rest are "
        "not assessed." in text
    )
    assert "with an overall judgement" not in text
    # without the run's per-result judgements (follow_up_by_result), item 6 is the sheet's alone, said so
    assert "Item 6 (follow-up appropriate to the aim) is the sheet's judgement, as its source column states." in text
    assert "judges it again" not in text
    assert "The sheet names no assessors" in text
    named = copy.deepcopy(CONFIG)
    named["data"]["risk_of_bias"]["assessors"] = ["A. Author", "B. Author"]
    assert "Assessed by A. Author and B. Author." in methods_markdown(named, {"Python": "3.x"})
    assert "events = rate × n" in text and "ignores censoring" in text and "No censoring-aware" in text
    assert "to 1e-6 relative (tests/metafor/)" not in text and "1e-3 (standard error, p-values)" in text
    assert "regression test for funnel asymmetry with predictor ninv" in text  # the shipped predictor: 1/n
    assert "funnel plots of the cells of at least 3 studies" in text and "in cells of at least 10 studies" in text
    assert "Egger" not in text


def test_prisma_items_partly_covered_say_what_is_missing():
    text = prisma_markdown(CONFIG, _shipped_rob_table())
    rows = {line.split(" | ")[1]: line for line in text.splitlines() if line.startswith("| ")}
    # 8 items × 3 studies = 24 judgements: items 1, 2, 4, 5, 7, 8 not assessed (18) and item 6 for b and c (2)
    assert rows["11"].endswith(
        "| partly: missing 20 of 24 item judgements and 3 of 3 overall judgements are not assessed in the sheet |"
    )
    for item in ("9", "16a", "23b"):
        assert "| partly: missing " in rows[item], item
    assert rows["12"].endswith("| covered by the workflow |") and "Egger" not in rows["14"]
    no_sheet = copy.deepcopy(CONFIG)
    del no_sheet["data"]["risk_of_bias"]
    assert "| partly: missing no risk-of-bias sheet" in prisma_markdown(no_sheet)
    assert "items are covered by a file, 4 partly" in text


def test_weighted_risk_of_bias_per_pooled_result():
    """Hand-derived from _tables() with the design rule: liver: a (retrospective, serious) 40%, b
    (prospective, not serious) 60%; lung: c has no row, 100% not assessed. The plot draws one bar segment
    per non-empty share, and an empty run draws an empty plot."""
    from sbrtmeta.plots.risk_of_bias import weighted_summary

    pooled, studies, rob = _tables()
    shares = c.concern_weights(pooled, studies, c.study_concerns(rob, "design"))
    assert shares[list(c.CONCERN_ORDER)].to_numpy().tolist() == [[60.0, 40.0, 0.0, 0.0], [0.0, 0.0, 0.0, 100.0]]
    fig = weighted_summary(shares, "rule design", ["liver", "lung"])
    gids = [p.get_gid() for p in fig.axes[0].patches]
    assert gids == ["weighted:0:not serious", "weighted:0:serious", "weighted:1:not assessed"]
    empty = c.concern_weights(pooled.iloc[:0], studies, {})
    assert len(empty) == 0 and not weighted_summary(empty, "rule design", []).axes[0].patches


def test_the_weighted_table_is_what_certainty_figures_draws(tmp_path):
    """Issue 23 item 5: rule certainty writes the shares as risk_of_bias_weighted.csv (with the rule), and rule
    certainty_figures draws that table as read back: the same bars and note as drawn from the shares in memory;
    a table with no row (nothing pooled) draws an empty plot that says so."""
    from sbrtmeta.plots.risk_of_bias import weighted_summary
    from sbrtmeta.steps.certainty import weighted_risk_of_bias
    from sbrtmeta.steps.certainty_figures import certainty_figures
    from sbrtmeta.steps.runner import read_result, write_table

    pooled, studies, rob = _tables()
    config = {"grade": {"risk_of_bias": {"rule": "design"}}}
    table = weighted_risk_of_bias(pooled, studies, rob, config)
    assert list(table["rule"]) == ["design"] * 2
    write_table(table, str(tmp_path / "risk_of_bias_weighted.csv"))
    ((stem, fig),) = certainty_figures(read_result(str(tmp_path / "risk_of_bias_weighted.csv")))
    shares = c.concern_weights(pooled, studies, c.study_concerns(rob, "design"))
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    direct = weighted_summary(shares, f"rule design, {c.RULES['design']}", labels)
    assert stem == "risk_of_bias_weighted"
    assert [p.get_gid() for p in fig.axes[0].patches] == [p.get_gid() for p in direct.axes[0].patches]
    assert [p.get_width() for p in fig.axes[0].patches] == [p.get_width() for p in direct.axes[0].patches]
    assert [t.get_text() for t in fig.texts] == [t.get_text() for t in direct.texts]
    write_table(table.iloc[:0], str(tmp_path / "empty.csv"))
    ((_, empty),) = certainty_figures(read_result(str(tmp_path / "empty.csv")))
    assert not empty.axes[0].patches and "no pooled result" in " ".join(t.get_text() for t in empty.texts)


def test_the_shipped_result():
    """The shipped data and config, in process (cleanup → inclusion → pooling → risk of bias → GRADE): no
    risk-of-bias rating rests on "not assessed" counted as high, and the cells resting on it are marked
    provisional; Kim 2009 (lymph node, n = 7, the only study of its cells) is rated down for imprecision;
    lung sarcoma OS at 60 months (N = 94, OIS 96) loses one level for imprecision, not two; no row is rated
    down below the floor."""
    from sbrtmeta.analysis.pooling import PoolingOptions
    from sbrtmeta.steps.apply_inclusion import apply_inclusion
    from sbrtmeta.steps.clean_extraction import clean_extraction
    from sbrtmeta.steps.pool import pool
    from sbrtmeta.steps.risk_of_bias import risk_of_bias

    data, inc = CONFIG["data"], CONFIG["inclusion"]
    tidy = clean_extraction(
        [str(ROOT / s) for s in data["sheets"]], str(ROOT / data["corrections"]), CONFIG["cleanup"], []
    )
    included, excluded = apply_inclusion(tidy, inc)
    t = pool(included, excluded, PoolingOptions.from_config(validated(CONFIG)), inc["sites"], inc["endpoints"])
    rob = risk_of_bias(tidy, dict(data["risk_of_bias"], path=str(ROOT / data["risk_of_bias"]["path"])))
    sof = c.summary_of_findings(
        t.pooled,
        t.studies,
        rob,
        None,
        GRADE,
        CONFIG["pooling"]["level"],
        "",
        CONFIG["sensitivity"]["funnel"]["predictor"],
    )
    assert len(sof) == 20 and set(sof["start"]) == {"high"}
    shares = c.concern_weights(t.pooled, t.studies, c.study_concerns(rob, "design"))
    unassessed = shares[c.NOT_ASSESSED].to_numpy()
    serious = (shares[c.SERIOUS] + shares[c.VERY_SERIOUS]).to_numpy()
    # a serious rating stands on assessed retrospective weight alone (≥ 25%), never on not-assessed weight
    rated = sof["risk_of_bias"].isin([c.SERIOUS, c.VERY_SERIOUS]).to_numpy()
    assert (serious[rated] >= 25).all()
    assert list(sof["risk_of_bias"] == c.NOT_ASSESSED) == list(np.isclose(unassessed, 100))
    assert (sof["provisional"].to_numpy() == (unassessed >= 50)).all() and sof[
        "provisional"
    ].sum() == 15  # all but the 5 liver and lung colorectal cells
    assert set(sof.loc[sof["provisional"], "risk_of_bias"]) == {c.NOT_ASSESSED}
    kim = sof[sof["site"] == "lymph node"]
    assert list(kim["imprecision"]) == [c.VERY_SERIOUS] * 2 and list(kim["certainty"]) == ["low"] * 2
    os60 = sof[(sof["site"] == "lung") & (sof["histology"] == "sarcoma") & (sof["endpoint"] == "OS")]
    os60 = os60[os60["timepoint_months"] == 60].iloc[0]
    assert os60["n_total"] == 94 and os60["imprecision"] == c.SERIOUS and os60["certainty"] == "moderate"
    assert sof["rated_down"].max() == 3 and set(sof["dose_response"]) == {c.NO_UPGRADE}
    # every single study is rated down at least one level for imprecision (GRADE 6, the KCE process book), and
    # a provisional cell reaches at most moderate: no single unassessed study comes out at high
    single = sof[sof["k"] == 1]
    assert len(single) == 12 and set(single["imprecision"]) <= {c.SERIOUS, c.VERY_SERIOUS}
    assert "high" not in set(sof.loc[sof["provisional"], "certainty"])
    lc = sof[(sof["site"] == "lung") & (sof["histology"] == "sarcoma") & (sof["endpoint"] == "LC") & (sof["k"] == 1)]
    assert list(lc["timepoint_months"]) == [12, 36, 60] and list(lc["certainty"]) == ["moderate"] * 3
    assert sof["certainty"].value_counts().to_dict() == {"very low": 11, "moderate": 7, "low": 2}
