"""Dataset export: features per player as of a cutoff from the raw events, labelled from later events,
written under ``datasets/<model>/`` — where its upload starts the training pipeline (the loop closes).

Declared per model in ``datasets/<model>/liveml.yaml`` (strict, like the rest of it)::

    export:
      lookback_days: 28
      label: {kind: churn, horizon_days: 14}     # no session within 14 days after the cutoff
      features:
        - {name: sessions_28d, agg: count, events: [session_start]}
        - {name: spend_28d, agg: sum, events: [purchase], property: amount}
        - {name: days_since_last_session, agg: days_since, events: [session_start]}
        - {name: level, agg: last, events: [level_complete], property: level}

The dataset is built whole in memory, checked against the model's contract with the data gate, and only
then written in one ``PutObject`` (atomic: no reader, and no pipeline, ever sees part of it).
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from liveml.errors import validated
from liveml.monitoring.errors import ExportError
from liveml.monitoring.events import DEFAULT_GAME, GAME_PATTERN, EventStore
from liveml.monitoring.labels import LabelSpec, events_frame, outcomes, property_column

if TYPE_CHECKING:
    import pandas as pd

    from liveml.contract import Contract
    from liveml.pipeline.settings import PipelineSettings

log = logging.getLogger(__name__)

#: S3 user metadata naming what started a run (the pipeline records it as lineage.trigger).
TRIGGER_METADATA = "liveml-trigger"


class Aggregation(StrEnum):
    COUNT = "count"  # events in the lookback
    SUM = "sum"  # of a numeric property
    MEAN = "mean"
    MAX = "max"
    LAST = "last"  # the property's latest value
    DAYS_SINCE = "days_since"  # days from the latest event to the cutoff (lookback when none)
    ACTIVE_DAYS = "active_days"  # distinct UTC days with an event


_NEEDS_PROPERTY = {Aggregation.SUM, Aggregation.MEAN, Aggregation.MAX, Aggregation.LAST}


class FeatureSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    agg: Aggregation
    events: list[str] = Field(min_length=1)
    property: str | None = None
    #: Overrides the export's lookback for this feature (e.g. sessions over 7 days).
    lookback_days: float | None = Field(default=None, gt=0, le=365)

    @model_validator(mode="after")
    def _property(self) -> Self:
        if self.agg in _NEEDS_PROPERTY and not self.property:
            raise ValueError(f"`{self.agg}` needs the `property` it aggregates")
        return self


class ExportSettings(BaseModel):
    """The ``export:`` block of a model's ``liveml.yaml``."""

    model_config = ConfigDict(extra="forbid")

    game: str = Field(default=DEFAULT_GAME, pattern=GAME_PATTERN)
    lookback_days: float = Field(default=28, gt=0, le=365)
    label: LabelSpec
    features: list[FeatureSpec] = Field(min_length=1)
    #: Fewer labelled players than this is not a dataset worth training on: the export fails instead.
    min_players: int = Field(default=100, ge=1)

    @model_validator(mode="after")
    def _unique(self) -> Self:
        names = [f.name for f in self.features]
        doubled = sorted({n for n in names if names.count(n) > 1})
        if doubled:
            raise ValueError(f"feature names must be unique: {', '.join(doubled)}")
        return self

    @classmethod
    def parse(cls, data: Any, *, where: str = "export") -> ExportSettings:
        return validated(cls, data, ExportError, where)

    @property
    def longest_lookback(self) -> timedelta:
        return timedelta(days=max([self.lookback_days, *(f.lookback_days or 0 for f in self.features)]))


def check_against_contract(settings: ExportSettings, contract: Contract) -> None:
    """Every feature is a contract column and every contract feature is built: otherwise name them."""
    built = {f.name for f in settings.features}
    reserved = {contract.target, contract.entity_id, contract.event_time} - {None}
    unknown = sorted(built - set(contract.column_names))
    missing = sorted(set(contract.column_names) - built - reserved)
    clash = sorted(built & reserved)
    problems = []
    if unknown:
        problems.append(f"features not in contract {contract.name!r}: {', '.join(unknown)}")
    if missing:
        problems.append(f"contract columns no export feature builds: {', '.join(missing)}")
    if clash:
        problems.append(f"features named like the target, entity id or event time: {', '.join(clash)}")
    if not contract.entity_id:
        problems.append("the contract names no entity_id (the player id column)")
    if problems:
        raise ExportError("; ".join(problems))


def build_dataset(
    events: pd.DataFrame, settings: ExportSettings, contract: Contract, cutoff: datetime
) -> pd.DataFrame:
    """One row per player active in the lookback before ``cutoff``: the features, the cutoff as the event
    time (when the contract has one; the file name carries it too), and the label from events in
    [cutoff, cutoff + horizon)."""
    import numpy as np
    import pandas as pd

    at = pd.Timestamp(cutoff)
    before = events[(events["ts"] < at) & (events["ts"] >= at - pd.Timedelta(days=settings.lookback_days))]
    players = pd.Index(before["player_id"].unique(), name="player_id").sort_values()
    out = pd.DataFrame(index=players)
    for feature in settings.features:
        days = feature.lookback_days or settings.lookback_days
        rows = events[
            events["type"].isin(feature.events)
            & (events["ts"] < at)
            & (events["ts"] >= at - pd.Timedelta(days=days))
        ]
        groups = rows.groupby("player_id")
        prop = property_column(feature.property or "")
        column: pd.Series[Any]
        if feature.agg is Aggregation.COUNT:
            column = groups.size().reindex(players, fill_value=0)
        elif feature.agg is Aggregation.ACTIVE_DAYS:
            active = rows.assign(day=rows["ts"].dt.floor("D")).drop_duplicates(["player_id", "day"])
            column = active.groupby("player_id").size().reindex(players, fill_value=0)
        elif feature.agg is Aggregation.DAYS_SINCE:
            last = groups["ts"].max().reindex(players)
            column = ((at - last).dt.total_seconds() / 86_400).round(3).fillna(days)
        elif feature.agg is Aggregation.SUM:
            column = groups[prop].sum(min_count=1).reindex(players).fillna(0.0)
        elif feature.agg is Aggregation.MEAN:
            column = groups[prop].mean().reindex(players)
        elif feature.agg is Aggregation.MAX:
            column = groups[prop].max().reindex(players)
        else:  # LAST
            latest = rows.dropna(subset=[prop]).sort_values("ts").groupby("player_id").tail(1)
            column = latest.set_index("player_id")[prop].reindex(players)
        out[feature.name] = column.to_numpy()
    out = out.reset_index().rename(columns={"player_id": contract.entity_id})
    if contract.event_time:
        out[contract.event_time] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    out[contract.target] = outcomes(events, out[contract.entity_id], [at] * len(out), settings.label)
    for column_def in contract.columns:  # integer columns stay integers in the CSV
        if column_def.type == "integer" and column_def.name in out and not out[column_def.name].isna().any():
            out[column_def.name] = out[column_def.name].astype(np.int64)
    return out[[c for c in contract.column_names if c in out.columns]]


@dataclass(frozen=True)
class ExportResult:
    model: str
    uri: str | None
    rows: int
    positives: int
    cutoff: str
    events: int
    skipped: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def latest_cutoff(settings: ExportSettings, now: datetime | None = None) -> datetime:
    """The latest cutoff whose labels are complete: now minus the horizon, floored to the UTC day."""
    moment = (now or datetime.now(UTC)) - settings.label.horizon
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def export_frame(
    store: EventStore,
    settings: ExportSettings,
    contract: Contract,
    cutoff: datetime,
    *,
    now: datetime | None = None,
) -> tuple[pd.DataFrame, int]:
    """The checked dataset and how many events it was built from; :class:`ExportError` when the labels
    are not complete yet, too few players qualify, or the data gate fails."""
    now = now or datetime.now(UTC)
    if cutoff.tzinfo is None:
        raise ExportError("the cutoff needs a timezone (e.g. 2026-11-01T00:00:00Z)")
    if cutoff + settings.label.horizon > now:
        ready = cutoff + settings.label.horizon
        raise ExportError(
            f"labels at cutoff {cutoff:%Y-%m-%dT%H:%M}Z are not complete until {ready:%Y-%m-%dT%H:%M}Z "
            f"(horizon {settings.label.horizon_days:g} days): choose an earlier cutoff"
        )
    check_against_contract(settings, contract)
    types = {t for f in settings.features for t in f.events} | set(settings.label.event_types)
    properties = [f.property for f in settings.features if f.property]
    events = events_frame(
        store,
        game=settings.game,
        types=types,
        start=cutoff - settings.longest_lookback,
        end=cutoff + settings.label.horizon,
        properties=properties,
    )
    frame = build_dataset(events, settings, contract, cutoff)
    if len(frame) < settings.min_players:
        raise ExportError(
            f"only {len(frame)} players were active in the {settings.lookback_days:g} days before "
            f"{cutoff:%Y-%m-%d}, fewer than min_players={settings.min_players}: nothing written"
        )
    from liveml.data import validate

    report = validate(frame, contract)
    if not report.passed:
        found = "; ".join(f"{i.column or 'dataset'}: {i.code}: {i.message}" for i in report.errors[:5])
        raise ExportError(f"the exported dataset fails the data gate ({found}): nothing written")
    return frame, len(events)


def export_key(model: str, cutoff: datetime) -> str:
    return f"datasets/{model}/export-{cutoff.astimezone(UTC):%Y%m%dT%H%M}Z.csv"


def export_model(
    model: str,
    *,
    bucket: str,
    store: EventStore,
    cutoff: datetime | None = None,
    trigger: str = "export",
    s3: Any = None,
    now: datetime | None = None,
    overwrite: bool = True,
) -> ExportResult:
    """Export ``model``'s dataset (settings and contract from ``datasets/<model>/``) into the bucket.
    ``overwrite=False`` (the schedule) leaves an export already made for that cutoff alone, so a retry
    never starts a second pipeline run on the same data."""
    from liveml.aws.clients import client
    from liveml.aws.s3 import get_text_if_exists
    from liveml.contract import Contract

    s3 = s3 or client("s3")
    base = f"s3://{bucket}/datasets/{model}/"
    pipeline, settings = model_export_settings(bucket, model, s3=s3)
    contract_text = get_text_if_exists(base + pipeline.contract, s3=s3)
    if contract_text is None:
        raise ExportError(f"no contract at {base}{pipeline.contract}")
    contract = Contract.from_yaml(contract_text, source=base + pipeline.contract)
    cutoff = cutoff or latest_cutoff(settings, now)
    key = export_key(model, cutoff)
    if not overwrite and _exists(s3, bucket, key):
        return ExportResult(
            model, f"s3://{bucket}/{key}", 0, 0, cutoff.isoformat(), 0, skipped="already exported"
        )
    frame, n_events = export_frame(store, settings, contract, cutoff, now=now)
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=buffer.getvalue().encode(),
        ContentType="text/csv",
        Metadata={TRIGGER_METADATA: trigger},
    )
    log.info("exported %d players of %s to s3://%s/%s", len(frame), model, bucket, key)
    positives = int(frame[contract.target].sum())
    return ExportResult(model, f"s3://{bucket}/{key}", len(frame), positives, cutoff.isoformat(), n_events)


def _exists(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except s3.exceptions.ClientError:
        return False
    return True


def model_settings(bucket: str, model: str, *, s3: Any) -> PipelineSettings:
    """``datasets/<model>/liveml.yaml`` (all defaults where there is none)."""
    from liveml.aws.s3 import get_text_if_exists
    from liveml.pipeline.settings import SETTINGS_FILE, PipelineSettings

    text = get_text_if_exists(f"s3://{bucket}/datasets/{model}/{SETTINGS_FILE}", s3=s3)
    return PipelineSettings.from_yaml(text)


def model_export_settings(bucket: str, model: str, *, s3: Any) -> tuple[PipelineSettings, ExportSettings]:
    """The model's settings and their ``export:`` section (an ``ExportError`` naming the file if none)."""
    from liveml.pipeline.settings import SETTINGS_FILE

    pipeline = model_settings(bucket, model, s3=s3)
    if pipeline.export is None:
        raise ExportError(f"s3://{bucket}/datasets/{model}/{SETTINGS_FILE} has no `export:` section")
    return pipeline, ExportSettings.parse(pipeline.export, where=f"{SETTINGS_FILE} export")


def exporting_models(bucket: str, *, s3: Any = None) -> list[str]:
    """Models whose ``liveml.yaml`` has an ``export:`` section (what the schedule exports)."""
    from liveml.aws.clients import client

    s3 = s3 or client("s3")
    models = []
    for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix="datasets/", Delimiter="/"
    ):
        for prefix in page.get("CommonPrefixes", []):
            model = prefix["Prefix"].split("/")[1]
            try:
                if model_settings(bucket, model, s3=s3).export is not None:
                    models.append(model)
            except Exception as exc:  # one model's broken settings must not stop the others' exports
                log.error("skipping %s: %s", model, exc)
    return models


def export_scheduled(models: list[str] | None = None) -> dict[str, Any]:
    """The scheduled export: every exporting model (or ``models``), at its latest complete cutoff, with
    the trigger ``schedule``. All are attempted; if any failed, the run raises after the others (so the
    retry and the alert name it) — an export already made for its cutoff is skipped on the retry."""
    from liveml.config import Settings
    from liveml.monitoring.ingest import S3EventStore

    bucket = Settings().require("data_bucket")
    store = S3EventStore(bucket)
    results, failures = [], []
    for model in models or exporting_models(bucket, s3=store.s3):
        try:
            results.append(
                export_model(
                    model, bucket=bucket, store=store, trigger="schedule", s3=store.s3, overwrite=False
                )
            )
        except Exception as exc:
            log.exception("export of %s failed", model)
            failures.append(f"{model}: {exc}")
    if failures:
        raise ExportError("export failed for " + "; ".join(failures))
    return {"exports": [r.to_dict() for r in results]}
