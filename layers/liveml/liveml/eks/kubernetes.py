"""Kubernetes manifests of the serving app on EKS, sized from a measurement of the real model.

Layout written by :func:`write_tree` (kustomize)::

    base/                 ServiceAccount (IRSA), Deployment, Service, HPA, PodDisruptionBudget,
                          NetworkPolicy
    overlays/blue|green/  nameSuffix -blue/-green, label liveml.io/slot, the slot's model binding
    live/                 the Service players reach; its selector names the live slot (``eks switch``)
    irsa-trust-policy.json  the IAM role's trust: both slots' service accounts may assume it

Sizing (see :func:`size`): one uvicorn worker per pod uses at most one core, so a pod's capacity is
``target_utilization * 1000 / cpu_ms_per_request`` requests per second; replicas cover the expected QPS
at that utilization (at least 2, so the PodDisruptionBudget can keep one up); the CPU request is what
the design load needs at the HPA's target; memory comes from the measured resident set plus headroom.
"""

from __future__ import annotations

import json
import math
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import MutableMapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from liveml.errors import LiveMLError

APP = "liveml-predict"
SLOT_LABEL = "liveml.io/slot"
NAME_LABEL = "app.kubernetes.io/name"
PORT = 8080
SLOTS = ("blue", "green")
#: Liveness answers while the process runs; readiness (``/health``) only once a model is served, so a
#: pod whose model cannot be loaded is kept out of the Service instead of being restarted in a loop.
LIVENESS_PATH = "/livez"
READINESS_PATH = "/health"
#: ``registry/repository[:tag]@sha256:<64 hex>``: a digest names exactly one image, a tag can move.
_PINNED = re.compile(r"^[^\s@]+@sha256:[0-9a-f]{64}$")


class ImageNotPinnedError(LiveMLError):
    """The image is named by a tag (which can move), not by its digest."""


def pinned_image(image: str) -> str:
    """``image`` if it is pinned by digest; a mutable tag is refused, naming how to find the digest."""
    if not _PINNED.match(image):
        raise ImageNotPinnedError(
            f"--image {image!r} is not pinned by digest: a tag can point at another image tomorrow, and "
            "two pods of one slot could then run different code. Give <repository>@sha256:<64 hex> "
            "(`docker buildx imagetools inspect <image>` or `aws ecr describe-images` prints it)"
        )
    return image


@dataclass(frozen=True)
class Measurement:
    """What one pod costs, measured in a fresh process with the real model."""

    cpu_ms_per_request: float  # median through the whole ASGI app, one row
    p99_ms: float
    rss_mb: float  # resident memory after load and warm-up
    requests: int


@dataclass(frozen=True)
class Sizing:
    replicas: int
    hpa_min: int
    hpa_max: int
    hpa_cpu_target_percent: int
    cpu_request_m: int
    cpu_limit_m: int
    memory_request_mi: int
    memory_limit_mi: int
    rps_per_pod: float
    qps: float


#: uvicorn's own cost per request (HTTP parsing, socket I/O) beyond the in-process ASGI call that
#: ``measure`` times; from benchmarks/serving.py on a 2-core machine (http_rps vs handler time).
SERVER_OVERHEAD_MS = 0.25


def size(
    m: Measurement,
    qps: float,
    *,
    target_utilization: float = 0.6,
    burst: float = 3.0,
    server_overhead_ms: float = SERVER_OVERHEAD_MS,
) -> Sizing:
    """Replicas, requests, limits and HPA bounds for ``qps`` requests per second (``burst`` x headroom)."""
    if qps <= 0:
        raise ValueError("qps must be positive")
    cpu_ms = m.cpu_ms_per_request + server_overhead_ms
    # Capacity of one single-worker pod at the target utilization of one core.
    rps_per_pod = target_utilization * 1000.0 / cpu_ms
    replicas = max(2, math.ceil(qps / rps_per_pod))
    per_pod_load = qps / replicas
    cpu_request = per_pod_load * cpu_ms / target_utilization  # millicores at the target
    cpu_request_m = int(min(1000, max(100, math.ceil(cpu_request / 50) * 50)))
    memory_request = math.ceil(m.rss_mb * 1.25 / 16) * 16  # headroom for batch requests
    return Sizing(
        replicas=replicas,
        hpa_min=replicas,
        hpa_max=max(replicas + 1, math.ceil(burst * qps / rps_per_pod)),
        hpa_cpu_target_percent=int(target_utilization * 100),
        cpu_request_m=cpu_request_m,
        cpu_limit_m=1000,  # one worker cannot use more; a limit far above would hide a runaway
        memory_request_mi=int(memory_request),
        memory_limit_mi=int(math.ceil(memory_request * 1.5 / 16) * 16),
        rps_per_pod=round(rps_per_pod, 1),
        qps=qps,
    )


# --- measuring -------------------------------------------------------------------------------


def _example_features(contract: Any) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for col in contract.features:
        kind = col.type.value
        if kind in ("numeric", "integer"):
            lo = col.min if col.min is not None else 0.0
            hi = col.max if col.max is not None else lo + 10.0
            mid = (lo + hi) / 2
            row[col.name] = int(mid) if kind == "integer" else mid
        elif kind == "boolean":
            row[col.name] = True
        elif kind == "categorical":
            row[col.name] = col.categories[0] if col.categories else "a"
        elif kind == "text":
            row[col.name] = "hello"
        else:
            row[col.name] = "2026-01-01T12:00:00Z"
    return row


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _measure_here(model_dir: str, requests: int) -> Measurement:
    """Load the model, build the app and time ``requests`` single-row POST /predict calls through ASGI."""
    import asyncio

    from liveml.binding import ModelBinding
    from liveml.serving.runtime import build_runtime

    runtime = build_runtime(ModelBinding.from_dir(model_dir), strict=True, metrics_interval_s=0, eager=True)
    assert runtime.models is not None
    contract = runtime.models.get(None).contract
    body = json.dumps({"player_id": "sizing", "features": _example_features(contract)}).encode()
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/predict",
        "raw_path": b"/predict",
        "query_string": b"",
        "root_path": "",
        "scheme": "http",
        "server": ("127.0.0.1", 80),
        "client": ("127.0.0.1", 1),
        "http_version": "1.1",
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
    }
    status: list[int] = []

    async def one() -> None:
        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])

        await runtime.app(dict(scope), receive, send)

    async def run() -> list[float]:
        times = []
        for _ in range(requests):
            t0 = time.perf_counter()
            await one()
            times.append((time.perf_counter() - t0) * 1000)
        return times

    asyncio.run(run())  # warm-up
    times = asyncio.run(run())
    if any(s != 200 for s in status):
        raise RuntimeError(f"the sizing request failed with status {sorted(set(status))}")
    times.sort()
    return Measurement(
        cpu_ms_per_request=round(statistics.median(times), 4),
        p99_ms=round(times[int(0.99 * (len(times) - 1))], 4),
        rss_mb=round(_rss_mb(), 1),
        requests=requests,
    )


def measure(model_dir: str | Path, *, requests: int = 500) -> Measurement:
    """Measure in a fresh Python process, so the CLI's own imports do not inflate the memory figure."""
    env = {**os.environ}
    env.pop("LIVEML_MODEL_BINDING", None)
    out = subprocess.run(
        [sys.executable, "-m", "liveml.eks.kubernetes", str(model_dir), str(requests)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
    )
    if out.returncode != 0:
        raise RuntimeError(f"measuring {model_dir} failed: {out.stderr.strip()[-2000:]}")
    return Measurement(**json.loads(out.stdout.strip().splitlines()[-1]))


# --- manifests -------------------------------------------------------------------------------


def _deployment(s: Sizing, *, image: str, region: str, labels: dict[str, str]) -> dict[str, Any]:
    """The serving pods: sized from the measurement, spread over zones and nodes, locked down."""
    alive = {"httpGet": {"path": LIVENESS_PATH, "port": "http"}}
    ready = {"httpGet": {"path": READINESS_PATH, "port": "http"}}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": APP, "labels": labels},
        "spec": {
            "replicas": s.replicas,
            "revisionHistoryLimit": 3,
            "selector": {"matchLabels": labels},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "serviceAccountName": APP,
                    # IRSA mounts its own web-identity token; the app never calls the Kubernetes API.
                    "automountServiceAccountToken": False,
                    "terminationGracePeriodSeconds": 30,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": 65532,
                        "fsGroup": 65532,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    # One zone or node going down takes at most its share of a slot's pods. The
                    # template hash keeps each slot (and each rollout) spread on its own.
                    "topologySpreadConstraints": [
                        {
                            "maxSkew": 1,
                            "topologyKey": key,
                            "whenUnsatisfiable": "ScheduleAnyway",
                            "labelSelector": {"matchLabels": labels},
                            "matchLabelKeys": ["pod-template-hash"],
                        }
                        for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
                    ],
                    "containers": [
                        {
                            "name": "predict",
                            "image": image,
                            "ports": [{"name": "http", "containerPort": PORT}],
                            "env": [
                                {"name": "LIVEML_MODEL_CACHE_DIR", "value": "/tmp/liveml-models"},
                                {"name": "AWS_REGION", "value": region},
                            ],
                            "resources": {
                                "requests": {
                                    "cpu": f"{s.cpu_request_m}m",
                                    "memory": f"{s.memory_request_mi}Mi",
                                },
                                "limits": {"cpu": f"{s.cpu_limit_m}m", "memory": f"{s.memory_limit_mi}Mi"},
                            },
                            # The model loads before uvicorn listens; allow a slow S3 fetch at start.
                            "startupProbe": {**alive, "periodSeconds": 2, "failureThreshold": 60},
                            "readinessProbe": {**ready, "periodSeconds": 5, "timeoutSeconds": 2},
                            "livenessProbe": {
                                **alive,
                                "periodSeconds": 10,
                                "timeoutSeconds": 2,
                                "failureThreshold": 3,
                            },
                            # Endpoints drop the pod before uvicorn stops (and flushes captures).
                            "lifecycle": {"preStop": {"sleep": {"seconds": 5}}},
                            "securityContext": {
                                "allowPrivilegeEscalation": False,
                                "readOnlyRootFilesystem": True,
                                "capabilities": {"drop": ["ALL"]},
                            },
                            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                        }
                    ],
                    "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "512Mi"}}],
                },
            },
        },
    }


def _network_policy(labels: dict[str, str]) -> dict[str, Any]:
    """Listing both policy types denies whatever is not allowed here: players' requests on the serving
    port in; DNS and HTTPS (S3, STS for IRSA, CloudWatch) out, but not the node's instance metadata,
    whose credentials IRSA replaces."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": APP, "labels": labels},
        "spec": {
            "podSelector": {"matchLabels": labels},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{"ports": [{"protocol": "TCP", "port": PORT}]}],
            "egress": [
                {
                    "to": [
                        {
                            "namespaceSelector": {
                                "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                            },
                            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                        }
                    ],
                    "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                },
                {
                    "to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["169.254.169.254/32"]}}],
                    "ports": [{"protocol": "TCP", "port": 443}],
                },
            ],
        },
    }


def base_manifests(
    s: Sizing, *, image: str, role_arn: str, namespace: str, region: str = "us-east-1"
) -> dict[str, list[dict[str, Any]]]:
    """The kustomize base: file name -> its documents."""
    labels = {NAME_LABEL: APP}
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": APP, "labels": labels},
        "spec": {"selector": labels, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]},
    }
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": APP, "labels": labels},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": APP},
            "minReplicas": s.hpa_min,
            "maxReplicas": s.hpa_max,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": s.hpa_cpu_target_percent},
                    },
                }
            ],
        },
    }
    pdb = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": APP, "labels": labels},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": labels}},
    }
    account = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {
            "name": APP,
            "labels": labels,
            # IAM roles for service accounts: the role may read the model artifacts (and write captures).
            "annotations": {"eks.amazonaws.com/role-arn": role_arn},
        },
        "automountServiceAccountToken": False,
    }
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "namespace": namespace,
        "resources": [
            "serviceaccount.yaml",
            "deployment.yaml",
            "service.yaml",
            "hpa.yaml",
            "pdb.yaml",
            "networkpolicy.yaml",
        ],
    }
    return {
        "serviceaccount.yaml": [account],
        "deployment.yaml": [_deployment(s, image=image, region=region, labels=labels)],
        "service.yaml": [service],
        "hpa.yaml": [hpa],
        "pdb.yaml": [pdb],
        "networkpolicy.yaml": [_network_policy(labels)],
        "kustomization.yaml": [kustomization],
    }


def overlay(slot: str, binding_json: str) -> dict[str, list[dict[str, Any]]]:
    """A slot: its own names, the slot label (selectors included) and the model binding it serves."""
    if slot not in SLOTS:
        raise ValueError(f"slot must be one of {SLOTS}, got {slot!r}")
    patch = [
        {
            "op": "add",
            "path": "/spec/template/spec/containers/0/env/-",
            "value": {"name": "LIVEML_MODEL_BINDING", "value": binding_json},
        }
    ]
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": ["../../base"],
        "nameSuffix": f"-{slot}",
        "labels": [{"pairs": {SLOT_LABEL: slot}, "includeSelectors": True, "includeTemplates": True}],
        "patches": [{"target": {"kind": "Deployment", "name": APP}, "patch": yaml.safe_dump(patch)}],
    }
    return {"kustomization.yaml": [kustomization]}


def live_service(slot: str, namespace: str) -> dict[str, list[dict[str, Any]]]:
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": APP, "namespace": namespace, "labels": {NAME_LABEL: APP}},
        "spec": {
            "selector": {NAME_LABEL: APP, SLOT_LABEL: slot},
            "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
        },
    }
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": ["service.yaml"],
    }
    return {"service.yaml": [service], "kustomization.yaml": [kustomization]}


def selector_patch(slot: str) -> dict[str, Any]:
    """The merge patch that points the live Service at ``slot``."""
    if slot not in SLOTS:
        raise ValueError(f"slot must be one of {SLOTS}, got {slot!r}")
    return {"spec": {"selector": {NAME_LABEL: APP, SLOT_LABEL: slot}}}


def service_accounts(namespace: str) -> list[str]:
    """The IRSA subjects of both slots (kustomize's nameSuffix renames the base ServiceAccount)."""
    return [f"system:serviceaccount:{namespace}:{APP}-{slot}" for slot in SLOTS]


def irsa_trust_policy(role_arn: str, oidc_provider: str, namespace: str) -> dict[str, Any]:
    """The trust policy of the role the pods assume: the cluster's OIDC provider may hand it to the
    blue and the green service account (both, so switching slots needs no IAM change), nobody else."""
    issuer = oidc_provider.removeprefix("https://").rstrip("/")
    parts = role_arn.split(":")
    if len(parts) < 6 or parts[2] != "iam" or not parts[4].isdigit():
        raise LiveMLError(f"--role-arn {role_arn!r} is not an IAM role ARN (arn:aws:iam::<account>:role/…)")
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": f"arn:{parts[1]}:iam::{parts[4]}:oidc-provider/{issuer}"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{issuer}:aud": "sts.amazonaws.com",
                        f"{issuer}:sub": service_accounts(namespace),
                    }
                },
            }
        ],
    }


def _write(directory: Path, files: dict[str, list[dict[str, Any]]]) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, docs in files.items():
        path = directory / name
        path.write_text(yaml.safe_dump_all(docs, sort_keys=False, width=120), encoding="utf-8")
        written.append(path)
    return written


def write_tree(
    out: Path,
    sizing: Sizing,
    *,
    slot: str,
    binding_json: str,
    image: str,
    role_arn: str,
    namespace: str,
    oidc_provider: str,
    region: str = "us-east-1",
    measurement: Measurement | None = None,
) -> list[Path]:
    """Write base/, overlays/<slot>/, the role's trust policy and, if absent, live/ (pointing at
    ``slot``) under ``out``. ``image`` must be pinned by digest.

    The other slot's overlay is left as it is: it still serves the previous version until switched."""
    image = pinned_image(image)
    trust = irsa_trust_policy(role_arn, oidc_provider, namespace)
    written = _write(
        out / "base",
        base_manifests(sizing, image=image, role_arn=role_arn, namespace=namespace, region=region),
    )
    written += _write(out / "overlays" / slot, overlay(slot, binding_json))
    if not (out / "live" / "service.yaml").exists():
        written += _write(out / "live", live_service(slot, namespace))
    (out / "irsa-trust-policy.json").write_text(json.dumps(trust, indent=2) + "\n", encoding="utf-8")
    written.append(out / "irsa-trust-policy.json")
    info = {"sizing": asdict(sizing), "measurement": asdict(measurement) if measurement else None}
    (out / "sizing.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return [*written, out / "sizing.json"]


if __name__ == "__main__":  # python -m liveml.eks.kubernetes <model_dir> [requests]: one measurement as JSON
    result = _measure_here(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 500)
    print(json.dumps(asdict(result)))
