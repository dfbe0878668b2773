"""``uvicorn liveml.serving.asgi:app`` — the EKS entry point (and the one local servers and tests use).

The model is loaded at import, before uvicorn accepts a connection, so the readiness probe on
``/health`` only passes once the model is in memory.
"""

from __future__ import annotations

from liveml.serving.runtime import build_runtime

runtime = build_runtime()
app = runtime.app
