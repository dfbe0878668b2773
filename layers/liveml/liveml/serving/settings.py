"""Serving settings: explicit arguments beat ``LIVEML_*`` environment variables, which beat defaults."""

from __future__ import annotations

from dataclasses import dataclass, field

from liveml.binding import constants as c
from liveml.binding.environment import read
from liveml.binding.environment import read_float as _float
from liveml.binding.environment import read_int as _int


@dataclass(frozen=True)
class ServingSettings:
    max_batch_rows: int = field(default_factory=lambda: _int(c.MAX_BATCH_ROWS, 1000))
    #: API Gateway allows 10 MB; 1,000 rows of 20 features are ~0.5 MB.
    max_body_bytes: int = field(default_factory=lambda: _int(c.MAX_BODY_BYTES, 1_048_576))
    presign_expiry_s: int = field(default_factory=lambda: _int(c.PRESIGN_EXPIRY_S, 3600))
    capture_sample_rate: float = field(default_factory=lambda: _float(c.CAPTURE_SAMPLE_RATE, 0.0))
    capture_bucket: str | None = field(default_factory=lambda: read(c.CAPTURE_BUCKET) or read(c.DATA_BUCKET))
    capture_prefix: str = field(default_factory=lambda: read(c.CAPTURE_PREFIX) or "captures")
    capture_max_age_s: float = field(default_factory=lambda: _float(c.CAPTURE_MAX_AGE_S, 30.0))
    capture_max_records: int = field(default_factory=lambda: _int(c.CAPTURE_MAX_RECORDS, 1000))
    #: A rollback drill's injected latency (ms); 0 in normal service.
    drill_latency_ms: float = field(default_factory=lambda: _float(c.DRILL_LATENCY_MS, 0.0))
    #: Serve /docs and /redoc (the OpenAPI JSON is always served); off in the deployed app.
    api_docs: bool = field(default_factory=lambda: (read(c.API_DOCS) or "").lower() in ("1", "true", "yes"))
    #: Above this many rows a batch is scored in a worker thread so the event loop keeps answering.
    offload_rows: int = 64
