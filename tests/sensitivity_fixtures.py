"""The inputs and metafor values of tests/metafor/make_permutation_fixtures.R and
make_sensitivity_tests_fixtures.R, shared by
test_permutation, test_robust, test_location_scale, test_model_comparison and test_sensitivity_tests."""

from pathlib import Path

import pandas as pd

FIX = Path(__file__).parent / "fixtures"
INPUTS = pd.read_csv(FIX / "sensitivity_tests_inputs.csv")
REF = pd.concat(
    [pd.read_csv(FIX / f"metafor_{name}.csv") for name in ("permutation", "sensitivity_tests")], ignore_index=True
).fillna({"term": ""})


def ref(dataset: str, analysis: str) -> dict:
    """``{(term, quantity): value}`` of one analysis of one dataset."""
    r = REF[(REF.dataset == dataset) & (REF.analysis == analysis)]
    return {(t, q): v for t, q, v in zip(r.term, r.quantity, r.value)}


def data(dataset: str) -> pd.DataFrame:
    return INPUTS[INPUTS.dataset == dataset].reset_index(drop=True)


def cases(prefix: str) -> list:
    """``(dataset, analysis)`` pairs whose analysis starts with ``prefix``."""
    r = REF[REF.analysis.str.startswith(prefix)][["dataset", "analysis"]].drop_duplicates()
    return sorted(r.itertuples(index=False, name=None))
