"""The contract model: parsing, errors that name the field, feature order, hashing, light imports."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from liveml.contract import Column, ColumnType, Contract, ContractError, Gates, IssueCode, Task
from tests.unit.fresh import loaded_after

MINIMAL = """
name: churn
task: binary
target: churned
entity_id: player_id
event_time: event_time
columns:
  - {name: player_id, type: categorical, nullable: false}
  - {name: level, type: integer, min: 1, max: 100}
  - {name: device, type: categorical, categories: [ios, android]}
  - {name: event_time, type: datetime}
  - {name: spend, type: numeric, min: 0}
  - {name: churned, type: integer}
"""


def test_minimal_contract_parses_with_defaults() -> None:
    c = Contract.from_yaml(MINIMAL)
    assert c.task is Task.BINARY
    assert c.gates == Gates()
    assert c.gates.min_rows == 200 and c.gates.leakage_auc == 0.99
    assert c.column("level").type is ColumnType.INTEGER


def test_features_exclude_roles_and_keep_contract_order() -> None:
    c = Contract.from_yaml(MINIMAL)
    assert c.feature_names == ["level", "device", "spend"]
    assert [col.name for col in c.features] == c.feature_names


def test_yaml_round_trip_keeps_meaning_and_hash() -> None:
    c = Contract.from_yaml(MINIMAL)
    again = Contract.from_yaml(c.to_yaml())
    assert again == c
    assert again.sha256 == c.sha256
    assert len(c.sha256) == 64
    # a different meaning, a different hash
    assert c.model_copy(update={"version": 2}).sha256 != c.sha256


def test_hash_ignores_yaml_layout() -> None:
    reordered = yaml.safe_dump(yaml.safe_load(MINIMAL), sort_keys=True)
    assert Contract.from_yaml(reordered).sha256 == Contract.from_yaml(MINIMAL).sha256


def test_yaml_numbers_in_categories_and_classes_become_text() -> None:
    c = Contract.from_yaml(MINIMAL.replace("target: churned", "target: churned\nclasses: [0, 1]"))
    assert c.classes == ["0", "1"]


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda d: d["columns"][1].update(type="number"), "columns[1].type: Input should be"),
        (lambda d: d["columns"][1].update(min=5, max=1), "columns[1]: min (5.0) is greater than max"),
        (lambda d: d.update(target="churn"), "target: 'churn' is not one of the columns"),
        (lambda d: d.update(task="multiclass"), "classes: a multiclass contract lists at least 3"),
        (lambda d: d.update(gates={"min_rows": -1}), "gates.min_rows: Input should be greater than"),
        (lambda d: d.update(gates={"warn_only": ["nope"]}), "gates.warn_only[0]: Input should be"),
        (lambda d: d.update(colums=[]), "colums: Extra inputs are not permitted"),
        (lambda d: d.pop("task"), "task: Field required"),
        (lambda d: d["columns"][2].update(type="text"), "columns[2]: categories apply to categorical"),
        (lambda d: d["columns"].append({"name": "level", "type": "numeric"}), "duplicate names ['level']"),
        (lambda d: d.update(event_time="level"), "event_time: column 'level' must have type datetime"),
    ],
)
def test_bad_contract_names_the_field(edit: object, expected: str) -> None:
    data = yaml.safe_load(MINIMAL)
    edit(data)  # type: ignore[operator]
    with pytest.raises(ContractError) as info:
        Contract.from_yaml(yaml.safe_dump(data), source="c.yaml")
    assert expected in str(info.value)
    assert str(info.value).startswith("c.yaml")
    assert "Traceback" not in str(info.value)


def test_invalid_yaml_says_where() -> None:
    with pytest.raises(ContractError, match=r"line \d+, column \d+"):
        Contract.from_yaml("name: x\ncolumns: [\n", source="c.yaml")


def test_non_mapping_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="expected a mapping"):
        Contract.from_yaml("- a\n- b\n")
    with pytest.raises(ContractError, match="no such contract file"):
        Contract.load(tmp_path / "nope.yaml")


def test_column_lookup_error_lists_columns() -> None:
    with pytest.raises(ContractError, match="has no column 'x'"):
        Contract.from_yaml(MINIMAL).column("x")


def test_regression_rules() -> None:
    cols = [Column(name="x", type=ColumnType.NUMERIC), Column(name="y", type=ColumnType.CATEGORICAL)]
    with pytest.raises(ContractError, match="regression target must be numeric"):
        Contract.from_dict(
            {"name": "r", "task": "regression", "target": "y", "columns": [c.model_dump() for c in cols]}
        )


def test_save_and_load(tmp_path: Path) -> None:
    c = Contract.from_yaml(MINIMAL)
    path = c.save(tmp_path / "c.yaml")
    assert Contract.load(path) == c
    assert "min: 1\n" in path.read_text()  # integral bounds written as integers


def test_issue_codes_are_stable_snake_case() -> None:
    assert IssueCode.TARGET_LEAKAGE.value == "target_leakage"
    assert all(code.value == code.value.lower() and " " not in code.value for code in IssueCode)


def test_importing_the_contract_does_not_import_pandas_or_sklearn() -> None:
    assert loaded_after("import liveml.contract", ["pandas", "numpy", "sklearn", "scipy"]) == []
