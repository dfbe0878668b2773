"""The server of the Unity end-to-end test: the real serving app (``liveml.serving.create_app`` over a
trained model directory) under uvicorn on 127.0.0.1, behind two clearly marked stand-ins for routes
that other branches are building:

* ``PER-MODEL ADAPTER``: ``/models/{model}/predict``, ``/predict/batch`` and ``/latest`` mapped onto
  today's single-model routes, ``latest`` with the compact model's and the golden requests' download
  links (``/files/…`` stands in for S3's presigned URLs); the per-model routes replace it at merge.
* ``EVENTS STAND-IN``: ``POST /events`` following the events contract exactly (per-event validation,
  partial success, event-id idempotency, whole-batch 400/413/415/422), storing events as JSON lines;
  ``liveml.monitoring.create_events_app`` replaces it at merge — it is built in ``events_app`` only.

Usage: ``python tests/unity/e2e_server.py MODEL_DIR VERSION PORT EVENTS_FILE API_KEY``
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from liveml.serving import ModelBinding, ServingSettings, create_app, load_models

MAX_EVENTS = 500
MAX_BODY = 1_000_000
MAX_PROPERTIES = 8 * 1024
_GAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_EVENT_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_TYPE = re.compile(r"^[a-z0-9_.-]{1,64}$")


def _error(status: int, code: str, message: str, fields: list[str]) -> JSONResponse:
    body = {"error": code, "message": message, "fields": fields, "correlation_id": uuid.uuid4().hex}
    return JSONResponse(body, status_code=status)


# --- EVENTS STAND-IN (replaced by liveml.monitoring.create_events_app at merge) -------------------


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def _bad_text(s: str) -> bool:
    return any(
        unicodedata.category(c) == "Cc"
        or unicodedata.bidirectional(c) in {"LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"}
        for c in s
    )


def _event_problem(e: Any, now: datetime) -> str | None:
    if not isinstance(e, dict):
        return "event: must be an object"
    if not isinstance(e.get("event_id"), str) or not _EVENT_ID.match(e["event_id"]):
        return "event_id: required, 1-64 characters of [A-Za-z0-9._:-]"
    pid = e.get("player_id")
    if not isinstance(pid, str) or not 1 <= len(pid) <= 128 or _bad_text(pid):
        return "player_id: required, 1-128 characters, no control or bidi characters"
    if not isinstance(e.get("type"), str) or not _TYPE.match(e["type"]):
        return "type: required, 1-64 characters of [a-z0-9_.-]"
    try:
        ts = datetime.fromisoformat(str(e.get("timestamp")).replace("Z", "+00:00"))
    except ValueError:
        return "timestamp: required, ISO-8601 with an offset"
    if ts.tzinfo is None:
        return "timestamp: needs an offset"
    if ts > now + timedelta(minutes=5) or ts < now - timedelta(days=30):
        return "timestamp: more than 5 minutes in the future or older than 30 days"
    seq = e.get("sequence")
    if seq is not None and (isinstance(seq, bool) or not isinstance(seq, int) or seq < 0):
        return "sequence: an integer >= 0"
    sid = e.get("session_id")
    if sid is not None and (not isinstance(sid, str) or not 1 <= len(sid) <= 128):
        return "session_id: 1-128 characters"
    if e.get("model") is not None and not isinstance(e["model"], str):
        return "model: a string"
    props = e.get("properties")
    if props is not None:
        if not isinstance(props, dict):
            return "properties: an object"
        if len(json.dumps(props)) > MAX_PROPERTIES or _depth(props) > 4:
            return "properties: at most 8 KB as JSON and depth 4"
    return None


def events_app(store: Path) -> FastAPI:
    """``POST /events`` per the contract; events stored once per event id in ``store`` (JSON lines)."""
    seen = set()
    if store.exists():
        seen = {json.loads(line)["event_id"] for line in store.read_text().splitlines() if line}
    app = FastAPI()

    @app.post("/events")
    async def events(request: Request) -> Response:
        if "json" not in request.headers.get("content-type", ""):
            return _error(415, "unsupported_media_type", "Content-Type must be application/json", ["body"])
        raw = await request.body()
        if len(raw) > MAX_BODY:
            return _error(413, "payload_too_large", f"body over {MAX_BODY} bytes", ["body"])
        try:
            body = json.loads(raw)
        except ValueError:
            return _error(400, "bad_request", "body: invalid JSON", ["body"])
        if not isinstance(body, dict) or not isinstance(body.get("events"), list):
            return _error(422, "validation_error", "events: a list is required", ["events"])
        if len(body["events"]) > MAX_EVENTS:
            return _error(422, "validation_error", f"events: at most {MAX_EVENTS} per batch", ["events"])
        game = body.get("game")
        if game is not None and (not isinstance(game, str) or not _GAME.match(game)):
            return _error(422, "validation_error", "game: 1-64 characters of [A-Za-z0-9._-]", ["game"])
        now = datetime.now(UTC)
        accepted, duplicates, rejected = 0, 0, []
        with store.open("a", encoding="utf-8") as out:
            for i, e in enumerate(body["events"]):
                problem = _event_problem(e, now)
                if problem is not None:
                    eid = (
                        e.get("event_id")
                        if isinstance(e, dict) and isinstance(e.get("event_id"), str)
                        else None
                    )
                    rejected.append({"index": i, "event_id": eid, "reason": problem})
                elif e["event_id"] in seen:
                    duplicates += 1
                else:
                    seen.add(e["event_id"])
                    out.write(json.dumps({**e, "game": game}) + "\n")
                    accepted += 1
        return JSONResponse(
            {
                "accepted": accepted,
                "duplicates": duplicates,
                "rejected": rejected,
                "correlation_id": uuid.uuid4().hex,
            }
        )

    return app


# --- PER-MODEL ADAPTER (replaced by the per-model routes at merge) --------------------------------


_FORWARDED = ("content-type", "x-api-key")


def harness_app(model_dir: Path, version: str, store: Path, api_key: str) -> FastAPI:
    models = load_models(ModelBinding.from_dir(model_dir, model="churn", version=version))
    inner = create_app(models, ServingSettings(capture_sample_rate=0.0))
    ingest = events_app(store)
    app = FastAPI()

    async def forward(target: FastAPI, request: Request, path: str) -> Response:
        transport = httpx.ASGITransport(app=target)
        async with httpx.AsyncClient(transport=transport, base_url="http://inner") as client:
            r = await client.request(
                request.method,
                path,
                params=request.query_params,
                content=await request.body(),
                headers={
                    k: v for k, v in request.headers.items() if k.lower() in ("content-type", "x-api-key")
                },
            )
        return Response(r.content, status_code=r.status_code, media_type=r.headers.get("content-type"))

    @app.middleware("http")
    async def api_key_check(request: Request, call_next: Any) -> Response:
        # API Gateway's usage plan: no key, 403 (the files stand in for presigned S3 URLs: no key).
        if not request.url.path.startswith("/files/") and request.headers.get("x-api-key") != api_key:
            return JSONResponse({"message": "Forbidden"}, status_code=403)
        response: Response = await call_next(request)
        return response

    def unknown(model: str) -> JSONResponse | None:
        if model == "churn":
            return None
        return _error(404, "not_found", f"model {model!r} is not served here", ["model"])

    @app.post("/models/{model}/predict")
    async def predict(model: str, request: Request) -> Response:
        return unknown(model) or await forward(inner, request, "/predict")

    @app.post("/models/{model}/predict/batch")
    async def predict_batch(model: str, request: Request) -> Response:
        return unknown(model) or await forward(inner, request, "/predict/batch")

    @app.get("/models/{model}/latest")
    async def latest(model: str, request: Request) -> Response:
        missing = unknown(model)
        if missing is not None:
            return missing
        answer = await forward(inner, request, "/models/latest")
        doc = json.loads(bytes(answer.body))
        manifest = json.loads((model_dir / "manifest.json").read_text())
        base = str(request.base_url).rstrip("/")
        if doc.get("compact"):
            doc["compact"]["url"] = f"{base}/files/{version}/model.compact.json"
        doc["golden"] = {
            "url": f"{base}/files/{version}/golden_requests.json",
            "sha256": manifest["artifacts"]["golden_requests.json"]["sha256"],
        }
        return JSONResponse(doc)

    @app.get("/files/{file_version}/{name}")
    async def files(file_version: str, name: str) -> Response:
        if file_version != version or name not in ("model.compact.json", "golden_requests.json"):
            return _error(404, "not_found", "no such file", ["name"])
        return Response((model_dir / name).read_bytes(), media_type="application/json")

    @app.post("/events")
    async def events(request: Request) -> Response:
        return await forward(ingest, request, "/events")

    return app


if __name__ == "__main__":
    model_dir, version, port, events_file, key = sys.argv[1:6]
    application = harness_app(Path(model_dir), version, Path(events_file), key)
    uvicorn.run(application, host="127.0.0.1", port=int(port), log_level="warning")
