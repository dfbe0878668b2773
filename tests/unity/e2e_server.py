"""The server of the Unity end-to-end test: the real serving app (``liveml.serving.create_app`` over a
trained model directory) under uvicorn on 127.0.0.1, behind API Gateway's key check, with one stand-in
for what only a deployed stack has:

* ``S3 STAND-IN``: a model served from a local directory has no presigned URLs, so ``latest``'s
  compact and golden links point at ``/files/…``, which serves those two files as S3 would.
* ``POST /events`` is the real ingestion app (``liveml.monitoring.create_events_app``) storing into a
  local folder, exactly as ``uvicorn --factory liveml.monitoring:create_events_app`` serves it.

Usage: ``python tests/unity/e2e_server.py MODEL_DIR VERSION PORT EVENTS_FOLDER API_KEY``
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from liveml.monitoring import create_events_app
from liveml.serving import ModelBinding, ServingSettings, create_app, load_models

# --- S3 STAND-IN: a local model directory has no presigned URLs; /files/ serves what S3 would --------


def harness_app(model_dir: Path, version: str, store: Path, api_key: str) -> FastAPI:
    models = load_models(ModelBinding.from_dir(model_dir, model="churn", version=version))
    inner = create_app(models, ServingSettings(capture_sample_rate=0.0))
    ingest = create_events_app(folder=store)
    app = FastAPI()

    async def forward(target: FastAPI, request: Request) -> Response:
        transport = httpx.ASGITransport(app=target)
        async with httpx.AsyncClient(transport=transport, base_url="http://inner") as client:
            r = await client.request(
                request.method,
                request.url.path,
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

    @app.get("/models/{model}/latest")
    async def latest(model: str, request: Request) -> Response:
        answer = await forward(inner, request)
        if answer.status_code != 200:
            return answer
        doc = json.loads(bytes(answer.body))
        base = str(request.base_url).rstrip("/")
        for key, name in (("compact", "model.compact.json"), ("golden", "golden_requests.json")):
            if doc.get(key):
                doc[key]["url"] = f"{base}/files/{version}/{name}"
        return JSONResponse(doc)

    @app.get("/files/{file_version}/{name}")
    async def files(file_version: str, name: str) -> Response:
        if file_version != version or name not in ("model.compact.json", "golden_requests.json"):
            return JSONResponse({"error": "not_found", "message": "no such file"}, status_code=404)
        return Response((model_dir / name).read_bytes(), media_type="application/json")

    @app.post("/events")
    async def events(request: Request) -> Response:
        return await forward(ingest, request)

    @app.api_route("/{path:path}", methods=["GET", "POST"])
    async def everything_else(path: str, request: Request) -> Response:
        return await forward(inner, request)

    return app


if __name__ == "__main__":
    model_dir, version, port, events_folder, key = sys.argv[1:6]
    application = harness_app(Path(model_dir), version, Path(events_folder), key)
    uvicorn.run(application, host="127.0.0.1", port=int(port), log_level="warning")
