"""Rollout and experiment benchmark: figures for issue 6, one ``name value`` line each.

    python benchmarks/rollout.py                       # every section
    python benchmarks/rollout.py --only experiments    # the A/B statistics alone (seconds, no LocalStack)
    python benchmarks/rollout.py --sims 5000

Sections register themselves with ``@section``; a section returns ``{figure: value}`` and ``None``
means "not measured yet". The rollout sections (``canary_promote_seconds``, ``rollback_seconds`` on
LocalStack with short bake times) are placeholders here: replace their bodies, nothing else changes.

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


@section("canary")
def canary(args: argparse.Namespace) -> Figures:
    # Placeholder for the rollout work: a healthy canary on LocalStack, 10% -> 100%, seconds to promote.
    return {"canary_promote_seconds": None}


@section("rollback")
def rollback(args: argparse.Namespace) -> Figures:
    # Placeholder for the rollout work: seconds from the failing health check to `live` at 100% old.
    return {"rollback_seconds": None}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", action="append", choices=sorted(SECTIONS), help="Run only these sections.")
    parser.add_argument("--sims", type=int, default=1000, help="Simulated experiments per figure.")
    parser.add_argument("--end-to-end-sims", type=int, default=200, help="Full-path A/A analyses (0: skip).")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for name in args.only or list(SECTIONS):
        for figure, value in SECTIONS[name](args).items():
            print(f"{figure} {'not measured yet' if value is None else format(value, '.4g')}", flush=True)


if __name__ == "__main__":
    main()
