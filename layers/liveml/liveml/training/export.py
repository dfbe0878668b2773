"""Export a fitted pipeline to ONNX and to the compact JSON format, each with a parity check.

The exported graph is the pipeline without its first (pre-graph) step, with one input per graph
input named as in ``PreGraph.graph_inputs()``; the runtime runs the pre-graph step before it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline

from liveml.features import frame_columns
from liveml.inference import COMPACT_FORMAT, COMPACT_VERSION, CompactModel, OnnxModel, PreGraph
from liveml.inference.compact import TEXT_TOKEN_PATTERN
from liveml.training.errors import ExportError, OnnxParityError
from liveml.training.parity import PARITY_TOLERANCE as PARITY_TOLERANCE
from liveml.training.parity import REGRESSION_RTOL as REGRESSION_RTOL
from liveml.training.parity import max_abs_diff as max_abs_diff
from liveml.training.parity import tolerance as tolerance


def fitted_pregraph(pipeline: Pipeline) -> PreGraph:
    pregraph: PreGraph = pipeline.named_steps["pregraph"].pregraph_
    return pregraph


def graph_inputs(pipeline: Pipeline, df: pd.DataFrame) -> dict[str, npt.NDArray[Any]]:
    """The graph inputs for a raw frame, computed by the runtime's own pre-graph code."""
    pg = fitted_pregraph(pipeline)
    names = [*pg.feature_names, *([pg.event_time] if pg.event_time else [])]
    return pg.transform_columns(frame_columns(df, names), n_rows=len(df))


def sklearn_outputs(pipeline: Pipeline, df: pd.DataFrame, task: str) -> npt.NDArray[np.float64]:
    """Probabilities [N, K] or values [N] from scikit-learn."""
    if task == "regression":
        return np.asarray(pipeline.predict(df), dtype=np.float64).reshape(-1)
    return np.asarray(pipeline.predict_proba(df), dtype=np.float64)


def floor_float32(values: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    """The largest float32 value <= each value, as float64. For any float32 ``x``,
    ``x <= t`` exactly when ``x <= floor_float32(t)``, and the result survives a cast to float32."""
    t = np.asarray(values, dtype=np.float64)
    with np.errstate(over="ignore"):
        f = t.astype(np.float32)
    down = np.nextafter(f, np.float32(-np.inf))
    return np.where(f.astype(np.float64) > t, down, f).astype(np.float64)


def make_float32_exact(pipeline: Pipeline) -> Pipeline:
    """Make a fitted pipeline's trees take the same branches in ONNX Runtime (float32) as in
    scikit-learn (float64), by construction; returns the pipeline, changed in place.

    The graph inputs are float32 already (the pre-graph step casts every numeric input), and the
    imputers' fill values are snapped to float32 here, so every value a tree compares is a float32
    value on both sides. Each split threshold ``t`` then becomes the largest float32 value ``<= t``:
    it splits every float32 input exactly as ``t`` did, so scikit-learn's predictions do not change,
    and ONNX stores it without rounding. (Without this, ONNX rounds a threshold to the nearest float32,
    and an input equal to that rounded value goes left in ONNX and right in scikit-learn.)"""
    columns = pipeline.named_steps.get("columns")
    for _, trans, _ in getattr(columns, "transformers_", []):
        steps = trans.named_steps.values() if isinstance(trans, Pipeline) else [trans]
        for step in steps:
            if hasattr(step, "statistics_") and np.asarray(step.statistics_).dtype.kind == "f":
                step.statistics_ = floor_float32(step.statistics_)
    model = pipeline.steps[-1][1]
    for predictors in getattr(model, "_predictors", []):  # HistGradientBoosting
        for predictor in predictors:
            predictor.nodes["num_threshold"] = floor_float32(predictor.nodes["num_threshold"])
    for tree in np.asarray(getattr(model, "estimators_", []), dtype=object).ravel():  # forests, boosting
        if hasattr(tree, "tree_"):
            # ``tree_.threshold`` is a view of the tree's node array: assigning into it changes the tree.
            tree.tree_.threshold[:] = floor_float32(tree.tree_.threshold)
    return pipeline


def to_onnx(pipeline: Pipeline, task: str) -> bytes:
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    body = Pipeline(pipeline.steps[1:])
    initial = [
        (g.name, FloatTensorType([None, 1]) if g.dtype == "float" else StringTensorType([None, 1]))
        for g in fitted_pregraph(pipeline).graph_inputs()
    ]
    # Options keyed by type: ColumnTransformer clones its transformers, so id-keyed ones are lost.
    # locale 'C': without it the TF-IDF session fails to load where only C/POSIX locales exist.
    options: dict[Any, Any] = {TfidfVectorizer: {"locale": "C"}}
    model = pipeline.steps[-1][1]
    if task != "regression":
        options[type(model)] = {"zipmap": False}
    try:
        onx = convert_sklearn(body, initial_types=initial, options=options)
    except Exception as exc:  # skl2onnx raises many types; all mean "cannot export"
        raise ExportError(f"ONNX conversion of {type(model).__name__} failed: {exc}") from exc
    _restore_input_names(onx, [name for name, _ in initial])
    return bytes(onx.SerializeToString())


def _restore_input_names(onx: Any, wanted: list[str]) -> None:
    """skl2onnx rewrites input names that are not identifiers ('a/b' -> 'a_b'); the runtime feeds
    inputs by the column's own name, so put those back (ONNX allows any string)."""
    inputs = list(onx.graph.input)
    if len(inputs) != len(wanted):
        raise ExportError(f"the ONNX graph has {len(inputs)} inputs, expected {len(wanted)}")
    for inp, want in zip(inputs, wanted, strict=True):
        if inp.name == want:
            continue
        old, inp.name = inp.name, want
        for node in onx.graph.node:
            for i, name in enumerate(node.input):
                if name == old:
                    node.input[i] = want


def check_onnx_parity(
    onnx_bytes: bytes, pipeline: Pipeline, df: pd.DataFrame, task: str, classes: list[str] | None
) -> tuple[float, npt.NDArray[np.float64]]:
    """Max difference ONNX vs scikit-learn on ``df``; raises ``OnnxParityError`` above the tolerance."""
    expected = sklearn_outputs(pipeline, df, task)
    model = OnnxModel(onnx_bytes, fitted_pregraph(pipeline), task=task, classes=classes)
    got = model.run_inputs(graph_inputs(pipeline, df))
    diff = max_abs_diff(got, expected, task)
    tol = tolerance(task)
    if not diff <= tol:
        per_row = np.abs(got - expected).reshape(len(df), -1).max(axis=1)
        if task == "regression":
            per_row = per_row / np.maximum(1.0, np.abs(expected))
        raise OnnxParityError(
            f"ONNX does not reproduce scikit-learn: max difference {diff:.3g} > {tol:g} "
            f"on {int(np.sum(per_row > tol))} of {len(df)} holdout rows "
            f"({type(pipeline.steps[-1][1]).__name__})"
        )
    return diff, expected


# --- compact ------------------------------------------------------------------------------------


def to_compact(pipeline: Pipeline, task: str, classes: list[str] | None) -> dict[str, Any] | None:
    """The compact document of a fitted pipeline, or ``None`` when it holds something the format
    cannot (an unknown transformer or estimator)."""
    columns = pipeline.named_steps["columns"]
    features: list[dict[str, Any]] = []
    texts: dict[str, dict[str, Any]] = {}
    for name, trans, cols in columns.transformers_:
        if name == "remainder" or trans == "drop":
            continue
        if name.startswith("text_"):
            text = _text_block(trans)
            if text is None:
                return None
            texts[str(cols)] = text
            features.extend({"input": cols, "term": term} for term in text["terms"])
        elif name == "num":
            features.extend(_numeric_features(trans, list(cols)))
        elif name == "cat":
            for col, cats in zip(cols, trans.categories_, strict=True):
                features.extend({"input": col, "equals": str(c)} for c in cats)
        elif name == "inter":
            features.extend(_interaction_features(trans, list(cols)))
        else:
            return None
    keep = pipeline.named_steps["variance"].get_support()
    features = [f for f, k in zip(features, keep, strict=True) if k]
    if "select" in pipeline.named_steps:
        keep = pipeline.named_steps["select"].get_support()
        features = [f for f, k in zip(features, keep, strict=True) if k]
    model = _compact_model(pipeline.steps[-1][1], task)
    if model is None:
        return None
    doc = {
        "format": COMPACT_FORMAT,
        "version": COMPACT_VERSION,
        "task": task,
        "classes": classes,
        "preprocessing": fitted_pregraph(pipeline).to_dict(),
        "features": features,
        "model": model,
    }
    if texts:
        doc["texts"] = texts
    return doc


def _text_block(tfidf: TfidfVectorizer) -> dict[str, Any] | None:
    """The whole fitted vocabulary with its idf (the l2 norm runs over every term, including those
    the selection steps drop later), or ``None`` for settings the compact tokenizer does not follow."""
    plain = (
        tfidf.analyzer == "word"
        and tfidf.lowercase
        and tfidf.token_pattern == TEXT_TOKEN_PATTERN
        and tfidf.ngram_range == (1, 1)
        and tfidf.strip_accents is None
        and tfidf.stop_words is None
        and tfidf.preprocessor is None
        and tfidf.tokenizer is None
        and not tfidf.binary
        and not tfidf.sublinear_tf
        and tfidf.norm in ("l2", None)
    )
    if not plain:
        return None
    terms = sorted(tfidf.vocabulary_, key=tfidf.vocabulary_.__getitem__)
    idf = [float(x) for x in tfidf.idf_] if tfidf.use_idf else [1.0] * len(terms)
    return {"tokens": "words2", "lowercase": True, "norm": tfidf.norm, "terms": terms, "idf": idf}


def _f32(x: float) -> float:
    # The imputer writes its value into the float32 input, so the model sees it rounded.
    return float(np.float32(x))


def _numeric_features(trans: Pipeline, cols: list[str]) -> list[dict[str, Any]]:
    impute = trans.named_steps["impute"].statistics_
    scaler = trans.named_steps.get("scale")
    out = []
    for i, col in enumerate(cols):
        feat: dict[str, Any] = {"input": col, "impute": _f32(impute[i])}
        if scaler is not None:
            feat["mean"], feat["scale"] = float(scaler.mean_[i]), float(scaler.scale_[i])
        out.append(feat)
    return out


def _interaction_features(trans: Pipeline, cols: list[str]) -> list[dict[str, Any]]:
    impute = trans.named_steps["impute"].statistics_
    scaler = trans.named_steps["scale"]
    out = []
    for j, powers in enumerate(trans.named_steps["poly"].powers_):
        factors = [
            {"input": cols[i], "impute": _f32(impute[i])} for i, p in enumerate(powers) for _ in range(p)
        ]
        out.append({"product": factors, "mean": float(scaler.mean_[j]), "scale": float(scaler.scale_[j])})
    return out


def _compact_model(est: Any, task: str) -> dict[str, Any] | None:
    kind = type(est).__name__
    if kind in ("LogisticRegression", "Ridge"):
        coef = np.atleast_2d(est.coef_)
        intercept = np.atleast_1d(est.intercept_)
        link = "identity" if task == "regression" else ("logistic" if coef.shape[0] == 1 else "softmax")
        return {"type": "linear", "coef": coef.tolist(), "intercept": intercept.tolist(), "link": link}
    if kind.startswith(("RandomForest", "ExtraTrees")):
        trees = []
        for tree in est.estimators_:
            t = tree.tree_
            if task == "regression":
                values = t.value[:, 0, :1]
            else:
                v = t.value[:, 0, :]
                values = v / np.maximum(v.sum(axis=1, keepdims=True), 1e-300)
            trees.append(_sk_tree(t, 0, values))
        n_out = 1 if task == "regression" else len(est.classes_)
        link = "identity" if task == "regression" else "none"
        return {
            "type": "trees",
            "n_outputs": n_out,
            "base": [0.0] * n_out,
            "aggregate": "mean",
            "link": link,
            "trees": trees,
        }
    if kind.startswith("GradientBoosting"):
        lr = float(est.learning_rate)
        n_out = est.estimators_.shape[1]
        trees = [
            _sk_tree(stage[k].tree_, k, stage[k].tree_.value[:, 0, :1] * lr)
            for stage in est.estimators_
            for k in range(n_out)
        ]
        base = est._raw_predict_init(np.zeros((1, est.n_features_in_), dtype=np.float32))[0]
        return {
            "type": "trees",
            "n_outputs": n_out,
            "base": [float(b) for b in base],
            "aggregate": "sum",
            "link": _boost_link(task, n_out),
            "trees": trees,
        }
    if kind.startswith("HistGradientBoosting"):
        trees = []
        for iteration in est._predictors:
            for k, predictor in enumerate(iteration):
                nodes = predictor.nodes
                leaf = nodes["is_leaf"].astype(bool)
                trees.append(
                    {
                        "target": k,
                        "feature": [int(f) for f in nodes["feature_idx"]],
                        "threshold": [float(t) for t in nodes["num_threshold"]],
                        "left": [-1 if lf else int(n) for lf, n in zip(leaf, nodes["left"], strict=True)],
                        "right": [-1 if lf else int(n) for lf, n in zip(leaf, nodes["right"], strict=True)],
                        "value": [[float(v)] for v in nodes["value"]],
                    }
                )
        base = np.asarray(est._baseline_prediction, dtype=np.float64).reshape(-1)
        return {
            "type": "trees",
            "n_outputs": len(base),
            "base": base.tolist(),
            "aggregate": "sum",
            "link": _boost_link(task, len(base)),
            "trees": trees,
        }
    return None


def _boost_link(task: str, n_out: int) -> str:
    if task == "regression":
        return "identity"
    return "logistic" if n_out == 1 else "softmax"


def _sk_tree(t: Any, target: int, values: npt.NDArray[np.float64]) -> dict[str, Any]:
    return {
        "target": target,
        "feature": [max(int(f), 0) for f in t.feature],
        "threshold": [float(x) for x in t.threshold],
        "left": [int(x) for x in t.children_left],
        "right": [int(x) for x in t.children_right],
        "value": values.tolist(),
    }


def check_compact_parity(
    doc: dict[str, Any], pipeline: Pipeline, df: pd.DataFrame, task: str, expected: npt.NDArray[np.float64]
) -> float:
    """Max difference compact evaluator vs scikit-learn on ``df``; ``ExportError`` above the tolerance."""
    rows = np.asarray(CompactModel(doc).predict_inputs(graph_inputs(pipeline, df)), dtype=np.float64)
    got = rows.reshape(-1) if task == "regression" else rows
    diff = max_abs_diff(got, expected, task)
    if not diff <= tolerance(task):
        raise ExportError(
            "the compact model does not reproduce scikit-learn: "
            f"max difference {diff:.3g} > {tolerance(task):g}"
        )
    return diff
