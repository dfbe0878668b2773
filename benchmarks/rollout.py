"""Rollout and experiment benchmark: figures for issue 6, one ``name value`` line each.

    python benchmarks/rollout.py                       # every section
    python benchmarks/rollout.py --only experiments    # the A/B statistics alone (seconds, no LocalStack)
    python benchmarks/rollout.py --sims 5000

Sections register themselves with ``@section``; a section returns ``{figure: value}`` and ``None``
means "not measured yet". The rollout sections (``canary_promote_seconds``, ``rollback_seconds`` on
LocalStack with short bake times) need the stack deployed on LocalStack (``liveml deploy --local``):
they train one tiny model locally, register it twice and run real rollout executions.

Rollout figures:
- ``canary_promote_seconds``: a healthy canary (10% for a 5 s bake, then 100%), from start_execution
  to SUCCEEDED; ``canary_publish_and_smoke_seconds`` is the part before traffic moves.
  ``first_rollout_seconds``: the model's first version before it (nothing serves the model yet, so it
  goes to 100% after its smoke test, without a bake).
- ``rollback_seconds``: from the failing health check's verdict (a drill version 1.5 s slower per
  request, p99 limit 800 ms) to ``live`` at 100% old; ``rollback_detect_seconds``: shift to verdict.

Experiment figures (vectorised simulations of the planned design, ``liveml.experiments``):
- ``aa_false_positive_rate``: share of A/A tests (no true effect) declaring a winner, fixed horizon;
  ``_sequential``: the same with 4 O'Brien-Fleming looks; ``_naive_peeking``: 4 looks each at 1.96,
  what the boundaries protect against; ``_end_to_end``: the whole table-level analysis path.
- ``power_observed``: share of tests with the planned effect (baseline + MDE) that find it;
  ``expected_players_fraction_sequential_at_mde``: players used on average, over the final look's.
- ``_mean`` figures: the same for a continuous metric (session minutes, Welch's t-test).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

import numpy as np
from scipy import stats

from liveml.experiments import Experiment, analyze, simulate, simulate_looks

Figures = dict[str, float | None]
Section = Callable[[argparse.Namespace], Figures]
SECTIONS: dict[str, Section] = {}


def section(name: str) -> Callable[[Section], Section]:
    def register(fn: Section) -> Section:
        SECTIONS[name] = fn
        return fn

    return register


def _experiment(kind: str, looks: int, mde: float | None = None) -> Experiment:
    metric: dict[str, object] = (
        {"name": "d1_retention", "kind": "rate", "baseline": 0.30, "mde": mde or 0.02}
        if kind == "rate"
        else {"name": "session_minutes", "kind": "mean", "baseline": 12.0, "std": 8.0, "mde": mde or 0.5}
    )
    return Experiment.parse(
        {"name": f"bench-{kind}-{looks}", "model": "churn", "variants": {"A": "1", "B": "2"},
         "split": {"A": 0.5, "B": 0.5}, "salt": "bench", "metric": metric, "looks": looks}
    )  # fmt: skip


@section("experiments")
def experiments(args: argparse.Namespace) -> Figures:
    out: Figures = {}
    for kind in ("rate", "mean"):
        suffix = "" if kind == "rate" else "_mean"
        fixed, seq = _experiment(kind, 1), _experiment(kind, 4)
        base = fixed.metric.baseline
        null, planned = {"A": base, "B": base}, {"A": base, "B": base + fixed.metric.mde}
        out[f"aa_false_positive_rate{suffix}"] = float(
            simulate_looks(fixed, null, args.sims, args.seed).rejects().mean()
        )
        aa_seq = simulate_looks(seq, null, args.sims, args.seed + 1)
        out[f"aa_false_positive_rate_sequential{suffix}"] = float(aa_seq.rejects().mean())
        naive = (np.abs(aa_seq.statistic) >= stats.norm.isf(seq.alpha / 2)).any(axis=1).mean()
        out[f"aa_false_positive_rate_naive_peeking{suffix}"] = float(naive)
        out[f"power_planned{suffix}"] = fixed.power
        out[f"power_observed{suffix}"] = float(
            simulate_looks(fixed, planned, args.sims, args.seed + 2).rejects().mean()
        )
        power_seq = simulate_looks(seq, planned, args.sims, args.seed + 3)
        out[f"power_observed_sequential{suffix}"] = float(power_seq.rejects().mean())
        stopped = power_seq.first_crossing()
        looks_used = np.where(stopped >= 0, stopped + 1, len(seq.plan().looks))
        out[f"expected_players_fraction_sequential_at_mde{suffix}"] = float(
            np.mean(np.asarray(seq.plan().looks)[looks_used - 1]) / seq.plan().total
        )
        out[f"sample_size_per_variant{suffix}"] = float(fixed.required_sample_size()["A"])
    # The whole path (tables, join, hash check, looks) on a small design (MDE 10 points): fewer runs.
    if args.end_to_end_sims:
        started = time.perf_counter()
        out["aa_false_positive_rate_end_to_end"] = _end_to_end(_experiment("rate", 4, mde=0.1), args)
        out["analyze_seconds_per_experiment"] = (time.perf_counter() - started) / args.end_to_end_sims
    return out


def _end_to_end(exp: Experiment, args: argparse.Namespace) -> float:
    """Share of A/A experiments whose analysis crosses a boundary (a winner either way)."""
    crossed = 0
    for seed in range(args.end_to_end_sims):
        sim = simulate({"A": 0.3, "B": 0.3}, exp.plan().total, 10_000 + args.seed + seed, experiment=exp)
        result = analyze(exp, sim.assignments, sim.outcomes)
        crossed += any(look.crossed for look in result.looks if look.reached)
    return crossed / int(args.end_to_end_sims)


class _Rollouts:
    """One trained model on the LocalStack stack (``liveml deploy --local``), shared by both sections."""

    _shared: _Rollouts | None = None

    def __init__(self, args: argparse.Namespace) -> None:
        import tempfile
        import uuid
        from pathlib import Path

        from liveml.aws import use_localstack
        from liveml.data.synth import generate_players, player_contract
        from liveml.pipeline.steps.register import verified_artifacts
        from liveml.registry import Lineage, Registry
        from liveml.rollout import PredictFunction, RolloutStore
        from liveml.rollout.control import Controller
        from liveml.stack import read_outputs
        from liveml.training import train_model

        use_localstack()
        outputs = read_outputs(args.stack_name)
        for key, value in {
            "LIVEML_ARTIFACTS_BUCKET": outputs.artifacts_bucket,
            "LIVEML_REGISTRY_TABLE": outputs.registry_table,
            "LIVEML_EVENT_BUS": outputs.event_bus,
            "LIVEML_ALERTS_TOPIC": outputs.alerts_topic_arn,
        }.items():
            os.environ[key] = value
        self.model = f"bench-{uuid.uuid4().hex[:6]}"
        with tempfile.TemporaryDirectory() as tmp:
            contract = player_contract()
            train_model(generate_players(1500, 3), contract, Path(tmp) / "model", trials=2, time_budget_s=10,
                        folds=2)  # fmt: skip
            uri = f"s3://{outputs.artifacts_bucket}/runs/{self.model}/bench/model/"
            from liveml.aws.s3 import upload_dir

            upload_dir(Path(tmp) / "model", uri)
        _, self.artifacts = verified_artifacts(uri)
        # rollout.auto false: the ModelApproved event's own execution skips; the benchmark starts its own.
        self.lineage = Lineage(dataset_uri="bench", dataset_version_id="bench", dataset_sha256="0" * 64,
                               contract_sha256=contract.sha256, code_version="bench",
                               settings={"rollout": {"auto": False}})  # fmt: skip
        self.registry = Registry()
        self.function = PredictFunction(outputs.predict_function)
        self.controller = Controller(
            outputs.raw["RolloutStateMachineArn"], self.function, self.registry, RolloutStore()
        )

    @classmethod
    def get(cls, args: argparse.Namespace) -> _Rollouts:
        if cls._shared is None:
            cls._shared = cls(args)
        return cls._shared

    def register(self) -> int:
        version = self.registry.register(self.model, lineage=self.lineage, artifacts=self.artifacts,
                                         metrics={}, family="bench", auto_approve=True)  # fmt: skip
        return version.version

    def run(self, version: int, settings: dict[str, object]) -> tuple[dict[str, object], float]:
        started = time.monotonic()
        ended = self.controller.wait(self.controller.start(self.model, version, settings), timeout_s=600)
        return ended, time.monotonic() - started


def _at(record: dict[str, object], text: str) -> float:
    from datetime import datetime

    events = record["events"]
    assert isinstance(events, list)
    return datetime.fromisoformat(next(e["at"] for e in events if text in e["event"])).timestamp()


@section("canary")
def canary(args: argparse.Namespace) -> Figures:
    # A healthy canary on LocalStack, 10% -> 100%: start of the execution to its success (bake 5 s).
    bench = _Rollouts.get(args)
    # The model's first version has nothing to be a canary against: it goes to 100% after its smoke test.
    first, first_seconds = bench.run(bench.register(), {"strategy": "canary", "percent": 10, "bake_s": 5})
    if first["status"] != "SUCCEEDED":
        raise SystemExit(f"first rollout did not promote: {first.get('error')} {first.get('cause')}")
    ended, seconds = bench.run(bench.register(), {"strategy": "canary", "percent": 10, "bake_s": 5,
                                                  "check_every_s": 5, "probe_requests": 8})  # fmt: skip
    if ended["status"] != "SUCCEEDED":
        raise SystemExit(f"canary did not promote: {ended.get('error')} {ended.get('cause')}")
    record = bench.controller.store.history(bench.model)[0]
    return {
        "first_rollout_seconds": first_seconds,
        "canary_promote_seconds": seconds,
        "canary_bake_seconds": 5,
        "canary_publish_and_smoke_seconds": _at(record, "live: 10%") - _at(record, "published version"),
    }


@section("rollback")
def rollback(args: argparse.Namespace) -> Figures:
    # A slow version (drill: +1.5 s per request, p99 limit 800 ms) at 50%: seconds from the failing
    # health check's verdict to live at 100% old, and from the shift to that verdict.
    bench = _Rollouts.get(args)
    stable = bench.function.routing()
    settings = {"strategy": "canary", "percent": 50, "bake_s": 120, "check_every_s": 2, "probe_requests": 4,
                "max_p99_ms": 800, "drill": {"latency_ms": 1500}}  # fmt: skip
    ended, _ = bench.run(bench.register(), settings)
    if ended["status"] != "FAILED" or bench.function.routing() != stable:
        raise SystemExit(f"the slow version was not rolled back: {ended['status']}")
    record = bench.controller.store.history(bench.model)[0]
    failed = _at(record, "health check failed")
    return {
        "rollback_seconds": _at(record, "rolled_back: live is back") - failed,
        "rollback_detect_seconds": failed - _at(record, "live: 50%"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", action="append", choices=sorted(SECTIONS), help="Run only these sections.")
    parser.add_argument("--sims", type=int, default=1000, help="Simulated experiments per figure.")
    parser.add_argument("--end-to-end-sims", type=int, default=200, help="Full-path A/A analyses (0: skip).")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--stack-name", default="liveml", help="The LocalStack stack (rollout sections).")
    args = parser.parse_args()
    for name in args.only or list(SECTIONS):
        for figure, value in SECTIONS[name](args).items():
            print(f"{figure} {'not measured yet' if value is None else format(value, '.4g')}", flush=True)


if __name__ == "__main__":
    main()
