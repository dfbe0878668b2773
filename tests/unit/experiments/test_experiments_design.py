"""Sample sizes and sequential boundaries against statsmodels, published tables and the formula."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.power import NormalIndPower

from liveml.experiments import Experiment, ExperimentError, Metric, plan_sample_size
from liveml.experiments.sequential import (
    boundaries,
    crossing_probabilities,
    equal_fractions,
    inflation_factor,
    obf_spending,
)


@pytest.mark.parametrize(("baseline", "mde"), [(0.30, 0.02), (0.05, 0.01), (0.5, 0.05), (0.02, 0.003)])
def test_rate_sample_size_matches_statsmodels(baseline: float, mde: float) -> None:
    metric = Metric(name="m", kind="rate", baseline=baseline, mde=mde)
    plan = plan_sample_size(metric, 0.05, 0.8)
    p1, p2 = baseline, baseline + mde
    # The unpooled two-proportion formula is NormalIndPower with this standardised effect.
    effect = mde / math.sqrt((p1 * (1 - p1) + p2 * (1 - p2)) / 2)
    expected = NormalIndPower().solve_power(effect, alpha=0.05, power=0.8, ratio=1.0)
    # statsmodels adds the far tail's tiny rejection probability; within one player of the formula.
    assert all(math.ceil(expected) <= n <= math.ceil(expected) + 1 for n in plan.per_variant.values())
    assert plan.inflation == 1.0 and plan.looks == [plan.total]


@pytest.mark.parametrize(
    ("share_b", "alpha", "power"), [(0.5, 0.05, 0.8), (0.2, 0.05, 0.9), (0.7, 0.01, 0.8)]
)
def test_mean_sample_size_matches_statsmodels_with_unequal_split(
    share_b: float, alpha: float, power: float
) -> None:
    metric = Metric(name="m", kind="mean", baseline=12, std=8, mde=0.5)
    plan = plan_sample_size(metric, alpha, power, 1 - share_b, share_b)
    ratio = share_b / (1 - share_b)
    n_a = NormalIndPower().solve_power(0.5 / 8, alpha=alpha, power=power, ratio=ratio)
    # statsmodels adds the far tail's tiny rejection probability; within one player of the formula.
    assert math.ceil(n_a) <= plan.per_variant["A"] <= math.ceil(n_a) + 1
    assert math.ceil(n_a * ratio) <= plan.per_variant["B"] <= math.ceil(n_a * ratio) + 1


def test_sample_size_formula_by_hand(rate_exp: Experiment) -> None:
    z = stats.norm.isf(0.025) + stats.norm.ppf(0.8)
    n = z**2 * (0.3 * 0.7 + 0.32 * 0.68) / 0.02**2
    assert rate_exp.required_sample_size() == {"A": math.ceil(n), "B": math.ceil(n)}


@pytest.mark.parametrize(
    ("looks", "published"),
    [
        # Lan-DeMets O'Brien-Fleming, alpha 0.05 two-sided, equal spacing (gsDesign sfLDOF / ldbounds).
        (2, [2.9626, 1.9686]),
        (4, [4.3326, 2.9631, 2.3590, 2.0141]),
        (5, [4.8769, 3.3570, 2.6803, 2.2898, 2.0310]),
    ],
)
def test_boundaries_match_published_values(looks: int, published: list[float]) -> None:
    assert boundaries(equal_fractions(looks), 0.05) == pytest.approx(published, abs=2e-4)


def test_boundaries_spend_exactly_alpha_and_fixed_horizon_is_z() -> None:
    fractions = equal_fractions(4)
    crossing = crossing_probabilities(boundaries(fractions, 0.05), fractions)
    assert crossing.sum() == pytest.approx(0.05, abs=1e-6)
    assert np.cumsum(crossing) == pytest.approx(obf_spending(np.asarray(fractions), 0.05), abs=1e-6)
    assert boundaries((1.0,), 0.05) == pytest.approx((stats.norm.isf(0.025),))


def test_sequential_plan_is_inflated_to_keep_power(make_exp: Callable[..., Experiment]) -> None:
    fractions = equal_fractions(4)
    inflation = inflation_factor(fractions, 0.05, 0.8)
    assert 1.0 < inflation < 1.03  # OBF costs about 2% more players for four looks
    drift = math.sqrt(inflation) * (stats.norm.isf(0.025) + stats.norm.ppf(0.8))
    assert crossing_probabilities(boundaries(fractions, 0.05), fractions, drift).sum() == pytest.approx(
        0.8, abs=1e-6
    )
    plan = make_exp(looks=4).plan()
    assert (
        plan.per_variant["A"] == math.ceil(plan.fixed_horizon["A"] * inflation)
        or abs(plan.per_variant["A"] - plan.fixed_horizon["A"] * inflation) <= 1
    )
    assert plan.looks[-1] == plan.total and len(plan.boundaries) == 4


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"split": {"A": 0.5, "B": 0.6}}, "split must sum to 1"),
        ({"split": {"A": 0.5, "C": 0.5}}, "split names"),
        ({"split": {"A": 0.33333, "B": 0.66667}}, "basis points"),
        (
            {"variants": {"A": "1", "B": "2", "C": "3"}, "split": {"A": 0.4, "B": 0.3, "C": 0.3}},
            "exactly two",
        ),
        ({"metric": {"name": "s", "kind": "mean", "baseline": 10, "mde": 1}}, "std"),
        ({"metric": {"name": "r", "kind": "rate", "baseline": 1.2, "mde": 0.1}}, "baseline must be in"),
        ({"alpha": 0.7}, "alpha"),
        ({"salt": ""}, "salt"),
    ],
)
def test_bad_definitions_are_named(
    make_exp: Callable[..., Experiment], overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(ExperimentError, match=message) as info:
        make_exp(**overrides)
    assert str(info.value).startswith("invalid experiment:")


def test_yaml_round_trip_and_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "exp.yaml"
    path.write_text(
        "name: x\nmodel: churn\nsalt: s\nvariants: {A: '1', B: '2'}\nsplit: {A: 0.9, B: 0.1}\n"
        "metric: {name: purchase, kind: rate, baseline: 0.05, mde: 0.01}\nlooks: 3\n"
    )
    exp = Experiment.from_yaml(path)
    assert exp.control == "A" and exp.treatment == "B"
    assert exp.split_bp() == [("A", 9000), ("B", 1000)]
    sizes = exp.required_sample_size()
    assert sizes["A"] == pytest.approx(9 * sizes["B"], rel=1e-3)
    with pytest.raises(ExperimentError, match="cannot read experiment"):
        Experiment.from_yaml(tmp_path / "missing.yaml")
    path.write_text("name: [unclosed")
    with pytest.raises(ExperimentError, match="cannot read experiment"):
        Experiment.from_yaml(path)
