# Figures. One job per figure kind draws every endpoint × time point (a Python job
# costs ~2 s of imports): the cells are the configured endpoints × time points, a cell
# with nothing pooled gets a figure that says so. Leave-one-out plots are one job per
# site with a cell of three or more studies (known after the pooling checkpoint).

ENDPOINT_NAMES = {"LC": "Local control", "OS": "Overall survival"}
FIGURE_CELLS = [
    (endpoint, f"{float(t):g}")
    for endpoint in config["inclusion"]["endpoints"]
    for t in sorted(config["inclusion"]["timepoints"]["targets"])
]
FIGURE_OPTIONS = {
    "sort": config["figures"].get("forest", {}).get("sort", "year"),
    "forest_max_studies": config["figures"].get("forest", {}).get("max_studies", 100),
    "loo_max_studies": config["figures"].get("leave_one_out", {}).get("max_studies", 100),
    "trimfill_max_studies": config["figures"].get("funnel", {}).get("trimfill_max_studies", 2000),
}


rule forest_plots:
    """Forest plots of every endpoint × time point, studies grouped by site."""
    input:
        pooled="results/tables/pooled.csv",
        studies="results/tables/pooled_studies.csv",
        subgroups="results/tables/subgroup_tests.csv",
        included="results/tables/included.csv",
        code=code_of("../scripts/plot_figures.py"),
    output:
        cell_outputs("forest"),
    log:
        "results/logs/forest_plots.log",
    conda:
        "../envs/sbrtmeta.yaml"
    params:
        kind="forest",
        cells=FIGURE_CELLS,
        formats=config["figures"]["formats"],
        dpi=config["figures"]["dpi"],
        options=FIGURE_OPTIONS,
    script:
        "../scripts/plot_figures.py"


rule funnel_plots:
    """Contour-enhanced funnel plots of every endpoint × time point, one panel per site."""
    input:
        pooled="results/tables/pooled.csv",
        studies="results/tables/pooled_studies.csv",
        code=code_of("../scripts/plot_figures.py"),
    output:
        cell_outputs("funnel"),
    log:
        "results/logs/funnel_plots.log",
    conda:
        "../envs/sbrtmeta.yaml"
    params:
        kind="funnel",
        cells=FIGURE_CELLS,
        formats=config["figures"]["formats"],
        dpi=config["figures"]["dpi"],
        options=FIGURE_OPTIONS,
    script:
        "../scripts/plot_figures.py"


rule leave_one_out_plot:
    """Leave-one-out estimates of one site's cells with three or more studies."""
    input:
        pooled="results/tables/pooled.csv",
        studies="results/tables/pooled_studies.csv",
        code=code_of("../scripts/plot_figures.py"),
    output:
        reported(
            [f"results/figures/leave_one_out_{{site}}.{ext}" for ext in config["figures"]["formats"]],
            "../report/leave_one_out.rst",
            site_title,
            "Leave-one-out",
        ),
        table="results/tables/leave_one_out_{site}.csv",
    log:
        "results/logs/leave_one_out_{site}.log",
    wildcard_constraints:
        site="[a-z_]+",
    conda:
        "../envs/sbrtmeta.yaml"
    params:
        kind="leave_one_out",
        formats=config["figures"]["formats"],
        dpi=config["figures"]["dpi"],
        options=FIGURE_OPTIONS,
        level=config["pooling"]["level"],
    script:
        "../scripts/plot_figures.py"


rule flow_diagram:
    """Flow diagram of study selection: extracted → excluded by criterion → included per site."""
    input:
        included="results/tables/included.csv",
        excluded="results/tables/excluded.csv",
        code=code_of("../scripts/plot_figures.py"),
    output:
        reported(
            [f"results/figures/flow_diagram.{ext}" for ext in config["figures"]["formats"]],
            "../report/flow_diagram.rst",
            "Study selection",
        ),
    log:
        "results/logs/flow_diagram.log",
    conda:
        "../envs/sbrtmeta.yaml"
    params:
        kind="flow",
        formats=config["figures"]["formats"],
        dpi=config["figures"]["dpi"],
    script:
        "../scripts/plot_figures.py"
