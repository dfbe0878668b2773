"""The tests behind a verdict, on per-variant sufficient statistics, vectorised over any leading shape.

- rates: two-proportion z-test with the pooled standard error (as ``statsmodels``' ``proportions_ztest``)
  and a Wald interval with the unpooled one (as ``confint_proportions_2indep(method="wald")``);
- means: Welch's t-test (as ``scipy.stats.ttest_ind(equal_var=False)``) with its Welch-Satterthwaite
  interval;
- sample-ratio mismatch: chi-square goodness of fit of the assigned counts against the planned split.

The same functions serve one analysis (scalars) and thousands of simulated experiments (arrays).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Comparison:
    """B versus A. Every field has the broadcast shape of the inputs."""

    effect: Array  # B - A
    se: Array  # standard error of the effect used by the interval
    statistic: Array  # z (rates) or Welch t (means); sign of B - A
    p_value: Array  # two-sided
    ci_low: Array
    ci_high: Array


def _f(x: ArrayLike) -> Array:
    return np.asarray(x, dtype=float)


def two_proportion(
    x_a: ArrayLike, n_a: ArrayLike, x_b: ArrayLike, n_b: ArrayLike, alpha: float
) -> Comparison:
    """Two-sided two-proportion z-test of ``p_B - p_A`` from successes ``x`` out of ``n``."""
    xa, na, xb, nb = _f(x_a), _f(n_a), _f(x_b), _f(n_b)
    pa, pb = xa / na, xb / nb
    pooled = (xa + xb) / (na + nb)
    se_pooled = np.sqrt(pooled * (1 - pooled) * (1 / na + 1 / nb))
    effect = pb - pa
    with np.errstate(divide="ignore", invalid="ignore"):
        # All successes or none in both arms: no evidence either way, z = 0.
        z = np.where(se_pooled > 0, effect / se_pooled, 0.0)
    se = np.sqrt(pa * (1 - pa) / na + pb * (1 - pb) / nb)
    half = stats.norm.isf(alpha / 2) * se
    return Comparison(effect, se, z, 2 * stats.norm.sf(np.abs(z)), effect - half, effect + half)


def welch(
    mean_a: ArrayLike,
    var_a: ArrayLike,
    n_a: ArrayLike,
    mean_b: ArrayLike,
    var_b: ArrayLike,
    n_b: ArrayLike,
    alpha: float,
) -> Comparison:
    """Welch's two-sided t-test of ``mean_B - mean_A``; ``var`` are sample variances (ddof=1)."""
    ma, va, na, mb, vb, nb = (_f(v) for v in (mean_a, var_a, n_a, mean_b, var_b, n_b))
    sa, sb = va / na, vb / nb
    se = np.sqrt(sa + sb)
    effect = mb - ma
    with np.errstate(divide="ignore", invalid="ignore"):
        df = (sa + sb) ** 2 / (sa**2 / (na - 1) + sb**2 / (nb - 1))
        t = np.where(se > 0, effect / se, 0.0)
    df = np.where(np.isfinite(df), df, 1.0)
    half = stats.t.isf(alpha / 2, df) * se
    return Comparison(effect, se, t, 2 * stats.t.sf(np.abs(t), df), effect - half, effect + half)


def srm_pvalue(counts: ArrayLike, shares: ArrayLike) -> tuple[float, float]:
    """Chi-square goodness of fit of assigned ``counts`` against planned ``shares``: (statistic, p)."""
    observed = _f(counts)
    expected = _f(shares) / _f(shares).sum() * observed.sum()
    result = stats.chisquare(observed, expected)
    return float(result.statistic), float(result.pvalue)


def first_crossing(statistic: ArrayLike, bounds: ArrayLike) -> NDArray[np.int64]:
    """Index of the first look whose ``|statistic|`` reaches its boundary, or -1; over the last axis."""
    crossed = np.abs(_f(statistic)) >= _f(bounds)
    return np.where(crossed.any(axis=-1), crossed.argmax(axis=-1), -1).astype(np.int64)
