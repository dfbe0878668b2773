"""Every family, every task: the pipeline fits, converts to ONNX and to the compact format, and both
reproduce scikit-learn — including unseen categories, NaN everywhere and missing columns."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from liveml.contract import Contract
from liveml.features import build_pipeline, pregraph_spec, strongest_numeric
from liveml.inference import OTHER, CompactModel, OnnxModel
from liveml.training.export import (
    _text_block,
    check_compact_parity,
    check_onnx_parity,
    graph_inputs,
    sklearn_outputs,
    to_compact,
    to_onnx,
    tolerance,
)
from liveml.training.families import FAMILIES, pipeline_options
from tests.small_models import SMALL
from tests.unit.features.conftest import target

Frame = Callable[..., pd.DataFrame]
Spec = Callable[..., Contract]
CLASSES = {"binary": ["no", "yes"], "multiclass": ["lo", "mid", "hi"]}


def _encode(df: pd.DataFrame, task: str) -> npt.NDArray[Any]:
    if task == "regression":
        return df["y"].to_numpy(dtype=float)
    classes = CLASSES[task]
    return df["y"].map({c: i for i, c in enumerate(classes)}).to_numpy(dtype=np.int64)


def _stress(df: pd.DataFrame) -> pd.DataFrame:
    """Rows the training data never showed: unseen and missing categories, NaN, missing datetimes."""
    bad = df.head(40).copy()
    bad.loc[bad.index[:10], "c"] = "never-seen"
    bad.loc[bad.index[10:20], "c"] = None
    bad.loc[bad.index[5:25], "a"] = np.nan
    bad.loc[bad.index[20:30], "t"] = pd.NaT
    bad.loc[bad.index[30:35], "b"] = np.nan
    return pd.concat([df, bad], ignore_index=True)


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
@pytest.mark.parametrize("family", list(FAMILIES))
def test_onnx_and_compact_parity(family: str, task: str, make_frame: Frame, make_contract: Spec) -> None:
    contract = make_contract(task)
    df = make_frame(900, seed=1, task=task)
    y = _encode(df, task)
    spec = pregraph_spec(contract)
    fam = FAMILIES[family]
    est, opts = pipeline_options(family, SMALL[family])
    inter = strongest_numeric(spec, df, y, k=3)
    pipe = build_pipeline(
        spec,
        fam.make(est, task, 0),
        task=task,
        scale=fam.scale,
        interactions=inter if opts["interactions"] else None,
        select_percentile=opts["select_percentile"],
    ).fit(df, y)
    test = _stress(make_frame(300, seed=2, task=task))
    classes = contract.classes
    onnx_bytes = to_onnx(pipe, task)
    diff, expected = check_onnx_parity(onnx_bytes, pipe, test, task, classes)
    assert diff <= tolerance(task)
    doc = to_compact(pipe, task, classes)
    assert doc is not None  # no text column: every family has a compact form
    assert check_compact_parity(doc, pipe, test, task, expected) <= tolerance(task)


TEXTS = [
    "great game",
    "too hard boss",
    "love it",
    "boss too easy",
    "LAGGY lag lag, crash!!",
    "Ünïcödé café — très_bien 42x a b",
    "",
]


def _text_frame(make_frame: Frame, n: int, seed: int, task: str) -> pd.DataFrame:
    """The mixed frame whose target also depends on words of its text column."""
    rng = np.random.default_rng(seed)
    df = make_frame(n, seed=seed, task=task)
    df["txt"] = rng.choice(TEXTS, n)
    signal = (
        df["a"].fillna(0) + 1.5 * df["txt"].str.contains("lag|hard", case=False) + rng.normal(size=n) * 0.3
    )
    df["y"] = target(signal, task)
    return df


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
@pytest.mark.parametrize("family", list(FAMILIES))
def test_text_column_gets_a_compact_model(
    family: str, task: str, make_frame: Frame, make_contract: Spec
) -> None:
    contract = make_contract(task, text=True)
    df = _text_frame(make_frame, 700, seed=3, task=task)
    y = _encode(df, task)
    spec = pregraph_spec(contract)
    fam = FAMILIES[family]
    est, opts = pipeline_options(family, SMALL[family])
    pipe = build_pipeline(
        spec,
        fam.make(est, task, 0),
        task=task,
        scale=fam.scale,
        select_percentile=opts["select_percentile"],
    ).fit(df, y)
    test = _text_frame(make_frame, 200, seed=4, task=task)
    test.loc[:20, "txt"] = "completely unseen words here"
    test.loc[21:30, "txt"] = None
    test.loc[31:40, "txt"] = "Lag_lag LAG lag. café CAFÉ 42x"
    # ONNX Runtime's tokenizer (locale C) does not lower-case or split non-ASCII text as scikit-learn
    # does, so ONNX is checked on ASCII rows only; the compact model follows scikit-learn on all.
    ascii_rows = test[test["txt"].fillna("").map(str.isascii)]
    diff, _ = check_onnx_parity(to_onnx(pipe, task), pipe, ascii_rows, task, contract.classes)
    assert diff <= tolerance(task)
    expected = sklearn_outputs(pipe, test, task)
    doc = to_compact(pipe, task, contract.classes)
    assert doc is not None and "txt" in doc["texts"]
    assert any(f.get("term") for f in doc["features"])
    assert check_compact_parity(doc, pipe, test, task, expected) <= tolerance(task)
    assert "index" not in json.dumps(doc["texts"])  # the evaluator leaves the document as exported


def test_compact_tfidf_is_scikit_learns(make_contract: Spec) -> None:
    """The compact tokenizer and weighting reproduce TfidfVectorizer on awkward strings."""
    docs = [*TEXTS, "x_y __ _a 1 22 ½ ² Ⅻ ǅungla İstanbul ß", "tab\tnew\nline", "ab-cd ab'cd"]
    tfidf = TfidfVectorizer().fit(docs * 3)
    block = _text_block(tfidf)
    assert block is not None
    model = CompactModel(
        {
            "format": "liveml.compact",
            "version": 1,
            "task": "regression",
            "classes": None,
            "preprocessing": {"version": 1, "columns": [{"name": "t", "type": "text"}]},
            "features": [{"input": "t", "term": term} for term in block["terms"]],
            "texts": {"t": block},
            "model": {
                "type": "linear",
                "coef": [[0.0] * len(block["terms"])],
                "intercept": [0.0],
                "link": "identity",
            },
        }
    )
    want = tfidf.transform(docs).toarray()
    got = np.array([model.feature_vector({"t": d}) for d in docs])
    np.testing.assert_array_equal(got, want)


def test_unsupported_text_settings_have_no_compact_form() -> None:
    for tfidf in (TfidfVectorizer(ngram_range=(1, 2)), TfidfVectorizer(sublinear_tf=True)):
        assert _text_block(tfidf.fit(TEXTS)) is None


def test_unseen_category_goes_to_the_infrequent_bucket(frame: pd.DataFrame, make_contract: Spec) -> None:
    contract = make_contract()
    spec = pregraph_spec(contract)
    est, _ = pipeline_options("gradient_boosting", SMALL["gradient_boosting"])
    y = _encode(frame, "binary")
    pipe = build_pipeline(
        spec, FAMILIES["gradient_boosting"].make(est, "binary", 0), task="binary", scale=False
    ).fit(frame, y)
    pregraph = pipe.named_steps["pregraph"].pregraph_
    assert "rare" not in (pregraph.columns[2].categories or [])  # below min_frequency
    rows = frame.head(3).copy()
    rows["c"] = ["rare", "brand-new", "x"]
    inputs = graph_inputs(pipe, rows)
    assert list(inputs["c"].ravel()) == [OTHER, OTHER, "x"]
    model = OnnxModel(to_onnx(pipe, "binary"), pregraph, task="binary", classes=contract.classes)
    got = model.run_inputs(inputs)
    np.testing.assert_allclose(got, sklearn_outputs(pipe, rows, "binary"), atol=1e-5)


def test_trees_get_unscaled_numeric_and_linear_scaled(make_contract: Spec) -> None:
    spec = pregraph_spec(make_contract())
    for family, fam in FAMILIES.items():
        est, _ = pipeline_options(family, SMALL[family])
        pipe = build_pipeline(spec, fam.make(est, "binary", 0), task="binary", scale=fam.scale)
        num = dict((n, t) for n, t, _ in pipe.named_steps["columns"].transformers)["num"]
        assert ("scale" in num.named_steps) == (family == "linear")


def test_strongest_numeric_finds_the_signal(frame: pd.DataFrame, make_contract: Spec) -> None:
    spec = pregraph_spec(make_contract())
    top = strongest_numeric(spec, frame, _encode(frame, "binary"), k=2)
    assert "a" in top


def test_column_names_that_are_not_identifiers(make_frame: Frame, make_contract: Spec) -> None:
    df = make_frame(400, seed=5).rename(columns={"a": "od280/od315 ratio", "c": "device-type"})
    contract = Contract.from_dict(
        {
            "name": "odd",
            "task": "binary",
            "target": "y",
            "classes": ["no", "yes"],
            "columns": [
                {"name": "od280/od315 ratio", "type": "numeric"},
                {"name": "device-type", "type": "categorical"},
                {"name": "y", "type": "categorical"},
            ],
        }
    )
    y = _encode(df, "binary")
    est, _ = pipeline_options("linear", SMALL["linear"])
    pipe = build_pipeline(
        pregraph_spec(contract), FAMILIES["linear"].make(est, "binary", 0), task="binary", scale=True
    ).fit(df, y)
    diff, _ = check_onnx_parity(to_onnx(pipe, "binary"), pipe, df, "binary", contract.classes)
    assert diff <= 1e-5


@pytest.mark.parametrize("family", list(FAMILIES))
def test_the_demo_players_get_a_device_model(family: str) -> None:
    """The demo's contract has the free-text ``feedback``: every family still gets a compact model."""
    from liveml.data.synth import generate_players, player_contract

    contract = player_contract("binary")
    df = generate_players(600, 3, "binary")
    y = df["churned"].to_numpy(dtype=np.int64)
    fam = FAMILIES[family]
    est, opts = pipeline_options(family, SMALL[family])
    pipe = build_pipeline(
        pregraph_spec(contract),
        fam.make(est, "binary", 0),
        task="binary",
        scale=fam.scale,
        select_percentile=opts["select_percentile"],
    ).fit(df, y)
    doc = to_compact(pipe, "binary", contract.classes)
    assert doc is not None and doc["texts"]["feedback"]["terms"]
    test = generate_players(200, 4, "binary")
    assert check_compact_parity(doc, pipe, test, "binary", sklearn_outputs(pipe, test, "binary")) <= 1e-5
