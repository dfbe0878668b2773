"""The data gate: the header, whole rows and the target (one column: ``column_checks``; leakage:
``leakage``). Each check adds ``Issue``s to one ``Findings``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from liveml.contract.model import Contract, IssueCode, Task
from liveml.data.column_checks import check_column
from liveml.data.convert import EXAMPLES, examples, label_texts
from liveml.data.findings import Findings
from liveml.data.leakage import check_leakage
from liveml.data.report import Issue, Severity


def check_frame(df: pd.DataFrame, contract: Contract) -> list[Issue]:
    """Every check of ``df`` against ``contract``, in one pass: the header, each column, whole rows,
    the target and leakage."""
    c, found = contract, Findings()
    if df.shape[1] == 0 or len(df) == 0:
        what = f"header only ({df.shape[1]} columns, no rows)" if df.shape[1] else "no columns and no rows"
        found.add(IssueCode.EMPTY_DATASET, f"the dataset is empty: {what}")
        return found.issues
    if df.columns.duplicated().any():
        dupes = [str(x) for x in df.columns[df.columns.duplicated()]]
        found.add(IssueCode.EXTRA_COLUMNS, "duplicate column names in the header", examples=dupes)
        df = df.loc[:, ~df.columns.duplicated()]
    present = {str(x) for x in df.columns}
    if c.target not in present:
        found.add(IssueCode.TARGET_MISSING, f"the target column {c.target!r} is missing", column=c.target)
    missing = [n for n in c.column_names if n not in present and n != c.target]
    if missing:
        found.add(
            IssueCode.MISSING_COLUMNS,
            f"{len(missing)} contract column(s) missing",
            examples=missing[:EXAMPLES] if len(missing) > EXAMPLES else missing,
        )
    known = set(c.column_names)
    extra = [str(x) for x in df.columns if str(x) not in known]
    if extra:
        found.add(
            IssueCode.EXTRA_COLUMNS,
            f"{len(extra)} column(s) not in the contract: add them, or drop them from the export",
            examples=extra[:EXAMPLES],
        )
    for col in c.columns:
        if col.name in present:
            check_column(found, c, col, df[col.name])
    _check_rows(found, c, df)
    if c.target in present:
        usable = _check_target(found, c, df[c.target], rows=len(df))
        if usable:
            check_leakage(found, c, df[c.target])
    return found.issues


def _check_rows(found: Findings, c: Contract, df: pd.DataFrame) -> None:
    """Too few rows, duplicate rows, duplicate ids."""
    n = len(df)
    if n < c.gates.min_rows:
        found.add(IssueCode.TOO_FEW_ROWS, f"{n} rows, the gate needs at least {c.gates.min_rows}", rows=n)
    try:
        dup = df.duplicated()
    except TypeError:  # unhashable cells (nested JSON): skip the check rather than fail
        dup = pd.Series(False, index=df.index)
    n_dup = int(dup.sum())
    if n_dup:
        frac = n_dup / n
        policy = c.gates.duplicates or ("error" if c.entity_id else "warn")
        refused = policy == "error" and frac > c.gates.max_duplicate_fraction
        why = "" if c.entity_id else " (no entity id: two rows may be two players; gates.duplicates says)"
        found.add(
            IssueCode.DUPLICATE_ROWS,
            f"{n_dup} row(s) ({frac:.1%}) repeat an earlier row exactly{why}",
            rows=n_dup,
            severity=Severity.ERROR if refused else Severity.WARNING,
            examples=[f"row {i + 1}" for i in np.flatnonzero(dup)[:EXAMPLES]],
        )
    if c.entity_id and c.entity_id in df.columns:
        # With an event time, one player may appear once per snapshot; without, once.
        key = [c.entity_id] + ([c.event_time] if c.event_time and c.event_time in df.columns else [])
        ids = df[key].dropna()
        dup_ids = ids.duplicated()
        n_ids = int(dup_ids.sum())
        if n_ids:
            found.add(
                IssueCode.DUPLICATE_IDS,
                f"{n_ids} row(s) repeat an id{' and event time' if len(key) > 1 else ''}",
                column=c.entity_id,
                rows=n_ids,
                examples=examples(ids[c.entity_id][dup_ids]),
            )


def _check_target(found: Findings, c: Contract, y: pd.Series[Any], *, rows: int) -> bool:
    """Target checks; True when the target is good enough for the leakage check."""
    g = c.gates
    y = y.dropna()
    if y.empty:
        found.issues = [
            i for i in found.issues if not (i.code is IssueCode.TARGET_MISSING and i.column == c.target)
        ]
        found.add(
            IssueCode.TARGET_MISSING,
            "the target column has no values",
            column=c.target,
            rows=rows,
        )
        return False
    if c.task is Task.REGRESSION:
        return c.target not in found.broken
    labels = label_texts(y)
    counts = labels.value_counts()
    if c.classes is not None:
        unseen = [str(v) for v in counts.index if v not in set(c.classes)]
        if unseen:
            found.add(
                IssueCode.UNSEEN_CATEGORIES,
                f"target labels not among the contract's classes {c.classes}",
                column=c.target,
                rows=int(labels.isin(unseen).sum()),
                examples=unseen[:EXAMPLES],
            )
    if len(counts) < 2:
        found.add(
            IssueCode.SINGLE_CLASS,
            f"every row has the label {counts.index[0]!r}: nothing to learn",
            column=c.target,
            rows=int(counts.iloc[0]),
            examples=[str(counts.index[0])],
        )
        return False
    if c.task is Task.BINARY and c.classes is None and len(counts) > 2:
        found.add(
            IssueCode.TYPE_MISMATCH,
            f"a binary target with {len(counts)} distinct labels",
            column=c.target,
            examples=[str(v) for v in counts.index[:EXAMPLES]],
        )
        return False
    expected = c.classes if c.classes is not None else [str(v) for v in counts.index]
    few = {k: int(counts.get(k, 0)) for k in expected if int(counts.get(k, 0)) < g.min_rows_per_class}
    if few:
        found.add(
            IssueCode.MIN_ROWS_PER_CLASS,
            f"{len(few)} class(es) under the gate's {g.min_rows_per_class} rows per class",
            column=c.target,
            rows=sum(few.values()),
            examples=[f"{k}: {v}" for k, v in few.items()],
        )
    return True
