"""The data gate's checks of one column: nulls, type, infinities, range, categories, constancy."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from liveml.contract.model import Column, ColumnType, Contract, IssueCode
from liveml.data.convert import EXAMPLES, booleans, datetimes, examples, fmt_number, texts
from liveml.data.findings import Findings
from liveml.data.report import Severity


def check_column(found: Findings, contract: Contract, col: Column, s: pd.Series[Any]) -> None:
    """Nulls, type, range, categories and constancy of one contract column."""
    n = len(s)
    nulls = int(s.isna().sum())
    is_target = col.name == contract.target
    # A column the contract expects to be sparser than the gate allows is held to its expectation
    # (``null_rate_jump`` catches a rise over it), not refused for being what it always was.
    max_nulls = max(contract.gates.max_null_fraction, col.expected_null_fraction or 0.0)
    if is_target:
        if nulls:
            frac = nulls / n
            severity = Severity.ERROR if nulls == n or frac > max_nulls else Severity.WARNING
            found.add(
                IssueCode.TARGET_MISSING,
                f"{frac:.1%} of rows have no target (they cannot be used)",
                column=col.name,
                rows=nulls,
                severity=severity,
            )
    elif nulls and not col.nullable:
        found.add(
            IssueCode.NULL_FRACTION,
            f"{nulls} null(s) in a column the contract marks not nullable",
            column=col.name,
            rows=nulls,
        )
    elif nulls / n > max_nulls:
        whose = "gate" if max_nulls == contract.gates.max_null_fraction else "contract"
        found.add(
            IssueCode.NULL_FRACTION,
            f"{nulls / n:.1%} nulls, over the {whose}'s {max_nulls:.0%}",
            column=col.name,
            rows=nulls,
        )
    if nulls == n:
        found.broken.add(col.name)
        return
    if col.type in (ColumnType.NUMERIC, ColumnType.INTEGER):
        _numeric(found, col, s)
    elif col.type is ColumnType.BOOLEAN:
        values, bad = booleans(s)
        _mismatch(found, col, s, bad, "not a boolean (true/false, 1/0, yes/no)")
        found.numeric[col.name] = values.to_numpy(dtype="float64")
    elif col.type is ColumnType.DATETIME:
        parsed, bad = datetimes(s)
        _mismatch(found, col, s, bad, "not an ISO-8601 date/time")
        if not bad.any():
            epoch = parsed.astype("int64").to_numpy().astype("float64")
            epoch[parsed.isna().to_numpy()] = np.nan
            found.numeric[col.name] = epoch
    elif col.type is ColumnType.CATEGORICAL:
        _categorical(found, contract, col, s)
    if not is_target and col.name != contract.entity_id and col.name not in found.broken:
        distinct = s.nunique(dropna=True)
        if distinct == 1 and n - nulls > 1 and not col.expected_constant:
            found.add(
                IssueCode.CONSTANT_COLUMN,
                "a single value in every row: it carries no signal",
                column=col.name,
                rows=n - nulls,
                examples=examples(s.dropna().head(1)),
            )


def _mismatch(found: Findings, col: Column, s: pd.Series[Any], bad: pd.Series[Any], what: str) -> bool:
    count = int(bad.sum())
    if count:
        found.broken.add(col.name)
        found.add(
            IssueCode.TYPE_MISMATCH,
            f"{count} value(s) {what}; the contract says {col.type.value}",
            column=col.name,
            rows=count,
            examples=examples(s[bad]),
        )
    return count > 0


def _numeric(found: Findings, col: Column, s: pd.Series[Any]) -> None:
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
        values = s.to_numpy(dtype="float64", na_value=np.nan)
    else:
        coerced = pd.to_numeric(s, errors="coerce")
        if _mismatch(found, col, s, coerced.isna() & s.notna(), "not a number"):
            return
        values = coerced.to_numpy(dtype="float64", na_value=np.nan)
    inf = np.isinf(values)
    if inf.any():
        found.add(
            IssueCode.INFINITE_VALUES,
            "infinite values",
            column=col.name,
            rows=int(inf.sum()),
            examples=examples(values[inf]),
        )
        values = np.where(inf, np.nan, values)
    finite_mask = ~np.isnan(values)
    if col.type is ColumnType.INTEGER:
        fractional = finite_mask & (np.mod(np.where(finite_mask, values, 0.0), 1) != 0)
        if fractional.any():
            found.add(
                IssueCode.TYPE_MISMATCH,
                f"{int(fractional.sum())} value(s) not whole numbers; the contract says integer",
                column=col.name,
                rows=int(fractional.sum()),
                examples=examples(values[fractional]),
            )
    low = finite_mask & (values < col.min) if col.min is not None else np.zeros(len(values), bool)
    high = finite_mask & (values > col.max) if col.max is not None else np.zeros(len(values), bool)
    out = low | high
    if out.any():
        lo = fmt_number(col.min) if col.min is not None else "-inf"
        hi = fmt_number(col.max) if col.max is not None else "inf"
        bounds = f"[{lo}, {hi}]"
        found.add(
            IssueCode.OUT_OF_RANGE,
            f"{int(out.sum())} value(s) outside {bounds}",
            column=col.name,
            rows=int(out.sum()),
            examples=[fmt_number(v) for v in pd.unique(values[out])[:EXAMPLES]],
        )
    found.numeric[col.name] = values


def _categorical(found: Findings, contract: Contract, col: Column, s: pd.Series[Any]) -> None:
    text = texts(s)
    codes, uniques = pd.factorize(text, use_na_sentinel=True)
    if col.name == contract.entity_id or col.name == contract.target:
        return
    distinct = len(uniques)
    if distinct > contract.gates.max_categories:
        found.broken.add(col.name)
        found.add(
            IssueCode.HIGH_CARDINALITY,
            f"{distinct} distinct values, over the gate's {contract.gates.max_categories}: "
            "an id or free text? make it text, or bucket it",
            column=col.name,
            examples=[str(u)[:40] for u in uniques[:EXAMPLES]],
        )
    if col.categories is not None:
        allowed = set(col.categories)
        unseen = [u for u in uniques if u not in allowed]
        if unseen:
            mask = text.isin(unseen)
            found.add(
                IssueCode.UNSEEN_CATEGORIES,
                f"{len(unseen)} value(s) not among the contract's categories",
                column=col.name,
                rows=int(mask.sum()),
                examples=[str(u)[:40] for u in unseen[:EXAMPLES]],
            )
    if col.name not in found.broken:
        found.codes[col.name] = codes.astype(np.int64)
