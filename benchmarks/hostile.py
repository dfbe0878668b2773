"""Hostile requests against the real serving app under uvicorn on 127.0.0.1: no client may cause a 5xx.

A 500 counts against a canary's health, so a player who can cause one can force a rollback. This
sends a corpus of hostile requests (huge numbers, NaN/Infinity literals, deep nesting, wrong types,
unicode tricks, oversized bodies, wrong methods, missing or odd headers, unknown models) to the
Dockerfile's uvicorn command serving a small model trained on synthetic players, and prints::

    hostile_requests          how many were sent
    hostile_requests_5xx      how many got a 5xx (must be 0; the script exits 1 otherwise)
    status_<code>             how many got each status
    raw_status_<code>         the same for malformed HTTP written on the socket (0: closed, no answer)
    valid_request_status      the status of one valid request sent after the corpus (200: still serving)

    python benchmarks/hostile.py            # ~1 minute on 2 cores (most of it training the model)

``tests/unit/serving/test_serving_hostile.py`` sends the same corpus to the app in-process.
"""

from __future__ import annotations

import collections
import json
import os
import shutil
import socket
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the tests' server helper

from tests.servers import free_port, running  # noqa: E402

JSON = {"content-type": "application/json"}


@dataclass(frozen=True)
class Hostile:
    """One request of the corpus: ``body`` bytes are sent as is (malformed JSON included)."""

    name: str
    method: str
    path: str
    body: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=lambda: dict(JSON))

    def wire_headers(self) -> dict[bytes, bytes]:
        """Headers as the bytes sent (HTTP headers are latin-1; httpx would refuse non-ASCII text)."""
        return {k.encode(): v.encode("latin-1") for k, v in self.headers.items()}


def _predict(name: str, body: Any, path: str = "/predict", **headers: str) -> Hostile:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Hostile(name, "POST", path, raw, {**JSON, **headers})


def _with(features: Mapping[str, Any], column: str, literal: str) -> bytes:
    """A predict body whose ``column`` is the raw JSON ``literal`` (NaN, 1e999, 10**400 as written)."""
    placeholder = "__HOSTILE__"
    text = json.dumps({"player_id": "p-1", "features": {**features, column: placeholder}})
    return text.replace(json.dumps(placeholder), literal).encode()


def corpus(features: Mapping[str, Any], numeric: list[str], model: str, max_body_bytes: int) -> list[Hostile]:
    """Hostile requests against a model served as ``model`` (and the default) whose valid features are
    ``features``; ``numeric`` are its numeric and integer columns."""
    out: list[Hostile] = []
    huge = ["1" + "0" * 400, "-1" + "0" * 400, "1e308", "-1e308", "3.5e38", "1e39", "9223372036854775808"]
    literals = ["NaN", "Infinity", "-Infinity", "1e999", "-1e999", "1e-400", "0.1e-999999"]
    for column in numeric:
        for literal in huge + literals:
            out.append(_predict(f"{column}={literal[:12]}", _with(features, column, literal)))
    # Every numeric column near the largest float32: inputs the schema takes, outputs that may not be finite.
    for sign in ("", "-"):
        row = {
            "player_id": "p-max",
            "features": {**features, **{c: float(f"{sign}3.4e38") for c in numeric}},
        }
        out.append(_predict(f"all numeric {sign}3.4e38", row))
        batch = {"rows": [row, {"player_id": "p-ok", "features": dict(features)}]}
        out.append(_predict(f"batch with {sign}3.4e38", batch, "/predict/batch"))
    first = numeric[0]
    for name, value in [
        ("string number", "12"),
        ("list", [1]),
        ("object", {"a": 1}),
        ("bool", True),
        ("null", None),
        ("empty string", ""),
    ]:
        out.append(
            _predict(f"wrong type: {name}", {"player_id": "p", "features": {**features, first: value}})
        )
    bad_ids: list[Any] = [
        "p\u202eevil",
        "p\u2066x\u2069",
        "p\u200fx",
        "p\x00x",
        "p\nforged log line",
        "p\x1b[31m",
        "\u0085",
        "x" * 129,
        "",
        12,
        None,
        ["p"],
    ]
    out += [
        _predict(f"player_id {i}", {"player_id": v, "features": dict(features)})
        for i, v in enumerate(bad_ids)
    ]
    out += [
        _predict(
            "lone surrogate", b'{"player_id": "\\ud800", "features": ' + json.dumps(features).encode() + b"}"
        ),
        _predict("invalid utf-8", b'{"player_id": "\xff\xfe", "features": {}}'),
        _predict(
            "utf-8 BOM", b"\xef\xbb\xbf" + json.dumps({"player_id": "p", "features": features}).encode()
        ),
        _predict("zero-width key", {"player_id": "p", "features": {**features, first + "\u200b": 1}}),
        _predict("duplicate keys", b'{"player_id": "a", "player_id": "b", "features": {}}'),
        _predict("deep array", b"[" * 200_000 + b"]" * 200_000),
        _predict("deep object", b'{"a":' * 100_000 + b"1" + b"}" * 100_000),
        _predict("deep in features", {"player_id": "p", "features": {**features, first: _nested(500)}}),
        _predict("top-level number", b"1e999"),
        _predict("top-level NaN", b"NaN"),
        _predict("top-level null", b"null"),
        _predict("empty", b""),
        _predict("truncated", json.dumps({"player_id": "p", "features": features}).encode()[:-3]),
        _predict("oversized", b'{"player_id": "' + b"x" * (max_body_bytes + 10) + b'"}'),
        _predict("batch not a list", {"rows": {"player_id": "p"}}, "/predict/batch"),
        _predict("batch empty", {"rows": []}, "/predict/batch"),
        _predict("batch of nulls", {"rows": [None, None]}, "/predict/batch"),
        _predict("batch of NaN", b'{"rows": [NaN]}', "/predict/batch"),
        _predict(
            "batch too many", {"rows": [{"player_id": "p", "features": features}] * 2000}, "/predict/batch"
        ),
    ]
    body = json.dumps({"player_id": "p", "features": features}).encode()
    for kind in ["", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                 "application/xml", "application/jsonx", "json", "application/json; charset=utf-16",
                 "application/json\x7f"]:  # fmt: skip
        out.append(Hostile(f"content-type {kind!r}", "POST", "/predict", body, {"content-type": kind}))
    out.append(Hostile("no content-type", "POST", "/predict", body, {}))
    for name, headers in [
        ("gzip claimed", {**JSON, "content-encoding": "gzip"}),
        ("correlation id huge", {**JSON, "x-correlation-id": "c" * 10_000}),
        ("correlation id latin-1", {**JSON, "x-correlation-id": "\xe9\xff\x7f"}),
        ("accept xml", {**JSON, "accept": "application/xml"}),
        ("transfer-encoding odd", {**JSON, "x-forwarded-for": "1.1.1.1, <script>"}),
    ]:
        out.append(Hostile(name, "POST", "/predict", body, headers))
    for method in ("GET", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"):
        out.append(Hostile(f"{method} /predict", method, "/predict", body if method != "GET" else None))
        out.append(Hostile(f"{method} /health", method, "/health", None))
    out.append(Hostile("POST /health", "POST", "/health", b"{}"))
    for path in [
        "/models/nope/predict",
        "/models/nope/predict/batch",
        "/models/nope/latest",
        "/models/%00/predict",
        "/models/%E2%80%AE/predict",
        "/models/..%2F..%2Fetc/latest",
        "/models/" + "m" * 5000 + "/predict",
        f"/models/{model}/predict/extra",
        f"/models/{model}/latest?player_id=",
        f"/models/{model}/latest?player_id=" + "p" * 500,
        f"/models/{model}/latest?player_id=%E2%80%AEp",
        "/models/latest?player_id=%00",
        "/docs",
        "/redoc",
        "/%ff",
        "/predict?x=" + "y" * 6000,
    ]:
        method = "POST" if path.endswith(("predict", "batch", "extra")) else "GET"
        out.append(Hostile(f"{method} {path[:40]}", method, path, body if method == "POST" else None))
    out.append(_predict("model route NaN", _with(features, first, "NaN"), f"/models/{model}/predict"))
    return out


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


def model_dir(work: Path) -> Path:
    """A small real model: two quick trials of a linear model on synthetic players, under a contract
    whose numeric columns have no upper bound (what ``contract infer`` writes: only ``min: 0``)."""
    from liveml.contract import ColumnType
    from liveml.data.synth import generate_players, player_contract
    from liveml.training import train_model

    contract = player_contract("binary")
    numbers = (ColumnType.NUMERIC, ColumnType.INTEGER)
    columns = [c.model_copy(update={"max": None}) if c.type in numbers else c for c in contract.columns]
    out = work / "churn"
    df = generate_players(1500, 7, "binary")
    unbounded = contract.model_copy(update={"columns": columns})
    train_model(df, unbounded, out, trials=2, time_budget_s=60, seed=0, folds=2, families=["linear"])
    return out


def inputs(directory: Path) -> tuple[dict[str, Any], list[str]]:
    """A valid feature dict (a golden request's) and the numeric columns of the model in ``directory``."""
    from liveml.binding import ModelBinding
    from liveml.serving import load_models

    golden = json.loads((directory / "golden_requests.json").read_text())
    contract = load_models(ModelBinding.from_dir(directory, model="churn", version="1")).get("churn").contract
    numeric = [c.name for c in contract.features if c.type.value in ("numeric", "integer")]
    return dict(golden["requests"][0]["features"]), numeric


def send(url: str, requests: list[Hostile]) -> collections.Counter[int]:
    """Each request on its own connection (a hostile one may leave a connection unusable)."""
    import httpx

    statuses: collections.Counter[int] = collections.Counter()
    for item in requests:
        with httpx.Client(timeout=30) as client:
            try:
                r = client.request(
                    item.method, url + item.path, content=item.body, headers=item.wire_headers()
                )
                statuses[r.status_code] += 1
            except httpx.HTTPError as exc:  # the server closed on us: worth knowing, not a 5xx
                print(f"# {item.name}: {type(exc).__name__}", file=sys.stderr)
                statuses[0] += 1
    return statuses


#: Requests httpx refuses to send, written on the socket: uvicorn's HTTP parser answers them itself.
RAW = [
    b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: -5\r\n\r\n{}",
    b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 9\r\n\r\n{}",
    b"POST /predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n",
    b"GET /he alth HTTP/1.1\r\nHost: x\r\n\r\n",
    b"NOT-HTTP\r\n\r\n",
]


def send_raw(port: int, requests: list[bytes]) -> collections.Counter[int]:
    """The status of each raw request (0: the server closed without answering, which is fine here)."""
    statuses: collections.Counter[int] = collections.Counter()
    for raw in requests:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            conn.sendall(raw)
            head = conn.recv(64)
        parts = head.split(b" ", 2)
        statuses[int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0] += 1
    return statuses


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="liveml-hostile-") as tmp:
        directory = model_dir(Path(tmp))
        features, numeric = inputs(directory)
        port = free_port()
        env = {
            **os.environ,
            "LIVEML_MODEL_DIR": str(directory),
            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        }
        env.pop("LIVEML_MODEL_BINDING", None)
        uvicorn = shutil.which("uvicorn", path=env["PATH"]) or "uvicorn"
        command = [uvicorn, "liveml.serving.asgi:app", "--host", "127.0.0.1", "--port", str(port),
                   "--workers", "1", "--no-access-log"]  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        requests = corpus(features, numeric, "churn", 1_048_576)
        with running(command, env, ROOT, f"{url}/health"):
            statuses = send(url, requests)
            raw = send_raw(port, RAW)
            valid = send(url, [_predict("valid", {"player_id": "p-1", "features": features})])
    server_errors = sum(n for code, n in (statuses + raw).items() if code >= 500)
    print(f"hostile_requests {len(requests) + len(RAW)}")
    print(f"hostile_requests_5xx {server_errors}")
    for code, n in sorted(statuses.items()):
        print(f"status_{code} {n}")
    for code, n in sorted(raw.items()):
        print(f"raw_status_{code} {n}")
    print(f"valid_request_status {next(iter(valid))}")
    # A 5xx fails the run, and so does an httpx request that got no answer at all.
    sys.exit(1 if server_errors or statuses[0] else 0)


if __name__ == "__main__":
    main()
