"""GOSH (stats/gosh.py) against metafor's gosh(), subset by subset, and its subset generators."""

from math import comb

import numpy as np
import pandas as pd
import pytest
from sbrtmeta.stats.effect_sizes import proportion_effect_sizes
from sbrtmeta.stats.gosh import CHUNK, all_subsets, gosh_fits, sampled_subsets, subset_count, subset_matrix

FIXTURES = "tests/fixtures"


@pytest.fixture(scope="module")
def metafor_gosh():
    return pd.read_csv(f"{FIXTURES}/metafor_gosh.csv")


@pytest.fixture(scope="module")
def inputs():
    return pd.read_csv(f"{FIXTURES}/metafor_inputs.csv")


def _cases(frame):
    return sorted(set(zip(frame["dataset"], frame["method"])))


def test_fixture_covers_the_cases(metafor_gosh):
    cases = _cases(metafor_gosh)
    assert ("project:lung:colorectal:LC:24", "REML") in cases
    assert len([c for c in cases if c[0] == "synthetic:extreme_heterogeneity"]) == 9


@pytest.mark.parametrize(
    "dataset,method",
    [
        ("project:liver:colorectal:OS:24", "REML"),
        ("project:lung:colorectal:LC:24", "REML"),
        ("synthetic:zero_and_full", "REML"),
        *[("synthetic:extreme_heterogeneity", m) for m in ("REML", "ML", "DL", "PM", "EB", "HE", "HS", "SJ", "FE")],
    ],
)
def test_gosh_equals_metafor_subset_by_subset(metafor_gosh, inputs, dataset, method):
    ref = metafor_gosh[(metafor_gosh["dataset"] == dataset) & (metafor_gosh["method"] == method)]
    cell = inputs[inputs["dataset"] == dataset]
    y, v = proportion_effect_sizes(cell["xi"].to_numpy(float), cell["ni"].to_numpy(float), "PLO")
    k = len(y)
    subsets = all_subsets(k)
    assert len(ref) == subset_count(k)
    np.testing.assert_array_equal(subsets, ref["subset"].to_numpy())  # metafor's order
    fits = gosh_fits(y, v, subsets, method)
    np.testing.assert_array_equal(fits.k, ref["k"].to_numpy())
    for col in ("estimate", "q", "i2", "h2", "tau2"):
        np.testing.assert_allclose(getattr(fits, col), ref[col].to_numpy(), rtol=1e-6, atol=1e-9, err_msg=col)


def test_all_subsets_ranges_join_up():
    k = 9
    whole = all_subsets(k)
    assert len(set(whole)) == subset_count(k)
    sizes = subset_matrix(whole, k).sum(axis=1)
    assert np.all(np.diff(sizes) >= 0)
    assert np.all(np.diff(whole[sizes == 4]) > 0)
    assert (sizes == 4).sum() == comb(9, 4)
    parts = [all_subsets(k, a, a + 37) for a in range(0, subset_count(k), 37)]
    np.testing.assert_array_equal(np.concatenate(parts), whole)


def test_sampled_subsets_do_not_depend_on_the_split():
    whole = sampled_subsets(12, seed=5, start=0, stop=3 * CHUNK + 17)
    cut = [0, 100, CHUNK + 3, 2 * CHUNK, 3 * CHUNK + 17]
    parts = [sampled_subsets(12, 5, a, b) for a, b in zip(cut[:-1], cut[1:])]
    np.testing.assert_array_equal(np.concatenate(parts), whole)
    assert whole.min() >= 1 and whole.max() < 2**12
    # uniform over non-empty subsets: each study in about half of them
    share = subset_matrix(whole, 12).mean(axis=0)
    assert np.all(np.abs(share - 0.5) < 0.02)
    assert not np.array_equal(whole, sampled_subsets(12, 6, 0, len(whole)))


def test_threads_give_the_same_numbers():
    rng = np.random.default_rng(3)
    v = rng.uniform(0.01, 0.5, 12)
    y = rng.normal(0.5, 0.6, 12)
    subsets = all_subsets(12)
    one, two = gosh_fits(y, v, subsets, "REML"), gosh_fits(y, v, subsets, "REML", threads=2)
    for col in ("estimate", "q", "i2", "h2", "tau2"):
        np.testing.assert_array_equal(getattr(one, col), getattr(two, col))


def test_bad_subsets_are_refused():
    with pytest.raises(ValueError, match="bit masks"):
        gosh_fits([0.1, 0.2], [0.1, 0.1], [0, 1], "REML")
    with pytest.raises(ValueError, match="studies"):
        all_subsets(70)


# --- the workflow's GOSH (analysis/gosh.py): cells, shards, per-study shifts -------------------


@pytest.fixture(scope="module")
def pooled_studies(inputs):
    """A pooled_studies.csv-like table of the project's cells (from the fixture's counts)."""
    rows = []
    cells = inputs[inputs["dataset"].str.startswith("project:") | (inputs["dataset"] == "synthetic:large_k")]
    for name, cell in cells.groupby("dataset", sort=True):
        _, site, hist, endpoint, t = (
            name.split(":") if name.startswith("project:") else ("", "synthetic", "none", "LC", 12)
        )
        y, v = proportion_effect_sizes(cell["xi"].to_numpy(float), cell["ni"].to_numpy(float), "PLO")
        for r, yi, vi in zip(cell.itertuples(), y, v):
            rows.append(
                dict(
                    site=site,
                    histology=hist,
                    endpoint=endpoint,
                    timepoint_months=float(t),
                    study_id=r.study,
                    label=r.study,
                    n=r.ni,
                    yi=yi,
                    vi=vi,
                )
            )
    return pd.DataFrame(rows)


POOLING = {"tau2_method": "REML", "transform": "PLO"}


def _gathered(studies, gosh, shards):
    from sbrtmeta.analysis.gosh import gather_gosh, gosh_shard

    parts = [gosh_shard(studies, POOLING, gosh, 11, s, shards) for s in range(shards)]
    return gather_gosh(parts, studies, POOLING, gosh)


@pytest.mark.slow  # seconds of CPU: make test-fast runs it, -m 'not slow' leaves it out
def test_gosh_tables_do_not_depend_on_the_shards(pooled_studies):
    gosh = {"exhaustive_max": 1100, "samples": 2 * CHUNK + 5}  # the k = 60 cell: a sample of three chunks
    one = _gathered(pooled_studies, gosh, 1)
    assert sorted(one.cells) == [
        "liver_colorectal_LC_24m",
        "liver_colorectal_OS_24m",
        "lung_colorectal_LC_24m",
        "lung_colorectal_OS_24m",
        "lung_sarcoma_OS_24m",
        "lung_sarcoma_OS_60m",
        "synthetic_none_LC_12m",
    ]
    assert len(one.cells["synthetic_none_LC_12m"]) == 2 * CHUNK + 5
    assert len(one.cells["lung_colorectal_LC_24m"]) == 2047  # 2047 <= samples: every subset, as gosh()
    assert len(one.cells["lung_colorectal_OS_24m"]) == 1023
    studies = one.studies.drop_duplicates("cell").set_index("cell")
    assert studies.loc["synthetic_none_LC_12m", "sampled"] and not studies.loc["lung_colorectal_LC_24m", "sampled"]
    for shards in (2, 4):
        other = _gathered(pooled_studies, gosh, shards)
        for name, table in one.cells.items():
            assert other.cells[name].to_csv(index=False) == table.to_csv(index=False)
        assert other.studies.to_csv(index=False) == one.studies.to_csv(index=False)


def test_gosh_table_equals_metafor_and_shifts_are_means_of_it(pooled_studies, metafor_gosh):
    got = _gathered(pooled_studies, {"exhaustive_max": 2**20, "samples": 10}, 2)
    table = got.cells["lung_colorectal_LC_24m"]
    ref = metafor_gosh[
        (metafor_gosh["dataset"] == "project:lung:colorectal:LC:24") & (metafor_gosh["method"] == "REML")
    ]
    np.testing.assert_array_equal(table["subset"], ref["subset"])
    np.testing.assert_allclose(table["i2"], ref["i2"], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(table["rate"], 1 / (1 + np.exp(-ref["estimate"].to_numpy())), rtol=1e-6)
    shifts = got.studies[got.studies["cell"] == "lung_colorectal_LC_24m"]
    for s in shifts.itertuples():
        inn = table[f"in_{s.study_id}"] == 1
        assert s.subsets_with == inn.sum() == 1024
        assert s.rate_shift == pytest.approx(table["rate"][inn].mean() - table["rate"][~inn].mean(), rel=1e-12)
        assert s.i2_shift == pytest.approx(table["i2"][inn].mean() - table["i2"][~inn].mean(), rel=1e-12)


def test_a_missing_shard_is_an_error(pooled_studies):
    from sbrtmeta.analysis.gosh import gather_gosh, gosh_shard

    gosh = {"exhaustive_max": 2**20, "samples": 10}
    parts = [gosh_shard(pooled_studies, POOLING, gosh, 1, 0, 2)]
    with pytest.raises(ValueError, match="a shard is missing"):
        gather_gosh(parts, pooled_studies, POOLING, gosh)
