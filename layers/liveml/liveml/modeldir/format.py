"""The model directory — the contract between training and the rest of the system.

Training writes it (``liveml.training.fit_and_export``, then ``evaluate_model_dir`` completes and
re-seals it); the evaluate and register steps, the registry, rollouts, serving and the CLI read it.
Its names live here, once; this module imports the standard library only, so every function can use it.

``manifest.json`` (``MANIFEST``; read it with ``liveml.inference.read_manifest`` / ``load_model_dir``)::

    {
      "format_version": 1,
      "name": "<contract name>", "task": "binary" | "multiclass" | "regression",
      "target": "<column>", "classes": ["0", "1"] | null,      # probability order = this order
      "entity_id": "<column>" | null, "event_time": "<column>" | null,
      "feature_order": [...],          # raw features a client sends (the contract's order)
      "graph_inputs": [{"name", "type": "float" | "string", "source"}],   # the ONNX graph's inputs
      "preprocessing": {...},          # the pre-graph step (liveml.inference.PreGraph.to_dict())
      "family": "hist_gradient_boosting", "params": {...},
      "primary_metric": "roc_auc" | "r2", "cv_score": 0.91,
      "metrics": {...},                # holdout: accuracy, balanced_accuracy, roc_auc, pr_auc, f1,
                                       # log_loss, brier, confusion_matrix, n | rmse, mae, r2, n
      "gates": [{"gate", "metric", "threshold", "value", "passed"}],
      "parity": {"onnx_max_abs_diff", "compact_max_abs_diff" | null, "tolerance"},
      "evaluation": null | {"evaluated_at", "champion": null | {"model_dir", "name", "created_at",
                                                               "champion_score", "challenger_score",
                                                               "margin", "passed"}},
      "artifacts": {"model.onnx": {"path", "sha256", "bytes"}, ...},   # every file but the manifest
      "created_at": "ISO 8601 UTC", "code_version": "0.1.0",
      "contract_sha256": "...", "data_sha256": "..." | null, "seed": 0
    }

Files beside it:

* ``model.onnx`` (``ONNX``) — the pipeline after the pre-graph step; one [N, 1] input per graph
  input, outputs ``label`` + ``probabilities`` [N, K] (classifiers, no ZipMap) or ``variable``
  (regressors). Feed it through ``liveml.inference.OnnxModel``, which runs the pre-graph step first.
* ``model.compact.json`` (``COMPACT``) — the on-device format (``liveml.inference.compact``
  documents it); absent when the model cannot be expressed in it (text features).
* ``contract.yaml`` (``CONTRACT``); ``model_card.md`` and ``model_card.json``; ``report.html``
  (plots embedded);
* ``trials.json`` — every optuna trial: number, state, value, family, params, fold scores, seconds;
* ``reference_sample.csv`` — up to 2,000 training rows (contract columns) for drift monitoring;
* ``reference_sketch.json`` — the training rows binned per feature, and the holdout's predictions
  (``liveml.monitoring.sketches``): what the drift monitor compares each window with;
* ``holdout_rows.jsonl`` — the holdout's raw rows (every contract column but the target; JSON
  types, datetimes as ISO 8601): any model's pre-graph step can consume them, so a champion trained
  on another contract version is scored on exactly this run's holdout;
* ``holdout_reference.npz`` — the holdout's graph inputs (``input:<name>``), scikit-learn's outputs
  (``expected``) and the truth (``y_true``, class indices or values): ``liveml.inference.onnx_parity``
  re-checks the ONNX file with onnxruntime alone;
* ``golden_requests.json`` — ``{"version": 1, "as_of": epoch seconds, "tolerance": 1e-5,
  "requests": [{"features": {raw feature dict incl. the event-time column}, "expected":
  {"label", "probabilities", "confidence"} | {"value"}}]}``; replay with ``predict(rows, as_of=as_of)``.

Age features (``<datetime column>__age_days``) are measured to the row's event-time column when the
row carries it, else to ``as_of`` (``OnnxModel.predict`` defaults it to now).

Trust: every file is verified against the sha256 the manifest lists before use, and the manifest
against the sha256 its reader was given (the registry's or the binding's): ``fetch_verified``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, TypedDict

from liveml.modeldir.errors import IntegrityError

MANIFEST = "manifest.json"
MANIFEST_FORMAT_VERSION = 1

ONNX = "model.onnx"
COMPACT = "model.compact.json"
CONTRACT = "contract.yaml"
#: the contract's file names a served model directory may carry (a hand-made one may use JSON)
CONTRACT_NAMES = (CONTRACT, "contract.yml", "contract.json")
MODEL_CARD_JSON = "model_card.json"
MODEL_CARD_MD = "model_card.md"
REPORT = "report.html"
TRIALS = "trials.json"
REFERENCE_SAMPLE = "reference_sample.csv"
REFERENCE_SKETCH = "reference_sketch.json"
HOLDOUT_ROWS = "holdout_rows.jsonl"
HOLDOUT_REFERENCE = "holdout_reference.npz"
GOLDEN_REQUESTS = "golden_requests.json"
#: what evaluation (re)writes; the manifest always after them, so a reader never sees it point at
#: files that are not there yet.
EVALUATED_FILES = (MODEL_CARD_JSON, MODEL_CARD_MD, REPORT)


class ArtifactEntry(TypedDict):
    path: str
    sha256: str
    bytes: int


class GraphInputEntry(TypedDict):
    name: str
    type: Literal["float", "string"]
    source: str


class Manifest(TypedDict):
    """``manifest.json``, as described above."""

    format_version: int
    name: str
    task: Literal["binary", "multiclass", "regression"]
    target: str
    classes: list[str] | None
    entity_id: str | None
    event_time: str | None
    feature_order: list[str]
    graph_inputs: list[GraphInputEntry]
    preprocessing: dict[str, Any]
    family: str
    params: dict[str, Any]
    primary_metric: str
    cv_score: float
    metrics: dict[str, Any]
    gates: list[dict[str, Any]]
    parity: dict[str, Any]
    evaluation: dict[str, Any] | None
    artifacts: dict[str, ArtifactEntry]
    created_at: str
    code_version: str
    contract_sha256: str
    data_sha256: str | None
    seed: int


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fetch_verified(
    source: str | Path,
    sha256: str,
    *,
    read: Callable[[str], bytes] | None = None,
    s3: Any = None,
) -> bytes:
    """The bytes at ``source`` (an ``s3://`` URI or a local path), refused with ``IntegrityError``
    naming it unless their sha256 is ``sha256``. ``read`` overrides how ``source`` is read."""
    where = str(source)
    if read is not None:
        data = read(where)
    elif where.startswith("s3://"):
        from liveml.aws.s3 import get_bytes  # boto3 only where S3 is read

        data = get_bytes(where, s3=s3)
    else:
        data = Path(source).read_bytes()
    actual = sha256_hex(data)
    if actual != sha256:
        raise IntegrityError(
            f"{where}: sha256 {actual} differs from the expected {sha256}; refusing to use it"
        )
    return data


def seal(folder: Path) -> dict[str, ArtifactEntry]:
    """The ``artifacts`` entry of a manifest: every file in ``folder`` but the manifest, hashed."""
    artifacts: dict[str, ArtifactEntry] = {}
    for path in sorted(p for p in folder.iterdir() if p.is_file() and p.name != MANIFEST):
        data = path.read_bytes()
        artifacts[path.name] = {"path": path.name, "sha256": sha256_hex(data), "bytes": len(data)}
    return artifacts


def write_manifest(folder: Path, manifest: Mapping[str, Any]) -> None:
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
