"""The two rules that fill the shipped risk-of-bias sheet (data/raw/risk_of_bias.csv), written
out so that tests/test_risk_of_bias.py can check every filled cell against them.

MINORS item 3, prospective collection of data, follows from the design: a phase I, II or I/II
trial collects its data by protocol (2); a retrospective study does not (0); a design the source
does not print is "not reported". Two sarcoma studies print their design only in the title of
the review's reference (Navarria 2022 "A Phase 2 Study", Stragliotto 2012 "A retrospective
study"): :data:`DESIGN_FROM_TITLE`.

MINORS item 6, follow-up appropriate to the aim, follows from the median follow-up against the
longest time point at which the study's rates are pooled in the shipped run: at least that long
(2), shorter (1: fewer than half the patients followed to the time point), not printed ("not
reported"); a study with no pooled rate: "not assessed".

Every other item, and the overall judgement, is "not assessed": the review tables and abstracts
the data come from do not print them.
"""

from __future__ import annotations

import pandas as pd
from sbrtmeta.data.risk_of_bias import NOT_ASSESSED, NOT_REPORTED, TOOLS

PROSPECTIVE = {"phase I": "2", "phase II": "2", "phase I/II": "2", "retrospective": "0"}
DESIGN_FROM_TITLE = {
    "sarcoma2023-27": ("phase II", "the title of ref 27 in the sarcoma review: 'A Phase 2 Study'"),
    "sarcoma2023-29": ("retrospective", "the title of ref 29 in the sarcoma review: 'A retrospective study'"),
}
RULE_3 = "item 3 from the design (phase I/II trial 2, retrospective 0, not printed: not reported)"
RULE_6 = (
    "item 6 from the median follow-up against the longest time point pooled in the shipped run "
    "(at least as long 2, shorter 1, not printed: not reported; no pooled rate: not assessed)"
)
OTHERS = "other items and overall not assessed: the review tables and abstracts extracted do not print them"


def _fmt(x: float) -> str:
    return f"{x:g}"


def shipped_items(outcomes: pd.DataFrame, included: pd.DataFrame) -> pd.DataFrame:
    """The shipped sheet's rows: one per study of ``outcomes``, items 3 and 6 by the rules."""
    tool = TOOLS["MINORS"]
    rows = []
    for sid, group in outcomes.groupby("study_id", sort=False):
        designs = sorted(set(group["design"]) - {"not reported"})
        why3 = f"design {', '.join(designs)} ({group['source'].iloc[0].split(';')[0]})" if designs else ""
        if not designs and sid in DESIGN_FROM_TITLE:
            design, where = DESIGN_FROM_TITLE[sid]
            designs, why3 = [design], f"design {design} from {where}"
        scores = {PROSPECTIVE[d] for d in designs}
        item3 = scores.pop() if len(scores) == 1 else NOT_REPORTED
        if item3 == NOT_REPORTED:
            why3 = "design not printed"
        mine = included[included["study_id"] == sid]
        if mine.empty:
            item6, why6 = NOT_ASSESSED, "no rate pooled"
        else:
            t = float(mine["target_timepoint_months"].max())
            mfu = mine.loc[mine["target_timepoint_months"] == t, "mfu_months"].dropna()
            if mfu.empty:
                item6, why6 = NOT_REPORTED, f"median follow-up not printed; pooled at {_fmt(t)} months"
            else:
                m = float(mfu.min())
                item6 = "2" if m >= t else "1"
                why6 = f"median follow-up {_fmt(m)} months {'≥' if m >= t else '<'} {_fmt(t)} months pooled"
        row = {c: NOT_ASSESSED for c in tool.columns}
        row.update(study_id=sid, prospective_collection=item3, appropriate_follow_up=item6)
        row.update(
            overall=NOT_ASSESSED,
            source=f"{RULE_3}; {RULE_6}; {OTHERS}",
            note=f"item 3: {why3}; item 6: {why6}",
        )
        rows.append(row)
    return pd.DataFrame(rows)[["study_id", *tool.columns, "overall", "source", "note"]]
