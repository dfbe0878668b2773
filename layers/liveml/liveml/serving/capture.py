"""Sampled prediction capture to S3, for drift and online-accuracy monitoring.

Keys: ``<prefix>/model=<name>/version=<v>/dt=YYYY-MM-DD/hour=HH/<uuid>.jsonl`` (UTC, from each
record's own timestamp), one JSON object per line.

Durability design — nothing accepted is lost silently:

* A request only appends one serialized line to an in-memory list under a lock (~10 µs); it never
  waits for S3. The benchmark measures what this adds to p99 (``capture_p99_overhead_ms``).
* A background thread flushes when the buffer is older than ``max_age_s`` or holds ``max_records``.
* Lambda freezes the process between invocations, so the background thread alone could leave records
  in a frozen sandbox that is later reclaimed. The predict handler therefore calls
  :meth:`PredictionCapture.after_invocation` before it returns: it flushes synchronously when the
  buffer is older than ``max_age_s``. Only the invocations that do so pay for an S3 PUT, at most one
  per ``max_age_s`` per sandbox, so with a steady load it stays out of the p99.
* On shutdown (uvicorn's lifespan, ``atexit``, and SIGTERM — which Lambda sends to the runtime before
  reclaiming a sandbox when an extension is registered) everything pending is flushed.
* A failed PUT puts the records back (with back-off) rather than dropping them. Only when more than
  ``max_pending_records`` pile up (S3 unreachable for long) are the oldest dropped, and that is logged
  as an error and counted in :attr:`CaptureStats.dropped`, never silent.

What can still be lost is a hard crash of the process (out of memory, a Lambda timeout) — at most the
last ``max_age_s`` of sampled records, a bounded window documented here rather than a silent gap.
"""

from __future__ import annotations

import atexit
import json
import logging
import random
import signal
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType
from typing import Any, Protocol

log = logging.getLogger(__name__)


class CaptureSink(Protocol):
    """Where flushed capture files go."""

    def put(self, key: str, body: bytes) -> None: ...


class S3CaptureSink:
    """Writes capture files to an S3 bucket; the client is created on first use, off the request path."""

    def __init__(self, bucket: str, client: Any | None = None) -> None:
        self.bucket = bucket
        self._client = client

    def put(self, key: str, body: bytes) -> None:
        if self._client is None:
            from liveml.aws.clients import client

            self._client = client("s3")
        self._client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="application/x-ndjson")

    def reset_client(self) -> None:
        """Forget the client (after a SnapStart restore its connections are dead); the next put makes one."""
        self._client = None


@dataclass
class CaptureStats:
    accepted: int = 0
    flushed: int = 0
    files: int = 0
    failed_puts: int = 0
    dropped: int = 0


@dataclass(frozen=True)
class _Line:
    partition: tuple[str, str, str, str]  # (model, version, dt, hour)
    data: bytes


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


class PredictionCapture:
    """Samples, buffers and flushes prediction records. Thread-safe."""

    def __init__(
        self,
        sink: CaptureSink | None,
        *,
        model: str,
        sample_rate: float,
        prefix: str = "captures",
        max_age_s: float = 30.0,
        max_records: int = 1000,
        max_pending_records: int = 100_000,
        clock: Callable[[], float] = time.time,
        rng: Callable[[], float] = random.random,
    ) -> None:
        if not 0.0 <= sample_rate <= 1.0:
            raise ValueError(f"capture sample rate must be within 0..1, got {sample_rate}")
        self.sink = sink
        self.model = model
        self.sample_rate = sample_rate if sink is not None else 0.0
        self.prefix = prefix.strip("/")
        self.max_age_s = max_age_s
        self.max_records = max_records
        self.max_pending_records = max_pending_records
        self.stats = CaptureStats()
        self._clock = clock
        self._rng = rng
        self._lines: list[_Line] = []
        self._oldest: float | None = None  # when the oldest pending line was accepted
        self._lock = threading.Lock()  # guards the buffer; held for microseconds
        self._flush_lock = threading.Lock()  # one flush at a time, held across S3 calls
        self._retry_at = 0.0
        self._backoff_s = 1.0
        self._stop = threading.Event()
        self._wake = threading.Event()  # set to flush early (buffer full, shutdown)
        self._thread: threading.Thread | None = None

    # -- request path -------------------------------------------------------------------------

    def sampled(self) -> bool:
        """Whether this request is captured; decided before building the record, so skipping is free."""
        return self.sample_rate > 0.0 and (self.sample_rate >= 1.0 or self._rng() < self.sample_rate)

    def add(self, record: dict[str, Any], *, version: str, model: str | None = None) -> None:
        """Accept one record (already sampled) of ``model`` (default: this capture's). Adds ``ts`` and
        ``model``; never blocks on I/O."""
        now = self._clock()
        moment = datetime.fromtimestamp(now, UTC)
        name = model or self.model
        record = {"ts": moment.isoformat(), "model": name, "version": version, **record}
        data = json.dumps(record, default=_json_default, separators=(",", ":")).encode() + b"\n"
        line = _Line((name, version, moment.strftime("%Y-%m-%d"), moment.strftime("%H")), data)
        with self._lock:
            self._lines.append(line)
            if self._oldest is None:
                self._oldest = now
            self.stats.accepted += 1
            full = len(self._lines) >= self.max_records
        if self._thread is None:
            self.start()
        elif full:
            self._wake.set()

    # -- flushing -----------------------------------------------------------------------------

    def pending(self) -> int:
        with self._lock:
            return len(self._lines)

    def due(self) -> bool:
        """Whether the buffer should be flushed now: old enough or full, and not backing off."""
        now = self._clock()
        with self._lock:
            if not self._lines or now < self._retry_at:
                return False
            assert self._oldest is not None
            return len(self._lines) >= self.max_records or now - self._oldest >= self.max_age_s

    def flush_if_due(self) -> int:
        return self.flush() if self.due() else 0

    def after_invocation(self) -> int:
        """Called by the Lambda handler before it returns (the sandbox may freeze right after)."""
        return self.flush_if_due()

    def flush(self) -> int:
        """Write everything pending, one file per (model, version, day, hour). Returns the lines written."""
        with self._flush_lock:
            with self._lock:
                lines, self._lines = self._lines, []
                oldest, self._oldest = self._oldest, None
            if not lines:
                return 0
            groups: dict[tuple[str, str, str, str], list[bytes]] = {}
            for line in lines:
                groups.setdefault(line.partition, []).append(line.data)
            written = 0
            failed: list[_Line] = []
            for (model, version, dt, hour), datas in groups.items():
                key = (
                    f"{self.prefix}/model={model}/version={version}/dt={dt}/hour={hour}/{uuid.uuid4()}.jsonl"
                )
                try:
                    assert self.sink is not None
                    self.sink.put(key, b"".join(datas))
                except Exception:
                    log.exception("capture flush to %s failed; %d records kept for retry", key, len(datas))
                    self.stats.failed_puts += 1
                    failed.extend(_Line((model, version, dt, hour), d) for d in datas)
                else:
                    written += len(datas)
                    self.stats.files += 1
            self.stats.flushed += written
            if failed:
                self._requeue(failed, oldest)
            else:
                self._backoff_s = 1.0
            return written

    def _requeue(self, failed: list[_Line], oldest: float | None) -> None:
        with self._lock:
            self._lines = failed + self._lines
            self._oldest = oldest if oldest is not None else self._clock()
            overflow = len(self._lines) - self.max_pending_records
            if overflow > 0:
                del self._lines[:overflow]
                self.stats.dropped += overflow
                log.error(
                    "capture buffer over %d records: dropped the %d oldest",
                    self.max_pending_records,
                    overflow,
                )
            self._retry_at = self._clock() + self._backoff_s
            self._backoff_s = min(self._backoff_s * 2, 60.0)

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Start the background flusher (idempotent; ``add`` starts it on first use)."""
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name="liveml-capture", daemon=True)
            self._thread.start()
        atexit.register(self.close)

    def _run(self) -> None:
        tick = max(min(self.max_age_s / 4, 1.0), 0.01)
        while not self._stop.is_set():
            self._wake.wait(tick)
            self._wake.clear()
            try:
                self.flush_if_due()
            except Exception:  # the flusher must survive anything; flush() already logged
                log.exception("capture background flush failed")

    def close(self) -> None:
        """Stop the background thread and flush everything pending (retries ignore the back-off once)."""
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        with self._lock:
            self._retry_at = 0.0
        self.flush()

    def install_sigterm_handler(self, before: Callable[[], None] | None = None) -> None:
        """Flush on SIGTERM (after ``before``, e.g. the metrics' flush), then defer to whatever handler
        was there (Lambda sends it before shutdown)."""
        if threading.current_thread() is not threading.main_thread():
            return
        previous = signal.getsignal(signal.SIGTERM)

        def on_sigterm(signum: int, frame: FrameType | None) -> None:
            if before is not None:
                before()
            self.close()
            if callable(previous):
                previous(signum, frame)
            elif previous == signal.SIG_DFL:
                raise SystemExit(128 + signum)

        signal.signal(signal.SIGTERM, on_sigterm)
