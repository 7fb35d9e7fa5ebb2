"""The words of the GRADE rules: levels, judgements, where the evidence starts, the risk-of-bias and
imprecision rules with their sources. Text only (no statistics), so the methods text and the config
checks read them without loading the estimators; :mod:`sbrtmeta.analysis.certainty` applies them."""

from __future__ import annotations

from sbrtmeta.data.vocabulary import NOT_ASSESSED

LEVELS = ("very low", "low", "moderate", "high")
# grade.start: the level the evidence starts at, and why.
STARTS = {
    "high": "for a question of prognosis, observational evidence starts at high (Iorio et al., BMJ 2015;350:h870)",
    "low": "non-randomised studies of an intervention's effect start at low (GRADE handbook, 5.1)",
}
DEFAULT_START = "high"
NOT_SERIOUS, SERIOUS, VERY_SERIOUS, NOT_ASSESSABLE = "not serious", "serious", "very serious", "not assessable"
UNDETECTED, SUSPECTED = "undetected", "strongly suspected"
UPGRADE, NO_UPGRADE = "upgrade", "no upgrade"
RATE_DOWN = {
    NOT_SERIOUS: 0,
    SERIOUS: 1,
    VERY_SERIOUS: 2,
    NOT_ASSESSABLE: 0,
    NOT_ASSESSED: 0,
    UNDETECTED: 0,
    SUSPECTED: 1,
}
DOMAINS = ("risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias", "dose_response")
DOMAIN_JUDGEMENTS = {
    "risk_of_bias": (NOT_SERIOUS, SERIOUS, VERY_SERIOUS, NOT_ASSESSED),
    "inconsistency": (NOT_SERIOUS, SERIOUS, VERY_SERIOUS, NOT_ASSESSABLE),
    "indirectness": (NOT_SERIOUS, SERIOUS, VERY_SERIOUS),
    "imprecision": (NOT_SERIOUS, SERIOUS, VERY_SERIOUS),  # a single study is judged on its own interval
    "publication_bias": (UNDETECTED, SUSPECTED, NOT_ASSESSABLE),
    "dose_response": (UPGRADE, NO_UPGRADE),
}
DOMAIN_NAMES = {
    "risk_of_bias": "risk of bias",
    "inconsistency": "inconsistency",
    "indirectness": "indirectness",
    "imprecision": "imprecision",
    "publication_bias": "publication bias",
    "dose_response": "dose-response gradient",
}
# grade.risk_of_bias.rule: how a study's row of the risk-of-bias sheet becomes its concern for
# the GRADE domain (not serious, serious, very serious, or not assessed), and the rule's source.
DESIGN_CONCERN = {"2": NOT_SERIOUS, "1": SERIOUS, "0": SERIOUS}
OVERALL_CONCERN = {"low": NOT_SERIOUS, "some concerns": SERIOUS, "high": VERY_SERIOUS}
RULES = {
    "design": (
        "the design-level rule after Huguet et al. (Syst Rev 2013;2:71): MINORS item 3, prospective collection of "
        "data, 2 (a prospective series) not serious, 0 or 1 (a retrospective series) serious, not reported or not "
        "assessed: not assessed"
    ),
    "overall": (
        "the sheet's overall judgement (GRADE handbook 5.2.1): low not serious, some concerns serious, high very "
        "serious, not assessed: not assessed"
    ),
}
DESIGN_ITEM = "prospective_collection"  # MINORS item 3, which the design rule reads

IMPRECISION_RULE = (
    "one level when the CI is wider than ci_width or N is below the optimal information size (either suffices: "
    "the OIS is a criterion beside the interval, not a second level; GRADE 6, Guyatt et al. J Clin Epidemiol "
    "2011;64:1283-1293), two levels when the CI alone is wider than ci_width_very_serious; a single study is "
    "judged on its own interval"
)
# grade.imprecision.single_study: how a cell of one study is judged beyond its own interval, and why.
SINGLE_STUDY = {
    "serious": (
        "a single study is rated down at least one level: one small study is imprecise even when its interval looks "
        "narrow (GRADE 6, Guyatt et al. J Clin Epidemiol 2011;64:1283-1293: a small total sample with few events "
        "calls for rating down even where the CI alone would not; the KCE process book, GRADE and meta-analysis: "
        "with one study available, downgrade at least one level)"
    ),
    "own_interval": "a single study is judged on its own interval alone, as a pooled result is",
}
DEFAULT_SINGLE_STUDY = "serious"
SINGLE_STUDY_REASON = (
    "a single study: at least serious, one small study being imprecise even when its interval looks narrow "
    "(grade.imprecision.single_study; GRADE 6; methods.md)"
)
# grade.risk_of_bias.provisional_ceiling: the highest certainty a provisional cell can reach, and why.
CEILING_WHY = (
    "high certainty, being very confident that the true rate lies close to the estimate (Balshem et al. J Clin "
    "Epidemiol 2011;64:401-406), cannot be claimed for evidence whose risk of bias was mostly not assessed, which is "
    "neither rated 'no concerns' nor counted as high risk"
)
DEFAULT_CEILING = "moderate"
CAPPED = "while provisional:"  # in a certainty reason whose provisional cell was capped at the ceiling

DOSE_OFF = (
    "off (grade.dose_response.upgrade: false): a between-study gradient of the rate on BED10 does not raise "
    "confidence in a pooled rate"
)
