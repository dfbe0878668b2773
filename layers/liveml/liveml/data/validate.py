"""The data gate: every check of a dataset against its contract, in one pass, fast.

Each check adds ``Issue``s with a stable ``code`` (``liveml.contract.IssueCode``); the report
passes when no issue is an error. ``Gates.warn_only`` turns chosen codes into warnings.
50k rows x 16 columns validate in about a tenth of a second on this project's machines
(``benchmarks/`` has no timed assertions; the figure is in the module's tests' output).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from liveml.contract.model import Column, ColumnType, Contract, IssueCode, Task
from liveml.data.errors import DataQualityError, DataReadError
from liveml.data.expectations import expectation_issues
from liveml.data.read import SOURCE_ATTR, Source, read_dataset, read_issues
from liveml.data.report import Issue, Severity, ValidationReport

if TYPE_CHECKING:
    from numpy.typing import NDArray

#: rows sampled for the leakage check; enough for a stable estimate, cheap at any size
LEAKAGE_SAMPLE = 20_000
#: quantile bins a numeric feature is cut into for the leakage check
LEAKAGE_BINS = 32
_EXAMPLES = 5
_TRUE = {"true", "t", "yes", "y", "1", "1.0"}
_FALSE = {"false", "f", "no", "n", "0", "0.0"}


def validate(df: pd.DataFrame, contract: Contract) -> ValidationReport:
    """Check ``df`` against ``contract``; never raises for bad data, the report says everything."""
    start = time.perf_counter()
    issues = read_issues(df) + _Checker(df, contract).run() + expectation_issues(df, contract)
    demote = set(contract.gates.warn_only)
    for issue in issues:
        if issue.code in demote:
            issue.severity = Severity.WARNING
    source = df.attrs.get(SOURCE_ATTR) or {}
    return ValidationReport.build(
        issues,
        rows=len(df),
        columns=df.shape[1],
        contract=contract.name,
        contract_sha256=contract.sha256,
        dataset_sha256=source.get("sha256"),
        seconds=round(time.perf_counter() - start, 4),
    )


def validate_source(
    source: Source | pd.DataFrame, contract: Contract, *, name: str | None = None
) -> ValidationReport:
    """Read (if needed) and validate; an unreadable file becomes a failed report, not an exception."""
    if isinstance(source, pd.DataFrame):
        return validate(source, contract)
    try:
        df = read_dataset(source, name=name, contract=contract)
    except DataReadError as exc:
        return ValidationReport.build(
            [Issue(code=exc.code, message=str(exc))],
            rows=0,
            columns=0,
            contract=contract.name,
            contract_sha256=contract.sha256,
        )
    return validate(df, contract)


def check(source: Source | pd.DataFrame, contract: Contract, *, name: str | None = None) -> ValidationReport:
    """The gate: the report when it passes, ``DataQualityError`` carrying it when it does not."""
    report = validate_source(source, contract, name=name)
    if not report.passed:
        raise DataQualityError(report)
    return report


def conform(df: pd.DataFrame, contract: Contract) -> pd.DataFrame:
    """The contract's columns in contract order, typed for training (numbers as float64, text as str).

    Call it after the gate passed; columns the frame lacks raise ``DataReadError``.
    """
    missing = [c.name for c in contract.columns if c.name not in df.columns]
    if missing:
        raise DataReadError(f"columns missing: {missing}", IssueCode.MISSING_COLUMNS)
    out: dict[str, Any] = {}
    for col in contract.columns:
        s = df[col.name]
        if col.name == contract.target and contract.task is not Task.REGRESSION:
            out[col.name] = _labels(s)
        elif col.type in (ColumnType.NUMERIC, ColumnType.INTEGER):
            out[col.name] = pd.to_numeric(s, errors="coerce").astype("float64")
        elif col.type is ColumnType.BOOLEAN:
            out[col.name] = _booleans(s)[0]
        elif col.type is ColumnType.DATETIME:
            out[col.name] = _datetimes(s)[0]
        else:
            out[col.name] = _texts(s)
    return pd.DataFrame(out, index=df.index)


# --- conversions shared by the checks and conform ---------------------------------------------


def _texts(s: pd.Series[Any]) -> pd.Series[Any]:
    """Values as text the way a contract lists them: 3.0 -> '3', True -> 'true', NaN kept."""
    if pd.api.types.is_bool_dtype(s):
        return s.map({True: "true", False: "false"}).astype("str")
    if pd.api.types.is_float_dtype(s):
        finite = s.dropna()
        if len(finite) and bool(np.all(np.mod(finite.to_numpy(), 1) == 0)):
            return s.astype("Int64").astype("str").where(s.notna())
    if pd.api.types.is_string_dtype(s) and not pd.api.types.is_object_dtype(s):
        return s
    return s.astype("str").where(s.notna())


def _labels(s: pd.Series[Any]) -> pd.Series[Any]:
    return _texts(s)


def _booleans(s: pd.Series[Any]) -> tuple[pd.Series[Any], pd.Series[Any]]:
    """(values as float 0/1 with NaN, mask of non-null values that are not booleans)."""
    if pd.api.types.is_bool_dtype(s):
        return s.astype("float64"), pd.Series(False, index=s.index)
    lowered = _texts(s).str.strip().str.lower()
    values = pd.Series(np.nan, index=s.index, dtype="float64")
    values[lowered.isin(_TRUE)] = 1.0
    values[lowered.isin(_FALSE)] = 0.0
    bad = s.notna() & values.isna()
    return values, bad


def _datetimes(s: pd.Series[Any]) -> tuple[pd.Series[Any], pd.Series[Any]]:
    """(values as UTC datetimes, mask of non-null values that are not ISO-8601 date/times)."""
    if pd.api.types.is_datetime64_any_dtype(s):
        parsed = s if getattr(s.dt, "tz", None) is not None else s.dt.tz_localize("UTC")
        return parsed, pd.Series(False, index=s.index)
    if pd.api.types.is_numeric_dtype(s):
        return pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns, UTC]"), s.notna()
    parsed = pd.to_datetime(s, errors="coerce", format="ISO8601", utc=True)
    return parsed, s.notna() & parsed.isna()


def _examples(values: pd.Series[Any] | NDArray[Any] | list[Any]) -> list[str]:
    out: list[str] = []
    for v in pd.unique(pd.Series(values)):
        out.append(str(v)[:40])
        if len(out) >= _EXAMPLES:
            break
    return out


# --- the checks -------------------------------------------------------------------------------


class _Checker:
    def __init__(self, df: pd.DataFrame, contract: Contract) -> None:
        self.df = df
        self.contract = contract
        self.gates = contract.gates
        self.issues: list[Issue] = []
        #: numeric view of each usable feature (for the leakage check), by column name
        self.numeric: dict[str, NDArray[np.float64]] = {}
        self.codes: dict[str, NDArray[np.int64]] = {}
        self.broken: set[str] = set()

    def add(
        self,
        code: IssueCode,
        message: str,
        *,
        column: str | None = None,
        rows: int = 0,
        examples: list[str] | None = None,
        severity: Severity = Severity.ERROR,
    ) -> None:
        self.issues.append(
            Issue(
                code=code,
                severity=severity,
                column=column,
                rows_affected=rows,
                examples=examples or [],
                message=message,
            )
        )

    def run(self) -> list[Issue]:
        df, c = self.df, self.contract
        if df.shape[1] == 0 or len(df) == 0:
            what = (
                f"header only ({df.shape[1]} columns, no rows)" if df.shape[1] else "no columns and no rows"
            )
            self.add(IssueCode.EMPTY_DATASET, f"the dataset is empty: {what}")
            return self.issues
        if df.columns.duplicated().any():
            dupes = [str(x) for x in df.columns[df.columns.duplicated()]]
            self.add(IssueCode.EXTRA_COLUMNS, "duplicate column names in the header", examples=dupes)
            df = self.df = df.loc[:, ~df.columns.duplicated()]
        present = {str(x) for x in df.columns}
        if c.target not in present:
            self.add(IssueCode.TARGET_MISSING, f"the target column {c.target!r} is missing", column=c.target)
        missing = [n for n in c.column_names if n not in present and n != c.target]
        if missing:
            self.add(
                IssueCode.MISSING_COLUMNS,
                f"{len(missing)} contract column(s) missing",
                examples=missing[:_EXAMPLES] if len(missing) > _EXAMPLES else missing,
            )
        known = set(c.column_names)
        extra = [str(x) for x in df.columns if str(x) not in known]
        if extra:
            self.add(
                IssueCode.EXTRA_COLUMNS,
                f"{len(extra)} column(s) not in the contract: add them, or drop them from the export",
                examples=extra[:_EXAMPLES],
            )
        for col in c.columns:
            if col.name in present:
                self._column(col, df[col.name])
        self._rows()
        if c.target in present:
            usable = self._target(df[c.target])
            if usable:
                self._leakage(df[c.target])
        return self.issues

    # one column ---------------------------------------------------------------------------

    def _column(self, col: Column, s: pd.Series[Any]) -> None:
        n = len(s)
        nulls = int(s.isna().sum())
        is_target = col.name == self.contract.target
        if is_target:
            if nulls:
                frac = nulls / n
                severity = (
                    Severity.ERROR if nulls == n or frac > self.gates.max_null_fraction else Severity.WARNING
                )
                self.add(
                    IssueCode.TARGET_MISSING,
                    f"{frac:.1%} of rows have no target (they cannot be used)",
                    column=col.name,
                    rows=nulls,
                    severity=severity,
                )
        elif nulls and not col.nullable:
            self.add(
                IssueCode.NULL_FRACTION,
                f"{nulls} null(s) in a column the contract marks not nullable",
                column=col.name,
                rows=nulls,
            )
        elif nulls / n > self.gates.max_null_fraction:
            self.add(
                IssueCode.NULL_FRACTION,
                f"{nulls / n:.1%} nulls, over the gate's {self.gates.max_null_fraction:.0%}",
                column=col.name,
                rows=nulls,
            )
        if nulls == n:
            self.broken.add(col.name)
            return
        if col.type in (ColumnType.NUMERIC, ColumnType.INTEGER):
            self._numeric(col, s)
        elif col.type is ColumnType.BOOLEAN:
            values, bad = _booleans(s)
            self._mismatch(col, s, bad, "not a boolean (true/false, 1/0, yes/no)")
            self.numeric[col.name] = values.to_numpy(dtype="float64")
        elif col.type is ColumnType.DATETIME:
            parsed, bad = _datetimes(s)
            self._mismatch(col, s, bad, "not an ISO-8601 date/time")
            if not bad.any():
                epoch = parsed.astype("int64").to_numpy().astype("float64")
                epoch[parsed.isna().to_numpy()] = np.nan
                self.numeric[col.name] = epoch
        elif col.type is ColumnType.CATEGORICAL:
            self._categorical(col, s)
        if not is_target and col.name != self.contract.entity_id and col.name not in self.broken:
            distinct = s.nunique(dropna=True)
            if distinct == 1 and n - nulls > 1:
                self.add(
                    IssueCode.CONSTANT_COLUMN,
                    "a single value in every row: it carries no signal",
                    column=col.name,
                    rows=n - nulls,
                    examples=_examples(s.dropna().head(1)),
                )

    def _mismatch(self, col: Column, s: pd.Series[Any], bad: pd.Series[Any], what: str) -> bool:
        count = int(bad.sum())
        if count:
            self.broken.add(col.name)
            self.add(
                IssueCode.TYPE_MISMATCH,
                f"{count} value(s) {what}; the contract says {col.type.value}",
                column=col.name,
                rows=count,
                examples=_examples(s[bad]),
            )
        return count > 0

    def _numeric(self, col: Column, s: pd.Series[Any]) -> None:
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            values = s.to_numpy(dtype="float64", na_value=np.nan)
        else:
            coerced = pd.to_numeric(s, errors="coerce")
            if self._mismatch(col, s, coerced.isna() & s.notna(), "not a number"):
                return
            values = coerced.to_numpy(dtype="float64", na_value=np.nan)
        inf = np.isinf(values)
        if inf.any():
            self.add(
                IssueCode.INFINITE_VALUES,
                "infinite values",
                column=col.name,
                rows=int(inf.sum()),
                examples=_examples(values[inf]),
            )
            values = np.where(inf, np.nan, values)
        finite_mask = ~np.isnan(values)
        if col.type is ColumnType.INTEGER:
            fractional = finite_mask & (np.mod(np.where(finite_mask, values, 0.0), 1) != 0)
            if fractional.any():
                self.add(
                    IssueCode.TYPE_MISMATCH,
                    f"{int(fractional.sum())} value(s) not whole numbers; the contract says integer",
                    column=col.name,
                    rows=int(fractional.sum()),
                    examples=_examples(values[fractional]),
                )
        low = finite_mask & (values < col.min) if col.min is not None else np.zeros(len(values), bool)
        high = finite_mask & (values > col.max) if col.max is not None else np.zeros(len(values), bool)
        out = low | high
        if out.any():
            lo = _fmt(col.min) if col.min is not None else "-inf"
            hi = _fmt(col.max) if col.max is not None else "inf"
            bounds = f"[{lo}, {hi}]"
            self.add(
                IssueCode.OUT_OF_RANGE,
                f"{int(out.sum())} value(s) outside {bounds}",
                column=col.name,
                rows=int(out.sum()),
                examples=[_fmt(v) for v in pd.unique(values[out])[:_EXAMPLES]],
            )
        self.numeric[col.name] = values

    def _categorical(self, col: Column, s: pd.Series[Any]) -> None:
        text = _texts(s)
        codes, uniques = pd.factorize(text, use_na_sentinel=True)
        if col.name == self.contract.entity_id or col.name == self.contract.target:
            return
        distinct = len(uniques)
        if distinct > self.gates.max_categories:
            self.broken.add(col.name)
            self.add(
                IssueCode.HIGH_CARDINALITY,
                f"{distinct} distinct values, over the gate's {self.gates.max_categories}: "
                "an id or free text? make it text, or bucket it",
                column=col.name,
                examples=[str(u)[:40] for u in uniques[:_EXAMPLES]],
            )
        if col.categories is not None:
            allowed = set(col.categories)
            unseen = [u for u in uniques if u not in allowed]
            if unseen:
                mask = text.isin(unseen)
                self.add(
                    IssueCode.UNSEEN_CATEGORIES,
                    f"{len(unseen)} value(s) not among the contract's categories",
                    column=col.name,
                    rows=int(mask.sum()),
                    examples=[str(u)[:40] for u in unseen[:_EXAMPLES]],
                )
        if col.name not in self.broken:
            self.codes[col.name] = codes.astype(np.int64)

    # whole rows ---------------------------------------------------------------------------

    def _rows(self) -> None:
        df, c, n = self.df, self.contract, len(self.df)
        if n < self.gates.min_rows:
            self.add(
                IssueCode.TOO_FEW_ROWS, f"{n} rows, the gate needs at least {self.gates.min_rows}", rows=n
            )
        try:
            dup = df.duplicated()
        except TypeError:  # unhashable cells (nested JSON): skip the check rather than fail
            dup = pd.Series(False, index=df.index)
        n_dup = int(dup.sum())
        if n_dup:
            frac = n_dup / n
            severity = Severity.ERROR if frac > self.gates.max_duplicate_fraction else Severity.WARNING
            self.add(
                IssueCode.DUPLICATE_ROWS,
                f"{n_dup} row(s) ({frac:.1%}) repeat an earlier row exactly",
                rows=n_dup,
                severity=severity,
                examples=[f"row {i + 1}" for i in np.flatnonzero(dup)[:_EXAMPLES]],
            )
        if c.entity_id and c.entity_id in df.columns:
            # With an event time, one player may appear once per snapshot; without, once.
            key = [c.entity_id] + ([c.event_time] if c.event_time and c.event_time in df.columns else [])
            ids = df[key].dropna()
            dup_ids = ids.duplicated()
            n_ids = int(dup_ids.sum())
            if n_ids:
                self.add(
                    IssueCode.DUPLICATE_IDS,
                    f"{n_ids} row(s) repeat an id{' and event time' if len(key) > 1 else ''}",
                    column=c.entity_id,
                    rows=n_ids,
                    examples=_examples(ids[c.entity_id][dup_ids]),
                )

    # the target ---------------------------------------------------------------------------

    def _target(self, y: pd.Series[Any]) -> bool:
        """Target checks; True when the target is good enough for the leakage check."""
        c, g = self.contract, self.gates
        y = y.dropna()
        if y.empty:
            self.issues = [
                i for i in self.issues if not (i.code is IssueCode.TARGET_MISSING and i.column == c.target)
            ]
            self.add(
                IssueCode.TARGET_MISSING,
                "the target column has no values",
                column=c.target,
                rows=len(self.df),
            )
            return False
        if c.task is Task.REGRESSION:
            return c.target not in self.broken
        labels = _labels(y)
        counts = labels.value_counts()
        if c.classes is not None:
            unseen = [str(v) for v in counts.index if v not in set(c.classes)]
            if unseen:
                self.add(
                    IssueCode.UNSEEN_CATEGORIES,
                    f"target labels not among the contract's classes {c.classes}",
                    column=c.target,
                    rows=int(labels.isin(unseen).sum()),
                    examples=unseen[:_EXAMPLES],
                )
        if len(counts) < 2:
            self.add(
                IssueCode.SINGLE_CLASS,
                f"every row has the label {counts.index[0]!r}: nothing to learn",
                column=c.target,
                rows=int(counts.iloc[0]),
                examples=[str(counts.index[0])],
            )
            return False
        if c.task is Task.BINARY and c.classes is None and len(counts) > 2:
            self.add(
                IssueCode.TYPE_MISMATCH,
                f"a binary target with {len(counts)} distinct labels",
                column=c.target,
                examples=[str(v) for v in counts.index[:_EXAMPLES]],
            )
            return False
        expected = c.classes if c.classes is not None else [str(v) for v in counts.index]
        few = {k: int(counts.get(k, 0)) for k in expected if int(counts.get(k, 0)) < g.min_rows_per_class}
        if few:
            self.add(
                IssueCode.MIN_ROWS_PER_CLASS,
                f"{len(few)} class(es) under the gate's {g.min_rows_per_class} rows per class",
                column=c.target,
                rows=sum(few.values()),
                examples=[f"{k}: {v}" for k, v in few.items()],
            )
        return True

    def _leakage(self, y_raw: pd.Series[Any]) -> None:
        """Flag a feature that alone predicts the target (out-of-fold score >= ``leakage_auc``).

        Each feature is cut into bins (quantiles for numbers, categories as they are); the bins'
        target means or class shares, learned on one half of a sample and scored on the other,
        give an AUC (R^2 for regression). Cheap, and it catches non-monotone leaks a rank AUC misses.
        """
        c = self.contract
        y_mask = y_raw.notna().to_numpy()
        idx = np.flatnonzero(y_mask)
        if len(idx) < 20:
            return
        rng = np.random.default_rng(0)
        if len(idx) > LEAKAGE_SAMPLE:
            idx = np.sort(rng.choice(idx, LEAKAGE_SAMPLE, replace=False))
        fold = rng.permutation(len(idx)) % 2 == 0
        if c.task is Task.REGRESSION:
            target = pd.to_numeric(y_raw.iloc[idx], errors="coerce").to_numpy(dtype="float64")
            if not np.isfinite(target).all():
                return
            y_matrix = target[:, None]
        else:
            labels = _labels(y_raw.iloc[idx])
            classes = c.classes if c.classes is not None else sorted(labels.unique().tolist())
            y_codes = pd.Categorical(labels, categories=classes).codes
            keep = y_codes >= 0
            if not keep.all():
                idx, fold, y_codes = idx[keep], fold[keep], y_codes[keep]
            n_cls = len(classes)
            onehot = np.zeros((len(idx), n_cls))
            onehot[np.arange(len(idx)), y_codes] = 1.0
            # binary: the positive class only; multiclass: one column per class (macro OvR AUC)
            y_matrix = onehot[:, 1:2] if n_cls == 2 else onehot
        for col in c.features:
            if col.name in self.broken:
                continue
            codes = self._bin_codes(col.name, idx)
            if codes is None:
                continue
            score = _oof_score(codes, fold, y_matrix, regression=c.task is Task.REGRESSION)
            if c.task is Task.BINARY and col.name in self.numeric:
                # A monotone leak shows in the plain rank AUC at any sample size, bins or not.
                values = self.numeric[col.name][idx]
                ok = np.isfinite(values)
                if 0 < y_matrix[ok, 0].sum() < ok.sum():
                    auc = _auc(y_matrix[ok, 0], values[ok])
                    score = max(score, auc, 1.0 - auc)
            if score >= self.gates.leakage_auc:
                metric = "R^2" if c.task is Task.REGRESSION else "ROC AUC"
                self.add(
                    IssueCode.TARGET_LEAKAGE,
                    f"this feature alone predicts {c.target!r} with {metric} {score:.3f} "
                    f"(gate {self.gates.leakage_auc}): is it computed from the outcome?",
                    column=col.name,
                    examples=[f"{metric.lower()}={score:.4f}"],
                )

    def _bin_codes(self, name: str, idx: NDArray[np.intp]) -> NDArray[np.int64] | None:
        if name in self.codes:
            return self.codes[name][idx] + 1  # NaN (-1) becomes its own bin 0
        if name not in self.numeric:
            return None  # text columns are not checked
        values = self.numeric[name][idx]
        finite = np.isfinite(values)
        if not finite.any():
            return None
        # ~40 rows per bin on small samples, so each half of the sample sees every bin
        n_bins = int(np.clip(len(values) // 40, 4, LEAKAGE_BINS))
        edges = np.unique(np.quantile(values[finite], np.linspace(0, 1, n_bins + 1)[1:-1]))
        binned = np.searchsorted(edges, values, side="right") + 1
        return np.where(finite, binned, 0).astype(np.int64)


def _oof_score(
    codes: NDArray[np.int64], fold: NDArray[np.bool_], y: NDArray[np.float64], *, regression: bool
) -> float:
    n_bins = int(codes.max()) + 1
    preds = np.empty_like(y)
    for train in (fold, ~fold):
        test = ~train
        counts = np.bincount(codes[train], minlength=n_bins).astype("float64")
        prior = y[train].mean(axis=0)
        for k in range(y.shape[1]):
            sums = np.bincount(codes[train], weights=y[train, k], minlength=n_bins)
            # unseen bins fall back to the prior: no credit for memorising single rows
            means = np.where(counts > 0, sums / np.maximum(counts, 1), prior[k])
            preds[test, k] = means[codes[test]]
    if regression:
        sst = float(((y[:, 0] - y[:, 0].mean()) ** 2).sum())
        return 0.0 if sst == 0 else 1.0 - float(((y[:, 0] - preds[:, 0]) ** 2).sum()) / sst
    aucs = [_auc(y[:, k], preds[:, k]) for k in range(y.shape[1]) if 0 < y[:, k].sum() < len(y)]
    return float(np.mean(aucs)) if aucs else 0.5


def _auc(y: NDArray[np.float64], score: NDArray[np.float64]) -> float:
    """ROC AUC by the rank-sum formula, ties averaged (no scikit-learn on this path)."""
    ranks = pd.Series(score).rank(method="average").to_numpy()
    pos = y > 0.5
    n_pos = int(pos.sum())
    n_neg = len(y) - n_pos
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"
