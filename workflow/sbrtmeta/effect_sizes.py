"""Effect sizes for single proportions, as metafor's ``escalc``.

Viechtbauer W. Conducting meta-analyses in R with the metafor package.
J Stat Softw 2010;36(3):1-48.
"""

from __future__ import annotations

import numpy as np

MEASURES = ("PLO",)


def proportion_effect_sizes(events, n, measure: str = "PLO", add: float = 0.5):
    """Transformed proportions ``yi`` and sampling variances ``vi``.

    ``PLO`` is the logit: ``yi = log(x / (n - x))``, ``vi = 1/x + 1/(n - x)``. As
    metafor's ``escalc(..., add=1/2, to="only0")`` does, a study with 0 or n events
    has ``add`` added to both its events and non-events before the transform.
    """
    x = np.asarray(events, dtype=float)
    n = np.asarray(n, dtype=float)
    if x.shape != n.shape or x.ndim != 1:
        raise ValueError("events and n must be 1-d arrays of one length")
    if x.size == 0:
        raise ValueError("no studies: events and n are empty")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(n))):
        raise ValueError("events and n must be finite numbers")
    if np.any(n < 1) or np.any(x < 0) or np.any(x > n):
        raise ValueError("each study needs n >= 1 and 0 <= events <= n")
    if measure != "PLO":
        raise ValueError(f"measure {measure!r} is not one of {MEASURES}")
    m = n - x
    zero = (x == 0) | (m == 0)
    x = np.where(zero, x + add, x)
    m = np.where(zero, m + add, m)
    return np.log(x / m), 1.0 / x + 1.0 / m


def inverse_transform(y, measure: str = "PLO"):
    """Back to the proportion scale (metafor's ``transf.ilogit`` for PLO)."""
    if measure != "PLO":
        raise ValueError(f"measure {measure!r} is not one of {MEASURES}")
    y = np.asarray(y, dtype=float)
    return 1.0 / (1.0 + np.exp(-y))
