"""Steps: one function per Snakemake rule, named after it (``steps.pool.pool``,
``steps.funnel_plots.funnel_plots``, ...), that pairs an analysis with its plot and logs what it
did; and the runner (:mod:`sbrtmeta.steps.runner`: logging, one-line input errors, reading and
writing result tables) that every script in ``workflow/scripts/`` uses.

Each rule's script reads its inputs with the runner, calls its one step function and writes what
it returns. A module per rule keeps each rule's code inputs (``code_of``) to what it runs; this
``__init__`` imports nothing, for the same reason.
"""
