"""Model search: optuna TPE over families, stratified k-fold CV scored per fold with pruning.

Both cores are used by fitting two folds at a time in threads (scikit-learn's tree builders release
the GIL), not by parallel trials: parallel trials would make a seeded run depend on timing.
BLAS/OpenMP pools are held to one thread, since on two shared cores their spinning costs more
than it gains (HistGradientBoosting took 40x longer here without the limit).
"""

from __future__ import annotations

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
class SearchResult:
    family: str
    params: dict[str, Any]
    cv_score: float
    trials: list[TrialRecord] = field(default_factory=list)
    duration_s: float = 0.0


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


def _fit_score(pipe: Any, df: pd.DataFrame, y: npt.NDArray[Any], tr: Any, va: Any, task: str) -> float:
    model = clone(pipe).fit(df.iloc[tr], y[tr])
    return score(task, y[va], sklearn_outputs(model, df.iloc[va], task))


def _defaults(families: list[str]) -> list[dict[str, Any]]:
    """Sensible first trials, so that even a tiny budget sees a strong baseline of each kind."""
    first = {
        "hist_gradient_boosting": {
            "hgb.max_iter": 100,
            "hgb.max_depth": 6,
            "hgb.learning_rate": 0.1,
            "hgb.max_features": 1.0,
            "hgb.l2_regularization": 1e-6,
        },
        "linear": {"linear.C": 1.0, "linear.select_percentile": 100, "linear.interactions": False},
    }
    return [{"family": f, **p} for f, p in first.items() if f in families]


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
    n_jobs: int = 2,
    progress: Callable[[TrialEvent], None] | None = None,
    first_trials: list[dict[str, Any]] | None = None,
) -> SearchResult:
    """Search families and their parameters; returns the best by mean CV score (higher is better).

    ``first_trials`` (optuna parameter names, e.g. ``{"family": "linear", "linear.C": 0.5, ...}``)
    replace the default first trials: with ``trials=1`` the search scores exactly that one trial,
    as a SageMaker training job does for its tuning job."""
    names = families or list(FAMILIES)
    unknown = set(names) - set(FAMILIES)
    if unknown:
        raise TrainingError(f"unknown model families {sorted(unknown)}; known: {sorted(FAMILIES)}")
    if trials < 1 or time_budget_s <= 0:
        raise TrainingError("the trial budget and the time budget must be positive")
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
        n_jobs=n_jobs,
        progress=progress,
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
                callbacks=[run.on_trial],
                catch=(ValueError, ArithmeticError),
            )
    return run.result(study)


def _study(
    sampler: str, seed: int, trials: int, names: list[str], first_trials: list[dict[str, Any]] | None
) -> optuna.Study:
    """A maximising study with a median pruner; TPE starts from each family's sensible defaults
    (or from ``first_trials`` when given, whatever the sampler)."""
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
    if first_trials is not None or sampler == "tpe":
        for params in (_defaults(names) if first_trials is None else first_trials)[:trials]:
            study.enqueue_trial(params)
    return study


@dataclass
class _Search:
    """One search's data and budget: the optuna objective and the per-trial callback."""

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
    start: float = field(default_factory=time.monotonic)
    records: list[TrialRecord] = field(default_factory=list)

    def objective(self, trial: optuna.Trial) -> float:
        """Mean CV score of one family and parameter set, fold batches in parallel; pruned early
        when the median pruner says so or the time budget ran out (once something has finished)."""
        family = trial.suggest_categorical("family", self.names)
        params = FAMILIES[family].space(trial)
        trial.set_user_attr("family", family)
        trial.set_user_attr("params", params)
        pipe = make_pipeline(self.spec, family, params, self.task, self.seed, self.interactions)
        scores: list[float] = []
        trial.set_user_attr("fold_scores", scores)
        for i in range(0, len(self.splits), self.n_jobs):
            batch = self.splits[i : i + self.n_jobs]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                got = Parallel(n_jobs=min(self.n_jobs, len(batch)), prefer="threads")(
                    delayed(_fit_score)(pipe, self.df, self.y, tr, va, self.task) for tr, va in batch
                )
            for s in got:
                scores.append(float(s))
                trial.report(float(np.mean(scores)), step=len(scores) - 1)
            if len(scores) < len(self.splits):
                if trial.should_prune():
                    raise optuna.TrialPruned()
                # Over the time budget mid-trial: stop now, unless nothing has finished yet.
                if self._elapsed() > self.time_budget_s and self._completed():
                    raise optuna.TrialPruned()
        return float(np.mean(scores))

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
        done = [r for r in self._completed() if r.value is not None and np.isfinite(r.value)]
        if not done:
            failed = [t.user_attrs.get("error") for t in study.trials]
            raise TrainingError(
                f"no trial finished within the budget ({len(self.records)} tried) {failed[:1]}"
            )
        best = max(done, key=lambda r: (r.value or -np.inf, -r.number))
        return SearchResult(best.family, best.params, float(best.value or 0.0), self.records, self._elapsed())

    def _completed(self) -> list[TrialRecord]:
        return [r for r in self.records if r.state == "COMPLETE" and r.value is not None]

    def _elapsed(self) -> float:
        return time.monotonic() - self.start
