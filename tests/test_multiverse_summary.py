"""The multiverse's gather (analysis/multiverse_summary.py): the parts joined in specification order, the share
within the margin, the most influential choice, and the per-level means as groupby's."""

import numpy as np
import pandas as pd
import pytest
from sbrtmeta.analysis import multiverse_design as design
from sbrtmeta.analysis.multiverse_summary import _level_means, gather_multiverse
from sbrtmeta.report.robustness_section import multiverse_lines


def test_summary_counts_the_specifications_within_the_margin():
    place = dict(site="lung", histology="colorectal", endpoint="LC", timepoint_months=24.0)
    table = pd.DataFrame(
        [
            dict(
                spec=i,
                **{c: "a" for c in design.CHOICES},
                **place,
                k=3,
                n_total=90,
                estimate=e,
                ci_low=e - 0.1,
                ci_high=e + 0.1,
                tau2=0.1,
                i2=10.0,
                note="",
            )
            for i, e in enumerate([0.80, 0.84, 0.86, 0.95])
        ]
    )
    table.loc[[2, 3], "transform"] = "b"  # transform b: mean 0.905, a: 0.82
    pooled = pd.DataFrame([dict(**place, k=3, estimate=0.85)])
    got = gather_multiverse([table.iloc[:2], table.iloc[2:]], pooled, 0.05)
    r = got.summary.iloc[0]
    assert (r.specs, r.specs_within) == (4, 3)  # 0.80, 0.84, 0.86 within ±0.05 of 0.85; 0.95 not
    assert r.share_within == 0.75
    assert r.most_influential_choice == "transform"
    assert r.influential_range == pytest.approx(0.905 - 0.82)
    text = "\n".join(multiverse_lines(got.summary))
    assert "75% of the specification estimates" in text and "transform in 1 of 1 cells" in text
    with pytest.raises(ValueError, match="specification order"):
        gather_multiverse([table.iloc[2:], table.iloc[:2]], pooled, 0.05)


def test_level_means_are_those_of_groupby():
    """Levels sorted as groupby sorts them (numbers as numbers), a missing level left out, each mean and median
    bit for bit that of the group's estimates in table order (multiverse_choices.csv stays the same bytes)."""
    rng = np.random.default_rng(5)
    n = 500
    rows = pd.DataFrame({c: rng.choice(["b", "a", "c"], n) for c in design.CHOICES})
    rows["min_n"] = rng.choice([20, 1, 5], n)
    rows["tolerance_months"] = rng.choice([6.0, 0.0, np.nan], n)
    rows["estimate"] = rng.random(n) / 3
    expected = [
        dict(
            choice=c,
            level=str(level),
            specs=len(got),
            mean_estimate=float(np.mean(got["estimate"].to_numpy())),
            median_estimate=float(np.median(got["estimate"].to_numpy())),
        )
        for c in design.CHOICES
        for level, got in rows.groupby(c, sort=True)
    ]
    assert _level_means(rows) == expected
    assert [d["level"] for d in expected if d["choice"] == "min_n"] == ["1", "5", "20"]
