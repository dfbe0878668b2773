"""Synthetic player events: what a live game would send to ``POST /events``, with known outcomes.

Each player has a hidden engagement and spending propensity; sessions arrive as a Poisson process until
the player churns (a hazard that falls with engagement), each session may end in a purchase or a level
completed. So the features an export builds from the events (sessions, spend, recency) really predict
the label it draws from later events (no session within N days). Vectorised: a million events a second.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from liveml.contract.model import Column, ColumnType, Contract, Task
from liveml.data.synth import players_contract

EVENT_TYPES = ("session_start", "purchase", "level_complete")


def generate_events(players: int, seed: int, *, start: datetime, days: int) -> pd.DataFrame:
    """Events of ``players`` players over ``days`` days from ``start``: columns ``event_id``,
    ``player_id``, ``type``, ``timestamp`` (UTC, tz-aware), ``amount`` (purchases), ``level``."""
    rng = np.random.default_rng(seed)
    engagement = rng.normal(0.0, 1.0, players)
    spender = rng.normal(0.0, 1.0, players)
    # Days until churn: engaged players stay longer; some never leave within the window.
    churn_day = rng.exponential(np.exp(3.2 + 0.8 * engagement + 0.3 * spender))
    active_days = np.minimum(churn_day, days)
    rate = np.exp(-0.4 + 0.5 * engagement)  # sessions per active day
    sessions = rng.poisson(rate * active_days)

    player = np.repeat(np.arange(players), sessions)
    at_day = rng.random(len(player)) * active_days[player]
    buys = rng.random(len(player)) < 1 / (1 + np.exp(-(-2.6 + 0.9 * spender[player])))
    levels = rng.random(len(player)) < 0.35

    def frame(kind: str, who: np.ndarray, when: np.ndarray, **extra: Any) -> pd.DataFrame:
        return pd.DataFrame({"player": who, "type": kind, "day": when, **extra})

    parts = [
        frame("session_start", player, at_day),
        frame(
            "purchase",
            player[buys],
            at_day[buys] + 0.01,
            amount=np.round(rng.lognormal(np.log(4.99), 0.6, int(buys.sum())), 2),
        ),
        frame("level_complete", player[levels], at_day[levels] + 0.02),
    ]
    df = pd.concat(parts, ignore_index=True).sort_values(["player", "day"], kind="stable", ignore_index=True)
    lv = (df["type"] == "level_complete").to_numpy()
    df["level"] = np.nan
    df.loc[lv, "level"] = df[lv].groupby("player").cumcount().to_numpy() + 1
    base = pd.Timestamp(start.astimezone(UTC))
    ms = (np.minimum(df["day"].to_numpy(), days - 1e-6) * 86_400_000).astype(np.int64)
    df["timestamp"] = base + pd.to_timedelta(ms, unit="ms")
    names = np.array([f"p{i:07d}" for i in range(players)], dtype=object)
    df["player_id"] = names[df["player"].to_numpy()]
    df["event_id"] = np.char.add(f"s{seed}-", np.arange(len(df)).astype("U12")).astype(object)
    return df[["event_id", "player_id", "type", "timestamp", "amount", "level"]]


def to_batches(df: pd.DataFrame, *, size: int = 500) -> list[list[dict[str, Any]]]:
    """The ``events`` lists a client would send, ``size`` events per batch."""
    stamps = df["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ").to_list()
    columns = [df[c].to_list() for c in ("event_id", "player_id", "type", "amount", "level")]
    records = []
    for stamp, event_id, player_id, kind, amount, level in zip(stamps, *columns, strict=True):
        event: dict[str, Any] = {
            "event_id": event_id,
            "player_id": player_id,
            "type": kind,
            "timestamp": stamp,
        }
        if kind == "purchase":
            event["properties"] = {"amount": float(amount)}
        elif kind == "level_complete":
            event["properties"] = {"level": int(level)}
        records.append(event)
    return [records[i : i + size] for i in range(0, len(records), size)]


def export_settings(horizon_days: int = 14, lookback_days: int = 28) -> dict[str, Any]:
    """An ``export:`` block of ``liveml.yaml`` for :func:`events_contract` (a churn model)."""
    return {
        "lookback_days": lookback_days,
        "label": {"kind": "churn", "horizon_days": horizon_days},
        "features": [
            {"name": "sessions_28d", "agg": "count", "events": ["session_start"]},
            {"name": "sessions_7d", "agg": "count", "events": ["session_start"], "lookback_days": 7},
            {"name": "active_days_28d", "agg": "active_days", "events": ["session_start"]},
            {"name": "days_since_last_session", "agg": "days_since", "events": ["session_start"]},
            {"name": "purchases_28d", "agg": "count", "events": ["purchase"]},
            {"name": "spend_28d", "agg": "sum", "events": ["purchase"], "property": "amount"},
            {"name": "level", "agg": "last", "events": ["level_complete"], "property": "level"},
        ],
    }


def events_contract() -> Contract:
    """The contract of the dataset :func:`export_settings` builds."""

    def number(name: str, kind: ColumnType = ColumnType.NUMERIC, **extra: Any) -> Column:
        return Column(name=name, type=kind, min=0, **extra)

    churned = Column(
        name="churned",
        type=ColumnType.INTEGER,
        nullable=False,
        description="1 if no session within the horizon after as_of",
    )
    columns = [
        Column(name="player_id", type=ColumnType.CATEGORICAL, nullable=False),
        number("sessions_28d", ColumnType.INTEGER, nullable=False),
        number("sessions_7d", ColumnType.INTEGER, nullable=False),
        number("active_days_28d", ColumnType.INTEGER, nullable=False),
        number("days_since_last_session", nullable=False),
        number("purchases_28d", ColumnType.INTEGER, nullable=False),
        number("spend_28d", nullable=False),
        number("level", ColumnType.INTEGER),
    ]
    return players_contract("players-from-events", Task.BINARY, columns, churned, ["0", "1"])


def window_start(cutoff: datetime, lookback_days: int) -> datetime:
    return cutoff - timedelta(days=lookback_days)
