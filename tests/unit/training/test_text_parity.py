"""Free text in any script: ONNX, scikit-learn and the compact model agree, through the project's own
training entry point and parity checks, because the pre-graph folds text to ASCII (format 2)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from liveml.contract import Contract
from liveml.features import pregraph_spec
from liveml.inference import load_model_dir, read_manifest
from liveml.training import train_model
from liveml.training.errors import ExportError
from liveml.training.export import (
    check_compact_parity,
    check_onnx_parity,
    sklearn_outputs,
    to_compact,
    to_onnx,
)
from liveml.training.parity import PARITY_TOLERANCE
from liveml.training.tuning import make_pipeline
from tests.small_models import SMALL
from tests.unicode_text import feedback_frame, random_texts


@pytest.fixture(scope="module")
def feedback() -> tuple[pd.DataFrame, Contract]:
    return feedback_frame(600, seed=3)


@pytest.fixture(scope="module")
def unseen() -> pd.DataFrame:
    """Thousands of generated texts from every Unicode category, mixed with the label words."""
    rng = random.Random(4)
    texts = random_texts(3000, seed=5)
    # object dtype: Arrow-backed strings cannot hold the lone surrogates a JSON body may carry.
    feedback = pd.Series(texts, dtype=object)
    return pd.DataFrame({"feedback": feedback, "level": [rng.randint(1, 50) for _ in texts]})


def _fit(frame: tuple[pd.DataFrame, Contract], family: str, version: int) -> Any:
    df, contract = frame
    spec = {**pregraph_spec(contract), "version": version}
    y = df[contract.target].to_numpy(dtype=np.int64)
    return make_pipeline(spec, family, SMALL[family], "binary", 0, []).fit(df, y)


@pytest.mark.parametrize("family", ["linear", "gradient_boosting"])
def test_onnx_sklearn_and_compact_agree_on_non_ascii_text(
    feedback: tuple[pd.DataFrame, Contract], unseen: pd.DataFrame, family: str
) -> None:
    pipe = _fit(feedback, family, version=2)
    terms = pipe.named_steps["columns"].named_transformers_["text_feedback"].vocabulary_
    assert sum("_" in t for t in terms) >= 10, "the model learned words of other scripts"
    probs = sklearn_outputs(pipe, unseen, "binary")[:, 1]
    assert probs.std() > 0.05, "the text moves the predictions"

    onnx_diff, _ = check_onnx_parity(to_onnx(pipe, "binary"), pipe, unseen, "binary", ["0", "1"])
    doc = to_compact(pipe, "binary", ["0", "1"])
    assert doc is not None and doc["preprocessing"]["version"] == 2
    compact_diff = check_compact_parity(doc, pipe, unseen, "binary", sklearn_outputs(pipe, unseen, "binary"))
    assert onnx_diff <= PARITY_TOLERANCE and compact_diff <= PARITY_TOLERANCE


def test_without_the_fold_the_parity_check_refuses_the_same_data(
    feedback: tuple[pd.DataFrame, Contract], unseen: pd.DataFrame
) -> None:
    """What format 1 (text as it came) did on this data: the ONNX tokenizer splits words differently."""
    pipe = _fit(feedback, "linear", version=1)
    # Without the fold a lone surrogate reaches pandas' Arrow strings (and ONNX's UTF-8) unchanged.
    encodable = unseen[
        [t.encode("utf-8", "surrogatepass") == t.encode("utf-8", "replace") for t in unseen["feedback"]]
    ]
    assert len(encodable) > 2500
    with pytest.raises(ExportError, match="ONNX does not reproduce scikit-learn"):
        check_onnx_parity(to_onnx(pipe, "binary"), pipe, encodable, "binary", ["0", "1"])


def test_training_passes_its_parity_check_on_text_in_many_scripts(
    feedback: tuple[pd.DataFrame, Contract], tmp_path: Path
) -> None:
    df, contract = feedback
    result = train_model(
        df, contract, tmp_path / "m", trials=1, time_budget_s=60, seed=0, folds=2, families=["linear"]
    )
    manifest = read_manifest(result.out_dir)
    assert manifest["preprocessing"]["version"] == 2
    assert manifest["parity"]["onnx_max_abs_diff"] <= PARITY_TOLERANCE
    bundle = load_model_dir(result.out_dir)
    compact = bundle.compact
    assert compact is not None
    rows = [
        {"feedback": t, "level": 7} for t in ["TRÈS BIEN", "Straße kaputt", "İYİ OYUN", "素晴らしい", "ΚΑΚΟΣ"]
    ]
    served = [(p.probabilities or {})["1"] for p in bundle.onnx.predict(rows, as_of=0.0)]
    device = [(p.probabilities or {})["1"] for p in compact.predict(rows, as_of=0.0)]
    assert np.allclose(served, device, atol=PARITY_TOLERANCE, rtol=0)
    assert served[0] > 0.5 > served[1] and served[2] > 0.5 > served[4], "the words of each script count"
