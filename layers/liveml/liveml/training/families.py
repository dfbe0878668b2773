"""Model families and their optuna search spaces.

Each family says whether it needs scaled inputs (linear models) and whether the compact on-device
format can hold it. Forests and boosting get unscaled numeric inputs (see ``liveml.features``).
Every optuna parameter is named ``<family prefix>.<the estimator's own parameter>``, so ``trials.json``
says what was tuned (HistGradientBoosting has no row ``subsample``: its space tunes ``max_features``,
feature subsampling per split, under that name).
scikit-learn is imported only when an estimator is made, so the spaces alone (the SageMaker tuning
request) need no scikit-learn.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Params = dict[str, Any]


@dataclass(frozen=True)
class Family:
    name: str
    #: suggests this family's parameters on an optuna trial
    space: Callable[[Any], Params]
    #: (params, task, seed) -> an unfitted estimator
    make: Callable[[Params, str, int], Any]
    scale: bool
    compact: bool = True


def _linear_space(trial: Any) -> Params:
    return {
        "C": trial.suggest_float("linear.C", 1e-3, 1e2, log=True),
        "select_percentile": trial.suggest_categorical("linear.select_percentile", [50, 75, 100]),
        "interactions": trial.suggest_categorical("linear.interactions", [False, True]),
    }


def _make_linear(p: Params, task: str, seed: int) -> Any:
    from sklearn.linear_model import LogisticRegression, Ridge

    if task == "regression":
        return Ridge(alpha=1.0 / p["C"])  # one knob for both tasks: C is inverse regularisation
    return LogisticRegression(C=p["C"], max_iter=2000)


def _forest_space(prefix: str) -> Callable[[Any], Params]:
    def space(trial: Any) -> Params:
        return {
            "n_estimators": trial.suggest_int(f"{prefix}.n_estimators", 50, 300, step=50),
            "max_depth": trial.suggest_int(f"{prefix}.max_depth", 3, 16),
            "min_samples_leaf": trial.suggest_int(f"{prefix}.min_samples_leaf", 1, 20, log=True),
            "max_features": trial.suggest_float(f"{prefix}.max_features", 0.2, 1.0),
        }

    return space


def _make_forest(classifier: str, regressor: str) -> Callable[[Params, str, int], Any]:
    def make(p: Params, task: str, seed: int) -> Any:
        from sklearn import ensemble

        cls = getattr(ensemble, regressor if task == "regression" else classifier)
        return cls(**p, random_state=seed, n_jobs=1)

    return make


def _gb_space(trial: Any) -> Params:
    return {
        "n_estimators": trial.suggest_int("gb.n_estimators", 50, 300, step=50),
        "max_depth": trial.suggest_int("gb.max_depth", 2, 6),
        "learning_rate": trial.suggest_float("gb.learning_rate", 0.01, 0.3, log=True),
        "subsample": trial.suggest_float("gb.subsample", 0.5, 1.0),
    }


def _make_gb(p: Params, task: str, seed: int) -> Any:
    from sklearn.ensemble import GradientBoostingClassifier, GradientBoostingRegressor

    cls = GradientBoostingRegressor if task == "regression" else GradientBoostingClassifier
    return cls(**p, random_state=seed)


def _hgb_space(trial: Any) -> Params:
    return {
        "max_iter": trial.suggest_int("hgb.max_iter", 50, 300, step=50),
        "max_depth": trial.suggest_int("hgb.max_depth", 2, 10),
        "learning_rate": trial.suggest_float("hgb.learning_rate", 0.01, 0.3, log=True),
        "max_features": trial.suggest_float("hgb.max_features", 0.5, 1.0),
        "l2_regularization": trial.suggest_float("hgb.l2_regularization", 1e-6, 1.0, log=True),
        # Leaf size and count: small, noisy sets (a few thousand rows, mostly categories) want few,
        # large leaves, which depth alone cannot say.
        "max_leaf_nodes": trial.suggest_int("hgb.max_leaf_nodes", 4, 64, log=True),
        "min_samples_leaf": trial.suggest_int("hgb.min_samples_leaf", 5, 200, log=True),
    }


def _make_hgb(p: Params, task: str, seed: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    cls = HistGradientBoostingRegressor if task == "regression" else HistGradientBoostingClassifier
    # No early stopping: its validation split would make max_iter meaningless. No native categorical
    # support: such a model converts to ONNX without error but mispredicts ~99% of rows.
    return cls(**p, early_stopping=False, categorical_features=None, random_state=seed)


FAMILIES: dict[str, Family] = {
    "linear": Family("linear", _linear_space, _make_linear, scale=True),
    "random_forest": Family(
        "random_forest",
        _forest_space("rf"),
        _make_forest("RandomForestClassifier", "RandomForestRegressor"),
        False,
    ),
    "extra_trees": Family(
        "extra_trees", _forest_space("et"), _make_forest("ExtraTreesClassifier", "ExtraTreesRegressor"), False
    ),
    "gradient_boosting": Family("gradient_boosting", _gb_space, _make_gb, scale=False),
    "hist_gradient_boosting": Family("hist_gradient_boosting", _hgb_space, _make_hgb, scale=False),
}


def pipeline_options(family: str, params: Params) -> tuple[Params, dict[str, Any]]:
    """Split a trial's params into the estimator's and the pipeline's (selection, interactions)."""
    est = dict(params)
    pipe = {
        "select_percentile": est.pop("select_percentile", None),
        "interactions": est.pop("interactions", False),
    }
    return est, pipe
