"""Group-sequential boundaries: Lan-DeMets alpha spending with the O'Brien-Fleming-type function.

With ``K`` planned looks at information fractions ``t_1 < … < t_K = 1``, the standardised statistics
``Z_k`` of one experiment are a Brownian motion ``S(t)`` observed at the looks, ``Z_k = S(t_k)/sqrt(t_k)``.
Each side spends ``alpha/2`` with the O'Brien-Fleming-type function of Lan and DeMets (1983),

    alpha_side(t) = 2 - 2 * Phi(z_{1 - alpha/4} / sqrt(t)),

which spends almost nothing early and exactly ``alpha/2`` per side by ``t = 1`` (the same function as
``gsDesign::sfLDOF`` and ``ldbounds``). The boundary ``c_k`` is chosen so that, under no effect, the
chance of first crossing ``|Z_k| >= c_k`` at look ``k`` is what the function spends between looks.

The first-crossing probabilities come from the classical recursive numerical integration
(Armitage, McPherson and Rowe 1969; Jennison and Turnbull 2000, ch. 19): the density of the path
that has not stopped is carried from look to look on a Simpson grid, convolved with the normal
increment. It is deterministic and takes milliseconds, where a Monte Carlo multivariate-normal CDF
is noisy and slow at the precision a boundary needs. ``K = 1`` gives the fixed-horizon ``z_{1-alpha/2}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray
from scipy import optimize, stats

# Simpson points across the continuation region; odd. 401 keeps errors far below 1e-6.
_GRID = 401


def obf_spending(t: float | NDArray[np.float64], alpha: float) -> NDArray[np.float64]:
    """Cumulative two-sided alpha spent by information fraction ``t`` (both sides together)."""
    z = stats.norm.isf(alpha / 4)
    t_arr = np.asarray(t, dtype=float)
    return np.asarray(4.0 * stats.norm.sf(z / np.sqrt(t_arr)), dtype=float)


def _simpson(n: int, h: float) -> NDArray[np.float64]:
    w = np.ones(n)
    w[1:-1:2] = 4.0
    w[2:-1:2] = 2.0
    return w * h / 3.0


@dataclass
class _Continuing:
    """Density (times Simpson weights) of ``S(t)`` over paths that have not crossed any boundary yet."""

    t: float
    grid: NDArray[np.float64]
    mass: NDArray[np.float64]

    @classmethod
    def start(cls) -> _Continuing:
        # All mass at S(0) = 0.
        return cls(0.0, np.zeros(1), np.ones(1))

    def cross(self, c: float, t: float, drift: float) -> float:
        """P(not stopped before, and ``|Z| >= c`` at fraction ``t``)."""
        sd, mu, b = np.sqrt(t - self.t), drift * (t - self.t), c * np.sqrt(t)
        p = stats.norm.sf((b - self.grid - mu) / sd) + stats.norm.cdf((-b - self.grid - mu) / sd)
        return float(p @ self.mass)

    def advance(self, c: float, t: float, drift: float) -> _Continuing:
        sd, mu, b = np.sqrt(t - self.t), drift * (t - self.t), c * np.sqrt(t)
        grid = np.linspace(-b, b, _GRID)
        kernel = stats.norm.pdf((grid[:, None] - self.grid[None, :] - mu) / sd) / sd
        return _Continuing(t, grid, (kernel @ self.mass) * _simpson(_GRID, grid[1] - grid[0]))


def crossing_probabilities(
    bounds: tuple[float, ...], fractions: tuple[float, ...], drift: float = 0.0
) -> NDArray[np.float64]:
    """P(first crossing at look k) for each k, when ``E[Z_k] = drift * sqrt(t_k)``."""
    state = _Continuing.start()
    out = []
    for c, t in zip(bounds, fractions, strict=True):
        out.append(state.cross(c, t, drift))
        state = state.advance(c, t, drift)
    return np.asarray(out)


def _check(fractions: tuple[float, ...], alpha: float) -> None:
    t = np.asarray(fractions)
    if not (0 < alpha < 1) or t.size == 0 or np.any(np.diff(t) <= 0) or t[0] <= 0 or abs(t[-1] - 1) > 1e-12:
        raise ValueError(
            f"fractions must increase in (0, 1] and end at 1, alpha in (0, 1): {fractions}, {alpha}"
        )


@lru_cache(maxsize=64)
def boundaries(fractions: tuple[float, ...], alpha: float) -> tuple[float, ...]:
    """Critical values ``c_k`` for ``|Z_k|`` at each planned look (two-sided, OBF-type spending)."""
    _check(fractions, alpha)
    spent = np.diff(obf_spending(np.asarray(fractions), alpha), prepend=0.0)
    state = _Continuing.start()
    bounds: list[float] = []
    for t, target in zip(fractions, spent, strict=True):
        c = float(optimize.brentq(lambda c, s=state, t=t, a=target: s.cross(c, t, 0.0) - a, 0.1, 12.0))
        bounds.append(c)
        state = state.advance(c, t, 0.0)
    return tuple(bounds)


@lru_cache(maxsize=64)
def inflation_factor(fractions: tuple[float, ...], alpha: float, power: float) -> float:
    """Maximum sample size of the sequential design over the fixed-horizon one, at the same power.

    Early looks cost a little power; the drift that restores it, squared over the fixed-horizon
    drift ``z_{1-alpha/2} + z_{power}`` squared, scales the sample size.
    """
    if len(fractions) == 1:
        return 1.0
    bounds = boundaries(fractions, alpha)
    fixed = float(stats.norm.isf(alpha / 2) + stats.norm.ppf(power))

    def shortfall(drift: float) -> float:
        return float(crossing_probabilities(bounds, fractions, drift).sum()) - power

    drift = float(optimize.brentq(shortfall, fixed * 0.9, fixed * 1.5, xtol=1e-8))
    return (drift / fixed) ** 2


def equal_fractions(looks: int) -> tuple[float, ...]:
    """``looks`` equally spaced information fractions ending at 1."""
    if looks < 1:
        raise ValueError(f"looks must be at least 1, got {looks}")
    return tuple(k / looks for k in range(1, looks + 1))
