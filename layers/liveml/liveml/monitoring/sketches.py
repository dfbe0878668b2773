"""Binned sketches of a model's training data, computed once at training and stored as an artifact.

A window of live captures is compared against the sketch in one pass (bin counts, category counts, a
capped sample for the KS test), never against the raw training data. ``reference_sketch.json``::

    {"format_version": 1, "model": "churn", "contract_sha256": "...", "rows": 4000,
     "features": {"sessions_7d": {"kind": "numeric", "n": 3990, "nulls": 10,
                                  "edges": [...], "counts": [...], "mean": 4.1, "std": 2.0,
                                  "sample": [... up to 1,000 sorted values ...]},
                  "country": {"kind": "categorical", "n": 4000, "nulls": 0, "counts": {"DE": 812, ...}}},
     "skipped": {"bio": "text features are not monitored"},
     "prediction": {... a numeric (binary: the positive class's probability; regression: the value)
                    or categorical (multiclass: the label) sketch, the holdout's own predictions ...}}

Only numpy is needed, so the training export and the monitor function share this module.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from liveml.contract import ColumnType, Contract
from liveml.modeldir import REFERENCE_SKETCH

SKETCH_FILE = REFERENCE_SKETCH
SKETCH_FORMAT_VERSION = 1
#: Quantile bins of a numeric feature (fewer when the feature has fewer distinct values).
NUMERIC_BINS = 20
#: Reference values kept per numeric feature for the KS test.
SAMPLE_SIZE = 1000
PREDICTION = "prediction"

#: A column of values: a list (from JSON captures) or a numpy array (from a DataFrame).
Values = Sequence[Any] | npt.NDArray[Any]

_NUMERIC = {ColumnType.NUMERIC, ColumnType.INTEGER}
_CATEGORICAL = {ColumnType.CATEGORICAL, ColumnType.BOOLEAN}


@dataclass
class NumericSketch:
    n: int  # non-null values
    nulls: int
    edges: list[float]  # interior cut points; bin i holds edges[i-1] <= x < edges[i]
    counts: list[int]  # len(edges) + 1
    mean: float
    std: float
    sample: list[float]
    kind: Literal["numeric"] = "numeric"

    def bin_counts(self, values: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
        """Counts of ``values`` (non-null) in this sketch's bins: one ``searchsorted``, no sort."""
        idx = np.searchsorted(np.asarray(self.edges, dtype=np.float64), values, side="right")
        return np.bincount(idx, minlength=len(self.edges) + 1).astype(np.int64)


@dataclass
class CategoricalSketch:
    n: int
    nulls: int
    counts: dict[str, int] = field(default_factory=dict)
    kind: Literal["categorical"] = "categorical"


Sketch = NumericSketch | CategoricalSketch


@dataclass
class ReferenceSketch:
    model: str
    contract_sha256: str
    rows: int
    features: dict[str, Sketch]
    skipped: dict[str, str] = field(default_factory=dict)
    prediction: Sketch | None = None
    format_version: int = SKETCH_FORMAT_VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> ReferenceSketch:
        data = json.loads(text)
        return cls(
            model=data["model"],
            contract_sha256=data["contract_sha256"],
            rows=int(data["rows"]),
            features={k: _sketch_from_dict(v) for k, v in data["features"].items()},
            skipped=dict(data.get("skipped", {})),
            prediction=_sketch_from_dict(data["prediction"]) if data.get("prediction") else None,
            format_version=int(data.get("format_version", SKETCH_FORMAT_VERSION)),
        )


def _sketch_from_dict(data: dict[str, Any]) -> Sketch:
    if data["kind"] == "numeric":
        return NumericSketch(**data)
    return CategoricalSketch(**data)


# ---------------------------------------------------------------------------- values


def numeric_values(values: Iterable[Any]) -> tuple[npt.NDArray[np.float64], int, int]:
    """Finite floats, the count of nulls (None, NaN, inf, empty) and of values that are not numbers."""
    try:  # the fast path: numpy turns None into NaN; a string that is not a number raises
        arr = np.asarray(values if isinstance(values, np.ndarray) else list(values), dtype=np.float64)
    except (TypeError, ValueError):
        return _numeric_values_slow(values)
    finite = np.isfinite(arr)
    return arr[finite], int(len(arr) - finite.sum()), 0


def _numeric_values_slow(values: Iterable[Any]) -> tuple[npt.NDArray[np.float64], int, int]:
    out: list[float] = []
    nulls = wrong = 0
    for v in values:
        if v is None or v == "":
            nulls += 1
            continue
        try:
            f = float(v)
        except (TypeError, ValueError):
            wrong += 1
            continue
        if math.isfinite(f):
            out.append(f)
        else:
            nulls += 1
    return np.asarray(out, dtype=np.float64), nulls, wrong


def category_text(value: Any) -> str | None:
    """A category as the text the contract compares (``True`` → ``true``, ``2.0`` → ``2``); None for null."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    text = str(value)
    if text in ("True", "False"):
        return text.lower()
    return text if text != "" else None


def category_counts(values: Iterable[Any]) -> tuple[Counter[str], int]:
    """Counts per category text and the count of nulls. Counts the raw values first (C speed), then
    normalises only the distinct ones."""
    raw = Counter(values.tolist() if isinstance(values, np.ndarray) else values)
    counts: Counter[str] = Counter()
    nulls = 0
    for value, n in raw.items():
        text = category_text(value)
        if text is None:
            nulls += n
        else:
            counts[text] += n
    return counts, nulls


# ---------------------------------------------------------------------------- building


def numeric_sketch(
    values: Iterable[Any], *, bins: int = NUMERIC_BINS, sample_size: int = SAMPLE_SIZE, seed: int = 0
) -> NumericSketch:
    x, nulls, _ = numeric_values(values)
    if len(x) == 0:
        return NumericSketch(n=0, nulls=nulls, edges=[], counts=[0], mean=0.0, std=0.0, sample=[])
    edges = np.unique(np.quantile(x, np.arange(1, bins) / bins))
    sketch = NumericSketch(
        n=len(x),
        nulls=nulls,
        edges=[float(e) for e in edges],
        counts=[],
        mean=float(x.mean()),
        std=float(x.std()),
        sample=[],
    )
    sketch.counts = [int(c) for c in sketch.bin_counts(x)]
    rng = np.random.default_rng(seed)
    picked = x if len(x) <= sample_size else rng.choice(x, sample_size, replace=False)
    sketch.sample = [float(v) for v in np.sort(picked)]
    return sketch


def categorical_sketch(values: Iterable[Any]) -> CategoricalSketch:
    counts, nulls = category_counts(values)
    return CategoricalSketch(n=sum(counts.values()), nulls=nulls, counts=dict(counts.most_common()))


def monitored_kind(column_type: ColumnType) -> Literal["numeric", "categorical"] | None:
    if column_type in _NUMERIC:
        return "numeric"
    if column_type in _CATEGORICAL:
        return "categorical"
    return None


def prediction_values(
    task: str, outputs: Sequence[Mapping[str, Any]], classes: Sequence[str] | None
) -> list[Any]:
    """The monitored prediction of each output (as served or as captured): binary → the positive
    class's probability, multiclass → the label, regression → the value."""
    if task == "regression":
        return [o.get("value", o.get("prediction")) for o in outputs]
    if task == "binary" and classes:
        positive = str(classes[-1])
        return [(o.get("probabilities") or {}).get(positive) for o in outputs]
    return [o.get("prediction", o.get("label")) for o in outputs]


def holdout_predictions(
    outputs: npt.NDArray[np.float64], task: str, classes: Sequence[str] | None
) -> list[Any]:
    """The monitored prediction of each holdout row from the model's outputs ([N, K] or [N])."""
    arr = np.asarray(outputs, dtype=np.float64)
    if task == "regression":
        return [float(v) for v in arr.reshape(-1)]
    assert classes is not None
    if task == "binary":
        return [float(v) for v in arr[:, -1]]
    return [str(classes[i]) for i in np.argmax(arr, axis=1)]


def prediction_sketch(task: str, values: Sequence[Any]) -> Sketch:
    return categorical_sketch(values) if task == "multiclass" else numeric_sketch(values)


def reference_sketch(
    contract: Contract,
    columns: Mapping[str, Sequence[Any] | npt.NDArray[Any]],
    *,
    task: str,
    predictions: Sequence[Any] | None = None,
    seed: int = 0,
) -> ReferenceSketch:
    """The sketch of a training frame's feature columns (and of the holdout's predictions)."""
    features: dict[str, Sketch] = {}
    skipped: dict[str, str] = {}
    rows = 0
    for col in contract.columns:
        if col.name in (contract.target, contract.entity_id):
            skipped[col.name] = "not a feature"
            continue
        if col.name not in columns:
            continue
        if col.name == contract.event_time:
            skipped[col.name] = "the event time moves by design; it is not monitored"
            continue
        values = list(columns[col.name])
        rows = max(rows, len(values))
        kind = monitored_kind(col.type)
        if kind == "numeric":
            features[col.name] = numeric_sketch(values, seed=seed)
        elif kind == "categorical":
            features[col.name] = categorical_sketch(values)
        else:
            skipped[col.name] = f"{col.type.value} features are not monitored"
    return ReferenceSketch(
        model=contract.name,
        contract_sha256=contract.sha256,
        rows=rows,
        features=features,
        skipped=skipped,
        prediction=prediction_sketch(task, predictions) if predictions is not None else None,
    )
