"""Dataset export: features per player as of a cutoff from stored events, labels from later events,
checked against a direct computation; refused (nothing written) when labels are incomplete, the settings
and contract disagree, or too few players qualify; written to S3 with its trigger metadata."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pandas as pd
import pytest
import yaml

from liveml.data.synth_events import events_contract, export_settings, generate_events, to_batches
from liveml.monitoring import FolderEventStore, S3EventStore
from liveml.monitoring.errors import ExportError
from liveml.monitoring.events import EventStore, write_lines
from liveml.monitoring.export import (
    TRIGGER_METADATA,
    ExportSettings,
    export_frame,
    export_model,
    exporting_models,
)
from liveml.pipeline.errors import PipelineError
from liveml.pipeline.settings import PipelineSettings
from tests.unit.cli import run_cli

START = datetime(2026, 9, 1, tzinfo=UTC)
CUTOFF = START + timedelta(days=28)
NOW = START + timedelta(days=60)


def store_events(store: EventStore, frame: pd.DataFrame, *, game: str = "default") -> None:
    lines = [{**e, "game": game, "received_at": "x"} for batch in to_batches(frame) for e in batch]
    write_lines(store, lines, received_at=START)


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return generate_events(600, 3, start=START, days=45)


@pytest.fixture
def store(tmp_path: Path, events: pd.DataFrame) -> FolderEventStore:
    store = FolderEventStore(tmp_path)
    store_events(store, events)
    return store


def direct(events: pd.DataFrame) -> pd.DataFrame:
    """The same dataset computed the plain way, player by player."""
    rows = []
    for player, own in events.groupby("player_id"):
        before = own[(own.timestamp < CUTOFF) & (own.timestamp >= CUTOFF - timedelta(days=28))]
        if before.empty:
            continue
        sessions = before[before.type == "session_start"]
        after = own[
            (own.type == "session_start")
            & (own.timestamp >= CUTOFF)
            & (own.timestamp < CUTOFF + timedelta(days=14))
        ]
        rows.append(
            {
                "player_id": player,
                "sessions_28d": len(sessions),
                "sessions_7d": int((sessions.timestamp >= CUTOFF - timedelta(days=7)).sum()),
                "spend_28d": round(float(before[before.type == "purchase"].amount.sum()), 6),
                "churned": int(after.empty),
            }
        )
    return pd.DataFrame(rows).set_index("player_id").sort_index()


def test_features_and_labels_match_a_direct_computation(
    store: FolderEventStore, events: pd.DataFrame
) -> None:
    settings = ExportSettings.model_validate(export_settings())
    frame, n_events = export_frame(store, settings, events_contract(), CUTOFF, now=NOW)
    assert list(frame.columns) == events_contract().column_names
    assert n_events > 10_000
    expected = direct(events)
    got = frame.set_index("player_id").sort_index()
    assert list(got.index) == list(expected.index)
    for column in ("sessions_28d", "sessions_7d", "churned"):
        assert (got[column].to_numpy() == expected[column].to_numpy()).all(), column
    assert np.allclose(got["spend_28d"], expected["spend_28d"])
    assert 0.05 < got["churned"].mean() < 0.95  # both classes, as a training set needs
    # Recency and activity carry the signal: churned players were less active before the cutoff.
    assert (
        got.loc[got.churned == 1, "days_since_last_session"].mean()
        > got.loc[got.churned == 0, "days_since_last_session"].mean()
    )


def test_events_stored_twice_count_once(store: FolderEventStore, events: pd.DataFrame) -> None:
    settings = ExportSettings.model_validate(export_settings())
    once, _ = export_frame(store, settings, events_contract(), CUTOFF, now=NOW)
    store_events(store, events.iloc[: len(events) // 3])  # a retried upload whose ids were not marked
    twice, _ = export_frame(store, settings, events_contract(), CUTOFF, now=NOW)
    pd.testing.assert_frame_equal(once, twice)


def test_an_export_before_the_horizon_passed_is_refused(store: FolderEventStore) -> None:
    settings = ExportSettings.model_validate(export_settings())
    with pytest.raises(ExportError, match="not complete until 2026-10-13"):
        export_frame(store, settings, events_contract(), CUTOFF, now=CUTOFF + timedelta(days=3))


def test_settings_and_contract_must_agree(store: FolderEventStore) -> None:
    block = export_settings()
    block["features"] = [f for f in block["features"] if f["name"] != "level"] + [
        {"name": "gems", "agg": "count", "events": ["purchase"]}
    ]
    with pytest.raises(ExportError, match=r"not in contract .*: gems; contract columns no export .*: level"):
        export_frame(store, ExportSettings.model_validate(block), events_contract(), CUTOFF, now=NOW)


def test_too_few_players_writes_nothing(store: FolderEventStore) -> None:
    settings = ExportSettings.model_validate({**export_settings(), "min_players": 100_000})
    with pytest.raises(ExportError, match="fewer than min_players=100000"):
        export_frame(store, settings, events_contract(), CUTOFF, now=NOW)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"label": {"kind": "churn"}}, "horizon_days"),
        ({"label": {"kind": "custom", "horizon_days": 3}}, "custom label"),
        ({"features": [{"name": "x", "agg": "sum", "events": ["purchase"]}]}, "needs the `property`"),
        ({"features": [{"name": "x", "agg": "median", "events": ["purchase"]}]}, "agg"),
        ({"lookback": 3}, "lookback: Extra inputs"),
    ],
)
def test_bad_export_settings_fail_the_settings_file(change: dict[str, Any], message: str) -> None:
    text = yaml.safe_dump({"export": {**export_settings(), **change}})
    with pytest.raises(PipelineError, match=message):
        PipelineSettings.from_yaml(text)


@pytest.fixture
def s3(moto: None) -> Any:
    """moto stands in for S3 in this unit test; the integration test exports on LocalStack."""
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket="data")
    return client


def test_export_model_writes_once_with_its_trigger(s3: Any, events: pd.DataFrame) -> None:
    s3.put_object(
        Bucket="data", Key="datasets/churn/contract.yaml", Body=events_contract().to_yaml().encode()
    )
    settings = {"trials": 3, "export": export_settings()}
    s3.put_object(Bucket="data", Key="datasets/churn/liveml.yaml", Body=yaml.safe_dump(settings).encode())
    s3.put_object(Bucket="data", Key="datasets/other/liveml.yaml", Body=b"trials: 2\n")
    store = S3EventStore("data", s3)
    store_events(store, events)
    assert exporting_models("data", s3=s3) == ["churn"]

    result = export_model("churn", bucket="data", store=store, cutoff=CUTOFF, s3=s3, now=NOW)
    assert result.uri == "s3://data/datasets/churn/export-20260929T0000Z.csv"
    head = s3.head_object(Bucket="data", Key="datasets/churn/export-20260929T0000Z.csv")
    assert head["Metadata"] == {TRIGGER_METADATA: "export"}
    again = export_model("churn", bucket="data", store=store, cutoff=CUTOFF, s3=s3, now=NOW, overwrite=False)
    assert again.skipped == "already exported"


@pytest.mark.parametrize(
    ("cutoff", "message"),
    [
        ("yesterday", "--cutoff 'yesterday' is not ISO-8601, e.g. 2026-11-01T00:00:00Z"),
        ("2026-11-01T00:00:00", "--cutoff needs an offset (Z or +hh:mm), e.g. 2026-11-01T00:00:00Z"),
    ],
)
def test_a_bad_cutoff_is_refused_before_the_stack_is_looked_up(
    cutoff: str, message: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_stack(*_a: Any, **_k: Any) -> None:
        raise AssertionError("the stack was looked up")

    monkeypatch.setattr("liveml.cli._stack.connect", no_stack)
    assert run_cli(monkeypatch, "export", "churn", "--cutoff", cutoff) != 0
    assert message in capsys.readouterr().err
