"""Write the rows the shipped workflow pools, for tests/metafor/make_workflow_fixtures.R.

    python tests/metafor/make_workflow_inputs.py results/tables/included.csv tests/fixtures/workflow_included.csv

One row per included row of a run with the shipped config: its pooling cell (site, the
review's histology, endpoint, target time point) and its counts, in included.csv's order.
"""

import sys

import pandas as pd


def main(included_csv: str, out_csv: str) -> None:
    inc = pd.read_csv(included_csv)
    out = pd.DataFrame(
        dict(
            site=inc.site,
            histology=inc.review_histology,
            endpoint=inc.endpoint,
            timepoint_months=inc.target_timepoint_months.astype(float),
            study=inc.study_id,
            xi=inc.events.astype(int),
            ni=inc.n.astype(int),
        )
    )
    out.to_csv(out_csv, index=False)


if __name__ == "__main__":
    main(*sys.argv[1:3])
