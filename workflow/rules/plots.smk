rule forest_plot:
    """Forest plot of one endpoint × time point, studies grouped by site."""
    input:
        pooled="results/tables/pooled.csv",
        studies="results/tables/pooled_studies.csv",
        code=package("forest", "plot_style"),
    output:
        report(
            figure_paths("forest", "{endpoint}", "{timepoint}"),
            caption="../report/forest.rst",
            category="Forest plots",
        ),
    params:
        kind="forest",
        dpi=config["figures"]["dpi"],
    log:
        "results/logs/forest_{endpoint}_{timepoint}m.log",
    script:
        "../scripts/plot_cell.py"


rule funnel_plot:
    """Funnel plot of one endpoint × time point, one panel per site."""
    input:
        pooled="results/tables/pooled.csv",
        studies="results/tables/pooled_studies.csv",
        code=package("funnel", "forest", "plot_style"),
    output:
        report(
            figure_paths("funnel", "{endpoint}", "{timepoint}"),
            caption="../report/funnel.rst",
            category="Funnel plots",
        ),
    params:
        kind="funnel",
        dpi=config["figures"]["dpi"],
    log:
        "results/logs/funnel_{endpoint}_{timepoint}m.log",
    script:
        "../scripts/plot_cell.py"
