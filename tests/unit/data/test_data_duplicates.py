"""Duplicate rows without an entity id are a warning unless the contract says otherwise; repeated ids
are the error. Pinned here case by case; the property test drafts contracts from files full of them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from liveml.contract import Contract, ContractError, Gates, IssueCode, infer
from liveml.data import Severity, generate_players, player_contract, validate


def insurance_like(rows: int = 1_000, repeat_share: float = 0.085) -> pd.DataFrame:
    """An insurance-style export with no id, where some rows repeat an earlier row exactly (two people
    with the same age, BMI, children and habits, or a policy listed twice: the file cannot tell)."""
    rng = np.random.default_rng(3)
    df = pd.DataFrame(
        {
            "age": rng.integers(18, 65, rows),
            "bmi": rng.normal(30, 6, rows).round(1),
            "children": rng.integers(0, 4, rows),
            "smoker": rng.choice(["yes", "no"], rows, p=[0.2, 0.8]),
            "region": rng.choice(["northeast", "northwest", "southeast", "southwest"], rows),
            "claimed": rng.integers(0, 2, rows),
        }
    )
    repeats = df.sample(int(rows * repeat_share), random_state=1)
    return pd.concat([df, repeats], ignore_index=True)


def _without_id(gates: Gates) -> Contract:
    contract = player_contract()
    return contract.model_copy(update={"entity_id": None, "event_time": None, "gates": gates})


@pytest.fixture(scope="module")
def doubled() -> pd.DataFrame:
    """Players with a tenth of the rows exported twice."""
    df = generate_players(600, 2)
    return pd.concat([df, df.iloc[:60]], ignore_index=True)


def test_without_an_entity_id_duplicate_rows_warn(doubled: pd.DataFrame) -> None:
    report = validate(doubled, _without_id(Gates(min_rows=100)))
    issue = next(i for i in report.issues if i.code == IssueCode.DUPLICATE_ROWS)
    assert issue.severity is Severity.WARNING and issue.rows_affected == 60
    assert "no entity id" in issue.message and "gates.duplicates" in issue.message
    assert report.passed, report.issues


def test_the_contract_can_make_them_an_error(doubled: pd.DataFrame) -> None:
    report = validate(doubled, _without_id(Gates(min_rows=100, duplicates="error")))
    issue = next(i for i in report.issues if i.code == IssueCode.DUPLICATE_ROWS)
    assert issue.severity is Severity.ERROR and not report.passed
    # ... above max_duplicate_fraction only
    lenient = validate(
        doubled, _without_id(Gates(min_rows=100, duplicates="error", max_duplicate_fraction=0.2))
    )
    assert lenient.passed and lenient.has(IssueCode.DUPLICATE_ROWS)


def test_with_an_entity_id_repeated_ids_are_the_error(doubled: pd.DataFrame) -> None:
    report = validate(doubled, player_contract())
    ids = next(i for i in report.issues if i.code == IssueCode.DUPLICATE_IDS)
    assert ids.severity is Severity.ERROR and ids.column == "player_id" and ids.rows_affected == 60
    rows = next(i for i in report.issues if i.code == IssueCode.DUPLICATE_ROWS)
    assert rows.severity is Severity.ERROR  # unset `duplicates` with an entity id means error
    # `duplicates: warn` speaks of rows only: the repeated ids still fail the gate.
    warn = player_contract().model_copy(update={"gates": Gates(duplicates="warn")})
    report = validate(doubled, warn)
    assert report.has(IssueCode.DUPLICATE_ROWS) and not report.passed
    assert {i.code for i in report.errors} == {IssueCode.DUPLICATE_IDS}


def test_a_different_row_with_a_repeated_id_is_still_an_error() -> None:
    df = generate_players(400, 5)
    df = pd.concat([df, df.iloc[[3]].assign(level=99)], ignore_index=True)  # same id and time, new level
    report = validate(df, player_contract())
    assert not report.has(IssueCode.DUPLICATE_ROWS)
    assert report.has(IssueCode.DUPLICATE_IDS, column="player_id") and not report.passed


def test_the_option_is_checked_and_round_trips() -> None:
    with pytest.raises(ContractError, match=r"gates\.duplicates: Input should be 'warn' or 'error'"):
        Contract.from_dict(player_contract().to_dict() | {"gates": {"duplicates": "sometimes"}})
    contract = _without_id(Gates(duplicates="error"))
    assert Contract.from_yaml(contract.to_yaml()).gates.duplicates == "error"
    assert "duplicates" not in player_contract().to_yaml()  # unset stays out of the file


def test_a_file_where_people_share_every_value_passes_its_drafted_gate() -> None:
    df = insurance_like()
    contract = Contract.from_yaml(infer(df, target="claimed").to_yaml())
    assert contract.entity_id is None and contract.gates.duplicates == "warn"
    report = validate(df, contract)
    assert report.passed, report.issues
    issue = next(i for i in report.issues if i.code == IssueCode.DUPLICATE_ROWS)
    # 85 rows exported again, plus the odd pair of people who share every value
    assert issue.severity is Severity.WARNING and issue.rows_affected == int(df.duplicated().sum()) >= 85


def test_one_row_of_a_class_is_no_evidence_of_leakage() -> None:
    rng = np.random.default_rng(4)
    df = pd.DataFrame({f"x{i}": rng.normal(size=30) for i in range(5)})
    df["label"] = "common"
    df.loc[df["x0"] == df["x0"].max(), "label"] = "rare"  # x0 "predicts" it: the largest value, by chance
    contract = infer(df, target="label")
    report = validate(df, contract)
    assert not report.has(IssueCode.TARGET_LEAKAGE) and report.passed, report.issues
    # With enough rows of the class, the same perfect separation is a leak.
    df["label"] = np.where(df["x0"] > df["x0"].median(), "rare", "common")
    assert validate(df, contract).has(IssueCode.TARGET_LEAKAGE, column="x0")
