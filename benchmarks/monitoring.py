"""Drift-monitor benchmark: figures for issue 11, one ``name value`` line each.

    python benchmarks/monitoring.py               # every figure (about a minute on 2 cores)
    python benchmarks/monitoring.py --windows 50  # fewer simulated windows

- ``drift_1m_x_50_seconds``: one window of 1,000,000 rows x 50 features (35 numeric with nulls, 15
  categorical with unseen values), against a 50,000-row reference sketched once
  (``sketch_50k_x_50_seconds``): ``liveml.monitoring.drift.compare`` — bins, PSI, null and unseen
  signals, KS on a capped sample, chi-square — median of 3 runs. ``naive_scipy_1m_x_50_seconds`` is
  the baseline on the same arrays: scipy's two-sample KS and Wasserstein on the raw arrays per numeric
  feature and chi-square on ``np.unique`` counts per categorical one (what a per-feature script, or a
  tool that keeps raw reference data, does); ``speedup`` is the ratio.
- ``drift_false_alarm_rate``: the share of 200 same-distribution windows of 1,000,000 rows (50
  features each) in which the monitor alarms. Windows are simulated as what one pass over them yields
  (multinomial bin and category counts, binomial null counts, drawn from the population the reference
  was sampled from), so 200 million-row windows take seconds. Beside it: ``pvalue_false_alarm_rate``,
  a verdict on p-values (chi-square on the same counts, alpha 0.05 per feature), and at 200 rows per
  window ``_200_rows`` for both the monitor and ``floor_only`` (the effect floor without the noise band).
- ``drift_detection_rate``: the share of windows (1M rows) in which one feature shifted by 0.5 std is
  flagged and named the top drifted feature.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import numpy as np
from scipy import stats

from liveml.monitoring.drift import DriftThresholds, categorical_counts_drift, compare, numeric_counts_drift
from liveml.monitoring.sketches import (
    CategoricalSketch,
    NumericSketch,
    ReferenceSketch,
    categorical_sketch,
    numeric_sketch,
)

NUMERIC, CATEGORICAL = 35, 15
REF_ROWS, WINDOW_ROWS = 50_000, 1_000_000
NULL_RATE = 0.03


def population(seed: int) -> list[dict[str, Any]]:
    """50 feature distributions: skewed, heavy-tailed and discrete numerics; categoricals of 3-40 values."""
    rng = np.random.default_rng(seed)
    out: list[dict[str, Any]] = []
    for i in range(NUMERIC):
        kind = ("lognormal", "normal", "poisson", "exponential", "t")[i % 5]
        out.append({"name": f"num_{i:02d}", "kind": kind, "scale": float(rng.uniform(0.5, 3))})
    for i in range(CATEGORICAL):
        k = int(rng.integers(3, 41))
        p = rng.dirichlet(np.ones(k))
        out.append(
            {"name": f"cat_{i:02d}", "kind": "categorical", "cats": [f"c{j}" for j in range(k)], "p": p}
        )
    return out


UNSEEN = 0.001  # a trickle of categories the reference never saw, as live data has


def draw(
    feature: dict[str, Any], n: int, rng: np.random.Generator, shift: float = 0.0, *, live: bool = True
) -> np.ndarray:
    kind = feature["kind"]
    if kind == "categorical":
        values = rng.choice(np.array(feature["cats"], dtype=object), n, p=feature["p"])
        if live:
            values[rng.random(n) < UNSEEN] = "new_value"
        values[rng.random(n) < NULL_RATE] = None
        return values
    s = feature["scale"]
    x: np.ndarray = {
        "lognormal": lambda: rng.lognormal(0, 0.5 * s, n),
        "normal": lambda: rng.normal(0, s, n),
        "poisson": lambda: rng.poisson(3 * s, n).astype(np.float64),
        "exponential": lambda: rng.exponential(s, n),
        "t": lambda: rng.standard_t(4, n) * s,
    }[kind]()  # type: ignore[no-untyped-call]
    x = x + shift * x.std()
    x[rng.random(n) < NULL_RATE] = np.nan
    return np.asarray(x, dtype=np.float64)


def sketch_of(features: list[dict[str, Any]], columns: dict[str, np.ndarray]) -> ReferenceSketch:
    sketches: dict[str, Any] = {}
    for f in features:
        values = columns[f["name"]]
        sketches[f["name"]] = (
            categorical_sketch(values) if f["kind"] == "categorical" else numeric_sketch(values)
        )
    return ReferenceSketch(model="bench", contract_sha256="", rows=REF_ROWS, features=sketches)


def naive(features: list[dict[str, Any]], ref: dict[str, np.ndarray], cur: dict[str, np.ndarray]) -> None:
    for f in features:
        a, b = ref[f["name"]], cur[f["name"]]
        if f["kind"] == "categorical":
            a, b = a[a != None], b[b != None]  # noqa: E711 (element-wise)
            cats, counts_b = np.unique(b.astype(str), return_counts=True)
            ref_cats, counts_a = np.unique(a.astype(str), return_counts=True)
            ref_map = dict(zip(ref_cats, counts_a, strict=True))
            table = np.array([[ref_map.get(c, 0) + 0.5 for c in cats], counts_b + 0.5])
            stats.chi2_contingency(table)
        else:
            a, b = a[np.isfinite(a)], b[np.isfinite(b)]
            stats.ks_2samp(a, b)
            stats.wasserstein_distance(a, b)


def median_seconds(fn: Any, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def true_bin_probs(
    feature: dict[str, Any], sketch: Any, rng: np.random.Generator
) -> tuple[np.ndarray, float]:
    """The population's share per reference bin (estimated once from 2M draws), and its null rate."""
    if feature["kind"] == "categorical":
        probs = np.array(
            [feature["p"][feature["cats"].index(c)] if c in feature["cats"] else 0.0 for c in sketch.counts]
        )
        return np.append(probs * (1 - UNSEEN), UNSEEN), NULL_RATE
    big = draw(feature, 2_000_000, rng)
    big = big[np.isfinite(big)]
    counts = sketch.bin_counts(big)
    return counts / counts.sum(), NULL_RATE


def simulate_window(
    features: list[dict[str, Any]],
    sketch: ReferenceSketch,
    truth: dict[str, tuple[np.ndarray, float]],
    rows: int,
    th: DriftThresholds,
    rng: np.random.Generator,
    shifted: dict[str, np.ndarray] | None = None,
) -> tuple[list[Any], list[float]]:
    """One window as its counts; returns the feature verdicts and each feature's chi-square p-value."""
    verdicts, pvalues = [], []
    for f in features:
        ref = sketch.features[f["name"]]
        probs, null_rate = truth[f["name"]]
        if shifted and f["name"] in shifted:
            probs = shifted[f["name"]]
        nulls = int(rng.binomial(rows, null_rate))
        counts = rng.multinomial(rows - nulls, probs)
        if isinstance(ref, CategoricalSketch):
            named = {c: int(n) for c, n in zip(list(ref.counts), counts[:-1], strict=True)}
            named["new_value"] = int(counts[-1])
            verdict = categorical_counts_drift(f["name"], ref, named, nulls, th)
            ref_counts = np.array([*ref.counts.values(), 0], dtype=np.float64)
        else:
            assert isinstance(ref, NumericSketch)
            verdict = numeric_counts_drift(f["name"], ref, counts, nulls, th)
            ref_counts = np.array(ref.counts, dtype=np.float64)
        verdicts.append(verdict)
        table = np.array([ref_counts + 0.5, counts + 0.5])
        pvalues.append(float(stats.chi2_contingency(table).pvalue))
    return verdicts, pvalues


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--windows", type=int, default=200)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    features = population(1)

    ref_cols = {f["name"]: draw(f, REF_ROWS, rng, live=False) for f in features}
    t0 = time.perf_counter()
    sketch = sketch_of(features, ref_cols)
    print(f"sketch_50k_x_50_seconds {time.perf_counter() - t0:.3f}", flush=True)
    cur_cols = {f["name"]: draw(f, WINDOW_ROWS, rng) for f in features}
    ours = median_seconds(lambda: compare(sketch, cur_cols))
    base = median_seconds(lambda: naive(features, ref_cols, cur_cols))
    result = compare(sketch, cur_cols)
    print(f"drift_1m_x_50_seconds {ours:.3f}")
    print(f"naive_scipy_1m_x_50_seconds {base:.3f}")
    print(f"speedup {base / ours:.1f}")
    print(f"same_distribution_window_alarmed {int(result.drifted)} (score {result.score:.3f})", flush=True)

    truth = {f["name"]: true_bin_probs(f, sketch.features[f["name"]], rng) for f in features}
    th = DriftThresholds().per_feature(len(features) + 1)  # as compare() shares the window's alpha out
    floor_only = DriftThresholds(alpha=0.4999)  # the band shrinks to its median: the floor alone decides
    for rows, suffix in ((WINDOW_ROWS, ""), (200, "_200_rows")):
        alarms = pvalue_alarms = floor_alarms = 0
        for _ in range(args.windows):
            verdicts, pvalues = simulate_window(features, sketch, truth, rows, th, rng)
            alarms += any(v.drifted for v in verdicts)
            pvalue_alarms += any(p < 0.05 for p in pvalues)
            if suffix:
                floor_verdicts, _ = simulate_window(features, sketch, truth, rows, floor_only, rng)
                floor_alarms += any(v.drifted for v in floor_verdicts)
        print(f"drift_false_alarm_rate{suffix} {alarms / args.windows:.4g}")
        print(f"pvalue_false_alarm_rate{suffix} {pvalue_alarms / args.windows:.4g}")
        if suffix:
            print(f"floor_only_false_alarm_rate{suffix} {floor_alarms / args.windows:.4g}", flush=True)

    target = next(f for f in features if f["kind"] == "normal")
    moved = draw(target, 2_000_000, rng, shift=0.5)
    moved = moved[np.isfinite(moved)]
    counts = sketch.features[target["name"]].bin_counts(moved)  # type: ignore[union-attr]
    shifted = {target["name"]: counts / counts.sum()}
    found = 0
    n = max(args.windows // 4, 10)
    for _ in range(n):
        verdicts, _ = simulate_window(features, sketch, truth, WINDOW_ROWS, th, rng, shifted)
        top = max(verdicts, key=lambda v: v.score)
        found += top.drifted and top.feature == target["name"]
    print(f"drift_detection_rate {found / n:.4g} (0.5 std shift of {target['name']}, {n} windows)")


if __name__ == "__main__":
    main()
