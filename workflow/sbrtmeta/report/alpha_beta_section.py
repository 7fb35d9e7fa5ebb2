"""The summary's section on α/β from the data (``alpha_beta_profile.csv``, ``dose_response.alpha_beta_mode:
profile``): a table of each profile's estimate, likelihood-ratio interval, the test of the configured α/β and
the slope, BED50 and BED at the target LC at the estimate, and one line per profile that α/β does not identify.
A pure function of the table; every number is read from it and formatted."""

from __future__ import annotations

import pandas as pd

from sbrtmeta.plots.labels import level_text
from sbrtmeta.report.formats import finite, markdown_table, number, p_or_dash, spans_orders

TITLE = "### α/β from the data (profile likelihood)"


def _gy(x) -> str:
    """Gy: two significant digits below 10 (``"7.8"``, ``"1"``), whole Gy from 10 up."""
    return f"{float(x):.2g}" if finite(x) and float(x) < 10 else (f"{float(x):.0f}" if finite(x) else "–")


def _interval(r) -> str:
    low = _gy(r.alpha_beta_ci_low) if str(r.ci_low_reached) == "True" else f"below {_gy(r.alpha_beta_ci_low)}"
    high = _gy(r.alpha_beta_ci_high) if str(r.ci_high_reached) == "True" else f"above {_gy(r.alpha_beta_ci_high)}"
    return f"{low} to {high}"


def _dose(r, name: str) -> str:
    """``"81 (44–148)"``, the interval "not estimable (…)" when it spans more than three orders of magnitude."""
    low, high = getattr(r, name + "_ci_low"), getattr(r, name + "_ci_high")
    interval = f"{_gy(low)}–{_gy(high)}"
    return f"{_gy(getattr(r, name))} ({'not estimable (' + interval + ')' if spans_orders(low, high) else interval})"


def alpha_beta_section(table: pd.DataFrame | None) -> list[str]:
    """Markdown lines of the α/β section; [] without the table (``alpha_beta_mode: fixed``)."""
    if table is None:
        return []
    if table.empty:
        return [TITLE, "", "No α/β profile: no dose-response model was fitted (or dose_response.time is model).", ""]
    first = table.iloc[0]
    lvl = level_text(first.level)
    target = f"BED{100 * float(first.target_lc):g}"
    rows = [
        [
            r.profile,
            r.site,
            str(int(r.k_arms)),
            _gy(r.alpha_beta),
            _interval(r),
            "yes" if str(r.identifiable) == "True" else "no",
            f"{number(r.lr_fixed, 2)}, p {p_or_dash(r.p_fixed)}",
            f"{number(r.slope, 2)} ({number(r.slope_ci_low, 2)} to {number(r.slope_ci_high, 2)})",
            _dose(r, "bed50"),
            _dose(r, "bed_target"),
        ]
        for r in table.itertuples()
    ]
    header = [
        "Model",
        "Site",
        "Arms",
        "α/β, Gy",
        f"LR {lvl} interval, Gy",
        "Identifiable",
        f"LR test of α/β = {float(first.alpha_beta_fixed):g} Gy",
        f"Slope ({lvl} CI)",
        "BED50, Gy",
        f"{target}, Gy",
    ]
    flat = table[table["identifiable"].astype(str) != "True"].drop_duplicates("profile")
    lines = [
        TITLE,
        "",
        f"The profile likelihood of α/β from {float(first.grid_low):g} to {float(first.grid_high):g} Gy: every arm's "
        "BED recomputed at each value and the model refitted by maximum likelihood; the likelihood-ratio interval "
        f"is where the statistic stays below the {lvl} χ²₁ cutoff. Slope, BED50 and {target} are the model's "
        f"({first.method}) at the estimated α/β, with {lvl} delta-method CIs, in BED at that α/β (not BED10). "
        "Reference: Klement et al., Radiother Oncol 2017;123:218 estimated 13–23 Gy for lung and 16–28 Gy for "
        "liver metastases and 43 ± 4.7 Gy for colorectal primaries.",
        "",
        markdown_table(header, rows),
        "",
    ]
    lines += [
        f"- {r.profile}: α/β is not identifiable from these data (likelihood-ratio interval from {_interval(r)} Gy)."
        for r in flat.itertuples()
    ]
    return lines + ([""] if len(flat) else [])
