"""Evaluate: score the exported ONNX model, gate it, compare it with the champion, write the report.

Runs ``liveml.training.evaluate_model_dir`` (ONNX Runtime, numpy, matplotlib — no scikit-learn) on
a copy of ``training.model_uri``, then publishes what it (re)wrote back into the model directory,
the manifest last, so Register's sha256 check against the manifest stays true. ``evaluation.json``
goes beside the model directory (``runs/<model>/<run>/``) in any case; the failure notification
links it and ``model/report.html``. A failed gate raises ``ModelPerformanceError`` naming the metric,
threshold and value.

The champion is the model in production (``Registry().production``); tests pass ``champion_uri``.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

from liveml.aws.s3 import download_prefix, put_bytes
from liveml.modeldir import MANIFEST, REPORT, fetch_verified
from liveml.pipeline.steps.runs import RunState
from liveml.registry import Registry, RegistryError
from liveml.training.evaluate import evaluate_model_dir

#: the registry's lookup, unless the caller says which champion (or ``None``: no champion)
FROM_REGISTRY = "registry"
CONTENT_TYPES = {".html": "text/html", ".json": "application/json", ".md": "text/markdown"}


def production_champion(model: str, registry: Registry | None = None) -> tuple[str, str, str] | None:
    """``(model dir URI, version label, manifest sha256)`` of the version in production, or ``None``."""
    version = (registry or Registry()).production(model)
    if version is None:
        return None
    manifest = version.artifacts.get(MANIFEST)
    if manifest is None or not manifest.uri.endswith("/" + MANIFEST):
        raise RegistryError(f"{model} v{version.version} in production has no {MANIFEST} artifact")
    return manifest.uri[: -len(MANIFEST)], str(version.version), manifest.sha256


def _download_champion(uri: str, folder: Path, manifest_sha256: str | None, s3: Any) -> None:
    download_prefix(uri, folder, s3=s3)
    if manifest_sha256 is not None:
        # load_model_dir checks files against the manifest; this checks the manifest against the registry.
        fetch_verified(folder / MANIFEST, manifest_sha256)


def evaluate_step(
    state: RunState,
    training: dict[str, Any],
    *,
    champion_uri: str | None = FROM_REGISTRY,
    registry: Registry | None = None,
    artifacts_bucket: str | None = None,
    workdir: Path | None = None,
    s3: Any = None,
) -> dict[str, Any]:
    """Evaluate the run's model; returns the evaluation summary (parity, gates, champion, report)."""
    started = time.perf_counter()
    model_uri: str = training["model_uri"]
    label: str | None = None
    manifest_sha256: str | None = None
    if champion_uri == FROM_REGISTRY:
        found = production_champion(state.model, registry)
        champion_uri, label, manifest_sha256 = found if found else (None, None, None)

    with tempfile.TemporaryDirectory(prefix="liveml-evaluate-", dir=workdir) as tmp:
        model_dir, champion_dir = Path(tmp) / "model", None
        download_prefix(model_uri, model_dir, s3=s3)
        if champion_uri is not None:
            champion_dir = Path(tmp) / "champion"
            _download_champion(champion_uri, champion_dir, manifest_sha256, s3)
        downloaded = time.perf_counter()
        evaluation = evaluate_model_dir(model_dir, champion_dir=champion_dir, champion_label=label)
        evaluated = time.perf_counter()
        for name in evaluation.written:  # the manifest is last: it names the others' sha256
            put_bytes(
                model_uri + name,
                (model_dir / name).read_bytes(),
                content_type=CONTENT_TYPES.get(Path(name).suffix, "application/octet-stream"),
                s3=s3,
            )

    summary = evaluation.summary()
    if summary["champion"] is not None:
        summary["champion"]["model_dir"] = champion_uri  # the S3 URI, not the local copy
    summary["model_uri"] = model_uri
    summary["report_uri"] = model_uri + REPORT
    summary["evaluation_uri"] = state.run_uri("evaluation.json", artifacts_bucket=artifacts_bucket)
    # Where the step's time went (the benchmark prints these); upload: the rewritten model files.
    summary["timings"] = {
        "download_s": round(downloaded - started, 2),
        **{f"{name}_s": round(seconds, 2) for name, seconds in evaluation.timings.items()},
        "upload_s": round(time.perf_counter() - evaluated, 2),
    }
    put_bytes(
        summary["evaluation_uri"],
        json.dumps(summary, indent=1).encode(),
        content_type="application/json",
        s3=s3,
    )
    evaluation.raise_on_failures()
    return summary
