"""The training pipeline on LocalStack against the same training run locally, side by side.

    .venv/bin/python benchmarks/pipeline.py [--rows 20000] [--trials 20] [--budget 40] [--cold]

Needs LocalStack up and the stack deployed (`make deploy`). Prints:

- ``upload_to_registered_seconds``: from the dataset's PutObject to the version in the registry;
- ``state_seconds <state>``: the time of each state of that run;
- ``train_seconds <phase>`` and ``evaluate_seconds <phase>``: inside those states (the steps
  report them): imports with the data read, the training call and the upload; download, load,
  parity, metrics, permutation importance, report and upload;
- ``registered_holdout_roc_auc``: the registered version's holdout ROC AUC (the model quality the
  speed must not cost);
- ``local_train_seconds``: `train_model` on the same data and settings, in this process (the
  baseline), and ``local_holdout_roc_auc`` beside it;
- ``pipeline_over_local``: the ratio — what the serverless pipeline costs beyond the training itself;
- ``training_function_unzipped_mb``: the Train function with its layers, from `.aws-sam/build`.

``--cold`` restarts the pipeline functions' execution environments first (a configuration update
that changes nothing, as a deploy does), so every state pays its cold start, as an upload that
arrives once a day does; without it, a run within LocalStack's keep-alive (10 minutes) of the last
one reuses warm processes. Both runs share the 2 cores of this machine with nothing else of ours;
both searches stop at the same trial count or time budget, whichever comes first. The budget
covers the whole Train step (imports, data read, search, fit, export, upload), so 40 s of it
leaves the other states and Step Functions' transitions 20 s of the one-minute goal.
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from liveml.aws import client
from liveml.cli._stack import connect
from liveml.data.synth import generate_players, player_contract
from liveml.pipeline import describe_execution, find_execution, state_timings, wait_for_execution
from liveml.registry import Registry

ROOT = Path(__file__).resolve().parents[1]
#: the Lambda-backed states of the Lambda backend's path, whose environments ``--cold`` restarts
PIPELINE_STATES = ("Validate", "Train", "Evaluate", "Register")


def restart_environments(state_machine_arn: str) -> None:
    """A configuration update that changes nothing still replaces a function's execution
    environments (on AWS and on LocalStack), so the next invoke of each starts cold."""
    sfn, lam = client("stepfunctions"), client("lambda")
    definition = json.loads(sfn.describe_state_machine(stateMachineArn=state_machine_arn)["definition"])
    for state in PIPELINE_STATES:
        name = definition["States"][state]["Resource"].split(":")[6]
        description = lam.get_function_configuration(FunctionName=name).get("Description", "")
        lam.update_function_configuration(FunctionName=name, Description=description)
        lam.get_waiter("function_updated_v2").wait(FunctionName=name)


def pipeline_run(
    rows: int, trials: int, budget: float, seed: int, cold: bool
) -> tuple[float, list[tuple[str, float]], dict[str, Any]]:
    """Upload → registered seconds, each state's seconds, and the execution's final state."""
    outputs = connect()  # LocalStack, with LIVEML_* pointing at the stack
    if cold:
        restart_environments(outputs.training_state_machine_arn)
    s3 = client("s3")
    model = f"bench-{int(time.time())}"
    folder = f"datasets/{model}/"
    settings = {"trials": trials, "time_budget_s": budget, "cv_folds": 5, "seed": seed}
    s3.put_object(
        Bucket=outputs.data_bucket, Key=folder + "contract.yaml", Body=player_contract().to_yaml().encode()
    )
    s3.put_object(
        Bucket=outputs.data_bucket, Key=folder + "liveml.yaml", Body=yaml.safe_dump(settings).encode()
    )
    buffer = io.StringIO()
    generate_players(rows, seed).to_csv(buffer, index=False)
    body = buffer.getvalue().encode()

    started = time.perf_counter()
    put = s3.put_object(Bucket=outputs.data_bucket, Key=folder + "players.csv", Body=body)
    execution = find_execution(
        outputs.training_state_machine_arn, outputs.data_bucket, folder + "players.csv", put["VersionId"]
    )
    result = wait_for_execution(execution.arn, timeout_s=1800)
    if result.status != "SUCCEEDED":
        sys.exit(f"the run {result.status}: {result.cause}")
    registered = Registry().get(model, 1)
    elapsed = time.perf_counter() - started
    final = describe_execution(execution.arn).output or {}
    final["registered_metrics"] = registered.metrics
    return elapsed, [(t.name, t.seconds or 0.0) for t in state_timings(execution.arn)], final


def local_run(rows: int, trials: int, budget: float, seed: int) -> tuple[float, float]:
    """``train_model``'s seconds and holdout ROC AUC on the same data and settings."""
    from liveml.training import train_model

    frame = generate_players(rows, seed)
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        result = train_model(
            frame,
            player_contract(),
            Path(folder) / "model",
            trials=trials,
            time_budget_s=budget,
            seed=seed,
            folds=5,
        )
        return time.perf_counter() - started, float(result.metrics["roc_auc"])


def train_function_mb() -> str:
    sizes = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "function-sizes"), str(ROOT / ".aws-sam" / "build")],
        capture_output=True,
        text=True,
        check=False,
    )
    for line in sizes.stdout.splitlines():
        if line.startswith("TrainFunction"):
            return line.split()[-1]
    return "n/a (run `make build` first)"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--budget", type=float, default=40, help="the Train step's time budget, seconds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--skip-local", action="store_true", help="only the pipeline run, not the local baseline"
    )
    parser.add_argument(
        "--cold", action="store_true", help="restart the pipeline functions' environments first"
    )
    args = parser.parse_args()

    print(
        f"# {args.rows} synthetic players, {args.trials} trials, {args.budget:.0f} s budget, 5 folds, "
        f"{'cold' if args.cold else 'warm if run within 10 minutes of the last run'} functions"
    )
    elapsed, states, final = pipeline_run(args.rows, args.trials, args.budget, args.seed, args.cold)
    print(f"upload_to_registered_seconds {elapsed:.1f}")
    for name, seconds in states:
        print(f"state_seconds {name} {seconds:.1f}")
    for state, label in (("training", "train"), ("evaluation", "evaluate")):
        for phase, seconds in (final.get(state) or {}).get("timings", {}).items():
            print(f"{label}_seconds {phase} {seconds}")
    auc = final["registered_metrics"].get("roc_auc")
    print(f"registered_holdout_roc_auc {auc:.4f}" if auc is not None else "registered_holdout_roc_auc n/a")
    if not args.skip_local:
        local, local_auc = local_run(args.rows, args.trials, args.budget, args.seed)
        print(f"local_train_seconds {local:.1f}")
        print(f"local_holdout_roc_auc {local_auc:.4f}")
        print(f"pipeline_over_local {elapsed / local:.2f}")
    print(f"training_function_unzipped_mb {train_function_mb()}")


if __name__ == "__main__":
    main()
