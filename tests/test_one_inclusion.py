"""One inclusion, applied once (issue 26, item 2): pooling, dose-response, curves, the multiverse
and GOSH (which reads pooled_studies.csv) use only studies the inclusion keeps, under every
criterion, the risk-of-bias filter included."""

from pathlib import Path

import pytest
import yaml
from sbrtmeta.analysis import multiverse as mv
from sbrtmeta.analysis import multiverse_design as design
from sbrtmeta.analysis.curves import curve_rows
from sbrtmeta.analysis.dose_arms import select_dose_arms
from sbrtmeta.analysis.pooling import PoolingOptions
from sbrtmeta.data.inclusion import apply_inclusion
from sbrtmeta.steps.clean_extraction import clean_extraction as clean_step
from sbrtmeta.steps.pool import pool as pool_step
from validated_config import validated

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
HISTOLOGY = CONFIG["pooling"]["histology"]


@pytest.fixture(scope="module")
def tidy():
    sheets = [str(ROOT / s) for s in CONFIG["data"]["sheets"]]
    return clean_step(sheets, str(ROOT / CONFIG["data"]["corrections"]), CONFIG["cleanup"], [])


@pytest.fixture(scope="module")
def judgements(tidy):
    """Every study judged low, some concerns or high in turn (a made-up sheet, for the filter only)."""
    ids = list(dict.fromkeys(tidy["study_id"]))
    return {sid: ("low", "some concerns", "high")[i % 3] for i, sid in enumerate(ids)}


CASES = {
    "max_risk_of_bias": dict(max_risk_of_bias={"level": "some concerns", "not_assessed": "exclude"}),
    "excluded_study": dict(exclude_studies=[{"study_id": "crc2014-76", "reason": "test"}]),
    "review": dict(reviews=["sarcoma2023"]),
    "site": dict(sites=["lung"]),
    "design": dict(designs=["retrospective"]),
    "primary": dict(primaries=["crc"]),
    "min_n": dict(min_n=40),
}


def _all_times(criteria: dict, tidy) -> dict:
    times = sorted(float(t) for t in tidy["timepoint_months"].dropna().unique())
    return {**criteria, "timepoints": {"targets": times, "tolerance_months": 0.0}}


def _studies_of_each_job(tidy, criteria: dict, rob: dict) -> dict:
    included = apply_inclusion(tidy, criteria, rob)[0]
    pooled = pool_step(
        included,
        included.iloc[:0],
        PoolingOptions.from_config(validated(CONFIG)),
        criteria["sites"],
        criteria["endpoints"],
    )
    dose_arms = select_dose_arms(tidy, criteria, CONFIG["dose_response"], HISTOLOGY, rob)[0]
    spec = {**design.main_choices(criteria, CONFIG["pooling"]), "spec": 0}
    inclusions = mv._Inclusions(tidy, criteria, rob)
    inclusions.cells(spec)
    return {
        "pooling and GOSH": set(pooled.studies["study_id"]),
        "dose-response": set(dose_arms["study_id"]),
        "curves": set(curve_rows(tidy, criteria, HISTOLOGY, rob)["study_id"]),
        "multiverse": set(next(iter(inclusions.cache.values()))[0]["study_id"]),
    }


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_job_uses_only_the_studies_the_inclusion_keeps(tidy, judgements, case):
    base = CONFIG["inclusion"]
    criteria = {**base, **CASES[case]}
    kept = set(apply_inclusion(tidy, _all_times(criteria, tidy), judgements)[0]["study_id"])
    dropped = set(apply_inclusion(tidy, _all_times(base, tidy), judgements)[0]["study_id"]) - kept
    assert dropped, f"{case} leaves out no study of the shipped data: the test shows nothing"
    for job, used in _studies_of_each_job(tidy, criteria, judgements).items():
        assert used, f"{job} uses no study under {case}"
        assert used <= kept, f"{job} uses {sorted(used - kept)} which {case} leaves out"


def test_max_risk_of_bias_reaches_dose_response(tidy):
    """The issue's reproduction: with max_risk_of_bias, dose-response was header-only and its
    left-out table said 'risk of bias not assessed' for studies rated low."""
    rob = {sid: "low" for sid in tidy["study_id"]}
    criteria = {**CONFIG["inclusion"], "max_risk_of_bias": {"level": "high", "not_assessed": "exclude"}}
    arms, left_out = select_dose_arms(tidy, criteria, CONFIG["dose_response"], HISTOLOGY, rob)
    plain, _ = select_dose_arms(tidy, CONFIG["inclusion"], CONFIG["dose_response"], HISTOLOGY)
    assert len(arms) == len(plain) > 0
    assert not left_out["reason"].str.contains("risk of bias").any()
