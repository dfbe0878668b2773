"""``liveml events``: send player events to ``POST /events`` from the shell; make synthetic ones."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from liveml.cli._stack import AWS_OPTION, STACK_OPTION
from liveml.errors import LiveMLError

app = typer.Typer(
    help="Player events: send a file to POST /events, generate synthetic ones.", no_args_is_help=True
)


def read_event_file(path: Path) -> tuple[str | None, list[Any]]:
    """JSON lines (one event a line) or one JSON batch (``{"game", "events"}``) or a JSON list."""
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except ValueError:
        try:
            return None, [json.loads(line) for line in text.splitlines() if line.strip()]
        except ValueError as exc:
            raise LiveMLError(f"{path}: neither JSON nor JSON lines ({exc})") from None
    if isinstance(data, dict) and isinstance(data.get("events"), list):
        return data.get("game"), data["events"]
    if isinstance(data, list):
        return None, data
    if isinstance(data, dict):
        return None, [data]  # a file of one JSON line
    raise LiveMLError(f"{path}: expected events as JSON lines, a JSON list or {{'events': [...]}}")


def post_events(
    url: str, api_key: str | None, body: dict[str, Any], timeout_s: float = 60
) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    request.add_header("Content-Type", "application/json")
    if api_key:
        request.add_header("x-api-key", api_key)
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            return error.code, json.loads(raw)
        except ValueError:
            return error.code, {"message": raw.decode(errors="replace")}
    except urllib.error.URLError as error:
        raise LiveMLError(f"cannot reach {url}: {error.reason}") from None


@app.command("send")
def send(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="JSON lines, or a JSON batch."),
    game: str | None = typer.Option(None, "--game", help="The batch's game (else the file's, else none)."),
    batch_size: int = typer.Option(500, "--batch-size", min=1, help="Events per request."),
    url: str | None = typer.Option(
        None, "--url", help="An /events URL (e.g. uvicorn); default: the stack's API."
    ),
    api_key: str | None = typer.Option(None, "--api-key", envvar="LIVEML_API_KEY", help="With --url."),
    aws: bool = AWS_OPTION,
    stack_name: str = STACK_OPTION,
) -> None:
    """Send FILE's events in batches and show the answer for each event that was not accepted."""
    file_game, events = read_event_file(file)
    game = game or file_game
    if url is None:
        from liveml.cli._stack import connect

        outputs = connect(aws, stack_name)
        url, api_key = outputs.api_url + "/events", outputs.api_key
    console = Console()
    totals = {"accepted": 0, "duplicates": 0, "rejected": 0}
    rejected = Table("batch", "index", "event_id", "reason", title="rejected events")
    failures = []
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(f"sending {len(events)} events", total=len(events))
        for number, start in enumerate(range(0, len(events), batch_size), start=1):
            chunk = events[start : start + batch_size]
            body: dict[str, Any] = {"events": chunk, **({"game": game} if game else {})}
            status, answer = post_events(url, api_key, body)
            if status == 200:
                totals["accepted"] += answer["accepted"]
                totals["duplicates"] += answer["duplicates"]
                totals["rejected"] += len(answer["rejected"])
                for item in answer["rejected"]:
                    rejected.add_row(
                        str(number), str(start + item["index"]), str(item["event_id"]), item["reason"]
                    )
            else:
                failures.append(f"batch {number}: HTTP {status} {answer.get('message', answer)}")
            progress.advance(task, len(chunk))
    if rejected.row_count:
        console.print(rejected)
    for failure in failures:
        console.print(f"[red]{failure}[/]")
    console.print(
        f"accepted {totals['accepted']}, duplicates {totals['duplicates']} (already stored), "
        f"rejected {totals['rejected']}, batches refused {len(failures)}"
    )
    if failures:
        raise typer.Exit(1)


@app.command("synth")
def synth(
    out: Path = typer.Option(Path("events.jsonl"), "--out", "-o", help="JSON lines file to write."),
    players: int = typer.Option(1000, "--players", "-n", min=1),
    days: int = typer.Option(7, "--days", min=1, max=30, help="Ending now (the API keeps 30 days)."),
    seed: int = typer.Option(7, "--seed", "-s"),
) -> None:
    """Write synthetic players' events (sessions, purchases, levels) of the last DAYS days to OUT."""
    from liveml.data.synth_events import generate_events, to_batches

    start = datetime.now(UTC) - timedelta(days=days)
    frame = generate_events(players, seed, start=start, days=days)
    with out.open("w", encoding="utf-8") as handle:
        for batch in to_batches(frame):
            handle.writelines(json.dumps(event) + "\n" for event in batch)
    Console(stderr=True).print(f"wrote {len(frame)} events of {players} players to {out}")
