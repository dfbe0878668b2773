"""Event ingestion: per-event validation, partial success, idempotency by event id, the stored layout,
and every whole-batch error of the ``POST /events`` contract (through the Lambda handler and FastAPI)."""

from __future__ import annotations

import gzip
import importlib.util
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from fastapi.testclient import TestClient

from liveml import monitoring
from liveml.localcloud.bootstrap import LambdaContext

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
HANDLER = Path(__file__).resolve().parents[3] / "functions" / "ingest" / "app.py"


def event(i: int, **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "event_id": f"e-{i:04d}",
        "player_id": f"p{i % 7}",
        "type": "session_start" if i % 2 else "purchase",
        "timestamp": (NOW - timedelta(minutes=i)).isoformat().replace("+00:00", "Z"),
        "sequence": i,
        "properties": {"amount": 1.99, "items": [{"sku": "gem", "n": 2}]},
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not ...}


def body(events: list[Any], **extra: Any) -> bytes:
    return json.dumps({"game": "g1", "events": events, **extra}).encode()


@pytest.fixture
def ingestor(tmp_path: Path) -> monitoring.EventIngestor:
    return monitoring.EventIngestor(
        monitoring.FolderEventStore(tmp_path), monitoring.MemoryEventIds(), clock=lambda: NOW
    )


def stored(ingestor: monitoring.EventIngestor) -> list[dict[str, Any]]:
    types = ["session_start", "purchase"]
    return list(
        monitoring.read_events(
            ingestor.store, game="g1", types=types, start=NOW - timedelta(days=31), end=NOW
        )
    )


BAD = {
    3: ({"timestamp": "2026-12-01T10:00:00"}, "timestamp: Value error, needs an offset"),
    17: ({"player_id": "bad\u202eid"}, "player_id"),
    41: ({"sequence": "seven"}, "sequence"),
}


def partly_bad() -> list[dict[str, Any]]:
    events = [event(i) for i in range(50)]
    for index, (changes, _) in BAD.items():
        events[index] = event(index, **changes)
    return events


def test_three_bad_events_of_fifty_land_forty_seven_and_are_named(ingestor: monitoring.EventIngestor) -> None:
    answer = ingestor.handle(body(partly_bad()), "application/json", "cid-1")
    assert answer.status == 200, answer.body
    assert answer.body["accepted"] == 47 and answer.body["duplicates"] == 0
    assert [r["index"] for r in answer.body["rejected"]] == [3, 17, 41]
    assert [r["event_id"] for r in answer.body["rejected"]] == ["e-0003", "e-0017", "e-0041"]
    assert "offset" in answer.body["rejected"][0]["reason"]
    assert answer.body["rejected"][1]["reason"].startswith("player_id: ")
    assert answer.body["rejected"][2]["reason"].startswith("sequence: ")
    assert answer.body["correlation_id"] == "cid-1"
    lines = stored(ingestor)
    assert sorted(line["event_id"] for line in lines) == sorted(
        f"e-{i:04d}" for i in range(50) if i not in BAD
    )


def test_the_same_batch_twice_lands_once(ingestor: monitoring.EventIngestor) -> None:
    first = ingestor.handle(body(partly_bad()), "application/json", "a")
    second = ingestor.handle(body(partly_bad()), "application/json", "b")
    assert first.body["accepted"] == 47
    assert second.body["accepted"] == 0 and second.body["duplicates"] == 47
    assert len(stored(ingestor)) == 47


def test_a_repeated_id_inside_one_batch_is_stored_once(ingestor: monitoring.EventIngestor) -> None:
    answer = ingestor.handle(body([event(1), event(1), event(2)]), "application/json", "c")
    assert (answer.body["accepted"], answer.body["duplicates"]) == (2, 1)


def test_stored_layout_is_partitioned_by_game_type_and_day(
    ingestor: monitoring.EventIngestor, tmp_path: Path
) -> None:
    ingestor.handle(
        body([event(1), event(2, timestamp="2026-11-30T23:59:00-02:00")]), "application/json", "x"
    )
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.jsonl.gz"))
    assert [f.rsplit("/", 1)[0] for f in files] == [
        "raw/events/game=g1/type=purchase/dt=2026-12-01",  # -02:00 is 01:59 UTC the next day
        "raw/events/game=g1/type=session_start/dt=2026-12-01",
    ]
    line = json.loads(gzip.decompress((tmp_path / files[0]).read_bytes()))
    assert line["timestamp"] == "2026-12-01T01:59:00.000000Z" and line["game"] == "g1"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"event_id": "has space"}, "event_id"),
        ({"event_id": ...}, "event_id: Field required"),
        ({"type": "Session Start"}, "type"),
        ({"timestamp": 1733050000}, "timestamp"),
        ({"timestamp": "yesterday"}, "not ISO-8601"),
        ({"timestamp": (NOW - timedelta(days=31)).isoformat()}, "older than 30 days"),
        ({"sequence": -1}, "sequence"),
        ({"sequence": True}, "sequence"),
        ({"player_id": ""}, "player_id"),
        ({"player_id": "p\x00"}, "control, format or bidi"),
        ({"properties": {"blob": "x" * 9000}}, "at most 8192"),
        ({"properties": {"a": {"b": {"c": {"d": {"e": 1}}}}}}, "deeper than 4"),
        ({"properties": [1, 2]}, "properties"),
        ({"colour": "red"}, "colour: unknown field"),
    ],
)
def test_each_bad_field_is_named(
    ingestor: monitoring.EventIngestor, changes: dict[str, Any], reason: str
) -> None:
    answer = ingestor.handle(body([event(0, **changes), event(1)]), "application/json", "r")
    assert answer.status == 200
    assert answer.body["accepted"] == 1
    (rejected,) = answer.body["rejected"]
    assert rejected["index"] == 0 and reason in rejected["reason"], rejected


def test_an_event_that_is_not_an_object_is_rejected_alone(ingestor: monitoring.EventIngestor) -> None:
    answer = ingestor.handle(body([event(1), "oops", None]), "application/json", "r")
    assert answer.body["accepted"] == 1
    assert [r["reason"] for r in answer.body["rejected"]] == [
        "event: expected a JSON object, got a string",
        "event: expected a JSON object, got null",
    ]


@pytest.mark.parametrize(
    ("raw", "content_type", "status", "field"),
    [
        (b"{not json", "application/json", 400, "body"),
        (b'{"events": [NaN]}', "application/json", 400, "body"),
        (b"\xff\xfe", "application/json", 400, "body"),
        (body([event(1)]), "text/plain", 415, "Content-Type"),
        (body([event(1)]), None, 415, "Content-Type"),
        (b'{"events": [' + b" " * 1_048_576 + b"]}", "application/json", 413, "body"),
        (body([event(i) for i in range(501)]), "application/json", 422, "events"),
        (b"[1, 2]", "application/json", 422, "body"),
        (b'{"game": "g1"}', "application/json", 422, "events"),
        (b'{"events": []}', "application/json", 422, "events"),
        (b'{"events": {"a": 1}}', "application/json", 422, "events"),
        (body([event(1)], game="bad game!"), "application/json", 422, "game"),
        (body([event(1)], extra=1), "application/json", 422, "extra"),
    ],
)
def test_malformed_batches_are_refused_whole(
    ingestor: monitoring.EventIngestor, raw: bytes, content_type: str | None, status: int, field: str
) -> None:
    answer = ingestor.handle(raw, content_type, "m")
    assert answer.status == status, answer.body
    assert set(answer.body) == {"error", "message", "fields", "correlation_id"}
    assert answer.body["fields"][0]["field"] == field
    assert stored(ingestor) == []


def test_a_device_clock_far_ahead_refuses_the_batch(ingestor: monitoring.EventIngestor) -> None:
    ahead = (NOW + timedelta(days=400)).isoformat()
    answer = ingestor.handle(body([event(i, timestamp=ahead) for i in range(3)]), "application/json", "f")
    assert answer.status == 422
    assert "device clock" in answer.body["message"]
    assert answer.body["fields"][0]["field"] == "events.0.timestamp"
    # One future event among good ones is only that event's problem.
    mixed = ingestor.handle(body([event(5), event(6, timestamp=ahead)]), "application/json", "f")
    assert mixed.status == 200 and mixed.body["accepted"] == 1
    assert "ahead of the server" in mixed.body["rejected"][0]["reason"]


class FailingStore(monitoring.FolderEventStore):
    def put(self, key: str, body: bytes) -> None:
        raise OSError("disk full")


def test_a_storage_failure_is_a_503_and_remembers_nothing(tmp_path: Path) -> None:
    ids = monitoring.MemoryEventIds()
    failing = monitoring.EventIngestor(FailingStore(tmp_path), ids, clock=lambda: NOW)
    answer = failing.handle(body([event(1)]), "application/json", "s")
    assert answer.status == 503 and "resend" in answer.body["message"]
    # The resend, once storage is back, is stored: nothing was marked as delivered.
    healthy = monitoring.EventIngestor(monitoring.FolderEventStore(tmp_path), ids, clock=lambda: NOW)
    assert healthy.handle(body([event(1)]), "application/json", "s").body["accepted"] == 1


@pytest.fixture
def aws(moto: None) -> tuple[Any, Any]:
    """moto stands in for S3 and DynamoDB here (unit tests); the integration tests use LocalStack."""
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="data")
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    ddb.create_table(
        TableName="ids",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return s3, ddb


def test_s3_and_dynamodb_backends_keep_the_contract(aws: tuple[Any, Any]) -> None:
    s3, ddb = aws
    ingestor = monitoring.EventIngestor(
        monitoring.S3EventStore("data", s3), monitoring.DynamoEventIds("ids", ddb), clock=lambda: NOW
    )
    events = [event(i) for i in range(260)]  # more than one BatchGetItem (100) and BatchWriteItem (25)
    first = ingestor.handle(body(events), "application/json", "1")
    second = ingestor.handle(body(events), "application/json", "2")
    assert (first.body["accepted"], second.body["duplicates"], second.body["accepted"]) == (260, 260, 0)
    assert len(stored(ingestor)) == 260
    item = ddb.get_item(TableName="ids", Key={"pk": {"S": "g1/e-0000"}})["Item"]
    assert int(item["expires_at"]["N"]) == int((NOW + timedelta(days=7)).timestamp())


def _apigw(raw: str, content_type: str = "application/json") -> dict[str, Any]:
    return {
        "resource": "/events",
        "path": "/events",
        "httpMethod": "POST",
        "headers": {"Content-Type": content_type, "x-api-key": "k"},
        "body": raw,
        "isBase64Encoded": False,
        "requestContext": {"requestId": "req-1", "stage": "v1"},
    }


def context() -> LambdaContext:
    arn = "arn:aws:lambda:us-east-1:123456789012:function:liveml-ingest"
    return LambdaContext(
        "req-1", arn, time.time() + 10, function_name="liveml-ingest", memory_limit_in_mb=512
    )


@pytest.fixture
def ingest_fn(aws: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.setenv("LIVEML_DATA_BUCKET", "data")
    monkeypatch.setenv("LIVEML_EVENTS_TABLE", "ids")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "LiveML")
    spec = importlib.util.spec_from_file_location("ingest_fn_under_test", HANDLER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_lambda_handler_answers_api_gateway(ingest_fn: ModuleType) -> None:
    fresh = [event(i, timestamp=datetime.now(UTC).isoformat()) for i in range(5)]
    ok = ingest_fn.handler(_apigw(json.dumps({"events": fresh})), context())
    assert ok["statusCode"] == 200
    assert json.loads(ok["body"])["accepted"] == 5
    assert ok["headers"]["x-correlation-id"] == "req-1"
    bad = ingest_fn.handler(_apigw("{nope"), context())
    assert bad["statusCode"] == 400 and json.loads(bad["body"])["error"] == "bad_request"
    wrong_type = ingest_fn.handler(_apigw("{}", "text/csv"), context())
    assert wrong_type["statusCode"] == 415


def test_the_fastapi_app_gives_the_same_answers(tmp_path: Path) -> None:
    app = monitoring.create_events_app(
        monitoring.EventIngestor(
            monitoring.FolderEventStore(tmp_path), monitoring.MemoryEventIds(), clock=lambda: NOW
        )
    )
    client = TestClient(app)
    ok = client.post("/events", content=body(partly_bad()), headers={"Content-Type": "application/json"})
    assert ok.status_code == 200 and ok.json()["accepted"] == 47
    assert [r["index"] for r in ok.json()["rejected"]] == [3, 17, 41]
    again = client.post("/events", content=body(partly_bad()), headers={"Content-Type": "application/json"})
    assert again.json()["duplicates"] == 47
    huge = client.post(
        "/events", content=b"[" + b" " * 2_000_000 + b"]", headers={"Content-Type": "application/json"}
    )
    assert huge.status_code == 413 and huge.json()["error"] == "payload_too_large"
    assert client.post("/events", content=b"x", headers={"Content-Type": "text/plain"}).status_code == 415
