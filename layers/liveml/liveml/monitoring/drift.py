"""Drift of one window of live captures against a version's reference sketch.

The verdict rests on effect sizes, never on p-values alone (at a million rows every shift is
significant). Each feature has three signals, each with a threshold that is the larger of an effect
floor and the sample-size noise band for this window's size (at the window's ``alpha`` shared out over
its features):

* **PSI** on the reference's bins (numeric: its quantile bins; categorical: its categories plus one
  bucket for unseen ones). Under no drift, ``PSI · n·m/(n+m)`` is about chi-square with ``bins - 1``
  degrees of freedom, so the band is ``chi2.ppf(1 - alpha, bins - 1) · (1/n + 1/m)``: wide for a
  window of 200 rows, negligible for a million.
* **The null rate**, which distance measures on non-null values cannot see: the absolute change, against
  a two-proportion band.
* **Unseen categories**: their share of the window.

A feature's score is its largest signal over its threshold, so 1.0 is the alarm line for every feature
and the overall score is the largest. The KS p-value (on capped samples), Wasserstein over the
reference's std and the Jensen-Shannon distance are reported beside, for people, not for the verdict.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import stats
from scipy.spatial.distance import jensenshannon

from liveml.monitoring.sketches import (
    PREDICTION,
    CategoricalSketch,
    NumericSketch,
    ReferenceSketch,
    Sketch,
    Values,
    category_counts,
    numeric_values,
)

UNSEEN = "(unseen)"
#: Categories shown in a record's distribution (the rest are summed into "(other)").
TOP_CATEGORIES = 15


@dataclass(frozen=True)
class DriftThresholds:
    """Effect floors and the noise band's level; ``liveml.yaml``'s ``monitor:`` section sets them."""

    psi: float = 0.1
    null_rate: float = 0.05
    unseen_rate: float = 0.01
    #: The noise band's level for a whole window: shared out over its features (Bonferroni), so a window
    #: of 50 same-distribution features alarms at most about this often, not 50 times as often.
    alpha: float = 0.01
    #: Rows of the window's sample in the KS test.
    ks_sample: int = 5000

    def per_feature(self, features: int) -> DriftThresholds:
        """The thresholds for one of ``features`` features of a window (the window's alpha shared out)."""
        return replace(self, alpha=self.alpha / max(features, 1))


@dataclass
class FeatureDrift:
    feature: str
    kind: str
    n: int
    nulls: int
    score: float
    drifted: bool
    reasons: list[str]
    psi: float
    psi_threshold: float
    null_rate_reference: float
    null_rate: float
    null_threshold: float
    unseen_rate: float = 0.0
    unseen_threshold: float = 0.0
    unseen_top: list[str] = field(default_factory=list)
    ks_pvalue: float | None = None
    wasserstein_std: float | None = None
    js_distance: float | None = None
    #: Bin labels with the reference's and the window's shares, for plots.
    bins: dict[str, list[Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {k: _rounded(v) for k, v in asdict(self).items()}


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 6) if math.isfinite(value) else None
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value


def _shares(counts: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Counts to shares, with half a count in every bin so an empty bin has a finite log."""
    smoothed = counts + 0.5
    return smoothed / smoothed.sum()


def psi(reference: npt.NDArray[np.float64], current: npt.NDArray[np.float64]) -> float:
    p, q = _shares(reference), _shares(current)
    return float(np.sum((q - p) * np.log(q / p)))


def psi_band(bins: int, n: int, m: int, alpha: float) -> float:
    """PSI that same-distribution samples of sizes n and m exceed with probability ``alpha``."""
    return float(stats.chi2.ppf(1 - alpha, max(bins - 1, 1)) * (1 / max(n, 1) + 1 / max(m, 1)))


def _null_signal(ref: Sketch, nulls: int, rows: int, th: DriftThresholds) -> tuple[float, float, float]:
    ref_rows = ref.n + ref.nulls
    p = ref.nulls / ref_rows if ref_rows else 0.0
    q = nulls / rows if rows else 0.0
    pooled = (ref.nulls + nulls) / max(ref_rows + rows, 1)
    z = float(stats.norm.ppf(1 - th.alpha / 2))
    band = z * math.sqrt(pooled * (1 - pooled) * (1 / max(ref_rows, 1) + 1 / max(rows, 1)))
    return p, q, max(th.null_rate, band)


def numeric_drift(
    name: str, ref: NumericSketch, values: Values, th: DriftThresholds, rng: np.random.Generator
) -> FeatureDrift:
    x, nulls, _ = numeric_values(values)
    drift = numeric_counts_drift(name, ref, ref.bin_counts(x), nulls, th)
    if len(x) and ref.sample:
        sample = x if len(x) <= th.ks_sample else x[rng.integers(0, len(x), th.ks_sample)]
        drift.ks_pvalue = float(stats.ks_2samp(ref.sample, sample).pvalue)
        if ref.std > 0:
            drift.wasserstein_std = float(stats.wasserstein_distance(ref.sample, sample) / ref.std)
    return drift


def numeric_counts_drift(
    name: str, ref: NumericSketch, counts: npt.NDArray[np.int64], nulls: int, th: DriftThresholds
) -> FeatureDrift:
    """The verdict from the window's counts in the reference's bins (what one pass over a window yields)."""
    cur = np.asarray(counts, dtype=np.float64)
    m = int(cur.sum())
    ref_counts = np.asarray(ref.counts, dtype=np.float64)
    distance = psi(ref_counts, cur) if m and ref.n else 0.0
    threshold = max(th.psi, psi_band(len(ref_counts), ref.n, m, th.alpha))
    p_null, q_null, null_threshold = _null_signal(ref, nulls, m + nulls, th)
    drift = _verdict(
        name, "numeric", m, nulls, distance, threshold, p_null, q_null, null_threshold, 0.0, 1.0, th
    )
    drift.bins = {
        "labels": _numeric_labels(ref.edges),
        "reference": list(ref_counts / max(ref_counts.sum(), 1)),
        "current": list(cur / max(cur.sum(), 1)),
    }
    return drift


def _numeric_labels(edges: Sequence[float]) -> list[str]:
    if not edges:
        return ["all"]
    cuts = [f"{e:.4g}" for e in edges]
    return [f"<{cuts[0]}", *(f"{a}..{b}" for a, b in pairwise(cuts)), f">={cuts[-1]}"]


def categorical_drift(name: str, ref: CategoricalSketch, values: Values, th: DriftThresholds) -> FeatureDrift:
    counts, nulls = category_counts(values)
    return categorical_counts_drift(name, ref, counts, nulls, th)


def categorical_counts_drift(
    name: str, ref: CategoricalSketch, counts: Mapping[str, int], nulls: int, th: DriftThresholds
) -> FeatureDrift:
    """The verdict from the window's category counts."""
    m = sum(counts.values())
    rows = m + nulls
    known = list(ref.counts)
    unseen = {k: c for k, c in counts.items() if k not in ref.counts}
    unseen_total = sum(unseen.values())
    ref_counts = np.asarray([ref.counts[k] for k in known] + [0], dtype=np.float64)
    cur = np.asarray([counts.get(k, 0) for k in known] + [unseen_total], dtype=np.float64)
    distance = psi(ref_counts, cur) if m and ref.n else 0.0
    threshold = max(th.psi, psi_band(len(ref_counts), ref.n, m, th.alpha))
    p_null, q_null, null_threshold = _null_signal(ref, nulls, rows, th)
    unseen_rate = unseen_total / m if m else 0.0
    z = float(stats.norm.ppf(1 - th.alpha))
    unseen_threshold = th.unseen_rate + z * math.sqrt(th.unseen_rate * (1 - th.unseen_rate) / max(m, 1))
    drift = _verdict(
        name,
        "categorical",
        m,
        nulls,
        distance,
        threshold,
        p_null,
        q_null,
        null_threshold,
        unseen_rate,
        unseen_threshold,
        th,
    )
    drift.unseen_top = [k for k, _ in sorted(unseen.items(), key=lambda kv: -kv[1])[:5]]
    if m and ref.n:
        drift.js_distance = float(jensenshannon(_shares(ref_counts), _shares(cur), base=2))
        # chi-square of the window's counts (capped at ks_sample rows) against the reference's shares
        scale = min(1.0, th.ks_sample / m)
        observed = cur * scale
        expected = _shares(ref_counts) * observed.sum()
        drift.ks_pvalue = float(stats.chisquare(observed, expected).pvalue)
    drift.bins = _category_bins(known, ref_counts, cur)
    return drift


def _category_bins(
    known: list[str], ref_counts: npt.NDArray[np.float64], cur: npt.NDArray[np.float64]
) -> dict[str, list[Any]]:
    ref_share = ref_counts / max(ref_counts.sum(), 1)
    cur_share = cur / max(cur.sum(), 1)
    names = [*known, UNSEEN]
    order = sorted(range(len(names)), key=lambda i: -max(ref_share[i], cur_share[i]))
    top, rest = order[:TOP_CATEGORIES], order[TOP_CATEGORIES:]
    labels = [names[i] for i in top]
    r = [float(ref_share[i]) for i in top]
    c = [float(cur_share[i]) for i in top]
    if rest:
        labels.append("(other)")
        r.append(float(ref_share[rest].sum()))
        c.append(float(cur_share[rest].sum()))
    return {"labels": labels, "reference": r, "current": c}


def _verdict(
    name: str,
    kind: str,
    n: int,
    nulls: int,
    distance: float,
    threshold: float,
    p_null: float,
    q_null: float,
    null_threshold: float,
    unseen_rate: float,
    unseen_threshold: float,
    th: DriftThresholds,
) -> FeatureDrift:
    ratios = {
        "psi": distance / threshold,
        "null_rate": abs(q_null - p_null) / null_threshold,
        "unseen": unseen_rate / unseen_threshold,
    }
    reasons = []
    if ratios["psi"] > 1:
        reasons.append(f"PSI {distance:.3f} > {threshold:.3f}")
    if ratios["null_rate"] > 1:
        reasons.append(f"null rate {q_null:.1%} vs {p_null:.1%} in training")
    if ratios["unseen"] > 1:
        reasons.append(f"{unseen_rate:.1%} unseen categories")
    score = max(ratios.values())
    return FeatureDrift(
        feature=name,
        kind=kind,
        n=n,
        nulls=nulls,
        score=score,
        drifted=score > 1,
        reasons=reasons,
        psi=distance,
        psi_threshold=threshold,
        null_rate_reference=p_null,
        null_rate=q_null,
        null_threshold=null_threshold,
        unseen_rate=unseen_rate,
        unseen_threshold=unseen_threshold,
    )


def feature_drift(
    name: str, ref: Sketch, values: Values, th: DriftThresholds, rng: np.random.Generator
) -> FeatureDrift:
    if isinstance(ref, NumericSketch):
        return numeric_drift(name, ref, values, th, rng)
    return categorical_drift(name, ref, values, th)


@dataclass
class DriftResult:
    """Every feature's drift (most drifted first), the prediction's, and the overall score."""

    features: list[FeatureDrift]
    prediction: FeatureDrift | None
    rows: int

    @property
    def score(self) -> float:
        scores = [f.score for f in self.features]
        if self.prediction is not None:
            scores.append(self.prediction.score)
        return max(scores, default=0.0)

    @property
    def drifted(self) -> bool:
        return self.score > 1

    @property
    def drifted_features(self) -> list[str]:
        return [f.feature for f in self.features if f.drifted]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "score": round(self.score, 6),
            "drifted": self.drifted,
            "drifted_features": self.drifted_features,
            "top_feature": self.features[0].feature if self.features else None,
            "features": [f.to_dict() for f in self.features],
            "prediction": self.prediction.to_dict() if self.prediction is not None else None,
        }


def compare(
    reference: ReferenceSketch,
    columns: Mapping[str, Values],
    *,
    predictions: Sequence[Any] | None = None,
    thresholds: DriftThresholds | None = None,
    seed: int = 0,
) -> DriftResult:
    """Compare a window's columns (feature name → its values, one per row) with the reference."""
    th = (thresholds or DriftThresholds()).per_feature(len(reference.features) + 1)
    rng = np.random.default_rng(seed)
    rows = max((len(v) for v in columns.values()), default=0)
    features = [
        feature_drift(name, sketch, columns.get(name, []), th, rng)
        for name, sketch in reference.features.items()
    ]
    features.sort(key=lambda f: -f.score)
    prediction = None
    if reference.prediction is not None and predictions is not None:
        prediction = feature_drift(PREDICTION, reference.prediction, predictions, th, rng)
    return DriftResult(features=features, prediction=prediction, rows=rows)
