"""The Unity client's end-to-end test: the C# program (``unity/Tools~/E2E.cs``) against the real serving
app under uvicorn on 127.0.0.1 (``e2e_server.py``). This harness owns the server: it trains a second
model version, starts the server with version 1, stops it when the program asks (offline: the device
model answers, events wait on disk), starts it again with version 2 (hot swap, queued events flushed),
then checks what the events store holds.

Usage: ``python tests/unity/e2e.py BUILD_DIR`` (after ``run.py`` built the program and the fixtures).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from liveml.data.synth import generate_players, player_contract
from liveml.monitoring.events import decode_lines
from liveml.training import train_model

HERE = Path(__file__).resolve().parent
API_KEY = "e2e-key"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Server:
    def __init__(self, port: int, events: Path) -> None:
        self.port, self.events = port, events
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, model_dir: Path, version: str) -> None:
        args = [str(model_dir), version, str(self.port), str(self.events), API_KEY]
        self.proc = subprocess.Popen([sys.executable, str(HERE / "e2e_server.py"), *args])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                r = httpx.get(
                    f"http://127.0.0.1:{self.port}/models/churn/latest", headers={"x-api-key": API_KEY}
                )
                if r.status_code == 200 and r.json()["version"] == version:
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                raise SystemExit("the e2e server exited at start")
            time.sleep(0.2)
        raise SystemExit("the e2e server did not come up in 60 s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        self.proc = None


def main(build_dir: str) -> int:
    build = Path(build_dir)
    v1 = build / "fixtures" / "model"
    work = Path(tempfile.mkdtemp(prefix="liveml-unity-e2e-"))
    try:
        v2 = work / "model-v2"
        df = generate_players(800, 21, "binary")
        train_model(
            df,
            player_contract("binary"),
            v2,
            trials=1,
            time_budget_s=60,
            seed=1,
            folds=2,
            families=["hist_gradient_boosting"],
        )
        shutil.copy(v1 / "golden_requests.json", work / "golden.json")
        server = Server(_free_port(), work / "events")
        server.start(v1, "1")
        program = subprocess.Popen(
            ["mono", str(build / "LiveML.E2E.exe"), f"http://127.0.0.1:{server.port}", str(work), API_KEY],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert program.stdin is not None and program.stdout is not None
        checks: list[str] = []
        try:
            for line in program.stdout:
                print(line.rstrip(), flush=True)
                if line.startswith("CHECK"):
                    checks.append(line)
                elif line.startswith("WAIT stop-server"):
                    server.stop()
                    program.stdin.write("ok\n")
                    program.stdin.flush()
                elif line.startswith("WAIT start-server-v2"):
                    server.start(v2, "2")
                    program.stdin.write("ok\n")
                    program.stdin.flush()
            code = program.wait(timeout=120)
        finally:
            server.stop()
            if program.poll() is None:
                program.kill()
        files = sorted((work / "events").rglob("*.jsonl.gz"))
        stored = [e for f in files for e in decode_lines(f.read_bytes())]
        ids = {e["event_id"] for e in stored}
        sequences = sorted(e["sequence"] for e in stored)
        store_ok = len(stored) == 50 and len(ids) == 50 and sequences == [*range(20), *range(21, 51)]
        print(f"CHECK events_store {'ok' if store_ok else 'FAIL'} stored={len(stored)} unique={len(ids)}")
        failed = [c for c in checks if " FAIL" in c]
        ok = code == 0 and store_ok and not failed and len(checks) >= 12
        n_failed = len(failed) + (not store_ok)
        print(f"e2e: {len(checks) + 1 - n_failed} checks passed, {n_failed} failed")
        return 0 if ok else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
