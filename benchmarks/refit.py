"""What the final refit costs and buys, and what the report's permutation importance costs.

For each family at its default configuration, on synthetic players (the pipeline's 80/20 split):

* ``fit_80_s`` — fitting the chosen configuration on the training rows (what was served before);
  ``refit_100_s`` — the extra fit on every row that training now adds; ``refit_ratio`` the two;
* ``auc_80`` / ``auc_100`` — ROC AUC on fresh players (another seed, never seen by either model)
  of the model fitted on 80% and of the refit one: what serving the refit model buys;
* ``perm_onnx_s`` — permutation importance of every raw column on the holdout with the exported
  ONNX model (what Evaluate runs), against ``perm_sklearn_s``, scikit-learn's
  ``permutation_importance`` on the same pipeline, rows and repeats (the naive baseline).

Medians over ``--repeats`` runs, one thread for both sides.

    python benchmarks/refit.py                  # 4,000 and 20,000 players
    python benchmarks/refit.py --rows 4000 --repeats 1
"""

from __future__ import annotations

import argparse
import time
from statistics import median
from typing import Any

import numpy as np
from sklearn.inspection import permutation_importance as sk_permutation_importance
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from liveml.data import conform
from liveml.data.synth import generate_players, player_contract
from liveml.features import pregraph_spec, strongest_numeric
from liveml.inference import OnnxModel
from liveml.training.evaluate import PERMUTATION_REPEATS, permutation_importance
from liveml.training.export import fitted_pregraph, graph_inputs, make_float32_exact, sklearn_outputs, to_onnx
from liveml.training.metrics import score
from liveml.training.train import encode_target
from liveml.training.tuning import _defaults, make_pipeline

FAMILIES = {
    "hist_gradient_boosting": None,  # the search's own first trial
    "linear": None,
    "random_forest": {"n_estimators": 200, "max_depth": 12, "min_samples_leaf": 2, "max_features": 0.5},
}


def _params(family: str) -> dict[str, Any]:
    given = FAMILIES[family]
    if given is not None:
        return dict(given)
    (first,) = [d for d in _defaults([family])]
    return {k.split(".", 1)[1]: v for k, v in first.items() if k != "family"}


def _timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - start, out


def run(rows: int, repeats: int) -> None:
    contract = player_contract("binary")
    df = conform(generate_players(rows, seed=7, task="binary"), contract)
    fresh = conform(generate_players(5000, seed=8, task="binary"), contract)
    y, _ = encode_target(contract, df[contract.target])
    y_fresh, _ = encode_target(contract, fresh[contract.target])
    i_train, i_hold = train_test_split(np.arange(len(df)), test_size=0.2, random_state=0, stratify=y)
    train, hold = df.iloc[i_train].reset_index(drop=True), df.iloc[i_hold].reset_index(drop=True)
    spec = pregraph_spec(contract)
    inter = strongest_numeric(spec, train, y[i_train], k=4)
    # The columns the model reads (the baseline permutes each, as Evaluate permutes each one's inputs)
    raw_columns = [*contract.feature_names, *([contract.event_time] if contract.event_time else [])]
    for family in FAMILIES:
        params = _params(family)

        def fit(frame: Any, target: Any, family: str = family, params: dict[str, Any] = params) -> Any:
            pipe = make_pipeline(spec, family, params, "binary", 0, inter)
            with threadpool_limits(limits=1):
                pipe.fit(frame, target)
            return make_float32_exact(pipe)

        fit80, fit100, onnx_perm, sk_perm = [], [], [], []
        for _ in range(repeats):
            t80, scored = _timed(fit, train, y[i_train])
            t100, served = _timed(fit, df, y)
            fit80.append(t80)
            fit100.append(t100)
            onnx = to_onnx(served, "binary")
            model = OnnxModel(onnx, fitted_pregraph(served), task="binary", classes=["0", "1"])
            t, _ = _timed(permutation_importance, model, graph_inputs(served, hold), y[i_hold])
            onnx_perm.append(t)
            with threadpool_limits(limits=1):
                t, _ = _timed(
                    sk_permutation_importance,
                    served,
                    hold[raw_columns],
                    y[i_hold],
                    scoring="roc_auc",
                    n_repeats=PERMUTATION_REPEATS,
                    random_state=0,
                )
            sk_perm.append(t)
        auc80 = score("binary", y_fresh, sklearn_outputs(scored, fresh, "binary"))
        auc100 = score("binary", y_fresh, sklearn_outputs(served, fresh, "binary"))
        print(
            f"{rows} {family} fit_80_s {median(fit80):.3f} refit_100_s {median(fit100):.3f} "
            f"refit_ratio {median(fit100) / median(fit80):.2f} auc_80 {auc80:.4f} auc_100 {auc100:.4f} "
            f"perm_onnx_s {median(onnx_perm):.3f} perm_sklearn_s {median(sk_perm):.3f} "
            f"perm_speedup {median(sk_perm) / median(onnx_perm):.1f}x",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, nargs="*", default=[4000, 20000])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    for rows in args.rows:
        run(rows, args.repeats)


if __name__ == "__main__":
    main()
