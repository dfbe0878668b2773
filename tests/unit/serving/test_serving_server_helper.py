"""The server helper the serving tests and benchmarks share (``tests.servers.running``) stops every
server it starts, its whole process tree, however the block ends: BentoML's worker runs in a session of
its own, which a signal to the server's group never reaches, and a peer left running would load the
machine for every later figure."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path

import pytest

from tests.servers import descendants, free_port, running

ROOT = Path(__file__).resolve().parents[3]

#: A server as BentoML runs one: the parent answers HTTP, its worker sits in a session of its own.
SERVER = """
import http.server, subprocess, sys
worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
class Ready(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Ready).serve_forever()
"""


def alive(pids: list[int]) -> list[int]:
    out = []
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        out.append(pid)
    return out


@pytest.mark.allow_hosts(["127.0.0.1"])
@pytest.mark.parametrize("ending", ["normally", "on an error", "after the server's parent was killed"])
def test_the_whole_process_tree_is_stopped(tmp_path: Path, ending: str) -> None:
    script = tmp_path / "server.py"
    script.write_text(SERVER)
    port = free_port()
    command = [sys.executable, str(script), str(port)]
    tree: dict[int, str] = {}
    expected = pytest.raises(RuntimeError) if ending != "normally" else contextlib.nullcontext()
    with expected, running(command, dict(os.environ), tmp_path, f"http://127.0.0.1:{port}/"):
        deadline = time.monotonic() + 10
        while not tree and time.monotonic() < deadline:
            tree = {p: c for p, c in descendants(os.getpid()).items() if "time.sleep(60)" in c}
        assert tree, "the worker did not start"
        if ending == "after the server's parent was killed":
            parent = next(p for p, c in descendants(os.getpid()).items() if str(script) in c)
            os.kill(parent, 9)  # the worker is orphaned: no group signal reaches it now
        if ending != "normally":
            raise RuntimeError("the load generator failed")
    deadline = time.monotonic() + 5
    while alive(list(tree)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert alive(list(tree)) == [], f"left running {ending}: {tree}"
