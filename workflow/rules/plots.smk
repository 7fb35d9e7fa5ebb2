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


def report_format():
    """The one format of each figure shown in the HTML report."""
    formats = config["figures"]["formats"]
    return next(f for f in ("png", "svg", "pdf") if f in formats)


def reported(paths, caption, category, subcategory=None, labels=None):
    """``paths`` with the report format's file flagged for the HTML report."""
    shown = report_format()
    flag = report  # (a line may not start with `report`: Snakemake's parser reads it as a directive)
    return [
        flag(p, caption=caption, category=category, subcategory=subcategory, labels=labels)
        if p.endswith("." + shown) else p
        for p in paths
    ]


def cell_outputs(kind):
    out = []
    for endpoint, t in FIGURE_CELLS:
        what = f"{ENDPOINT_NAMES.get(endpoint, endpoint)}, {t} months"
        out += reported(figure_paths(kind, endpoint, t), f"../report/{kind}.rst",
                        "Forest plots" if kind == "forest" else "Funnel plots", what,
                        {"endpoint": endpoint, "time point": f"{t} months"})
    return out


def site_title(wildcards):
    site = wildcards.site.replace("_", " ")
    return site[:1].upper() + site[1:]


rule forest_plots:
    """Forest plots of every endpoint × time point, studies grouped by site."""
    input:
        pooled="results/tables/pooled.csv",
        studies="results/tables/pooled_studies.csv",
        subgroups="results/tables/subgroup_tests.csv",
        included="results/tables/included.csv",
        code=package("plots/forest", "plots/style"),
    output:
        cell_outputs("forest"),
    params:
        kind="forest",
        cells=FIGURE_CELLS,
        formats=config["figures"]["formats"],
        dpi=config["figures"]["dpi"],
        options=FIGURE_OPTIONS,
    log:
        "results/logs/forest_plots.log",
    script:
        "../scripts/plot_figures.py"


rule funnel_plots:
    """Contour-enhanced funnel plots of every endpoint × time point, one panel per site."""
    input:
        pooled="results/tables/pooled.csv",
        studies="results/tables/pooled_studies.csv",
        code=package("plots/funnel", "plots/forest", "plots/style", "stats/small_study", "stats/meta_regression"),
    output:
        cell_outputs("funnel"),
    params:
        kind="funnel",
        cells=FIGURE_CELLS,
        formats=config["figures"]["formats"],
        dpi=config["figures"]["dpi"],
        options=FIGURE_OPTIONS,
    log:
        "results/logs/funnel_plots.log",
    script:
        "../scripts/plot_figures.py"


rule leave_one_out_plot:
    """Leave-one-out estimates of one site's cells with three or more studies."""
    input:
        pooled="results/tables/pooled.csv",
        studies="results/tables/pooled_studies.csv",
        code=package("plots/leave_one_out", "stats/influence", "plots/forest", "plots/style"),
    output:
        reported(
            [f"results/figures/leave_one_out_{{site}}.{ext}" for ext in config["figures"]["formats"]],
            "../report/leave_one_out.rst",
            site_title,
            "Leave-one-out",
        ),
        table="results/tables/leave_one_out_{site}.csv",
    params:
        kind="leave_one_out",
        formats=config["figures"]["formats"],
        dpi=config["figures"]["dpi"],
        options=FIGURE_OPTIONS,
        level=config["pooling"]["level"],
    wildcard_constraints:
        site="[a-z_]+",
    log:
        "results/logs/leave_one_out_{site}.log",
    script:
        "../scripts/plot_figures.py"


rule flow_diagram:
    """Flow diagram of study selection: extracted → excluded by criterion → included per site."""
    input:
        included="results/tables/included.csv",
        excluded="results/tables/excluded.csv",
        code=package("plots/flow_diagram", "plots/style"),
    output:
        reported(
            [f"results/figures/flow_diagram.{ext}" for ext in config["figures"]["formats"]],
            "../report/flow_diagram.rst",
            "Study selection",
        ),
    params:
        kind="flow",
        formats=config["figures"]["formats"],
        dpi=config["figures"]["dpi"],
    log:
        "results/logs/flow_diagram.log",
    script:
        "../scripts/plot_figures.py"
