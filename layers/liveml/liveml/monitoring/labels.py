"""Outcomes from events: did a player do (or stop doing) something within a horizon after a moment?

One definition serves both the export (labels at the cutoff) and live accuracy (labels at each captured
prediction's time), so training and monitoring never disagree on what "churned" means.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, Self

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from liveml.monitoring.events import EventStore, read_events

if TYPE_CHECKING:
    import pandas as pd

#: What each kind of label looks for, and whether finding it makes the label 1.
_KINDS: dict[str, tuple[list[str], Literal["absent", "present"]]] = {
    "churn": (["session_start"], "absent"),  # churned: no session within the horizon
    "purchase": (["purchase"], "present"),  # bought: a purchase within the horizon
}


class LabelSpec(BaseModel):
    """``label:`` in a model's ``export:`` settings."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["churn", "purchase", "custom"]
    horizon_days: float = Field(gt=0, le=365)
    #: The event types looked for; ``churn`` and ``purchase`` have defaults.
    events: list[str] | None = None
    #: ``absent``: 1 when none of ``events`` happens within the horizon; ``present``: 1 when one does.
    positive: Literal["absent", "present"] | None = None

    @model_validator(mode="after")
    def _defaults(self) -> Self:
        if self.kind == "custom" and (not self.events or not self.positive):
            raise ValueError("a custom label names its `events` and whether `positive` is absent or present")
        default_events, default_positive = _KINDS.get(self.kind, ([], "present"))
        self.events = self.events or default_events
        self.positive = self.positive or default_positive
        return self

    @property
    def horizon(self) -> timedelta:
        return timedelta(days=self.horizon_days)

    @property
    def event_types(self) -> list[str]:
        return list(self.events or [])


#: Events turned into columns at a time: the raw dicts of one chunk are all that is held at once.
CHUNK = 100_000


def events_frame(
    store: EventStore,
    *,
    game: str,
    types: Iterable[str],
    start: datetime,
    end: datetime,
    properties: Iterable[str] = (),
) -> pd.DataFrame:
    """Stored events of ``types`` in [start, end): ``event_id``, ``player_id``, ``type``, ``ts`` (UTC) and
    one numeric column per wanted property (named by :func:`property_column`) — each event once, even if
    it was stored twice.

    Read in chunks and kept as columns (player ids and types as small integer codes while reading), never
    as one list of every event's dict: a month of a 100k-player game is millions of events, and their
    dicts alone would take gigabytes."""
    import pandas as pd

    wanted = list(dict.fromkeys(properties))
    codes: dict[str, dict[str, int]] = {"player_id": {}, "type": {}}
    chunks = [
        _columns(batch, wanted, codes)
        for batch in _batched(read_events(store, game=game, types=types, start=start, end=end))
    ]
    frame = pd.concat(chunks, ignore_index=True) if chunks else _columns([], wanted, codes)
    for name, known in codes.items():  # back to strings: one shared object per distinct value
        labels = np.array(list(known), dtype=object)
        frame[name] = labels[frame[name].to_numpy()] if len(labels) else frame[name].astype(object)
    frame = frame.drop_duplicates("event_id", keep="first")
    inside = (frame["ts"] >= pd.Timestamp(start)) & (frame["ts"] < pd.Timestamp(end))
    return frame.loc[
        inside, ["event_id", "player_id", "type", "ts", *map(property_column, wanted)]
    ].reset_index(drop=True)


def _batched(records: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for record in records:
        batch.append(record)
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def _columns(
    records: list[dict[str, Any]], wanted: list[str], codes: dict[str, dict[str, int]]
) -> pd.DataFrame:
    """One chunk of events as columns; player ids and types as codes into ``codes`` (shared by chunks)."""
    import pandas as pd

    players, kinds = codes["player_id"], codes["type"]
    frame = pd.DataFrame(
        {
            "event_id": [r["event_id"] for r in records],
            "player_id": np.array(
                [players.setdefault(r["player_id"], len(players)) for r in records], dtype=np.int64
            ),
            "type": np.array([kinds.setdefault(r["type"], len(kinds)) for r in records], dtype=np.int64),
        }
    )
    # Stored timestamps are all UTC "…Z": numpy's ISO parser reads them far faster than strptime.
    parsed = np.array([r["timestamp"].removesuffix("Z") for r in records], dtype="datetime64[us]")
    frame["ts"] = pd.to_datetime(parsed).tz_localize("UTC")
    for name in wanted:
        values = [(r.get("properties") or {}).get(name) for r in records]
        frame[property_column(name)] = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce")
    return frame


def property_column(name: str) -> str:
    """The column of a property in :func:`events_frame` (prefixed: a property may be called ``type``)."""
    return f"property.{name}"


def outcomes(
    events: pd.DataFrame, players: Iterable[str], at: Iterable[Any], spec: LabelSpec
) -> np.ndarray[Any, np.dtype[np.int64]]:
    """The label (0/1) of each ``(player, moment)``: whether one of ``spec``'s events happened in
    [moment, moment + horizon), per ``spec.positive``. Sorted keys and two binary searches per query,
    so a million queries against millions of events take about a second."""
    import pandas as pd

    relevant = events[events["type"].isin(spec.event_types)]
    who = pd.Series(list(players), dtype=object)
    codes, _ = pd.factorize(pd.concat([relevant["player_id"], who], ignore_index=True))
    event_codes, query_codes = codes[: len(relevant)], codes[len(relevant) :]
    # One sortable integer per (player, second): player code in the high bits, epoch seconds below.
    event_keys = np.sort(event_codes.astype(np.int64) << 33 | _seconds(relevant["ts"]))
    moments = _seconds(pd.to_datetime(pd.Series(list(at)), utc=True))
    lo = np.searchsorted(event_keys, query_codes.astype(np.int64) << 33 | moments, side="left")
    end = moments + int(spec.horizon.total_seconds())
    hi = np.searchsorted(event_keys, query_codes.astype(np.int64) << 33 | end, side="left")
    happened = hi > lo
    return (~happened if spec.positive == "absent" else happened).astype(np.int64)


def _seconds(ts: pd.Series[Any]) -> np.ndarray[Any, np.dtype[np.int64]]:
    seconds: np.ndarray[Any, np.dtype[np.int64]] = ts.to_numpy(dtype="datetime64[s]").astype(np.int64)
    return seconds
