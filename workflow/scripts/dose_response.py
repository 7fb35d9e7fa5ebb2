"""Snakemake script: tidy outcomes → dose-response tables and the bubble plot.

The inclusion criteria of config are applied again with the dose-response time
window (dose_response.timepoint_months and tolerance_months; any time point when
convert_timepoint is true), so that the analysis uses the same studies as pooling.
BED10 is recomputed here from the printed dose with dose_response.alpha_beta and
dose_rule: changing either reruns only this step.
"""

import pandas as pd
from sbrtmeta.analysis.dose_arms import dose_response_rows
from sbrtmeta.analysis.dose_response import TABLE_COLUMNS, analyse_dose_response
from sbrtmeta.data.inclusion import apply_inclusion, read_outcomes
from sbrtmeta.plots.bubble import draw_dose_response
from sbrtmeta.plots.style import message_figure, save_figure
from sbrtmeta.report.step import run_step, write_table

RULE_NAMES = {
    "median_or_midpoint": "printed median, else midpoint of the BED range",
    "minimum": "lowest BED of the range",
    "maximum": "highest BED of the range",
    "exclude_ranges": "arms with a dose range left out",
}


def main(log):
    d = snakemake.params.dose  # noqa: F821
    t, tol, convert = float(d["timepoint_months"]), float(d["tolerance_months"]), bool(d["convert_timepoint"])
    criteria = dict(snakemake.params.inclusion)  # noqa: F821
    criteria["endpoints"] = [d["endpoint"]]
    criteria["timepoints"] = {"targets": [t], "tolerance_months": float("inf") if convert else tol}
    included, excluded = apply_inclusion(read_outcomes(snakemake.input.outcomes), criteria)  # noqa: F821
    arms, left_out = dose_response_rows(
        included,
        excluded,
        d["endpoint"],
        t,
        tol,
        convert,
        float(d["alpha_beta"]),
        d["dose_rule"],
        snakemake.params.histology,
    )  # noqa: F821
    if arms.empty:  # say so in every output rather than fail the whole workflow
        why = (
            f"No arm has a dose, {d['endpoint']} at {t:g} months (tolerance {tol:g}) and a sample size, so "
            "there is no dose-response to fit. Widen dose_response.tolerance_months or set "
            "convert_timepoint: true; dose_response_left_out.csv says why each arm was left out."
        )
        write_table(pd.DataFrame(columns=list(TABLE_COLUMNS)), snakemake.output.table)  # noqa: F821
        write_table(arms, snakemake.output.arms)  # noqa: F821
        write_table(left_out, snakemake.output.left_out)  # noqa: F821
        save_figure(message_figure(why), list(snakemake.output.figures), dpi=snakemake.params.dpi)  # noqa: F821
        log.warning("%s", why)
        return
    a = analyse_dose_response(
        arms,
        scale=d["scale"],
        method=d["method"],
        test=d["test"],
        level=d["level"],
        target_lc=d["target_lc"],
        min_arms=d["min_arms"],
        n_boot=d["bootstrap"]["replicates"],
        seed=d["bootstrap"]["seed"],
        alpha_beta=d["alpha_beta"],
        dose_rule=d["dose_rule"],
        boot_max_arms=d["bootstrap"].get("max_arms", 200),
    )
    used = a.arms.assign(alpha_beta=float(d["alpha_beta"])).rename(columns={"bed": "bed10"})
    write_table(a.table, snakemake.output.table)  # noqa: F821
    write_table(used, snakemake.output.arms)  # noqa: F821
    write_table(left_out, snakemake.output.left_out)  # noqa: F821

    fitted = set(a.tcp)
    plotted = used[used["site_key"].isin(fitted)]
    if plotted.empty:  # nothing fitted: still show the arms
        plotted = used.assign(weight=1.0)
    bubbles = pd.DataFrame(
        {
            "site": plotted["site_key"],
            "study": plotted["study_id"],
            "bed10": plotted["bed10"],
            "lc": plotted["events"] / plotted["n"],
            "weight": plotted["weight"],
        }
    )
    curve = a.curves if not a.curves.empty else None
    conv = int(used.loc[used["site_key"].isin(fitted), "converted"].sum())
    foot = [a.footnote] if a.footnote else []
    foot.append(f"BED10 with α/β = {d['alpha_beta']:g} Gy; one dose per arm: {RULE_NAMES[d['dose_rule']]}")
    if conv:
        foot.append(f"{conv} arm(s) converted to {t:g} months under a constant hazard, S(t) = S(t0)^(t/t0)")
    not_fitted = a.table[a.table["note"].fillna("").str.startswith("not fitted")]
    if len(not_fitted):
        foot.append(
            "not fitted (too few arms or a single dose; see dose_response.csv): "
            + ", ".join(f"{s} ({h})" for s, h in zip(not_fitted["site"], not_fitted["histology"]))
        )
    fig = draw_dose_response(
        bubbles, curve, a.tcp or None, footnote="; ".join(foot), timepoint_months=t, endpoint=d["endpoint"]
    )
    save_figure(fig, list(snakemake.output.figures), dpi=snakemake.params.dpi)  # noqa: F821

    log.info(
        "%d arms used (%d converted to %g months), %d left out; alpha/beta %g Gy, rule %s",
        len(used),
        int(used["converted"].sum()),
        t,
        len(left_out),
        d["alpha_beta"],
        d["dose_rule"],
    )
    for r in a.table.itertuples():
        if pd.isna(r.bed50) and pd.isna(r.slope):
            log.info("%s %s (%s): %s", r.model, r.site, r.histology, r.note)
            continue
        log.info(
            "%s %s (%s): k = %d arms, %d studies; slope %.3f (p = %.3g); BED50 %.1f Gy [%.1f, %.1f]; "
            "gamma50 %.2f; BED%g %.1f Gy [%.1f, %.1f] (bootstrap [%.1f, %.1f]) %s",
            r.model,
            r.site,
            r.histology,
            r.k_arms,
            r.n_studies,
            r.slope,
            r.slope_p,
            r.bed50,
            r.bed50_ci_low,
            r.bed50_ci_high,
            r.gamma50,
            100 * r.target_lc,
            r.bed_target,
            r.bed_target_ci_low,
            r.bed_target_ci_high,
            r.bed_target_boot_low,
            r.bed_target_boot_high,
            r.note,
        )


run_step("dose_response", snakemake.log[0], main)  # noqa: F821
