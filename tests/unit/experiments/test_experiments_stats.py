"""The tests agree with scipy and statsmodels; simulated A/A tests stay within alpha; power is as planned."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from liveml.experiments import Experiment, Verdict, analyze, simulate, simulate_looks
from liveml.experiments import stats as xstats

SIMS = 2000


def _upper(alpha: float, sims: int = SIMS) -> float:
    """The false-positive rate a correct test stays under with 99.9% probability."""
    return float(stats.binom.ppf(0.999, sims, alpha)) / sims


@pytest.mark.parametrize(
    ("xa", "na", "xb", "nb"), [(300, 1000, 345, 1000), (12, 400, 5, 380), (5000, 20000, 5210, 19800)]
)
def test_two_proportion_matches_statsmodels(xa: int, na: int, xb: int, nb: int) -> None:
    result = xstats.two_proportion(xa, na, xb, nb, 0.05)
    z, p = proportions_ztest([xb, xa], [nb, na])
    low, high = confint_proportions_2indep(xb, nb, xa, na, method="wald", compare="diff", alpha=0.05)
    assert float(result.statistic) == pytest.approx(z, rel=1e-9)
    assert float(result.p_value) == pytest.approx(p, rel=1e-9)
    assert (float(result.ci_low), float(result.ci_high)) == pytest.approx((low, high), rel=1e-9)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_welch_matches_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a, b = rng.normal(12, 8, 700), rng.normal(12.8, 11, 450)
    result = xstats.welch(a.mean(), a.var(ddof=1), len(a), b.mean(), b.var(ddof=1), len(b), 0.05)
    ref = stats.ttest_ind(b, a, equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert float(result.statistic) == pytest.approx(ref.statistic, rel=1e-9)
    assert float(result.p_value) == pytest.approx(ref.pvalue, rel=1e-9)
    assert (float(result.ci_low), float(result.ci_high)) == pytest.approx((ci.low, ci.high), rel=1e-9)


def test_analysis_agrees_with_scipy_on_the_joined_players(mean_exp: Experiment, rate_exp: Experiment) -> None:
    sim = simulate({"A": 12.0, "B": 13.0}, 3000, 5, experiment=mean_exp)
    result = analyze(mean_exp, sim.assignments, sim.outcomes)
    values = sim.outcomes.groupby("player_id")["value"].mean()
    by = sim.assignments.set_index("player_id").join(values)
    ref = stats.ttest_ind(
        by.loc[by.variant == "B", "value"], by.loc[by.variant == "A", "value"], equal_var=False
    )
    assert result.effect.statistic == pytest.approx(ref.statistic, rel=1e-9)
    assert result.effect.p_value == pytest.approx(ref.pvalue, rel=1e-9)

    sim = simulate({"A": 0.3, "B": 0.33}, 5000, 6, experiment=rate_exp)
    result = analyze(rate_exp, sim.assignments, sim.outcomes)
    converted = sim.assignments.player_id.isin(sim.outcomes.player_id)
    x = [int(converted[sim.assignments.variant == v].sum()) for v in "BA"]
    n = [int((sim.assignments.variant == v).sum()) for v in "BA"]
    z, p = proportions_ztest(x, n)
    assert (result.effect.statistic, result.effect.p_value) == pytest.approx((z, p), rel=1e-9)
    assert [v.n for v in result.variants] == n[::-1]


def test_srm_matches_scipy_and_flags_a_52_48_split() -> None:
    chi2, p = xstats.srm_pvalue([10_400, 9_600], [0.5, 0.5])
    ref = stats.chisquare([10_400, 9_600])
    assert (chi2, p) == pytest.approx((ref.statistic, ref.pvalue))
    assert p < 0.001
    assert xstats.srm_pvalue([10_060, 9_940], [0.5, 0.5])[1] > 0.001


def test_srm_on_the_analysis_path(rate_exp: Experiment) -> None:
    sim = simulate({"A": 0.3, "B": 0.3}, 20_000, 11, experiment=rate_exp)
    fair = analyze(rate_exp, sim.assignments, sim.outcomes)
    assert not fair.srm.mismatch and fair.verdict is not Verdict.INVALID
    # B loses 8% of its players' logs (say it crashes): about 52/48, a broken split.
    rng = np.random.default_rng(0)
    keep = ~((sim.assignments.variant == "B").to_numpy() & (rng.random(len(sim.assignments)) < 0.08))
    skewed = analyze(rate_exp, sim.assignments[keep], sim.outcomes)
    assert skewed.srm.mismatch and skewed.srm.p_value < 0.001
    assert skewed.verdict is Verdict.INVALID and "sample-ratio mismatch" in skewed.reason


@pytest.mark.parametrize("kind", ["rate", "mean"])
@pytest.mark.parametrize("looks", [1, 4])
def test_aa_false_positive_rate_within_alpha(
    make_exp: Callable[..., Experiment], kind: str, looks: int, rate_exp: Experiment, mean_exp: Experiment
) -> None:
    base = rate_exp if kind == "rate" else mean_exp
    exp = make_exp(metric=base.metric.model_dump(), looks=looks)
    null = {"A": exp.metric.baseline, "B": exp.metric.baseline}
    rejected = simulate_looks(exp, null, SIMS, seed=looks).rejects().mean()
    assert rejected <= _upper(exp.alpha)
    assert rejected >= 0.02  # and the test is not merely dead


def test_peeking_without_boundaries_would_inflate_false_positives(
    make_exp: Callable[..., Experiment],
) -> None:
    exp = make_exp(looks=5)
    sims = simulate_looks(exp, {"A": 0.3, "B": 0.3}, SIMS, seed=3)
    naive = (np.abs(sims.statistic) >= stats.norm.isf(0.025)).any(axis=1).mean()
    assert naive > _upper(0.05)  # five looks at 1.96: about 14%
    assert sims.rejects().mean() <= _upper(0.05)


@pytest.mark.parametrize("kind", ["rate", "mean"])
@pytest.mark.parametrize("looks", [1, 4])
def test_planned_effect_found_with_planned_power(
    make_exp: Callable[..., Experiment], kind: str, looks: int, rate_exp: Experiment, mean_exp: Experiment
) -> None:
    base = rate_exp if kind == "rate" else mean_exp
    exp = make_exp(metric=base.metric.model_dump(), looks=looks)
    effect = {"A": exp.metric.baseline, "B": exp.metric.baseline + exp.metric.mde}
    sims = simulate_looks(exp, effect, SIMS, seed=10 + looks)
    power = sims.rejects().mean()
    assert abs(power - exp.power) < 4 * np.sqrt(exp.power * (1 - exp.power) / SIMS)
    # Crossings in the wrong direction are all but impossible at this effect.
    assert (sims.effect[sims.rejects(), -1] > 0).mean() > 0.99
