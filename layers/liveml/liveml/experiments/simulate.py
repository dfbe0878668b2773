"""Simulated experiments for tests and benchmarks.

:func:`simulate` writes the tables a real experiment produces (assignments by the sticky hash, outcome
events after ``first_seen``), so the whole analysis path runs on them. :func:`simulate_looks` draws
only the sufficient statistics at each planned look, vectorised over thousands of experiments, for
false-positive rates and power; the analysis and it share :mod:`liveml.experiments.stats`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from liveml.binding.assignment import bucket, variant_for_bucket
from liveml.experiments import stats
from liveml.experiments.design import Experiment, MetricKind
from liveml.experiments.errors import ExperimentError

if TYPE_CHECKING:
    import pandas as pd

_START = datetime(2026, 1, 5, tzinfo=UTC)


@dataclass(frozen=True)
class Simulated:
    assignments: pd.DataFrame  # player_id, variant, first_seen
    outcomes: pd.DataFrame  # player_id, value, timestamp


def _truth(experiment: Experiment, truth: Mapping[str, float]) -> list[float]:
    if set(truth) != set(experiment.variants):
        raise ExperimentError(f"truth names {sorted(truth)}, experiment has {sorted(experiment.variants)}")
    values = [float(truth[name]) for name in experiment.variants]
    if experiment.metric.kind is MetricKind.RATE and not all(0 <= v <= 1 for v in values):
        raise ExperimentError(f"true rates must be in [0, 1], got {dict(truth)}")
    return values


def simulate(
    truth: Mapping[str, float],
    n: int,
    seed: int,
    *,
    experiment: Experiment,
    days: float = 14.0,
) -> Simulated:
    """``n`` players enrolled uniformly over ``days``, assigned by the sticky hash, with outcomes.

    ``truth`` is the true rate (rate metrics) or mean (mean metrics, normal with the metric's ``std``)
    of each variant. A rate writes one event per converting player (others have none: missing counts
    as 0); a mean writes one to three events per player around the player's value (their mean is it).
    """
    import pandas as pd

    values = dict(zip(experiment.variants, _truth(experiment, truth), strict=True))
    rng = np.random.default_rng(seed)
    ids = [f"s{seed}-p{i}" for i in range(n)]
    split = experiment.split_bp()
    variants = np.asarray([variant_for_bucket(bucket(experiment.salt, pid), split) for pid in ids])
    offsets = np.sort(rng.uniform(0, days * 86400, n))
    first_seen = pd.Timestamp(_START) + pd.to_timedelta(offsets, unit="s")
    assignments = pd.DataFrame({"player_id": ids, "variant": variants, "first_seen": first_seen})

    true_value = np.vectorize(values.__getitem__, otypes=[float])(variants)
    player_ix: NDArray[np.int64]
    if experiment.metric.kind is MetricKind.RATE:
        player_ix = np.flatnonzero(rng.random(n) < true_value)
        event_values = np.ones(len(player_ix))
    else:
        assert experiment.metric.std is not None
        per_player: NDArray[np.float64] = rng.normal(true_value, experiment.metric.std, n)
        repeats = rng.integers(1, 4, n)
        player_ix = np.repeat(np.arange(n), repeats)
        # Zero-mean jitter within each player keeps the player's mean exactly ``per_player``.
        jitter = rng.normal(0, 1.0, len(player_ix))
        jitter -= np.repeat(np.add.reduceat(jitter, np.r_[0, np.cumsum(repeats)[:-1]]) / repeats, repeats)
        event_values = per_player[player_ix] + jitter
    delay = pd.to_timedelta(rng.uniform(60, 86400, len(player_ix)), unit="s")
    outcomes = pd.DataFrame(
        {
            "player_id": np.asarray(ids)[player_ix],
            "value": event_values,
            "timestamp": first_seen[player_ix] + delay,
        }
    )
    return Simulated(assignments, outcomes)


@dataclass(frozen=True)
class LookStatistics:
    """Test statistics of ``sims`` simulated experiments at each planned look: shape ``(sims, looks)``."""

    statistic: NDArray[np.float64]
    effect: NDArray[np.float64]
    bounds: tuple[float, ...]

    def first_crossing(self) -> NDArray[np.int64]:
        return stats.first_crossing(self.statistic, self.bounds)

    def rejects(self, *, sequential: bool = True) -> NDArray[np.bool_]:
        """Which experiments declare a difference: at any look's boundary, or at the final look alone."""
        if sequential:
            return np.asarray(self.first_crossing() >= 0)
        return np.asarray(np.abs(self.statistic[:, -1]) >= self.bounds[-1])


def simulate_looks(
    experiment: Experiment,
    truth: Mapping[str, float],
    sims: int,
    seed: int,
    *,
    fixed_horizon: bool = False,
) -> LookStatistics:
    """Vectorised experiments at the planned looks; per-variant sizes are the planned shares of each look.

    With ``fixed_horizon`` there is one look at the fixed-horizon sample size, tested at
    ``z_{1-alpha/2}``: the classical design, for comparison with the sequential one.
    """
    from scipy import stats as sps

    ta, tb = _truth(experiment, truth)
    plan = experiment.plan()
    shares = np.asarray([experiment.split[experiment.control], experiment.split[experiment.treatment]])
    if fixed_horizon:
        fixed = plan.fixed_horizon
        sizes = np.asarray([[fixed[experiment.control], fixed[experiment.treatment]]], dtype=np.int64)
        bounds: tuple[float, ...] = (float(sps.norm.isf(experiment.alpha / 2)),)
    else:
        sizes = np.maximum(np.round(np.outer(plan.looks, shares)), 2).astype(np.int64)
        bounds = tuple(plan.boundaries)
    increments = np.diff(sizes, axis=0, prepend=0)  # (looks, 2)
    rng = np.random.default_rng(seed)
    truth_arr = np.asarray([ta, tb])
    if experiment.metric.kind is MetricKind.RATE:
        # Cumulative successes: binomial increments between looks.
        drawn: NDArray[np.int64] = rng.binomial(
            increments[None, :, :], truth_arr[None, None, :], (sims, *sizes.shape)
        )
        x = np.cumsum(drawn, axis=1)
        cmp = stats.two_proportion(x[..., 0], sizes[:, 0], x[..., 1], sizes[:, 1], experiment.alpha)
    else:
        assert experiment.metric.std is not None
        sd = experiment.metric.std
        # Exact sufficient statistics of each batch of normals: its mean and its sum of squared deviations.
        m = increments[None, :, :]
        batch_mean = rng.normal(truth_arr, sd / np.sqrt(m), (sims, *sizes.shape))
        batch_ss = sd**2 * rng.chisquare(np.maximum(m - 1, 1), (sims, *sizes.shape)) * (m > 1)
        total = np.cumsum(batch_mean * m, axis=1)
        sumsq = np.cumsum(batch_ss + m * batch_mean**2, axis=1)
        n = sizes[None, :, :]
        mean = total / n
        var = (sumsq - n * mean**2) / (n - 1)
        cmp = stats.welch(
            mean[..., 0], var[..., 0], n[..., 0], mean[..., 1], var[..., 1], n[..., 1], experiment.alpha
        )
    return LookStatistics(statistic=cmp.statistic, effect=cmp.effect, bounds=bounds)
