"""A server process for the tests and the benchmarks, on 127.0.0.1: started in a process group of its own,
ready once a URL answers 200, stopped with everything it started on the way out — its group, and any
descendant that left it (BentoML starts its worker in a session of its own, which a group signal misses).
What it printed is kept, so a server that dies or never answers says why."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def processes() -> dict[int, tuple[int, str]]:
    """Every process: pid -> (parent pid, command line), from ``ps`` (Linux and macOS alike)."""
    listing = subprocess.run(
        ["ps", "-A", "-ww", "-o", "pid=", "-o", "ppid=", "-o", "command="],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    table = {}
    for line in listing.splitlines():
        pid, parent, command = [*line.split(None, 2), ""][:3]
        table[int(pid)] = (int(parent), command)
    return table


def descendants(pid: int) -> dict[int, str]:
    """The processes under ``pid``, each with its command line."""
    table = processes()
    tree, todo = {}, [pid]
    while todo:
        parent = todo.pop()
        for child, (ppid, command) in table.items():
            if ppid == parent:
                tree[child] = command
                todo.append(child)
    return tree


def _failed(why: str, log: IO[bytes]) -> RuntimeError:
    """One line (benchmarks print it as a figure), the server's last line in it; all it printed as a note."""
    log.seek(0)
    output = log.read().decode(errors="replace")
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    error = RuntimeError(f"{why} ({lines[-1][:200] if lines else 'no output'})")
    error.add_note(output[-4000:])
    return error


@contextlib.contextmanager
def running(
    command: list[str], env: Mapping[str, str], cwd: Path, ready_url: str, timeout: float = 90
) -> Iterator[None]:
    """``command`` running until the block ends; RuntimeError (with its output) if it exits before
    ``ready_url`` answers 200 or does not answer within ``timeout`` seconds."""
    import httpx

    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            command, env=dict(env), cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        tree: dict[int, str] = {}
        try:
            deadline = time.monotonic() + timeout
            while True:
                if proc.poll() is not None:
                    raise _failed(f"{' '.join(command)} exited with {proc.returncode}", log)
                with contextlib.suppress(httpx.TransportError):
                    if httpx.get(ready_url, timeout=1).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise _failed(f"{ready_url} did not answer within {timeout:.0f} s", log)
                time.sleep(0.1)
            tree = descendants(proc.pid)  # now too: a parent that dies first leaves its children unlisted
            yield
        finally:
            tree |= descendants(proc.pid)
            # SIGTERM to the group: uvicorn's graceful shutdown runs the lifespan (a final capture flush).
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            # Whatever outlived its parent (now adopted by init): the same pid with the same command.
            alive = processes() if tree else {}
            for pid, seen in tree.items():
                if pid in alive and alive[pid][1] == seen:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
