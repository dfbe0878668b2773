"""`liveml local down` leaves no process of LocalStack's process group behind.

Runs a second LocalStack (own state folder, a free port) so the session's one on 4566 keeps serving
the other tests. A Lambda environment, a grandchild the handler spawns and DynamoDB Local's JVM
(in a session of its own) run when ``down`` runs; afterwards none of them may remain.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import boto3
import pytest

from liveml.localcloud import LocalCloudConfig, Status, descendants, group_alive, group_members, up
from liveml.localcloud.runner import running


def free_port() -> int:
    """A port nothing listens on now, so the second LocalStack never collides with another one."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


LIVEML = [sys.executable, "-c", "from liveml.cli import main; main()"]


@pytest.fixture
def second_localstack(localstack: Status, tmp_path: Path) -> tuple[LocalCloudConfig, dict[str, str]]:
    main = LocalCloudConfig()
    port = free_port()
    env = {
        "LIVEML_LOCALSTACK_DIR": str(tmp_path / "state"),
        "LIVEML_LOCALSTACK_PORT": str(port),
        # Reuse the session's LocalStack venv instead of building a second one.
        "LIVEML_LOCALSTACK_PYTHON": main.python,
    }
    cfg = LocalCloudConfig(
        state_dir=tmp_path / "state",
        port=port,
        python_override=main.python,
        health_timeout=60,
    )
    return cfg, env


def test_down_stops_the_whole_process_group(
    second_localstack: tuple[LocalCloudConfig, dict[str, str]],
) -> None:
    cfg, env = second_localstack
    st = up(cfg)
    assert st.pgid is not None
    pgid = st.pgid
    try:
        lam = boto3.client("lambda", endpoint_url=cfg.endpoint, region_name="us-east-1")
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr(
                "app.py",
                "import os, subprocess\n"
                "def handler(event, context):\n"
                "    child = subprocess.Popen(['sleep', '300'])\n"
                "    return {'env': os.getpid(), 'grandchild': child.pid}\n",
            )
        lam.create_function(
            FunctionName="spawner",
            Runtime="python3.12",
            Role="arn:aws:iam::000000000000:role/r",
            Handler="app.handler",
            Code={"ZipFile": code.getvalue()},
        )
        lam.get_waiter("function_active_v2").wait(FunctionName="spawner")
        pids = json.loads(lam.invoke(FunctionName="spawner")["Payload"].read())
        members = set(group_members(pgid))
        assert {pids["env"], pids["grandchild"]} <= members, (pids, members)
        # DynamoDB Local's JVM: LocalStack starts it in a session of its own, outside the group.
        boto3.client("dynamodb", endpoint_url=cfg.endpoint, region_name="us-east-1").list_tables()
        tree = descendants(pgid)
        assert any(pid not in members for pid, _ in tree), "expected the DynamoDB JVM outside the group"
    except BaseException:
        subprocess.run([*LIVEML, "local", "down"], env={**os.environ, **env}, check=False)
        raise

    done = subprocess.run(
        [*LIVEML, "local", "down"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "stopped" in done.stdout
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and group_members(pgid):
        time.sleep(0.1)
    # LocalStack was started from this test process: collect its zombie, which killpg still counts.
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pgid, 0)
    assert group_members(pgid) == []
    assert not group_alive(pgid)
    assert not [pid for pid, _ in tree if running(pid)], "a descendant outlived down"
    ps = subprocess.run(["ps", "-e", "-o", "pgid=,stat="], capture_output=True, text=True, check=True).stdout
    assert not [
        line
        for line in ps.splitlines()
        if line.split()[0] == str(pgid) and not line.split()[1].startswith("Z")
    ]
    assert not cfg.pid_file.exists()
