"""Bubble plot of local control against BED10 with the fitted dose-response curves.

One bubble per arm at (BED10, observed LC in %) on a log dose axis, its area
proportional to the arm's weight ``1 / (v + total between-arm variance)`` (the
``weight`` column of :func:`sbrtmeta.stats.dose_response.arm_table`: the inverse of the
arm's variance around the fitted curve), coloured by site. Arms of one study are
joined by a thin line. Per site the fitted curve (:func:`sbrtmeta.stats.dose_response.dose_curve`)
is drawn with its confidence band and a lighter prediction-interval band (solid over the
doses the site's arms received, dashed beyond them), and a diamond marks the BED10 at which
the curve reaches the target LC (BED90 for 90%), with its confidence interval as a horizontal
bar and a short label above the axes over that dose (clear of the bands and bubbles; labels
that would touch go in rows). The legend's band swatches are in the sites' colours. Markers of
several sites are dodged vertically by a few points (their data position stays
the target LC). An open diamond means the slope's CI includes 0, so the interval
is a delta-method approximation that understates the uncertainty.

Observed LC is events/n as printed, 100% included (the model's logits add 1/2 to
arms at 0 or 100%, as metafor's escalc). The figure is returned unsaved; see
:func:`sbrtmeta.plots.style.save_figure`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.legend_handler import HandlerTuple
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator
from matplotlib.transforms import blended_transform_factory, offset_copy

from sbrtmeta.plots.labels import endpoint_axis_label, level_prefix, site_title
from sbrtmeta.plots.style import CYCLE, FIGURE_WIDTH_IN, PALETTE, SMALL_FONT_SIZE, figure_style, wrap_text

WIDTH_IN = FIGURE_WIDTH_IN  # a full page width: the plot, and the legend to its right
AXES_HEIGHT_IN = 3.1
LEFT_IN, RIGHT_IN, TOP_IN = 0.55, 0.08, 0.12
LEGEND_GAP_IN = 0.15
XLABEL_IN = 0.42  # tick labels and the axis label under the axes
PAD_IN = 0.08
MAX_BUBBLE_PT2 = 260.0  # area (pt^2) of the heaviest arm's bubble
MIN_BUBBLE_PT2 = 6.0  # floor, so that the lightest arms stay visible
DODGE_PT = 9.0  # vertical spacing of the sites' target markers
DOSE_TICKS = (10, 20, 30, 40, 50, 60, 80, 100, 120, 150, 200, 250, 300, 400, 500, 600, 800, 1000)
CI_ALPHA, PI_ALPHA = 0.24, 0.07
BEYOND_DASH = (0, (2.5, 1.5))  # a fitted curve beyond the doses its arms received
LABEL_ROW_IN = 0.17  # a row of target labels above the axes
REQUIRED_ARM_COLUMNS = ("site", "study", "bed10", "lc", "weight")


# --------------------------------------------------------------------------- inputs


def _curves(curve) -> dict[str, pd.DataFrame]:
    """Site -> curve table (bed10, lc, ci_low, ci_high, pi_low, pi_high)."""
    if curve is None:
        return {}
    if isinstance(curve, pd.DataFrame):
        if "site" not in curve:
            raise ValueError("a curve table needs a 'site' column (or pass a dict site -> table)")
        items = [(s, g) for s, g in curve.groupby("site", sort=False)]
    elif isinstance(curve, Mapping):
        items = list(curve.items())
    else:
        raise ValueError("curve must be a DataFrame with a 'site' column or a dict site -> DataFrame")
    out = {}
    for site, g in items:
        missing = {"bed10", "lc", "ci_low", "ci_high", "pi_low", "pi_high"} - set(g.columns)
        if missing:
            raise ValueError(f"curve of {site!r} lacks columns {sorted(missing)}")
        out[str(site)] = g.sort_values("bed10")
    return out


def _tcps(tcp) -> dict[str, dict]:
    """Site -> dict of TCP fields (site, target_lc, bed_target, its CI, slope flags, model)."""
    if tcp is None:
        return {}
    if isinstance(tcp, pd.DataFrame):
        rows = tcp.to_dict("records")
    elif isinstance(tcp, Mapping):
        rows = []
        for site, t in tcp.items():
            d = t.to_dict() if hasattr(t, "to_dict") else dict(t)
            d.setdefault("site", site)
            d["site"] = str(site)
            rows.append(d)
    else:
        rows = [t.to_dict() if hasattr(t, "to_dict") else dict(t) for t in tcp]
    out = {}
    for d in rows:
        missing = {"site", "target_lc", "bed_target", "bed_target_ci_low", "bed_target_ci_high"} - set(d)
        if missing:
            raise ValueError(f"TCP entry lacks {sorted(missing)}")
        out[str(d["site"])] = d
    return out


def _finite(x) -> bool:
    try:
        return bool(np.isfinite(float(x)))
    except (TypeError, ValueError):
        return False


def target_label(target_lc: float) -> str:
    """``"BED90"`` for 0.90."""
    return f"BED{100 * float(target_lc):g}"


def marker_label(t: dict) -> str:
    """The short label next to a site's target marker, e.g. ``"BED90 143 Gy"``."""
    return f"{target_label(t['target_lc'])} {float(t['bed_target']):.0f} Gy"


def _dose_ticks(x0: float, x1: float, width_in: float) -> list[float]:
    """Round doses in [x0, x1], thinned so that labels stay about 0.32 in apart."""
    span = np.log(x1) - np.log(x0)
    kept: list[float] = []
    priority = [100, 50, 200, 20, 500, 1000, 10, 30, 150, 300, 40, 60, 80, 250, 400, 120, 600, 800]
    for v in priority:
        if x0 <= v <= x1 and all(abs(np.log(v) - np.log(k)) / span * width_in >= 0.32 for k in kept):
            kept.append(v)
    return sorted(kept)


def _size_key(max_share: float) -> list[float]:
    """Two round weight shares (%) for the bubble-size key: about the largest arm's and a quarter of it."""

    def nice(x):
        e = 10.0 ** np.floor(np.log10(x))
        return float(min((m * e for m in (1, 2, 5, 10)), key=lambda v: abs(np.log(v / x))))

    big = nice(max_share)
    small = nice(max_share / 4.0)
    return [big] if small >= big else [small, big]


# --------------------------------------------------------------------------- figure


@dataclass(frozen=True)
class _Drawing:
    """What every drawing step needs: the arms' values, the sites in order, their colours and tables."""

    arms: pd.DataFrame
    bed: np.ndarray
    lc: np.ndarray
    weight: np.ndarray
    site_of_arm: np.ndarray
    sites: list
    colors: dict
    curves: dict
    tcps: dict
    shown_targets: dict


def _checked_arms(arms) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``bed10``, ``lc`` and ``weight`` of ``arms``; ValueError for anything that cannot be drawn."""
    if not isinstance(arms, pd.DataFrame):
        raise ValueError("arms must be a DataFrame")
    missing = set(REQUIRED_ARM_COLUMNS) - set(arms.columns)
    if missing:
        raise ValueError(f"arms lacks columns {sorted(missing)}")
    if arms.empty:
        raise ValueError("no arms to draw")
    bed = arms["bed10"].to_numpy(float)
    lc = arms["lc"].to_numpy(float)
    weight = arms["weight"].to_numpy(float)
    if not (np.all(np.isfinite(bed)) and np.all(bed > 0)):
        raise ValueError("arms: bed10 must be finite and > 0")
    if not (np.all(np.isfinite(lc)) and np.all((lc >= 0) & (lc <= 1))):
        raise ValueError("arms: lc must be proportions in [0, 1]")
    if not (np.all(np.isfinite(weight)) and np.all(weight > 0)):
        raise ValueError("arms: weight must be finite and > 0")
    return bed, lc, weight


def _drawing(arms, curve, tcp, site_colors) -> _Drawing:
    bed, lc, weight = _checked_arms(arms)
    curves = _curves(curve)
    tcps = _tcps(tcp)
    sites = list(dict.fromkeys([str(s) for s in arms["site"]] + list(curves) + list(tcps)))
    colors = {s: CYCLE[i % len(CYCLE)] for i, s in enumerate(sites)}
    colors.update({str(k): v for k, v in (site_colors or {}).items()})
    shown_targets = {s: t for s, t in tcps.items() if _finite(t["bed_target"]) and float(t["bed_target"]) > 0}
    return _Drawing(
        arms, bed, lc, weight, arms["site"].astype(str).to_numpy(), sites, colors, curves, tcps, shown_targets
    )


def _limits(d: _Drawing) -> tuple[float, float, float, float]:
    """Axis limits: the arms, the curves and the target doses (not their CIs)."""
    xs = [d.bed]
    for c in d.curves.values():
        xs.append(c["bed10"].to_numpy(float))
    xs.append(np.array([float(t["bed_target"]) for t in d.shown_targets.values()]))
    allx = np.concatenate([x for x in xs if x.size])
    x0, x1 = float(allx.min()) / 1.12, float(allx.max()) * 1.12
    ys = [d.lc]
    for c in d.curves.values():
        ys.append(c["ci_low"].to_numpy(float))
    ys.append(np.array([float(t["target_lc"]) for t in d.shown_targets.values()]))
    ylow = float(np.concatenate([y for y in ys if y.size]).min()) * 100
    y0 = max(0.0, 10.0 * np.floor((ylow - 4.0) / 10.0))
    return x0, x1, y0, 103.0


def _draw_curves(ax, d: _Drawing) -> None:
    sites, curves, colors = d.sites, d.curves, d.colors
    # prediction and confidence bands, then the curves
    for s in sites:
        c = curves.get(s)
        if c is None:
            continue
        xb = c["bed10"].to_numpy(float)
        ax.fill_between(
            xb,
            100 * c["pi_low"].to_numpy(float),
            100 * c["pi_high"].to_numpy(float),
            color=colors[s],
            alpha=PI_ALPHA,
            linewidth=0,
            zorder=1,
            gid=f"pi-band:{s}",
        )
        for col in ("pi_low", "pi_high"):  # the band's edges, so that overlapping bands stay apart
            ax.plot(
                xb,
                100 * c[col].to_numpy(float),
                color=colors[s],
                linewidth=0.5,
                linestyle=(0, (4, 2)),
                alpha=0.8,
                zorder=1,
                gid=f"pi-edge:{s}",
            )
        ax.fill_between(
            xb,
            100 * c["ci_low"].to_numpy(float),
            100 * c["ci_high"].to_numpy(float),
            color=colors[s],
            alpha=CI_ALPHA,
            linewidth=0,
            zorder=2,
            gid=f"ci-band:{s}",
        )
        yb = 100 * c["lc"].to_numpy(float)
        # dashed over the whole range, solid over the doses the site's arms received (beyond: extrapolated)
        ax.plot(xb, yb, color=colors[s], linewidth=1.5, linestyle=BEYOND_DASH, zorder=4, gid=f"curve:{s}")
        doses = d.bed[d.site_of_arm == s]
        if doses.size:
            lo, hi = float(doses.min()), float(doses.max())
            inside = (xb >= lo) & (xb <= hi)
            x_in = np.r_[lo, xb[inside], hi]
            y_in = np.interp(np.log(x_in), np.log(xb), yb)
            ax.plot(x_in, y_in, color=colors[s], linewidth=1.5, zorder=4, solid_capstyle="butt", gid=f"curve-arms:{s}")


def _draw_study_lines(ax, d: _Drawing) -> None:
    arms, site_of_arm, colors = d.arms, d.site_of_arm, d.colors
    # study lines: arms of one study (and site), in dose order
    for (s, study), g in arms.assign(_site=site_of_arm).groupby(["_site", "study"], sort=False):
        if len(g) >= 2:
            g = g.sort_values("bed10")
            ax.plot(
                g["bed10"].to_numpy(float),
                100 * g["lc"].to_numpy(float),
                color=colors[s],
                linewidth=0.55,
                alpha=0.7,
                zorder=5,
                gid=f"study-line:{study}",
            )


def _draw_bubbles(ax, d: _Drawing) -> None:
    sites, site_of_arm, colors, bed, lc, weight = d.sites, d.site_of_arm, d.colors, d.bed, d.lc, d.weight
    # bubbles, heaviest first so that small ones stay visible on top
    area = np.maximum(MAX_BUBBLE_PT2 * weight / weight.max(), MIN_BUBBLE_PT2)
    for s in sites:
        idx = np.flatnonzero(site_of_arm == s)
        if idx.size == 0:
            continue
        idx = idx[np.argsort(-area[idx], kind="stable")]
        ax.scatter(
            bed[idx],
            100 * lc[idx],
            s=area[idx],
            facecolor=colors[s],
            alpha=0.55,
            edgecolor="none",
            zorder=6,
            gid=f"arms:{s}",
        )
        ax.scatter(
            bed[idx],
            100 * lc[idx],
            s=area[idx],
            facecolor="none",
            edgecolor=colors[s],
            linewidth=0.7,
            zorder=6,
            gid=f"arms-edge:{s}",
        )


def _draw_target_ci(ax, tr, t: dict, y: float, color, s: str, x0: float, x1: float) -> None:
    """The target dose's CI as a bar with end ticks, or an arrowhead where it runs off the axis."""
    lo, hi = float(t["bed_target_ci_low"]), float(t["bed_target_ci_high"])
    if not (_finite(lo) and _finite(hi)):
        return
    left, right = max(lo, x0), min(hi, x1)
    ax.plot(
        [left, right],
        [y, y],
        color=color,
        linewidth=1.1,
        transform=tr,
        zorder=7,
        solid_capstyle="butt",
        gid=f"target-ci:{s}",
    )
    for end, cut, mk in ((lo, lo < x0, "<"), (hi, hi > x1, ">")):
        if cut:  # the interval runs off the axis: an arrowhead at the edge
            ax.plot(
                [left if mk == "<" else right],
                [y],
                marker=mk,
                markersize=3.5,
                color=color,
                transform=tr,
                zorder=7,
                clip_on=False,
                gid=f"target-ci-cut:{s}",
            )
        else:
            ax.plot([end], [y], marker="|", markersize=4, markeredgewidth=1.1, color=color, transform=tr, zorder=7)


def _draw_targets(fig, ax, d: _Drawing, x0: float, x1: float) -> list[str]:
    """Target markers, dodged vertically, with CI bars and labels; returns the sites that have one."""
    targets = [s for s in d.sites if s in d.shown_targets]
    if targets:
        level = float(next(iter(d.shown_targets.values()))["target_lc"]) * 100
        ax.axhline(level, color=PALETTE["light"], linewidth=0.6, linestyle=(0, (3, 2)), zorder=0, gid="target-line")
    for i, s in enumerate(targets):
        t, color = d.shown_targets[s], d.colors[s]
        dy = (len(targets) - 1) / 2.0 * DODGE_PT - i * DODGE_PT
        tr = offset_copy(ax.transData, fig=fig, x=0, y=dy, units="points")
        y = float(t["target_lc"]) * 100
        bx = float(t["bed_target"])
        _draw_target_ci(ax, tr, t, y, color, s, x0, x1)
        solid = bool(t.get("slope_ci_excludes_zero", True))
        ax.plot(
            [bx],
            [y],
            marker="D",
            markersize=5.5,
            markeredgewidth=1.1,
            markeredgecolor=color,
            markerfacecolor=color if solid else "white",
            transform=tr,
            zorder=8,
            linestyle="none",
            gid=f"target:{s}",
        )
        # the label above the axes, over its dose (clear of bands and bubbles); rows are set in _layout
        top = blended_transform_factory(ax.transData, ax.transAxes)
        ax.plot([bx], [1.0], marker="v", markersize=4, color=color, transform=top, clip_on=False, zorder=9)
        ax.annotate(
            marker_label(t),
            xy=(bx, 1.0),
            xycoords=top,
            xytext=(0, 5),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=SMALL_FONT_SIZE,
            color=color,
            zorder=9,
            gid=f"target-label:{s}",
            annotation_clip=False,
        )
    return targets


def _style_axes(ax, x0, x1, y0, ylabel: str) -> None:
    ax.xaxis.set_minor_locator(FixedLocator([v for v in DOSE_TICKS if x0 <= v <= x1]))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.xaxis.set_major_formatter(lambda v, _pos: f"{v:g}")
    ax.tick_params(axis="x", which="minor", length=1.8, width=0.5)
    ax.yaxis.set_major_locator(FixedLocator([v for v in range(0, 101, 10) if y0 <= v <= 100]))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.set_xlabel("BED10 (Gy), log scale")
    ax.set_ylabel(ylabel)
    ax.yaxis.grid(True, color=PALETTE["rule"], linewidth=0.5, zorder=0)
    ax.set_axisbelow(True)


def _site_handles(d: _Drawing) -> list:
    """One legend entry per site, with its numbers of arms and studies."""
    handles = []
    for s in d.sites:
        g = d.arms[d.site_of_arm == s]
        what = (
            f"{site_title(s)} ({len(g)} arm{'s' * (len(g) != 1)}, {g['study'].nunique()} "
            f"stud{'ies' if g['study'].nunique() != 1 else 'y'})"
            if len(g)
            else site_title(s)
        )
        color = d.colors[s]
        style = dict(marker="o", markersize=6, linewidth=1.3, markerfacecolor=color, markeredgecolor=color)
        handles.append(Line2D([], [], color=color, **style, alpha=0.85, label=what))
    return handles


def _lvl(level: float | None) -> str:
    """``"90% "`` (level 0.9) of a known level (config's dose_response.level), else nothing (never a wrong level)."""
    return level_prefix(level)


def _band_handles(d: _Drawing, level: float | None) -> list:
    """The legend entries of the curve's confidence and prediction bands, a swatch per site in the
    colour and opacity its band is drawn with, and of a curve drawn beyond its arms' doses."""
    sites = [site for site in d.sites if site in d.curves]
    ci = tuple(Patch(facecolor=d.colors[site], alpha=CI_ALPHA, linewidth=0) for site in sites)
    pi = tuple(
        Patch(
            facecolor=to_rgba(d.colors[site], PI_ALPHA),
            edgecolor=to_rgba(d.colors[site], 0.8),
            linewidth=0.5,
            linestyle=(0, (4, 2)),
        )
        for site in sites
    )
    beyond = Line2D([], [], color=PALETTE["muted"], linewidth=1.5, linestyle=BEYOND_DASH)
    return [
        (ci, f"{_lvl(level)}CI of the curve"),
        (pi, f"{_lvl(level)}prediction interval"),
        (beyond, "Curve beyond the arms' BED10"),
    ]


def _legend(ax, d: _Drawing, targets: list[str], level: float | None):
    """Sites (with their arms and studies), bands, study lines and the target marker."""
    entries = [(h, h.get_label()) for h in _site_handles(d)] + (_band_handles(d, level) if d.curves else [])
    if any(len(g) >= 2 for _, g in d.arms.groupby(["site", "study"])):
        entries.append((Line2D([], [], color=PALETTE["muted"], linewidth=0.55), "Arms of one study"))
    if targets:
        tl = target_label(d.shown_targets[targets[0]]["target_lc"])
        marker = Line2D([], [], color=PALETTE["ink"], marker="D", markersize=4.5, linewidth=1.0)
        entries.append((marker, f"{tl} with {_lvl(level)}CI"))
    handles, labels = [h for h, _ in entries], [label for _, label in entries]
    legend = ax.legend(
        handles=handles,
        labels=labels,
        handler_map={tuple: HandlerTuple(ndivide=None, pad=0)},
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        fontsize=SMALL_FONT_SIZE,
        handlelength=1.8,
        borderaxespad=0.0,
        borderpad=0.0,
        labelspacing=0.6,
        frameon=False,
    )
    ax.add_artist(legend)
    return legend


def _size_key_legend(ax, weight: np.ndarray):
    """A second legend under the first: round shares of the total weight of the arms
    drawn, at the areas their bubbles would have."""
    share = 100.0 * weight / weight.sum()
    keys = [
        Line2D(
            [],
            [],
            linestyle="none",
            marker="o",
            markerfacecolor="none",
            markeredgewidth=0.7,
            markersize=np.sqrt(max(MAX_BUBBLE_PT2 * pct / share.max(), MIN_BUBBLE_PT2)),
            markeredgecolor=PALETTE["muted"],
            label=f"{pct:g}%",
        )
        for pct in _size_key(float(share.max()))
    ]
    size_key = ax.legend(
        handles=keys,
        loc="upper left",
        bbox_to_anchor=(1.0, 0.0),
        fontsize=SMALL_FONT_SIZE,
        title="Bubble area: share of\nthe total weight",
        title_fontsize=SMALL_FONT_SIZE,
        alignment="left",
        handlelength=1.8,
        borderaxespad=0.0,
        borderpad=0.0,
        labelspacing=1.3,
        frameon=False,
    )
    return size_key


def _footnote_lines(footnote: str | None, d: _Drawing, targets: list[str], level: float | None) -> list[str]:
    """The footnote's paragraphs: the model (made from the TCP entries unless given), the marks, the targets."""
    sites, tcps, shown_targets = d.sites, d.tcps, d.shown_targets
    foot = []
    if footnote is None:
        models = {}
        for s in sites:
            t = tcps.get(s)
            if t is not None and "model" in t:
                scale = "ln BED10" if t.get("scale", "log") == "log" else "BED10"
                kind = (
                    "three-level model (arms within studies)"
                    if str(t["model"]).startswith("multilevel")
                    else "two-level meta-regression (no study has several arms)"
                )
                fit = f"logit LC on {scale}, {kind}, {t.get('tau2_method', t.get('method', 'REML'))}"
                if "k" in t and "n_studies" in t:
                    fit += f", k = {int(t['k'])} arms"
                models.setdefault(fit, []).append(site_title(s))
        if len(models) == 1:
            footnote = next(iter(models))
        else:
            footnote = "; ".join(f"{', '.join(names)}: {fit}" for fit, names in models.items())
    if footnote:
        foot.append(footnote[:1].upper() + footnote[1:] + ".")
    foot.append(
        "Bubble area proportional to the arm's weight, 1/(v + between-arm variance); "
        f"lines join the dose arms of one study; curves: fitted mean with {_lvl(level)}CI (dark) and "
        f"{_lvl(level)}prediction interval for a new study (light)."
    )
    if targets:
        tl = target_label(shown_targets[targets[0]]["target_lc"])
        text = (
            f"Diamond: {tl}, the BED10 at which the fitted curve reaches "
            f"{float(shown_targets[targets[0]]['target_lc']) * 100:g}%, with its delta-method {_lvl(level)}CI "
            "(formed on the log scale)"
        )
        if any(not bool(shown_targets[s].get("slope_ci_excludes_zero", True)) for s in targets):
            text += f"; open diamond: the slope's {_lvl(level)}CI includes 0, so the CI understates the uncertainty"
        foot.append(text + ".")
    undefined = [site_title(s) for s, t in tcps.items() if s not in shown_targets]
    if undefined:
        tl = target_label(next(iter(tcps.values()))["target_lc"])
        foot.append(f"{tl} not estimable (fitted LC does not rise with dose): {', '.join(undefined)}.")
    return foot


def _label_rows(ax, measure, axes_w: float, x0: float, x1: float) -> int:
    """Stack the target labels above the axes in rows so that none overlaps another; the number of rows."""
    labels = [t for t in ax.texts if str(t.get_gid()).startswith("target-label:")]
    placed: list[list[tuple[float, float]]] = []
    for label in sorted(labels, key=lambda t: t.xy[0]):
        centre = axes_w * np.log(label.xy[0] / x0) / np.log(x1 / x0)
        half = measure(label.get_text()) / 2 + 0.06
        row = next((i for i, r in enumerate(placed) if all(abs(centre - c) >= half + h for c, h in r)), len(placed))
        if row == len(placed):
            placed.append([])
        placed[row].append((centre, half))
        label.xyann = (0, 5 + 72 * LABEL_ROW_IN * row)
    return len(placed)


def _layout(fig, ax, renderer, legend, size_key, foot: list[str], x0: float, x1: float) -> None:
    """Size the figure to the wrapped footnote, and place the axes, the legends and the footnote."""
    legend_box = legend.get_window_extent(renderer)
    legend_in = max(legend_box.width, size_key.get_window_extent(renderer).width) / fig.dpi
    legend_h_in = legend_box.height / fig.dpi
    foot_font = FontProperties(size=SMALL_FONT_SIZE)

    def measure(text):
        return renderer.get_text_width_height_descent(text, foot_font, ismath=False)[0] / fig.dpi

    lines = [line for f in foot for line in wrap_text(f, WIDTH_IN - 2 * PAD_IN, measure)]
    line_in = SMALL_FONT_SIZE * 1.3 / 72
    foot_in = len(lines) * line_in + PAD_IN
    axes_w = WIDTH_IN - LEFT_IN - LEGEND_GAP_IN - legend_in - RIGHT_IN
    rows = _label_rows(ax, measure, axes_w, x0, x1)
    fig_h = TOP_IN + rows * LABEL_ROW_IN + AXES_HEIGHT_IN + XLABEL_IN + foot_in + PAD_IN
    fig.set_size_inches(WIDTH_IN, fig_h)
    ax.set_position(
        (LEFT_IN / WIDTH_IN, (foot_in + XLABEL_IN + PAD_IN) / fig_h, axes_w / WIDTH_IN, AXES_HEIGHT_IN / fig_h)
    )
    legend.set_bbox_to_anchor((1.0 + LEGEND_GAP_IN / axes_w, 1.0), transform=ax.transAxes)
    size_key.set_bbox_to_anchor(
        (1.0 + LEGEND_GAP_IN / axes_w, 1.0 - (legend_h_in + 0.25) / AXES_HEIGHT_IN), transform=ax.transAxes
    )
    ax.xaxis.set_major_locator(FixedLocator(_dose_ticks(x0, x1, axes_w)))
    fig.text(
        PAD_IN / WIDTH_IN,
        PAD_IN / fig_h,
        "\n".join(lines),
        fontsize=SMALL_FONT_SIZE,
        color=PALETTE["muted"],
        va="bottom",
        ha="left",
        linespacing=1.3,
        gid="footnote",
    )


def draw_dose_response(
    arms: pd.DataFrame,
    curve=None,
    tcp=None,
    site_colors: Mapping | None = None,
    footnote: str | None = None,
    timepoint_months: float = 24,
    endpoint: str = "LC",
    endpoint_label: str | None = None,
    level: float | None = None,
) -> Figure:
    """LC (%) against BED10 (Gy, log axis): arms as bubbles, fitted curves, target markers.

    Parameters
    ----------
    arms : one row per arm with columns site, study, bed10 (Gy), lc (0-1) and weight
        (:func:`sbrtmeta.stats.dose_response.arm_table` gives them).
    curve : the fitted curves, a DataFrame with a site column (as
        :func:`sbrtmeta.stats.dose_response.dose_curve` returns) or a dict site -> DataFrame,
        with columns bed10, lc, ci_low, ci_high, pi_low, pi_high (0-1). Optional.
    tcp : per site the target dose: a dict site -> :class:`~sbrtmeta.stats.tcp.TcpParameters`
        (or a dict of its fields), or a DataFrame of such rows. Optional.
    site_colors : site -> colour; by default the Okabe-Ito colours in site order.
    footnote : the model line (e.g. :func:`sbrtmeta.plots.labels.dose_model_text`); by
        default one is made from the TCP entries. An explanation of the marks is added.
    timepoint_months, endpoint, endpoint_label : for the y-axis label.
    level : the CIs' level (dose_response.level); by default the ``level`` of the ``tcp``
        entries, and when neither gives one the labels name no level.

    Sites are drawn in the order they first appear in ``arms`` (then any others in
    ``curve`` or ``tcp``). Artists carry gids for tests: ``arms:<site>``,
    ``curve:<site>``, ``ci-band:<site>``, ``pi-band:<site>``, ``study-line:<study>``,
    ``target:<site>``, ``target-ci:<site>``, ``target-label:<site>``.
    """
    d = _drawing(arms, curve, tcp, site_colors)
    if level is None:
        level = next((float(t["level"]) for t in d.tcps.values() if "level" in t), None)
    x0, x1, y0, y1 = _limits(d)
    with figure_style():
        fig = Figure(figsize=(WIDTH_IN, 4.0))
        FigureCanvasAgg(fig)
        renderer = fig.canvas.get_renderer()
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xscale("log")
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        _draw_curves(ax, d)
        _draw_study_lines(ax, d)
        _draw_bubbles(ax, d)
        targets = _draw_targets(fig, ax, d, x0, x1)
        _style_axes(ax, x0, x1, y0, f"{endpoint_axis_label(endpoint, timepoint_months, endpoint_label)} (%)")
        legend = _legend(ax, d, targets, level)
        size_key = _size_key_legend(ax, d.weight)
        _layout(fig, ax, renderer, legend, size_key, _footnote_lines(footnote, d, targets, level), x0, x1)
    return fig
