# SBRT for oligometastases: extraction cleanup → inclusion → pooling → figures.
# Run `snakemake` from this folder; profiles/default/ supplies the options.
from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config/config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/clean.smk"
include: "workflow/rules/include.smk"
include: "workflow/rules/pool.smk"
include: "workflow/rules/plots.smk"
include: "workflow/rules/dose.smk"
include: "workflow/rules/report.smk"


rule all:
    input:
        "results/clean/outcomes.csv",
        "results/tables/included.csv",
        "results/tables/excluded.csv",
        "results/tables/pooled.csv",
        "results/tables/not_pooled.csv",
        "results/tables/subgroup_tests.csv",
        rules.dose_response.output,
        all_figures,
        "results/report/summary.md",
    default_target: True
