"""The summary's section on survival curves (issue 13): the curve model's estimates at the
target time points beside the per-time-point pooling, the cells without a curve and why,
and the studies whose printed rates rise over time. A pure function of the tables."""

from __future__ import annotations

import pandas as pd

from sbrtmeta.plots.labels import endpoint_name, level_text, pct
from sbrtmeta.report.formats import markdown_table


def _ci(r) -> str:
    return f"{pct(r['estimate'])}% ({pct(r['ci_low'])}–{pct(r['ci_high'])})"


def curves_section(
    curves: pd.DataFrame | None,
    models: pd.DataFrame | None,
    studies: pd.DataFrame | None,
    pooled: pd.DataFrame,
    targets: list,
) -> list[str]:
    """Markdown lines of the section (a line saying so when the curve tables are missing or empty)."""
    out = ["## Survival curves", ""]
    if curves is None or models is None or models.empty:
        return out + ["No curve model was fitted (no curve tables).", ""]
    fitted = models[models["status"] == "fitted"].drop_duplicates(["site", "histology", "endpoint"])
    out += [
        "Every rate a study prints, at whatever month, in one model per site × histology × endpoint: "
        "`rma.mv(yi, V, mods = ~ f(t), random = ~ t | study, struct)` on the logit scale, V the "
        "covariance of one cohort's rates under the binomial approximation (no censoring; the smaller "
        "n where the denominators differ). Curve estimates beside the per-time-point pooling "
        f"(% with {level_text(float(models['level'].iloc[0]))} CI; `survival_curves.csv`, `curve_models.csv`):",
        "",
    ]
    rows = []
    for m in fitted.itertuples(index=False):
        c = curves[
            (curves["site"] == m.site) & (curves["histology"] == m.histology) & (curves["endpoint"] == m.endpoint)
        ]
        p = pooled[
            (pooled["site"] == m.site) & (pooled["histology"] == m.histology) & (pooled["endpoint"] == m.endpoint)
        ]
        for t in targets:
            at = c[c["month"] == float(t)]
            pt = p[p["timepoint_months"] == float(t)]
            if at.empty and pt.empty:
                continue
            curve = (
                "–" if at.empty else _ci(at.iloc[0]) + ("" if bool(at.iloc[0]["within_data"]) else " (extrapolated)")
            )
            per = "–" if pt.empty else f"{_ci(pt.iloc[0])}, k = {int(pt.iloc[0]['k'])}"
            rows.append([m.site, m.histology, endpoint_name(m.endpoint), f"{float(t):g}", curve, per])
    if rows:
        header = ["Site", "Histology", "Endpoint", "Months", "Curve model", "Per-time-point pooling"]
        out += [markdown_table(header, rows), ""]
    for m in fitted.itertuples(index=False):
        out.append(
            f"- {m.site} ({m.histology}) {m.endpoint}: f(t) = {m.time_function}, struct {m.struct}, "
            f"{int(m.k_rows)} rates of {int(m.n_studies)} studies ({int(m.n_studies_several_times)} with several "
            f"time points), printed at {m.times} months"
            + (f"; {m.reason}" if isinstance(m.reason, str) and m.reason else "")
        )
    fallback = models[models["status"] == "fallback"]
    for m in fallback.itertuples(index=False):
        out.append(f"- {m.site} ({m.histology}) {m.endpoint}: no curve, per-time-point pooling only: {m.reason}")
    if studies is not None and not studies.empty and studies["rising"].astype(str).eq("True").any():
        rise = studies[studies["rising"].astype(str) == "True"]
        for (site, endpoint, label), r in rise.groupby(["site", "endpoint", "label"], sort=True):
            times = ", ".join(f"{pct(x)}% at {t:g}" for t, x in zip(r["timepoint_months"], r["rate"]))
            out.append(
                f"- Warning: {label} ({site} {endpoint}) prints rates that rise over time ({times} months); "
                "kept as printed."
            )
    return out + [""]
