"""``liveml models approve|reject`` on a (moto) registry: one command each, the same arguments, the
decision and who made it recorded; a version that is not waiting is refused with the registry's reason."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from liveml.registry import Approval, RecordingPublisher, Registry
from tests.unit.cli import run_cli
from tests.unit.registry.test_store import _register

if TYPE_CHECKING:
    from tests.unit.registry.conftest import FakeAws


@pytest.fixture
def registry(aws: FakeAws, monkeypatch: pytest.MonkeyPatch) -> Registry:
    # The CLI finds the stack through CloudFormation; here the environment points at the moto table.
    monkeypatch.setenv("LIVEML_REGISTRY_TABLE", aws.table)
    monkeypatch.setattr("liveml.cli.models.connect", lambda *_a, **_k: None)
    monkeypatch.setattr("liveml.registry.store.EventBridgePublisher", RecordingPublisher)
    return Registry(aws.table, dynamodb=aws.dynamodb, publisher=RecordingPublisher())


@pytest.mark.parametrize(
    ("command", "approval"), [("approve", Approval.APPROVED), ("reject", Approval.REJECTED)]
)
def test_a_waiting_version_is_decided_with_who_and_why(
    registry: Registry,
    command: str,
    approval: Approval,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    number = _register(registry, auto=False)
    code = run_cli(
        monkeypatch, "models", command, "churn", str(number), "--by", "alice", "--reason", "read it"
    )
    assert code == 0
    assert f"churn v{number} is {approval.value}" in capsys.readouterr().out
    decided = registry.get("churn", number)
    assert decided.approval is approval
    assert (decided.history[-1].by, decided.history[-1].reason) == ("alice", "read it")


@pytest.mark.parametrize("command", ["approve", "reject"])
def test_a_version_already_decided_is_refused(
    registry: Registry, command: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    number = _register(registry, auto=True)  # approved when registered
    assert run_cli(monkeypatch, "models", command, "churn", str(number)) != 0
    assert f"churn v{number} is already Approved" in capsys.readouterr().err
    assert registry.get("churn", number).approval is Approval.APPROVED
