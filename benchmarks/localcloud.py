"""Figures for LocalStack on the host: start-up, Lambda invoke latency, memory of the process group.

Prints ``name value unit`` lines:

- ``local_up_seconds_cold``: ``up()`` from stopped (LocalStack's venv and DynamoDB set-up already cached);
- ``local_up_seconds_warm``: ``up()`` when it already runs (the idempotent path);
- ``build_seconds`` / ``deploy_seconds``: ``sam build`` (cached) and the stack's ``samlocal deploy``;
- ``invoke_cold_ms``: first invoke of a new function (environment start + import + call);
- ``invoke_warm_ms``: median of 50 invokes of the warm environment;
- ``peak_rss_mb_lambda``: the largest sum of RSS over LocalStack's process group, after the invokes;
- ``dynamodb_first_use_seconds``: first CreateTable + PutItem + GetItem (starts DynamoDB Local's JVM);
- ``peak_rss_mb``: the same peak at the end, DynamoDB Local included.

Leaves LocalStack running if it was running before, else stops it. Run:
``.venv/bin/python benchmarks/localcloud.py``.
"""

from __future__ import annotations

import io
import json
import statistics
import threading
import time
import uuid
import zipfile
from pathlib import Path
from typing import Any

from liveml.aws import client, use_localstack
from liveml.localcloud import LocalCloudConfig, descendants, down, group_members, project_root, status, up
from liveml.stack import DeployTarget, build, deploy


def group_rss_bytes(pgid: int) -> int:
    """Sum of resident memory of LocalStack's processes (psutil if present, else /proc)."""
    total = 0
    try:
        import psutil  # type: ignore[import-untyped]
    except ImportError:
        psutil = None
    # The group plus descendants outside it (DynamoDB Local's JVM runs in a session of its own).
    for pid in sorted(set(group_members(pgid)) | {pid for pid, _ in descendants(pgid)}):
        try:
            if psutil is not None:
                total += int(psutil.Process(pid).memory_info().rss)
            else:
                pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
                total += pages * 4096
        except Exception:  # the process ended between listing and reading
            continue
    return total


class PeakSampler:
    """Samples the group's RSS every 0.2 s in the background."""

    def __init__(self) -> None:
        self.peak = 0
        self.pgid = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            if self.pgid:
                self.peak = max(self.peak, group_rss_bytes(self.pgid))
            time.sleep(0.2)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _function_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "app.py", "def handler(event, context):\n    return {'ok': True, 'n': event.get('n')}\n"
        )
    return buffer.getvalue()


def main() -> None:
    cfg = LocalCloudConfig()
    was_running = status(cfg).running
    with PeakSampler() as sampler:
        if was_running:
            down(cfg)
        started = time.perf_counter()
        st = up(cfg)
        print(f"local_up_seconds_cold {time.perf_counter() - started:.2f} s")
        sampler.pgid = st.pgid or 0
        started = time.perf_counter()
        up(cfg)
        print(f"local_up_seconds_warm {time.perf_counter() - started:.3f} s")

        # The project's stack, as `liveml deploy --local` deploys it (sam build is cached after the first).
        use_localstack(cfg.endpoint)
        root = project_root()
        started = time.perf_counter()
        build(root)
        print(f"build_seconds {time.perf_counter() - started:.1f} s (sam build, cached)")
        started = time.perf_counter()
        deploy(root, DeployTarget.LOCAL, stack_name=f"bench-{uuid.uuid4().hex[:6]}")
        print(f"deploy_seconds {time.perf_counter() - started:.1f} s (samlocal deploy of template.yaml)")

        lam: Any = client("lambda")  # LocalStack: use_localstack above
        name = f"bench-{uuid.uuid4().hex[:8]}"
        lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role="arn:aws:iam::000000000000:role/bench",
            Handler="app.handler",
            Code={"ZipFile": _function_zip()},
        )
        lam.get_waiter("function_active_v2").wait(FunctionName=name)
        started = time.perf_counter()
        lam.invoke(FunctionName=name, Payload=b"{}")["Payload"].read()
        print(f"invoke_cold_ms {(time.perf_counter() - started) * 1000:.1f} ms")
        samples = []
        for n in range(50):
            started = time.perf_counter()
            body = lam.invoke(FunctionName=name, Payload=json.dumps({"n": n}).encode())["Payload"].read()
            samples.append((time.perf_counter() - started) * 1000)
            assert json.loads(body)["n"] == n
        p90 = sorted(samples)[44]
        print(f"invoke_warm_ms {statistics.median(samples):.1f} ms (median of 50; p90 {p90:.1f})")
        lam.delete_function(FunctionName=name)
        time.sleep(0.5)
        print(
            f"peak_rss_mb_lambda {sampler.peak / 2**20:.0f} MB (LocalStack's process group, stack deployed)"
        )

        # DynamoDB Local is a JVM started on first use: its start-up and memory, separately.
        ddb: Any = client("dynamodb")  # LocalStack: use_localstack above
        table = f"bench-{uuid.uuid4().hex[:8]}"
        started = time.perf_counter()
        ddb.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        ddb.put_item(TableName=table, Item={"pk": {"S": "a"}})
        ddb.get_item(TableName=table, Key={"pk": {"S": "a"}})
        seconds = time.perf_counter() - started
        print(f"dynamodb_first_use_seconds {seconds:.2f} s (JVM start + CreateTable/Put/Get)")
        ddb.delete_table(TableName=table)
        time.sleep(0.5)
    print(f"peak_rss_mb {sampler.peak / 2**20:.0f} MB (LocalStack's process tree, DynamoDB Local included)")
    if not was_running:
        down(cfg)


if __name__ == "__main__":
    main()
