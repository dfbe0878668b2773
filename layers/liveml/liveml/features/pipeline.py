"""The feature pipeline: one scikit-learn ``Pipeline`` per model, built from the contract.

    pregraph  →  columns (ColumnTransformer)  →  variance  →  [select]  →  model

* ``pregraph``: raw columns → graph inputs (see ``liveml.inference.pregraph``); dropped at export.
* numeric (numeric, integer, boolean and the datetime parts): median impute, and StandardScaler
  only for linear models. Trees get unscaled values on purpose: ONNX computes in float32 and
  imputed-then-scaled values can land on the other side of a tree threshold (median impute →
  scale → HGB put 180 of 2,000 rows on the wrong side).
* categorical: one-hot of the categories the pre-graph step kept, plus ``__other__``/``__missing__``
  (``handle_unknown='ignore'`` as a second guard); skl2onnx's own infrequent bucket fails at run time.
* text: bounded TF-IDF (``max_features``), no ``sublinear_tf`` (it converts but mispredicts).
* interactions (linear models only): pairwise products of the strongest numeric columns — a product
  is not float32-exact, so trees never see one.
* selection: ``VarianceThreshold`` for everyone; ``SelectPercentile`` as a tuned option for linear models.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.feature_selection import SelectPercentile, VarianceThreshold, f_classif, f_regression
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, PolynomialFeatures, StandardScaler

from liveml.features.pregraph import PreGraphTransformer, frame_columns
from liveml.inference.pregraph import PreGraph

TEXT_MAX_FEATURES = 100


def pregraph_spec(contract: Any, *, min_frequency: int = 5, max_categories: int = 30) -> dict[str, Any]:
    """The unfitted pre-graph of a contract, as the dict the first pipeline step takes."""
    return PreGraph.from_contract(
        contract, min_frequency=min_frequency, max_categories=max_categories
    ).to_dict()


def _inputs_by_role(spec: dict[str, Any]) -> dict[str, list[str]]:
    roles: dict[str, list[str]] = {"numeric": [], "categorical": [], "text": []}
    for g in PreGraph.from_dict(spec).graph_inputs():
        roles["numeric" if g.role == "datetime" else g.role].append(g.name)
    return roles


def build_pipeline(
    spec: dict[str, Any],
    estimator: Any,
    *,
    task: str,
    scale: bool,
    interactions: list[str] | None = None,
    select_percentile: int | None = None,
) -> Pipeline:
    """The whole pipeline for one model. ``scale`` is for linear models; trees must not be scaled."""
    roles = _inputs_by_role(spec)
    blocks: list[tuple[str, Any, Any]] = []
    if roles["numeric"]:
        steps: list[tuple[str, Any]] = [
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True))
        ]
        if scale:
            steps.append(("scale", StandardScaler()))
        blocks.append(("num", Pipeline(steps), roles["numeric"]))
    if roles["categorical"]:
        onehot = OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=np.float32)
        blocks.append(("cat", onehot, roles["categorical"]))
    for name in roles["text"]:
        tfidf = TfidfVectorizer(max_features=TEXT_MAX_FEATURES, ngram_range=(1, 1), sublinear_tf=False)
        blocks.append((f"text_{name}", tfidf, name))  # a string (not a list): TF-IDF wants 1-D input
    if interactions and scale and len(interactions) >= 2:
        inter = Pipeline(
            [
                ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
                ("poly", PolynomialFeatures(degree=2, interaction_only=True, include_bias=False)),
                ("scale", StandardScaler()),
            ]
        )
        blocks.append(("inter", inter, list(interactions)))
    steps_all: list[tuple[str, Any]] = [
        ("pregraph", PreGraphTransformer(spec)),
        ("columns", ColumnTransformer(blocks, sparse_threshold=0.0, remainder="drop")),
        ("variance", VarianceThreshold(0.0)),
    ]
    if select_percentile is not None and select_percentile < 100:
        score = f_regression if task == "regression" else f_classif
        steps_all.append(("select", SelectPercentile(score, percentile=select_percentile)))
    steps_all.append(("model", estimator))
    return Pipeline(steps_all)


def strongest_numeric(
    spec: dict[str, Any], df: pd.DataFrame, y: np.ndarray[Any, Any], k: int = 4
) -> list[str]:
    """The ``k`` numeric graph inputs most correlated (absolute Pearson, after median impute) with the
    target — for multiclass, with any class indicator — as candidates for interactions."""
    pre = PreGraphTransformer(spec).fit(df)
    frame = pre.transform(df)
    names = _inputs_by_role(spec)["numeric"]
    targets = (
        [y.astype(float)]
        if y.dtype.kind == "f" or len(np.unique(y)) <= 2
        else [(y == c).astype(float) for c in np.unique(y)]
    )
    scored: list[tuple[float, str]] = []
    for name in names:
        x = frame[name].to_numpy(dtype=np.float64)
        x = np.where(np.isnan(x), np.nanmedian(x) if np.isfinite(x).any() else 0.0, x)
        if np.std(x) == 0:
            continue
        best = max(abs(float(np.corrcoef(x, t)[0, 1])) if np.std(t) > 0 else 0.0 for t in targets)
        scored.append((best, name))
    scored.sort(key=lambda s: (-s[0], s[1]))
    return [name for _, name in scored[:k]]


__all__ = ["TEXT_MAX_FEATURES", "build_pipeline", "frame_columns", "pregraph_spec", "strongest_numeric"]
