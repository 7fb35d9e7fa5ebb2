"""The gosh_figures step (steps/gosh_figures.py) draws a GOSH plot per cell of gosh_studies.csv from the tables
alone, with a panel per study (or per highlighted study), and an I² axis that never shows negative values."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sbrtmeta.analysis.gosh import STUDY_SUMMARY_COLUMNS  # noqa: E402
from sbrtmeta.stats.gosh import all_subsets, subset_matrix  # noqa: E402
from sbrtmeta.steps.gosh_figures import gosh_figures  # noqa: E402


def _cell(name: str, ids: list[str], i2: np.ndarray | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A cell's gosh_<cell>.csv (every subset of its studies) and its rows of gosh_studies.csv (plausible
    numbers, not fitted: the plot only draws them)."""
    k = len(ids)
    subsets = all_subsets(k)
    incl = subset_matrix(subsets, k)
    rate = 0.5 + 0.05 * incl.mean(axis=1)
    table = pd.DataFrame(dict(row=np.arange(len(subsets)), subset=subsets, rate=rate))
    table["i2"] = np.zeros(len(subsets)) if i2 is None else i2
    for j, sid in enumerate(ids):
        table[f"in_{sid}"] = incl[:, j].astype(int)
    place = dict(cell=name, site="lung", histology="sarcoma", endpoint="OS", timepoint_months=60.0)
    shifts = pd.DataFrame(
        [
            {**place, "k": k, "subsets": len(subsets), "sampled": False, "tau2_method": "REML", "transform": "PLO"}
            | dict(study_id=sid, label=f"Author {sid}", bit=j, rate_shift=0.01 * j, i2_shift=0.0)
            for j, sid in enumerate(ids)
        ]
    ).reindex(columns=list(STUDY_SUMMARY_COLUMNS))
    return table, shifts


def test_a_plot_per_cell_in_table_order_from_the_tables_alone():
    cells = {"b_cell": _cell("b_cell", ["s1", "s2", "s3"]), "a_cell": _cell("a_cell", ["t1", "t2", "t3", "t4"])}
    studies = pd.concat([shifts for _, shifts in cells.values()], ignore_index=True)
    read = []

    def cell_table(name):
        read.append(name)
        return cells[name][0]

    figures = list(gosh_figures(studies, cell_table))
    assert [stem for stem, _ in figures] == ["gosh_b_cell", "gosh_a_cell"] and read == ["b_cell", "a_cell"]
    assert [sum(ax.get_visible() for ax in fig.axes) for _, fig in figures] == [4, 5]  # all subsets + a study each
    (_, fig), *_ = gosh_figures(studies, cell_table, highlight=["s2"])
    assert [ax.get_title() for ax in fig.axes if ax.get_visible()][1].startswith("Author s2")


def test_i2_axis_of_a_homogeneous_cell_has_no_negative_values():
    table, shifts = _cell("c", ["s1", "s2", "s3"])  # every subset at I² = 0
    ((_, fig),) = gosh_figures(shifts, lambda name: table)
    lo, hi = fig.axes[0].get_ylim()
    assert -3 <= lo < 0 and hi - lo >= 20
    assert min(t for t in fig.axes[0].get_yticks() if lo <= t <= hi) == 0
