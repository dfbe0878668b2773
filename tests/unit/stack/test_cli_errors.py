"""The CLI against a stopped LocalStack or a missing stack: one line with what to run, never a traceback."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

import liveml.cli as cli
from liveml.aws import explain


def _client_error(code: str, message: str, operation: str = "Query") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


def test_stopped_localstack_says_to_start_and_deploy() -> None:
    reason = explain(EndpointConnectionError(endpoint_url="http://127.0.0.1:4566/"))
    assert reason is not None
    assert "not running" in reason and "liveml local up" in reason and "liveml deploy --local" in reason


def test_missing_resources_say_to_deploy() -> None:
    table = explain(_client_error("ResourceNotFoundException", "Requested resource not found"))
    stack = explain(_client_error("ValidationError", "Stack with id liveml does not exist", "DescribeStacks"))
    for reason in (table, stack):
        assert reason is not None and "liveml deploy --local" in reason


def test_other_failures_are_named_and_foreign_errors_pass_through() -> None:
    assert explain(_client_error("AccessDenied", "no", "PutObject")) == "PutObject failed: AccessDenied: no"
    assert "credentials" in (explain(NoCredentialsError()) or "")
    assert explain(ValueError("a bug")) is None


@pytest.mark.parametrize(
    "error",
    [
        EndpointConnectionError(endpoint_url="http://127.0.0.1:4566/"),
        _client_error("ResourceNotFoundException", "Requested resource not found"),
    ],
)
def test_main_prints_one_line_and_exits_1(
    error: Exception, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def failing() -> None:
        raise error

    monkeypatch.setattr(cli, "app", failing)
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err and "liveml" in err


def test_a_bug_still_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing() -> None:
        raise ValueError("a bug")

    monkeypatch.setattr(cli, "app", failing)
    with pytest.raises(ValueError, match="a bug"):
        cli.main()
