"""The API through FastAPI's TestClient: answers, the generated schema, and every kind of bad request."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from liveml.binding import ModelBinding
from liveml.serving import ServingModels, ServingSettings, create_app, load_models


def test_predict_answers_like_the_golden_requests(client: TestClient, golden: dict[str, Any]) -> None:
    for i, req in enumerate(golden["requests"]):
        r = client.post("/predict", json={"player_id": f"p{i}", "features": req["features"]})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["model_version"] == "3" and body["variant"] == "default" and body["player_id"] == f"p{i}"
        assert body["prediction"] == req["expected"]["label"]
        for label, p in req["expected"]["probabilities"].items():
            assert body["probabilities"][label] == pytest.approx(p, abs=1e-5)
        assert body["confidence"] == pytest.approx(max(body["probabilities"].values()))
        assert r.headers["x-correlation-id"]


def test_batch_keeps_row_order(client: TestClient, golden: dict[str, Any]) -> None:
    rows = [{"player_id": f"p{i}", "features": q["features"]} for i, q in enumerate(golden["requests"])]
    r = client.post("/predict/batch", json={"rows": rows})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["count"] == len(rows)
    assert [p["player_id"] for p in out["predictions"]] == [row["player_id"] for row in rows]
    assert [p["prediction"] for p in out["predictions"]] == [
        q["expected"]["label"] for q in golden["requests"]
    ]


def test_health_and_latest_model(client: TestClient, models: ServingModels) -> None:
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["model_loaded"] and health["version"] == "3"
    assert health["uptime_s"] >= 0
    latest = client.get("/models/latest").json()
    assert latest["source"] == "local" and "local_path" not in latest  # no URL, and no path revealed
    assert latest["onnx"]["url"] is None and len(latest["sha256"]) == 64
    assert latest["feature_order"] == models.get("churn").contract.feature_names


def test_latest_refuses_a_player_id_that_predict_would_refuse(client: TestClient) -> None:
    assert client.get("/models/latest", params={"player_id": "p-1"}).status_code == 200
    for bad in ("a\u202eb", "tag\U000e0041", "x" * 129, ""):
        r = client.get("/models/latest", params={"player_id": bad})
        assert r.status_code == 422, (bad, r.text)
        assert "player_id" in r.text
        predict = client.post("/predict", json={"player_id": bad, "features": {}})
        assert predict.status_code == 422 and "player_id" in predict.text


def test_openapi_names_every_feature_with_type_range_and_categories(
    client: TestClient, models: ServingModels
) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    features = next(s for name, s in schemas.items() if name.endswith("Features"))
    props = features["properties"]
    for col in models.get("churn").contract.features:
        assert col.name in props, col.name
    level = props["level"]
    assert level["type"] == "integer" and level["minimum"] == 1 and level["maximum"] == 100
    assert props["device"]["enum"] == models.get("churn").contract.column("device").categories
    assert features["additionalProperties"] is False
    assert set(features["required"]) == {
        c.name for c in models.get("churn").contract.features if not c.nullable
    }


def _bad(features: dict[str, Any], **change: Any) -> dict[str, Any]:
    out = dict(features)
    for key, value in change.items():
        if value is _DROP:
            out.pop(key)
        else:
            out[key] = value
    return {"player_id": "p1", "features": out}


_DROP = object()


@pytest.mark.parametrize(
    ("change", "field", "status"),
    [
        ({"level": _DROP}, "features.level", 422),  # missing field
        ({"level": "high"}, "features.level", 422),  # wrong type
        ({"spend_30d": "12"}, "features.spend_30d", 422),  # a string is not a number
        ({"level": 1000}, "features.level", 422),  # out of range
        ({"level": 4.5}, "features.level", 422),  # not a whole number
        ({"device": "gameboy"}, "features.device", 422),  # unknown category
        ({"favourite_colour": "red"}, "features.favourite_colour", 422),  # extra field
        ({"signup_date": "yesterday"}, "features.signup_date", 422),  # not a datetime
        ({"signup_date": "0"}, "features.signup_date", 422),  # pydantic alone reads this as epoch 0
        ({"signup_date": 1700000000}, "features.signup_date", 422),  # epoch seconds: not the schema's format
        ({"signup_date": "2024-06-30T01:20:49"}, "features.signup_date", 422),  # no offset
    ],
)
def test_bad_feature_is_a_4xx_naming_the_field(
    client: TestClient, features: dict[str, Any], change: dict[str, Any], field: str, status: int
) -> None:
    r = client.post("/predict", json=_bad(features, **change))
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error"] == "validation_error"
    assert field in body["message"]
    assert field in [f["field"] for f in body["fields"]]
    assert "Traceback" not in r.text


@pytest.mark.parametrize(
    ("content", "status", "needle"),
    [
        (b"", 422, "empty body"),
        (b"{not json", 400, "invalid JSON"),
        (b"[1, 2]", 422, "expected a JSON object"),
        (b'{"features": {}}', 422, "player_id"),
        (b'{"player_id": "", "features": {}}', 422, "player_id"),
    ],
)
def test_malformed_bodies(client: TestClient, content: bytes, status: int, needle: str) -> None:
    r = client.post("/predict", content=content, headers={"content-type": "application/json"})
    assert r.status_code == status, r.text
    assert needle in r.json()["message"]


def test_extra_top_level_field(client: TestClient, features: dict[str, Any]) -> None:
    r = client.post("/predict", json={"player_id": "p", "features": features, "debug": True})
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "debug"


def test_too_many_rows_names_the_limit(client: TestClient, features: dict[str, Any]) -> None:
    rows = [{"player_id": f"p{i}", "features": features} for i in range(6)]
    r = client.post("/predict/batch", json={"rows": rows})
    assert r.status_code == 422
    assert r.json()["message"] == "rows: at most 5 rows per batch, got 6"


def test_oversized_body_is_413(client: TestClient, features: dict[str, Any]) -> None:
    big = {"player_id": "p", "features": {**features, "feedback": "x" * 30_000}}
    r = client.post("/predict", content=json.dumps(big), headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert "20000 bytes" in r.json()["message"]


def test_oversized_chunked_body_is_413(client: TestClient) -> None:
    def chunks() -> Any:
        for _ in range(30):
            yield b"x" * 1000

    r = client.post("/predict", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_unknown_route_and_method(client: TestClient) -> None:
    assert client.get("/nope").json()["error"] == "not_found"
    assert client.get("/predict").status_code == 405


def test_correlation_id_is_echoed(client: TestClient) -> None:
    r = client.get("/health", headers={"x-correlation-id": "abc-123"})
    assert r.headers["x-correlation-id"] == "abc-123"


def test_model_failure_is_a_500_without_a_trace(model_dir: Path, features: dict[str, Any]) -> None:
    class Broken:
        def predict(self, rows: Any) -> Any:
            raise RuntimeError("session exploded")

    broken = load_models(ModelBinding.from_dir(model_dir, model="churn", version="3"))
    broken.get("churn").primary._predictor = Broken()
    with TestClient(create_app(broken, ServingSettings()), raise_server_exceptions=False) as c:
        r = c.post("/predict", json={"player_id": "p", "features": features})
    assert r.status_code == 500
    assert r.json()["error"] == "internal_error" and "exploded" not in r.text
