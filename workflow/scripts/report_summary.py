"""Snakemake script: results/report/summary.md from the result tables."""

from pathlib import Path

import pandas as pd
from sbrtmeta.report.step import run_step
from sbrtmeta.report.summary import figure_list, summary_markdown


def main(log):
    sm = snakemake  # noqa: F821
    read = lambda path: pd.read_csv(path, dtype={"first_author": str, "ref": str})  # noqa: E731
    dose = read(sm.input.dose)
    text = summary_markdown(
        read(sm.input.pooled),
        read(sm.input.subgroups),
        read(sm.input.included),
        read(sm.input.excluded),
        read(sm.input.not_pooled),
        dose,
        figure_list(list(sm.input.figures) + list(sm.input.dose_figures)),
        report_dir=str(Path(sm.output[0]).parent),
        sites=list(sm.params.sites),
    )
    Path(sm.output[0]).parent.mkdir(parents=True, exist_ok=True)
    Path(sm.output[0]).write_text(text, encoding="utf-8")
    log.info("wrote %s", sm.output[0])


run_step("report", snakemake.log[0], main)  # noqa: F821
