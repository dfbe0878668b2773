"""Draft a contract from a DataFrame, for a person to read and edit.

pandas is imported inside the function: ``liveml.contract`` must stay importable without it.
"""

from __future__ import annotations

import functools
import math
import re
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from liveml.contract.errors import ContractError
from liveml.contract.model import Column, ColumnType, Contract, Gates, Task

if TYPE_CHECKING:
    import pandas as pd

#: names tried, in order, when no target is given
TARGET_NAMES = ("target", "label", "churned", "churn", "y", "class", "segment")
_ID_NAME = re.compile(r"(^|_)(id|uuid|guid)$|^(player|user|account|entity)(_?id)?$", re.IGNORECASE)
_TIME_NAMES = ("event_time", "event_ts", "timestamp", "ts", "time", "snapshot_time", "as_of")
#: a string column with at most this many distinct values (and short values) is categorical
MAX_INFERRED_CATEGORIES = 50
#: a classification target has at most this many classes when inferred
MAX_INFERRED_CLASSES = 20
#: plausible bounds: the observed range widened by this many times its width (or magnitude) each way
PLAUSIBLE_MARGIN = 10.0


def infer(df: pd.DataFrame, target: str | None = None, name: str = "dataset") -> Contract:
    """A draft contract for ``df``: types, nullability, observed ranges, categories, roles."""
    import pandas as pd

    if df.shape[1] == 0 or len(df) == 0:
        raise ContractError("cannot infer a contract from an empty dataset")
    columns_str = [str(c) for c in df.columns]
    if target is None:
        target = next((c for c in TARGET_NAMES if c in columns_str), None)
        if target is None:
            raise ContractError(
                f"no target given and none of {list(TARGET_NAMES)} is a column: pass --target"
            )
    if target not in columns_str:
        raise ContractError(f"target {target!r} is not a column (columns: {columns_str})")

    columns: list[Column] = []
    entity_id: str | None = None
    event_time: str | None = None
    for raw_name in df.columns:
        col_name = str(raw_name)
        s = df[raw_name]
        col = _infer_column(col_name, s, is_target=col_name == target)
        complete = bool(s.notna().all())
        if (
            entity_id is None
            and col_name != target
            and _ID_NAME.search(col_name)
            and complete
            and s.is_unique
        ):
            entity_id = col_name
            col = Column(
                name=col_name,
                type=ColumnType.CATEGORICAL,
                nullable=False,
                description="entity id (one per player)",
            )
        elif (
            event_time is None
            and col.type is ColumnType.DATETIME
            and col_name.lower() in _TIME_NAMES
            and complete  # the event time is never null: a column with gaps stays a feature
        ):
            event_time = col_name
        elif col_name != target and int(s.nunique(dropna=True)) == 1 and int(s.notna().sum()) > 1:
            col = col.model_copy(update={"expected_constant": True})
        columns.append(col)

    y = df[target].dropna()
    target_col = next(c for c in columns if c.name == target)
    n_classes = int(y.nunique())
    if n_classes < 2:
        what = "no values" if n_classes == 0 else f"a single value ({_label_text(y.iloc[0])!r})"
        raise ContractError(f"target {target!r} has {what}: there is nothing to learn from this file")
    classes: list[str] | None = None
    if target_col.type is ColumnType.NUMERIC and n_classes > MAX_INFERRED_CLASSES:
        task = Task.REGRESSION
    elif n_classes <= 2:
        task = Task.BINARY
        classes = _sorted_labels(y) if n_classes == 2 else None
    elif n_classes <= MAX_INFERRED_CLASSES:
        task = Task.MULTICLASS
        classes = _sorted_labels(y)
    elif pd.api.types.is_numeric_dtype(y):
        task = Task.REGRESSION
    else:
        raise ContractError(f"target {target!r} has {n_classes} distinct labels: too many for classification")

    # Rows without a label are expected at the share seen (the gate warns about them up to there).
    target_nulls = target_col.expected_null_fraction
    if task is Task.REGRESSION:
        target_col = Column(
            name=target,
            type=ColumnType.NUMERIC,
            nullable=False,
            description=target_col.description,
            expected_null_fraction=target_nulls,
        )
    else:
        # A class label needs no range or category list: `classes` says which labels exist.
        ttype = ColumnType.CATEGORICAL if target_col.type is ColumnType.TEXT else target_col.type
        target_col = Column(
            name=target,
            type=ttype,
            nullable=False,
            description=target_col.description,
            expected_null_fraction=target_nulls,
        )
    columns = [target_col if c.name == target else c for c in columns]
    if event_time is not None:
        columns = [c.model_copy(update={"nullable": False}) if c.name == event_time else c for c in columns]

    # The gates start from the defaults and loosen only as far as this file needs: a small file or a
    # rare class is the data the person has. Without an entity id, a repeated row may be two players.
    defaults = Gates()
    smallest_class = int(y.value_counts().min()) if classes is not None else defaults.min_rows_per_class
    gates = Gates(
        min_rows=min(defaults.min_rows, len(df)),
        min_rows_per_class=min(defaults.min_rows_per_class, smallest_class),
        duplicates="error" if entity_id else "warn",
    )
    try:
        return Contract(
            name=name,
            task=task,
            target=target,
            classes=classes,
            entity_id=entity_id,
            event_time=event_time,
            columns=columns,
            gates=gates,
        )
    except ValidationError as exc:  # e.g. nothing but the target, an id and a time: no features
        raise ContractError.from_validation(exc, f"contract drafted from {name!r}") from None


def _sorted_labels(y: pd.Series[Any]) -> list[str]:
    import pandas as pd

    values = y.unique().tolist()
    try:
        values = sorted(values)
    except TypeError:
        values = sorted(values, key=str)
    return _texts(pd.Series(values, dtype=y.dtype)).tolist()


def _label_text(v: Any) -> str:
    import pandas as pd

    return str(_texts(pd.Series([v])).iloc[0])


def _texts(s: pd.Series[Any]) -> pd.Series[Any]:
    """Values as text exactly as the gate compares them (categories, class labels)."""
    from liveml.data.convert import texts

    return texts(s)


def _infer_column(name: str, s: pd.Series[Any], *, is_target: bool) -> Column:
    import numpy as np
    import pandas as pd

    nulls = int(s.isna().sum())
    # Features stay nullable: serving may receive a missing value and the pipeline imputes it. What was
    # seen is recorded as the expected null share, which the gate holds the next uploads to; rounded
    # up, so the file itself is never over its own expectation.
    nullable = True if not is_target else nulls > 0
    expected = math.ceil(round(nulls / len(s) * 10_000, 6)) / 10_000 if len(s) else None
    non_null = s.dropna()
    # What every drafted column records, whatever its type.
    column = functools.partial(Column, name=name, nullable=nullable, expected_null_fraction=expected)
    # True/False with gaps is an object column holding bools: still a boolean column.
    as_object_bools = pd.api.types.is_object_dtype(s) and pd.api.types.infer_dtype(non_null) == "boolean"
    if pd.api.types.is_bool_dtype(s) or (len(non_null) > 0 and as_object_bools):
        return column(type=ColumnType.BOOLEAN)
    if pd.api.types.is_datetime64_any_dtype(s):
        return column(type=ColumnType.DATETIME)
    if pd.api.types.is_numeric_dtype(s):
        values = non_null.to_numpy(dtype="float64")
        finite = values[np.isfinite(values)]
        integral = finite.size > 0 and bool(np.all(finite == np.round(finite)))
        # pandas turns an integer column with gaps into floats: integral values still mean integer.
        ctype = (
            ColumnType.INTEGER
            if integral and (pd.api.types.is_integer_dtype(s) or nulls > 0)
            else ColumnType.NUMERIC
        )
        lo = float(finite.min()) if finite.size else None
        hi = float(finite.max()) if finite.size else None
        description = f"observed {_num(lo)} .. {_num(hi)}" if lo is not None else ""
        # Only a sign is drafted as a bound: observed extremes would reject tomorrow's data.
        minimum = 0.0 if lo is not None and lo >= 0 else None
        maximum = 1.0 if lo is not None and hi is not None and lo >= 0 and hi <= 1 and not integral else None
        plausible = plausible_range(lo, hi) if not is_target else (None, None)
        return column(
            type=ctype,
            min=minimum,
            max=maximum,
            description=description,
            plausible_min=plausible[0],
            plausible_max=plausible[1],
        )
    text = _texts(non_null)
    if len(text) and _looks_like_datetime(text):
        return column(type=ColumnType.DATETIME)
    distinct = int(text.nunique())
    mean_words = float(text.str.count(" ").mean()) + 1 if len(text) else 0.0
    if distinct > Gates().max_categories:
        # More values than the gate lets a category have: ids or free text, not a category.
        return column(
            type=ColumnType.TEXT,
            description=f"{distinct} distinct values seen: an id or free text (text), or bucket it",
        )
    if distinct <= MAX_INFERRED_CATEGORIES and mean_words < 3:
        return column(type=ColumnType.CATEGORICAL, categories=sorted(text.unique().tolist()))
    if mean_words >= 2:
        return column(type=ColumnType.TEXT)
    return column(
        type=ColumnType.CATEGORICAL,
        description=f"{distinct} distinct values seen; list them in categories to check them",
    )


def plausible_range(lo: float | None, hi: float | None) -> tuple[float | None, float | None]:
    """The observed ``[lo, hi]`` widened by ``PLAUSIBLE_MARGIN`` times its width (at least its magnitude,
    at least 1) each way, and never across zero when every value had one sign (counts stay >= 0)."""
    if lo is None or hi is None:
        return None, None
    margin = PLAUSIBLE_MARGIN * max(hi - lo, abs(lo), abs(hi), 1.0)
    low, high = lo - margin, hi + margin
    if lo >= 0:
        low = 0.0
    if hi <= 0:
        high = 0.0
    # Near the float limit a widened bound overflows: no bound there, rather than an infinite one.
    return _round_outwards(low), _round_outwards(high)


def _round_outwards(v: float) -> float | None:
    """Two significant digits, rounded away from the range: a bound people read, never tighter.
    None when the bound would not be a finite number."""
    if not math.isfinite(v):
        return None
    if v == 0:
        return 0.0
    step = 10.0 ** (math.floor(math.log10(abs(v))) - 1)
    rounded = math.ceil(v / step) * step if v > 0 else math.floor(v / step) * step
    return float(rounded) if math.isfinite(rounded) else None


def _looks_like_datetime(text: pd.Series[Any]) -> bool:
    import pandas as pd

    # Every distinct value, not a sample: one that does not parse would fail the file's own gate.
    distinct = pd.Series(text.unique())
    if not distinct.str.match(r"^\d{4}-\d{2}-\d{2}").all():
        return False
    parsed = pd.to_datetime(distinct, errors="coerce", format="ISO8601", utc=True)
    return bool(parsed.notna().all())


def _num(v: float | None) -> str:
    if v is None:
        return "?"
    return str(int(v)) if v.is_integer() else f"{v:g}"
