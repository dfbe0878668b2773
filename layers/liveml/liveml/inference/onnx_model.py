"""An ONNX model with its pre-graph step: raw rows in, predictions out."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from liveml.inference.errors import ArtifactError, InputError
from liveml.inference.pregraph import PreGraph
from liveml.modeldir import IntegrityError, sha256_hex


@dataclass(frozen=True)
class Prediction:
    """One row's answer. Classification: ``label``, ``probabilities`` (per class) and ``confidence``
    (the top probability); regression: ``value``."""

    label: str | None = None
    probabilities: dict[str, float] | None = None
    value: float | None = None
    confidence: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.label is not None:
            out["label"] = self.label
            out["probabilities"] = self.probabilities
            out["confidence"] = self.confidence
        if self.value is not None:
            out["value"] = self.value
        return out


def predictions_from_outputs(
    outputs: npt.NDArray[np.float64], task: str, classes: Sequence[str] | None
) -> list[Prediction]:
    """Predictions from a probability matrix [N, K] (classification) or values [N] (regression).

    The label is the arg-max class, exactly what scikit-learn's ``predict`` returns."""
    if task == "regression":
        return [Prediction(value=float(v)) for v in np.asarray(outputs).reshape(-1)]
    assert classes is not None
    preds = []
    for row in np.asarray(outputs, dtype=np.float64):
        top = int(np.argmax(row))
        preds.append(
            Prediction(
                label=str(classes[top]),
                probabilities={str(c): float(p) for c, p in zip(classes, row, strict=True)},
                confidence=float(row[top]),
            )
        )
    return preds


class OnnxModel:
    """An ONNX Runtime session plus the pre-graph step and the class names of one model."""

    def __init__(
        self,
        onnx_bytes: bytes,
        pregraph: PreGraph,
        *,
        task: str,
        classes: Sequence[str] | None = None,
        expected_sha256: str | None = None,
        threads: int = 1,
    ) -> None:
        self.sha256 = sha256_hex(onnx_bytes)
        if expected_sha256 is not None and expected_sha256 != self.sha256:
            raise IntegrityError(
                f"model.onnx sha256 is {self.sha256}, expected {expected_sha256}: refusing to load it"
            )
        import onnxruntime as ort  # imported here so that importing the package stays cheap

        options = ort.SessionOptions()
        # One row per request: a single thread is fastest and leaves the other core to the server.
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(onnx_bytes, options, providers=["CPUExecutionProvider"])
        self.pregraph = pregraph
        self.task = task
        self.classes = list(classes) if classes is not None else None
        self._inputs = {i.name for i in self.session.get_inputs()}
        outputs = [o.name for o in self.session.get_outputs()]
        # skl2onnx names them label/probabilities (classifiers) or variable (regressors).
        self._output = "probabilities" if "probabilities" in outputs else outputs[-1]

    @classmethod
    def from_path(
        cls,
        path: str | Path,
        pregraph: PreGraph,
        *,
        task: str,
        classes: Sequence[str] | None = None,
        expected_sha256: str | None = None,
        threads: int = 1,
    ) -> OnnxModel:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise ArtifactError(f"cannot read {path}: {exc.strerror}") from None
        return cls(
            data, pregraph, task=task, classes=classes, expected_sha256=expected_sha256, threads=threads
        )

    def run_inputs(self, inputs: Mapping[str, npt.NDArray[Any]]) -> npt.NDArray[np.float64]:
        """Raw outputs for prebuilt graph inputs: probabilities [N, K] or values [N]."""
        missing = self._inputs - set(inputs)
        if missing:
            raise InputError(f"graph inputs missing: {sorted(missing)}")
        feed = {name: inputs[name] for name in self._inputs}
        (out,) = self.session.run([self._output], feed)
        arr = np.asarray(out, dtype=np.float64)
        return arr.reshape(-1) if self.task == "regression" else arr

    def predict_outputs(
        self, rows: Sequence[Mapping[str, Any]], *, as_of: float | datetime | None = None
    ) -> npt.NDArray[np.float64]:
        """Raw outputs for raw rows. ``as_of`` (default: now) is the reference time for ``age_days``
        of rows that do not carry the contract's event-time column."""
        if not rows:
            return np.empty((0,) if self.task == "regression" else (0, len(self.classes or [])))
        ref = time.time() if as_of is None else as_of
        return self.run_inputs(self.pregraph.transform_rows(rows, as_of=ref))

    def predict(
        self, rows: Sequence[Mapping[str, Any]], *, as_of: float | datetime | None = None
    ) -> list[Prediction]:
        return predictions_from_outputs(self.predict_outputs(rows, as_of=as_of), self.task, self.classes)
