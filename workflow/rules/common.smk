import pandas as pd


wildcard_constraints:
    endpoint="LC|OS",
    timepoint=r"\d+(\.\d+)?",


def package(*modules):
    """Package modules a rule's results depend on: editing them reruns the rule."""
    return [f"workflow/sbrtmeta/{m}.py" for m in modules]


def figure_paths(kind, endpoint, timepoint):
    return [
        f"results/figures/{kind}_{endpoint}_{timepoint}m.{ext}"
        for ext in config["figures"]["formats"]
    ]


def all_figures(wildcards):
    """Forest and funnel plots for every endpoint × time point that was pooled."""
    pooled = pd.read_csv(checkpoints.pool.get().output.pooled)
    cells = pooled[["endpoint", "timepoint_months"]].drop_duplicates()
    paths = []
    for endpoint, t in sorted(cells.itertuples(index=False, name=None)):
        for kind in ("forest", "funnel"):
            paths += figure_paths(kind, endpoint, f"{t:g}")
    return paths
