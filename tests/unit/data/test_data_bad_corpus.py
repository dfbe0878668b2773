"""Every file of the bad-data corpus is rejected with its named issue (and the controls pass)."""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

from liveml.contract import Contract, Gates
from liveml.data import DataQualityError, Severity, check, player_contract, validate, validate_source

CORPUS = Path(__file__).resolve().parents[2] / "data" / "bad"


def _load_corpus_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_corpus", CORPUS / "make_corpus.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_corpus"] = module
    spec.loader.exec_module(module)
    return module


corpus = _load_corpus_module()
CONTRACT = Contract.load(CORPUS / "contract.yaml")


def test_there_are_at_least_fifteen_kinds_of_bad_file() -> None:
    assert len({c.code for c in corpus.CASES if not c.passes}) >= 15


@pytest.mark.parametrize("case", corpus.CASES, ids=lambda c: c.file)
def test_corpus_file(case: object) -> None:
    path = CORPUS / case.file  # type: ignore[attr-defined]
    report = validate_source(path, CONTRACT, name=path.name)
    if case.passes:  # type: ignore[attr-defined]
        assert report.passed, report.issues
        if case.code:  # type: ignore[attr-defined]
            assert report.has(case.code)  # type: ignore[attr-defined]
        return
    assert not report.passed
    named = [i for i in report.issues if i.code == case.code]  # type: ignore[attr-defined]
    assert named, f"{case.file}: expected {case.code}, got {sorted(report.codes)}"  # type: ignore[attr-defined]
    assert any(i.severity is Severity.ERROR for i in named)
    with pytest.raises(DataQualityError) as info:
        check(path, CONTRACT, name=path.name)
    assert info.value.report.has(case.code)  # type: ignore[attr-defined]
    assert case.code in str(info.value)  # type: ignore[attr-defined]


def test_committed_corpus_matches_the_generator(tmp_path: Path) -> None:
    corpus.write(tmp_path)
    for case in corpus.CASES:
        if case.stable:
            assert (tmp_path / case.file).read_bytes() == (CORPUS / case.file).read_bytes(), case.file
    assert (tmp_path / "contract.yaml").read_text() == (CORPUS / "contract.yaml").read_text()


def test_hundred_thousand_categories(tmp_path: Path) -> None:
    df = corpus.high_cardinality_frame(100_000)
    path = tmp_path / "high_cardinality.csv.gz"
    df.to_csv(path, index=False)
    start = time.perf_counter()
    report = validate_source(path, player_contract("binary"), name=path.name)
    print(f"read + validate 100k rows, 100k categories: {time.perf_counter() - start:.2f} s")
    assert not report.passed
    issue = next(i for i in report.issues if i.code == "high_cardinality")
    assert issue.column == "country" and "100000 distinct" in issue.message


def test_warn_only_demotes_a_check() -> None:
    gates = CONTRACT.gates.model_dump() | {"warn_only": ["extra_columns"]}
    relaxed = CONTRACT.model_copy(update={"gates": Gates.model_validate(gates)})
    report = validate_source(CORPUS / "extra_columns.csv", relaxed)
    assert report.passed and report.has("extra_columns")


def test_leakage_multiclass() -> None:
    df = corpus.generate_players(2000, 5, "multiclass")
    contract = player_contract("multiclass")
    assert validate(df, contract).passed
    codes = {"ChurnRisk": 3, "ReadyForChallenge": 0, "NeedsHelp": 1, "Engaged": 2}
    df["level"] = (
        df["segment"].map(codes) * 10 + 5
    )  # a level computed from the label, non-monotone in class order
    report = validate(df, contract)
    assert report.has("target_leakage", column="level")
