"""Writes the fixtures the Unity package's C# core is tested against, in the same CI run.

* ``compact/<family>-<task>.json`` with ``.expected.json``: a compact model of every family and task,
  trained for real on synthetic players (text ``feedback``, datetimes, categories, missing values),
  and the Python light runtime's outputs for many raw rows (plus rows the training never showed);
* ``compact/bench-gb100.json``: a 100-tree gradient-boosting model for the C# benchmark;
* ``model/``: a model directory written by ``train_model`` (compact model + golden requests);
* ``api/*.json``: answers of the real serving app (predict, batch, a 422 naming the field, latest);
* ``tokens.json``: strings and the tokens scikit-learn's analyzer takes from them;
* ``text_fold.json``: strings covering every code point (and odd texts) with their pre-graph fold;
* ``assignment_vectors.json``: the sticky-hash vectors the server publishes.

Usage: ``python tests/unity/fixtures.py OUT_DIR``
"""

from __future__ import annotations

import json
import math
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from fastapi.testclient import TestClient

from liveml.binding import assignment as assignment_module
from liveml.contract import Contract, Task
from liveml.data.synth import generate_players, player_contract
from liveml.features import pregraph_spec, strongest_numeric
from liveml.inference import CompactModel
from liveml.inference.compact import TEXT_TOKEN_PATTERN
from liveml.inference.pregraph import fold_text
from liveml.serving import ModelBinding, ServingSettings, create_app, load_models
from liveml.training import train_model
from liveml.training.export import check_compact_parity, sklearn_outputs, to_compact
from liveml.training.families import FAMILIES
from liveml.training.tuning import make_pipeline
from tests.small_models import SMALL

AS_OF = "2026-11-30T12:00:00Z"
ODD_TEXTS = [
    "LAGGY lag lag, crash!!",
    "Ünïcödé café — très_bien 42x a b",
    "x_y __ _a 1 22 ½ ² Ⅻ ǅungla İstanbul ß",
    "tab\tnew\nline ab-cd ab'cd",
    "",
]
#: Text in many scripts and casings, astral and combining characters, lone surrogates: the pre-graph
#: folds it to ASCII, identically in C#. (Not in ``tokens.json``: the format-1 tokenizer lowers with
#: .NET's tables, which differ from Python's on astral letters and final sigma.)
UNICODE_TEXTS = [
    "TRÈS BIEN, ÉNORME lag — Straße STRASSE",
    "İSTANBUL ıi ΣΑΣ σας ǅungla ᾈ ﬁ K Ⓐ",  # noqa: RUF001 (look-alike letters on purpose)
    "日本語のテキスト 😀👍🏽 𝐀𝐁 𐐀𐐨 ok",  # noqa: RUF001 (look-alike letters on purpose)
    "e\u0301 combining, a\u0308, \u200bzero\u200dwidth, \ufeffbom",
    "lone \ud83d surrogate \udc00 and _e9_ __ literal",
]


def _regression_contract() -> Contract:
    base = player_contract("binary")
    columns = [c for c in base.columns if c.name != "churned"]
    return Contract(
        name="players-spend",
        task=Task.REGRESSION,
        target="spend_30d",
        entity_id="player_id",
        event_time="event_time",
        columns=columns,
    )


def _data(task: str, rows: int, seed: int) -> tuple[pd.DataFrame, Contract]:
    if task == "regression":
        return generate_players(rows, seed, "binary").drop(columns=["churned"]), _regression_contract()
    return generate_players(rows, seed, task), player_contract(task)  # type: ignore[arg-type]


def _target(df: pd.DataFrame, contract: Contract) -> np.ndarray[Any, Any]:
    y = df[contract.target]
    if contract.task == Task.REGRESSION:
        return y.to_numpy(dtype=float)
    classes = contract.classes or []
    return y.astype(str).map({c: i for i, c in enumerate(classes)}).to_numpy(dtype=np.int64)


def _json_value(v: Any) -> Any:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT:
        return None
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    if isinstance(v, np.generic):
        return v.item()
    return v


def _rows(df: pd.DataFrame, contract: Contract) -> list[dict[str, Any]]:
    names = [*contract.feature_names, *([contract.event_time] if contract.event_time else [])]
    return [{n: _json_value(row[n]) for n in names if n in df.columns} for _, row in df.iterrows()]


def _stress(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows the training never showed: unseen and missing categories, missing numbers and datetimes,
    awkward text, numbers as strings, no event time (``as_of`` decides the age)."""
    out = []
    for i, base in enumerate(rows[:30]):
        row = dict(base)
        if i % 6 == 0:
            row["device"] = "never-seen-device"
        if i % 6 == 1:
            row["country"] = None
        if i % 6 == 2:
            row["avg_session_minutes"] = None
            row["friends"] = None
        if i % 6 == 3:
            row["feedback"] = ODD_TEXTS[i % len(ODD_TEXTS)]
            row.pop("event_time", None)
        if i % 6 == 4:
            row["level"] = str(row["level"])
            row["feedback"] = None
        if i % 6 == 5:
            row["signup_date"] = None
        out.append(row)
    for i, text in enumerate([*ODD_TEXTS, *UNICODE_TEXTS]):
        out.append({**rows[i], "feedback": text})
    return out


def write_compact(out: Path, family: str, task: str, params: dict[str, Any], name: str) -> None:
    df, contract = _data(task, 700, seed=11)
    y = _target(df, contract)
    spec = pregraph_spec(contract)
    inter = strongest_numeric(spec, df, y, k=3)
    pipe = make_pipeline(spec, family, params, task, 0, inter).fit(df, y)
    doc = to_compact(pipe, task, contract.classes)
    if doc is None:
        raise SystemExit(f"{family}/{task}: no compact form")
    test, _ = _data(task, 120, seed=12)
    check_compact_parity(doc, pipe, test, task, sklearn_outputs(pipe, test, task))
    rows = _rows(test, contract)
    rows += _stress(rows)
    model = CompactModel(doc)
    inputs = model.pregraph.transform_rows(rows, as_of=pd.Timestamp(AS_OF).to_pydatetime())
    expected = model.predict_inputs(inputs)
    (out / f"{name}.json").write_text(json.dumps(doc), encoding="utf-8")
    fixture = {"as_of": AS_OF, "task": task, "classes": contract.classes, "rows": rows, "outputs": expected}
    (out / f"{name}.expected.json").write_text(json.dumps(fixture), encoding="utf-8")


def write_api(out: Path, model_dir: Path) -> None:
    """Real answers of the serving app for the contract tests of the C# parser."""
    models = load_models(ModelBinding.from_dir(model_dir, model="churn", version="1"))
    golden = json.loads((model_dir / "golden_requests.json").read_text())
    features = golden["requests"][0]["features"]
    with TestClient(create_app(models, ServingSettings(capture_sample_rate=0.0))) as client:
        answers = {
            "predict": client.post("/models/churn/predict", json={"player_id": "p-1", "features": features}),
            "predict_batch": client.post(
                "/models/churn/predict/batch",
                json={"rows": [{"player_id": f"p-{i}", "features": features} for i in range(3)]},
            ),
            "error_422": client.post(
                "/models/churn/predict", json={"player_id": "p-1", "features": {**features, "level": "high"}}
            ),
            "error_400": client.post(
                "/models/churn/predict", content=b"{not json", headers={"content-type": "application/json"}
            ),
            "latest": client.get("/models/churn/latest"),
        }
    for name, r in answers.items():
        doc = {"status": r.status_code, "body": r.json()}
        (out / f"{name}.json").write_text(json.dumps(doc, indent=1), encoding="utf-8")


def write_text_fold(path: Path, texts: list[str]) -> None:
    """Every code point (runs of 256; surrogates alone between ASCII, as JSON would pair adjacent ones)
    and the odd texts, each with the Python fold the C# pre-graph must reproduce."""
    cases = [*texts, "Σ", "ΑΣ", "ΑΣ Α", "İ", "\ud800", "a\udfffb", "\U0010ffff"]  # noqa: RUF001 (look-alike letters on purpose)
    for start in range(0, 0x110000, 256):
        if 0xD800 <= start < 0xE000:
            cases += [f"x{chr(c)}y" for c in range(start, start + 256)]
        else:
            cases.append("".join(chr(c) for c in range(start, start + 256)))
    folds = [{"text": t, "fold": fold_text(t)} for t in cases]
    # ensure_ascii: lone surrogates must survive as JSON escapes (UTF-8 cannot carry them).
    path.write_text(json.dumps(folds, ensure_ascii=True), encoding="utf-8")


def main(out_dir: str) -> None:
    out = Path(out_dir)
    shutil.rmtree(out, ignore_errors=True)
    (out / "compact").mkdir(parents=True)
    (out / "api").mkdir()
    for task in ("binary", "multiclass", "regression"):
        for family in FAMILIES:
            write_compact(out / "compact", family, task, SMALL[family], f"{family}-{task}")
    bench = {"n_estimators": 100, "max_depth": 3, "learning_rate": 0.1, "subsample": 0.8}
    write_compact(out / "compact", "gradient_boosting", "binary", bench, "bench-gb100")

    df, contract = _data("binary", 800, seed=5)
    train_model(df, contract, out / "model", trials=1, time_budget_s=60, seed=0, folds=2, families=["linear"])
    write_api(out / "api", out / "model")

    texts = [*ODD_TEXTS, "great game", "Ⅷ ⅷ Ⅻ", "naïve coöperate", "Straße STRASSE", "日本語 テキスト"]
    texts += ["ǅ ǈ ᾈᾈ ᾼx", "x" * 3]
    tokens = [{"text": t, "tokens": re.findall(TEXT_TOKEN_PATTERN, t.lower())} for t in texts]
    (out / "tokens.json").write_text(json.dumps(tokens, ensure_ascii=False), encoding="utf-8")
    write_text_fold(out / "text_fold.json", [*texts, *UNICODE_TEXTS])
    vectors = Path(assignment_module.__file__).with_name("assignment_vectors.json")
    shutil.copy(vectors, out / "assignment_vectors.json")
    print(f"fixtures written to {out}")


if __name__ == "__main__":
    main(sys.argv[1])
