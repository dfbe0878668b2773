"""The pre-graph step as the first scikit-learn pipeline step (it wraps ``liveml.inference.PreGraph``)."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from liveml.inference.pregraph import PreGraph


def frame_columns(df: pd.DataFrame, names: list[str]) -> dict[str, Any]:
    """DataFrame columns as numpy arrays the pre-graph step accepts (datetimes as epoch seconds)."""
    out: dict[str, Any] = {}
    for name in names:
        if name not in df.columns:
            continue
        s = df[name]
        if pd.api.types.is_datetime64_any_dtype(s):
            # tz-aware → UTC, naive taken as UTC, exactly as the runtime parses ISO strings.
            naive = s.dt.tz_convert("UTC").dt.tz_localize(None) if s.dt.tz is not None else s
            secs = naive.to_numpy(dtype="datetime64[ns]").astype(np.int64).astype(np.float64) / 1e9
            out[name] = np.where(s.isna().to_numpy(), np.nan, secs)
        elif pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            out[name] = s.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            out[name] = s.astype(object).where(s.notna(), None).to_numpy(dtype=object)
    return out


class PreGraphTransformer(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Raw contract columns → the ONNX graph's inputs, as a DataFrame named like those inputs.

    ``spec`` is the unfitted pre-graph (from the contract); fitting learns the kept categories and the
    reference time. The export drops this step: the runtime runs the same code before the graph."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec

    def fit(self, X: pd.DataFrame, y: Any = None) -> PreGraphTransformer:  # noqa: N803 (sklearn's name)
        pregraph = PreGraph.from_dict(copy.deepcopy(self.spec))
        names = [*pregraph.feature_names, *([pregraph.event_time] if pregraph.event_time else [])]
        self.pregraph_ = pregraph.fit(frame_columns(X, names))
        self.inputs_ = [g.name for g in pregraph.graph_inputs()]
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:  # noqa: N803
        pg = self.pregraph_
        names = [*pg.feature_names, *([pg.event_time] if pg.event_time else [])]
        cols = pg.transform_columns(frame_columns(X, names), n_rows=len(X))
        return pd.DataFrame({k: v.ravel() for k, v in cols.items()}, index=X.index)

    def get_feature_names_out(self, input_features: Any = None) -> npt.NDArray[np.object_]:
        return np.asarray(self.inputs_, dtype=object)
