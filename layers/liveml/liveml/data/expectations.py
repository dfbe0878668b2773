"""The gate's checks against what ``contract infer`` saw: a sudden jump in a column's null rate, and
values far outside its plausible range.

A column's hard limits (``min``, ``max``, ``nullable``) say what is impossible; these expectations say
what is implausible for data like the data the contract was drafted from. A fifth of a column gone
missing, or values a million times the usual range, pass the hard limits but would train a broken
model. Both are errors by default; ``gates.warn_only`` makes either a warning.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from liveml.contract.model import ColumnType, IssueCode
from liveml.data.report import Issue, Severity

if TYPE_CHECKING:
    import pandas as pd

    from liveml.contract.model import Column, Contract

_EXAMPLES = 5


def expectation_issues(df: pd.DataFrame, contract: Contract) -> list[Issue]:
    """Issues for every column whose null rate or values break the contract's expectations."""
    issues: list[Issue] = []
    present = {str(c) for c in df.columns}
    for col in contract.columns:
        if col.name not in present or col.name == contract.target:
            continue
        s = df.loc[:, [c for c in df.columns if str(c) == col.name]].iloc[:, 0]
        if len(s) == 0:
            continue
        issues += _null_rate(col, s, contract.gates.max_null_increase)
        if col.type in (ColumnType.NUMERIC, ColumnType.INTEGER):
            issues += _implausible(col, s)
    return issues


def _null_rate(col: Column, s: pd.Series[Any], allowed_increase: float) -> list[Issue]:
    if col.expected_null_fraction is None:
        return []
    nulls = int(s.isna().sum())
    share = nulls / len(s)
    if share <= col.expected_null_fraction + allowed_increase:
        return []
    return [
        Issue(
            code=IssueCode.NULL_RATE_JUMP,
            severity=Severity.ERROR,
            column=col.name,
            rows_affected=nulls,
            message=(
                f"{share:.1%} nulls where the contract expects {col.expected_null_fraction:.1%} "
                f"(more than {allowed_increase:.0%} over): did an export start writing blanks or n/a?"
            ),
        )
    ]


def _implausible(col: Column, s: pd.Series[Any]) -> list[Issue]:
    import numpy as np
    import pandas as pd

    if col.plausible_min is None and col.plausible_max is None:
        return []
    # Non-numbers are the type check's to report; here they are simply not values.
    values = pd.to_numeric(s, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    finite = np.isfinite(values)
    out = np.zeros(len(values), bool)
    if col.plausible_min is not None:
        out |= finite & (values < col.plausible_min)
    if col.plausible_max is not None:
        out |= finite & (values > col.plausible_max)
    if not out.any():
        return []
    lo = "-inf" if col.plausible_min is None else f"{col.plausible_min:g}"
    hi = "inf" if col.plausible_max is None else f"{col.plausible_max:g}"
    return [
        Issue(
            code=IssueCode.IMPLAUSIBLE_VALUES,
            severity=Severity.ERROR,
            column=col.name,
            rows_affected=int(out.sum()),
            examples=[f"{v:g}" for v in pd.unique(values[out])[:_EXAMPLES]],
            message=(
                f"{int(out.sum())} value(s) far outside the plausible range [{lo}, {hi}] "
                "(the observed range with a wide margin): a unit change or corrupt export?"
            ),
        )
    ]
