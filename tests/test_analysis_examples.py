"""Published analyses of proportions, reproduced (in the style of metafor's test_analysis_example_*.r).

Each expected number is quoted from its source, with the page (and the line of metafor's test file that checks
the same number, wviechtb/metafor at 71ae8f5a, tests/testthat/). The data are in tests/fixtures/published/
with their provenance (README.md there). A number printed with d decimals is matched to d decimals: the
difference is at most half a unit of its last digit.

* Miller (1978), Am Stat 32(4):138: the Freeman-Tukey double arcsine, its variance and the inverse at the
  harmonic mean of the sample sizes (measure PFT);
* Stijnen, Hamza & Özdemir (2010), Stat Med 29(29):3046-3067, Table II on p. 3050: the proportions of
  catheter-related infections in the two arms of Niël-Weise et al. (2007), pooled by the normal-normal model
  (logit, REML, Wald CI) and by the binomial-normal model (GLMM, ML);
* Zhou, Brizendine & Pritz (1999), Stat Med 18:557-566 (the 14 studies of hyperdynamic therapy of Pritz 1997):
  random effects on raw and logit proportions and the binomial-normal model, as the documented example of
  metadat's dat.pritz1997 prints them;
* de Bruin, Viechtbauer et al. (2009), Health Psychol 28:668-674 (the proportion with an undetectable viral load
  in the standard-care arms of 13 trials): the random-effects model and the meta-regressions on standard-care
  quality, as the documented example of metadat's dat.debruin2009 prints them;
* metafor's own example of the PFT back-transform with proportions of 0 and 1.

The documented examples' output is metadat's reference pages as built (pkgdown) with metafor:
wviechtb/metadat at 0cb96ce, docs/reference/dat.pritz1997.html and dat.debruin2009.html (metadat 1.7-2).
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sbrtmeta

PUBLISHED = Path(__file__).parent / "fixtures" / "published"


def _matches(ours, printed) -> bool:
    """``ours`` rounds to ``printed`` (a number as the source prints it, e.g. "0.0355"): within half a unit of
    its last decimal (and a hair of double-precision slack). ``printed`` may be ``(number, decimals)`` to match
    fewer decimals than are printed, where a test says why."""
    printed, decimals = printed if isinstance(printed, tuple) else (printed, None)
    if decimals is None:
        decimals = len(printed.split(".")[1]) if "." in printed else 0
    return abs(float(ours) - float(printed)) <= 0.5 * 10.0**-decimals + 1e-12


def _check(pairs: dict) -> None:
    wrong = {name: (float(ours), printed) for name, (ours, printed) in pairs.items() if not _matches(ours, printed)}
    assert not wrong, wrong


# --- Miller (1978) --------------------------------------------------------------------------------------------

MILLER = pd.read_csv(PUBLISHED / "miller1978.csv")


def test_analysis_example_miller1978_double_arcsine_and_variance():
    """Miller (1978) p. 138 (metafor's test_analysis_example_miller1978.r lines 16-18): Freeman and Tukey's
    t = arcsin sqrt(x/(n+1)) + arcsin sqrt((x+1)/(n+1)) and its variance 1/(n + 1/2); metafor's (and our) PFT is
    t/2 with variance 1/(4n + 2), hence the factors 2 and 4."""
    yi, vi = sbrtmeta.proportion_effect_sizes(MILLER.xi, MILLER.ni, "PFT")
    printed_t = ("1.1391", "1.2888", "1.5253", "0.9515")  # p. 138; metafor line 17
    printed_v = ("0.0870", "0.0571", "0.0465", "0.1538")  # p. 138; metafor line 18
    _check({f"t[{i}]": (2 * y, p) for i, (y, p) in enumerate(zip(yi, printed_t))})
    _check({f"var t[{i}]": (4 * v, p) for i, (v, p) in enumerate(zip(vi, printed_v))})


def test_analysis_example_miller1978_weighted_mean_back_transformed():
    """Miller (1978) p. 138: the inverse-variance weighted mean of t, 1.3093 (metafor line 39: rma(yi, vi,
    method = "EE"), times 2), and its inverse at the harmonic mean of n, 0.3595 (metafor line 42:
    predict(res, transf = transf.ipft.hm)). Our common-effect model is tau2_method "FE"."""
    res = sbrtmeta.pool_proportions(MILLER, events="xi", n="ni", measure="PFT", tau2_method="FE", ci_method="z")
    assert res.model == "common effect"
    _check(
        {
            "weighted mean of t": (2 * res.estimate, "1.3093"),  # p. 138; metafor line 39
            "its inverse": (res.summary_frame().estimate.iloc[0], "0.3595"),  # p. 138; metafor line 42
        }
    )


def test_analysis_example_miller1978_unweighted_mean_back_transformed():
    """Miller (1978) p. 138: the unweighted mean of t, 1.2262 (metafor line 27), and its inverse at the harmonic
    mean of n, 0.3164 (metafor line 30). No model: the effect sizes and the back-transform alone."""
    yi, _ = sbrtmeta.proportion_effect_sizes(MILLER.xi, MILLER.ni, "PFT")
    mean = float(np.mean(yi))
    _check(
        {
            "unweighted mean of t": (2 * mean, "1.2262"),  # p. 138; metafor line 27
            "its inverse": (sbrtmeta.inverse_transform(mean, "PFT", MILLER.ni), "0.3164"),  # p. 138; metafor line 30
        }
    )


def test_analysis_example_metafor_pft_with_proportions_0_and_1():
    """metafor's example (test_analysis_example_miller1978.r lines 58-75, not a paper): each study back-transforms
    to its own proportion (line 67: 0, 0.4, 0.6, 0.8, 1) and the common-effect estimate with its CI back-transforms
    at the harmonic mean of n to 0.6886 [0.5734, 0.7943] (lines 73-75)."""
    data = pd.read_csv(PUBLISHED / "miller1978_metafor_example.csv")
    yi, _ = sbrtmeta.proportion_effect_sizes(data.xi, data.ni, "PFT")
    each = [sbrtmeta.inverse_transform(y, "PFT", [n]) for y, n in zip(yi, data.ni)]
    _check(
        {
            f"study {i + 1}": (p, printed)
            for i, (p, printed) in enumerate(zip(each, ("0.0", "0.4", "0.6", "0.8", "1.0")))
        }
    )
    res = sbrtmeta.pool_proportions(data, events="xi", n="ni", measure="PFT", tau2_method="FE", ci_method="z")
    low, high = res.conf_int()
    _check(
        {
            "estimate": (res.summary_frame().estimate.iloc[0], "0.6886"),  # metafor line 73
            "ci_low": (low, "0.5734"),  # metafor line 74
            "ci_high": (high, "0.7943"),  # metafor line 75
        }
    )


# --- Stijnen, Hamza & Özdemir (2010), Table II ------------------------------------------------------------------

NIELWEISE = pd.read_csv(PUBLISHED / "nielweise2007.csv")

# Table II, p. 3050, as metafor's test_analysis_example_stijnen2010.r quotes it (line numbers there). Two numbers
# print differently in the paper, which metafor's test notes: the standard arm's proportion 0.0355 (line 21; the
# paper prints 0.035) and its upper limit 0.0554 (line 23; the paper prints 0.056). Those two are metafor's.
NORMAL_NORMAL = {
    "standard (ci of n2i)": (
        ("ci", "n2i"),
        dict(logit="-3.3018", se="0.2378", tau2="0.6629", estimate="0.0355", ci_low="0.0226", ci_high="0.0554"),
    ),  # metafor lines 17-23
    "anti-infective (ai of n1i)": (
        ("ai", "n1i"),
        dict(logit="-4.2604", se="0.2589", tau2="0.3928", estimate="0.0139", ci_low="0.0084", ci_high="0.0229"),
    ),  # metafor lines 28-34
}
BINOMIAL_NORMAL = {
    "standard (ci of n2i)": (
        ("ci", "n2i"),
        dict(logit="-3.4964", se="0.2570", tau2="0.8124", estimate="0.0294", ci_low="0.0180", ci_high="0.0478"),
    ),  # metafor lines 45-51
    "anti-infective (ai of n1i)": (
        ("ai", "n1i"),
        dict(logit="-4.8121", se="0.3555", tau2="0.8265", estimate="0.0081", ci_low="0.0040", ci_high="0.0161"),
    ),  # metafor lines 56-62
}


def _table_ii_row(res) -> dict:
    s = res.summary_frame().iloc[0]
    return dict(logit=res.estimate, se=res.se, tau2=res.tau2, estimate=s.estimate, ci_low=s.ci_low, ci_high=s.ci_high)


@pytest.mark.parametrize("arm", list(NORMAL_NORMAL))
def test_analysis_example_stijnen2010_normal_normal(arm):
    """Table II, p. 3050, normal-normal model: logits with 1/2 added to the cells of zero-event studies, REML τ²,
    Wald CI, back-transformed (metafor: rma(measure = "PLO", xi, ni), predict(res, transf = transf.ilogit))."""
    (events, n), printed = NORMAL_NORMAL[arm]
    res = sbrtmeta.pool_proportions(NIELWEISE, events=events, n=n, tau2_method="REML", ci_method="z")
    assert res.k == 18  # 18 trials (dat.nielweise2007's description)
    ours = _table_ii_row(res)
    _check({name: (ours[name], value) for name, value in printed.items()})


@pytest.mark.parametrize("arm", list(BINOMIAL_NORMAL))
def test_analysis_example_stijnen2010_binomial_normal(arm):
    """Table II, p. 3050, binomial-normal model: the exact binomial likelihood with a normal random intercept,
    ML, Wald CI, back-transformed (metafor: rma.glmm(measure = "PLO", xi, ni))."""
    (events, n), printed = BINOMIAL_NORMAL[arm]
    res = sbrtmeta.pool_proportions(NIELWEISE, events=events, n=n, model="glmm")
    assert res.k == 18 and res.model == "GLMM"
    ours = _table_ii_row(res)
    _check({name: (ours[name], value) for name, value in printed.items()})


# --- Zhou, Brizendine & Pritz (1999): metadat's dat.pritz1997 example ---------------------------------------------

PRITZ = pd.read_csv(PUBLISHED / "pritz1997.csv")
# the example's predict() output on docs/reference/dat.pritz1997.html (metadat 0cb96ce)
PRITZ_PRINTED = {
    # "random-effects model with raw proportions": escalc("PR"), rma(yi, vi), predict(res)
    "raw": (
        dict(measure="PR", ci_method="z"),
        dict(estimate="0.7968", se="0.0423", ci_low="0.7138", ci_high="0.8797", pi_low="0.5306", pi_high="1.0629"),
    ),
    # "random-effects model with logit transformed proportions": escalc("PLO"), predict(res, transf.ilogit)
    "logit": (
        dict(measure="PLO", ci_method="z"),
        dict(estimate="0.7575", ci_low="0.6605", ci_high="0.8337", pi_low="0.4661", pi_high="0.9179"),
    ),
    # "mixed-effects logistic regression model": rma.glmm(measure = "PLO"), predict(res, transf.ilogit)
    "binomial-normal": (
        dict(model="glmm"),
        dict(estimate="0.7984", ci_low="0.6924", ci_high="0.8746", pi_low="0.4426", pi_high="0.9518"),
    ),
}


@pytest.mark.parametrize("model", list(PRITZ_PRINTED))
def test_analysis_example_pritz1997(model):
    """The 14 studies of Zhou et al. (1999), Table I data as metadat's dat.pritz1997 holds them; REML τ², Wald
    CI (rma's defaults), the studies at 100 % (Tanabe, Hadeishi) with 1/2 added (escalc's default)."""
    options, printed = PRITZ_PRINTED[model]
    res = sbrtmeta.pool_proportions(PRITZ, events="xi", n="ni", **options)
    assert res.k == 14
    s = res.summary_frame().iloc[0]
    ours = dict(estimate=s.estimate, se=res.se, ci_low=s.ci_low, ci_high=s.ci_high, pi_low=s.pi_low, pi_high=s.pi_high)
    _check({name: (ours[name], value) for name, value in printed.items()})


# --- de Bruin et al. (2009): metadat's dat.debruin2009 example ---------------------------------------------------

DEBRUIN = pd.read_csv(PUBLISHED / "debruin2009.csv", dtype={"sens": str})


def test_analysis_example_debruin2009_random_effects():
    """escalc("PR"), rma(yi, vi) printed with digits = 2 on docs/reference/dat.debruin2009.html (metadat 0cb96ce):
    τ² 0.02, I² 91.77 %, H² 12.14, Q(12) 135.51, estimate 0.48 (se 0.05) [0.39, 0.57]."""
    res = sbrtmeta.pool_proportions(DEBRUIN, events="xi", n="ni", measure="PR", ci_method="z")
    assert res.k == 13
    _check(
        dict(
            tau2=(res.tau2, "0.02"),
            i2=(res.i2, "91.77"),
            h2=(res.h2, "12.14"),
            q=(res.q, "135.51"),
            estimate=(res.estimate, "0.48"),
            se=(res.se, "0.05"),
            ci_low=(res.ci_low, "0.39"),
            ci_high=(res.ci_high, "0.57"),
        )
    )


def _debruin_design(*extra: str) -> pd.DataFrame:
    """rma's model matrix: intercept, scq and dummies against the first level (as R's factor() sorts them, the
    printed names of the example's coefficients)."""
    d = DEBRUIN
    columns = {
        "intrcpt": np.ones(len(d)),
        "scq": d["scq"],
        "ethnicityother": d["ethnicity"] == "other",
        "patientsstarting": d["patients"] == "starting",
        "selectyes": d["select"] == "yes",
        "sens<400": d["sens"] == "<400",
    }
    names = ["intrcpt", "scq", "ethnicityother", *extra]
    return pd.DataFrame({name: np.asarray(columns[name], dtype=float) for name in names})


# rma(yi, vi, mods = ...) printed with digits = 3 on docs/reference/dat.debruin2009.html (metadat 0cb96ce)
DEBRUIN_REGRESSIONS = {
    "scq + ethnicity": (
        (),
        dict(tau2="0.012", i2="83.24", h2="5.97", R2="48.39", qe="53.525", qm="10.333", qm_p="0.006"),
        dict(intrcpt=("0.430", "0.075"), scq=("0.011", "0.005"), ethnicityother=("-0.196", "0.072")),
    ),
    "scq + ethnicity + patients + select + sens": (
        ("patientsstarting", "selectyes", "sens<400"),
        # QM to 2 decimals: the page's 21.884 is metafor's Fisher scoring stopped at its default threshold
        # (1e-5); at the REML root, where ours is, QM is 0.0015 higher (metafor 3.8-1 with threshold = 1e-12)
        dict(tau2="0.007", i2="72.43", h2="3.63", R2="68.55", qe="22.309", qm=("21.884", 2)),
        dict(
            intrcpt=("0.458", "0.087"),
            scq=("0.014", "0.005"),
            ethnicityother=("-0.231", "0.084"),
            patientsstarting=("0.081", "0.066"),
            selectyes=("-0.073", "0.075"),
            **{"sens<400": ("-0.104", "0.080")},
        ),
    ),
}


@pytest.mark.parametrize("mods", list(DEBRUIN_REGRESSIONS))
def test_analysis_example_debruin2009_meta_regression(mods):
    """Mixed-effects meta-regressions of the standard-care proportions on care quality (scq) and the trials'
    characteristics: REML, Wald tests (rma's defaults), through the public fit_meta_regression."""
    extra, model, coefficients = DEBRUIN_REGRESSIONS[mods]
    yi, vi = sbrtmeta.proportion_effect_sizes(DEBRUIN["xi"], DEBRUIN["ni"], "PR")
    res = sbrtmeta.fit_meta_regression(yi, vi, _debruin_design(*extra))
    ours = dict(tau2=res.tau2, i2=res.i2, h2=res.h2, R2=res.R2, qe=res.q, qm=res.QM, qm_p=res.QM_p)
    _check({name: (ours[name], value) for name, value in model.items()})
    for name, (coef, se) in coefficients.items():
        i = res.coef_names.index(name)
        _check({f"{name} estimate": (res.coef[i], coef), f"{name} se": (res.se[i], se)})
