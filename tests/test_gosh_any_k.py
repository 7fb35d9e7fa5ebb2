"""GOSH for any k (issue 26, item 3): a cell of more than 62 studies is sampled, its subsets are a
boolean matrix (no int64 bit masks), and the gather reads the parts as streams of chunks."""

import numpy as np
import pandas as pd
import pytest
from sbrtmeta.analysis.gosh import gather_cells, gather_gosh, gosh_cells, gosh_shard
from sbrtmeta.stats.effect_sizes import proportion_effect_sizes
from sbrtmeta.stats.gosh import (
    CHUNK,
    gosh_fits,
    sampled_membership,
    sampled_subsets,
    subset_ids,
    subset_matrix,
)
from sbrtmeta.stats.random_effects import fit_random_effects
from sbrtmeta.steps.runner import read_result_chunks, write_table

POOLING = {"tau2_method": "REML", "transform": "PLO"}


def _cell(k: int, seed: int = 1) -> pd.DataFrame:
    """A pooled_studies.csv-like cell of k synthetic studies."""
    rng = np.random.default_rng(seed)
    n = rng.integers(15, 80, k)
    x = rng.binomial(n, 0.75)
    y, v = proportion_effect_sizes(x.astype(float), n.astype(float), "PLO")
    return pd.DataFrame(
        dict(
            site="synthetic",
            histology="none",
            endpoint="LC",
            timepoint_months=12.0,
            study_id=[f"s{j:03d}" for j in range(k)],
            label=[f"Study {j}" for j in range(k)],
            n=n,
            yi=y,
            vi=v,
        )
    )


@pytest.mark.parametrize("k", [3, 62, 63, 100, 257])
def test_subset_ids_and_matrix_round_trip(k):
    incl = sampled_membership(k, 7, 0, 500)
    assert incl.shape == (500, k) and incl.any(axis=1).all()
    ids = subset_ids(incl)
    np.testing.assert_array_equal(subset_matrix(ids, k), incl)
    if k <= 62:  # the int64 masks, as before
        np.testing.assert_array_equal(ids, sampled_subsets(k, 7, 0, 500))
    else:  # the same number, in hexadecimal
        first = int(ids[0], 16)
        assert all(((first >> j) & 1) == incl[0, j] for j in range(k))


def test_gosh_fits_take_a_boolean_matrix_for_any_k():
    studies = _cell(100)
    y, v = studies["yi"].to_numpy(), studies["vi"].to_numpy()
    incl = sampled_membership(100, 3, 0, 40)
    fits = gosh_fits(y, v, incl, "REML")
    for i in (0, 17, 39):
        alone = fit_random_effects(y[incl[i]], v[incl[i]], "REML", "z")
        assert fits.estimate[i] == pytest.approx(alone.estimate, rel=1e-9)
        assert fits.tau2[i] == pytest.approx(alone.tau2, rel=1e-9, abs=1e-12)
    with pytest.raises(ValueError, match="non-empty rows"):
        gosh_fits(y, v, np.zeros((2, 100), dtype=bool), "REML")


def test_gosh_of_a_cell_of_100_studies(tmp_path):
    """k = 100 under the shipped GOSH settings' logic (sampling above exhaustive_max): the shards'
    parts written and read back as streams of small chunks give the same tables as one shard."""
    studies = _cell(100)
    gosh = {"exhaustive_max": 2**20, "samples": CHUNK + 300}
    (cell,) = gosh_cells(studies, gosh["exhaustive_max"], gosh["samples"])
    assert cell.sampled and cell.total == CHUNK + 300
    one = gather_gosh([gosh_shard(studies, POOLING, gosh, 5, 0, 1)], studies, POOLING, gosh)
    table = one.cells[cell.name]
    assert len(table) == CHUNK + 300 and table["subset"].str.startswith("0x").all()
    in_columns = [c for c in table if c.startswith("in_")]
    assert len(in_columns) == 100
    np.testing.assert_array_equal(table[in_columns].to_numpy(bool), sampled_membership(100, 5, 0, CHUNK + 300))
    assert len(one.studies) == 100 and one.studies["subsets_with"].between(1, CHUNK + 299).all()
    paths = []
    for s in range(3):
        paths.append(tmp_path / f"part_{s}.csv")
        write_table(gosh_shard(studies, POOLING, gosh, 5, s, 3), paths[-1])
    streamed = list(gather_cells([read_result_chunks(p, rows=1000) for p in paths], studies, POOLING, gosh))
    assert len(streamed) == 1
    assert streamed[0][1].to_csv(index=False) == table.to_csv(index=False)
    assert streamed[0][2].to_csv(index=False) == one.studies.to_csv(index=False)
