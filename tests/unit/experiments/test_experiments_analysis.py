"""The analysis path: bad inputs, joining rules, verdicts that do not move between looks, report and CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from liveml.experiments import Experiment, ExperimentError, Verdict, analyze, render_report, simulate
from tests.unit.cli import run_cli

T0 = "2026-01-05T10:00:00Z"


def _frames(
    assigned: list[tuple[str, str]], outcomes: list[tuple[str, float, str]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    a = pd.DataFrame([(p, v, T0) for p, v in assigned], columns=["player_id", "variant", "first_seen"])
    o = pd.DataFrame(outcomes, columns=["player_id", "value", "timestamp"])
    return a, o


@pytest.fixture
def small(rate_exp: Experiment) -> tuple[pd.DataFrame, pd.DataFrame]:
    sim = simulate({"A": 0.3, "B": 0.3}, 400, 1, experiment=rate_exp)
    return sim.assignments, sim.outcomes


def test_unknown_variant(rate_exp: Experiment, small: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    a, o = small
    a = a.copy()
    a.loc[0, "variant"] = "C"
    with pytest.raises(ExperimentError, match=r"unknown variant\(s\) \['C'\]"):
        analyze(rate_exp, a, o)


def test_duplicate_players(rate_exp: Experiment, small: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    a, o = small
    with pytest.raises(ExperimentError, match=r"1 player\(s\) assigned more than once.*s1-p0"):
        analyze(rate_exp, pd.concat([a, a.iloc[[0]]]), o)


def test_empty_inputs_and_missing_columns(
    rate_exp: Experiment, small: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    a, o = small
    with pytest.raises(ExperimentError, match="outcomes are empty"):
        analyze(rate_exp, a, o.iloc[0:0])
    with pytest.raises(ExperimentError, match="assignments are empty"):
        analyze(rate_exp, a.iloc[0:0], o)
    with pytest.raises(ExperimentError, match=r"outcomes lack column\(s\) \['value'\]"):
        analyze(rate_exp, a, o.drop(columns="value"))


def test_bad_values_and_times(rate_exp: Experiment, small: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    a, o = small
    bad = o.copy()
    bad["value"] = bad["value"].astype(object)
    bad.loc[bad.index[0], "value"] = "yes"
    with pytest.raises(ExperimentError, match="no numeric value"):
        analyze(rate_exp, a, bad)
    with pytest.raises(ExperimentError, match="rate metric takes outcomes 0 or 1"):
        analyze(rate_exp, a, o.assign(value=2.0))
    with pytest.raises(ExperimentError, match="not all timestamps"):
        analyze(rate_exp, a.assign(first_seen="last tuesday"), o)


def test_joining_rules(rate_exp: Experiment, mean_exp: Experiment) -> None:
    a, o = _frames(
        [("p1", "A"), ("p2", "A"), ("p3", "B"), ("p4", "B"), ("p5", "B")],
        [
            ("p1", 1, "2026-01-05T12:00:00Z"),
            ("p1", 1, "2026-01-06T12:00:00Z"),  # twice: still one converted player
            ("p3", 1, "2026-01-04T12:00:00Z"),  # before first_seen: not an effect of B
            ("p4", 1, "2026-01-05T11:00:00Z"),
            ("ghost", 1, "2026-01-05T11:00:00Z"),  # never assigned
        ],
    )
    result = analyze(rate_exp, a, o, verify_assignments=False)
    assert [(v.n, v.mean) for v in result.variants] == [(2, 0.5), (3, pytest.approx(1 / 3))]
    assert any("unassigned" in n for n in result.notes) and any("before" in n for n in result.notes)
    # A mean metric leaves players without sessions out and averages a player's sessions.
    a, o = _frames(
        [("p1", "A"), ("p2", "A"), ("p3", "A"), ("p4", "B"), ("p5", "B"), ("p6", "B")],
        [("p1", 10, T0), ("p1", 20, T0), ("p2", 5, T0), ("p4", 7, T0), ("p5", 9, T0)],
    )
    result = analyze(mean_exp, a, o, verify_assignments=False)
    assert [(v.assigned, v.n, v.mean) for v in result.variants] == [(3, 2, 10.0), (3, 2, 8.0)]


def test_logged_variants_are_checked_against_the_sticky_hash(rate_exp: Experiment) -> None:
    sim = simulate({"A": 0.3, "B": 0.3}, 2000, 2, experiment=rate_exp)
    assert analyze(rate_exp, sim.assignments, sim.outcomes).assignment_mismatches == 0
    swapped = sim.assignments.copy()
    swapped.loc[:9, "variant"] = swapped.loc[:9, "variant"].map({"A": "B", "B": "A"})
    result = analyze(rate_exp, swapped, sim.outcomes)
    assert result.assignment_mismatches == 10
    assert result.verdict is Verdict.INVALID and "sticky hash" in result.reason


def test_verdict_is_stable_between_looks(make_exp: Callable[..., Experiment]) -> None:
    """Analysing every few thousand players never flips a verdict once one is reached: no peeking."""
    exp = make_exp(looks=4)
    total = exp.plan().total
    sim = simulate({"A": 0.30, "B": 0.33}, total + 2000, 7, experiment=exp)
    order = sim.assignments.sort_values("first_seen")
    seen: list[Verdict] = []
    for n in range(3000, total + 2001, 3000):
        ids = order.player_id.iloc[:n]
        seen.append(analyze(exp, order.iloc[:n], sim.outcomes[sim.outcomes.player_id.isin(ids)]).verdict)
    final = [v for v in seen if v is not Verdict.KEEP_RUNNING]
    assert final and seen.index(final[0]) + len(final) == len(seen) and set(final) == {final[0]}
    assert final[0] is Verdict.PROMOTE_B


def test_fixed_horizon_waits_then_decides(rate_exp: Experiment) -> None:
    need = rate_exp.plan().total
    sim = simulate({"A": 0.30, "B": 0.30}, need + 500, 3, experiment=rate_exp)
    early = analyze(rate_exp, sim.assignments.iloc[: need // 2], sim.outcomes)
    assert early.verdict is Verdict.KEEP_RUNNING and f"of {need} planned players" in early.reason
    done = analyze(rate_exp, sim.assignments, sim.outcomes)
    assert done.verdict is Verdict.KEEP_A and "no significant difference" in done.reason
    assert done.looks[0].reached and done.looks[0].planned_players == need


def test_worse_b_keeps_a_and_lower_is_better(make_exp: Callable[..., Experiment]) -> None:
    exp = make_exp(looks=2)
    sim = simulate({"A": 0.30, "B": 0.26}, exp.plan().total, 4, experiment=exp)
    assert analyze(exp, sim.assignments, sim.outcomes).verdict is Verdict.KEEP_A
    churn = make_exp(looks=2, metric={"name": "churn", "kind": "rate", "baseline": 0.3, "mde": 0.02,
                                      "higher_is_better": False})  # fmt: skip
    assert analyze(churn, sim.assignments, sim.outcomes).verdict is Verdict.PROMOTE_B


def test_report_is_self_contained(make_exp: Callable[..., Experiment]) -> None:
    exp = make_exp(looks=3)
    sim = simulate({"A": 0.30, "B": 0.33}, exp.plan().total, 5, experiment=exp)
    result = analyze(exp, sim.assignments, sim.outcomes)
    html = render_report(result)
    assert html.count("data:image/png;base64,") == 4
    assert result.verdict.value in html and "Sample-ratio mismatch" in html
    assert "http://" not in html and "https://" not in html and "<script" not in html


def _run(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    return run_cli(monkeypatch, "experiment", *args)


def test_cli_plan_simulate_analyze(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(monkeypatch, "plan", "--baseline", "0.3", "--mde", "0.02", "--looks", "4") == 0
    out = capsys.readouterr().out
    assert "8,556" in out and "4.333" in out
    spec = tmp_path / "exp.yaml"
    spec.write_text(
        "name: onboarding-v2\nmodel: churn\nsalt: exp-2026-01\nvariants: {A: '3', B: '4'}\n"
        "split: {A: 0.5, B: 0.5}\nmetric: {name: d1_retention, kind: rate, baseline: 0.3, mde: 0.02}\n"
    )
    args = ["--experiment", str(spec), "-t", "A=0.3", "-t", "B=0.3", "-n", "3000", "--out-dir", str(tmp_path)]
    assert _run(monkeypatch, "simulate", *args) == 0
    report, js = tmp_path / "r.html", tmp_path / "r.json"
    files = ["-a", str(tmp_path / "assignments.csv"), "-o", str(tmp_path / "outcomes.csv"), "-e", str(spec)]
    code = _run(monkeypatch, "analyze", *files, "--report", str(report), "--json", str(js))
    assert code == 0
    assert "verdict: keep_running" in capsys.readouterr().out
    assert report.read_text().startswith("<!doctype html>")
    assert json.loads(js.read_text())["verdict"] == "keep_running"


def test_cli_errors_are_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "exp.yaml"
    spec.write_text(
        "name: x\nmodel: m\nsalt: s\nvariants: {A: '1', B: '2'}\nsplit: {A: 0.5, B: 0.4}\n"
        "metric: {name: r, kind: rate, baseline: 0.3, mde: 0.02}\n"
    )
    (tmp_path / "a.csv").write_text("player_id,variant,first_seen\np1,A,2026-01-01\n")
    (tmp_path / "o.csv").write_text("player_id,value\n")
    code = _run(
        monkeypatch, "analyze", "-a", str(tmp_path / "a.csv"), "-o", str(tmp_path / "o.csv"), "-e", str(spec)
    )
    assert code == 1
    assert "split must sum to 1" in capsys.readouterr().err
    assert _run(monkeypatch, "plan", "--kind", "mean", "--baseline", "10", "--mde", "1") == 1
    assert "std" in capsys.readouterr().err
