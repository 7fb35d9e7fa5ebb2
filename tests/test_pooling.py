"""Pooling per cell: the engine wired to the tidy tables."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sbrtmeta.analysis.pooling import pool_cells, subgroup_differences
from sbrtmeta.stats.effect_sizes import forward_transform, inverse_transform


def _included():
    rows = []
    for site, counts in {
        "liver": [(20, 25), (30, 40), (14, 20)],
        "lung": [(50, 55), (18, 20), (40, 50), (9, 12)],
        "adrenal": [(8, 10)],
    }.items():
        for i, (x, n) in enumerate(counts):
            rows.append(
                dict(
                    site=site,
                    endpoint="LC",
                    target_timepoint_months=24.0,
                    study_id=f"{site}{i}",
                    ref=str(i),
                    first_author=f"A{i}",
                    arm="all",
                    primary="crc",
                    events=x,
                    n=n,
                    rate=x / n,
                )
            )
    return pd.DataFrame(rows)


@pytest.mark.parametrize("transform", ["PLO", "PR", "PAS", "PFT"])
def test_every_transform_pools_and_back_transforms(transform):
    pooled, studies = pool_cells(_included(), transform=transform)
    assert set(pooled.site) == {"liver", "lung", "adrenal"}
    fitted = pooled[pooled.k > 1]
    assert ((fitted.ci_low <= fitted.estimate) & (fitted.estimate <= fitted.ci_high)).all()
    assert ((pooled.estimate > 0) & (pooled.estimate < 1)).all()
    n = studies[studies.site == "lung"].n.to_numpy()
    lung = pooled[pooled.site == "lung"].iloc[0]
    assert inverse_transform(lung.model_estimate, transform, n) == pytest.approx(lung.estimate)


def test_single_study_cell_is_reported_not_fitted():
    pooled, studies = pool_cells(_included())
    adrenal = pooled[pooled.site == "adrenal"].iloc[0]
    assert adrenal.model == "single study" and np.isnan(adrenal.tau2)
    assert studies[studies.site == "adrenal"].weight_pct.tolist() == [100.0]


def test_glmm_model():
    pooled, _ = pool_cells(_included(), model="glmm")
    assert set(pooled[pooled.k > 1].model) == {"GLMM"}
    with pytest.raises(ValueError, match="PLO"):
        pool_cells(_included(), transform="PAS", model="glmm")


def test_subgroup_test_between_sites():
    tests = subgroup_differences(_included())
    assert len(tests) == 1
    row = tests.iloc[0]
    assert row.sites == "adrenal; liver; lung" and row.df1 == 2 and 0 <= row.p <= 1


@pytest.mark.parametrize("measure", ["PLO", "PR", "PAS", "PFT"])
def test_forward_and_inverse_transforms_are_inverse(measure):
    p = np.array([0.1, 0.5, 0.9])
    n = np.array([20, 30, 40])
    assert inverse_transform(forward_transform(p, measure, n), measure, n) == pytest.approx(p, abs=1e-9)


@pytest.mark.parametrize("study_ci", ["clopper-pearson", "wilson", "wald"])
def test_a_single_study_has_one_interval_everywhere(study_ci):
    """Issue 22 item 2: a one-study cell's row of pooled.csv has the study's own interval, the one
    pooled_studies.csv (the forest plot) and the cumulative table's first row show."""
    from sbrtmeta.analysis.cumulative import cumulative_table
    from scipy.stats import beta

    pooled, studies = pool_cells(_included(), study_ci=study_ci)
    one = pooled[pooled.site == "adrenal"].iloc[0]
    own = studies[studies.site == "adrenal"].iloc[0]
    assert (one.ci_low, one.ci_high, one.ci_method) == (own.ci_low, own.ci_high, study_ci)
    if study_ci == "clopper-pearson":  # 8/10: the beta quantiles of binom.test
        assert one.ci_low == pytest.approx(beta.ppf(0.025, 8, 3)) and one.ci_high == pytest.approx(
            beta.ppf(0.975, 9, 2)
        )
    cum = cumulative_table(pooled, studies.assign(year=np.nan), _included()[["study_id"]])
    for _, block in cum.groupby(["site"]):
        first = block[block["step"] == 1].iloc[0]
        row = studies[studies.study_id == first.study_id].iloc[0]
        assert (first.ci_low, first.ci_high, first.ci_method) == (row.ci_low, row.ci_high, study_ci)


def test_pooling_options_are_built_from_the_validated_config():
    """PoolingOptions.from_config reads the validated config; a config without a ``sensitivity``
    section gets the schema's defaults (Snakemake's validate fills them), not a second copy here."""
    import yaml
    from sbrtmeta.analysis.pooling import PoolingOptions
    from snakemake.utils import validate

    root = Path(__file__).resolve().parents[1]
    config = yaml.safe_load((root / "config" / "config.yaml").read_text(encoding="utf-8"))
    config.pop("sensitivity")
    validate(config, str(root / "workflow" / "schemas" / "config.schema.yaml"))
    o = PoolingOptions.from_config(config)
    assert (o.transform, o.tau2_method, o.ci_method, o.level, o.model, o.histology) == tuple(
        config["pooling"][k] for k in ("transform", "tau2_method", "ci_method", "level", "model", "histology")
    )
    assert (o.study_ci, o.add, o.to) == ("clopper-pearson", 0.5, "only0")
