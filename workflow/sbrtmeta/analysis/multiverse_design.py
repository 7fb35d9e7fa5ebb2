"""The multiverse's design: its choices, the main analysis's place among them, and the number of
specifications of the full factorial, counted without listing them.

A specification is one choice per dimension (:data:`CHOICES`; Steegen et al., Perspect Psychol Sci
2016;11:702-712): the inclusion choices (``min_n``, the time-point tolerance, crude proportions, mixed
primaries, overlapping cohorts) and the pooling choices (histology grouping, transform, model, τ²
estimator, CI method). :mod:`sbrtmeta.analysis.multiverse` lists (or samples) and fits them; the pre-flight budget
(:mod:`sbrtmeta.analysis.budget`) counts them with :func:`specification_count`, which is why this
module imports neither statistics nor pandas: every ``snakemake`` call runs the pre-flight.
"""

from __future__ import annotations

import copy
import itertools
import math

INCLUSION_CHOICES = ("min_n", "tolerance_months", "crude", "mixed_primaries", "overlaps")
POOLING_CHOICES = ("histology_grouping", "transform", "model", "tau2_method", "ci_method")
CHOICES = INCLUSION_CHOICES + POOLING_CHOICES


def main_choices(inclusion: dict, pooling: dict) -> dict:
    """The choices of the main analysis (the config's inclusion and pooling)."""
    crude = inclusion.get("crude", {"pool": False, "timepoint": "none"})
    glmm = pooling["model"] == "glmm"
    return dict(
        min_n=inclusion["min_n"],
        tolerance_months=inclusion["timepoints"]["tolerance_months"],
        crude=crude["timepoint"] if crude["pool"] else "none",
        mixed_primaries="include" if "mixed" in inclusion["primaries"] else "exclude",
        overlaps="later_report" if inclusion.get("overlaps") else "every_report",
        histology_grouping=pooling["histology"],
        transform=pooling["transform"],
        model=pooling["model"],
        tau2_method="GLMM" if glmm else pooling["tau2_method"],
        ci_method="z" if glmm else pooling["ci_method"],
    )


def outer_levels(multiverse: dict) -> list[list]:
    """The levels of the inclusion choices and the histology grouping, each once, in order."""
    inc, pool = multiverse["inclusion"], multiverse["pooling"]
    return [list(dict.fromkeys(inc[c])) for c in INCLUSION_CHOICES] + [list(dict.fromkeys(pool["histology"]))]


def model_block(multiverse: dict) -> list[tuple]:
    """The (transform, model, τ², CI) combinations crossed with every outer choice, in factorial
    order, a GLMM kept once per transform PLO (its own τ² and Wald CI)."""
    pool = multiverse["pooling"]
    seen: dict = {}
    for transform, model, tau2, ci in itertools.product(
        pool["transform"], pool["model"], pool["tau2_method"], pool["ci_method"]
    ):
        if model == "glmm":
            if transform != "PLO":
                continue
            tau2, ci = "GLMM", "z"
        seen.setdefault((transform, model, tau2, ci), None)
    return list(seen)


def specification_count(multiverse: dict) -> int:
    """The number of specifications of the full factorial, counted without listing them."""
    return math.prod(len(levels) for levels in outer_levels(multiverse)) * len(model_block(multiverse))


def inclusion_criteria(inclusion: dict, spec) -> dict:
    """The config's inclusion criteria with a specification's inclusion choices."""
    out = copy.deepcopy(inclusion)
    out["min_n"] = int(spec["min_n"])
    out["timepoints"]["tolerance_months"] = float(spec["tolerance_months"])
    crude = spec["crude"]
    out["crude"] = {"pool": crude != "none", "timepoint": crude}
    primaries = [p for p in out["primaries"] if p != "mixed"]
    out["primaries"] = primaries + ["mixed"] if spec["mixed_primaries"] == "include" else primaries
    if spec["mixed_primaries"] == "include" and "mixed" in inclusion["primaries"]:
        out["primaries"] = list(inclusion["primaries"])  # the configured order (it picks among arms)
    out["overlaps"] = list(inclusion.get("overlaps", [])) if spec["overlaps"] == "later_report" else []
    return out
