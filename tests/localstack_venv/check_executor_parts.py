"""The executor's and the bootstrap's pure parts: paths, environment, handler loading, error shapes.

Run under LocalStack's interpreter by tests/integration/localcloud/test_executor_parts.py (not collected
by the dev venv's pytest: the file name does not start with test_).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path

import pytest

from liveml.localcloud import bootstrap

# The executor runs inside LocalStack, so these run under LocalStack's own interpreter (its venv has
# localstack-core, whose moto fork clashes with the dev venv's moto): the integration test
# tests/integration/localcloud/test_executor_parts.py starts them there. Importing localstack.config
# appends "[::1]" to no_proxy in os.environ: undo its changes to the environment.
_environment = dict(os.environ)
executor = importlib.import_module("liveml.localcloud.executor")
os.environ.clear()
os.environ.update(_environment)


def test_layers_follow_the_code_and_later_layers_win(tmp_path: Path) -> None:
    code, first, second = tmp_path / "code", tmp_path / "l1", tmp_path / "l2"
    path = executor.python_path(code, [first, second], "runtime", tmp_path / "rt").split(os.pathsep)
    assert path == [
        str(code),
        str(second / "python/lib/python3.12/site-packages"),
        str(second / "python"),
        str(first / "python/lib/python3.12/site-packages"),
        str(first / "python"),
        str(tmp_path / "rt"),
    ]
    assert str(tmp_path / "rt") not in executor.python_path(code, [], "venv", tmp_path / "rt")


def test_handler_environment_maps_container_paths_to_host_paths(tmp_path: Path) -> None:
    env = executor.handler_environment(
        {"_HANDLER": "app.handler", "LAMBDA_TASK_ROOT": "/var/task", "AWS_LAMBDA_FUNCTION_TIMEOUT": 3},
        tmp_path / "code",
        "p1:p2",
        9999,
        tmp_path / "tmp",
    )
    assert env["LAMBDA_TASK_ROOT"] == str(tmp_path / "code")
    assert env["PYTHONPATH"] == "p1:p2"
    assert env["TMPDIR"] == str(tmp_path / "tmp")
    assert env["LIVEML_BOOTSTRAP_PORT"] == "9999"
    assert env["AWS_LAMBDA_FUNCTION_TIMEOUT"] == "3"
    assert env["_HANDLER"] == "app.handler"


def test_runtime_packages_are_only_the_boto3_family(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(executor, "_work_dir", lambda: tmp_path)
    folder = executor.runtime_packages_dir()
    names = {p.name for p in folder.iterdir() if not p.name.startswith(".")}
    assert {"boto3", "botocore", "s3transfer"} <= names
    assert not names & {"numpy", "liveml", "localstack", "pytest"}


def test_timeout_payload_is_lambdas() -> None:
    body = json.loads(executor._timeout_payload("req-1", 3))
    assert body == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": "RequestId: req-1 Error: Task timed out after 3.00 seconds",
    }


def test_the_plugin_loads_our_executor() -> None:
    plugin = executor.LocalProcessExecutorPlugin()
    assert plugin.name == "liveml-local"
    assert plugin.load() is executor.LocalProcessRuntimeExecutor


def _load(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, source: str, handler: str
) -> tuple[object, bytes | None]:
    module = f"fn_{abs(hash(source)) % 10**8}"
    (tmp_path / f"{module}.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("_HANDLER", handler.replace("MOD", module))
    try:
        return bootstrap._load_handler()
    finally:
        sys.modules.pop(module, None)


def test_bootstrap_loads_a_handler(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, error = _load(monkeypatch, tmp_path, "def go(e, c):\n    return e\n", "MOD.go")
    assert error is None and callable(handler)


@pytest.mark.parametrize(
    ("source", "handler", "error_type"),
    [
        ("import not_a_module_anywhere\n", "MOD.go", "Runtime.ImportModuleError"),
        ("x = 1\n", "MOD.go", "Runtime.HandlerNotFound"),
        ("x = 1\n", "nodot", "Runtime.MalformedHandlerName"),
        ("raise RuntimeError('boom at init')\n", "MOD.go", "RuntimeError"),
    ],
)
def test_bootstrap_reports_init_errors_like_lambda(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, source: str, handler: str, error_type: str
) -> None:
    fn, error = _load(monkeypatch, tmp_path, source, handler)
    assert fn is None and error is not None
    assert json.loads(error)["errorType"] == error_type


def test_error_payload_has_type_message_and_trace() -> None:
    try:
        raise ValueError("bad level")
    except ValueError as exc:
        body = json.loads(bootstrap._error_payload(exc))
    assert body["errorType"] == "ValueError"
    assert body["errorMessage"] == "bad level"
    assert body["stackTrace"] and "check_executor_parts.py" in body["stackTrace"][0]
