"""Model search: optuna TPE over families, stratified k-fold CV scored per fold with pruning.

What makes it fast and keeps its budget (each measured with ``benchmarks/training.py``):

- Each family's strong default is scored first (scikit-learn's own defaults, give or take), for TPE
  and random search alike, so the search can only improve on an untuned model.
- Each fold's feature pipeline (pre-graph step, impute, one-hot, scaling, interactions) is fitted
  once per variant and its matrices reused by every trial: a trial fits only selection + estimator.
- The budget is a promise for the whole run: the caller says what comes after the search
  (``finish_fits`` refits of the winner, ``finish_overhead_s`` of export and evaluation), the search
  keeps that much time free for its best candidate, predicts each fold batch's time from the
  trials measured so far (scaled by the estimator's size), and never starts a batch that would not
  fit. A slow first trial that cannot finish all its folds in time is scored on the folds it did.

Every core is used by fitting that many folds at a time in threads (scikit-learn's tree builders release
the GIL), not by parallel trials: parallel trials would make a seeded run depend on timing.
BLAS/OpenMP pools are held to one thread, since on two shared cores their spinning costs more
than it gains (HistGradientBoosting took 40x longer here without the limit).
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import optuna
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from liveml.features import build_pipeline
from liveml.training.errors import TrainingError
from liveml.training.export import sklearn_outputs
from liveml.training.families import FAMILIES, pipeline_options
from liveml.training.metrics import score


@dataclass
class TrialRecord:
    number: int
    state: str
    value: float | None
    family: str
    params: dict[str, Any]
    fold_scores: list[float]
    duration_s: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TrialEvent:
    """What the progress callback receives after each trial."""

    number: int
    total: int
    state: str
    value: float | None
    best_value: float | None
    best_family: str | None
    elapsed_s: float


@dataclass
class Candidate:
    """One scored configuration: what a refit needs, and what ranks it."""

    trial: int
    family: str
    params: dict[str, Any]
    cv_score: float
    fold_scores: list[float]
    #: mean wall seconds of one fold's fit (selection + estimator), a guide to a refit's cost
    fit_seconds: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SearchResult:
    family: str
    params: dict[str, Any]
    cv_score: float
    trials: list[TrialRecord] = field(default_factory=list)
    duration_s: float = 0.0
    #: every completed configuration, best first (ties: the earlier trial); the first is the winner
    candidates: list[Candidate] = field(default_factory=list)
    #: the winner's CV lead over the runner-up, and the noise it is measured against: twice the
    #: standard error of their paired fold differences (same folds for every trial)
    margin: float | None = None
    noise: float | None = None
    #: True when the lead is no larger than the noise: another candidate would do as well
    within_noise: bool = False
    #: why the search stopped: "trials" (all run) or "budget" (time left only for what follows)
    stopped_by: str = "trials"


def make_pipeline(
    spec: dict[str, Any], family: str, params: dict[str, Any], task: str, seed: int, interactions: list[str]
) -> Any:
    fam = FAMILIES[family]
    est_params, pipe = pipeline_options(family, params)
    return build_pipeline(
        spec,
        fam.make(est_params, task, seed),
        task=task,
        scale=fam.scale,
        interactions=interactions if pipe["interactions"] else None,
        select_percentile=pipe["select_percentile"],
    )


#: steps of ``build_pipeline`` that depend only on the data, not on the trial's parameters
FEATURE_STEPS = ("pregraph", "columns", "variance")
#: each family's parameter that scales its fit time linearly (trees or boosting rounds)
SIZE_PARAMS = {
    "random_forest": "n_estimators",
    "extra_trees": "n_estimators",
    "gradient_boosting": "n_estimators",
}
SIZE_PARAMS["hist_gradient_boosting"] = "max_iter"

#: Strong first trials, one per family, in this order: scikit-learn's defaults where the space
#: allows (HGB: 100 rounds at 0.1 with 31 leaves, for which depth 10 is no limit; forests: 100
#: full-width trees, depth 16 standing in for unlimited), so no search ends below a default model.
DEFAULT_TRIALS: dict[str, dict[str, Any]] = {
    "hist_gradient_boosting": {
        "hgb.max_iter": 100,
        "hgb.max_depth": 10,
        "hgb.learning_rate": 0.1,
        "hgb.max_features": 1.0,
        "hgb.l2_regularization": 1e-6,
        "hgb.max_leaf_nodes": 31,
        "hgb.min_samples_leaf": 20,
    },
    "linear": {"linear.C": 1.0, "linear.select_percentile": 100, "linear.interactions": False},
    "gradient_boosting": {
        "gb.n_estimators": 100,
        "gb.max_depth": 3,
        "gb.learning_rate": 0.1,
        "gb.subsample": 1.0,
    },
    "random_forest": {
        "rf.n_estimators": 100,
        "rf.max_depth": 16,
        "rf.min_samples_leaf": 1,
        "rf.max_features": 0.3,
    },
    "extra_trees": {
        "et.n_estimators": 100,
        "et.max_depth": 16,
        "et.min_samples_leaf": 1,
        "et.max_features": 0.5,
    },
}


def _defaults(families: list[str]) -> list[dict[str, Any]]:
    """Each searched family's strong default, so that even a tiny budget sees every kind at its best guess."""
    return [{"family": f, **p} for f, p in DEFAULT_TRIALS.items() if f in families]


def usable_cores() -> int:
    """The cores this process may run on (a Lambda's vCPUs follow its memory: 10,240 MB gives 6)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _split_pipeline(pipe: Pipeline) -> tuple[Pipeline, Pipeline]:
    """The data-only front (fitted once per fold and variant) and the trial's own rest."""
    n = sum(1 for name, _ in pipe.steps if name in FEATURE_STEPS)
    return Pipeline(pipe.steps[:n]), Pipeline(pipe.steps[n:])


def search(
    df: pd.DataFrame,
    y: npt.NDArray[Any],
    spec: dict[str, Any],
    task: str,
    *,
    trials: int = 30,
    time_budget_s: float = 300.0,
    seed: int = 0,
    folds: int = 5,
    families: list[str] | None = None,
    interactions: list[str] | None = None,
    sampler: str = "tpe",
    n_jobs: int | None = None,
    progress: Callable[[TrialEvent], None] | None = None,
    first_trials: list[dict[str, Any]] | None = None,
    finish_fits: float = 0.0,
    finish_overhead_s: float = 0.0,
    finish_front_factor: float = 0.0,
) -> SearchResult:
    """Search families and their parameters; returns the best by mean CV score (higher is better).

    ``first_trials`` (optuna parameter names, e.g. ``{"family": "linear", "linear.C": 0.5, ...}``)
    replace the default first trials: with ``trials=1`` the search scores exactly that one trial,
    as a SageMaker training job does for its tuning job.

    ``time_budget_s`` covers the search and what its caller does next: ``finish_fits`` fits of the
    winner on ``len(df)`` rows (a refit on more rows counts more), ``finish_overhead_s`` seconds, and
    ``finish_front_factor`` times one fold's feature-pipeline fit as measured in this run (export,
    parity and evaluation scale with the data and this machine's speed, as that fit does). The
    search leaves that much time free for its best candidate."""
    names = families or list(FAMILIES)
    unknown = set(names) - set(FAMILIES)
    if unknown:
        raise TrainingError(f"unknown model families {sorted(unknown)}; known: {sorted(FAMILIES)}")
    if trials < 1 or time_budget_s <= 0:
        raise TrainingError("the trial budget and the time budget must be positive")
    if min(finish_fits, finish_overhead_s, finish_front_factor) < 0:
        raise TrainingError("finish_fits, finish_overhead_s and finish_front_factor cannot be negative")
    splitter = (
        KFold(folds, shuffle=True, random_state=seed)
        if task == "regression"
        else StratifiedKFold(folds, shuffle=True, random_state=seed)
    )
    run = _Search(
        df,
        y,
        spec,
        task,
        names,
        splits=list(splitter.split(np.zeros(len(y)), y)),
        interactions=list(interactions or []),
        seed=seed,
        trials=trials,
        time_budget_s=time_budget_s,
        n_jobs=n_jobs or usable_cores(),
        progress=progress,
        finish_fits=finish_fits,
        finish_overhead_s=finish_overhead_s,
        finish_front_factor=finish_front_factor,
    )
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study = _study(sampler, seed, trials, names, first_trials)
        with threadpool_limits(limits=1):
            study.optimize(
                run.objective,
                n_trials=trials,
                timeout=time_budget_s,
                callbacks=[run.on_trial, run.stop_when_out_of_time],
                catch=(ValueError, ArithmeticError),
            )
    return run.result(study)


def _study(
    sampler: str, seed: int, trials: int, names: list[str], first_trials: list[dict[str, Any]] | None
) -> optuna.Study:
    """A maximising study with a median pruner, starting from each family's strong default (or
    from ``first_trials`` when given), whichever the sampler: random search gets the same warm start."""
    chosen: optuna.samplers.BaseSampler = (
        optuna.samplers.RandomSampler(seed=seed)
        if sampler == "random"
        else optuna.samplers.TPESampler(
            seed=seed, multivariate=True, group=True, n_startup_trials=min(10, max(3, trials // 3))
        )
    )
    study = optuna.create_study(
        direction="maximize",
        sampler=chosen,
        pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1),
    )
    for params in (_defaults(names) if first_trials is None else first_trials)[:trials]:
        study.enqueue_trial(params)
    return study


@dataclass
class _Search:
    """One search's data and budget: the optuna objective, the per-trial callbacks, the fold cache."""

    df: pd.DataFrame
    y: npt.NDArray[Any]
    spec: dict[str, Any]
    task: str
    names: list[str]
    splits: list[tuple[Any, Any]]
    interactions: list[str]
    seed: int
    trials: int
    time_budget_s: float
    n_jobs: int
    progress: Callable[[TrialEvent], None] | None
    finish_fits: float = 0.0
    finish_overhead_s: float = 0.0
    finish_front_factor: float = 0.0
    start: float = field(default_factory=time.monotonic)
    records: list[TrialRecord] = field(default_factory=list)
    #: per-fold fit seconds of each trial, by trial number
    fit_times: dict[int, list[float]] = field(default_factory=dict)
    #: (variant, fold) -> the fold's transformed train and validation matrices
    cache: dict[tuple[Any, int], tuple[Any, Any]] = field(default_factory=dict)
    stopped_by: str = "trials"
    #: seconds of each fold's feature-pipeline fit and transforms: this run's speed on this data
    front_seconds: list[float] = field(default_factory=list)

    def objective(self, trial: optuna.Trial) -> float:
        """Mean CV score of one family and parameter set, fold batches in parallel; pruned early
        when the median pruner says so, or before a fold batch that would not fit in the time left."""
        family = trial.suggest_categorical("family", self.names)
        params = FAMILIES[family].space(trial)
        trial.set_user_attr("family", family)
        trial.set_user_attr("params", params)
        pipe = make_pipeline(self.spec, family, params, self.task, self.seed, self.interactions)
        variant = (FAMILIES[family].scale, pipeline_options(family, params)[1]["interactions"])
        scores: list[float] = []
        fit_times = self.fit_times.setdefault(trial.number, [])
        trial.set_user_attr("fold_scores", scores)
        for i in range(0, len(self.splits), self.n_jobs):
            batch = list(range(i, min(i + self.n_jobs, len(self.splits))))
            estimate = self._batch_estimate(family, params, trial.number)
            if (scores or self._completed()) and not self._fits(estimate, params_of=(family, params)):
                if not self._completed():  # a slow first trial: its folds so far are the estimate
                    trial.set_user_attr("folds_scored", len(scores))
                    return float(np.mean(scores))
                raise optuna.TrialPruned()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                got = Parallel(n_jobs=len(batch), prefer="threads")(
                    delayed(self._fit_score)(pipe, variant, k) for k in batch
                )
            for s, secs in got:
                scores.append(float(s))
                fit_times.append(secs)
                trial.report(float(np.mean(scores)), step=len(scores) - 1)
            if len(scores) < len(self.splits) and trial.should_prune():
                raise optuna.TrialPruned()
        return float(np.mean(scores))

    def _fit_score(self, pipe: Pipeline, variant: Any, k: int) -> tuple[float, float]:
        """One fold: the cached feature matrices, then this trial's selection and estimator."""
        front, rest = _split_pipeline(clone(pipe))  # each fold its own estimators: folds run in threads
        key = (variant, k)
        if key not in self.cache:  # one thread per fold, so never two for one key
            tr, va = self.splits[k]
            t0 = time.monotonic()
            x_fit = front.fit_transform(self.df.iloc[tr], self.y[tr])
            self.cache[key] = (x_fit, front.transform(self.df.iloc[va]))
            self.front_seconds.append(time.monotonic() - t0)
        x_tr, x_va = self.cache[key]
        tr, va = self.splits[k]
        t0 = time.monotonic()
        rest.fit(x_tr, self.y[tr])
        secs = time.monotonic() - t0
        return score(self.task, self.y[va], sklearn_outputs(rest, x_va, self.task)), secs

    def _batch_estimate(self, family: str, params: dict[str, Any], number: int | None = None) -> float:
        """Seconds one fold batch of this configuration should take: the median fold fit of the
        same family, scaled by its size parameter; an unseen family is assumed as slow as the slowest."""
        size = SIZE_PARAMS.get(family)
        same: list[float] = []
        for r in self.records:
            times = self.fit_times.get(r.number)
            if r.family != family or not times:
                continue
            ratio = params[size] / r.params[size] if size and r.params.get(size) else 1.0
            same.append(float(np.median(times)) * ratio)
        own = self.fit_times.get(number) if number is not None else None  # the trial's own folds so far
        if own:
            return float(np.median(own))
        if same:
            return float(np.median(same))
        return max((max(t) for t in self.fit_times.values() if t), default=0.0)

    def _finish_estimate(self, family: str | None = None, params: dict[str, Any] | None = None) -> float:
        """Seconds the caller needs after the search for the best candidate (or the one given)."""
        overhead = self.finish_overhead_s
        if self.front_seconds:
            overhead += self.finish_front_factor * float(np.median(self.front_seconds))
        if self.finish_fits == 0:
            return overhead
        per_fold = 0.0
        best = self._ranked()
        if family is not None and params is not None:
            per_fold = self._batch_estimate(family, params)
        if best:
            per_fold = max(per_fold, best[0].fit_seconds)
        fold_rows = len(self.splits[0][0])
        return overhead + self.finish_fits * per_fold * len(self.y) / max(fold_rows, 1)

    def _fits(self, seconds: float, *, params_of: tuple[str, dict[str, Any]] | None = None) -> bool:
        """Whether ``seconds`` more of search still leave the finish its time."""
        finish = self._finish_estimate(*params_of) if params_of else self._finish_estimate()
        return self._elapsed() + seconds + finish <= self.time_budget_s

    def stop_when_out_of_time(self, study: optuna.Study, frozen: optuna.trial.FrozenTrial) -> None:
        """Stop once not even the quickest fold batch seen so far would fit before the finish."""
        quickest = min((min(t) for t in self.fit_times.values() if t), default=0.0)
        if self._completed() and not self._fits(quickest):
            self.stopped_by = "budget"
            study.stop()

    def on_trial(self, study: optuna.Study, frozen: optuna.trial.FrozenTrial) -> None:
        dur = frozen.duration.total_seconds() if frozen.duration else 0.0
        self.records.append(
            TrialRecord(
                frozen.number,
                frozen.state.name,
                None if frozen.value is None else float(frozen.value),
                str(frozen.user_attrs.get("family", frozen.params.get("family"))),
                dict(frozen.user_attrs.get("params", {})),
                list(frozen.user_attrs.get("fold_scores", [])),
                round(dur, 3),
            )
        )
        if self.progress is not None:
            best = max(self._completed(), key=lambda r: r.value or -np.inf, default=None)
            self.progress(
                TrialEvent(
                    frozen.number,
                    self.trials,
                    frozen.state.name,
                    self.records[-1].value,
                    best.value if best else None,
                    best.family if best else None,
                    self._elapsed(),
                )
            )

    def result(self, study: optuna.Study) -> SearchResult:
        ranked = self._ranked()
        if not ranked:
            failed = [t.user_attrs.get("error") for t in study.trials]
            raise TrainingError(
                f"no trial finished within the budget ({len(self.records)} tried) {failed[:1]}"
            )
        if self.stopped_by != "budget" and len(self.records) < self.trials:
            self.stopped_by = "budget"  # optuna's own timeout
        best = ranked[0]
        margin, noise = _lead(ranked)
        return SearchResult(
            best.family,
            best.params,
            best.cv_score,
            self.records,
            self._elapsed(),
            candidates=ranked,
            margin=margin,
            noise=noise,
            within_noise=margin is not None and noise is not None and margin <= noise,
            stopped_by=self.stopped_by,
        )

    def _ranked(self) -> list[Candidate]:
        done = [r for r in self._completed() if r.value is not None and np.isfinite(r.value)]
        done.sort(key=lambda r: (-(r.value or 0.0), r.number))
        return [
            Candidate(
                r.number,
                r.family,
                r.params,
                float(r.value or 0.0),
                r.fold_scores,
                round(float(np.mean(self.fit_times.get(r.number) or [0.0])), 4),
            )
            for r in done
        ]

    def _completed(self) -> list[TrialRecord]:
        return [r for r in self.records if r.state == "COMPLETE" and r.value is not None]

    def _elapsed(self) -> float:
        return time.monotonic() - self.start


def _lead(ranked: list[Candidate]) -> tuple[float | None, float | None]:
    """The winner's lead over the runner-up and twice the standard error of their paired fold
    differences (the folds they share), or Nones when there is no runner-up to compare."""
    if len(ranked) < 2:
        return None, None
    best, second = ranked[0], ranked[1]
    shared = min(len(best.fold_scores), len(second.fold_scores))
    margin = best.cv_score - second.cv_score
    if shared < 2:
        return margin, None
    diffs = np.subtract(best.fold_scores[:shared], second.fold_scores[:shared])
    return margin, float(2 * np.std(diffs, ddof=1) / np.sqrt(shared))
