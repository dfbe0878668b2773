"""A/B experiments: design and sample size up front, analysis and verdict, HTML report, simulation.

    from liveml.experiments import Experiment, analyze, write_report
    exp = Experiment.from_yaml(Path("exp.yaml"))
    exp.required_sample_size()              # {"A": 8556, "B": 8556}
    result = analyze(exp, assignments_df, outcomes_df)
    result.verdict, result.reason           # Verdict.KEEP_RUNNING, "9120 of 17112 planned players; …"
    write_report(result, Path("report.html"))

Sequential method: group-sequential looks with Lan-DeMets O'Brien-Fleming-type alpha spending over
``looks`` equally spaced planned analyses (``looks: 1`` is the classical fixed horizon). Chosen over
mSPRT because the experiment already has a planned horizon (the required sample size): OBF keeps
almost all the power of the fixed-horizon test (inflation 2% for 4 looks) and its final boundary is
close to 1.96, while still stopping early on a large effect or a harmful B; an always-valid mSPRT
would let anyone peek at any time but needs noticeably more players for the same power. Looks are
defined by enrolment counts, so re-running the analysis between looks cannot inflate false positives
(see :mod:`liveml.experiments.analysis` and :mod:`liveml.experiments.sequential`).

Sticky assignment is :mod:`liveml.binding.assignment`; the analysis recomputes it to verify the logs.
"""

from __future__ import annotations

from liveml.experiments.analysis import (
    ASSIGNMENT_COLUMNS,
    OUTCOME_COLUMNS,
    Analysis,
    Effect,
    Look,
    SRMCheck,
    VariantSummary,
    Verdict,
    analyze,
    read_table,
)
from liveml.experiments.design import (
    Aggregate,
    Experiment,
    Metric,
    MetricKind,
    SampleSizePlan,
    plan_sample_size,
)
from liveml.experiments.errors import ExperimentError
from liveml.experiments.report import render_report, write_report
from liveml.experiments.simulate import LookStatistics, Simulated, simulate, simulate_looks

__all__ = [
    "ASSIGNMENT_COLUMNS",
    "OUTCOME_COLUMNS",
    "Aggregate",
    "Analysis",
    "Effect",
    "Experiment",
    "ExperimentError",
    "Look",
    "LookStatistics",
    "Metric",
    "MetricKind",
    "SRMCheck",
    "SampleSizePlan",
    "Simulated",
    "VariantSummary",
    "Verdict",
    "analyze",
    "plan_sample_size",
    "read_table",
    "render_report",
    "simulate",
    "simulate_looks",
    "write_report",
]
