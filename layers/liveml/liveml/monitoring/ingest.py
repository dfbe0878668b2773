"""Event ingestion: one batch in, every good event stored once, an answer per event.

The order is what makes it safe to retry: (1) validate each event, (2) look its id up in the id store,
(3) write the new events to the event store, (4) only then remember their ids. A crash between (3) and
(4) means a resent batch is stored twice, never lost; the export deduplicates by event id again.

Transport-free on purpose: :meth:`EventIngestor.handle` takes the raw body and content type and returns
the status and JSON answer, so the Lambda handler (API Gateway proxy events, no web framework on the
cold start) and :func:`create_events_app` (FastAPI under uvicorn) give exactly the same answers.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import ValidationError

from liveml.apigw import BodyEncodingError, error_response, request_bytes
from liveml.config import env
from liveml.errors import error_kind
from liveml.monitoring.errors import BatchError, StorageError
from liveml.monitoring.events import (
    Batch,
    EventLimits,
    EventStore,
    check_events,
    stored_line,
    write_lines,
)

if TYPE_CHECKING:
    from fastapi import FastAPI

log = logging.getLogger(__name__)


# ------------------------------------------------------------------ stores


class S3EventStore:
    """Event files in an S3 bucket; the client is made on first use."""

    def __init__(self, bucket: str, client: Any | None = None) -> None:
        self.bucket = bucket
        self._client = client

    @property
    def s3(self) -> Any:
        if self._client is None:
            from liveml.aws.clients import client

            self._client = client("s3")
        return self._client

    def put(self, key: str, body: bytes) -> None:
        self.s3.put_object(
            Bucket=self.bucket, Key=key, Body=body, ContentType="application/x-ndjson", ContentEncoding="gzip"
        )

    def keys(self, prefix: str) -> list[str]:
        found: list[str] = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            found.extend(obj["Key"] for obj in page.get("Contents", []))
        return found

    def get(self, key: str) -> bytes:
        body: bytes = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return body


class FolderEventStore:
    """The same layout in a local folder (development, tests, a game server without S3)."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def put(self, key: str, body: bytes) -> None:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_bytes(body)
        partial.replace(path)  # a reader never sees half a file

    def keys(self, prefix: str) -> list[str]:
        folder, _, start = prefix.rpartition("/")
        base = self.root / folder
        if not base.is_dir():
            return []
        return sorted(
            p.relative_to(self.root).as_posix()
            for p in base.rglob("*")
            if p.is_file()
            and not p.name.endswith(".partial")
            and p.relative_to(base).as_posix().startswith(start)
        )

    def get(self, key: str) -> bytes:
        return (self.root / key).read_bytes()


class EventIds(Protocol):
    """Event ids already stored, within the idempotency window."""

    def seen(self, keys: list[str]) -> set[str]: ...

    def remember(self, keys: list[str], *, expires_at: int) -> None: ...


class DynamoEventIds:
    """Ids in a DynamoDB table (``pk``; ``expires_at`` is its TTL attribute).

    One BatchGetItem per 100 ids, then one BatchWriteItem per 25 new ids: for a batch of 500 that is
    5 + 20 calls instead of 500 conditional puts (``benchmarks/events.py`` measures both). Two copies of
    the same batch racing each other can both pass the look-up; the export's deduplication covers that.
    """

    def __init__(self, table: str, client: Any | None = None) -> None:
        self.table = table
        self._client = client

    @property
    def dynamodb(self) -> Any:
        if self._client is None:
            from liveml.aws.clients import client

            self._client = client("dynamodb")
        return self._client

    def seen(self, keys: list[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(keys), 100):
            request: dict[str, Any] = {
                self.table: {
                    "Keys": [{"pk": {"S": k}} for k in dict.fromkeys(keys[start : start + 100])],
                    "ProjectionExpression": "pk",
                }
            }
            for attempt in range(8):
                answer = self.dynamodb.batch_get_item(RequestItems=request)
                found.update(item["pk"]["S"] for item in answer["Responses"].get(self.table, []))
                request = answer.get("UnprocessedKeys") or {}
                if not request:
                    break
                time.sleep(0.05 * 2**attempt)
            else:
                raise StorageError("the event id store is throttling look-ups; resend the batch")
        return found

    def remember(self, keys: list[str], *, expires_at: int) -> None:
        for start in range(0, len(keys), 25):
            items = {
                self.table: [
                    {"PutRequest": {"Item": {"pk": {"S": k}, "expires_at": {"N": str(expires_at)}}}}
                    for k in keys[start : start + 25]
                ]
            }
            for attempt in range(8):
                items = self.dynamodb.batch_write_item(RequestItems=items).get("UnprocessedItems") or {}
                if not items:
                    break
                time.sleep(0.05 * 2**attempt)
            else:
                raise StorageError("the event id store is throttling writes")


class MemoryEventIds:
    """Ids in this process (one uvicorn worker, tests); forgets them on restart."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}

    def seen(self, keys: list[str]) -> set[str]:
        now = int(time.time())
        return {k for k in keys if self._ids.get(k, 0) > now}

    def remember(self, keys: list[str], *, expires_at: int) -> None:
        self._ids.update(dict.fromkeys(keys, expires_at))


# ------------------------------------------------------------------ ingestion


@dataclass(frozen=True)
class Answer:
    """An HTTP status and its JSON body."""

    status: int
    body: dict[str, Any]


@dataclass
class EventIngestor:
    """Validates, deduplicates and stores batches of events."""

    store: EventStore
    ids: EventIds
    limits: EventLimits = field(default_factory=EventLimits)
    #: How long an event id is remembered (a resend after that is stored again; the export dedupes).
    dedupe_window: timedelta = field(
        default_factory=lambda: timedelta(days=float(env("EVENTS_DEDUPE_DAYS") or 7))
    )
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def handle(self, body: bytes, content_type: str | None, correlation_id: str) -> Answer:
        """The answer to one ``POST /events``: 200 with per-event results, or the whole batch's error."""
        try:
            result = self.ingest(self.parse(body, content_type))
        except (BatchError, StorageError) as exc:
            fields = exc.fields if isinstance(exc, BatchError) else []
            status = exc.http_status
            return Answer(
                status,
                {
                    "error": error_kind(status),
                    "message": str(exc),
                    "fields": fields,
                    "correlation_id": correlation_id,
                },
            )
        return Answer(200, {**result, "correlation_id": correlation_id})

    def parse(self, body: bytes, content_type: str | None) -> Batch:
        """The envelope, or a :class:`BatchError` with the status the contract gives it."""
        media = (content_type or "").split(";")[0].strip().lower()
        if media != "application/json" and not media.endswith("+json"):
            raise BatchError(
                415,
                f"Content-Type must be application/json, got {content_type or 'none'}",
                [{"field": "Content-Type", "message": "expected application/json"}],
            )
        if len(body) > self.limits.max_body_bytes:
            raise BatchError(
                413,
                f"request body is {len(body)} bytes, over the limit of {self.limits.max_body_bytes}",
                [{"field": "body", "message": f"at most {self.limits.max_body_bytes} bytes"}],
            )
        try:
            data = json.loads(body, parse_constant=_no_constants)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BatchError(
                400, f"invalid JSON: {exc}", [{"field": "body", "message": "invalid JSON"}]
            ) from None
        if not isinstance(data, dict):
            raise BatchError(
                422,
                "expected a JSON object with an `events` list",
                [{"field": "body", "message": "expected a JSON object"}],
            )
        events = data.get("events")
        if isinstance(events, list) and len(events) > self.limits.max_events:
            message = f"at most {self.limits.max_events} events per batch, got {len(events)}"
            raise BatchError(422, message, [{"field": "events", "message": message}])
        try:
            return Batch.model_validate(data)
        except ValidationError as exc:
            fields = [
                {
                    "field": ".".join(str(p) for p in err["loc"]) or "body",
                    "message": "unknown field" if err["type"] == "extra_forbidden" else err["msg"],
                }
                for err in exc.errors()
            ]
            raise BatchError(
                422, "; ".join(f"{f['field']}: {f['message']}" for f in fields), fields
            ) from None

    def ingest(self, batch: Batch) -> dict[str, Any]:
        now = self.clock()
        checked = check_events(batch, now=now, limits=self.limits)
        if checked.future and checked.future == len(batch.events):
            fields = [
                {"field": f"events.{r.index}.timestamp", "message": r.reason} for r in checked.rejected[:10]
            ]
            raise BatchError(
                422,
                f"every event's timestamp is more than 5 minutes ahead of the server "
                f"({now:%Y-%m-%dT%H:%M:%SZ}): the device clock is wrong",
                fields,
            )
        duplicates = 0
        unique: dict[str, Any] = {}
        for _, event in checked.valid:
            key = f"{checked.game}/{event.event_id}"
            if key in unique:
                duplicates += 1  # the same id twice in one batch: stored once
            else:
                unique[key] = event
        try:
            already = self.ids.seen(list(unique)) if unique else set()
        except Exception as exc:
            if isinstance(exc, StorageError):
                raise
            log.exception("event id look-up failed")
            raise StorageError("the event id store is unavailable; resend the batch") from exc
        duplicates += len(already)
        new = {k: e for k, e in unique.items() if k not in already}
        self._store(checked.game, new.values(), now)
        if new:
            try:
                self.ids.remember(list(new), expires_at=int((now + self.dedupe_window).timestamp()))
            except Exception:
                # Stored but not remembered: a resend would be stored again, and the export dedupes it.
                log.exception("storing %d event ids failed; a resend may store them twice", len(new))
        return {
            "accepted": len(new),
            "duplicates": duplicates,
            "rejected": [r.to_dict() for r in checked.rejected],
        }

    def _store(self, game: str, events: Iterable[Any], now: datetime) -> None:
        try:
            write_lines(self.store, (stored_line(e, game, now) for e in events), received_at=now)
        except Exception as exc:
            log.exception("writing events failed")
            raise StorageError("events could not be stored; resend the batch") from exc


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def default_ingestor(*, folder: Path | str | None = None) -> EventIngestor:
    """S3 (``LIVEML_DATA_BUCKET``) and DynamoDB (``LIVEML_EVENTS_TABLE``), or a local folder and
    in-memory ids when ``folder`` (or ``LIVEML_EVENTS_FOLDER``) is given."""
    folder = folder or env("EVENTS_FOLDER") or None
    if folder is not None:
        return EventIngestor(FolderEventStore(folder), MemoryEventIds())
    from liveml.config import Settings

    table = env("EVENTS_TABLE")
    if not table:
        from liveml.errors import LiveMLError

        raise LiveMLError("LIVEML_EVENTS_TABLE is not set")
    return EventIngestor(S3EventStore(Settings().require("data_bucket")), DynamoEventIds(table))


def correlation_id(headers: dict[str, str], request_id: str | None = None) -> str:
    for name in ("x-correlation-id", "x-request-id"):
        if headers.get(name):
            return headers[name][:128]
    return request_id or uuid.uuid4().hex


def handle_apigw(ingestor: EventIngestor, event: dict[str, Any]) -> tuple[dict[str, Any], dict[str, int]]:
    """An API Gateway proxy event in; a proxy response out, with the counts worth a metric."""
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items() if isinstance(v, str)}
    cid = correlation_id(headers, (event.get("requestContext") or {}).get("requestId"))
    try:
        body = request_bytes(event)  # bytes that are not UTF-8 the ingestor refuses as invalid JSON
    except BodyEncodingError as exc:
        return error_response(exc, cid), {"EventBatchesRefused": 1}
    answer = ingestor.handle(body, headers.get("content-type"), cid)
    response = {
        "statusCode": answer.status,
        "headers": {"Content-Type": "application/json", "x-correlation-id": cid},
        "body": json.dumps(answer.body),
    }
    if answer.status != 200:
        return response, {"EventBatchesRefused": 1}
    return response, {
        "EventsAccepted": answer.body["accepted"],
        "EventsDuplicate": answer.body["duplicates"],
        "EventsRejected": len(answer.body["rejected"]),
    }


def create_events_app(ingestor: EventIngestor | None = None, *, folder: Path | str | None = None) -> FastAPI:
    """``POST /events`` as an async FastAPI app (uvicorn, EKS, local tests): the same answers as the
    Lambda function. Blocking storage calls run in a worker thread so the event loop keeps serving.

    ``uvicorn --factory liveml.monitoring:create_events_app`` serves it with the stores the environment
    names (``LIVEML_EVENTS_FOLDER`` for a local folder)."""
    from fastapi import FastAPI, Request
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import JSONResponse, Response

    chosen = ingestor or default_ingestor(folder=folder)
    app = FastAPI(title="LiveML events", description="Player events in: the `POST /events` contract.")
    app.state.ingestor = chosen

    async def events(request: Request) -> Response:
        headers = {k.lower(): v for k, v in request.headers.items()}
        cid = correlation_id(headers)
        limit = chosen.limits.max_body_bytes
        declared = headers.get("content-length", "")
        body = b""
        if not (declared.isdigit() and int(declared) > limit):
            chunks = []
            size = 0
            async for chunk in request.stream():
                chunks.append(chunk)
                size += len(chunk)
                if size > limit:
                    break  # no need to read the rest: the answer is 413
            body = b"".join(chunks)
        else:
            body = b" " * (limit + 1)  # a stand-in of the declared size: answered 413 without reading it
        answer = await run_in_threadpool(chosen.handle, body, headers.get("content-type"), cid)
        return JSONResponse(answer.body, status_code=answer.status, headers={"x-correlation-id": cid})

    # FastAPI resolves annotations in the module's globals, where the lazily imported Request is not.
    events.__annotations__ = {"request": Request, "return": Response}
    app.post("/events", summary="Send a batch of player events")(events)

    @app.get("/health")
    async def health() -> Response:
        return JSONResponse({"status": "ok"})

    return app
