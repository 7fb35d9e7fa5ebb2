"""sbrtmeta: meta-analysis of SBRT for oligometastases.

The package holds the logic behind the Snakemake workflow: parsers for the printed
cells of extraction sheets, the cleanup into a tidy table, inclusion criteria,
effect sizes and random-effects models for proportions, and the plots.
"""

__version__ = "0.1.0"
