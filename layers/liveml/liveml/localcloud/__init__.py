"""LocalStack on the host, without Docker: lifecycle, offline DynamoDB and our Lambda executor.

Public face (used by the CLI, the test fixtures, the Makefile and CI)::

    from liveml.localcloud import LocalCloudConfig, up, down, status, logs

    st = up()            # starts (or finds) LocalStack on 127.0.0.1:4566 -> Status(running, pid, ...)
    status()             # Status of ours, from <state>/localstack.pid and /_localstack/health
    for line in logs(lines=50, follow=False): ...
    down()               # stops the whole process group; False if nothing ran

``LocalCloudConfig()`` reads ``LIVEML_LOCALSTACK_*`` / ``LIVEML_LAMBDA_*`` (see ``config.py``);
its ``state_dir`` (``.localstack/``), ``log_file``, ``pid_file`` and ``endpoint`` are the paths to know.
The executor plugin (``executor.py``) is imported by LocalStack only, never from here.
"""

from __future__ import annotations

from liveml.localcloud.config import EXECUTOR_PLUGIN, LocalCloudConfig, project_root
from liveml.localcloud.errors import LocalCloudError
from liveml.localcloud.runner import (
    Status,
    descendants,
    down,
    group_alive,
    group_members,
    health,
    logs,
    status,
    up,
)

__all__ = [
    "EXECUTOR_PLUGIN",
    "LocalCloudConfig",
    "LocalCloudError",
    "Status",
    "descendants",
    "down",
    "group_alive",
    "group_members",
    "health",
    "logs",
    "project_root",
    "status",
    "up",
]
