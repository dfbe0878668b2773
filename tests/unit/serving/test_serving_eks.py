"""EKS manifests: sizing, kustomize builds of both slots and the live Service, validated against the
Kubernetes schemas (kubernetes-validate, offline), the hardening (digest-pinned image, seccomp, no API
token, NetworkPolicy, liveness apart from readiness, topology spread, IRSA trust for both slots), the
render from a registered version (moto stands in for S3 and DynamoDB: unit tests, no LocalStack) and
the blue/green switch."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import boto3
import kubernetes_validate
import pytest
import yaml
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from liveml.cli.eks import app as eks_app
from liveml.eks import ImageNotPinnedError, Measurement, pinned_image, selector_patch, size, write_tree
from liveml.modeldir import MANIFEST, sha256_hex
from liveml.registry import (
    ModelVersion,
    RecordingPublisher,
    Registry,
    VersionNotFoundError,
)
from tests.unit.aws import create_registry_table, register_model_dir

K8S_VERSION = "1.32"
ROOT = Path(__file__).resolve().parents[3]
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/liveml-predict@sha256:" + "ab" * 32
OIDC = "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
BUCKET, TABLE = "liveml-artifacts", "registry"


def _validate(docs: list[dict[str, Any]]) -> None:
    for doc in docs:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def _build(directory: Path) -> list[dict[str, Any]]:
    """``kubectl kustomize`` when available (it is offline); the raw files otherwise."""
    if shutil.which("kubectl"):
        out = subprocess.run(
            ["kubectl", "kustomize", str(directory)], capture_output=True, text=True, check=True
        )
        return [d for d in yaml.safe_load_all(out.stdout) if d]
    return [
        d
        for f in sorted(directory.glob("*.yaml"))
        if f.name != "kustomization.yaml"
        for d in yaml.safe_load_all(f.read_text())
        if d
    ]


def test_sizing_follows_qps_and_measured_cost() -> None:
    m = Measurement(cpu_ms_per_request=0.75, p99_ms=2.0, rss_mb=120.0, requests=100)
    small, big = size(m, 10), size(m, 5000)
    assert small.replicas == 2  # never fewer than 2: the PDB keeps one up
    assert big.replicas == 9 and big.hpa_max >= 3 * 5000 * 1.0 / 600  # 600 req/s per pod at 60%
    assert small.cpu_request_m < big.cpu_request_m <= 1000
    assert big.memory_request_mi >= 150 and big.memory_limit_mi > big.memory_request_mi
    with pytest.raises(ValueError):
        size(m, 0)


def _render_both_slots(out: Path) -> None:
    m = Measurement(cpu_ms_per_request=0.5, p99_ms=1.0, rss_mb=90.0, requests=100)
    for slot, version in (("blue", "3"), ("green", "4")):
        binding = json.dumps(
            {"model": "churn", "variants": [{"version": version, "uri": "s3://b/m/", "sha256": "0" * 64}]}
        )
        write_tree(
            out,
            size(m, 300),
            slot=slot,
            binding_json=binding,
            image=IMAGE,
            role_arn="arn:aws:iam::123456789012:role/r",
            namespace="liveml",
            oidc_provider=OIDC,
        )


def _container(docs: list[dict[str, Any]]) -> dict[str, Any]:
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    container: dict[str, Any] = deployment["spec"]["template"]["spec"]["containers"][0]
    return container


def _bound(container: dict[str, Any]) -> list[Any]:
    """The variants the container's binding document serves (its one model)."""
    from liveml.binding import Binding

    env = {e["name"]: e["value"] for e in container["env"]}
    (model,) = Binding.from_json(env["LIVEML_MODEL_BINDING"]).models
    return list(model.variants)


def _check_hardened(docs: list[dict[str, Any]], slot: str) -> None:
    """What every rendered slot must carry, whoever rendered it."""
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert "@sha256:" in container["image"]
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    assert pod["serviceAccountName"] == f"liveml-predict-{slot}"
    assert {c["topologyKey"] for c in pod["topologySpreadConstraints"]} == {
        "topology.kubernetes.io/zone",
        "kubernetes.io/hostname",
    }
    # A pod without a model is unready (/health fails), not restarted (/livez still answers).
    assert container["readinessProbe"]["httpGet"]["path"] == "/health"
    assert container["livenessProbe"]["httpGet"]["path"] == "/livez"
    assert container["startupProbe"]["httpGet"]["path"] == "/livez"
    account = next(d for d in docs if d["kind"] == "ServiceAccount")
    assert account["automountServiceAccountToken"] is False
    assert account["metadata"]["name"] == f"liveml-predict-{slot}"
    policy = next(d for d in docs if d["kind"] == "NetworkPolicy")["spec"]
    assert policy["policyTypes"] == ["Ingress", "Egress"]  # both listed: the rest is denied
    assert policy["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == "liveml-predict"
    serving_port = container["ports"][0]["containerPort"]
    assert [p["port"] for r in policy["ingress"] for p in r["ports"]] == [serving_port]
    assert sorted(p["port"] for r in policy["egress"] for p in r["ports"]) == [53, 53, 443]


def test_rendered_slots_and_live_service_are_valid_kubernetes(tmp_path: Path) -> None:
    _render_both_slots(tmp_path)
    kinds: dict[str, set[str]] = {}
    for slot in ("blue", "green"):
        docs = _build(tmp_path / "overlays" / slot)
        _validate(docs)
        _check_hardened(docs, slot)
        kinds[slot] = {d["kind"] for d in docs}
        deployment = next(d for d in docs if d["kind"] == "Deployment")
        assert deployment["metadata"]["name"] == f"liveml-predict-{slot}"
        assert deployment["spec"]["selector"]["matchLabels"]["liveml.io/slot"] == slot
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert container["image"] == IMAGE
        assert container["resources"]["requests"]["cpu"].endswith("m")
        env = {e["name"]: e["value"] for e in container["env"]}
        assert (
            json.loads(env["LIVEML_MODEL_BINDING"])["variants"][0]["version"]
            == {"blue": "3", "green": "4"}[slot]
        )
        account = next(d for d in docs if d["kind"] == "ServiceAccount")
        assert "eks.amazonaws.com/role-arn" in account["metadata"]["annotations"]
        hpa = next(d for d in docs if d["kind"] == "HorizontalPodAutoscaler")
        assert hpa["spec"]["scaleTargetRef"]["name"] == f"liveml-predict-{slot}"
    assert kinds["blue"] == {
        "ServiceAccount",
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "NetworkPolicy",
    }
    live = _build(tmp_path / "live")
    _validate(live)
    assert live[0]["spec"]["selector"]["liveml.io/slot"] == "blue"  # first render decides; switch moves it


def test_the_role_trusts_both_slots_service_accounts_and_nobody_else(tmp_path: Path) -> None:
    _render_both_slots(tmp_path)
    trust = json.loads((tmp_path / "irsa-trust-policy.json").read_text())
    (statement,) = trust["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"]["Federated"] == f"arn:aws:iam::123456789012:oidc-provider/{OIDC}"
    condition = statement["Condition"]["StringEquals"]
    assert condition[f"{OIDC}:aud"] == "sts.amazonaws.com"
    # The names kustomize gives the slots' ServiceAccounts, so either slot's pods may assume the role.
    accounts = {
        f"system:serviceaccount:liveml:{d['metadata']['name']}"
        for slot in ("blue", "green")
        for d in _build(tmp_path / "overlays" / slot)
        if d["kind"] == "ServiceAccount"
    }
    assert set(condition[f"{OIDC}:sub"]) == accounts and len(accounts) == 2


@pytest.mark.parametrize(
    "image",
    ["liveml-predict:latest", "liveml-predict", "repo/x:1@sha256:abc", "repo@sha256:" + "AB" * 32],
)
def test_a_mutable_or_malformed_image_reference_is_refused(image: str, tmp_path: Path) -> None:
    with pytest.raises(ImageNotPinnedError, match="not pinned by digest"):
        pinned_image(image)
    m = Measurement(cpu_ms_per_request=0.5, p99_ms=1.0, rss_mb=90.0, requests=100)
    with pytest.raises(ImageNotPinnedError):
        write_tree(
            tmp_path, size(m, 10), slot="blue", binding_json="{}", image=image,
            role_arn="arn:aws:iam::1:role/r", namespace="liveml", oidc_provider=OIDC,
        )  # fmt: skip
    assert not any(tmp_path.iterdir())  # nothing written
    assert pinned_image("liveml-predict:1@sha256:" + "0f" * 32).endswith("0f" * 32)


def test_liveness_answers_without_a_model_readiness_does_not(model_dir: Path, tmp_path: Path) -> None:
    from liveml.binding import BoundVariant, ModelBinding
    from liveml.serving.runtime import build_runtime

    # What a pod's process builds (liveml.serving.asgi) when its model cannot be loaded: a manifest
    # whose sha256 is not the bound one.
    def bound_to(directory: Path) -> ModelBinding:
        sha = sha256_hex((model_dir / MANIFEST).read_bytes())
        return ModelBinding(
            model="churn", variants=[BoundVariant(version="1", uri=str(directory), sha256=sha)]
        )

    tampered = tmp_path / "churn"
    shutil.copytree(model_dir, tampered)
    (tampered / MANIFEST).write_text((model_dir / MANIFEST).read_text() + "\n")
    wrong, binding = bound_to(tampered), bound_to(model_dir)
    without = TestClient(build_runtime(wrong, metrics_interval_s=0, eager=True).app)
    assert without.get("/livez").json() == {"status": "alive"}
    unready = without.get("/health")
    assert unready.status_code == 503 and "sha256" in unready.json()["message"]
    served = TestClient(build_runtime(binding, strict=True, metrics_interval_s=0, eager=True).app)
    assert served.get("/livez").json() == {"status": "alive"}
    assert served.get("/health").status_code == 200


def test_an_invalid_manifest_is_caught() -> None:
    bad = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "x"},
        "spec": {"replicas": "three", "selector": {}, "template": {}},
    }
    with pytest.raises(kubernetes_validate.ValidationError, match="replicas"):
        _validate([bad])


@pytest.fixture
def registered(model_dir: Path, moto: None, monkeypatch: pytest.MonkeyPatch) -> ModelVersion:
    """``churn`` v1 in a moto registry, its artifacts in a moto bucket."""
    s3 = boto3.client("s3", region_name="us-east-1")
    db = boto3.client("dynamodb", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    create_registry_table(db, TABLE)
    monkeypatch.setenv("LIVEML_REGISTRY_TABLE", TABLE)
    monkeypatch.setenv("LIVEML_ARTIFACTS_BUCKET", BUCKET)
    # The CLI finds the stack through CloudFormation; here the environment above already points at it.
    monkeypatch.setattr("liveml.cli.eks.connect", lambda *_a, **_k: None)
    monkeypatch.setattr("liveml.registry.store.EventBridgePublisher", RecordingPublisher)
    registry = Registry(TABLE, dynamodb=db, publisher=RecordingPublisher())
    return register_model_dir(registry, s3, BUCKET, "churn", model_dir)


def _render(tmp_path: Path, *extra: str) -> Any:
    args = ["render", "--model", "churn", "--qps", "250", "--out", str(tmp_path), "--requests", "100"]
    return CliRunner().invoke(eks_app, [*args, *extra])


def test_cli_render_binds_and_measures_the_registered_version(
    registered: ModelVersion, model_dir: Path, tmp_path: Path
) -> None:
    # No local copy: the artifacts are fetched from the registry (checked against its sha256) and measured.
    result = _render(tmp_path, "--version", "1", "--image", IMAGE, "--slot", "green")
    assert result.exit_code == 0, result.output
    assert "replicas" in result.output and "irsa-trust-policy.json" in result.output
    info = json.loads((tmp_path / "sizing.json").read_text())
    assert info["measurement"]["cpu_ms_per_request"] > 0 and info["measurement"]["rss_mb"] > 30
    docs = _build(tmp_path / "overlays" / "green")
    _validate(docs)
    _check_hardened(docs, "green")
    container = _container(docs)
    assert container["image"] == IMAGE
    (variant,) = _bound(container)
    assert variant.version == "1" and variant.uri == f"s3://{BUCKET}/models/churn/1/"
    assert variant.sha256 == registered.artifacts[MANIFEST].sha256
    assert variant.sha256 == sha256_hex((model_dir / MANIFEST).read_bytes())


def test_cli_render_refusals(registered: ModelVersion, model_dir: Path, tmp_path: Path) -> None:
    mutable = _render(tmp_path, "--version", "1", "--image", "liveml-predict:latest")
    assert isinstance(mutable.exception, ImageNotPinnedError) and "@sha256:" in str(mutable.exception)
    unknown = _render(tmp_path, "--version", "7", "--image", IMAGE)
    assert isinstance(unknown.exception, VersionNotFoundError) and "no version 7" in str(unknown.exception)
    other = _render(tmp_path, "--model", "ltv", "--version", "1", "--image", IMAGE)
    assert isinstance(other.exception, VersionNotFoundError) and "'ltv'" in str(other.exception)
    # A local copy that is not the registered version would size one model and serve another.
    stale = tmp_path / "stale"
    shutil.copytree(model_dir, stale)
    (stale / MANIFEST).write_text((model_dir / MANIFEST).read_text() + "\n")
    mismatch = _render(tmp_path, "--version", "1", "--image", IMAGE, "--model-dir", str(stale))
    assert mismatch.exit_code != 0 and "is not the one registered" in str(mismatch.exception)
    role = _render(tmp_path, "--version", "1", "--image", IMAGE, "--role-arn", "liveml-predict")
    assert "not an IAM role ARN" in str(role.exception)
    assert not (tmp_path / "overlays").exists()  # nothing was written by any of them


def test_switch_prints_the_selector_patch() -> None:
    result = CliRunner().invoke(eks_app, ["switch", "green"])
    assert result.exit_code == 0
    assert json.loads(result.output.splitlines()[0]) == selector_patch("green")
    assert "kubectl -n liveml patch service liveml-predict --type merge -p" in result.output
    assert CliRunner().invoke(eks_app, ["switch", "purple"]).exit_code != 0


def test_committed_eks_tree_is_valid_and_hardened() -> None:
    pinned = {}
    for slot in ("blue", "green"):
        docs = _build(ROOT / "eks" / "overlays" / slot)
        _validate(docs)
        _check_hardened(docs, slot)
        container = _container(docs)
        (variant,) = _bound(container)
        pinned[slot] = (variant.version, variant.sha256)
    # Two versions are two models: each slot pins its own manifest's hash.
    assert pinned["blue"][0] != pinned["green"][0] and pinned["blue"][1] != pinned["green"][1]
    _validate(_build(ROOT / "eks" / "live"))
    trust = json.loads((ROOT / "eks" / "irsa-trust-policy.json").read_text())
    condition = trust["Statement"][0]["Condition"]["StringEquals"]
    (subjects,) = [v for k, v in condition.items() if k.endswith(":sub")]
    assert subjects == [f"system:serviceaccount:liveml:liveml-predict-{slot}" for slot in ("blue", "green")]
