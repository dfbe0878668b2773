"""Every model family's parameters at a size that fits in about a second: for tests that need a real
fitted model of each family (its export, its parity, its on-device form), not a good one."""

from __future__ import annotations

from typing import Any

SMALL: dict[str, dict[str, Any]] = {
    "linear": {"C": 1.0, "select_percentile": 75, "interactions": True},
    "random_forest": {"n_estimators": 20, "max_depth": 6, "min_samples_leaf": 2, "max_features": 0.7},
    "extra_trees": {"n_estimators": 20, "max_depth": 6, "min_samples_leaf": 2, "max_features": 0.7},
    "gradient_boosting": {"n_estimators": 30, "max_depth": 3, "learning_rate": 0.1, "subsample": 0.8},
    "hist_gradient_boosting": {
        "max_iter": 30,
        "max_depth": 4,
        "learning_rate": 0.1,
        "max_features": 0.8,
        "l2_regularization": 1e-3,
    },
}
