"""``liveml events synth`` and ``liveml events send`` against the events app under uvicorn (the same
``POST /events`` as the Lambda function), and the README's ``export:`` example parses."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
import yaml
from typer.testing import CliRunner

from liveml.cli import app
from liveml.monitoring import create_events_app
from liveml.pipeline.settings import PipelineSettings

README = Path(__file__).resolve().parents[3] / "README.md"


@pytest.fixture
def events_server(tmp_path: Path) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            create_events_app(folder=tmp_path / "store"), host="127.0.0.1", port=port, log_level="error"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/events"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_synth_then_send_lands_every_event_once(events_server: str, tmp_path: Path) -> None:
    runner = CliRunner()
    file = tmp_path / "events.jsonl"
    made = runner.invoke(app, ["events", "synth", "--players", "40", "--days", "3", "-o", str(file)])
    assert made.exit_code == 0, made.output
    lines = file.read_text().splitlines()
    with file.open("a") as handle:  # one bad event at the end
        handle.write(
            json.dumps({"event_id": "bad one", "player_id": "p", "type": "x", "timestamp": "now"}) + "\n"
        )
    sent = runner.invoke(app, ["events", "send", str(file), "--url", events_server, "--batch-size", "100"])
    assert sent.exit_code == 0, sent.output
    assert f"accepted {len(lines)}, duplicates 0" in sent.output
    assert "rejected 1" in sent.output and "event_id" in sent.output
    again = runner.invoke(app, ["events", "send", str(file), "--url", events_server])
    assert f"accepted 0, duplicates {len(lines)}" in again.output


def test_send_refuses_a_file_that_is_not_events(tmp_path: Path) -> None:
    file = tmp_path / "x.txt"
    file.write_text("not json\n")
    result = CliRunner().invoke(app, ["events", "send", str(file), "--url", "http://127.0.0.1:9/events"])
    assert result.exit_code != 0
    assert "neither JSON nor JSON lines" in str(result.exception)


def test_the_readme_export_example_is_valid_settings() -> None:
    block = re.search(r"```yaml\n(export:\n.*?)```", README.read_text(), re.S)
    assert block is not None
    settings = PipelineSettings.from_yaml(block.group(1))
    assert settings.export is not None and yaml.safe_dump(settings.export)


def test_the_app_factory_takes_its_folder_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    from liveml.monitoring import FolderEventStore

    monkeypatch.setenv("LIVEML_EVENTS_FOLDER", str(tmp_path))
    app = create_events_app()  # what `uvicorn --factory liveml.monitoring:create_events_app` calls
    assert isinstance(app.state.ingestor.store, FolderEventStore)
    assert TestClient(app).get("/health").json() == {"status": "ok"}
