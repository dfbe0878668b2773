"""The second phase of training: evaluate an exported model directory with ONNX Runtime alone.

Imports numpy, ONNX Runtime (when a model loads), matplotlib (for the report) and the contract —
never scikit-learn, scipy, optuna or pandas — so it runs in the evaluate Lambda, and it scores the
very ONNX file that will serve. ``fit_and_export`` writes the directory; this completes it:

1. every artifact's sha256 is checked against the manifest (a tampered file is refused);
2. ONNX parity against scikit-learn's saved holdout outputs, and the golden requests replayed
   through the runtime's dict path (``OnnxParityError`` when either disagrees);
3. the holdout metrics, the contract's gates and, given a champion's model directory, the
   champion/challenger gate on *this* run's raw holdout rows (``holdout_rows.jsonl``). When the
   served model was refit on every row, it has seen the holdout: the metrics and the challenger's
   score then come from the holdout-scored model's saved outputs (``estimate``), never from the
   served model on rows it was trained on; without a refit they come from the ONNX outputs;
4. permutation importance of each raw column, on the holdout, with the ONNX model that serves;
5. ``report.html`` with its plots and the final model card are written, and the manifest is
   re-sealed (metrics, gates, parity, evaluation, artifacts with their sha256) — last.

A failed gate does not raise here: the report is still worth writing (the failure notification
links it). Call ``Evaluation.raise_on_failures()`` afterwards.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from liveml.contract import Contract
from liveml.inference import (
    ModelBundle,
    OnnxModel,
    load_holdout_reference,
    load_model_dir,
    read_artifact,
)
from liveml.modeldir import (
    CONTRACT,
    EVALUATED_FILES,
    GOLDEN_REQUESTS,
    HOLDOUT_REFERENCE,
    HOLDOUT_ROWS,
    MANIFEST,
    MODEL_CARD_JSON,
    MODEL_CARD_MD,
    REPORT,
    TRIALS,
    seal,
    write_manifest,
)
from liveml.training import report as reporting
from liveml.training.errors import OnnxParityError, TrainingError
from liveml.training.gates import champion_gate, check_gates, raise_on_failures
from liveml.training.metrics import PRIMARY_METRIC, holdout_metrics, score
from liveml.training.parity import max_abs_diff, row_diffs, tolerance


@dataclass
class Evaluation:
    """What evaluating one model directory found."""

    model_dir: Path
    manifest: dict[str, Any]
    metrics: dict[str, Any]
    gates: list[dict[str, Any]]
    parity: dict[str, Any]
    champion: dict[str, Any] | None
    #: files (re)written in the model directory, in the order they must be published
    written: list[str] = field(default_factory=list)
    #: seconds per phase (load, parity, metrics, importance, report): where the step's time goes
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(g["passed"] for g in self.gates)

    def raise_on_failures(self) -> None:
        """``ModelPerformanceError`` naming each failed gate's metric, threshold and value."""
        raise_on_failures(self.gates, self.metrics)

    def summary(self) -> dict[str, Any]:
        """Small and JSON-safe: what the state machine passes on and the registry records."""
        task = str(self.manifest["task"])
        return {
            "passed": self.passed,
            "primary_metric": PRIMARY_METRIC[task],
            "metrics": {k: v for k, v in self.metrics.items() if k != "confusion_matrix"},
            "parity": self.parity,
            "gates": [
                {k: g[k] for k in ("gate", "metric", "threshold", "value", "passed")} for g in self.gates
            ],
            "champion": self.champion,
        }


def read_holdout_rows(model_dir: str | Path) -> list[dict[str, Any]]:
    path = Path(model_dir) / HOLDOUT_ROWS
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


#: permutation importance: shuffles per column, and the most holdout rows it scores
PERMUTATION_REPEATS = 3
PERMUTATION_ROWS = 2000


def _truth(model_dir: Path) -> tuple[npt.NDArray[Any], npt.NDArray[np.float64] | None]:
    with np.load(model_dir / HOLDOUT_REFERENCE, allow_pickle=False) as npz:
        return np.asarray(npz["y_true"]), holdout_estimate(npz)


def holdout_estimate(source: str | Path | Any) -> npt.NDArray[np.float64] | None:
    """The holdout-scored model's outputs on the holdout, when the served model was refit on every
    row (it has seen the holdout, so it must not be scored there); ``None`` otherwise, and for model
    directories written before the refit existed. ``source``: a model directory or an open npz."""
    if isinstance(source, str | Path):
        with np.load(Path(source) / HOLDOUT_REFERENCE, allow_pickle=False) as npz:
            return holdout_estimate(npz)
    if "estimate" not in source.files:
        return None
    estimate = np.asarray(source["estimate"], dtype=np.float64)
    expected = np.asarray(source["expected"], dtype=np.float64)
    return None if np.array_equal(estimate, expected) else estimate


def _same_holdout(a: ModelBundle, b: ModelBundle) -> bool:
    """Both model directories hold the same raw holdout rows (same sha256)."""
    sha = [(m.manifest.get("artifacts") or {}).get(HOLDOUT_ROWS, {}).get("sha256") for m in (a, b)]
    return sha[0] is not None and sha[0] == sha[1]


def permutation_importance(
    model: OnnxModel,
    inputs: dict[str, npt.NDArray[Any]],
    y: npt.NDArray[Any],
    *,
    repeats: int = PERMUTATION_REPEATS,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """How much the primary metric drops when one raw column's values are shuffled across the
    holdout rows (every graph input it feeds, together), scored by ONNX Runtime on ``model``.
    Model-agnostic, so linear models and boosting are ranked alike. Best first."""
    task = model.task
    n = len(y)
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(n, PERMUTATION_ROWS, replace=False)) if n > PERMUTATION_ROWS else np.arange(n)
    base_inputs = {k: v[rows] for k, v in inputs.items()}
    y_rows = y[rows]
    base = score(task, y_rows, model.run_inputs(base_inputs))
    if not np.isfinite(base):  # e.g. one class only in these rows: nothing to measure a drop from
        return []
    by_column: dict[str, list[str]] = {}
    for g in model.pregraph.graph_inputs():
        by_column.setdefault(g.source, []).append(g.name)
    out = []
    for column, names in by_column.items():
        drops = []
        for _ in range(repeats):
            order = rng.permutation(len(rows))
            shuffled = {**base_inputs, **{name: base_inputs[name][order] for name in names}}
            drops.append(base - score(task, y_rows, model.run_inputs(shuffled)))
        out.append({"feature": column, "importance": float(np.mean(drops)), "std": float(np.std(drops))})
    return sorted(out, key=lambda r: -r["importance"])


def check_parity(bundle: ModelBundle) -> tuple[float, npt.NDArray[np.float64]]:
    """ONNX Runtime's outputs on the saved holdout inputs, checked against scikit-learn's."""
    task = bundle.task
    inputs, expected = load_holdout_reference(bundle.path)
    got = bundle.onnx.run_inputs(inputs)
    rows = row_diffs(got, expected, task)
    tol = tolerance(task)
    diff = float(rows.max()) if rows.size else 0.0
    if not diff <= tol:
        raise OnnxParityError(
            f"ONNX does not reproduce scikit-learn: max difference {diff:.3g} > {tol:g} "
            f"on {int(np.sum(rows > tol))} of {len(rows)} holdout rows ({bundle.manifest.get('family')})"
        )
    return diff, got


def check_golden(bundle: ModelBundle) -> int:
    """Replay the golden requests through the dict path the API uses; returns how many."""
    golden = json.loads(read_artifact(bundle.path, bundle.manifest, GOLDEN_REQUESTS))
    requests = golden["requests"]
    if not requests:
        return 0
    got = bundle.onnx.predict_outputs([r["features"] for r in requests], as_of=golden["as_of"])
    if bundle.task == "regression":
        expected = np.array([r["expected"]["value"] for r in requests], dtype=np.float64)
    else:
        classes = bundle.classes or []
        expected = np.array(
            [[r["expected"]["probabilities"][c] for c in classes] for r in requests], dtype=np.float64
        )
    diff = max_abs_diff(got, expected, bundle.task)
    if not diff <= float(golden["tolerance"]):
        raise OnnxParityError(
            "golden requests: the runtime's dict path disagrees with scikit-learn "
            f"(max difference {diff:.3g})"
        )
    return len(requests)


def champion_outputs(
    champion: ModelBundle,
    rows: list[dict[str, Any]],
    *,
    task: str,
    classes: list[str] | None,
    as_of: float | None,
) -> npt.NDArray[np.float64]:
    """The champion's outputs on this run's raw holdout rows, through its own pre-graph step."""
    if champion.task != task or (classes is not None and champion.classes != classes):
        raise TrainingError(
            f"champion {champion.path} is a {champion.task} model with classes {champion.classes}: "
            "it cannot be compared with this one"
        )
    needed = [*champion.onnx.pregraph.feature_names]
    have = set(rows[0]) if rows else set()
    missing = [n for n in needed if n not in have]
    if missing:
        raise TrainingError(f"champion {champion.path} needs columns this data lacks: {missing}")
    # Ages are measured to this holdout's reference time, the same "now" the challenger saw.
    return champion.onnx.run_inputs(champion.onnx.pregraph.transform_rows(rows, as_of=as_of))


def evaluate_model_dir(
    model_dir: str | Path,
    *,
    champion_dir: str | Path | None = None,
    contract: Contract | None = None,
    margin: float | None = None,
    champion_label: str | None = None,
) -> Evaluation:
    """Verify, score, gate and document ``model_dir`` in place (see the module's docstring).

    ``contract`` defaults to the directory's ``contract.yaml`` (its gates apply); ``margin`` to the
    contract's ``challenger_margin``; ``champion_label`` (say, the registry version) is recorded.
    """
    path = Path(model_dir)
    laps = _Laps()
    bundle = load_model_dir(path, verify_all=True)
    manifest = bundle.manifest
    task, classes = bundle.task, bundle.classes
    if contract is None:
        contract = Contract.from_yaml(read_artifact(path, manifest, CONTRACT).decode(), source=str(path))

    laps("load")
    onnx_diff, outputs = check_parity(bundle)
    golden = check_golden(bundle)
    laps("parity")
    y, estimate = _truth(path)
    scored = outputs if estimate is None else estimate
    metrics = holdout_metrics(task, y, scored)
    gates = check_gates(contract.gates, metrics)

    champion: dict[str, Any] | None = None
    if champion_dir is not None:
        champ = load_model_dir(champion_dir)
        champ_y, champ_estimate = _truth(champ.path)
        if champ_estimate is not None and _same_holdout(bundle, champ) and np.array_equal(champ_y, y):
            # The champion was refit on these very rows (the same data, split alike): its served
            # model would score in-sample here, so compare it by its own holdout estimate, as this one.
            champ_outputs = champ_estimate
        else:
            rows = read_holdout_rows(path)
            as_of = bundle.onnx.pregraph.reference_time
            champ_outputs = champion_outputs(champ, rows, task=task, classes=classes, as_of=as_of)
        champ_score = score(task, y, champ_outputs)
        margin = float(contract.gates.challenger_margin if margin is None else margin)
        gate = champion_gate(task, score(task, y, scored), champ_score, margin)
        gates.append(gate)
        champion = {
            "version": champion_label,
            "model_dir": str(champion_dir),
            "family": champ.manifest.get("family"),
            "created_at": champ.manifest.get("created_at"),
            "champion_score": champ_score,
            "challenger_score": gate["value"],
            "margin": margin,
            "passed": gate["passed"],
        }

    parity = dict(manifest.get("parity") or {})
    parity.update({"onnx_max_abs_diff": onnx_diff, "tolerance": tolerance(task), "golden_requests": golden})
    laps("metrics")
    importance = permutation_importance(bundle.onnx, load_holdout_reference(path)[0], y)
    laps("importance")
    written = _write_evaluation(path, manifest, metrics, gates, parity, champion, y, scored, importance)
    laps("report")
    return Evaluation(path, manifest, metrics, gates, parity, champion, written, laps.seconds)


class _Laps:
    """Seconds per phase, each from the end of the one before."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = round(now - self._last, 3)
        self._last = now


def _write_evaluation(
    path: Path,
    manifest: dict[str, Any],
    metrics: dict[str, Any],
    gates: list[dict[str, Any]],
    parity: dict[str, Any],
    champion: dict[str, Any] | None,
    y: npt.NDArray[Any],
    outputs: npt.NDArray[np.float64],
    importance: list[dict[str, Any]],
) -> list[str]:
    task = str(manifest["task"])
    card: dict[str, Any] = json.loads(read_artifact(path, manifest, MODEL_CARD_JSON))
    card.update(
        {
            "metrics": metrics,
            "gates": gates,
            "parity": parity,
            "champion": champion,
            "permutation_importance": importance,
        }
    )
    trials = json.loads(read_artifact(path, manifest, TRIALS))
    importances = [(r["feature"], r["importance"]) for r in importance]
    images = reporting.plots(task, y, outputs, manifest.get("classes"), trials, importances)
    (path / MODEL_CARD_JSON).write_text(json.dumps(card, indent=1), encoding="utf-8")
    (path / MODEL_CARD_MD).write_text(reporting.card_markdown(card), encoding="utf-8")
    (path / REPORT).write_text(reporting.report_html(card, images, importance), encoding="utf-8")

    manifest.update(
        {
            "metrics": metrics,
            "gates": gates,
            "parity": parity,
            "artifacts": seal(path),
            "evaluation": {
                "evaluated_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
                "champion": champion,
            },
        }
    )
    write_manifest(path, manifest)
    return [*EVALUATED_FILES, MANIFEST]
