"""``uvicorn liveml.serving.asgi:app`` — the EKS entry point (and the one local servers and tests use).

Every bound model is loaded at import, sessions included, before uvicorn accepts a connection, so the
readiness probe on ``/health`` only passes once the models are in memory (a pod lives long; Lambda,
whose sandboxes come and go, opens sessions on first use instead).
"""

from __future__ import annotations

from liveml.serving.runtime import build_runtime

runtime = build_runtime(eager=True)
app = runtime.app
