"""Model binding: the document, S3 loading with the sha256 chain, A/B routing, presigned URLs, several
models behind one app, sha256-addressed binding documents.

moto stands in for S3 because these are unit tests (no network).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from liveml.binding import Binding, binding_from_env, put_binding, read_binding
from liveml.serving import (
    BindingError,
    IntegrityError,
    ServingSettings,
    assign_variant,
    create_app,
    load_models,
)

BUCKET = "liveml-artifacts"


def _upload(s3: Any, model_dir: Path, prefix: str) -> str:
    for path in model_dir.iterdir():
        s3.put_object(Bucket=BUCKET, Key=f"{prefix}{path.name}", Body=path.read_bytes())
    return hashlib.sha256((model_dir / "manifest.json").read_bytes()).hexdigest()


def _binding(versions: list[tuple[str, str, str, int]], salt: str | None = None) -> str:
    doc: dict[str, Any] = {
        "model": "churn",
        "variants": [
            {
                "name": name,
                "version": ver,
                "split_bp": bp,
                "uri": f"s3://{BUCKET}/models/churn/{ver}/",
                "sha256": sha,
            }
            for name, ver, sha, bp in versions
        ],
    }
    if salt:
        doc["experiment"] = {"name": "churn-ab", "salt": salt}
    return json.dumps(doc)


def test_s3_binding_loads_verifies_and_presigns(
    s3: Any, model_dir: Path, tmp_path: Path, features: dict[str, Any]
) -> None:
    sha = _upload(s3, model_dir, "models/churn/3/")
    binding = Binding.from_json(_binding([("default", "3", sha, 10_000)]))
    models = load_models(binding, cache_dir=tmp_path, s3=s3)
    cache = next(tmp_path.iterdir())
    # At start-up only the manifest and the contract: the ONNX file comes with the first request.
    assert {p.name for p in cache.iterdir()} == {"manifest.json", "contract.yaml"}
    with TestClient(create_app(models, ServingSettings(), s3=s3)) as client:
        assert client.post("/predict", json={"player_id": "p", "features": features}).status_code == 200
        latest = client.get("/models/latest").json()
    downloaded = {p.name for p in cache.iterdir()}
    assert "model.onnx" in downloaded
    assert (
        not {"holdout_reference.npz", "reference_sample.csv", "trials.json"} & downloaded
    )  # only what serves
    assert latest["source"] == "s3" and latest["manifest_sha256"] == sha and "local_path" not in latest
    assert "s3://" not in json.dumps(latest) and str(tmp_path) not in json.dumps(latest)
    assert latest["golden"]["url"].startswith(
        f"https://{BUCKET}.s3.amazonaws.com/models/churn/3/golden_requests"
    )
    assert latest["onnx"]["url"].startswith(f"https://{BUCKET}.s3.amazonaws.com/models/churn/3/model.onnx?")
    assert "Signature" in latest["onnx"]["url"] or "X-Amz-Signature" in latest["onnx"]["url"]
    assert latest["onnx"]["expires_in_s"] == 3600


def test_a_tampered_manifest_or_artifact_is_refused(s3: Any, model_dir: Path, tmp_path: Path) -> None:
    sha = _upload(s3, model_dir, "models/churn/3/")
    wrong = Binding.from_json(_binding([("default", "3", "0" * 64, 10_000)]))
    with pytest.raises(IntegrityError, match=r"manifest\.json"):
        load_models(wrong, cache_dir=tmp_path, s3=s3)
    s3.put_object(Bucket=BUCKET, Key="models/churn/3/model.onnx", Body=b"not the model")
    good = Binding.from_json(_binding([("default", "3", sha, 10_000)]))
    with pytest.raises(IntegrityError, match=r"model\.onnx"):
        load_models(good, cache_dir=tmp_path / "eager", s3=s3, eager=True)
    # Loaded lazily, the tampered file is refused at the first request: a 500 naming no path, never served.
    lazy = load_models(good, cache_dir=tmp_path / "lazy", s3=s3)
    with TestClient(create_app(lazy, ServingSettings(), s3=s3), raise_server_exceptions=False) as client:
        answer = client.post("/predict", json={"player_id": "p", "features": {}})
        assert answer.status_code == 422  # validation comes first
        golden = json.loads((model_dir / "golden_requests.json").read_text())["requests"][0]["features"]
        answer = client.post("/predict", json={"player_id": "p", "features": golden})
        assert answer.status_code == 500 and answer.json()["error"] == "internal_error"


def test_ab_binding_assigns_players_stickily(
    s3: Any, model_dir: Path, tmp_path: Path, features: dict[str, Any]
) -> None:
    sha3 = _upload(s3, model_dir, "models/churn/3/")
    sha4 = _upload(s3, model_dir, "models/churn/4/")
    binding = Binding.from_json(_binding([("A", "3", sha3, 7000), ("B", "4", sha4, 3000)], salt="s1"))
    models = load_models(binding, cache_dir=tmp_path, s3=s3)
    seen: Counter[str] = Counter()
    with TestClient(create_app(models, ServingSettings(), s3=s3)) as client:
        for i in range(60):
            player = f"player-{i}"
            out = client.post("/predict", json={"player_id": player, "features": features}).json()
            expected = assign_variant("s1", player, [("A", 7000), ("B", 3000)])
            assert out["variant"] == expected
            assert out["model_version"] == {"A": "3", "B": "4"}[expected]
            again = client.post("/predict", json={"player_id": player, "features": features}).json()
            assert again["variant"] == out["variant"]  # sticky
            seen[out["variant"]] += 1
        rows = [{"player_id": f"player-{i}", "features": features} for i in range(5)]
        batch = client.post("/predict/batch", json={"rows": rows}).json()["predictions"]
        assert [p["variant"] for p in batch] == [
            assign_variant("s1", f"player-{i}", [("A", 7000), ("B", 3000)]) for i in range(5)
        ]
        latest = client.get("/models/latest", params={"player_id": "player-0"}).json()
        assert latest["variant"] == assign_variant("s1", "player-0", [("A", 7000), ("B", 3000)])
        health = client.get("/health").json()
        assert health["versions"] == {"A": "3", "B": "4"} and health["experiment"] == "churn-ab"
    assert seen["A"] and seen["B"]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("{", "Invalid JSON"),
        ('{"model": "m", "variants": []}', "variants"),
        ('{"model": "m", "variants": [{"version": "1", "uri": "s3://b/p/"}]}', "sha256"),
        (
            '{"model": "m", "variants": [{"name": "A", "version": "1", "uri": "/x"},'
            ' {"name": "B", "version": "2", "uri": "/y"}]}',
            "experiment",
        ),
        (
            '{"model": "m", "experiment": {"name": "e", "salt": "s"}, "variants": ['
            '{"name": "A", "version": "1", "uri": "/x", "split_bp": 6000},'
            ' {"name": "B", "version": "2", "uri": "/y", "split_bp": 3000}]}',
            "10000",
        ),
    ],
)
def test_bad_bindings_are_named(text: str, needle: str) -> None:
    with pytest.raises(BindingError, match=needle):
        Binding.from_json(text)


def test_binding_from_env(model_dir: Path) -> None:
    with pytest.raises(BindingError, match="LIVEML_MODEL_BINDING"):
        binding_from_env({})
    b = binding_from_env({"LIVEML_MODEL_DIR": str(model_dir), "LIVEML_MODEL_VERSION": "9"}).models[0]
    assert b.variants[0].version == "9" and b.variants[0].uri == str(model_dir.resolve())


def _two_models(s3: Any, model_dir: Path, default: str | None = None) -> Binding:
    """churn v3 and ltv v1 (the same trained files under two names: what matters here is routing)."""
    churn = json.loads(_binding([("default", "3", _upload(s3, model_dir, "models/churn/3/"), 10_000)]))
    sha = _upload(s3, model_dir, "models/ltv/1/")
    ltv = {
        "model": "ltv",
        "variants": [{"version": "1", "uri": f"s3://{BUCKET}/models/ltv/1/", "sha256": sha}],
    }
    return Binding.model_validate({"models": [churn, ltv], "default_model": default})


def test_binding_documents_are_addressed_by_their_sha256(s3: Any, model_dir: Path) -> None:
    doc = _two_models(s3, model_dir, default="churn")
    pointer = put_binding(doc, BUCKET, s3=s3)
    assert pointer == f"s3://{BUCKET}/bindings/{doc.sha256}.json"
    assert read_binding(pointer, s3=s3) == doc
    assert binding_from_env({"LIVEML_MODEL_BINDING": pointer}, s3=s3) == doc
    # Same content, same address; a changed object is refused, whatever it holds.
    assert put_binding(Binding.model_validate_json(doc.canonical()), BUCKET, s3=s3) == pointer
    s3.put_object(Bucket=BUCKET, Key=f"bindings/{doc.sha256}.json", Body=doc.canonical().replace(b"3", b"4"))
    with pytest.raises(BindingError, match="differs from the one in its name"):
        read_binding(pointer, s3=s3)
    with pytest.raises(BindingError, match="neither"):
        read_binding(f"s3://{BUCKET}/bindings/latest.json", s3=s3)
    with pytest.raises(BindingError, match="cannot read"):
        read_binding(f"s3://{BUCKET}/bindings/{'0' * 64}.json", s3=s3)


def test_a_document_keeps_other_models_when_one_changes(s3: Any, model_dir: Path) -> None:
    doc = _two_models(s3, model_dir)
    assert doc.default is None and Binding.one(doc.models[0]).default == "churn"
    ltv2 = doc.models[1].model_copy(
        update={"variants": [doc.models[1].variants[0].model_copy(update={"version": "2"})]}
    )
    changed = doc.with_model(ltv2)
    assert changed.get("churn") == doc.get("churn") and changed.get("ltv") == ltv2
    assert changed.sha256 != doc.sha256 and changed.names == ["churn", "ltv"]
    with pytest.raises(BindingError, match="once"):
        Binding.from_json(json.dumps({"models": [json.loads(doc.models[0].model_dump_json())] * 2}))
    with pytest.raises(BindingError, match="default_model"):
        Binding.from_json(json.dumps({**json.loads(doc.canonical()), "default_model": "x"}))


def test_two_models_answer_on_their_own_routes(
    s3: Any, model_dir: Path, tmp_path: Path, features: dict[str, Any]
) -> None:
    models = load_models(_two_models(s3, model_dir), cache_dir=tmp_path, s3=s3)
    assert not any(v.loaded for m in models for v in m.variants)  # nothing opened before a request
    body = {"player_id": "p", "features": features}
    with TestClient(create_app(models, ServingSettings(), s3=s3)) as client:
        churn = client.post("/models/churn/predict", json=body).json()
        assert churn["model"] == "churn" and churn["model_version"] == "3"
        assert models.get("churn").primary.loaded and not models.get("ltv").primary.loaded
        ltv = client.post("/models/ltv/predict/batch", json={"rows": [body]}).json()["predictions"][0]
        assert ltv["model"] == "ltv" and ltv["model_version"] == "1"
        assert client.get("/models/ltv/latest").json()["version"] == "1"
        served = client.get("/models").json()
        compact = (model_dir / "model.compact.json").exists()
        assert [(m["model"], m["version"], m["on_device"]) for m in served["models"]] == [
            ("churn", "3", compact),
            ("ltv", "1", compact),
        ]
        assert served["default_model"] is None
        # No default among two: the model-less routes say which models there are.
        for path in ("/predict", "/models/nope/predict", "/models/nope/predict/batch"):
            missing = client.post(path, json=body)
            assert missing.status_code == 404, path
            assert (
                "churn, ltv" in missing.json()["message"] and missing.json()["fields"][0]["field"] == "model"
            )
        assert client.get("/models/nope/latest").status_code == 404
        assert client.get("/models/latest").status_code == 404
        # Bad input to one model is that model's 422, naming the field.
        bad = client.post(
            "/models/ltv/predict", json={"player_id": "p", "features": {**features, "level": "x"}}
        )
        assert bad.status_code == 422 and "features.level" in bad.json()["message"]
        schemas = client.get("/openapi.json").json()["components"]["schemas"]
        assert {"ChurnPredictRequest", "LtvPredictRequest"} <= set(schemas)
        health = client.get("/health").json()
        assert health["models"] == {"churn": {"default": "3"}, "ltv": {"default": "1"}}


def test_a_named_default_model_keeps_the_old_routes(
    s3: Any, model_dir: Path, tmp_path: Path, features: dict[str, Any]
) -> None:
    models = load_models(_two_models(s3, model_dir, default="ltv"), cache_dir=tmp_path, s3=s3)
    with TestClient(create_app(models, ServingSettings(), s3=s3)) as client:
        out = client.post("/predict", json={"player_id": "p", "features": features}).json()
        assert out["model"] == "ltv"
        assert client.get("/models/latest").json()["model"] == "ltv"
