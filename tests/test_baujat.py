"""The Baujat plot (plots/baujat.py, issue 22 item 6): numbers that do not collide, the key on the figure."""

import numpy as np
import pandas as pd
from matplotlib.text import Text
from sbrtmeta.plots.baujat import draw_baujat, label_positions
from test_plots import overlapping


def crowded_cell(k: int = 30, seed: int = 3) -> pd.DataFrame:
    """``k`` studies, most of them bunched near the origin (as in the shipped lung cells)."""
    rng = np.random.default_rng(seed)
    x, y = rng.gamma(0.6, 0.3, k), rng.gamma(0.6, 0.02, k)
    return pd.DataFrame(
        dict(
            site="lung", histology="colorectal", endpoint="LC", timepoint_months=24.0, k=k, tau2_method="REML",
            ci_method="knha", label=[f"Author{i} [{i}]" for i in range(k)], contribution=x, influence=y, note="",
        )
    )  # fmt: skip


def test_numbers_do_not_collide_and_the_key_is_on_the_figure():
    cell = crowded_cell()
    fig = draw_baujat(cell, level=0.95)
    fig.canvas.draw()
    numbers = [t for t in fig.axes[0].texts if str(t.get_gid()).startswith("number:")]
    assert sorted(int(t.get_text()) for t in numbers) == list(range(1, len(cell) + 1))
    boxes = [Text.get_window_extent(t) for t in numbers]  # the text, without its leader line
    assert not overlapping(boxes)
    key = " ".join(t.get_text() for t in fig.texts).replace("\n", " ")
    assert "1 Author0 [0]" in key and f"{len(cell)} Author{len(cell) - 1}" in key


def test_label_positions_keep_clear_of_points_and_each_other():
    points = np.array([[100.0, 100.0], [104.0, 100.0], [100.0, 104.0], [200.0, 50.0]])
    offsets = label_positions(points, [(8.0, 9.0)] * 4, (0.0, 0.0, 400.0, 300.0))
    boxes = [(x + dx - 4, y + dy - 4.5, x + dx + 4, y + dy + 4.5) for (x, y), (dx, dy) in zip(points, offsets)]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert min(a[2], b[2]) <= max(a[0], b[0]) or min(a[3], b[3]) <= max(a[1], b[1])
        for x, y in points:
            assert not (a[0] < x < a[2] and a[1] < y < a[3])
