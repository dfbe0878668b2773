"""A LocalStack Lambda executor that runs Python functions as local processes instead of containers.

LocalStack loads this module inside its own process (plux namespace
``localstack.lambda.runtime_executor``, name ``liveml-local``, selected by
``LAMBDA_RUNTIME_EXECUTOR=liveml-local``), so it imports only LocalStack and the standard library.

One execution environment is one process running ``bootstrap.py`` (our stand-in for Lambda's
runtime interface client). LocalStack's assignment service decides when to start, reuse and stop
environments: concurrent invokes get separate environments, warm ones are reused until
``LAMBDA_KEEPALIVE_MS``, and all are stopped with LocalStack. This executor adds what the Docker
executor gets from Lambda's runtime emulator:

- **code and layers**: the function's unzipped code is the working directory and first on
  ``PYTHONPATH``; each layer is unzipped once by LocalStack's own code cache and its ``python/``
  and ``python/lib/python3.12/site-packages/`` folders follow (a later layer shadows an earlier
  one, as when Lambda extracts them over each other into ``/opt``).
- **timeout**: an invoke that outlives the function's timeout kills the environment's process and
  answers ``Sandbox.Timedout``, as Lambda does; the next invoke starts a fresh process.
- **crashes**: a process that dies during start-up or an invoke fails that start-up or invoke at
  once instead of leaving LocalStack waiting.

**Interpreter and what the handler can import.** Handlers run under LocalStack's own interpreter
(the project venv, Python 3.12) unless ``LIVEML_LAMBDA_PYTHON`` names another. With
``LIVEML_LAMBDA_ISOLATION=runtime`` (the default) it is started with ``-S``, so the venv's
site-packages are *not* on the path: the handler sees the standard library, its own code, its
layers and a small folder of links to the boto3 family (boto3, botocore, s3transfer, jmespath,
dateutil, six, urllib3), which is what Lambda's python3.12 runtime provides. A function that
forgot a dependency in its layer therefore fails here as on AWS. With ``venv`` the handler also
sees every package of the venv, which real Lambda would not have.

**Not isolated compared with Lambda**: no memory limit (``MemorySize`` is only reported), no
CPU share, no read-only code folder, the host file system (``/tmp`` is shared; ``TMPDIR`` is private
per environment), the host network, the host's user, and the interpreter's standard library and
native libraries are the host's, not Amazon Linux 2023's.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from localstack import config
from localstack.services.lambda_.invocation.executor_endpoint import ExecutorEndpoint, StatusErrorException
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion, InvocationResult
from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin
from localstack.services.lambda_.invocation.runtime_executor import LambdaRuntimeException, RuntimeExecutor

from liveml.config import env

LOG = logging.getLogger(__name__)

PLUGIN_NAME = "liveml-local"
BOOTSTRAP = Path(__file__).with_name("bootstrap.py")
#: What Lambda's Python runtime ships besides the standard library.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")
#: Seconds after the function's timeout before the process is killed (the bootstrap's own reporting).
TIMEOUT_GRACE = 0.2
_RUNTIME_LINKS_LOCK = threading.Lock()


def lambda_python() -> str:
    """The interpreter that runs handlers."""
    return env("LAMBDA_PYTHON") or sys.executable


def isolation() -> str:
    return env("LAMBDA_ISOLATION") or "runtime"


def _work_dir() -> Path:
    # LocalStack's TMP (``<state>/tmp`` when started by ``liveml local up``), beside the unzipped code.
    return Path(tempfile.gettempdir()) / "liveml-lambda"


def runtime_packages_dir() -> Path:
    """A folder of links to the boto3 family only: the handler's view of Lambda's runtime packages."""
    target = _work_dir() / "runtime-packages"
    with _RUNTIME_LINKS_LOCK:
        if (target / ".complete").exists():
            return target
        target.mkdir(parents=True, exist_ok=True)
        for name in RUNTIME_PACKAGES:
            spec = find_spec(name)
            if spec is None or spec.origin is None:
                continue
            # A package links its folder; a single-module distribution (six) links its file.
            source = Path(spec.origin).parent if spec.submodule_search_locations else Path(spec.origin)
            link = target / source.name
            if not link.exists():
                link.symlink_to(source)
        (target / ".complete").touch()
    return target


def layer_paths(layer_dirs: list[Path]) -> list[str]:
    """``PYTHONPATH`` entries for unzipped layers, in Lambda's order (later layers win)."""
    paths: list[str] = []
    for layer in reversed(layer_dirs):
        paths.append(str(layer / "python" / "lib" / "python3.12" / "site-packages"))
        paths.append(str(layer / "python"))
    return paths


def python_path(code_dir: Path, layer_dirs: list[Path], mode: str, runtime_dir: Path | None) -> str:
    entries = [str(code_dir), *layer_paths(layer_dirs)]
    if mode == "runtime" and runtime_dir is not None:
        entries.append(str(runtime_dir))
    return os.pathsep.join(entries)


def handler_environment(
    env_vars: dict[str, Any], code_dir: Path, pythonpath: str, port: int, tmp_dir: Path
) -> dict[str, str]:
    """LocalStack's computed variables, adjusted from container paths to host paths."""
    out = {key: str(value) for key, value in env_vars.items()}
    out.update(
        {
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "LANG": "en_US.UTF-8",
            "HOME": str(tmp_dir),
            "TMPDIR": str(tmp_dir),
            "LAMBDA_TASK_ROOT": str(code_dir),
            "LAMBDA_RUNTIME_DIR": str(BOOTSTRAP.parent),
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
            "PYTHONPATH": pythonpath,
            "PYTHONNOUSERSITE": "1",
            "PYTHONUNBUFFERED": "1",
            "LIVEML_BOOTSTRAP_PORT": str(port),
        }
    )
    return out


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _timeout_payload(request_id: str, seconds: float) -> bytes:
    return json.dumps(
        {
            "errorType": "Sandbox.Timedout",
            "errorMessage": f"RequestId: {request_id} Error: Task timed out after {seconds:.2f} seconds",
        }
    ).encode()


class LocalProcessRuntimeExecutor(RuntimeExecutor):
    """One execution environment: one ``bootstrap.py`` process on a free port of 127.0.0.1."""

    def __init__(self, id: str, function_version: FunctionVersion) -> None:
        super().__init__(id=id, function_version=function_version)
        self.port = 0
        self.executor_endpoint = ExecutorEndpoint(self.id, container_address="127.0.0.1")
        self.process: subprocess.Popen[bytes] | None = None
        self.env_vars: dict[str, str] = {}
        self.env_dir = _work_dir() / "envs" / self.id
        self.log_path = self.env_dir / "process.log"
        self._stopping = False
        self._lock = threading.Lock()
        self._connection: http.client.HTTPConnection | None = None

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self, env_vars: dict[str, str]) -> None:
        self.env_vars = dict(env_vars)
        self.executor_endpoint.start()
        self._spawn()
        self.executor_endpoint.wait_for_startup()  # type: ignore[no-untyped-call]

    def _spawn(self) -> None:
        fv_config = self.function_version.config
        if fv_config.code is None:
            raise LambdaRuntimeException(
                "Container-image functions are not supported by the liveml-local executor"
            )
        runtime = str(fv_config.runtime or "")
        if runtime and not runtime.startswith("python"):
            raise LambdaRuntimeException(f"Runtime {runtime} is not supported by the liveml-local executor")
        code_dir = Path(fv_config.code.get_unzipped_code_location())
        layer_dirs = [
            Path(layer.code.get_unzipped_code_location()) for layer in fv_config.layers if layer.code
        ]
        mode = isolation()
        pythonpath = python_path(
            code_dir, layer_dirs, mode, runtime_packages_dir() if mode == "runtime" else None
        )
        tmp_dir = self.env_dir / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        self.port = _free_port()
        self.executor_endpoint.container_port = self.port
        env = handler_environment(self.env_vars, code_dir, pythonpath, self.port, tmp_dir)
        argv = [lambda_python(), *(["-S"] if mode == "runtime" else []), str(BOOTSTRAP)]
        with self.log_path.open("ab") as log:
            # Same process group as LocalStack on purpose: stopping that group stops every handler.
            self.process = subprocess.Popen(
                argv, cwd=code_dir, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        LOG.debug(
            "Started environment %s for %s as pid %s",
            self.id,
            self.function_version.qualified_arn,
            self.process.pid,
        )
        threading.Thread(
            target=self._watch, args=(self.process,), name=f"liveml-env-{self.id}", daemon=True
        ).start()

    def _watch(self, process: subprocess.Popen[bytes]) -> None:
        """Fail a pending start-up or invoke at once if the process dies under it."""
        code = process.wait()
        if self._stopping or process is not self.process:
            return  # stopped or replaced on purpose
        tail = self.get_logs()[-2000:]
        payload = json.dumps(
            {
                "errorType": "Runtime.ExitError",
                "errorMessage": f"RequestId: Error: Runtime exited with error: exit status {code}\n{tail}",
            }
        ).encode()
        startup = self.executor_endpoint.startup_future
        if startup is not None and not startup.done():
            startup.set_exception(StatusErrorException("Environment startup failed", payload=payload))
        invocation = self.executor_endpoint.invocation_future
        if invocation is not None and not invocation.done():
            invocation.set_result(InvocationResult("", payload, is_error=True, logs=tail))

    def _kill(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=5)

    def stop(self) -> None:
        # No lock: stopping must interrupt an invoke in progress (LocalStack then cancels its future).
        self._stopping = True
        self._kill()
        try:
            self.executor_endpoint.shutdown()
        except Exception as exc:  # the endpoint may never have been registered
            LOG.debug("Error while stopping executor endpoint of %s: %s", self.id, exc)
        shutil.rmtree(self.env_dir / "tmp", ignore_errors=True)

    # -- invoke --------------------------------------------------------------------------------
    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        with self._lock:
            if self.process is None or self.process.poll() is not None:
                # A timed-out or crashed environment is re-initialised, as Lambda does.
                self._stopping = False
                self.executor_endpoint.startup_future = Future()
                self._spawn()
                self.executor_endpoint.wait_for_startup()  # type: ignore[no-untyped-call]
            endpoint = self.executor_endpoint
            future: Future[InvocationResult] = Future()
            endpoint.invocation_future = future
            endpoint.logs = None
            self._send_invoke(json.dumps(payload).encode())
            timeout = float(self.function_version.config.timeout)
            try:
                result: InvocationResult = future.result(timeout=timeout + TIMEOUT_GRACE)
                return result
            except FutureTimeout:
                request_id = payload.get("invoke-id", "")
                LOG.info(
                    "Invoke %s of %s timed out after %ss",
                    request_id,
                    self.function_version.qualified_arn,
                    timeout,
                )
                self._stopping = True
                self._kill()
                logs = (
                    f"START RequestId: {request_id}\n"
                    f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} {request_id} "
                    f"Task timed out after {timeout:.2f} seconds\n"
                    f"END RequestId: {request_id}\n"
                )
                return InvocationResult(
                    request_id, _timeout_payload(request_id, timeout), is_error=True, logs=logs
                )

    def _send_invoke(self, body: bytes) -> None:
        """POST /invoke to the environment over a kept-alive connection (reconnecting once)."""
        for attempt in (1, 2):
            if self._connection is None:
                self._connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            try:
                self._connection.request(
                    "POST", "/invoke", body=body, headers={"Content-Type": "application/json"}
                )
                self._connection.getresponse().read()
                return
            except (http.client.HTTPException, OSError):
                self._connection.close()
                self._connection = None
                if attempt == 2:
                    raise

    # -- addresses -----------------------------------------------------------------------------
    def get_address(self) -> str:
        return "127.0.0.1"

    def get_endpoint_from_executor(self) -> str:
        # The gateway listens on 127.0.0.1 only; "localhost" may resolve to ::1 first.
        return "127.0.0.1"

    def get_runtime_endpoint(self) -> str:
        port = config.GATEWAY_LISTEN[0].port
        prefix: str = self.executor_endpoint.get_endpoint_prefix()  # type: ignore[no-untyped-call]
        return f"http://127.0.0.1:{port}{prefix}"

    def get_logs(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    # -- versions ------------------------------------------------------------------------------
    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        """Unzip the code and every layer once (LocalStack caches them by code id)."""
        fv_config = function_version.config
        if fv_config.code:
            fv_config.code.prepare_for_execution()
        for layer in fv_config.layers:
            if layer.code:
                layer.code.prepare_for_execution()

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        pass  # LocalStack deletes the unzipped code itself when the version goes

    @classmethod
    def validate_environment(cls) -> bool:
        if shutil.which(lambda_python()) is None and not Path(lambda_python()).exists():
            LOG.warning(
                "liveml-local: Lambda interpreter %s not found (LIVEML_LAMBDA_PYTHON)", lambda_python()
            )
            return False
        return True


class LocalProcessExecutorPlugin(RuntimeExecutorPlugin):
    """The plux entry point LocalStack finds by ``LAMBDA_RUNTIME_EXECUTOR=liveml-local``."""

    name = PLUGIN_NAME

    def load(self, *args: Any, **kwargs: Any) -> type[RuntimeExecutor]:
        return LocalProcessRuntimeExecutor
