"""The search: strong defaults first, ranked candidates, the within-noise flag, and the time budget
kept with a deliberately slow first trial (an estimator that sleeps in ``fit``)."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression

from liveml.features import pregraph_spec
from liveml.training import tuning
from liveml.training.errors import TrainingError
from liveml.training.families import FAMILIES, Family
from liveml.training.tuning import DEFAULT_TRIALS, Candidate, _lead, make_pipeline, search

#: long against the CPU work around it, so the test holds on a loaded machine too
SLEEP_S = 2.0
#: linear's default trial, a quick configuration
LINEAR = {"family": "linear", **DEFAULT_TRIALS["linear"]}


def _data() -> tuple[pd.DataFrame, np.ndarray[Any, Any], dict[str, Any]]:
    from liveml.contract import Contract

    df = load_breast_cancer(as_frame=True).frame.rename(columns=lambda c: c.replace(" ", "_"))
    cols = [{"name": c, "type": "numeric"} for c in df.columns if c != "target"]
    cols.append({"name": "target", "type": "integer"})
    contract = Contract.from_dict(
        {"name": "bc", "task": "binary", "target": "target", "classes": ["0", "1"], "columns": cols}
    )
    return df, df["target"].to_numpy(), pregraph_spec(contract)


class _SlowLogistic(LogisticRegression):  # type: ignore[misc]
    """A logistic regression whose every fit takes at least SLEEP_S seconds."""

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> _SlowLogistic:  # noqa: N803
        time.sleep(SLEEP_S)
        super().fit(X, y, sample_weight)
        return self


@pytest.fixture
def slow_family(monkeypatch: pytest.MonkeyPatch) -> str:
    family = Family(
        "slow",
        lambda trial: {"C": trial.suggest_float("slow.C", 0.1, 10.0, log=True)},
        lambda p, task, seed: _SlowLogistic(C=p["C"], max_iter=2000),
        scale=True,
    )
    monkeypatch.setitem(FAMILIES, "slow", family)
    return "slow"


def test_every_family_default_runs_first_for_tpe_and_random() -> None:
    df, y, spec = _data()
    for sampler in ("tpe", "random"):
        result = search(df, y, spec, "binary", trials=5, time_budget_s=300, folds=3, sampler=sampler)
        first = [(t.family, t.params) for t in result.trials]
        expected = [
            (family, {k.split(".", 1)[1]: v for k, v in params.items()})
            for family, params in DEFAULT_TRIALS.items()
        ]
        assert first == expected, sampler


def test_candidates_are_ranked_and_the_winner_is_first() -> None:
    df, y, spec = _data()
    result = search(
        df, y, spec, "binary", trials=4, time_budget_s=300, folds=3, families=["linear", "extra_trees"]
    )
    scores = [c.cv_score for c in result.candidates]
    assert len(result.candidates) == sum(t.state == "COMPLETE" for t in result.trials) >= 2
    assert scores == sorted(scores, reverse=True)
    best = result.candidates[0]
    assert (best.family, best.params, best.cv_score) == (result.family, result.params, result.cv_score)
    assert all(len(c.fold_scores) == 3 and c.fit_seconds > 0 for c in result.candidates)
    assert result.margin == pytest.approx(scores[0] - scores[1])
    assert result.stopped_by == "trials"


def test_identical_configurations_are_within_noise() -> None:
    df, y, spec = _data()
    result = search(
        df, y, spec, "binary", trials=2, time_budget_s=300, folds=3, first_trials=[LINEAR, LINEAR]
    )
    assert result.margin == 0.0 and result.noise == 0.0 and result.within_noise


def test_a_clear_lead_is_not_within_noise() -> None:
    ranked = [
        Candidate(0, "hist_gradient_boosting", {}, 0.95, [0.95, 0.951, 0.949], 1.0),
        Candidate(1, "linear", {}, 0.80, [0.80, 0.79, 0.81], 0.1),
    ]
    margin, noise = _lead(ranked)
    assert margin is not None and noise is not None
    assert margin == pytest.approx(0.15) and noise < margin
    close = [ranked[0], Candidate(2, "linear", {}, 0.949, [0.96, 0.94, 0.947], 0.1)]
    margin, noise = _lead(close)
    assert margin is not None and noise is not None
    assert margin == pytest.approx(0.001) and noise > margin
    assert _lead(ranked[:1]) == (None, None)


def test_budget_kept_with_a_slow_first_trial(slow_family: str) -> None:
    """The slow first trial cannot do its 5 folds (3 batches of SLEEP_S) and still leave the winner's
    refit its time: it is scored on the folds it did, and search + refit end within the budget."""
    df, y, spec = _data()
    budget = 4.0 * SLEEP_S
    started = time.monotonic()
    result = search(
        df,
        y,
        spec,
        "binary",
        trials=50,
        time_budget_s=budget,
        folds=5,
        families=[slow_family, "linear"],
        first_trials=[{"family": slow_family, "slow.C": 1.0}],
        finish_fits=1.0,
    )
    pipe = make_pipeline(spec, result.family, result.params, "binary", 0, [])
    pipe.fit(df, y)  # the refit the search left time for
    wall = time.monotonic() - started
    assert wall <= budget * 1.05, (wall, [(t.family, t.state, t.duration_s) for t in result.trials])
    first = result.trials[0]
    assert first.family == slow_family and first.state == "COMPLETE", result.trials
    assert 1 <= len(first.fold_scores) < 5, first
    assert result.stopped_by == "budget"


def test_no_fold_batch_starts_that_would_overrun(slow_family: str) -> None:
    """Once a family's fold time is known, a batch that would not fit before the finish never starts."""
    df, y, spec = _data()
    slow = {"family": slow_family, "slow.C": 1.0}
    budget, finish = 2.5 * SLEEP_S, 0.5 * SLEEP_S
    started = time.monotonic()
    result = search(
        df,
        y,
        spec,
        "binary",
        trials=3,
        time_budget_s=budget,
        folds=4,
        first_trials=[LINEAR, slow],
        finish_overhead_s=finish,
    )
    assert time.monotonic() - started + finish <= budget * 1.05
    states = [(t.family, t.state, len(t.fold_scores)) for t in result.trials]
    assert states[:2] == [("linear", "COMPLETE", 4), (slow_family, "PRUNED", 2)], states
    assert [c.family for c in result.candidates] == ["linear"]


def test_negative_finish_is_refused() -> None:
    df, y, spec = _data()
    with pytest.raises(TrainingError, match="cannot be negative"):
        search(df, y, spec, "binary", trials=1, finish_fits=-1)


def test_features_are_fitted_once_per_fold_and_variant(monkeypatch: pytest.MonkeyPatch) -> None:
    df, y, spec = _data()
    calls: list[int] = []
    original = tuning._split_pipeline

    def counting(pipe: Any) -> Any:
        front, rest = original(pipe)
        fit_transform = front.fit_transform

        def counted(*args: Any, **kwargs: Any) -> Any:
            calls.append(1)
            return fit_transform(*args, **kwargs)

        front.fit_transform = counted
        return front, rest

    monkeypatch.setattr(tuning, "_split_pipeline", counting)
    search(
        df, y, spec, "binary", trials=4, time_budget_s=300, folds=3, families=["extra_trees", "random_forest"]
    )
    assert len(calls) == 3  # trees share one unscaled variant: one feature fit per fold, not per trial


def test_the_histogram_boosting_default_is_scikit_learns() -> None:
    """The default trial is scikit-learn's own HistGradientBoosting on every parameter the space
    tunes (depth 10 is no limit for 31 leaves; a tiny L2 stands in for zero on a log scale)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    sklearn_defaults = HistGradientBoostingClassifier().get_params()
    ours = {k.split(".", 1)[1]: v for k, v in DEFAULT_TRIALS["hist_gradient_boosting"].items()}
    for name in ("max_iter", "learning_rate", "max_features", "max_leaf_nodes", "min_samples_leaf"):
        assert ours[name] == sklearn_defaults[name], name


def test_few_large_leaves_export_with_parity() -> None:
    """The corner of the space small noisy sets pick (4 leaves of at least 200 rows) exports to ONNX
    and to the compact format and both reproduce scikit-learn on unseen players."""
    from liveml.data.synth import generate_players, player_contract
    from liveml.training.export import (
        check_compact_parity,
        check_onnx_parity,
        make_float32_exact,
        to_compact,
        to_onnx,
    )
    from liveml.training.parity import tolerance
    from liveml.training.train import encode_target

    contract = player_contract("binary")
    df, test = generate_players(1500, seed=1), generate_players(400, seed=2)
    y, classes = encode_target(contract, df[contract.target])
    spec = pregraph_spec(contract)
    params = {
        "max_iter": 50,
        "max_depth": 10,
        "learning_rate": 0.05,
        "max_features": 0.8,
        "l2_regularization": 0.1,
        "max_leaf_nodes": 4,
        "min_samples_leaf": 200,
    }
    pipe = make_pipeline(spec, "hist_gradient_boosting", params, "binary", 0, []).fit(df, y)
    pipe = make_float32_exact(pipe)  # as training serves it
    trees = [tree for rounds in pipe.steps[-1][1]._predictors for tree in rounds]
    assert max(tree.get_n_leaf_nodes() for tree in trees) <= 4
    diff, expected = check_onnx_parity(to_onnx(pipe, "binary"), pipe, test, "binary", classes)
    assert diff <= tolerance("binary")
    compact = to_compact(pipe, "binary", classes)
    assert compact is not None
    assert check_compact_parity(compact, pipe, test, "binary", expected) <= tolerance("binary")


def test_pruned_trials_never_win_on_fewer_folds() -> None:
    """A trial the median pruner stopped early has fewer fold scores; it is never a candidate, so no
    configuration wins on a luckier subset of the folds than the others were scored on."""
    df, y, spec = _data()
    result = search(df, y, spec, "binary", trials=14, time_budget_s=300, folds=5, families=["linear"])
    pruned = [t for t in result.trials if t.state == "PRUNED"]
    assert pruned and all(len(t.fold_scores) < 5 for t in pruned), result.trials
    assert {c.trial for c in result.candidates}.isdisjoint(t.number for t in pruned)
    assert all(len(c.fold_scores) == 5 for c in result.candidates)
