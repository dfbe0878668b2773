"""Model search benchmark: our TPE search vs random search vs FLAML at the same time budget.

Prints ``dataset method score seconds`` lines (score: holdout ROC AUC for classification, macro
one-vs-rest for multiclass, R² for regression; the same 80/20 split for every method), then
``<dataset> onnx_parity_max_abs_diff <x>`` and ``compact_parity_max_abs_diff`` lines for our models.

    python benchmarks/training.py                 # 60 s per method and dataset
    python benchmarks/training.py --budget 10     # a quick look
    python benchmarks/training.py --flaml-python /path/to/venv/bin/python

FLAML runs in whatever interpreter can import it (this one, or ``--flaml-python``, a separate venv
so that its dependencies never touch ours); without one its lines say ``skipped``.
California housing needs a download, so regression uses diabetes when it is not cached.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn import datasets
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from liveml.contract import Contract
from liveml.data.synth import generate_players, player_contract
from liveml.features import pregraph_spec, strongest_numeric
from liveml.training import train_model
from liveml.training.export import sklearn_outputs
from liveml.training.metrics import score
from liveml.training.train import encode_target
from liveml.training.tuning import make_pipeline, search

FLAML_SCRIPT = r"""
import json, sys, time
import pandas as pd
from flaml import AutoML
from sklearn.metrics import r2_score, roc_auc_score
cfg = json.loads(sys.argv[1])
train, hold = pd.read_csv(cfg["train"]), pd.read_csv(cfg["hold"])
y_tr, y_ho = train.pop("__y__"), hold.pop("__y__")
task = "regression" if cfg["task"] == "regression" else "classification"
metric = {"binary": "roc_auc", "multiclass": "roc_auc_ovr", "regression": "r2"}[cfg["task"]]
t0 = time.monotonic()
automl = AutoML()
automl.fit(train, y_tr, task=task, metric=metric, time_budget=cfg["budget"], seed=cfg["seed"], verbose=0,
           n_jobs=2)
if task == "regression":
    s = r2_score(y_ho, automl.predict(hold))
elif cfg["task"] == "binary":
    s = roc_auc_score(y_ho, automl.predict_proba(hold)[:, 1])
else:
    s = roc_auc_score(y_ho, automl.predict_proba(hold), multi_class="ovr", average="macro")
print(json.dumps({"score": float(s), "seconds": time.monotonic() - t0, "best": automl.best_estimator}))
"""


def _sklearn_frame(name: str) -> tuple[pd.DataFrame, Contract]:
    if name == "breast_cancer":
        frame, task, classes = datasets.load_breast_cancer(as_frame=True).frame, "binary", ["0", "1"]
    elif name == "wine":
        frame, task, classes = datasets.load_wine(as_frame=True).frame, "multiclass", ["0", "1", "2"]
    elif name == "digits_binary":
        frame = datasets.load_digits(as_frame=True).frame
        frame["target"] = (frame["target"] >= 5).astype(int)  # digits 5-9 vs 0-4
        task, classes = "binary", ["0", "1"]
    elif name == "california_housing":
        frame, task, classes = (
            datasets.fetch_california_housing(as_frame=True, download_if_missing=False).frame,
            "regression",
            None,
        )
        frame = frame.rename(columns={"MedHouseVal": "target"})
    else:
        frame, task, classes = datasets.load_diabetes(as_frame=True).frame, "regression", None
    frame = frame.rename(columns=lambda c: str(c).replace(" ", "_"))
    cols: list[dict[str, Any]] = [{"name": c, "type": "numeric"} for c in frame.columns if c != "target"]
    cols.append({"name": "target", "type": "numeric" if task == "regression" else "integer"})
    contract = Contract.from_dict(
        {"name": name, "task": task, "target": "target", "classes": classes, "columns": cols}
    )
    return frame, contract


def _datasets(synth_rows: int) -> list[tuple[str, pd.DataFrame, Contract]]:
    out = [(n, *_sklearn_frame(n)) for n in ("breast_cancer", "wine", "digits_binary")]
    try:
        out.append(("california_housing", *_sklearn_frame("california_housing")))
    except OSError:
        out.append(("diabetes", *_sklearn_frame("diabetes")))
    out.append(
        (
            f"synthetic_players_{synth_rows // 1000}k",
            generate_players(synth_rows, seed=7, task="binary"),
            player_contract("binary"),
        )
    )
    return out


def _split(df: pd.DataFrame, contract: Contract, seed: int) -> tuple[Any, ...]:
    """Exactly train_model's split, so every method is scored on the same holdout."""
    df = df[df[contract.target].notna()].reset_index(drop=True)
    y, classes = encode_target(contract, df[contract.target])
    idx_tr, idx_ho = train_test_split(
        np.arange(len(df)), test_size=0.2, random_state=seed, stratify=y if classes is not None else None
    )
    return (
        df.iloc[idx_tr].reset_index(drop=True),
        df.iloc[idx_ho].reset_index(drop=True),
        y[idx_tr],
        y[idx_ho],
    )


def _ours(
    df: pd.DataFrame, contract: Contract, budget: float, seed: int
) -> tuple[float, float, float, float | None]:
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        result = train_model(
            df, contract, Path(tmp) / "m", trials=10_000, time_budget_s=budget, seed=seed, validate=False
        )
    return (
        float(result.metrics["r2" if str(contract.task) == "regression" else "roc_auc"]),
        time.monotonic() - t0,
        result.onnx_parity,
        result.compact_parity,
    )


def _random(df: pd.DataFrame, contract: Contract, budget: float, seed: int) -> tuple[float, float]:
    t0 = time.monotonic()
    task = str(contract.task)
    train, hold, y_tr, y_ho = _split(df, contract, seed)
    spec = pregraph_spec(contract)
    inter = strongest_numeric(spec, train, y_tr, k=4)
    res = search(
        train,
        y_tr,
        spec,
        task,
        trials=10_000,
        time_budget_s=budget,
        seed=seed,
        interactions=inter,
        sampler="random",
    )
    pipe = make_pipeline(spec, res.family, res.params, task, seed, inter)
    with threadpool_limits(limits=1):
        pipe.fit(train, y_tr)
    return score(task, y_ho, sklearn_outputs(pipe, hold, task)), time.monotonic() - t0


def _flaml(df: pd.DataFrame, contract: Contract, budget: float, seed: int, python: str) -> str:
    train, hold, y_tr, y_ho = _split(df, contract, seed)
    feats = contract.feature_names
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for name, frame, y in (("train", train, y_tr), ("hold", hold, y_ho)):
            x = frame[feats].copy()
            for col in contract.features:
                if str(col.type) == "datetime":  # FLAML gets epoch days; it has no notion of our contract
                    x[col.name] = pd.to_datetime(x[col.name], utc=True).astype("int64") / 86400e9
                elif str(col.type) == "text":
                    x = x.drop(columns=col.name)
            x["__y__"] = y
            paths[name] = str(Path(tmp) / f"{name}.csv")
            x.to_csv(paths[name], index=False)
        cfg = {**paths, "task": str(contract.task), "budget": budget, "seed": seed}
        try:
            out = subprocess.run(
                [python, "-c", FLAML_SCRIPT, json.dumps(cfg)],
                capture_output=True,
                text=True,
                timeout=budget * 3 + 120,
            )
        except subprocess.TimeoutExpired:
            return "skipped (timeout)"
    if out.returncode != 0:
        return f"skipped ({(out.stderr.strip().splitlines() or ['failed'])[-1][:80]})"
    got = json.loads(out.stdout.strip().splitlines()[-1])
    return f"{got['score']:.4f} {got['seconds']:.1f}"


def _flaml_python(arg: str | None) -> str | None:
    for candidate in ([arg] if arg else []) + [sys.executable]:
        ok = subprocess.run([candidate, "-c", "import flaml.automl"], capture_output=True).returncode == 0
        if ok:
            return candidate
    return None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per method and dataset")
    parser.add_argument("--synth-rows", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--flaml-python", default=None, help="an interpreter that can import flaml")
    parser.add_argument("--only", default=None, help="comma-separated dataset names")
    args = parser.parse_args()
    flaml_python = _flaml_python(args.flaml_python)
    worst_onnx, worst_compact = 0.0, 0.0
    print("dataset method score seconds", flush=True)
    for name, df, contract in _datasets(args.synth_rows):
        if args.only and name not in args.only.split(","):
            continue
        s, secs, onnx_diff, compact_diff = _ours(df, contract, args.budget, args.seed)
        print(f"{name} liveml_tpe {s:.4f} {secs:.1f}", flush=True)
        s, secs = _random(df, contract, args.budget, args.seed)
        print(f"{name} random_search {s:.4f} {secs:.1f}", flush=True)
        flaml = (
            _flaml(df, contract, args.budget, args.seed, flaml_python)
            if flaml_python
            else "skipped (not installed)"
        )
        print(f"{name} flaml {flaml}", flush=True)
        print(f"{name} onnx_parity_max_abs_diff {onnx_diff:.3g}", flush=True)
        print(
            f"{name} compact_parity_max_abs_diff {'n/a' if compact_diff is None else f'{compact_diff:.3g}'}",
            flush=True,
        )
        worst_onnx = max(worst_onnx, onnx_diff)
        worst_compact = max(worst_compact, compact_diff or 0.0)
    print(f"all onnx_parity_max_abs_diff {worst_onnx:.3g}")
    print(f"all compact_parity_max_abs_diff {worst_compact:.3g}")


if __name__ == "__main__":
    main()
