import sys
from pathlib import Path

# The package lives in workflow/ (the Snakemake catalog layout); make it importable
# when the tests run from a checkout without an editable install.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow"))
