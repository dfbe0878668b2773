"""Player events benchmark: ingestion throughput and the dataset export, one ``name value`` line each.

    python benchmarks/events.py                      # every section
    python benchmarks/events.py --only export --players 100000
    python benchmarks/events.py --only ingest        # needs the stack on LocalStack (liveml deploy --local)

Ingest figures (batches of 500 events, fresh event ids each time, medians):
- ``events_per_second_per_invocation``: 500 / the median round trip of one invocation of the deployed
  ingest function on LocalStack (proxy event in, S3 + DynamoDB Local behind it).
- ``events_per_second_in_process``: the same ingestor in this process against LocalStack's S3 and
  DynamoDB; ``..._naive_baseline``: one conditional PutItem and one S3 object per event, the obvious
  design; ``ingest_speedup_vs_naive`` is their ratio.
- ``dedupe_lookup_and_mark_ms`` (BatchGetItem + BatchWriteItem, what the ingestor does) beside
  ``dedupe_conditional_puts_ms`` (500 ``attribute_not_exists`` puts) for the same 500 ids.

Export figures (synthetic players, 42 days of events stored as the ingest function stores them):
- ``export_100k_players_seconds`` (named for the default ``--players``): read, parse and deduplicate
  the events, build the features and labels, run the data gate; ``export_naive_baseline_seconds``: a
  plain-Python pass (dict per player) over the same files for the same columns, without the gate.
- ``export_peak_mb`` / ``export_naive_peak_mb``: how much each adds to the process's peak resident
  memory, each run in a forked child of this process (so neither counts the generated events, and
  neither the other's garbage). The export function has 3,008 MB.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import statistics
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

Figures = Iterator[tuple[str, float | None]]
Section = Callable[[argparse.Namespace], Figures]
SECTIONS: dict[str, Section] = {}
BATCH = 500


def section(name: str) -> Callable[[Section], Section]:
    def register(fn: Section) -> Section:
        SECTIONS[name] = fn
        return fn

    return register


def _batch(now: datetime) -> list[dict[str, Any]]:
    run = uuid.uuid4().hex[:10]
    return [
        {
            "event_id": f"{run}-{i}",
            "player_id": f"p{i % 97}",
            "type": ("session_start", "purchase", "level_complete")[i % 3],
            "timestamp": (now - timedelta(seconds=i)).isoformat(),
            "sequence": i,
            "properties": {"amount": 4.99, "level": i % 50},
        }
        for i in range(BATCH)
    ]


def _median_seconds(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


@section("ingest")
def ingest(args: argparse.Namespace) -> Figures:
    from liveml.aws import client, use_localstack
    from liveml.monitoring.ingest import DynamoEventIds, EventIngestor, S3EventStore
    from liveml.stack import read_outputs

    use_localstack()
    outputs = read_outputs(args.stack_name)
    bucket, table = outputs.data_bucket, outputs.raw["EventIdsTableName"]
    s3, ddb, lam = client("s3"), client("dynamodb"), client("lambda")
    now = datetime.now(UTC)

    def invoke_function() -> None:
        body = json.dumps({"game": "bench", "events": _batch(datetime.now(UTC))})
        event = {
            "httpMethod": "POST",
            "path": "/events",
            "headers": {"Content-Type": "application/json"},
            "body": body,
            "isBase64Encoded": False,
            "requestContext": {"requestId": uuid.uuid4().hex},
        }
        answer = json.loads(
            lam.invoke(FunctionName=outputs.raw["IngestFunctionName"], Payload=json.dumps(event))[
                "Payload"
            ].read()
        )
        assert json.loads(answer["body"])["accepted"] == BATCH, answer

    invoke_function()  # a warm sandbox, as under steady traffic
    per_invocation = _median_seconds(invoke_function, args.repeats)
    yield "events_per_second_per_invocation", BATCH / per_invocation
    yield "ingest_invocation_ms", per_invocation * 1000

    ingestor = EventIngestor(S3EventStore(bucket, s3), DynamoEventIds(table, ddb))

    def in_process() -> None:
        body = json.dumps({"game": "bench", "events": _batch(datetime.now(UTC))}).encode()
        assert ingestor.handle(body, "application/json", "bench").body["accepted"] == BATCH

    def naive() -> None:
        for event in _batch(datetime.now(UTC)):
            try:
                ddb.put_item(
                    TableName=table,
                    Item={"pk": {"S": "naive/" + event["event_id"]}},
                    ConditionExpression="attribute_not_exists(pk)",
                )
            except ddb.exceptions.ConditionalCheckFailedException:
                continue
            s3.put_object(
                Bucket=bucket,
                Key=f"raw/events/game=naive/{event['event_id']}.json",
                Body=json.dumps(event).encode(),
            )

    ours = _median_seconds(in_process, args.repeats)
    yield "events_per_second_in_process", BATCH / ours
    baseline = _median_seconds(naive, max(2, args.repeats // 3))
    yield "events_per_second_naive_baseline", BATCH / baseline
    yield "ingest_speedup_vs_naive", baseline / ours

    ids = DynamoEventIds(table, ddb)

    def lookup_and_mark() -> None:
        keys = [f"d/{e['event_id']}" for e in _batch(now)]
        ids.remember([k for k in keys if k not in ids.seen(keys)], expires_at=int(time.time()) + 3600)

    def conditional_puts() -> None:
        for e in _batch(now):
            ddb.put_item(
                TableName=table,
                Item={"pk": {"S": "c/" + e["event_id"]}},
                ConditionExpression="attribute_not_exists(pk)",
            )

    yield "dedupe_lookup_and_mark_ms", _median_seconds(lookup_and_mark, args.repeats) * 1000
    yield "dedupe_conditional_puts_ms", _median_seconds(conditional_puts, max(2, args.repeats // 3)) * 1000


def _rss_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * resource.getpagesize() / 2**20


def _timed_in_child(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """``fn()`` in a forked child: its result, its seconds, and the MB it added to the peak RSS."""
    ctx = multiprocessing.get_context("fork")
    queue: Any = ctx.Queue()

    def run() -> None:
        before = _rss_mb()
        t0 = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux
        queue.put((result, seconds, peak - before))

    child = ctx.Process(target=run)
    child.start()
    result = queue.get()
    child.join()
    return result  # type: ignore[no-any-return]


def _naive_export(store: Any, cutoff: datetime, lookback: timedelta, horizon: timedelta) -> int:
    """Every stored file, json per line, a dict per player: the obvious single pass."""
    from liveml.monitoring.events import decode_lines

    seen: set[str] = set()
    players: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"sessions": 0, "spend": 0.0, "last": None, "back": False}
    )
    start, end = cutoff - lookback, cutoff + horizon
    for key in store.keys("raw/events/"):
        for line in decode_lines(store.get(key)):
            if line["event_id"] in seen:
                continue
            seen.add(line["event_id"])
            ts = datetime.strptime(line["timestamp"], "%Y-%m-%dT%H:%M:%S.%f%z")
            row = players[line["player_id"]]
            if start <= ts < cutoff:
                row["active"] = True
                if line["type"] == "session_start":
                    row["sessions"] += 1
                    row["last"] = max(row["last"] or ts, ts)
                elif line["type"] == "purchase":
                    row["spend"] += float((line.get("properties") or {}).get("amount", 0))
            elif cutoff <= ts < end and line["type"] == "session_start":
                row["back"] = True
    return sum(1 for row in players.values() if row.get("active"))


@section("export")
def export(args: argparse.Namespace) -> Figures:
    from liveml.data.synth_events import events_contract, export_settings, generate_events, to_batches
    from liveml.monitoring.events import write_lines
    from liveml.monitoring.export import ExportSettings, export_frame
    from liveml.monitoring.ingest import FolderEventStore

    start = datetime(2026, 9, 1, tzinfo=UTC)
    cutoff, now = start + timedelta(days=28), start + timedelta(days=60)
    frame = generate_events(args.players, 1, start=start, days=42)
    with tempfile.TemporaryDirectory() as folder:
        store = FolderEventStore(Path(folder))
        for chunk in to_batches(frame, size=200_000):
            write_lines(
                store, ({**e, "game": "default", "received_at": "x"} for e in chunk), received_at=start
            )
        settings = ExportSettings.model_validate(export_settings())
        del frame  # the children are forked from here: only the stored files remain

        def ours_rows() -> tuple[int, int]:
            dataset, n_events = export_frame(store, settings, events_contract(), cutoff, now=now)
            return len(dataset), n_events

        (rows, n_events), ours, ours_mb = _timed_in_child(ours_rows)
        naive_rows, naive, naive_mb = _timed_in_child(
            lambda: _naive_export(store, cutoff, timedelta(days=28), timedelta(days=14))
        )
    assert naive_rows == rows, (naive_rows, rows)
    yield "export_events", float(n_events)
    yield "export_rows", float(rows)
    yield f"export_{args.players // 1000}k_players_seconds", ours
    yield "export_naive_baseline_seconds", naive
    yield "export_speedup_vs_naive", naive / ours
    yield "export_peak_mb", ours_mb
    yield "export_naive_peak_mb", naive_mb


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", choices=sorted(SECTIONS), action="append")
    parser.add_argument("--players", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--stack-name", default="liveml")
    args = parser.parse_args()
    for name in args.only or list(SECTIONS):
        for figure, value in SECTIONS[name](args):
            print(f"{figure} {'n/a' if value is None else f'{value:.4g}'}", flush=True)


if __name__ == "__main__":
    main()
