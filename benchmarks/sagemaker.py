"""SageMaker backend benchmark: what one training job's work costs, and when to choose the backend.

Runs the training entry point (``liveml.training.container.main``, the container's work minus the
container) on an ``/opt/ml``-shaped temporary tree, one trial per run as a tuning job's training job
does, and prints:

* ``entry_point_trial_seconds <family> <rows> <median>``: wall time of one job's trial at 20k players
  (cross-validation, refit, ONNX export, model directory), median of ``--repeats``;
* ``lambda_search_seconds_per_trial <rows> <x>`` and ``ratio``: the Lambda backend's own search
  (``fit_and_export`` with ``trials=N``) per trial, in the same process, the honest baseline: a job
  pays the refit and export once per trial, the Lambda search once per search;
* ``seconds_per_row <x>``: the default trial's time fitted on 10k…80k rows (least squares, through
  ``--scaling-rows``), and from it the estimated tuning-job time and cost of the default settings at
  1M and 10M rows (on demand and spot), with the price table below;
* ``lambda_crossover trials=<n> max_rows=<r>``: rows above which the Lambda path's search of ``n``
  trials would pass its 780 s budget (900 s function timeout minus the refit/export reserve).

    python benchmarks/sagemaker.py                  # about two minutes on two cores
    python benchmarks/sagemaker.py --repeats 1 --scaling-rows 5000 10000

This machine's cores stand in for an ml.m5 instance's (both are 2-vCPU-per-4-GB-class x86 cores;
the job's own instance runs the folds two at a time as here).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from liveml.data.synth import generate_players, player_contract
from liveml.pipeline.sagemaker import STARTUP_S, sized
from liveml.pipeline.settings import PipelineSettings
from liveml.training import fit_and_export
from liveml.training.container import Layout, main

#: SageMaker training, on demand, us-east-1, USD per instance-hour, from the AWS SageMaker pricing
#: page as of 2026-12-01 (check it for your region); spot saves "up to 90%", 70% is assumed here.
PRICE_PER_HOUR = {"ml.m5.large": 0.115, "ml.m5.xlarge": 0.23, "ml.m5.4xlarge": 0.922, "ml.m5.12xlarge": 2.765}
PRICE_DATE = "2026-12-01"
SPOT_DISCOUNT = 0.70
LAMBDA_SEARCH_BUDGET_S = 780
DEFAULT_TRIAL = {
    "family": "hist_gradient_boosting",
    "hgb.n_estimators": "100",
    "hgb.max_depth": "6",
    "hgb.learning_rate": "0.1",
    "hgb.subsample": "1.0",
    "hgb.l2_regularization": "1e-06",
}
LINEAR_TRIAL = {
    "family": "linear",
    "linear.C": "1.0",
    "linear.select_percentile": "100",
    "linear.interactions": "False",
}


def job_seconds(tmp: Path, rows: int, trial: dict[str, str], folds: int) -> float:
    """One training job's work: the entry point on a fresh /opt/ml tree."""
    root = Path(tempfile.mkdtemp(dir=tmp))
    layout = Layout.from_env(root, environ={})
    for folder in (layout.train, layout.hyperparameters.parent, layout.model):
        folder.mkdir(parents=True, exist_ok=True)
    generate_players(rows, seed=7).to_csv(layout.train / "players.csv", index=False)
    (layout.train / "contract.yaml").write_text(player_contract("binary").to_yaml())
    layout.hyperparameters.write_text(json.dumps({"dataset": "players.csv", "cv_folds": str(folds), **trial}))
    started = time.perf_counter()
    if main(layout) != 0:
        raise SystemExit((root / "output/failure").read_text())
    return time.perf_counter() - started


def main_benchmark(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        print(f"# rows={args.rows} folds={args.folds} repeats={args.repeats}")
        per_trial: dict[str, float] = {}
        for name, trial in (("hist_gradient_boosting", DEFAULT_TRIAL), ("linear", LINEAR_TRIAL)):
            times = [job_seconds(tmp, args.rows, trial, args.folds) for _ in range(args.repeats)]
            per_trial[name] = statistics.median(times)
            print(f"entry_point_trial_seconds {name} {args.rows} {per_trial[name]:.2f}")

        df, contract = generate_players(args.rows, seed=7), player_contract("binary")
        started = time.perf_counter()
        fit = fit_and_export(
            df, contract, tmp / "lambda-model", trials=args.trials, time_budget_s=10_000, folds=args.folds
        )
        lambda_per_trial = (time.perf_counter() - started) / fit.trials
        print(f"lambda_search_seconds_per_trial {args.rows} {lambda_per_trial:.2f} (trials={fit.trials})")
        job = per_trial["hist_gradient_boosting"]
        print(f"ratio entry_point_trial/lambda_search_trial {job / lambda_per_trial:.2f}")

        sizes = args.scaling_rows
        secs = [
            statistics.median(
                job_seconds(tmp, n, DEFAULT_TRIAL, args.folds) for _ in range(args.scaling_repeats)
            )
            for n in sizes
        ]
        for n, s in zip(sizes, secs, strict=True):
            print(f"scaling rows={n} seconds={s:.2f}")
        slope, intercept = np.polyfit(np.array(sizes, dtype=float), np.array(secs), 1)
        print(f"seconds_per_row {slope:.3e} (intercept {intercept:.2f} s)")
        if slope <= 0:
            raise SystemExit("no per-row growth measured: pass larger --scaling-rows")

        settings = PipelineSettings()
        columns = len(contract.feature_names)
        print(
            f"# estimates for the default settings (trials={settings.trials}), prices {PRICE_DATE}, us-east-1"
        )
        for rows in (1_000_000, 10_000_000):
            res = sized(settings, rows=rows, columns=columns, data_bytes=rows * 120)
            trial_s = intercept + slope * rows + STARTUP_S / 2  # image pull + requirements: about 5 min
            waves = -(-res.max_jobs // res.parallel_jobs)
            wall_s = waves * trial_s
            instance_hours = res.max_jobs * trial_s / 3600
            price = PRICE_PER_HOUR[res.instance_type]
            on_demand = instance_hours * price
            print(
                f"estimate rows={rows} instance={res.instance_type} "
                f"jobs={res.max_jobs} parallel={res.parallel_jobs} "
                f"trial_s={trial_s:.0f} wall_h={wall_s / 3600:.2f} instance_h={instance_hours:.2f} "
                f"cost_on_demand_usd={on_demand:.2f} cost_spot_usd={on_demand * (1 - SPOT_DISCOUNT):.2f} "
                f"max_runtime_s={res.max_runtime_s}"
            )
        # The Lambda search's trial time at R rows: its measured time at --rows, scaled along the
        # entry point's measured line. Solve trials x that = the search budget for R.
        at_rows = intercept + slope * args.rows
        for trials in (10, 20, 50):
            max_rows = ((LAMBDA_SEARCH_BUDGET_S / (trials * lambda_per_trial)) * at_rows - intercept) / slope
            print(
                f"lambda_crossover trials={trials} max_rows={max_rows:,.0f} "
                f"rows_x_trials={max_rows * trials:,.0f}"
            )


def parse() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--trials", type=int, default=6, help="trials of the Lambda-path baseline search")
    ap.add_argument("--scaling-rows", type=int, nargs="+", default=[10_000, 20_000, 40_000, 80_000])
    ap.add_argument("--scaling-repeats", type=int, default=1)
    return ap.parse_args()


if __name__ == "__main__":
    main_benchmark(parse())
