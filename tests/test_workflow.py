"""End to end: `snakemake` on the shipped data in a temporary copy of the project.

REGRESSION CHECKS (replay): the rows these tests pool, and the dose-response arms, are compared
with tests/fixtures/metafor_inputs.csv and dose_response_inputs.csv, which `make fixtures` builds
from an earlier run's included.csv and outcomes.csv. They catch a change in which rows the
workflow selects, not a selection that was already wrong. Which rows should be included is
checked by reasoning in tests/test_inclusion.py (hand-written expectations on a purpose-built
sheet) and BED10 in tests/test_dose_strings.py (every shipped dose string, worked out by hand);
the numbers pooled from the rows are metafor's.

The tests marked `workflow` read the session's one run of the shipped config (tests/conftest.py's
``shipped_run``), or a copy of it when they change something. The metafor checks of pooled.csv,
pooled_studies.csv, the leave-one-out and subgroup tables run in-process on the run's committed
included rows (tests/fixtures/workflow_included.csv), and test_workflow_tables_are_the_in_process_tables
ties the run's tables to those.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from project_copy import copy_project as _copy_project
from project_copy import copy_run
from project_copy import run_snakemake as _snakemake

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "tests" / "fixtures"
workflow = pytest.mark.workflow  # runs Snakemake (make test-fast leaves it out)


@pytest.fixture(scope="module")
def run(shipped_run):
    return shipped_run.work, shipped_run.proc


@workflow
def test_every_output_is_built(run):
    work, _ = run
    for rel in (
        "results/clean/outcomes.csv",
        "results/tables/included.csv",
        "results/tables/excluded.csv",
        "results/tables/pooled.csv",
        "results/tables/not_pooled.csv",
    ):
        assert (work / rel).stat().st_size > 0, rel
    pooled = pd.read_csv(work / "results/tables/pooled.csv")
    formats = yaml.safe_load((work / "config/config.yaml").read_text(encoding="utf-8"))["figures"]["formats"]
    cfg = yaml.safe_load((work / "config/config.yaml").read_text(encoding="utf-8"))
    # a funnel plot where a site has sensitivity.funnel.min_studies.plot studies or more (issue 22), a forest everywhere
    funnels = pooled.loc[pooled.k >= cfg["sensitivity"]["funnel"]["min_studies"]["plot"]]
    for kind, cells in (("forest", pooled), ("funnel", funnels)):
        for endpoint, t in cells[["endpoint", "timepoint_months"]].drop_duplicates().itertuples(index=False):
            for ext in formats:
                assert (work / f"results/figures/{kind}/{kind}_{endpoint}_{t:g}m.{ext}").stat().st_size > 0


@workflow
def test_pooled_columns(run):
    pooled = pd.read_csv(run[0] / "results/tables/pooled.csv")
    required = (
        "site endpoint timepoint_months k n_total transform tau2_method ci_method estimate ci_low "
        "ci_high pi_low pi_high tau2 i2 q q_p"
    ).split()
    assert set(required) <= set(pooled.columns)


@workflow
def test_single_study_cells_report_the_study(run):
    pooled = pd.read_csv(run[0] / "results/tables/pooled.csv")
    single = pooled[pooled.k == 1]
    assert (single.model == "single study").all() and single.tau2.isna().all()


@workflow
def test_what_could_not_be_pooled_is_said(run):
    work, proc = run
    missing = pd.read_csv(work / "results/tables/not_pooled.csv")
    assert "spine" in set(missing.site)
    assert "NOT POOLED spine (colorectal) LC" in proc.stderr
    # the adrenal study the review cites without a sample size is excluded with its reason
    excluded = pd.read_csv(work / "results/tables/excluded.csv", dtype={"ref": str})
    ref98 = excluded[excluded.study_id == "crc2014-98"].iloc[0]
    assert ref98.criterion == "n_not_reported"


@workflow
def test_every_named_site_is_pooled_or_said_not_poolable(run):
    work, _ = run
    pooled = pd.read_csv(work / "results/tables/pooled.csv")
    missing = pd.read_csv(work / "results/tables/not_pooled.csv")
    for site in ("liver", "lung", "lymph node", "spine", "adrenal"):
        assert site in set(pooled.site) | set(missing.site), site
    lung = pooled[(pooled.site == "lung") & (pooled.timepoint_months == 24)]
    assert {"colorectal", "sarcoma"} <= set(lung.histology)


@workflow
def test_second_run_has_nothing_to_do(run):
    proc = _snakemake(run[0], "-n")
    assert proc.returncode == 0
    assert "Nothing to be done" in proc.stdout + proc.stderr


@workflow
def test_changing_a_criterion_reruns_only_what_depends_on_it(run, tmp_path):
    work = copy_run(run[0], tmp_path / "project")
    cfg_path = work / "config/config.yaml"
    cfg = yaml.safe_load(cfg_path.read_text())
    cfg["inclusion"]["min_n"] = 20
    cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    proc = _snakemake(work, "-n", "--quiet", "rules")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "apply_inclusion" in out and "pool" in out
    assert "clean_extraction" not in out


@workflow
def test_dose_response_table_and_figure(run):
    work = run[0]
    cfg = yaml.safe_load((work / "config/config.yaml").read_text())
    stem = f"dose_response_{cfg['dose_response']['endpoint']}_{cfg['dose_response']['timepoint_months']:g}m"
    for ext in cfg["figures"]["formats"]:
        assert (work / f"results/figures/dose_response/{stem}.{ext}").stat().st_size > 0
    table = pd.read_csv(work / "results/tables/dose_response.csv")
    left_out = pd.read_csv(work / "results/tables/dose_response_left_out.csv")
    assert left_out["reason"].str.len().gt(0).all()
    # every site with LC arms at the time point has a row, fitted or said not fitted
    arms = pd.read_csv(work / "results/tables/dose_response_arms.csv")
    assert set(zip(arms.site, arms.histology)) <= set(zip(table.site, table.histology))
    assert (table.slope.notna() | table.note.str.startswith("not fitted")).all()


@workflow
@pytest.mark.metafor
def test_dose_response_equals_metafor_on_the_same_arms(run):
    """The pipeline's arms are the fixture's `workflow` dataset, and its table is metafor's fit of them."""
    work = run[0]
    arms = pd.read_csv(work / "results/tables/dose_response_arms.csv")
    arms = arms[(arms.histology == "colorectal") & arms.site.isin(["liver", "lung"])]
    fx = pd.read_csv(FIX / "dose_response_inputs.csv")
    fx = fx[fx.dataset == "workflow"]
    # regression check (replay of an earlier run's arms and BED10); BED10 by hand: test_dose_strings.py
    assert list(zip(arms.study_id, arms.arm, arms.events, arms.n)) == list(zip(fx.study, fx.arm, fx.events, fx.n))
    assert arms.bed10.to_numpy() == pytest.approx(fx.bed10.to_numpy(), rel=1e-12)
    table = pd.read_csv(work / "results/tables/dose_response.csv")
    tcp = pd.read_csv(FIX / "metafor_dose_response_tcp.csv")
    tcp = tcp[(tcp.target_lc == 0.9) & (tcp.level == 0.95)]
    for model, subset in (("per site", "{site}"), ("across sites", "liver+lung")):
        for site in ("liver", "lung"):
            row = table[(table.model == model) & (table.site == site) & (table.histology == "colorectal")].iloc[0]
            ref = tcp[(tcp.fit_id == f"workflow | {subset.format(site=site)} | log | REML | z") & (tcp.site == site)]
            ref = ref.iloc[0]
            for ours, theirs in (
                ("slope", "b1"),
                ("bed50", "bed50"),
                ("bed50_ci_low", "bed50_ci_low"),
                ("bed50_ci_high", "bed50_ci_high"),
                ("gamma50", "gamma50"),
                ("bed_target", "bed_target"),
                ("bed_target_ci_low", "bed_target_ci_low"),
                ("bed_target_ci_high", "bed_target_ci_high"),
            ):
                assert row[ours] == pytest.approx(ref[theirs], rel=1e-6), (model, site, ours)


@workflow
def test_changing_alpha_beta_or_range_rule_reruns_only_the_dose_response(run, tmp_path):
    work = copy_run(run[0], tmp_path / "project")
    cfg_path = work / "config/config.yaml"
    original = cfg_path.read_text()
    for key, value in (("alpha_beta", 3), ("dose_rule", "maximum")):
        cfg = yaml.safe_load(original)
        cfg["dose_response"][key] = value
        try:
            cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False))
            proc = _snakemake(work, "-n", "--quiet", "rules")
            out = proc.stdout + proc.stderr
            assert proc.returncode == 0, out
            assert "dose_response" in out
            for other in ("clean_extraction", "apply_inclusion", "pool", "forest", "funnel"):
                assert other not in out.replace("dose_response", ""), (key, other, out)
        finally:
            cfg_path.write_text(original)


@workflow
def test_a_new_time_point_reruns_the_dose_response_table_asked_for(run, tmp_path):
    """`snakemake -n results/tables/dose_response.csv` said "Nothing to be done" after a change of
    dose_response.timepoint_months (plain `snakemake` rebuilt it): the figure's name held the time point,
    and Snakemake compares params only when every output has metadata. The figures are in a folder now."""
    work = copy_run(run[0], tmp_path / "project")
    cfg_path = work / "config/config.yaml"
    cfg = yaml.safe_load(cfg_path.read_text())
    cfg["dose_response"]["timepoint_months"] = 12
    cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    proc = _snakemake(work, "-n", "results/tables/dose_response.csv")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "rule dose_response:" in out and "Params have changed" in out, out[-3000:]
    assert "Nothing to be done" not in out and "missing provenance" not in out


@workflow
def test_no_arms_to_fit_is_said_not_failed(tmp_path):
    """A time point no arm reports: the dose-response step writes empty tables and a log line, its figure
    (rule dose_response_figures) says why, and the workflow does not fail."""
    work = _copy_project(tmp_path)
    cfg_path = work / "config/config.yaml"
    cfg = yaml.safe_load(cfg_path.read_text())
    cfg["dose_response"]["timepoint_months"] = 7
    cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    proc = _snakemake(work, "results/tables/dose_response.csv", "results/figures/dose_response")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert pd.read_csv(work / "results/tables/dose_response.csv").empty
    assert "no dose-response to fit" in (work / "results/logs/dose_response.log").read_text()
    assert (work / "results/figures/dose_response/dose_response_LC_7m.png").stat().st_size > 0


@workflow
def test_corrupted_cell_fails_with_one_line_and_no_results(tmp_path):
    work = _copy_project(tmp_path)
    raw = work / "data/raw/crc2014_extraction.csv"
    text = raw.read_text(encoding="utf-8")
    assert "57% (20)" in text
    raw.write_text(text.replace("57% (20)", "157% (20)", 1), encoding="utf-8")
    proc = _snakemake(work)
    assert proc.returncode != 0
    # one distinct error line (the default profile's show-failed-logs repeats the log once)
    lines = sorted({ln for ln in proc.stderr.splitlines() if "ERROR:" in ln})
    assert len(lines) == 1, proc.stderr[-3000:]
    assert "crc2014_extraction.csv, row 6, column 'lc_printed', value '157% (20)'" in lines[0]
    assert "outside 0-100" in lines[0]
    assert not (work / "results/clean/outcomes.csv").exists()
    assert not (work / "results/tables").exists()


@workflow
def test_misspelt_config_key_is_refused(tmp_path):
    work = _copy_project(tmp_path)
    cfg_path = work / "config/config.yaml"
    cfg_path.write_text(cfg_path.read_text().replace("min_n:", "minn:"))
    proc = _snakemake(work, "-n")
    assert proc.returncode != 0
    assert "'minn' was unexpected" in proc.stdout + proc.stderr


# --- the workflow's own tables against metafor ----------------------------------------------------
# tests/metafor/make_workflow_fixtures.R fits the rows of the shipped run (tests/fixtures/
# workflow_included.csv, from its included.csv) with metafor: escalc + Wald CI + weights for
# pooled_studies.csv, rma.glmm + predict for the GLMM rows of pooled.csv, leave1out for
# leave_one_out_<site>.csv and rma(mods = ~ factor(site)) for subgroup_tests.csv.
# The checks against metafor run in-process on those rows (the `tables` fixture: the functions the pool and
# leave_one_out rules call, with the settings the fixtures were fitted with, the shipped config's);
# test_workflow_rows_are_the_fixtures_rows and test_workflow_tables_are_the_in_process_tables tie the run to them.

WF_RTOL = 1e-6
CELL = ["site", "histology", "endpoint", "timepoint_months"]
# rma(measure = "PLO", method = "REML", test = "knha"), 95 %; study intervals binom.test's (Clopper-Pearson)
FITTED_WITH = dict(transform="PLO", tau2_method="REML", ci_method="knha", level=0.95, histology="review")


def _close(ours, theirs, what, rel=WF_RTOL, abs_=1e-10):
    assert ours == pytest.approx(theirs, rel=rel, abs=abs_, nan_ok=True), what


def fixture_rows() -> pd.DataFrame:
    """tests/fixtures/workflow_included.csv with the columns of included.csv that pooling reads (the labels'
    author, reference and arm are not in the fixture: blank, one arm)."""
    fx = pd.read_csv(FIX / "workflow_included.csv")
    return pd.DataFrame(
        dict(
            study_id=fx.study,
            ref="",
            first_author="",
            year=np.nan,
            arm="all",
            primary="",
            site=fx.site,
            histology=fx.histology,
            review_histology=fx.histology,
            endpoint=fx.endpoint,
            target_timepoint_months=fx.timepoint_months,
            events=fx.xi,
            n=fx.ni,
            rate=fx.xi / fx.ni,
        )
    )


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    """pooled, pooled_studies, every site's leave-one-out and the subgroup tests of the fixture rows, in-process."""
    from sbrtmeta.analysis.leave_one_out import leave_one_out_table
    from sbrtmeta.analysis.pooling import pool_cells, subgroup_differences

    rows, o = fixture_rows(), FITTED_WITH
    pooled, studies = pool_cells(
        rows, o["transform"], o["tau2_method"], o["ci_method"], o["level"], histology=o["histology"],
        study_ci="clopper-pearson",
    )  # fmt: skip
    sites = sorted(pooled.site.unique())
    loo = pd.concat([leave_one_out_table(pooled, studies, site, level=o["level"]) for site in sites])
    subgroups = subgroup_differences(rows, o["transform"], o["tau2_method"], o["ci_method"], o["level"], o["histology"])
    return dict(pooled=pooled, studies=studies, included=rows, leave_one_out=loo, subgroups=subgroups)


@workflow
def test_workflow_rows_are_the_fixtures_rows(run):
    # regression check (replay): the rows the R script fitted are the rows this run includes
    included = pd.read_csv(run[0] / "results/tables/included.csv")
    fx = pd.read_csv(FIX / "workflow_included.csv")
    assert list(zip(included.study_id, included.events, included.n)) == list(zip(fx.study, fx.xi, fx.ni))


# the rows' own histology (mixed primaries) and printed rate, which workflow_included.csv does not hold
NOT_IN_FIXTURE = {"k_mixed_primaries", "mixed_primaries", "rate"}


@workflow
def test_workflow_tables_are_the_in_process_tables(run, tables):
    """The run's pooled, pooled_studies, leave_one_out_<site> and subgroup tables hold the numbers of the
    in-process tables that the tests below compare with metafor (the run's rows are the fixture's: above)."""
    work = run[0]
    read = lambda name: pd.read_csv(work / "results/tables" / name)  # noqa: E731
    loo = pd.concat([pd.read_csv(p) for p in sorted((work / "results/tables").glob("leave_one_out_*.csv"))])
    pairs = {
        "pooled": (read("pooled.csv"), CELL),
        "studies": (read("pooled_studies.csv"), [*CELL, "study_id"]),
        "leave_one_out": (loo, [*CELL, "row", "study_id"]),
        "subgroups": (read("subgroup_tests.csv"), CELL[1:]),
    }
    for name, (ours, key) in pairs.items():
        theirs = tables[name]
        assert len(ours) == len(theirs) > 0, name
        ours, theirs = (t.fillna({"study_id": ""}).sort_values(key, ignore_index=True) for t in (ours, theirs))
        for column in theirs.columns:
            if pd.api.types.is_numeric_dtype(theirs[column]) and column in ours and column not in NOT_IN_FIXTURE:
                got, want = ours[column].to_numpy(float), theirs[column].to_numpy(float)
                assert got == pytest.approx(want, rel=1e-12, abs=1e-15, nan_ok=True), (name, column)
        for column in ("transform", "tau2_method", "ci_method", "model", "row", "test"):
            if column in theirs and column in ours:
                same = ours[column].fillna("").astype(str) == theirs[column].fillna("").astype(str)
                assert same.all(), (name, column)


@pytest.mark.metafor
def test_pooled_equals_metafor(tables):
    """pooled.csv = rma(measure="PLO", method="REML", test="knha") + predict() on the same rows."""
    pooled, included = tables["pooled"], tables["included"]
    inputs = pd.read_csv(FIX / "metafor_inputs.csv")
    ref = pd.read_csv(FIX / "metafor_rma.csv")
    ref = ref[
        (ref.measure == "PLO")
        & (ref.tau2_method == "REML")
        & (ref.ci_method == "knha")
        & ref.dataset.str.startswith("project:")
    ]
    fitted = pooled[pooled.k >= 2]
    assert len(fitted) == len(ref) > 0
    for r in fitted.itertuples():
        name = f"project:{r.site}:{r.histology}:{r.endpoint}:{r.timepoint_months:g}"
        cell = included[
            (included.site == r.site)
            & (included.review_histology == r.histology)
            & (included.endpoint == r.endpoint)
            & (included.target_timepoint_months == r.timepoint_months)
        ]
        fx = inputs[inputs.dataset == name]
        # regression check (replay of an earlier run's rows); the numbers below are metafor's
        assert sorted(zip(cell.study_id, cell.events, cell.n)) == sorted(zip(fx.study, fx.xi, fx.ni))
        m = ref[ref.dataset == name].iloc[0]
        assert r.k == m.k
        for ours, theirs in [
            (r.estimate, m.prop_estimate),
            (r.ci_low, m.prop_ci_low),
            (r.ci_high, m.prop_ci_high),
            (r.pi_low, m.prop_pi_low),
            (r.pi_high, m.prop_pi_high),
            (r.tau2, m.tau2),
            (r.i2, m.i2),
            (r.q, m.q),
            (r.q_p, m.q_p),
            (r.tau2_ci_low, m.tau2_ci_low),
            (r.tau2_ci_high, m.tau2_ci_high),
        ]:
            assert ours == pytest.approx(theirs, rel=1e-6, abs=1e-12)
        assert (r.transform, r.tau2_method, r.ci_method) == ("PLO", "REML", "knha")


@pytest.mark.metafor
def test_pooled_studies_equal_escalc_and_weights(tables):
    studies = tables["studies"]
    ref = pd.read_csv(FIX / "metafor_workflow_studies.csv").rename(columns={"study": "study_id"})
    assert len(studies) == len(ref) > 0
    both = studies.merge(ref, on=[*CELL, "study_id"], suffixes=("", "_ref"), validate="one_to_one")
    assert len(both) == len(ref)
    # the shipped study intervals are Clopper-Pearson (sensitivity.study_ci): binom.test's, from
    # tests/metafor/make_sensitivity_study_fixtures.R
    exact = pd.read_csv(FIX / "metafor_study_ci.csv").query("method == 'clopper-pearson' and level == 0.95")
    exact = exact.set_index(["xi", "ni"])
    for r in both.itertuples():
        assert (r.events, r.n) == (r.xi, r.ni) and r.study_ci == "clopper-pearson"
        for name in ("yi", "vi", "estimate", "weight_pct"):
            _close(getattr(r, name), getattr(r, f"{name}_ref"), (r.study_id, name))
        for name in ("ci_low", "ci_high"):
            _close(getattr(r, name), exact.loc[(r.xi, r.ni), name], (r.study_id, name))


@pytest.mark.metafor
def test_leave_one_out_tables_equal_leave1out(tables):
    ref = pd.read_csv(FIX / "metafor_workflow_leave1out.csv").rename(columns={"study": "study_id"})
    everyone = tables["leave_one_out"]
    omitted = everyone[everyone.row == "omitted"]
    assert len(omitted) == len(ref) > 0
    both = omitted.merge(ref, on=[*CELL, "study_id"], suffixes=("", "_ref"), validate="one_to_one")
    assert len(both) == len(ref)
    for r in both.itertuples():
        assert r.k == r.k_ref and (r.tau2_method, r.ci_method) == ("REML", "knha")
        for name in ("estimate", "ci_low", "ci_high", "tau2", "i2"):
            _close(getattr(r, name), getattr(r, f"{name}_ref"), (r.study_id, name), abs_=1e-8)
    # each cell's "all studies" row is its pooled.csv row (compared with rma in test_pooled_equals_metafor)
    everyone = everyone[everyone.row == "all"]
    both = everyone.merge(tables["pooled"], on=CELL, suffixes=("", "_pooled"), validate="one_to_one")
    assert len(both) == len(everyone) == ref.groupby(CELL).ngroups
    for r in both.itertuples():
        assert r.k == r.k_pooled
        for name in ("estimate", "ci_low", "ci_high", "tau2", "i2"):
            _close(getattr(r, name), getattr(r, f"{name}_pooled"), (r.site, r.endpoint, name), 1e-12, 1e-15)


@pytest.mark.metafor
def test_subgroup_tests_equal_rma_with_site_as_moderator(tables):
    table = tables["subgroups"]
    ref = pd.read_csv(FIX / "metafor_workflow_subgroups.csv")
    key = ["histology", "endpoint", "timepoint_months"]
    knha = ref[ref.ci_method == "knha"]
    assert len(table) == len(knha) > 0
    both = table.merge(knha, on=key, suffixes=("", "_ref"), validate="one_to_one")
    assert len(both) == len(knha)
    for r in both.itertuples():
        assert (r.sites, r.k, r.df1, r.df2, r.test) == (r.sites_ref, r.k_ref, r.df1_ref, r.df2_ref, "F")
        for name in ("qm", "p", "tau2"):
            _close(getattr(r, name), getattr(r, f"{name}_ref"), (r.endpoint, r.timepoint_months, name))
    # the same under z (Wald chi-square): the subgroup step on the same rows
    from sbrtmeta.analysis.pooling import subgroup_differences

    z = subgroup_differences(tables["included"], "PLO", "REML", "z")
    both = z.merge(ref[ref.ci_method == "z"], on=key, suffixes=("", "_ref"), validate="one_to_one")
    assert len(both) == len(knha)
    for r in both.itertuples():
        assert (r.df1, r.test) == (r.df1_ref, "chi2") and np.isnan(r.df2)
        for name in ("qm", "p", "tau2"):
            _close(getattr(r, name), getattr(r, f"{name}_ref"), (r.endpoint, r.timepoint_months, name))


@pytest.fixture(scope="module")
def glmm_run(run, tmp_path_factory):
    """The shipped run with pooling.model: glmm, only the pooled table rebuilt."""
    work = copy_run(run[0], tmp_path_factory.mktemp("glmm") / "project")
    cfg_path = work / "config/config.yaml"
    cfg = yaml.safe_load(cfg_path.read_text())
    cfg["pooling"]["model"] = "glmm"
    cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    proc = _snakemake(work, "results/tables/pooled.csv")
    assert proc.returncode == 0, proc.stderr[-4000:]
    return work


@workflow
@pytest.mark.metafor
def test_glmm_rows_of_pooled_equal_rma_glmm(glmm_run):
    pooled = pd.read_csv(glmm_run / "results/tables/pooled.csv")
    ref = pd.read_csv(FIX / "metafor_workflow_glmm.csv")
    fitted = pooled[pooled.k >= 2]
    assert len(fitted) == len(ref) > 0
    both = fitted.merge(ref, on=CELL, suffixes=("", "_ref"), validate="one_to_one")
    assert len(both) == len(ref)
    for r in both.itertuples():
        assert r.k == r.k_ref
        # the fixture is glmer at tight tolerances (the ML estimate itself); tau2 may sit at 0
        for name in ("model_estimate", "estimate", "ci_low", "ci_high", "pi_low", "pi_high", "tau2"):
            _close(
                getattr(r, name), getattr(r, f"{name}_ref"), (r.site, r.endpoint, r.timepoint_months, name), abs_=1e-8
            )


@workflow
def test_dose_response_arms_have_the_hand_derived_bed10(run):
    # BED10 of each printed dose worked out by hand in test_dose_strings.SHIPPED_BED10 (shipped
    # config: dose_response.alpha_beta 10, dose_rule median_or_midpoint)
    from test_dose_strings import SHIPPED_BED10

    hand = {s: (b, rule) for s, b, rule in SHIPPED_BED10}
    arms = pd.read_csv(run[0] / "results/tables/dose_response_arms.csv")
    assert len(arms) > 0 and (arms.alpha_beta == 10).all()
    for r in arms.itertuples():
        bed, rule = hand[r.dose_text]
        assert (r.bed10, r.dose_rule) == (pytest.approx(bed, abs=1e-6), rule), (r.study_id, r.arm, r.dose_text)


@workflow
def test_dose_arms_without_their_own_n_are_left_out_with_the_reason(run):
    # README: the dose-arm studies whose per-arm sample sizes the review does not print are
    # listed in dose_response_left_out.csv; in data/raw/crc2014_extraction.csv these are the
    # dose arms of Wulf [51] (28-30/3-4; 36-37.5/3 or 26/1) and Rule [56] (3 arms), LC at 24 months
    left_out = pd.read_csv(run[0] / "results/tables/dose_response_left_out.csv")
    said = left_out[left_out.study_id.isin(["crc2014-51", "crc2014-56"])]
    assert sorted(zip(said.study_id, said.arm)) == [
        ("crc2014-51", "28-30/3-4"),
        ("crc2014-51", "36-37.5/3 or 26/1"),
        ("crc2014-56", "3/30"),
        ("crc2014-56", "50/5"),
        ("crc2014-56", "60/5"),
    ]
    assert said.reason.str.startswith("not included: n_not_reported").all()


@workflow
def test_no_curve_rises_and_liver_falls_back(run):
    """Issue 22: no curve of survival_curves.csv rises; the liver cells (no study prints two time
    points) fall back to per-time-point pooling with the reason in the tables and summary.md."""
    work, _ = run
    curves = pd.read_csv(work / "results/tables/survival_curves.csv")
    fitted = curves[curves["method"].str.startswith("curve model")]
    for _, c in fitted.groupby(["site", "histology", "endpoint"]):
        assert np.all(np.diff(c.sort_values("month")["estimate"].to_numpy(float)) <= 1e-12)
    models = pd.read_csv(work / "results/tables/curve_models.csv")
    liver = models[models["site"] == "liver"]
    assert set(liver["endpoint"]) == {"LC", "OS"} and set(liver["status"]) == {"fallback"}
    assert liver["reason"].str.contains("no study prints two or more time points").all()
    assert set(curves.loc[curves["site"] == "liver", "method"].str[:24]) == {"per-time-point pooling ("}
    summary = (work / "results/report/summary.md").read_text()
    assert "liver (colorectal) LC: no curve, per-time-point pooling only: no study prints two or more" in summary


@workflow
def test_hcs_curves_run_the_whole_workflow(run, tmp_path):
    """curves.struct: HCS runs to the end; its variances are in long form, one row per time point."""
    work = copy_run(run[0], tmp_path / "project")
    cfg_path = work / "config/config.yaml"
    cfg = yaml.safe_load(cfg_path.read_text())
    cfg["curves"]["struct"] = "HCS"
    cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    proc = _snakemake(work)
    assert proc.returncode == 0, proc.stderr[-4000:]
    models = pd.read_csv(work / "results/tables/curve_models.csv")
    per_time = models[(models["struct"] == "HCS") & (models["term"] == "tau2")]
    assert not per_time.empty and per_time["tau2_month"].notna().all()
    assert per_time["tau2"].dtype == float
