"""The profile likelihood of α/β (issue 25 item 6): stats.alpha_beta_profile.profile_alpha_beta against metafor
5.1-12 (tests/fixtures/metafor_alpha_beta.csv from tests/metafor/make_alpha_beta_fixtures.R), a known α/β
recovered from synthetic data, and a flat profile said to be so."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sbrtmeta.stats.alpha_beta_profile import alpha_beta_grid, profile_alpha_beta
from sbrtmeta.stats.dose_response import fit_dose_response

FIX = Path(__file__).parent / "fixtures"
ARMS = pd.read_csv(FIX / "alpha_beta_arms.csv")
EXPECTED = pd.read_csv(FIX / "metafor_alpha_beta.csv")


def _data(name: str) -> pd.DataFrame:
    return ARMS if name == "multilevel" else ARMS.drop_duplicates("study")


def _profile(d: pd.DataFrame, grid=None):
    D, f = d["total_gy"].to_numpy(float), d["fractions"].to_numpy(float)
    bed_at = lambda ab: D * (1 + D / f / ab)  # noqa: E731
    return profile_alpha_beta(d["events"], d["n"], bed_at, d["study"], d["arm"], grid=grid), bed_at


@pytest.mark.parametrize("name", ["multilevel", "two_level"])
def test_profile_equals_metafor(name):
    rows = EXPECTED[EXPECTED.dataset == name]
    value = dict(zip(rows.quantity, rows.value))
    points = rows[rows.quantity == "loglik"]
    prof, _ = _profile(_data(name), grid=np.r_[1.0, points.alpha_beta.to_numpy(float), 100.0])
    assert prof.model.startswith(name.replace("_", "-") if name == "two_level" else "multilevel")
    got = dict(zip(prof.alpha_beta, prof.loglik))
    for r in points.itertuples():
        assert got[r.alpha_beta] == pytest.approx(r.value, rel=1e-6)
    assert prof.loglik_max == pytest.approx(value["loglik_max"], rel=1e-8)
    assert prof.ci_low == pytest.approx(value["ci_low"], rel=1e-6)
    assert prof.ci_high == pytest.approx(value["ci_high"], rel=1e-6)
    assert prof.estimate == pytest.approx(value["estimate"], rel=1e-6)  # 5e-7 at the flat top (location ~ sqrt(eps))
    assert prof.identifiable


def test_profile_points_are_the_ml_fits():
    d = _data("multilevel")
    prof, bed_at = _profile(d)
    assert prof.alpha_beta.size == 100 and prof.alpha_beta[0] == 1 and prof.alpha_beta[-1] == pytest.approx(100)
    for i in (0, 37, 99):
        ab = prof.alpha_beta[i]
        fit = fit_dose_response(d["events"], d["n"], bed_at(ab), d["study"], d["arm"], tau2_method="ML")
        assert prof.loglik[i] == pytest.approx(fit.loglik, rel=1e-10)
    at = fit_dose_response(d["events"], d["n"], bed_at(prof.estimate), d["study"], d["arm"])
    assert prof.fit.slope == pytest.approx(at.slope, rel=1e-12)  # REML at the estimate, as configured
    assert np.all(prof.deviance >= -1e-9)


def test_known_alpha_beta_is_recovered():
    """300 arms of 120 studies, 1 to 10 fractions, true α/β 15 Gy: the estimate is near 15, its interval
    covers it and is closed."""
    rng = np.random.default_rng(7)
    k, n_studies = 300, 120
    study = np.sort(rng.integers(0, n_studies, k))
    n, f = rng.integers(40, 200, k), rng.choice([1, 3, 5, 8, 10], k)
    d = rng.uniform(4, 25, k) * np.where(f == 1, 1.3, 1.0) / np.sqrt(f / 3)
    bed_at = lambda ab: d * f * (1 + d / ab)  # noqa: E731
    eta = -6.5 + 1.3 * np.log(bed_at(15.0)) + rng.normal(0, 0.2, n_studies)[study] + rng.normal(0, 0.1, k)
    events = rng.binomial(n, 1 / (1 + np.exp(-eta)))
    prof = profile_alpha_beta(events, n, bed_at, study, np.arange(k))
    assert prof.identifiable and prof.ci_low < 15 < prof.ci_high
    assert prof.estimate == pytest.approx(15, rel=0.1)
    assert prof.fit.slope == pytest.approx(1.3, rel=0.15)


def test_flat_profile_is_not_identifiable():
    """Three arms: the profile stays within the χ² cutoff over the whole grid, so the interval is the grid."""
    d = ARMS.drop_duplicates("study").iloc[:3]
    prof, _ = _profile(d)
    assert not prof.identifiable and not prof.bounded_low and not prof.bounded_high
    assert (prof.ci_low, prof.ci_high) == (1.0, pytest.approx(100.0))
    assert prof.deviance.max() < prof.cutoff


def test_grid_is_checked():
    with pytest.raises(ValueError, match="grid"):
        alpha_beta_grid(10, 1)


# --------------------------------------------------------------------------- the workflow's step, report, methods

DOSE = dict(
    endpoint="LC",
    timepoint_months=24.0,
    time="timepoint",
    scale="log",
    tau2_method="REML",
    ci_method="z",
    level=0.95,
    target_lc=0.9,
    min_arms=3,
    alpha_beta=10,
    dose_rule="median_or_midpoint",
    alpha_beta_mode="profile",
    alpha_beta_grid=dict(low=1, high=100, points=100),
)


def _arms_table() -> pd.DataFrame:
    """alpha_beta_arms.csv as dose_response_arms.csv has it: every arm's printed dose, two sites (odd studies
    lung), BED10 from the dose."""
    a = ARMS.copy()
    lung = a["study"].str[1:].astype(int) % 2 == 1
    return pd.DataFrame(
        {
            "study_id": a["study"],
            "arm": a["arm"],
            "site": np.where(lung, "lung", "liver"),
            "histology": "colorectal",
            "dose_text": [f"{d:g}/{int(f)}" for d, f in zip(a["total_gy"], a["fractions"])],
            "bed10": a["total_gy"] * (1 + a["total_gy"] / a["fractions"] / 10),
            "events": a["events"],
            "n": a["n"],
            "converted": False,
        }
    )


def test_step_profiles_every_dose_response_model():
    from sbrtmeta.analysis.alpha_beta import PROFILE_COLUMNS, bed_function
    from sbrtmeta.steps.alpha_beta_profile import alpha_beta_profile
    from sbrtmeta.steps.alpha_beta_profile_figures import alpha_beta_profile_figures

    arms = _arms_table()
    assert np.allclose(bed_function(arms, "median_or_midpoint")(10.0), arms["bed10"], rtol=1e-12)
    out = alpha_beta_profile(arms, DOSE)
    t = out.table
    assert list(t.columns) == list(PROFILE_COLUMNS)
    assert list(t["profile"].unique()) == [
        "liver (colorectal)",
        "lung (colorectal)",
        "across sites: liver + lung (colorectal)",
    ]
    assert t.groupby("profile").size().to_dict()["across sites: liver + lung (colorectal)"] == 2  # a row per site
    assert len(out.points) == 3 * 100 and out.points["deviance"].min() >= -1e-9
    liver = t[t["profile"] == "liver (colorectal)"].iloc[0]
    sub = arms[arms["site"] == "liver"]
    D, f = ARMS.loc[sub.index, "total_gy"].to_numpy(float), ARMS.loc[sub.index, "fractions"].to_numpy(float)
    direct = profile_alpha_beta(
        sub["events"], sub["n"], lambda ab: D * (1 + D / f / ab), sub["study_id"], sub["arm"], fixed=10.0
    )
    assert liver["alpha_beta"] == pytest.approx(direct.estimate, rel=1e-12)
    assert liver["p_fixed"] == pytest.approx(direct.p_fixed, rel=1e-9)
    for r in t.itertuples():
        assert (r.identifiable and r.note.find("not identifiable") < 0) or "not identifiable" in r.note
    figure = alpha_beta_profile_figures(out.table, out.points)  # (rule alpha_beta_profile_figures: the tables)
    texts = " ".join(x.get_text() for x in figure.findobj(lambda o: hasattr(o, "get_text")))
    assert "Klement et al., Radiother Oncol 2017;123:218" in texts and "configured α/β = 10 Gy" in texts


def test_flat_profile_is_said_in_table_and_summary():
    from sbrtmeta.report.alpha_beta_section import alpha_beta_section
    from sbrtmeta.steps.alpha_beta_profile import alpha_beta_profile

    arms = _arms_table().drop_duplicates("study_id").iloc[:3].assign(site="liver")
    t = alpha_beta_profile(arms, DOSE).table
    assert len(t) == 1 and not t["identifiable"].iloc[0]
    assert (
        t["note"]
        .iloc[0]
        .startswith(
            "α/β is not identifiable from these data: the likelihood-ratio statistic does not reach its 95% cutoff"
        )
    )
    assert "likelihood-ratio interval from below 1 to above 100 Gy" in t["note"].iloc[0]
    lines = alpha_beta_section(t)
    assert lines[0] == "### α/β from the data (profile likelihood)"
    assert (
        "- liver (colorectal): α/β is not identifiable from these data (likelihood-ratio interval from below 1 to "
        "above 100 Gy)." in lines
    )
    assert alpha_beta_section(None) == []


def test_time_model_has_no_profile():
    from sbrtmeta.steps.alpha_beta_profile import alpha_beta_profile
    from sbrtmeta.steps.alpha_beta_profile_figures import alpha_beta_profile_figures

    out = alpha_beta_profile(_arms_table(), dict(DOSE, time="model"))
    assert out.table.empty and out.points.empty
    texts = [x.get_text() for x in alpha_beta_profile_figures(out.table, out.points, "model").texts]
    assert any("with time: model it is not computed" in x.replace("\n", " ") for x in texts)


def test_methods_name_the_profile_only_when_configured():
    from sbrtmeta.report.methods import _alpha_beta_profile

    assert _alpha_beta_profile(dict(DOSE, alpha_beta_mode="fixed")) == ""
    text = _alpha_beta_profile(DOSE)
    assert "profile likelihood over 100 values log-spaced from 1 to 100 Gy" in text
    assert "Klement et al. (Radiother Oncol 2017;123:218" in text


@pytest.mark.workflow
def test_profile_mode_on_the_shipped_run(shipped_run, tmp_path):
    """alpha_beta_mode: profile in a copy of the session's shipped run: only the profile and the summary are
    made (the dose-response table is not refitted and stays byte-identical); the shipped arms do not identify
    α/β, and the table, the summary and the figure say so with the interval."""
    from project_copy import copy_run, run_snakemake

    work = copy_run(shipped_run.work, tmp_path / "project")
    (work / "mine.yaml").write_text("dose_response:\n  alpha_beta_mode: profile\n", encoding="utf-8")
    targets = ("results/tables/alpha_beta_profile.csv", "results/report/summary.md")
    plan = run_snakemake(work, *targets, "-n", "--cores", "1", "--quiet", "rules", "--configfile", "mine.yaml")
    assert plan.returncode == 0, plan.stderr[-3000:]
    assert "dose_response " not in plan.stdout + plan.stderr and "alpha_beta_profile" in plan.stdout + plan.stderr
    proc = run_snakemake(work, *targets, "--cores", "2", "--configfile", "mine.yaml")
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = work / "results"
    shipped = shipped_run.work / "results" / "tables" / "dose_response.csv"
    assert (results / "tables" / "dose_response.csv").read_bytes() == shipped.read_bytes()
    table = pd.read_csv(results / "tables" / "alpha_beta_profile.csv")
    assert set(table["profile"]) == {
        "liver (colorectal)",
        "lung (colorectal)",
        "across sites: liver + lung (colorectal)",
    }
    assert not table["identifiable"].any() and (table["alpha_beta_ci_low"] == 1).all()
    assert table["note"].str.startswith("α/β is not identifiable from these data").all()
    summary = (results / "report" / "summary.md").read_text(encoding="utf-8")
    assert "### α/β from the data (profile likelihood)" in summary
    assert (
        "- lung (colorectal): α/β is not identifiable from these data (likelihood-ratio interval from below 1"
        in summary
    )
    assert "](../figures/alpha_beta_profile/alpha_beta_profile.png)" in summary
    assert (results / "figures" / "alpha_beta_profile" / "alpha_beta_profile.png").stat().st_size > 10_000
