"""The gate holds new data to what `contract infer` saw: a null-rate jump and implausible values are named."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from liveml.contract import Contract, Gates, IssueCode
from liveml.contract.infer import infer, plausible_range
from liveml.data import Severity, generate_players, validate


@pytest.fixture(scope="module")
def contract() -> Contract:
    return infer(generate_players(600, 0), target="churned", name="players")


@pytest.fixture
def fresh() -> pd.DataFrame:
    return generate_players(600, 1)


def test_infer_records_what_it_saw(contract: Contract) -> None:
    hours = contract.column("total_playtime_hours")
    assert hours.expected_null_fraction == 0.0
    assert hours.plausible_min == 0.0 and hours.plausible_max is not None and hours.plausible_max > 0
    minutes = contract.column("avg_session_minutes")
    assert minutes.expected_null_fraction is not None and 0.02 < minutes.expected_null_fraction < 0.1
    assert contract.column("churned").expected_null_fraction == 0.0  # rows without a label, as seen
    # It survives the file people edit.
    again = Contract.from_yaml(contract.to_yaml())
    assert again.column("total_playtime_hours") == hours


def test_plausible_range_widens_and_keeps_the_sign() -> None:
    assert plausible_range(0, 100) == (0.0, 1100.0)
    low, high = plausible_range(-5, 5)
    assert low is not None and high is not None and low <= -105 and high >= 105
    assert plausible_range(-3, -1) == (-33.0, 0.0)
    assert plausible_range(None, None) == (None, None)


def test_data_like_the_training_data_passes(contract: Contract, fresh: pd.DataFrame) -> None:
    report = validate(fresh, contract)
    assert not report.has(IssueCode.NULL_RATE_JUMP) and not report.has(IssueCode.IMPLAUSIBLE_VALUES)
    assert report.passed, report.issues


def test_a_fifth_gone_missing_is_a_null_rate_jump(contract: Contract, fresh: pd.DataFrame) -> None:
    # Under the gate's 20% max_null_fraction, so only the expectation can catch it.
    rows = np.random.default_rng(0).choice(len(fresh), size=len(fresh) // 5, replace=False)
    fresh.loc[fresh.index[rows], "total_playtime_hours"] = np.nan
    report = validate(fresh, contract)
    assert not report.passed
    issue = next(i for i in report.issues if i.code == IssueCode.NULL_RATE_JUMP)
    assert issue.column == "total_playtime_hours" and issue.severity is Severity.ERROR
    assert issue.rows_affected == len(fresh) // 5 and "expects 0.0%" in issue.message


def test_values_a_million_times_the_range_are_implausible(contract: Contract, fresh: pd.DataFrame) -> None:
    fresh.loc[fresh.index[:30], "total_playtime_hours"] *= 1_000_000
    report = validate(fresh, contract)
    assert not report.passed
    issue = next(i for i in report.issues if i.code == IssueCode.IMPLAUSIBLE_VALUES)
    assert issue.column == "total_playtime_hours" and issue.rows_affected >= 25
    assert not report.has(IssueCode.OUT_OF_RANGE)  # the hard limit (min: 0) alone let them through


def test_the_contract_can_make_them_warnings(contract: Contract, fresh: pd.DataFrame) -> None:
    fresh.loc[fresh.index[:30], "total_playtime_hours"] *= 1_000_000
    fresh.loc[fresh.index[100:200], "level"] = np.nan  # 17%: under max_null_fraction
    gates = contract.gates.model_dump() | {"warn_only": ["null_rate_jump", "implausible_values"]}
    relaxed = contract.model_copy(update={"gates": Gates.model_validate(gates)})
    report = validate(fresh, relaxed)
    assert report.passed
    assert report.has(IssueCode.NULL_RATE_JUMP) and report.has(IssueCode.IMPLAUSIBLE_VALUES)


def test_a_contract_without_expectations_checks_nothing_new(fresh: pd.DataFrame) -> None:
    from liveml.data import player_contract

    fresh.loc[fresh.index[:30], "total_playtime_hours"] *= 1_000_000
    report = validate(fresh, player_contract("binary"))
    assert not report.has(IssueCode.IMPLAUSIBLE_VALUES) and not report.has(IssueCode.NULL_RATE_JUMP)


def test_plausible_bounds_only_on_numbers() -> None:
    with pytest.raises(ValueError, match="plausible_min/max apply to numeric"):
        Contract.model_validate(
            {
                "name": "x",
                "task": "binary",
                "target": "y",
                "columns": [
                    {"name": "y", "type": "integer"},
                    {"name": "c", "type": "categorical", "plausible_max": 3},
                ],
            }
        )
