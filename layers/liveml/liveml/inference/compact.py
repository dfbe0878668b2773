"""The compact on-device model: a versioned JSON document and its pure-Python reference evaluator.

The Unity package evaluates the same files; this evaluator is the reference it is tested against.

Format (``format: "liveml.compact"``, ``version: 1``)::

    {
      "format": "liveml.compact", "version": 1,
      "task": "binary" | "multiclass" | "regression", "classes": [...] | null,
      "preprocessing": {...},        # the pre-graph step (PreGraph.to_dict()): raw row -> inputs
      "features": [                  # one entry per model feature, in order
        {"input": "playtime", "impute": 12.0, "mean": 10.1, "scale": 3.2},   # numeric
        {"input": "device", "equals": "ios"},                                  # one-hot
        {"product": [{"input": "a", "impute": 1.0}, {"input": "b", "impute": 2.0}],
         "mean": 0.3, "scale": 1.1},                                           # interaction
        {"input": "feedback", "term": "laggy"}                                 # TF-IDF of one term
      ],                             # "mean"/"scale" are optional: value = (x - mean) / scale
      "texts": {                     # optional: one entry per text input that features use
        "feedback": {"tokens": "words2", "lowercase": true, "norm": "l2" | null,
                     "terms": ["bad", "fun", ...], "idf": [2.1, 1.7, ...]}
      },
      "model": {"type": "linear", "coef": [[...]], "intercept": [...],
                "link": "logistic"|"softmax"|"identity"}
             | {"type": "trees", "n_outputs": K, "base": [...], "aggregate": "sum"|"mean",
                "link": "logistic"|"softmax"|"identity"|"none",
                "trees": [{"target": k, "feature": [...], "threshold": [...], "left": [...],
                           "right": [...], "value": [[...], ...]}]}
    }

Trees: a node with ``left == -1`` is a leaf; otherwise go left when ``float32(x) <= threshold``
(scikit-learn compares float32 features against float64 thresholds). A leaf adds its ``value``
vector to outputs ``target .. target + len(value) - 1``. ``aggregate: mean`` divides the sums by the
number of trees. Links: ``logistic`` on one output gives [1 - p, p]; ``softmax`` normalises
exponentials; ``none`` returns the outputs (already probabilities); ``identity`` a regression value.

Text (scikit-learn's ``TfidfVectorizer`` with its default analyzer): lower-case the string, take
the maximal runs of word characters (Unicode letters and numbers, and ``_``) of at least two
characters as tokens (``words2``, the pattern ``\\b\\w\\w+\\b``), count each of ``terms``, multiply by
its ``idf``, then divide by the l2 norm over all ``terms`` (summed in ``terms`` order, which is
the vectorizer's column order), unless the norm is 0. Tokens outside ``terms`` are ignored.
The string is the graph input, so with a format-2 pre-graph it is already folded to ASCII
(``liveml.inference.pregraph.fold_text``) and ``terms`` hold folded words (``tr_e8_s``).
"""

from __future__ import annotations

import json
import math
import re
import struct
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from liveml.inference.errors import ArtifactError
from liveml.inference.onnx_model import Prediction
from liveml.inference.pregraph import PreGraph

COMPACT_FORMAT = "liveml.compact"
COMPACT_VERSION = 1
#: scikit-learn's default token pattern, the only one the compact format carries (``words2``).
TEXT_TOKEN_PATTERN = r"(?u)\b\w\w+\b"
_WORDS2 = re.compile(TEXT_TOKEN_PATTERN)


def _f32(x: float) -> float:
    """Round a double to float32, as scikit-learn's trees do with their input."""
    if math.isnan(x) or math.isinf(x):
        return x
    try:
        return float(struct.unpack("f", struct.pack("f", x))[0])
    except OverflowError:
        return math.copysign(math.inf, x)


class CompactModel:
    """Evaluates a compact JSON model in pure Python, one row at a time."""

    def __init__(self, doc: Mapping[str, Any]) -> None:
        if doc.get("format") != COMPACT_FORMAT or int(doc.get("version", 0)) != COMPACT_VERSION:
            raise ArtifactError(
                f"not a {COMPACT_FORMAT} v{COMPACT_VERSION} document "
                f"(format={doc.get('format')!r}, version={doc.get('version')!r})"
            )
        self.doc = doc
        self.task: str = doc["task"]
        self.classes: list[str] | None = doc.get("classes")
        self.pregraph = PreGraph.from_dict(doc["preprocessing"])
        self.features: list[dict[str, Any]] = list(doc["features"])
        self.model: dict[str, Any] = dict(doc["model"])
        self._trees = self.model.get("type") == "trees"
        self.texts: dict[str, dict[str, Any]] = dict(doc.get("texts") or {})
        for name, text in self.texts.items():
            if text.get("tokens") != "words2" or not text.get("lowercase", False):
                raise ArtifactError(f"text input {name!r}: unsupported tokenizer {text.get('tokens')!r}")
        # Kept apart from the document, which the exporter writes out after the parity check.
        self._term_index = {
            name: {term: i for i, term in enumerate(text["terms"])} for name, text in self.texts.items()
        }

    @classmethod
    def load(cls, path: str | Path) -> CompactModel:
        try:
            return cls(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError) as exc:
            raise ArtifactError(f"cannot load compact model {path}: {exc}") from None

    # --- evaluation ---------------------------------------------------------------------------

    def feature_vector(self, inputs: Mapping[str, Any]) -> list[float]:
        """The model's feature vector from one row's graph inputs (scalars)."""
        vec: list[float] = []
        tfidf = {name: self._tfidf(name, inputs[name]) for name in self.texts}
        for feat in self.features:
            if "term" in feat:
                x = tfidf[feat["input"]][self._term_index[feat["input"]][feat["term"]]]
            elif "product" in feat:
                x = 1.0
                for factor in feat["product"]:
                    x *= _numeric(inputs[factor["input"]], factor["impute"])
            elif "equals" in feat:
                x = 1.0 if inputs[feat["input"]] == feat["equals"] else 0.0
            else:
                x = _numeric(inputs[feat["input"]], feat["impute"])
            if "mean" in feat:
                x = (x - feat["mean"]) / feat["scale"]
            vec.append(x)
        return vec

    def _tfidf(self, name: str, value: Any) -> list[float]:
        text = self.texts[name]
        index = self._term_index[name]
        values = [0.0] * len(index)
        for token in _WORDS2.findall("" if value is None else str(value).lower()):
            i = index.get(token)
            if i is not None:
                values[i] += 1.0
        idf = text["idf"]
        values = [v * w for v, w in zip(values, idf, strict=True)]
        if text.get("norm") == "l2":
            sq = 0.0
            for v in values:  # a plain running sum in column order, as scikit-learn (and the C# port)
                sq += v * v
            norm = math.sqrt(sq)
            if norm > 0.0:
                values = [v / norm for v in values]
        return values

    def outputs(self, vec: Sequence[float]) -> list[float]:
        """Probabilities (classification) or ``[value]`` (regression) for one feature vector."""
        m = self.model
        if m["type"] == "linear":
            raw = [
                b + math.fsum(c * x for c, x in zip(coefs, vec, strict=True))
                for coefs, b in zip(m["coef"], m["intercept"], strict=True)
            ]
        elif m["type"] == "trees":
            raw = self._trees_raw(vec)
        else:
            raise ArtifactError(f"unknown compact model type {m['type']!r}")
        return _link(raw, m["link"])

    def _trees_raw(self, vec: Sequence[float]) -> list[float]:
        m = self.model
        n_out = int(m["n_outputs"])
        sums = [0.0] * n_out
        x32 = [_f32(v) for v in vec]
        for tree in m["trees"]:
            node = 0
            left, right = tree["left"], tree["right"]
            while left[node] != -1:
                node = left[node] if x32[tree["feature"][node]] <= tree["threshold"][node] else right[node]
            target = int(tree.get("target", 0))
            for j, v in enumerate(tree["value"][node]):
                sums[target + j] += v
        if m.get("aggregate") == "mean":
            n = len(m["trees"])
            sums = [s / n for s in sums]
        base = m.get("base") or [0.0] * n_out
        return [b + s for b, s in zip(base, sums, strict=True)]

    def predict_inputs(self, inputs: Mapping[str, Any]) -> list[list[float]]:
        """Outputs for graph inputs given as columns ([N, 1] arrays or lists) — the parity check's path."""
        names = list(inputs)
        n = len(inputs[names[0]]) if names else 0
        rows = []
        for i in range(n):
            row = {name: _scalar(inputs[name][i]) for name in names}
            rows.append(self.outputs(self.feature_vector(row)))
        return rows

    def predict(
        self, rows: Sequence[Mapping[str, Any]], *, as_of: float | datetime | None = None
    ) -> list[Prediction]:
        """Predictions for raw rows, like ``OnnxModel.predict`` (``as_of`` defaults to now)."""
        import time

        inputs = self.pregraph.transform_rows(rows, as_of=time.time() if as_of is None else as_of)
        out: list[Prediction] = []
        for probs in self.predict_inputs(inputs):
            if self.task == "regression":
                out.append(Prediction(value=probs[0]))
                continue
            assert self.classes is not None
            top = max(range(len(probs)), key=probs.__getitem__)
            out.append(
                Prediction(
                    label=self.classes[top],
                    probabilities=dict(zip(self.classes, probs, strict=True)),
                    confidence=probs[top],
                )
            )
        return out


def _scalar(v: Any) -> Any:
    """A Python scalar from a [1] array cell, a numpy scalar or a plain value."""
    while hasattr(v, "__len__") and not isinstance(v, str):
        v = v[0]
    if isinstance(v, str):
        return v
    return v.item() if hasattr(v, "item") else v


def _numeric(x: Any, impute: float) -> float:
    if x is None:
        return float(impute)
    f = float(x)
    return float(impute) if math.isnan(f) else f


def _link(raw: list[float], link: str) -> list[float]:
    if link == "identity" or link == "none":
        return raw
    if link == "logistic":
        p = _sigmoid(raw[0])
        return [1.0 - p, p]
    if link == "softmax":
        top = max(raw)
        exps = [math.exp(r - top) for r in raw]
        total = math.fsum(exps)
        return [e / total for e in exps]
    raise ArtifactError(f"unknown link {link!r}")


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)
