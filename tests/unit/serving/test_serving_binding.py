"""Model binding: the JSON format, S3 loading with the sha256 chain, A/B routing, presigned URLs.

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

from liveml.serving import (
    BindingError,
    IntegrityError,
    ModelBinding,
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
    binding = ModelBinding.from_json(_binding([("default", "3", sha, 10_000)]))
    models = load_models(binding, cache_dir=tmp_path, s3=s3)
    downloaded = {p.name for p in next(tmp_path.iterdir()).iterdir()}
    assert "model.onnx" in downloaded and "manifest.json" in downloaded
    assert (
        not {"holdout_reference.npz", "reference_sample.csv", "trials.json"} & downloaded
    )  # only what serves
    with TestClient(create_app(models, ServingSettings(), s3=s3)) as client:
        assert client.post("/predict", json={"player_id": "p", "features": features}).status_code == 200
        latest = client.get("/models/latest").json()
    assert latest["source"] == "s3" and latest["manifest_sha256"] == sha and latest["local_path"] is None
    assert latest["onnx"]["url"].startswith(f"https://{BUCKET}.s3.amazonaws.com/models/churn/3/model.onnx?")
    assert "Signature" in latest["onnx"]["url"] or "X-Amz-Signature" in latest["onnx"]["url"]
    assert latest["onnx"]["expires_in_s"] == 3600


def test_a_tampered_manifest_or_artifact_is_refused(s3: Any, model_dir: Path, tmp_path: Path) -> None:
    sha = _upload(s3, model_dir, "models/churn/3/")
    wrong = ModelBinding.from_json(_binding([("default", "3", "0" * 64, 10_000)]))
    with pytest.raises(IntegrityError, match=r"manifest\.json"):
        load_models(wrong, cache_dir=tmp_path, s3=s3)
    s3.put_object(Bucket=BUCKET, Key="models/churn/3/model.onnx", Body=b"not the model")
    with pytest.raises(IntegrityError, match=r"model\.onnx"):
        load_models(
            ModelBinding.from_json(_binding([("default", "3", sha, 10_000)])), cache_dir=tmp_path, s3=s3
        )


def test_ab_binding_assigns_players_stickily(
    s3: Any, model_dir: Path, tmp_path: Path, features: dict[str, Any]
) -> None:
    sha3 = _upload(s3, model_dir, "models/churn/3/")
    sha4 = _upload(s3, model_dir, "models/churn/4/")
    binding = ModelBinding.from_json(_binding([("A", "3", sha3, 7000), ("B", "4", sha4, 3000)], salt="s1"))
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
        ModelBinding.from_json(text)


def test_binding_from_env(model_dir: Path) -> None:
    with pytest.raises(BindingError, match="LIVEML_MODEL_BINDING"):
        ModelBinding.from_env({})
    b = ModelBinding.from_env({"LIVEML_MODEL_DIR": str(model_dir), "LIVEML_MODEL_VERSION": "9"})
    assert b.variants[0].version == "9" and b.variants[0].uri == str(model_dir.resolve())
