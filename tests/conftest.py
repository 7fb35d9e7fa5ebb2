import sys
from pathlib import Path

import pytest

# The package lives in workflow/ (the Snakemake catalog layout); make it importable
# when the tests run from a checkout without an editable install.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow"))

import project_copy  # noqa: E402  (tests/ is on the path: pytest puts a conftest's folder there)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Snakemake may run only in a test marked `workflow` (its fixtures included, which set up before it)."""
    project_copy.SNAKEMAKE_ALLOWED = item.get_closest_marker("workflow") is not None
