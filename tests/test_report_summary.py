"""summary.md is written from the tables: its numbers are the tables' numbers."""

import re

import numpy as np
import pandas as pd
from sbrtmeta.report.summary import dose_table, figure_list, site_paragraph, summary_markdown


def pooled():
    return pd.DataFrame(
        [
            dict(
                site="liver",
                histology="colorectal",
                endpoint="LC",
                timepoint_months=24.0,
                k=3,
                n_total=170,
                model="random effects",
                transform="PLO",
                tau2_method="REML",
                ci_method="knha",
                estimate=0.87218,
                ci_low=0.50563,
                ci_high=0.97850,
                pi_low=0.19527,
                pi_high=0.99482,
                tau2=0.40675,
                i2=69.4228,
                q=6.5828,
                q_p=0.0372,
                studies="A [1]; B [2]; C [3]",
            ),
            dict(
                site="adrenal",
                histology="colorectal",
                endpoint="OS",
                timepoint_months=12.0,
                k=1,
                n_total=48,
                model="single study",
                transform="PLO",
                tau2_method="",
                ci_method="z",
                estimate=0.39583,
                ci_low=0.26868,
                ci_high=0.53883,
                pi_low=np.nan,
                pi_high=np.nan,
                tau2=np.nan,
                i2=np.nan,
                q=np.nan,
                q_p=np.nan,
                studies="Casamassima 2012 [99]",
            ),
        ]
    )


def subgroups():
    return pd.DataFrame(
        [
            dict(
                histology="colorectal",
                endpoint="LC",
                timepoint_months=24.0,
                sites="adrenal; liver",
                k=4,
                transform="PLO",
                tau2_method="REML",
                ci_method="knha",
                test="F",
                qm=0.0825,
                df1=1,
                df2=2,
                p=0.8011,
                tau2=0.44,
            )
        ]
    )


def selection():
    included = pd.DataFrame(
        dict(study_id=["a", "b", "c", "d"], site=["liver"] * 3 + ["adrenal"], endpoint=["LC", "LC", "LC", "OS"])
    )
    excluded = pd.DataFrame(
        dict(study_id=["e", "f"], site=["spine", "liver"], endpoint=["LC", "OS"], criterion=["no_single_rate", "basis"])
    )
    not_pooled = pd.DataFrame(
        [
            dict(
                site="spine",
                histology="colorectal",
                endpoint="LC",
                rows=1,
                reason="no_single_rate: 1 row",
                detail="no single rate",
            )
        ]
    )
    return included, excluded, not_pooled


def dose():
    """The dose-response table the workflow writes, fitted on the fixture's workflow arms."""
    from sbrtmeta.analysis.dose_response import analyse_dose_response
    from test_dose_analysis import _arms

    arms = _arms()
    extra = arms.iloc[[0]].assign(site="adrenal", study_id="x-1")
    return analyse_dose_response(pd.concat([arms, extra], ignore_index=True), n_boot=50, seed=3).table


def test_site_paragraph_says_only_what_the_answer_does_not():
    """Each fact once: the rates are the Answer's; a site's line names the source of each single-study rate
    and why a cell was not pooled, and no dose-response fit (its own section)."""
    text = site_paragraph("liver", pooled())
    assert text.startswith("**Liver.**") and "87.2" not in text and "τ²" not in text
    single = site_paragraph("adrenal", pooled(), None)
    assert "overall survival at 12 months from Casamassima 2012 [99]" in single and "39.6" not in single
    included, excluded, not_pooled = selection()
    spine = site_paragraph("spine", pooled(), not_pooled)
    assert "No rate of this site could be pooled." in spine
    assert "no single rate reported (1 row)" in spine


def test_summary_has_every_section_and_the_tables_numbers():
    included, excluded, not_pooled = selection()
    md = summary_markdown(
        pooled(),
        subgroups(),
        included,
        excluded,
        not_pooled,
        dose(),
        figure_list(
            [
                "results/figures/forest_LC_24m.pdf",
                "results/figures/forest_LC_24m.png",
                "results/figures/flow_diagram.png",
                "results/figures/leave_one_out_lymph_node.svg",
                "results/figures/dose_response_LC_24m.png",
            ]
        ),
        sites=["liver", "lung", "adrenal", "spine"],
        level=0.95,
    )
    headings = [line for line in md.splitlines() if line.startswith("## ")]
    assert headings == [
        "## Answer",
        "## Pooling",
        "## Dose-response",
        "## Certainty of the evidence (GRADE)",
        "## Study selection",
        "## Appendix",
    ]
    assert "### A. Pooled estimates" in md and "### C. Figures" in md
    # Paragraphs in the configured site order; lung has nothing and is left out.
    assert md.index("**Liver.**") < md.index("**Adrenal.**") < md.index("**Spine.**")
    assert "**Lung.**" not in md
    assert "| liver | colorectal | LC | 24 | 3 | 170 | Random-effects model | 87.2 (50.6–97.9) | 19.5–99.5 | 69 |" in md
    assert "| colorectal | LC | 24 | adrenal; liver | 4 | F(1, 2) = 0.08 | .801 |" in md
    assert "6 outcome rows from 6 studies were extracted; 4 rows (4 studies) were included and 2 excluded." in md
    assert "| no single rate reported | 1 |" in md
    # Figures: one file each (PNG first), flow diagram first, linked from results/report/, one line per kind.
    figures = md[md.index("### C. Figures") :]
    assert "- [Flow diagram of study selection](../figures/flow_diagram.png)" in figures
    assert "- Forest plot: [local control at 24 months](../figures/forest_LC_24m.png)" in figures
    assert "forest_LC_24m.pdf" not in figures
    assert "- Leave-one-out analysis: [lymph node](../figures/leave_one_out_lymph_node.svg)" in figures
    assert (
        figures.index("flow_diagram")
        < figures.index("forest_")
        < figures.index("leave_one_out")
        < figures.index("dose_response")
    )


def test_dose_table_shows_the_tcp_doses_with_both_intervals():
    d = dose().assign(level=0.95)
    text = dose_table(d)
    assert text.splitlines()[2].startswith("| Model | Site | Histology | Arms (studies) | Slope (95% CI), p |")
    assert "Slope (90% CI), p" in dose_table(d.assign(level=0.9))  # the level is the table's (config's)
    assert "BED90, Gy" in text.splitlines()[2]
    liver = d[(d.model == "per site") & (d.site == "liver")].iloc[0]
    line = next(x for x in text.splitlines() if x.startswith("| per site | liver |"))
    assert (  # an interval over more than three orders of magnitude (here the bootstrap's, to ∞) is not estimable
        f"{liver.bed_target:.0f} ({liver.bed_target_ci_low:.0f}–{liver.bed_target_ci_high:.0f}; bootstrap "
        f"not estimable ({liver.bed_target_boot_low:.0f}–∞))"
    ) in line
    assert not re.search(r"\d[eE][+-]?\d", text)  # no scientific notation
    assert f"| {int(liver.k_arms)} ({int(liver.n_studies)}) |" in line
    adrenal = next(x for x in text.splitlines() if x.startswith("| per site | adrenal |"))
    assert "not fitted: 1 arm(s)" in adrenal
    assert "No dose-response model" in dose_table(None)
    assert "No dose-response model" in dose_table(d.iloc[:0])


def test_summary_without_dose_or_figures():
    included, excluded, not_pooled = selection()
    md = summary_markdown(pooled(), subgroups().iloc[:0], included, excluded, None, None, None, level=0.95)
    assert "No dose-response model" in md
    assert "No endpoint × time point had two sites to compare." in md
    assert "### C. Figures" not in md
    assert md.endswith("\n") and not md.endswith("\n\n")


def test_figure_folders_are_listed_file_by_file_cells_in_time_order(tmp_path):
    """The forest and funnel rules write folders; the summary lists their files, a cell's
    figures by endpoint and then by time point as a number (6 before 12 months)."""
    from sbrtmeta.report.summary import figure_files

    forest = tmp_path / "forest"
    forest.mkdir()
    for stem in ("forest_OS_12m", "forest_LC_12m", "forest_LC_6m"):
        for ext in ("png", "pdf"):
            (forest / f"{stem}.{ext}").write_bytes(b"")
    flow = tmp_path / "flow_diagram.png"
    flow.write_bytes(b"")
    files = figure_files([str(forest), str(flow)])
    assert len(files) == 7 and str(flow) in files
    titles = [title for title, _ in figure_list(files)]
    assert titles == [
        "Flow diagram of study selection",
        "Forest plot: local control at 6 months",
        "Forest plot: local control at 12 months",
        "Forest plot: overall survival at 12 months",
    ]
