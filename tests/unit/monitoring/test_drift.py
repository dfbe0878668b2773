"""Drift statistics against a reference sketch: no alarm on the same distribution, the shifted feature
named first, null-rate and unseen-category jumps caught, negligible shifts at large n ignored."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from liveml.contract import Contract
from liveml.data.synth import generate_players, player_contract
from liveml.monitoring.drift import DriftThresholds, compare, psi_band
from liveml.monitoring.sketches import ReferenceSketch, numeric_sketch, reference_sketch


@pytest.fixture(scope="module")
def contract() -> Contract:
    return player_contract("binary")


@pytest.fixture(scope="module")
def sketch(contract: Contract) -> ReferenceSketch:
    train = generate_players(5000, seed=1)
    columns = {c: train[c].to_numpy() for c in train.columns}
    rng = np.random.default_rng(0)
    return reference_sketch(contract, columns, task="binary", predictions=list(rng.beta(2, 5, 1500)))


def _columns(df: pd.DataFrame) -> dict[str, list[Any]]:
    # as the monitor reads captures: JSON values, None for missing
    return {c: [None if pd.isna(v) else v for v in df[c].tolist()] for c in df.columns}


def test_the_sketch_round_trips_and_skips_what_is_not_a_feature(sketch: ReferenceSketch) -> None:
    again = ReferenceSketch.from_json(sketch.to_json())
    assert again == sketch
    assert set(sketch.skipped) == {"player_id", "churned", "event_time", "signup_date", "feedback"}
    assert sketch.features["device"].kind == "categorical"
    assert sketch.features["spend_30d"].kind == "numeric"
    assert len(sketch.features["spend_30d"].sample) == 1000


def test_the_same_distribution_does_not_alarm(sketch: ReferenceSketch) -> None:
    window = generate_players(3000, seed=2)
    result = compare(sketch, _columns(window), predictions=list(np.random.default_rng(1).beta(2, 5, 3000)))
    assert not result.drifted, [(f.feature, f.reasons) for f in result.features if f.drifted]
    assert result.score < 1
    assert result.prediction is not None and not result.prediction.drifted


def test_a_shifted_feature_is_named_first(sketch: ReferenceSketch) -> None:
    window = generate_players(3000, seed=3)
    window["sessions_last_7d"] = window["sessions_last_7d"] * 3 + 5
    result = compare(sketch, _columns(window))
    assert result.drifted
    assert result.features[0].feature == "sessions_last_7d"
    assert result.drifted_features == ["sessions_last_7d"]
    top = result.features[0]
    assert top.psi > top.psi_threshold and top.ks_pvalue is not None and top.ks_pvalue < 1e-6
    assert top.wasserstein_std is not None and top.wasserstein_std > 0.5


def test_a_jump_in_the_null_rate_is_drift_of_its_own(sketch: ReferenceSketch) -> None:
    window = generate_players(3000, seed=4)
    window.loc[window.index[:900], "friends"] = np.nan  # 30% missing, the values left unchanged
    result = compare(sketch, _columns(window))
    friends = next(f for f in result.features if f.feature == "friends")
    assert friends.drifted and any("null rate" in r for r in friends.reasons)
    assert friends.psi < friends.psi_threshold  # a distance on non-null values would not have seen it


def test_unseen_categories_are_counted_and_named(sketch: ReferenceSketch) -> None:
    window = generate_players(3000, seed=5)
    window.loc[window.index[:300], "country"] = "ZZ"
    result = compare(sketch, _columns(window))
    country = next(f for f in result.features if f.feature == "country")
    assert country.drifted and country.unseen_rate == pytest.approx(0.1, abs=0.02)
    assert country.unseen_top == ["ZZ"]
    assert country.js_distance is not None and country.ks_pvalue is not None


def test_a_negligible_shift_on_a_large_window_does_not_alarm() -> None:
    rng = np.random.default_rng(0)
    ref = numeric_sketch(rng.normal(0, 1, 50_000))
    from liveml.monitoring.drift import numeric_drift

    big = rng.normal(0.03, 1, 1_000_000)  # significant at this size, negligible in effect
    drift = numeric_drift("x", ref, big, DriftThresholds(), rng)
    assert 0 < drift.psi < DriftThresholds().psi
    assert not drift.drifted
    moved = numeric_drift("x", ref, rng.normal(0.5, 1, 1_000_000), DriftThresholds(), rng)
    assert moved.drifted


def test_the_noise_band_widens_for_small_windows() -> None:
    assert psi_band(20, 50_000, 100, 0.001) > 0.3 > 0.001 > psi_band(20, 50_000, 1_000_000, 0.001)


def test_a_small_window_needs_a_large_shift() -> None:
    rng = np.random.default_rng(2)
    ref = numeric_sketch(rng.normal(0, 1, 50_000))
    from liveml.monitoring.drift import numeric_drift

    assert not numeric_drift("x", ref, rng.normal(0.3, 1, 60), DriftThresholds(), rng).drifted
    assert numeric_drift("x", ref, rng.normal(3, 1, 60), DriftThresholds(), rng).drifted


def test_wrong_types_fall_back_and_are_counted() -> None:
    from liveml.monitoring.sketches import numeric_values

    values, nulls, wrong = numeric_values([1, 2.5, None, "3", "abc", float("nan")])
    assert values.tolist() == [1.0, 2.5, 3.0] and nulls == 2 and wrong == 1
