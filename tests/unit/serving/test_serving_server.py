"""The container's start command (eks/Dockerfile's CMD) serves the API: run it here, no Docker needed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest


def test_the_dockerfile_runs_uvicorn_on_the_asgi_module(start_command: list[str]) -> None:
    command = start_command
    assert command[:2] == ["uvicorn", "liveml.serving.asgi:app"]
    assert command[command.index("--workers") + 1] == "1"


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_the_start_command_serves_health_and_predictions(
    model_dir: Path, features: dict[str, Any], local_server: Any
) -> None:
    with local_server(model_dir, {"LIVEML_MODEL_VERSION": "5"}) as url:
        health = httpx.get(f"{url}/health", timeout=5).json()
        assert health["status"] == "ok" and health["model_loaded"] is True and health["version"] == "5"
        r = httpx.post(f"{url}/predict", json={"player_id": "p1", "features": features}, timeout=5)
        assert r.status_code == 200 and r.json()["model_version"] == "5"
        bad = httpx.post(f"{url}/predict", json={"player_id": "p1", "features": {}}, timeout=5)
        assert bad.status_code == 422
