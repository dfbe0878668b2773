"""The server of the Unity end-to-end test: the real serving app (``liveml.serving.create_app`` over a
trained model directory) under uvicorn on 127.0.0.1, behind two clearly marked stand-ins for routes
that other branches are building:

* ``PER-MODEL ADAPTER``: ``/models/{model}/predict``, ``/predict/batch`` and ``/latest`` mapped onto
  today's single-model routes, ``latest`` with the compact model's and the golden requests' download
  links (``/files/…`` stands in for S3's presigned URLs); the per-model routes replace it at merge.
* ``POST /events`` is the real ingestion app (``liveml.monitoring.create_events_app``) storing into a
  local folder, exactly as ``uvicorn --factory liveml.monitoring:create_events_app`` serves it.

Usage: ``python tests/unity/e2e_server.py MODEL_DIR VERSION PORT EVENTS_FOLDER API_KEY``
"""

from __future__ import annotations

import json
import re
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from liveml.monitoring import create_events_app
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


# --- PER-MODEL ADAPTER (replaced by the per-model routes at merge) --------------------------------


_FORWARDED = ("content-type", "x-api-key")


def harness_app(model_dir: Path, version: str, store: Path, api_key: str) -> FastAPI:
    models = load_models(ModelBinding.from_dir(model_dir, model="churn", version=version))
    inner = create_app(models, ServingSettings(capture_sample_rate=0.0))
    ingest = create_events_app(folder=store)
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
    model_dir, version, port, events_folder, key = sys.argv[1:6]
    application = harness_app(Path(model_dir), version, Path(events_folder), key)
    uvicorn.run(application, host="127.0.0.1", port=int(port), log_level="warning")
