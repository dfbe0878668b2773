"""Conversions the data gate and ``conform`` share: values as the contract reads them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from numpy.typing import NDArray

#: example values an issue carries at most
EXAMPLES = 5
TRUE_TEXTS = {"true", "t", "yes", "y", "1", "1.0"}
FALSE_TEXTS = {"false", "f", "no", "n", "0", "0.0"}


def texts(s: pd.Series[Any]) -> pd.Series[Any]:
    """Values as text the way a contract lists them: 3.0 -> '3', True -> 'true', NaN kept."""
    if pd.api.types.is_bool_dtype(s):
        return s.map({True: "true", False: "false"}).astype("str")
    if pd.api.types.is_float_dtype(s):
        finite = s.dropna()
        if len(finite) and bool(np.all(np.mod(finite.to_numpy(), 1) == 0)):
            return s.astype("Int64").astype("str").where(s.notna())
    if pd.api.types.is_string_dtype(s) and not pd.api.types.is_object_dtype(s):
        return s
    if pd.api.types.is_object_dtype(s) and pd.api.types.infer_dtype(s, skipna=True) != "string":
        # Booleans among other values (a CSV column of True/False with gaps, JSON true/false): as above.
        # (The scan above is C; the map only runs on columns that are not all strings.)
        s = s.map(lambda v: ("true" if v else "false") if isinstance(v, bool | np.bool_) else v)
    return s.astype("str").where(s.notna())


def label_texts(s: pd.Series[Any]) -> pd.Series[Any]:
    return texts(s)


def booleans(s: pd.Series[Any]) -> tuple[pd.Series[Any], pd.Series[Any]]:
    """(values as float 0/1 with NaN, mask of non-null values that are not booleans)."""
    if pd.api.types.is_bool_dtype(s):
        return s.astype("float64"), pd.Series(False, index=s.index)
    lowered = texts(s).str.strip().str.lower()
    values = pd.Series(np.nan, index=s.index, dtype="float64")
    values[lowered.isin(TRUE_TEXTS)] = 1.0
    values[lowered.isin(FALSE_TEXTS)] = 0.0
    bad = s.notna() & values.isna()
    return values, bad


def datetimes(s: pd.Series[Any]) -> tuple[pd.Series[Any], pd.Series[Any]]:
    """(values as UTC datetimes, mask of non-null values that are not ISO-8601 date/times)."""
    if pd.api.types.is_datetime64_any_dtype(s):
        parsed = s if getattr(s.dt, "tz", None) is not None else s.dt.tz_localize("UTC")
        return parsed, pd.Series(False, index=s.index)
    if pd.api.types.is_numeric_dtype(s):
        return pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns, UTC]"), s.notna()
    parsed = pd.to_datetime(s, errors="coerce", format="ISO8601", utc=True)
    return parsed, s.notna() & parsed.isna()


def examples(values: pd.Series[Any] | NDArray[Any] | list[Any]) -> list[str]:
    out: list[str] = []
    for v in pd.unique(pd.Series(values)):
        out.append(str(v)[:40])
        if len(out) >= EXAMPLES:
            break
    return out


def fmt_number(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"
