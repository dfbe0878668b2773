"""A contract that ``liveml contract infer`` drafts accepts the file it was drafted from.

A property over many generated files (mixed types, nulls, duplicates, constant columns, ids, dates, text,
skewed numbers, tiny and wide files, CSV / gzip / JSON lines / Parquet) and over the real datasets that
ship inside installed packages (scikit-learn's and statsmodels'), each taken the way a person takes it:
the file on disk, ``read_dataset`` and ``infer`` as ``contract infer`` does, the YAML written and parsed
back, then ``validate_source`` as ``data validate`` does.
"""

from __future__ import annotations

import importlib
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from liveml.contract import Contract, ContractError, infer
from liveml.data import ValidationReport, read_dataset, validate_source

#: column kinds the generator mixes; each is a shape real exports have
KINDS = (
    "integer",
    "float",
    "skewed",  # log-normal with one huge legitimate outlier
    "negative",
    "huge",  # values near the float limit
    "constant",
    "constant_text",
    "category",
    "codes",  # "007": categories that look like numbers
    "id",  # unique strings: an entity id when named like one
    "numeric_id",
    "date",
    "timestamp",
    "text",
    "boolean",
    "mixed",  # numbers with a few words among them: read as text
    "high_cardinality",  # more distinct values than a category may have
    "all_null",
)
TARGETS = ("binary_int", "binary_text", "boolean", "multiclass", "regression", "rare_class")
FORMATS = ("csv", "csv.gz", "jsonl", "parquet")
WORDS = ("the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "while", "players", "grind")


@dataclass(frozen=True)
class FileSpec:
    rows: int
    kinds: tuple[str, ...]
    null_shares: tuple[float, ...]
    target: str
    target_null_share: float
    duplicate_share: float
    fmt: str
    seed: int


@st.composite
def file_specs(draw: st.DrawFn) -> FileSpec:
    size = draw(st.sampled_from(("tiny", "small", "medium", "wide", "long")))
    rows = {
        "tiny": draw(st.integers(2, 12)),
        "small": draw(st.integers(13, 120)),
        "medium": draw(st.integers(121, 600)),
        "wide": draw(st.integers(20, 200)),
        "long": draw(st.integers(1_050, 1_600)),
    }[size]
    n_cols = draw(st.integers(40, 90)) if size == "wide" else draw(st.integers(1, 12))
    kinds = tuple(draw(st.sampled_from(KINDS)) for _ in range(n_cols))
    null_share = st.one_of(st.just(0.0), st.floats(0.0, 0.95), st.just(0.5))
    null_shares = tuple(draw(null_share) for _ in range(n_cols))
    return FileSpec(
        rows=rows,
        kinds=kinds,
        null_shares=null_shares,
        target=draw(st.sampled_from(TARGETS)),
        target_null_share=draw(st.one_of(st.just(0.0), st.floats(0.0, 0.6))),
        duplicate_share=draw(st.one_of(st.just(0.0), st.floats(0.0, 0.4))),
        fmt=draw(st.sampled_from(FORMATS)),
        seed=draw(st.integers(0, 2**32 - 1)),
    )


def make_frame(spec: FileSpec) -> pd.DataFrame:
    """The file a spec describes; values come from a seeded generator, independent of the target."""
    rng = np.random.default_rng(spec.seed)
    n = spec.rows
    data: dict[str, Any] = {}
    names_taken: set[str] = set()
    for i, (kind, null_share) in enumerate(zip(spec.kinds, spec.null_shares, strict=True)):
        name = _name(kind, i, names_taken)
        values = pd.Series(_values(kind, n, rng), dtype="object")
        if kind not in ("all_null",) and null_share:
            values[rng.random(n) < null_share] = None
        data[name] = values
    data["label"] = _target(spec.target, n, rng, spec.target_null_share)
    df = pd.DataFrame(data)
    if spec.duplicate_share and n > 2:
        # Whole rows exported again: players who share every value, or the same player twice.
        repeats = df.iloc[rng.integers(0, n, size=max(1, int(n * spec.duplicate_share)))]
        df = pd.concat([df, repeats], ignore_index=True)
        df = df.iloc[rng.permutation(len(df))].reset_index(drop=True)
    return df


def _name(kind: str, i: int, taken: set[str]) -> str:
    preferred = {"id": "player_id", "numeric_id": "user_id", "date": "event_time", "timestamp": "ts"}
    name = preferred.get(kind, f"{kind}_{i}")
    if name in taken:
        name = f"{kind}_{i}" if kind not in ("id", "numeric_id") else f"item_{i}_id"
    taken.add(name)
    return name


def _values(kind: str, n: int, rng: np.random.Generator) -> list[Any]:
    if kind == "integer":
        return _plain(rng.integers(0, int(rng.integers(2, 10_000)), size=n))
    if kind == "float":
        return _plain(rng.normal(rng.normal(0, 100), abs(rng.normal(0, 50)) + 0.1, size=n))
    if kind == "skewed":
        values = rng.lognormal(0, 2.5, size=n)
        values[rng.integers(0, n)] = 1e9  # the whale: one legitimate, huge value
        return _plain(values)
    if kind == "negative":
        return _plain(-rng.exponential(50, size=n))
    if kind == "huge":
        return _plain(rng.random(n) * 1.7e308)
    if kind == "constant":
        return [7] * n
    if kind == "constant_text":
        return ["EU"] * n
    if kind == "category":
        devices = ["ios", "android", "pc", "console", "switch"][: int(rng.integers(2, 6))]
        return _plain(rng.choice(devices, n))
    if kind == "codes":
        return [f"{v:03d}" for v in rng.integers(0, 12, size=n)]
    if kind == "id":
        return [f"p{v:07d}" for v in rng.permutation(10 * n)[:n]]
    if kind == "numeric_id":
        return _plain(rng.permutation(n) + 1000)
    if kind == "date":
        days = rng.integers(0, 900, size=n)
        return [str(np.datetime64("2024-01-01") + d) for d in days]
    if kind == "timestamp":
        seconds = rng.integers(0, 86_400 * 400, size=n)
        return [f"{np.datetime64('2025-03-01T00:00:00') + s}Z" for s in seconds]
    if kind == "text":
        return [" ".join(rng.choice(WORDS, int(rng.integers(2, 12)))) for _ in range(n)]
    if kind == "boolean":
        return _plain(rng.random(n) < 0.3)
    if kind == "mixed":
        return [str(v) if rng.random() > 0.1 else "n/a?" for v in rng.integers(0, 50, size=n)]
    if kind == "high_cardinality":
        return [f"item-{v}" for v in rng.integers(0, 5 * n, size=n)]
    if kind == "all_null":
        return [None] * n
    raise AssertionError(kind)


def _plain(values: Any) -> list[Any]:
    """Python scalars, as a parsed file holds them (numpy's own types would change how pandas stores them)."""
    plain: list[Any] = np.asarray(values).tolist()
    return plain


def _target(kind: str, n: int, rng: np.random.Generator, null_share: float) -> pd.Series[Any]:
    if kind == "binary_int":
        labels: list[Any] = rng.integers(0, 2, size=n).tolist()
        pair: list[Any] = [0, 1]
    elif kind == "binary_text":
        labels, pair = rng.choice(["yes", "no"], n).tolist(), ["yes", "no"]
    elif kind == "boolean":
        labels, pair = (rng.random(n) < 0.5).tolist(), [True, False]
    elif kind == "multiclass":
        labels, pair = rng.choice(["bronze", "silver", "gold", "diamond"], n).tolist(), ["gold", "bronze"]
    elif kind == "rare_class":
        labels, pair = ["common"] * n, ["common", "rare"]
        labels[int(rng.integers(0, n))] = "rare"
    else:
        labels, pair = rng.gamma(2.0, 30.0, size=n).tolist(), [1.5, 2.5]
    # Two different labels in two rows that keep them: a file with one label has nothing to learn.
    keep = rng.random(n) >= null_share
    keep[:2] = True
    labels[:2] = pair
    out = pd.Series(labels, dtype="object")
    out[~keep] = None
    return out


def write(df: pd.DataFrame, path: Path, fmt: str) -> None:
    if fmt == "parquet":
        # Parquet keeps Python objects' types: make each column one type, as a real export would.
        df.astype({c: "string" for c in df.columns if df[c].map(type).nunique() > 2}).to_parquet(path)
    elif fmt == "jsonl":
        df.to_json(path, orient="records", lines=True)
    else:
        df.to_csv(path, index=False, compression="gzip" if fmt == "csv.gz" else None)


def drafted_and_checked(path: Path, target: str | None = None) -> tuple[Contract, ValidationReport]:
    """``contract infer`` then ``data validate``, through the YAML a person would edit."""
    drafted = infer(read_dataset(path), target=target, name="roundtrip")
    contract = Contract.from_yaml(drafted.to_yaml())
    return contract, validate_source(path, contract)


def _errors(report: ValidationReport) -> list[str]:
    return [f"{i.code.value} {i.column}: {i.message}" for i in report.issues if i.severity == "error"]


@pytest.mark.slow  # 120 files written, read, drafted and checked: 17 s here idle, minutes under load
@settings(
    max_examples=120,
    derandomize=True,  # the same files on every run: a failure here is reproducible, never flaky
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(spec=file_specs())
def test_a_drafted_contract_accepts_its_own_generated_file(spec: FileSpec) -> None:
    df = make_frame(spec)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"players.{spec.fmt}"
        write(df, path, spec.fmt)
        try:
            contract, report = drafted_and_checked(path, target="label")
        except ContractError as exc:
            # The one file no contract can be drafted from: the target and an id or time, nothing else.
            assert "no feature columns" in str(exc), (spec, exc)
            assert set(spec.kinds) <= {"id", "numeric_id", "date", "timestamp"}, spec
            event("refused: no feature columns")
            return
    assert report.passed, (spec, _errors(report))
    # Duplicate rows never fail a file with no entity id; with one they cannot exist (ids are unique).
    if contract.entity_id is None:
        assert contract.gates.duplicates == "warn"
    # What the files held (`pytest --hypothesis-show-statistics` prints the shares).
    event(f"format {spec.fmt}, task {contract.task.value}")
    for issue in report.issues:
        event(f"warning {issue.code.value}")
    for col in contract.columns:
        event(f"column {col.type.value}" + (" (constant)" if col.expected_constant else ""))


# Real datasets shipped inside installed wheels (no network): (loader, target).
def _sklearn(name: str, **kwargs: Any) -> pd.DataFrame:
    datasets = importlib.import_module("sklearn.datasets")
    frame: pd.DataFrame = getattr(datasets, name)(as_frame=True, **kwargs).frame
    return frame


def _statsmodels(name: str) -> pd.DataFrame:
    frame: pd.DataFrame = importlib.import_module(f"statsmodels.datasets.{name}").load_pandas().data
    return frame


REAL: dict[str, tuple[Any, str]] = {
    "iris": (lambda: _sklearn("load_iris"), "target"),
    "wine": (lambda: _sklearn("load_wine"), "target"),
    "breast_cancer": (lambda: _sklearn("load_breast_cancer"), "target"),
    "digits": (lambda: _sklearn("load_digits"), "target"),  # constant pixels at the border
    "diabetes": (lambda: _sklearn("load_diabetes", scaled=False), "target"),
    "linnerud": (lambda: _sklearn("load_linnerud"), "Weight"),
    "anes96": (lambda: _statsmodels("anes96"), "vote"),
    "fair": (lambda: _statsmodels("fair"), "affairs"),  # many rows repeat an earlier one
    "randhie": (lambda: _statsmodels("randhie"), "mdvis"),
    "modechoice": (lambda: _statsmodels("modechoice"), "choice"),
    "star98": (lambda: _statsmodels("star98"), "NABOVE"),
    "spector": (lambda: _statsmodels("spector"), "GRADE"),
    "heart": (lambda: _statsmodels("heart"), "censors"),
    "grunfeld": (lambda: _statsmodels("grunfeld"), "invest"),
    "scotland": (lambda: _statsmodels("scotland"), "YES"),
    "statecrime": (lambda: _statsmodels("statecrime"), "murder"),
    "longley": (lambda: _statsmodels("longley"), "TOTEMP"),
    "stackloss": (lambda: _statsmodels("stackloss"), "STACKLOSS"),
    "committee": (lambda: _statsmodels("committee"), "BILLS104"),
    "copper": (lambda: _statsmodels("copper"), "WORLDCONSUMPTION"),
    "cpunish": (lambda: _statsmodels("cpunish"), "EXECUTIONS"),
    "ccard": (lambda: _statsmodels("ccard"), "AVGEXP"),
    "engel": (lambda: _statsmodels("engel"), "foodexp"),
    "cancer": (lambda: _statsmodels("cancer"), "cancer"),
    "strikes": (lambda: _statsmodels("strikes"), "duration"),
    "macrodata": (lambda: _statsmodels("macrodata"), "realgdp"),
    "elnino": (lambda: _statsmodels("elnino"), "DEC"),
    "danish_data": (lambda: _statsmodels("danish_data"), "lrm"),
    "interest_inflation": (lambda: _statsmodels("interest_inflation"), "R"),
    "nile": (lambda: _statsmodels("nile"), "volume"),
    "sunspots": (lambda: _statsmodels("sunspots"), "SUNACTIVITY"),
    "china_smoking": (lambda: _statsmodels("china_smoking"), "smoking_yes_cancer_yes"),
    "fertility": (lambda: _statsmodels("fertility"), "2011"),  # empty years, unique country names
}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize("name", sorted(REAL))
def test_a_drafted_contract_accepts_its_own_real_file(name: str, fmt: str, tmp_path: Path) -> None:
    load, target = REAL[name]
    df = load()
    path = tmp_path / f"{name}.{fmt}"
    write(df, path, fmt)
    contract, report = drafted_and_checked(path, target=target)
    assert report.passed, _errors(report)
    assert contract.target == target
