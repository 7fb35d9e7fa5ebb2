import csv


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
    """Forest and funnel plots of every configured endpoint × time point (FIGURE_CELLS,
    plots.smk), the flow diagram, and a leave-one-out plot per site with a pooled cell
    of three or more studies (known after the pooling checkpoint)."""
    paths = []
    for kind in ("forest", "funnel"):
        for endpoint, t in FIGURE_CELLS:
            paths += figure_paths(kind, endpoint, t)
    paths += [f"results/figures/flow_diagram.{ext}" for ext in config["figures"]["formats"]]
    csv.field_size_limit(2**31 - 1)  # a cell of thousands of studies lists long study-id fields
    with open(checkpoints.pool.get().output.pooled, newline="", encoding="utf-8") as fh:
        sites = {r["site"] for r in csv.DictReader(fh) if int(r["k"]) >= 3}  # csv, not pandas: a no-op run stays fast
    for site in sorted(sites):
        slug = site.replace(" ", "_")
        paths += [f"results/figures/leave_one_out_{slug}.{ext}" for ext in config["figures"]["formats"]]
    return paths
