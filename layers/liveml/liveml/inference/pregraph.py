"""The pre-graph step: raw feature values → the named inputs of the ONNX graph.

ONNX has no datetime type and skl2onnx's infrequent-category handling fails at run time on
unseen categories, so two things happen here, before the graph, identically in training (the
first step of the scikit-learn pipeline wraps this class), in serving and in the Unity client:

* datetime columns become five float inputs ``<col>__hour_sin``, ``__hour_cos``, ``__dow_sin``,
  ``__dow_cos`` (UTC) and ``__age_days`` (days between the value and the reference time: the row's
  event-time column when the contract has one and the row carries it, else ``as_of``);
* categorical values outside the set kept at fit time (frequent ones) become ``__other__`` and
  missing ones ``__missing__``, so the graph's one-hot encoder never meets an unseen string;
* text is folded to ASCII (``fold_text``, pre-graph format 2): the ONNX tokenizer (locale ``C``)
  does not split non-ASCII text into the words scikit-learn's Unicode ``\\w`` finds, so both must
  see text whose word characters are all ASCII.

Numeric, integer and boolean columns become float32 inputs (NaN for missing), text a string input
('' for missing). Only numpy and the standard library are used here.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from liveml.inference.errors import InputError

#: 2 folds text to ASCII (``fold_text``); 1 (older models) passes text through as it came.
PREGRAPH_VERSION = 2
PREGRAPH_VERSIONS = frozenset({1, 2})
OTHER = "__other__"
MISSING = "__missing__"
DATETIME_PARTS = ("hour_sin", "hour_cos", "dow_sin", "dow_cos", "age_days")
NUMERIC_TYPES = frozenset({"numeric", "integer", "boolean"})
STRING_TYPES = frozenset({"categorical", "text"})
ALL_TYPES = NUMERIC_TYPES | STRING_TYPES | {"datetime"}
_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})

FloatArray = npt.NDArray[np.float32]
ObjectArray = npt.NDArray[np.object_]


@dataclass(frozen=True)
class GraphInput:
    """One input of the ONNX graph: a [N, 1] tensor of float32 or of strings."""

    name: str
    dtype: str  # "float" | "string"
    source: str  # the raw column it comes from
    role: str  # numeric | categorical | text | datetime


@dataclass
class ColumnSpec:
    """How one raw feature column enters the graph."""

    name: str
    type: str
    #: categorical only: the categories kept at fit time (others become ``__other__``).
    categories: list[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type}
        if self.categories is not None:
            out["categories"] = list(self.categories)
        return out


@dataclass
class PreGraph:
    """The pre-graph step of one model; JSON-serialisable (it is stored in the manifest)."""

    columns: list[ColumnSpec]
    event_time: str | None = None
    #: epoch seconds used for ``age_days`` when neither the row's event time nor ``as_of`` is given.
    reference_time: float | None = None
    min_frequency: int = 5
    max_categories: int = 30
    version: int = PREGRAPH_VERSION
    _kept: dict[str, frozenset[str]] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        for col in self.columns:
            if col.type not in ALL_TYPES:
                raise InputError(f"column {col.name!r}: unknown type {col.type!r}")
            if col.categories is not None:
                self._kept[col.name] = frozenset(col.categories)

    # --- construction -------------------------------------------------------------------------

    @classmethod
    def from_contract(cls, contract: Any, *, min_frequency: int = 5, max_categories: int = 30) -> PreGraph:
        """An unfitted pre-graph for the contract's feature columns, in contract order."""
        cols = [ColumnSpec(c.name, _type_name(c.type)) for c in contract.features]
        return cls(cols, contract.event_time, None, min_frequency, max_categories)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PreGraph:
        version = int(data.get("version", 0))
        if version not in PREGRAPH_VERSIONS:
            raise InputError(
                f"pre-graph format version {data.get('version')!r} is not supported "
                f"(this runtime reads {sorted(PREGRAPH_VERSIONS)})"
            )
        cols = [ColumnSpec(c["name"], c["type"], c.get("categories")) for c in data["columns"]]
        return cls(
            cols,
            data.get("event_time"),
            data.get("reference_time"),
            int(data.get("min_frequency", 5)),
            int(data.get("max_categories", 30)),
            version,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "columns": [c.to_dict() for c in self.columns],
            "event_time": self.event_time,
            "reference_time": self.reference_time,
            "min_frequency": self.min_frequency,
            "max_categories": self.max_categories,
        }

    def fit(self, columns: Mapping[str, Any]) -> PreGraph:
        """Learn the kept categories (frequent, at most ``max_categories``) and the reference time."""
        for col in self.columns:
            if col.type == "categorical":
                values = [_as_category(v) for v in _values(columns, col.name)]
                counts = Counter(v for v in values if v is not None)
                # Most frequent first, ties by name, so a refit on the same data is identical.
                ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
                kept = [k for k, n in ranked if n >= self.min_frequency][: self.max_categories]
                col.categories = sorted(kept)
                self._kept[col.name] = frozenset(kept)
        times: list[float] = []
        names = [c.name for c in self.columns if c.type == "datetime"]
        if self.event_time and self.event_time in columns:
            names.append(self.event_time)
        for name in names:
            secs = to_epoch_seconds(_values(columns, name))
            finite = secs[np.isfinite(secs)]
            if finite.size:
                times.append(float(finite.max()))
        self.reference_time = max(times) if times else None
        return self

    # --- the graph's inputs ------------------------------------------------------------------

    @property
    def feature_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def graph_inputs(self) -> list[GraphInput]:
        out: list[GraphInput] = []
        for col in self.columns:
            if col.type in NUMERIC_TYPES:
                out.append(GraphInput(col.name, "float", col.name, "numeric"))
            elif col.type in STRING_TYPES:
                out.append(GraphInput(col.name, "string", col.name, col.type))
            else:
                out.extend(
                    GraphInput(f"{col.name}__{p}", "float", col.name, "datetime") for p in DATETIME_PARTS
                )
        return out

    def transform_rows(
        self, rows: Sequence[Mapping[str, Any]], *, as_of: float | datetime | None = None
    ) -> dict[str, npt.NDArray[Any]]:
        """Graph inputs for a list of raw rows (dicts keyed by column name; absent keys are missing)."""
        names = [*self.feature_names, *([self.event_time] if self.event_time else [])]
        columns = {name: [row.get(name) for row in rows] for name in names}
        return self.transform_columns(columns, n_rows=len(rows), as_of=as_of)

    def transform_columns(
        self, columns: Mapping[str, Any], *, n_rows: int | None = None, as_of: float | datetime | None = None
    ) -> dict[str, npt.NDArray[Any]]:
        """Graph inputs (each [N, 1]) for columns given as sequences or numpy arrays."""
        if n_rows is None:
            n_rows = len(next(iter(columns.values()))) if columns else 0
        ref = self._reference(columns, n_rows, as_of)
        out: dict[str, npt.NDArray[Any]] = {}
        for col in self.columns:
            raw = columns.get(col.name)
            values: Any = [None] * n_rows if raw is None else raw
            if col.type in NUMERIC_TYPES:
                out[col.name] = to_float32(values, col.name, boolean=col.type == "boolean").reshape(-1, 1)
            elif col.type == "categorical":
                out[col.name] = self._categories(col.name, values).reshape(-1, 1)
            elif col.type == "text":
                fold = fold_text if self.version >= 2 else str
                text = np.array(["" if _is_missing(v) else fold(str(v)) for v in values], dtype=object)
                out[col.name] = text.reshape(-1, 1)
            else:
                for part, arr in datetime_features(to_epoch_seconds(values, col.name), ref).items():
                    out[f"{col.name}__{part}"] = arr.reshape(-1, 1)
        return out

    def _categories(self, name: str, values: Iterable[Any]) -> ObjectArray:
        kept = self._kept.get(name)
        if kept is None:
            raise InputError(f"the pre-graph step is not fitted: no categories for {name!r}")
        mapped = []
        for v in values:
            s = _as_category(v)
            mapped.append(MISSING if s is None else (s if s in kept else OTHER))
        return np.array(mapped, dtype=object)

    def _reference(
        self, columns: Mapping[str, Any], n_rows: int, as_of: float | datetime | None
    ) -> npt.NDArray[np.float64]:
        if isinstance(as_of, datetime):
            default = float(to_epoch_seconds([as_of])[0])
        elif as_of is not None:
            default = float(as_of)
        elif self.reference_time is not None:
            default = float(self.reference_time)
        else:
            default = math.nan
        ref = np.full(n_rows, default, dtype=np.float64)
        if self.event_time and columns.get(self.event_time) is not None:
            event = to_epoch_seconds(columns[self.event_time], self.event_time)
            ref = np.where(np.isfinite(event), event, ref)
        return ref


# --- text -------------------------------------------------------------------------------------


def fold_text(text: str) -> str:
    """Text as ASCII with the same words: lowered character by character (``str.lower()`` of each),
    then ``_`` becomes ``__``, a non-ASCII word character (``\\w``: ``isalnum()``) ``_<hex code point>_``
    and any other non-ASCII character a space. Word boundaries stay where they were and distinct
    words stay distinct (the escape is reversible), so the model loses nothing and scikit-learn's
    and ONNX's tokenizers, given this text, find the same tokens."""
    if text.isascii():
        return text.lower().replace("_", "__")
    folded = text.translate(_FOLDED)
    if folded.isascii():
        return folded
    # Characters met for the first time: every value in the table is ASCII, so these are what is left.
    new = {ord(c): _fold_char(c) for c in set(folded) if not c.isascii()}
    if len(_FOLDED) < _FOLDED_MAX:
        _FOLDED.update(new)
        return text.translate(_FOLDED)
    return "".join(_FOLDED.get(ord(c)) or new[ord(c)] for c in text)


def _fold_char(c: str) -> str:
    # One character lowers to up to three ("İ" → "i̇"); a lone character has no casing context,
    # so a word-final capital sigma lowers like any other: the fold needs no look-around, on any client.
    out = []
    for x in c.lower():
        if x.isascii():
            out.append("__" if x == "_" else x)
        else:
            out.append(f"_{ord(x):x}_" if x.isalnum() else " ")
    return "".join(out)


#: Code point → its fold, for str.translate; grows with the characters met, up to a bound (clients
#: choose the characters).
_FOLDED: dict[int, str] = {cp: _fold_char(chr(cp)) for cp in range(128)}
_FOLDED_MAX = 65536


# --- value conversion (shared with the compact evaluator and the features package) ------------


def _type_name(t: Any) -> str:
    return str(getattr(t, "value", t))


def _values(columns: Mapping[str, Any], name: str) -> Sequence[Any]:
    v = columns.get(name)
    return [] if v is None else v


def _is_missing(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float | np.floating):
        return bool(math.isnan(v))
    return v is getattr(np, "NaT", object()) or (isinstance(v, np.datetime64) and bool(np.isnat(v)))


def _as_category(v: Any) -> str | None:
    """A category as the graph sees it: a string, with missing (None, NaN, '') as ``None``."""
    if _is_missing(v):
        return None
    if isinstance(v, bool | np.bool_):
        return "true" if v else "false"
    if isinstance(v, float | np.floating) and float(v).is_integer():
        v = int(v)  # 3.0 and 3 are the same category
    s = str(v)
    return s if s != "" else None


def to_float32(values: Any, name: str = "value", *, boolean: bool = False) -> FloatArray:
    """Numbers (or numeric strings, booleans) as float32, NaN for missing; a clear error otherwise."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "fiub":
        return values.astype(np.float32).ravel()
    out = np.empty(len(values), dtype=np.float32)
    for i, v in enumerate(values):
        out[i] = _to_float(v, name, boolean)
    return out


def _to_float(v: Any, name: str, boolean: bool) -> float:
    if _is_missing(v):
        return math.nan
    if isinstance(v, bool | np.bool_):
        return 1.0 if v else 0.0
    if isinstance(v, int | float | np.integer | np.floating):
        return float(v)
    if isinstance(v, str):
        s = v.strip().lower()
        if s == "":
            return math.nan
        if boolean and s in _TRUE:
            return 1.0
        if boolean and s in _FALSE:
            return 0.0
        try:
            return float(s)
        except ValueError:
            pass
    raise InputError(f"column {name!r}: {v!r} is not a number")


def to_epoch_seconds(values: Any, name: str = "value") -> npt.NDArray[np.float64]:
    """Datetimes (ISO strings, ``datetime``, ``date``, epoch seconds, numpy datetime64) as UTC epoch
    seconds, NaN for missing. Naive datetimes are taken as UTC."""
    if isinstance(values, np.ndarray):
        if values.dtype.kind in "fiu":
            return values.astype(np.float64).ravel()
        if values.dtype.kind == "M":
            flat = values.ravel()
            secs = flat.astype("datetime64[ns]").astype(np.int64).astype(np.float64) / 1e9
            return np.where(np.isnat(flat), np.nan, secs)
    out = np.empty(len(values), dtype=np.float64)
    for i, v in enumerate(values):
        out[i] = _epoch(v, name)
    return out


def _epoch(v: Any, name: str) -> float:
    if _is_missing(v):
        return math.nan
    if isinstance(v, bool):
        raise InputError(f"column {name!r}: {v!r} is not a datetime")
    if isinstance(v, int | float | np.integer | np.floating):
        return float(v)
    if isinstance(v, np.datetime64):
        return float(v.astype("datetime64[ns]").astype(np.int64)) / 1e9
    if isinstance(v, datetime):
        return (v if v.tzinfo else v.replace(tzinfo=UTC)).timestamp()
    if isinstance(v, date):
        return datetime(v.year, v.month, v.day, tzinfo=UTC).timestamp()
    if isinstance(v, str):
        s = v.strip()
        if s == "":
            return math.nan
        try:
            dt = datetime.fromisoformat(s.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise InputError(f"column {name!r}: {v!r} is not an ISO 8601 datetime") from None
        return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp()
    raise InputError(f"column {name!r}: {v!r} is not a datetime")


def datetime_features(
    seconds: npt.NDArray[np.float64], reference: npt.NDArray[np.float64]
) -> dict[str, FloatArray]:
    """Cyclic hour of day and day of week (UTC, Monday = 0) and age in days, as float32."""
    day = np.floor(seconds / 86400.0)
    hour = (seconds - day * 86400.0) / 3600.0
    dow = np.mod(day + 3.0, 7.0)  # 1970-01-01 was a Thursday
    two_pi = 2.0 * math.pi
    return {
        "hour_sin": np.sin(two_pi * hour / 24.0).astype(np.float32),
        "hour_cos": np.cos(two_pi * hour / 24.0).astype(np.float32),
        "dow_sin": np.sin(two_pi * dow / 7.0).astype(np.float32),
        "dow_cos": np.cos(two_pi * dow / 7.0).astype(np.float32),
        "age_days": ((reference - seconds) / 86400.0).astype(np.float32),
    }
