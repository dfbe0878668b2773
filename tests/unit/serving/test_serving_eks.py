"""EKS manifests: sizing, kustomize builds of both slots and the live Service, validated against the
Kubernetes schemas (kubernetes-validate, offline), and the blue/green switch."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from typer.testing import CliRunner

from liveml.cli.eks import app as eks_app
from liveml.eks import Measurement, selector_patch, size, write_tree

K8S_VERSION = "1.32"
ROOT = Path(__file__).resolve().parents[3]


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


def test_rendered_slots_and_live_service_are_valid_kubernetes(tmp_path: Path) -> None:
    m = Measurement(cpu_ms_per_request=0.5, p99_ms=1.0, rss_mb=90.0, requests=100)
    for slot, version in (("blue", "3"), ("green", "4")):
        binding = json.dumps(
            {"model": "churn", "variants": [{"version": version, "uri": "s3://b/m/", "sha256": "0" * 64}]}
        )
        write_tree(
            tmp_path,
            size(m, 300),
            slot=slot,
            binding_json=binding,
            image="liveml-predict:1",
            role_arn="arn:aws:iam::123456789012:role/r",
            namespace="liveml",
        )
    kinds: dict[str, set[str]] = {}
    for slot in ("blue", "green"):
        docs = _build(tmp_path / "overlays" / slot)
        _validate(docs)
        kinds[slot] = {d["kind"] for d in docs}
        deployment = next(d for d in docs if d["kind"] == "Deployment")
        assert deployment["metadata"]["name"] == f"liveml-predict-{slot}"
        assert deployment["spec"]["selector"]["matchLabels"]["liveml.io/slot"] == slot
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert container[probe]["httpGet"]["path"] == "/health"
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
    }
    live = _build(tmp_path / "live")
    _validate(live)
    assert live[0]["spec"]["selector"]["liveml.io/slot"] == "blue"  # first render decides; switch moves it


def test_an_invalid_manifest_is_caught() -> None:
    bad = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "x"},
        "spec": {"replicas": "three", "selector": {}, "template": {}},
    }
    with pytest.raises(kubernetes_validate.ValidationError, match="replicas"):
        _validate([bad])


def test_cli_render_measures_the_real_model(model_dir: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        eks_app,
        [
            "render",
            "--model",
            "churn",
            "--version",
            "3",
            "--qps",
            "250",
            "--out",
            str(tmp_path),
            "--model-dir",
            str(model_dir),
            "--requests",
            "100",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "replicas" in result.output
    info = json.loads((tmp_path / "sizing.json").read_text())
    assert info["measurement"]["cpu_ms_per_request"] > 0 and info["measurement"]["rss_mb"] > 30
    _validate(_build(tmp_path / "overlays" / "blue"))


def test_switch_prints_the_selector_patch() -> None:
    result = CliRunner().invoke(eks_app, ["switch", "green"])
    assert result.exit_code == 0
    assert json.loads(result.output.splitlines()[0]) == selector_patch("green")
    assert "kubectl -n liveml patch service liveml-predict --type merge -p" in result.output
    assert CliRunner().invoke(eks_app, ["switch", "purple"]).exit_code != 0


def test_committed_eks_tree_is_valid() -> None:
    for directory in ("overlays/blue", "overlays/green", "live"):
        _validate(_build(ROOT / "eks" / directory))
