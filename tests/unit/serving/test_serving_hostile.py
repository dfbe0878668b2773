"""No client can make the API answer 5xx (a 500 counts against a canary's health): the hostile corpus of
``benchmarks/hostile.py`` in-process, and each hardening where it lives."""

from __future__ import annotations

import importlib.util
import json
import logging
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from liveml.binding import ModelBinding
from liveml.contract import ColumnType
from liveml.serving import ServingModels, ServingSettings, create_app, load_models
from liveml.serving.app import create_unavailable_app
from liveml.serving.http import redact

ROOT = Path(__file__).resolve().parents[3]
BODY_LIMIT = 1_048_576


def _benchmark() -> Any:
    spec = importlib.util.spec_from_file_location("hostile_benchmark", ROOT / "benchmarks" / "hostile.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def unbounded(tmp_path_factory: pytest.TempPathFactory) -> ServingModels:
    """A real model whose contract bounds numbers below only (as ``contract infer`` writes them)."""
    directory = _benchmark().model_dir(tmp_path_factory.mktemp("unbounded"))
    return load_models(ModelBinding.from_dir(directory, model="churn", version="3"))


@pytest.fixture
def big_client(unbounded: ServingModels) -> Any:
    """That model with the deployed body limit, so deep nesting reaches the JSON parser."""
    app = create_app(unbounded, ServingSettings(max_body_bytes=BODY_LIMIT, capture_sample_rate=0.0))
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _numeric(models: ServingModels) -> list[str]:
    features = models.get("churn").contract.features
    return [c.name for c in features if c.type in (ColumnType.NUMERIC, ColumnType.INTEGER)]


def test_the_hostile_corpus_gets_no_5xx(
    big_client: TestClient, unbounded: ServingModels, features: dict[str, Any]
) -> None:
    hostile = _benchmark()
    corpus = hostile.corpus(features, _numeric(unbounded), "churn", BODY_LIMIT)
    assert len(corpus) > 150
    answers = {}
    for item in corpus:
        r = big_client.request(item.method, item.path, content=item.body, headers=item.wire_headers())
        answers[item.name] = r.status_code
        assert r.status_code < 500, f"{item.name}: {r.status_code} {r.text[:300]}"
        if r.status_code >= 400 and item.method != "HEAD":
            assert r.json()["error"] and "Traceback" not in r.text
    assert {400, 404, 405, 413, 415, 422} <= set(answers.values())
    # Inputs float32 holds that the model turns into NaN (they were a 500): a 422.
    assert answers["all numeric 3.4e38"] == 422 and answers["batch with 3.4e38"] == 422
    # Still serving, with the same answer, after all that.
    ok = big_client.post("/predict", json={"player_id": "p", "features": features})
    assert ok.status_code == 200


@pytest.mark.parametrize("literal", ["1" + "0" * 400, "-1" + "0" * 400, "1e39", "-3.5e38"])
def test_a_number_float32_cannot_hold_is_a_422_naming_the_field(
    big_client: TestClient, unbounded: ServingModels, features: dict[str, Any], literal: str
) -> None:
    for column in _numeric(unbounded):
        r = big_client.post("/predict", content=_benchmark()._with(features, column, literal), headers=_JSON)
        assert r.status_code == 422, (column, r.text)
        assert f"features.{column}" in [f["field"] for f in r.json()["fields"]]


_JSON = {"content-type": "application/json"}


def test_nan_literals_are_422(
    big_client: TestClient, unbounded: ServingModels, features: dict[str, Any]
) -> None:
    column = _numeric(unbounded)[0]
    for literal in ("NaN", "Infinity", "-Infinity", "1e999"):
        r = big_client.post("/predict", content=_benchmark()._with(features, column, literal), headers=_JSON)
        assert r.status_code == 422, r.text
        assert f"features.{column}" in r.json()["message"]


def test_a_non_finite_output_is_a_422_naming_the_row(
    big_client: TestClient, unbounded: ServingModels, features: dict[str, Any]
) -> None:
    """Inputs inside float32 that the model still turns into NaN: 422, not an encoding 500."""

    class NaNModel:
        def predict(self, rows: Any) -> Any:
            from liveml.inference.onnx_model import Prediction

            return [Prediction(label="x", probabilities={"a": float("nan")}, confidence=float("nan"))] * len(
                rows
            )

    served = unbounded.get("churn").primary
    real = served._predictor
    served._predictor = NaNModel()
    try:
        one = big_client.post("/predict", json={"player_id": "p", "features": features})
        rows = [{"player_id": "p", "features": features}] * 2
        batch = big_client.post("/predict/batch", json={"rows": rows})
    finally:
        served._predictor = real
    assert one.status_code == 422 and one.json()["fields"][0]["field"] == "features", one.text
    assert batch.status_code == 422 and batch.json()["fields"][0]["field"] == "rows.0.features", batch.text


@pytest.mark.parametrize(
    "player_id",
    ["p\u202eevil", "a\u2066b", "p\x00", "p\nx", "\x1b[2J", "p\u200f", "p\u200bx", "\u2028", "é\x85"],
)
def test_player_id_refuses_control_and_bidi_characters(
    big_client: TestClient, features: dict[str, Any], player_id: str
) -> None:
    r = big_client.post("/predict", json={"player_id": player_id, "features": features})
    assert r.status_code == 422, r.text
    assert r.json()["fields"][0]["field"] == "player_id"
    assert "control, format or bidi characters (found U+" in r.json()["message"]


def test_unicode_player_ids_are_still_fine(big_client: TestClient, features: dict[str, Any]) -> None:
    for player_id in ("Ünïcødé-プレイヤー", "emoji-🎮", "a b"):
        r = big_client.post("/predict", json={"player_id": player_id, "features": features})
        assert r.status_code == 200 and r.json()["player_id"] == player_id


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "application/xml"]
)
def test_a_body_not_declared_json_is_415(
    big_client: TestClient, features: dict[str, Any], content_type: str | None
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    body = json.dumps({"player_id": "p", "features": features}).encode()
    r = big_client.post("/predict/batch", content=body, headers=headers)
    assert r.status_code == 415, r.text
    assert r.json()["error"] == "unsupported_media_type" and "application/json" in r.json()["message"]
    assert r.json()["fields"][0]["field"] == "Content-Type"
    # Other routes do not care: a GET with an odd content type is still answered.
    assert big_client.get("/health", headers={"content-type": "text/plain"}).status_code == 200
    ok = big_client.post(
        "/predict", content=body, headers={"content-type": "application/json; charset=utf-8"}
    )
    assert ok.status_code == 200


def test_docs_pages_are_off_but_the_openapi_document_stays(models: ServingModels) -> None:
    with TestClient(create_app(models, ServingSettings()), raise_server_exceptions=False) as c:
        assert c.get("/docs").status_code == 404 and c.get("/redoc").status_code == 404
        assert c.get("/openapi.json").status_code == 200
    with TestClient(create_app(models, ServingSettings(api_docs=True))) as c:
        assert c.get("/docs").status_code == 200


def test_api_docs_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIVEML_API_DOCS", "true")
    assert ServingSettings().api_docs
    monkeypatch.setenv("LIVEML_API_DOCS", "0")
    assert not ServingSettings().api_docs


def test_the_503_reason_hides_keys_and_paths(caplog: pytest.LogCaptureFixture) -> None:
    reason = (
        "cannot read s3://liveml-artifacts/models/churn/v3/manifest.json: AccessDenied; /tmp/liveml-models/x"
    )
    with TestClient(create_unavailable_app(reason)) as c:
        r = c.get("/health")
    assert r.status_code == 503
    assert "liveml-artifacts" not in r.text and "/tmp/" not in r.text and "AccessDenied" in r.text
    assert redact("LIVEML_MODEL_BINDING is not set") == "LIVEML_MODEL_BINDING is not set"


def test_a_model_that_cannot_load_hides_where_it_is(
    model_dir: Path, features: dict[str, Any], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import shutil

    copy = tmp_path / "churn"
    shutil.copytree(model_dir, copy)
    served = load_models(ModelBinding.from_dir(copy, model="churn", version="3"))
    (copy / "model.onnx").write_bytes(b"tampered")  # the sha256 check refuses it on first use
    with caplog.at_level(logging.ERROR), TestClient(create_app(served, ServingSettings())) as c:
        r = c.post("/predict", json={"player_id": "p", "features": features})
    assert r.status_code == 500 and "cannot be loaded" in r.json()["message"]
    assert str(tmp_path) not in r.text
    assert str(copy) in caplog.text  # the log keeps where, for the operator


def test_latest_reveals_no_paths(big_client: TestClient, tmp_path_factory: pytest.TempPathFactory) -> None:
    r = big_client.get("/models/latest")
    assert (
        r.status_code == 200 and str(tmp_path_factory.getbasetemp()) not in r.text and "s3://" not in r.text
    )
