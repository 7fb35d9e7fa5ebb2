# Figures. Forest and funnel plots: one job per kind draws every endpoint × time point with
# a pooled or single-study cell into a folder (a Python job costs ~1 s of imports, so not
# one job per cell); cells with nothing pooled get no figure and are in not_pooled.csv.
# Leave-one-out: the refits in one job per site with a cell of three or more studies (known
# after the pooling checkpoint), their plots in one job from those tables.


rule forest_plots:
    """Forest plots of every endpoint × time point with a pooled cell, studies grouped by site."""
    input:
        pooled="results/tables/pooled.csv",
        studies="results/tables/pooled_studies.csv",
        subgroups="results/tables/subgroup_tests.csv",
        included="results/tables/included.csv",
        risk_of_bias="results/tables/risk_of_bias.csv",
        code=code_of("../scripts/forest_plots.py"),
    output:
        folder=cell_figures("forest", "Forest plots"),
    log:
        "results/logs/forest_plots.log",
    benchmark:
        "results/benchmarks/forest_plots.tsv"
    priority: 1  # the longest jobs start first once pooling is done
    conda:
        "../envs/sbrtmeta.yaml"
    params:
        endpoints=config["inclusion"]["endpoints"],
        formats=config["figures"]["formats"],
        dpi=config["figures"]["dpi"],
        options=config["figures"]["forest"],
        level=config["pooling"]["level"],
    script:
        "../scripts/forest_plots.py"


rule funnel_plots:
    """Funnel plots of every endpoint × time point with a pooled cell, one panel per site (axis: sensitivity.funnel)."""
    input:
        pooled="results/tables/pooled.csv",
        studies="results/tables/pooled_studies.csv",
        code=code_of("../scripts/funnel_plots.py"),
    output:
        folder=cell_figures("funnel", "Funnel plots"),
    log:
        "results/logs/funnel_plots.log",
    benchmark:
        "results/benchmarks/funnel_plots.tsv"
    priority: 1  # the longest jobs start first once pooling is done
    conda:
        "../envs/sbrtmeta.yaml"
    params:
        endpoints=config["inclusion"]["endpoints"],
        formats=config["figures"]["formats"],
        dpi=config["figures"]["dpi"],
        trimfill_max_studies=config["figures"]["funnel"]["trimfill_max_studies"],
        funnel=config["sensitivity"]["funnel"],
    script:
        "../scripts/funnel_plots.py"


rule leave_one_out:
    """Leave-one-out refits of one site's cells with three or more studies."""
    input:
        pooled="results/tables/pooled.csv",
        studies="results/tables/pooled_studies.csv",
        code=code_of("../scripts/leave_one_out.py"),
    output:
        table="results/tables/leave_one_out_{site}.csv",
    log:
        "results/logs/leave_one_out_{site}.log",
    benchmark:
        "results/benchmarks/leave_one_out/{site}.tsv"
    wildcard_constraints:
        site="[a-z_]+",
    conda:
        "../envs/sbrtmeta.yaml"
    params:
        # a cell of more studies is not refitted, which the table says (a limit on the fits, not on the drawing)
        max_studies=config["figures"]["leave_one_out"]["max_studies"],
        level=config["pooling"]["level"],
        back_transform=config["pooling"]["back_transform"],
    script:
        "../scripts/leave_one_out.py"


rule leave_one_out_figures:
    """Leave-one-out plots of every site with a cell of three or more studies, from their tables."""
    input:
        tables=leave_one_out_tables,
        code=code_of("../scripts/leave_one_out_figures.py"),
    output:
        folder=report(
            directory("results/figures/leave_one_out"),
            patterns=[f"leave_one_out_{{site}}.{report_format()}"],
            caption="../report/leave_one_out.rst",
            category="Leave-one-out",
            labels=lambda w: {"site": site_title(w)},
        ),
    log:
        "results/logs/leave_one_out_figures.log",
    benchmark:
        "results/benchmarks/leave_one_out_figures.tsv"
    conda:
        "../envs/sbrtmeta.yaml"
    params:
        level=config["pooling"]["level"],
        formats=config["figures"]["formats"],
        dpi=config["figures"]["dpi"],
    script:
        "../scripts/leave_one_out_figures.py"


rule flow_diagram:
    """Flow diagram of study selection: extracted → excluded by criterion → included per site."""
    input:
        included="results/tables/included.csv",
        excluded="results/tables/excluded.csv",
        code=code_of("../scripts/flow_diagram.py"),
    output:
        folder=report(
            directory("results/figures/flow_diagram"),
            patterns=[f"{{figure}}.{report_format()}"],  # (a pattern without a wildcard finds nothing)
            caption="../report/flow_diagram.rst",
            category="Study selection",
            labels={"figure": "{figure}"},
        ),
    log:
        "results/logs/flow_diagram.log",
    benchmark:
        "results/benchmarks/flow_diagram.tsv"
    conda:
        "../envs/sbrtmeta.yaml"
    params:
        formats=config["figures"]["formats"],
        dpi=config["figures"]["dpi"],
    script:
        "../scripts/flow_diagram.py"
