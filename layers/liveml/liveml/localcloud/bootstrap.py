"""The runtime side of a local Lambda execution environment: one process per environment.

Started by ``executor.py`` as a *script* (``python bootstrap.py``), so it needs nothing but the
standard library and never puts ``liveml`` on the handler's path. It plays the part of Lambda's
runtime interface client against LocalStack's executor endpoint:

1. import the handler (``_HANDLER``) once; an import error is reported on every invoke, as Lambda does;
2. report ready to ``<LOCALSTACK_RUNTIME_ENDPOINT>/status/<id>/ready``;
3. take invokes as ``POST /invoke`` on ``LIVEML_BOOTSTRAP_PORT`` (127.0.0.1), run them one at a time
   on the main thread, then post the logs to ``/invocations/<req>/logs`` (they reach CloudWatch Logs)
   and the result to ``/invocations/<req>/response`` or ``/error``.

The function's timeout is enforced by the executor (it kills this process), which also covers
handlers stuck in C code where a Python-level alarm would never fire.
"""

from __future__ import annotations

import http.client
import importlib
import io
import json
import logging
import os
import queue
import sys
import threading
import time
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, TextIO

# Run as a script, our folder is sys.path[0]: the handler must not import our modules (config, ...).
if sys.path and sys.path[0] and __file__.startswith(sys.path[0]):
    del sys.path[0]

_RUNTIME_ENDPOINT = os.environ.get("LOCALSTACK_RUNTIME_ENDPOINT", "")
_RUNTIME_ID = os.environ.get("LOCALSTACK_RUNTIME_ID", "")
_INVOKES: queue.Queue[dict[str, Any]] = queue.Queue()


_ENDPOINT = urllib.parse.urlsplit(_RUNTIME_ENDPOINT)
_connection: http.client.HTTPConnection | None = None


def _post(path: str, body: bytes) -> None:
    """POST to LocalStack's executor endpoint over one kept-alive connection (never via a proxy)."""
    global _connection
    for attempt in (1, 2):
        if _connection is None:
            _connection = http.client.HTTPConnection(
                _ENDPOINT.hostname or "127.0.0.1", _ENDPOINT.port, timeout=30
            )
        try:
            _connection.request(
                "POST", _ENDPOINT.path + path, body=body, headers={"Content-Type": "application/json"}
            )
            _connection.getresponse().read()
            return
        except (http.client.HTTPException, OSError):
            # A kept-alive connection the server closed meanwhile: reconnect once.
            _connection.close()
            _connection = None
            if attempt == 2:
                raise


class _Tee(io.TextIOBase):
    """A stream that writes to the process's real stream and, during an invoke, to its log buffer."""

    def __init__(self, real: TextIO) -> None:
        self._real = real
        self._lock = threading.Lock()
        self.buffer_: io.StringIO | None = None

    def write(self, text: str) -> int:
        with self._lock:
            if self.buffer_ is not None:
                self.buffer_.write(text)
        self._real.write(text)
        self._real.flush()
        return len(text)

    def flush(self) -> None:
        self._real.flush()

    def fileno(self) -> int:
        # Code that needs a real descriptor (faulthandler, subprocess) writes past the capture.
        return self._real.fileno()

    @property
    def buffer(self) -> Any:
        return self._real.buffer

    def isatty(self) -> bool:
        return False

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"


class LambdaContext:
    """The ``context`` argument of a handler, with the attributes of Lambda's Python runtime: what the
    runtime's environment says, unless given (tests and benchmarks call handlers with one too)."""

    def __init__(
        self,
        request_id: str,
        invoked_arn: str,
        deadline: float,
        *,
        function_name: str | None = None,
        function_version: str | None = None,
        memory_limit_in_mb: int | None = None,
    ) -> None:
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_arn
        self.function_name = function_name or os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = function_version or os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        memory = memory_limit_in_mb or os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.memory_limit_in_mb = str(memory)
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", f"/aws/lambda/{self.function_name}")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity: Any = None
        self.client_context: Any = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.time()) * 1000))


class _RequestIdFilter(logging.Filter):
    request_id = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


def _error_payload(exc: BaseException, error_type: str | None = None, message: str | None = None) -> bytes:
    frames = traceback.extract_tb(exc.__traceback__)
    return json.dumps(
        {
            "errorMessage": message if message is not None else str(exc),
            "errorType": error_type or type(exc).__name__,
            "requestId": "",
            "stackTrace": traceback.format_list(frames),
        }
    ).encode()


def _load_handler() -> tuple[Any, bytes | None]:
    """The handler function, or the error payload every invoke will answer with."""
    spec = os.environ.get("_HANDLER", "")
    module_name, _, function_name = spec.rpartition(".")
    if not module_name:
        message = f"Bad handler '{spec}': not enough values to unpack (expected 2, got 1)"
        return None, json.dumps(
            {"errorMessage": message, "errorType": "Runtime.MalformedHandlerName"}
        ).encode()
    module_name = module_name.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        return None, _error_payload(
            exc, "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}"
        )
    except Exception as exc:
        return None, _error_payload(
            exc, "Runtime.UserCodeSyntaxError" if isinstance(exc, SyntaxError) else None
        )
    handler = getattr(module, function_name, None)
    if handler is None:
        message = f"Handler '{function_name}' missing on module '{module_name}'"
        return None, json.dumps({"errorMessage": message, "errorType": "Runtime.HandlerNotFound"}).encode()
    return handler, None


class _InvokeHandler(BaseHTTPRequestHandler):
    # HTTP/1.1: the executor keeps one connection open per environment.
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        _INVOKES.put(body)
        # Accept at once: LocalStack waits for the result on its own endpoint, not on this reply.
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the access log would end up in the function's CloudWatch logs


def _serve(port: int) -> None:
    server = HTTPServer(("127.0.0.1", port), _InvokeHandler)
    threading.Thread(target=server.serve_forever, name="invoke-server", daemon=True).start()


def _run(
    handler: Any,
    init_error: bytes | None,
    event: dict[str, Any],
    tee_out: _Tee,
    tee_err: _Tee,
    ids: _RequestIdFilter,
) -> None:
    request_id = str(event.get("invoke-id", ""))
    timeout = float(os.environ.get("AWS_LAMBDA_FUNCTION_TIMEOUT", "3"))
    version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
    # The first invoke carries what the handler printed while it was imported (the INIT phase).
    buffer = tee_out.buffer_ or io.StringIO()
    tee_out.buffer_ = tee_err.buffer_ = buffer
    ids.request_id = request_id
    os.environ["_X_AMZN_TRACE_ID"] = str(event.get("trace-id") or "")
    print(f"START RequestId: {request_id} Version: {version}")
    started = time.perf_counter()
    path = "response"
    try:
        if init_error is not None:
            payload, path = init_error, "error"
            sys.stderr.write(init_error.decode() + "\n")
        else:
            context = LambdaContext(
                request_id, str(event.get("invoked-function-arn", "")), time.time() + timeout
            )
            result = handler(json.loads(event.get("payload") or "null"), context)
            try:
                payload = json.dumps(result).encode()
            except (TypeError, ValueError) as exc:
                payload, path = (
                    _error_payload(exc, "Runtime.MarshalError", f"Unable to marshal response: {exc}"),
                    "error",
                )
    except Exception as exc:
        payload, path = _error_payload(exc), "error"
        # Lambda prints the error record to the function's log as well.
        sys.stderr.write(f"[ERROR] {type(exc).__name__}: {exc}\n{''.join(traceback.format_exc())}")
    duration = (time.perf_counter() - started) * 1000
    print(f"END RequestId: {request_id}")
    print(
        f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms\t"
        f"Billed Duration: {int(duration) + 1} ms"
    )
    tee_out.buffer_ = tee_err.buffer_ = None
    _post(f"/invocations/{request_id}/logs", json.dumps({"logs": buffer.getvalue()}).encode())
    _post(f"/invocations/{request_id}/{path}", payload)


def main() -> None:
    tee_out, tee_err = _Tee(sys.stdout), _Tee(sys.stderr)
    sys.stdout, sys.stderr = tee_out, tee_err
    # Lambda's Python runtime installs a root handler that tags records with the request id.
    ids = _RequestIdFilter()
    root_handler = logging.StreamHandler(sys.stdout)
    root_handler.setFormatter(
        logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
            "%Y-%m-%dT%H:%M:%S",
        )
    )
    root_handler.addFilter(ids)
    logging.getLogger().addHandler(root_handler)

    _serve(int(os.environ["LIVEML_BOOTSTRAP_PORT"]))
    tee_out.buffer_ = tee_err.buffer_ = io.StringIO()
    handler, init_error = _load_handler()
    _post(f"/status/{_RUNTIME_ID}/ready", b"{}")
    while True:
        _run(handler, init_error, _INVOKES.get(), tee_out, tee_err, ids)


if __name__ == "__main__":
    main()
