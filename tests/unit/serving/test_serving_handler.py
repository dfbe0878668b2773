"""The Lambda handler (functions/predict/app.py) end to end with stored API Gateway (REST, v1) events."""

from __future__ import annotations

import importlib.util
import json
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from aws_lambda_powertools.metrics.provider import cold_start

from liveml.localcloud.bootstrap import LambdaContext

HANDLER = Path(__file__).resolve().parents[3] / "functions" / "predict" / "app.py"


def context() -> LambdaContext:
    arn = "arn:aws:lambda:us-east-1:123456789012:function:liveml-predict:live"
    return LambdaContext("req-1", arn, time.time() + 10, function_name="liveml-predict", function_version="7")


def _import_handler(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, HANDLER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def predict_fn(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    monkeypatch.delenv("LIVEML_MODEL_BINDING", raising=False)
    monkeypatch.setenv("LIVEML_MODEL_DIR", str(model_dir))
    monkeypatch.setenv("LIVEML_MODEL_NAME", "churn")
    monkeypatch.setenv("LIVEML_MODEL_VERSION", "7")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "LiveML")
    # A fresh import is a fresh sandbox: powertools keeps "cold start" per process, and other handlers'
    # tests in this session have already spent it.
    monkeypatch.setattr(cold_start, "is_cold_start", True)
    previous = signal.getsignal(signal.SIGTERM)
    module = _import_handler("predict_fn_under_test")
    yield module
    signal.signal(signal.SIGTERM, previous)  # the module installs a flush-on-SIGTERM handler
    sys.modules.pop("predict_fn_under_test", None)


def test_predict_event(
    predict_fn: ModuleType, event: Callable[[str], dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    response = predict_fn.handler(event("apigw_predict.json"), context())
    assert response["statusCode"] == 200, response
    body = json.loads(response["body"])
    assert body["player_id"] == "player-42" and body["prediction"] in ("0", "1")
    assert body["model_version"] == "7"
    # API Gateway's request id is the correlation id, in the answer and in the logs.
    assert response["headers"]["x-correlation-id"] == "c0ffee00-0000-4000-8000-000000000001"
    out = capsys.readouterr().out
    emf = [json.loads(line) for line in out.splitlines() if '"_aws"' in line]
    dims = [d for doc in emf for d in doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]]
    assert {"model", "version", "variant"} <= set(dims)
    names = {m["Name"] for doc in emf for m in doc["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert {"Latency", "Predictions", "ColdStart"} <= names
    assert any(n.startswith("PredictedClass_") for n in names)


def test_batch_health_latest_and_bad_events(
    predict_fn: ModuleType, event: Callable[[str], dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    batch = predict_fn.handler(event("apigw_predict_batch.json"), context())
    assert batch["statusCode"] == 200 and json.loads(batch["body"])["count"] == 3
    health = predict_fn.handler(event("apigw_health.json"), context())
    assert health["statusCode"] == 200 and json.loads(health["body"])["model_loaded"] is True
    latest = predict_fn.handler(event("apigw_models_latest.json"), context())
    assert latest["statusCode"] == 200 and json.loads(latest["body"])["source"] == "local"
    capsys.readouterr()
    bad = predict_fn.handler(event("apigw_predict_bad_range.json"), context())
    assert bad["statusCode"] == 422
    assert json.loads(bad["body"])["fields"][0]["field"] == "features.level"
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert any(doc.get("ClientErrors") == [1.0] and doc["version"] == "7" for doc in emf)


def test_unbound_function_answers_503_with_the_reason(
    monkeypatch: pytest.MonkeyPatch, event: Callable[[str], dict[str, Any]]
) -> None:
    monkeypatch.delenv("LIVEML_MODEL_BINDING", raising=False)
    monkeypatch.delenv("LIVEML_MODEL_DIR", raising=False)
    previous = signal.getsignal(signal.SIGTERM)
    try:
        module = _import_handler("predict_fn_unbound")
        response = module.handler(event("apigw_health.json"), context())
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert response["statusCode"] == 503
    assert "LIVEML_MODEL_BINDING" in json.loads(response["body"])["message"]
