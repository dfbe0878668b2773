"""Serving benchmark: our predict function vs a naive FastAPI + joblib scikit-learn baseline.

Same model (a 100-tree HistGradientBoosting on the synthetic players, 13 raw features), same machine,
one process for the in-process figures. Prints ``name value`` lines, and a JSON summary with --json::

    python benchmarks/serving.py                       # ~2-3 minutes on 2 cores
    python benchmarks/serving.py --requests 500 --http-seconds 3      # a quick look
    make peers                                         # once: MLServer, BentoML (own venvs), `hey`

Figures:
  handler_warm_us_median/_p99    full Lambda handler (functions/predict/app.py: powertools + Mangum +
                                 FastAPI + ONNX Runtime), API Gateway v1 event in, response out
  baseline_warm_us_median/_p99   the fair naive design: FastAPI + Mangum + the same fitted scikit-learn
                                 pipeline (joblib), one ``predict_proba`` on a one-row DataFrame, one
                                 thread (threadpoolctl) as ONNX Runtime has
  speedup_vs_baseline            baseline median / ours
  handler_vs_onnx_row_ratio      ours / onnx_predict_row_us_median (what the plumbing costs)
  raw_onnx_us_median             session.run on prebuilt inputs (the floor); onnx_predict_row_us_median
                                 adds the pre-graph step (dict -> tensors)
  cold_init_ms                   the headline: the predict function AS IT SHIPS, a fresh process from
                                 spawn to its first answer (interpreter start, imports, binding, the
                                 model's load, sha256 check, session, first prediction); median of
                                 --cold-runs (7), the clock stopped at the answer (not at exit).
                                 "As it ships": its package and the liveml layer built
                                 by their Makefiles (what `sam build` runs), alone on the path of a bare
                                 Python 3.12 (``-I -S -B``: no dev venv, no site-packages, no bytecode
                                 written, as on Lambda's read-only /var/task and /opt), with the
                                 function's literal environment from template.yaml. Not counted, since
                                 it cannot run here: Lambda's sandbox start, its runtime bootstrap
                                 (awslambdaric, the runtime API), and site over the runtime's own
                                 site-packages. cold_init_ms_dev_venv: the same from the dev .venv
                                 (editable liveml, every dev package on the path), for comparison;
                                 cold_init_ms_against: a second build (--against), spawns interleaved
  cold_init_cpu_ms(_dev_venv/_against)   the CPU time (user + system) that process used until its
                                 answer: the load on a shared machine stretches the wall time, much
                                 less this; on an idle machine the wall time is close to it
  baseline_cold_init_ms          the naive FastAPI + joblib app, spawn to first answer, from the dev .venv
  load_1min_at_cold              the 1-minute load average when the cold figures were taken (2 cores,
                                 shared: they scale with it)
  cold_init_ms_1_model/_5_models shipped, fresh process, from the script's start (the interpreter is
                                 up) to the handler module loaded (imports, binding, each model's
                                 manifest and contract)
  first_request_ms_after_cold_1_model/_5_models   the first request after that (opens the one model
                                 it asks for: ONNX read, sha256 check, session)
  eager_cold_init_ms_5_models    the same 5 models with every session opened at init (the baseline:
                                 what loading all at start-up costs), and eager_first_request_ms_...
  warm_us_median_1_model/_5_models   in-process Mangum app, /models/m0/predict, with 1 or 5 models
                                 bound; warm_ratio_5_vs_1 (model routes are looked up per request)
  batch_10k_ms                   10,000 rows in one /predict/batch event through Mangum
  http_rps / http_p99_ms         the Dockerfile's uvicorn command, one worker, loopback load with
                                 ``hey`` (or an httpx client), fixed duration, concurrency 8, after a
                                 1 s warm-up at the same load (the peers get the same)
  mlserver_http_rps/_p99_ms      MLServer (mlserver_sklearn) on the same pipeline, the same load, in the
                                 same run (`make peers` provisions it); http_rps_vs_mlserver the ratio
  bentoml_http_rps/_p99_ms       BentoML (``bentoml serve``, one worker, one thread, no access log) on the
                                 same pipeline, our request body as its JSON, the same load, in the same
                                 run; http_rps_vs_bentoml the ratio. Each peer's whole process tree is
                                 stopped when it is done, also on an error or SIGTERM
  snapstart_resume_ms_estimate   SnapStart, shipped: a fresh process inits as the snapshot would
                                 (sessions open), then the after-restore hook + the first request;
                                 Lambda's own restore of the snapshot is not measurable here and not
                                 included
  capture_p99_overhead_ms        p99 with capture at sample rate 1.0 (a sink that takes 20 ms per PUT,
                                 like S3) minus p99 without capture, through the handler path
  predict_function_unzipped_mb   from ``sam build`` (.aws-sam/build/PredictFunction + layers); printed as
                                 ``pending`` until the stack is built
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import io
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the tests' server helper

from tests.servers import free_port, running  # noqa: E402

HANDLER = ROOT / "functions" / "predict" / "app.py"
EVENT = json.loads((ROOT / "tests" / "events" / "apigw_predict.json").read_text())

BASELINE_APP = """
from __future__ import annotations
import joblib, numpy as np, pandas as pd
from threadpoolctl import threadpool_limits
from typing import Any
from fastapi import FastAPI
from mangum import Mangum
# The same thread settings as ours (ONNX Runtime: one intra-op thread), applied for the process.
threadpool_limits(limits=1)
model = joblib.load({path!r})
classes = [str(c) for c in {classes!r}]
app = FastAPI()

@app.post("/predict")
async def predict(body: dict[str, Any]) -> dict[str, Any]:
    proba = model.predict_proba(pd.DataFrame([body["features"]]))[0]
    return {{"player_id": body["player_id"], "prediction": classes[int(np.argmax(proba))],
            "probabilities": dict(zip(classes, map(float, proba)))}}

handler = Mangum(app, lifespan="off")
"""


class Context:
    function_name = "liveml-predict"
    function_version = "1"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:liveml-predict:live"
    memory_limit_in_mb = 1024
    aws_request_id = "bench"
    log_group_name = "/aws/lambda/liveml-predict"
    log_stream_name = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """EMF and log lines go to stdout, as on Lambda; not into the figures."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        yield


def time_calls(call: Callable[[], Any], n: int, warmup: int = 200) -> list[float]:
    for _ in range(warmup):
        call()
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        call()
        out.append((time.perf_counter() - t0) * 1e6)
    return out


def import_file(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- set-up: one model, as ONNX (ours) and as a joblib pipeline (the baseline) ------------------


def prepare(work: Path) -> tuple[Path, Path, list[str]]:
    """Train our model, and keep the very scikit-learn pipeline that training exported to ONNX (same
    rows, same parameters) as the naive baseline's model."""
    import joblib

    from liveml.data.synth import generate_players, player_contract
    from liveml.training import train as training

    contract = player_contract("binary")
    df = generate_players(5000, 7, "binary")
    model_dir = work / "model"
    made: list[Any] = []
    names = vars(training)  # training's own name for make_pipeline, swapped for one that keeps a copy
    make_pipeline = names["make_pipeline"]

    def keep(*args: Any, **kwargs: Any) -> Any:
        made.append(make_pipeline(*args, **kwargs))
        return made[-1]

    names["make_pipeline"] = keep
    try:
        # One trial of the default HGB (100 trees, depth 6): what a studio's first model looks like.
        training.train_model(
            df, contract, model_dir, trials=1, time_budget_s=120, seed=0, folds=2,
            families=["hist_gradient_boosting"],
        )  # fmt: skip
    finally:
        names["make_pipeline"] = make_pipeline
    pipeline = made[-1]  # the last pipeline training made is the one it fitted and exported
    baseline = work / "baseline.joblib"
    joblib.dump(pipeline, baseline)
    from liveml.inference import load_model_dir

    return model_dir, baseline, list(load_model_dir(model_dir).onnx.classes or [])


# --- figures ------------------------------------------------------------------------------------


def handler_figures(model_dir: Path, n: int) -> dict[str, float]:
    os.environ["LIVEML_MODEL_DIR"] = str(model_dir)
    with quiet():
        fn = import_file(HANDLER, "predict_fn_bench")
        times = time_calls(lambda: fn.handler(EVENT, Context()), n)
        assert fn.handler(EVENT, Context())["statusCode"] == 200
    return {"handler_warm_us_median": statistics.median(times), "handler_warm_us_p99": pct(times, 0.99)}


def baseline_figures(work: Path, baseline: Path, classes: list[str], n: int) -> dict[str, float]:
    path = work / "baseline_app.py"
    path.write_text(BASELINE_APP.format(path=str(baseline), classes=classes))
    with quiet():
        fn = import_file(path, "baseline_bench")
        response = fn.handler(EVENT, Context())
        assert response["statusCode"] == 200, response
        times = time_calls(lambda: fn.handler(EVENT, Context()), n, warmup=50)
    return {"baseline_warm_us_median": statistics.median(times), "baseline_warm_us_p99": pct(times, 0.99)}


def onnx_figures(model_dir: Path, n: int) -> dict[str, float]:
    from liveml.inference import load_model_dir

    bundle = load_model_dir(model_dir)
    features = json.loads(EVENT["body"])["features"]
    inputs = bundle.onnx.pregraph.transform_rows([features])
    raw = time_calls(lambda: bundle.onnx.run_inputs(inputs), n)
    row = time_calls(lambda: bundle.onnx.predict([features]), n)
    return {
        "raw_onnx_us_median": statistics.median(raw),
        "onnx_predict_row_us_median": statistics.median(row),
    }


#: How the cold-start scripts load the handler: from its file (argv[1]), not yet executed, with a
#: Lambda context and the event (argv[2]), the package's folders (argv[3:]) first on sys.path; stdlib
#: only, so it adds nothing to what is measured.
LOAD_HANDLER = """
import time, json, importlib.util, sys, io, contextlib, types
sys.path[:0] = sys.argv[3:]
spec = importlib.util.spec_from_file_location("fn", sys.argv[1])
module = importlib.util.module_from_spec(spec)
context = types.SimpleNamespace(function_name="f", memory_limit_in_mb=1024, invoked_function_arn="arn",
    aws_request_id="r", function_version="1", log_group_name="g", log_stream_name="s")
event = json.loads(open(sys.argv[2]).read())
"""

#: Spawn to first answer: the parent notes the wall clock at spawn, the child at its answer (the
#: interpreter's teardown after it is no part of a cold start).
COLD_SCRIPT = (
    LOAD_HANDLER
    + """
with contextlib.redirect_stdout(io.StringIO()):
    spec.loader.exec_module(module)
    response = module.handler(event, context)
    answered, cpu = time.time(), time.process_time()
assert response["statusCode"] == 200, response
print(json.dumps({"answered_at": answered, "cpu_s": cpu}))
"""
)


@dataclass(frozen=True)
class Interpreter:
    """How a cold-start script runs: the command before the script, the folders put first on its
    sys.path, the handler file, and the environment it adds."""

    command: list[str]
    path: list[str]
    handler: Path
    env: dict[str, str] = field(default_factory=dict)

    def run(self, script: Path, event: Path, env: dict[str, str], handler: Path | None = None) -> str:
        out = subprocess.run(
            [*self.command, str(script), str(handler or self.handler), str(event), *self.path],
            capture_output=True, text=True, env={**os.environ, **self.env, **env}, cwd=script.parent,
        )  # fmt: skip
        if out.returncode != 0:
            raise RuntimeError(f"{script.name} failed: {out.stderr[-2000:]}")
        return out.stdout


#: The dev venv: editable liveml, every dev package on the path, bytecode cached in the tree.
DEV_VENV = Interpreter([sys.executable], [], HANDLER)


class _CfnLoader(yaml.SafeLoader):
    """template.yaml with its CloudFormation tags (!Ref, ...) read as None: only literals matter here."""


_CfnLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def function_environment() -> dict[str, str]:
    """The predict function's literal environment variables in template.yaml (Globals, then its own)."""
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=_CfnLoader)
    env: dict[str, str] = {}
    for props in (template["Globals"]["Function"], template["Resources"]["PredictFunction"]["Properties"]):
        variables = (props.get("Environment") or {}).get("Variables") or {}
        env.update({k: str(v) for k, v in variables.items() if isinstance(v, str | int | float)})
    return env


def shipped(work: Path, build: Path | None = None) -> Interpreter:
    """The predict function as Lambda runs it: its package and the liveml layer (a ``sam build`` output
    when given, else built here by their Makefiles, which is what ``sam build`` runs) alone on the path
    of the base Python 3.12, isolated (-I), without site (-S), writing no bytecode (-B)."""
    base = getattr(sys, "_base_executable", sys.executable)
    if build is not None:
        build = build.resolve()  # the scripts run in the work folder
    else:
        build = work / "sam-build"
        for folder, target in (("functions/predict", "PredictFunction"), ("layers/liveml", "LiveMLLayer")):
            subprocess.run(
                ["make", "-s", "-f", "Makefile", f"build-{target}", f"ARTIFACTS_DIR={build / target}",
                 f"PYTHON={base}"],
                cwd=ROOT / folder, check=True, capture_output=True,
            )  # fmt: skip
    function, layer = build / "PredictFunction", build / "LiveMLLayer" / "python"
    if not (function / "app.py").exists() or not layer.is_dir():
        raise SystemExit(f"{build} holds no PredictFunction and LiveMLLayer/python (a `sam build` output)")
    return Interpreter([base, "-I", "-S", "-B"], [str(function), str(layer)], function / "app.py",
                       function_environment())  # fmt: skip


def cold_figures(
    work: Path, launchers: list[Interpreter], env: dict[str, str], runs: int
) -> list[tuple[float, float]]:
    """Median spawn-to-first-answer ms of each launcher, and the median CPU ms its process used until
    then (which the machine's load barely changes); their spawns interleaved, the same load for all."""
    script = work / "cold.py"
    script.write_text(COLD_SCRIPT)
    event = work / "event.json"
    event.write_text(json.dumps(EVENT))
    walls: list[list[float]] = [[] for _ in launchers]
    cpus: list[list[float]] = [[] for _ in launchers]
    for _ in range(runs):
        for i, launcher in enumerate(launchers):
            spawned = time.time()
            answer = json.loads(launcher.run(script, event, env).strip().splitlines()[-1])
            walls[i].append((answer["answered_at"] - spawned) * 1000)
            cpus[i].append(answer["cpu_s"] * 1000)
    return [(statistics.median(w), statistics.median(c)) for w, c in zip(walls, cpus, strict=True)]


COLD_SPLIT_SCRIPT = (
    "import time\nt0 = time.perf_counter()\n"
    + LOAD_HANDLER
    + """
with contextlib.redirect_stdout(io.StringIO()):
    spec.loader.exec_module(module)
    t1 = time.perf_counter()
    response = module.handler(event, context)
    t2 = time.perf_counter()
assert response["statusCode"] == 200, response
print(json.dumps({"init_ms": (t1 - t0) * 1000, "first_ms": (t2 - t1) * 1000}))
"""
)

#: SnapStart: init as in the snapshot (every session open), then what a restored sandbox runs before it
#: answers: the after-restore hook and the first request. Lambda's own restore (mapping the snapshot's
#: memory back in) cannot run here and is not included.
SNAPSTART_SCRIPT = (
    LOAD_HANDLER
    + """
with contextlib.redirect_stdout(io.StringIO()):
    spec.loader.exec_module(module)
    t0 = time.perf_counter()
    module.runtime.after_restore()
    response = module.handler(event, context)
    t1 = time.perf_counter()
assert response["statusCode"] == 200, response
print(json.dumps({"resume_ms": (t1 - t0) * 1000}))
"""
)


def snapstart_figure(work: Path, model_dir: Path, launcher: Interpreter, runs: int) -> float:
    script = work / "snapstart.py"
    script.write_text(SNAPSTART_SCRIPT)
    event = work / "event.json"
    event.write_text(json.dumps(EVENT))
    env = {"LIVEML_MODEL_DIR": str(model_dir), "AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start"}
    resumes = [
        float(json.loads(launcher.run(script, event, env).strip().splitlines()[-1])["resume_ms"])
        for _ in range(runs)
    ]
    return statistics.median(resumes)


#: The predict handler, but every session opened at init: the baseline of lazy loading.
EAGER_HANDLER = """
from liveml.serving import build_runtime
runtime = build_runtime(metrics_interval_s=0, eager=True)
def handler(event, context):
    return runtime.invoke(event, context)
"""


def many_models(model_dir: Path, work: Path, n: int) -> str:
    """A binding document of ``n`` models (copies of one model directory under their own names)."""
    models = []
    for i in range(n):
        target = work / f"m{i}"
        if not target.exists():
            shutil.copytree(model_dir, target)
        models.append({"model": f"m{i}", "variants": [{"version": "1", "uri": str(target)}]})
    return json.dumps({"models": models, "default_model": "m0"})


def model_event(model: str) -> dict[str, Any]:
    path = f"/models/{model}/predict"
    return {**EVENT, "path": path, "resource": "/{proxy+}", "pathParameters": {"proxy": path[1:]}}


def cold_split_figures(
    work: Path, launcher: Interpreter, env: dict[str, str], runs: int, handler: Path | None = None
) -> tuple[float, float]:
    """Median (init ms, first request ms) over fresh processes."""
    script = work / "cold_split.py"
    script.write_text(COLD_SPLIT_SCRIPT)
    event = work / "event_m0.json"
    event.write_text(json.dumps(model_event("m0")))
    inits, firsts = [], []
    for _ in range(runs):
        timing = json.loads(launcher.run(script, event, env, handler).strip().splitlines()[-1])
        inits.append(timing["init_ms"])
        firsts.append(timing["first_ms"])
    return statistics.median(inits), statistics.median(firsts)


def many_model_figures(
    model_dir: Path, work: Path, n: int, launcher: Interpreter, runs: int
) -> dict[str, float]:
    one, five = many_models(model_dir, work, 1), many_models(model_dir, work, 5)
    eager = work / "eager_handler.py"
    eager.write_text(EAGER_HANDLER)
    out: dict[str, float] = {}
    for label, binding, handler, prefix in (
        ("1_model", one, None, ""),
        ("5_models", five, None, ""),
        ("5_models", five, eager, "eager_"),
    ):
        env = {"LIVEML_MODEL_BINDING": binding, "LIVEML_MODEL_DIR": ""}
        init, first = cold_split_figures(work, launcher, env, runs, handler)
        out[f"{prefix}cold_init_ms_{label}"] = init
        out[f"{prefix}first_request_ms_after_cold_{label}"] = first
    from mangum import Mangum

    from liveml.binding import Binding
    from liveml.serving import ServingSettings, create_app, load_models

    event = model_event("m0")
    for label, binding in (("1_model", one), ("5_models", five)):
        app = create_app(load_models(Binding.from_json(binding)), ServingSettings())
        asgi: Any = Mangum(app, lifespan="off")
        with quiet():
            assert asgi(event, Context())["statusCode"] == 200
            times = time_calls(partial(asgi, event, Context()), n)
        out[f"warm_us_median_{label}"] = statistics.median(times)
    out["warm_ratio_5_vs_1"] = out["warm_us_median_5_models"] / out["warm_us_median_1_model"]
    return out


def mangum_app(model_dir: Path, **settings: Any) -> tuple[Any, Any]:
    from mangum import Mangum

    from liveml.binding import ModelBinding
    from liveml.serving import ServingSettings, create_app, load_models

    models = load_models(ModelBinding.from_dir(model_dir))
    capture = settings.pop("capture", None)
    app = create_app(models, ServingSettings(**settings), capture=capture)
    return Mangum(app, lifespan="off"), app


def batch_figure(model_dir: Path) -> float:
    handler, _ = mangum_app(model_dir, max_batch_rows=10_000, max_body_bytes=64 * 1024 * 1024)
    features = json.loads(EVENT["body"])["features"]
    rows = [{"player_id": f"p{i}", "features": features} for i in range(10_000)]
    event = {
        **EVENT,
        "path": "/predict/batch",
        "resource": "/predict/batch",
        "body": json.dumps({"rows": rows}),
    }
    times = []
    with quiet():
        for _ in range(3):
            t0 = time.perf_counter()
            response = handler(event, Context())
            times.append((time.perf_counter() - t0) * 1000)
            assert response["statusCode"] == 200, response["body"][:300]
    return statistics.median(times)


def capture_figure(model_dir: Path, n: int) -> dict[str, float]:
    from liveml.serving import PredictionCapture

    class SlowSink:  # an S3 PUT takes ~20 ms; it happens in the background thread
        files = 0

        def put(self, key: str, body: bytes) -> None:
            time.sleep(0.02)
            self.files += 1

    sink = SlowSink()
    plain, _ = mangum_app(model_dir)
    cap = PredictionCapture(sink, model="churn", sample_rate=1.0, max_age_s=1.0, max_records=1000)
    captured, _ = mangum_app(model_dir, capture=cap)
    off: list[float] = []
    on: list[float] = []
    with quiet():
        for _ in range(200):
            plain(EVENT, Context())
            captured(EVENT, Context())
        # Alternate blocks, so that both see the same machine noise.
        for _ in range(max(1, n // 500)):
            off += time_calls(lambda: plain(EVENT, Context()), 500, warmup=0)

            def with_capture() -> None:
                captured(EVENT, Context())
                cap.after_invocation()  # what the Lambda handler does before returning

            on += time_calls(with_capture, 500, warmup=0)
        cap.close()
    return {
        "capture_p99_overhead_ms": (pct(on, 0.99) - pct(off, 0.99)) / 1000,
        "capture_median_overhead_us": statistics.median(on) - statistics.median(off),
        "capture_records": float(cap.stats.flushed),
        "capture_files": float(sink.files),
    }


def load(url: str, body: bytes, seconds: float, concurrency: int = 8) -> tuple[float, float]:
    """(requests per second, p99 ms) of POSTs of ``body`` for ``seconds``."""
    hey = shutil.which("hey")
    if hey:
        with tempfile.NamedTemporaryFile(suffix=".json") as f:
            f.write(body)
            f.flush()
            out = subprocess.run(
                [
                    hey,
                    "-z",
                    f"{seconds}s",
                    "-c",
                    str(concurrency),
                    "-m",
                    "POST",
                    "-T",
                    "application/json",
                    "-D",
                    f.name,
                    url,
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        codes = re.findall(r"\[(\d{3})\]\s+(\d+) responses", out)
        if any(code != "200" for code, _ in codes):
            raise RuntimeError(f"non-200 answers under load: {codes}")
        rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
        # Under 100 answers hey prints no 99th percentile: the slowest answer is the p99 then.
        p99 = re.search(r"99% in ([\d.]+) secs", out) or re.search(r"Slowest:\s+([\d.]+) secs", out)
        if rps is None or p99 is None:
            raise RuntimeError(f"no figures from hey: {out[-500:]!r}")
        return float(rps.group(1)), float(p99.group(1)) * 1000
    return asyncio.run(_httpx_load(url, body, seconds, concurrency))


async def _httpx_load(url: str, body: bytes, seconds: float, concurrency: int) -> tuple[float, float]:
    import httpx

    latencies: list[float] = []
    stop = time.perf_counter() + seconds
    async with httpx.AsyncClient(headers={"content-type": "application/json"}) as client:

        async def worker() -> None:
            while time.perf_counter() < stop:
                t0 = time.perf_counter()
                r = await client.post(url, content=body)
                latencies.append((time.perf_counter() - t0) * 1000)
                r.raise_for_status()

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - t0
    return len(latencies) / elapsed, pct(latencies, 0.99)


#: Seconds of the same load before each server is measured (ours and the peers alike): connections
#: open, code paths warm, allocators settled.
WARMUP_S = 1.0


def http_figures(model_dir: Path, seconds: float) -> dict[str, float]:
    dockerfile = (ROOT / "eks" / "Dockerfile").read_text()
    command: list[str] = json.loads(next(ln[4:] for ln in dockerfile.splitlines() if ln.startswith("CMD ")))
    port = free_port()
    command[command.index("--host") + 1] = "127.0.0.1"
    command[command.index("--port") + 1] = str(port)
    env = {
        **os.environ,
        "LIVEML_MODEL_DIR": str(model_dir),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    url, body = f"http://127.0.0.1:{port}/predict", EVENT["body"].encode()
    with running(command, env, ROOT, f"http://127.0.0.1:{port}/health"):
        load(url, body, WARMUP_S)  # the warm-up every peer gets too
        rps, p99 = load(url, body, seconds)
    return {"http_rps": rps, "http_p99_ms": p99}


def peer_figures(
    peer: str,
    command: list[str],
    env: dict[str, str],
    cwd: Path,
    urls: tuple[str, str],
    body: bytes,
    seconds: float,
) -> dict[str, float] | str:
    """``<peer>_http_rps`` and ``<peer>_http_p99_ms`` of a peer server under the load ours gets (after the
    same warm-up), or why it was skipped. Its process tree is stopped however this ends."""
    import httpx

    ready_url, url = urls
    try:
        with running(command, env, cwd, ready_url):
            probe = httpx.post(url, content=body, headers={"content-type": "application/json"}, timeout=10)
            if probe.status_code != 200:
                return f"skipped: {peer} answered {probe.status_code}: {probe.text[:200]}"
            load(url, body, WARMUP_S)
            rps, p99 = load(url, body, seconds)
    except RuntimeError as exc:
        return f"skipped: {exc}"
    return {f"{peer}_http_rps": rps, f"{peer}_http_p99_ms": p99}


def peer_env(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT / "layers" / "liveml"),  # the pipeline's own transformers
        # One thread, as ONNX Runtime has: OpenMP spinning on a shared machine would only slow it.
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        **extra,
    }


def mlserver_figures(peer_python: str, work: Path, baseline: Path, seconds: float) -> dict[str, float] | str:
    mlserver = Path(peer_python).parent / "mlserver"
    if not mlserver.exists():
        return f"skipped: no mlserver beside {peer_python} (run `make peers`)"
    from liveml.data.synth import player_contract

    contract = player_contract("binary")
    served = work / "mlserver"
    served.mkdir(exist_ok=True)
    port = free_port()
    # parallel_workers 0: on Python 3.12 MLServer 1.7 only starts that way (or with uvloop 0.21).
    (served / "settings.json").write_text(
        json.dumps(
            {"http_port": port, "grpc_port": free_port(), "metrics_port": free_port(), "parallel_workers": 0}
        )
    )
    (served / "model-settings.json").write_text(
        json.dumps(
            {
                "name": "churn",
                "implementation": "mlserver_sklearn.SKLearnModel",
                "parameters": {"uri": str(baseline)},
            }
        )
    )
    features = json.loads(EVENT["body"])["features"]
    inputs = []
    for col in contract.features:
        value = features.get(col.name)
        numeric = col.type.value in ("numeric", "integer", "boolean")
        inputs.append(
            {
                "name": col.name,
                "shape": [1],
                "datatype": "FP64" if numeric else "BYTES",
                "data": [value if value is not None else (float("nan") if numeric else "")],
            }
        )
    body = json.dumps(
        {"parameters": {"content_type": "pd"}, "inputs": inputs, "outputs": [{"name": "predict_proba"}]}
    ).encode()
    base = f"http://127.0.0.1:{port}"
    command = [str(mlserver), "start", str(served)]
    urls = (f"{base}/v2/health/ready", f"{base}/v2/models/churn/infer")
    return peer_figures("mlserver", command, peer_env(), served, urls, body, seconds)


#: BentoML's service: the same fitted pipeline, and our request body as its natural JSON (an API's
#: parameters are the body's fields). Configured as ours runs: one worker, one thread (scikit-learn
#: and BLAS too), no access log; BentoML traces nothing unless an exporter is configured.
BENTOML_SERVICE = """
from __future__ import annotations
from typing import Any
import bentoml, joblib, numpy as np, pandas as pd
from threadpoolctl import threadpool_limits

threadpool_limits(limits=1)

@bentoml.service(workers=1, threads=1, logging={{"access": {{"enabled": False}}}})
class Churn:
    def __init__(self) -> None:
        self.model = joblib.load({path!r})
        self.classes = [str(c) for c in {classes!r}]

    @bentoml.api
    def predict(self, player_id: str, features: dict[str, Any]) -> dict[str, Any]:
        proba = self.model.predict_proba(pd.DataFrame([features]))[0]
        return {{"player_id": player_id, "prediction": self.classes[int(np.argmax(proba))],
                "probabilities": dict(zip(self.classes, map(float, proba)))}}
"""


def bentoml_figures(
    pythons: list[str], work: Path, baseline: Path, classes: list[str], seconds: float
) -> dict[str, float] | str:
    """BentoML from the first of ``pythons`` that has it (its own venv; an older `make peers` put it
    beside MLServer)."""
    found = [Path(p).parent / "bentoml" for p in pythons if (Path(p).parent / "bentoml").exists()]
    if not found:
        return f"skipped: no bentoml beside {' or '.join(pythons)} (run `make peers`)"
    bentoml = found[0]
    served = work / "bentoml"
    served.mkdir(exist_ok=True)
    (served / "service.py").write_text(BENTOML_SERVICE.format(path=str(baseline), classes=classes))
    port = free_port()
    command = [str(bentoml), "serve", "service:Churn", "--working-dir", str(served)]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    # Its store and logs under the run's temporary folder, not the user's home; no usage reports.
    env = peer_env(BENTOML_HOME=str(served / "home"), BENTOML_DO_NOT_TRACK="true")
    base = f"http://127.0.0.1:{port}"
    body = EVENT["body"].encode()
    return peer_figures("bentoml", command, env, served, (f"{base}/readyz", f"{base}/predict"), body, seconds)


def sam_size() -> float | str:
    build = ROOT / ".aws-sam" / "build"
    fn = build / "PredictFunction"
    if not fn.exists():
        return "pending (run `sam build`; the lead's template builds PredictFunction and its layers)"
    total = 0
    for d in [fn, *[p for p in build.iterdir() if p.is_dir() and "Layer" in p.name]]:
        total += sum(f.stat().st_size for f in d.rglob("*") if f.is_file())
    return total / 1e6


def unwind(signum: int, _frame: Any) -> None:
    """A SIGTERM unwinds like Ctrl-C, so every server started here is stopped on the way out."""
    raise SystemExit(128 + signum)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=3000, help="timed calls per in-process figure")
    parser.add_argument("--http-seconds", type=float, default=10.0)
    parser.add_argument(
        "--peer-python",
        default=str(ROOT / ".venv-peers" / "bin" / "python"),
        help="interpreter of MLServer's venv (`make peers`: mlserver + mlserver-sklearn)",
    )
    parser.add_argument(
        "--bentoml-python",
        default=str(ROOT / ".venv-peers-bentoml" / "bin" / "python"),
        help="interpreter of BentoML's venv (`make peers`)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--cold-runs", type=int, default=7, help="fresh processes per cold figure (median)")
    parser.add_argument(
        "--package",
        type=Path,
        help="a `sam build` output to measure cold (default: built here by the Makefiles)",
    )
    parser.add_argument(
        "--against", type=Path, help="another `sam build` output (an older one, say): cold_init_ms_against"
    )
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, unwind)

    figures: dict[str, Any] = {}

    def show(name: str, value: Any) -> None:
        figures[name] = value
        text = f"{value:.3f}" if isinstance(value, float) else str(value)
        print(f"{name} {text}", flush=True)

    with tempfile.TemporaryDirectory(prefix="liveml-bench-") as tmp:
        work = Path(tmp)
        with quiet():
            model_dir, baseline, classes = prepare(work)
        for name, value in onnx_figures(model_dir, args.requests).items():
            show(name, value)
        ours = handler_figures(model_dir, args.requests)
        for name, value in ours.items():
            show(name, value)
        base = baseline_figures(work, baseline, classes, max(300, args.requests // 5))
        for name, value in base.items():
            show(name, value)
        show("speedup_vs_baseline", base["baseline_warm_us_median"] / ours["handler_warm_us_median"])
        # The handler beside the model alone (ONNX Runtime with the pre-graph step): the plumbing's cost.
        handler_vs_row = ours["handler_warm_us_median"] / figures["onnx_predict_row_us_median"]
        show("handler_vs_onnx_row_ratio", handler_vs_row)
        # Cold starts: the function as it ships (the headline), beside the dev venv and --against.
        package = shipped(work, args.package)
        launchers = [package, DEV_VENV, *([shipped(work, args.against)] if args.against else [])]
        runs, model_env = args.cold_runs, {"LIVEML_MODEL_DIR": str(model_dir)}
        show("load_1min_at_cold", os.getloadavg()[0])
        colds = cold_figures(work, launchers, model_env, runs)
        for suffix, (wall, cpu) in zip(("", "_dev_venv", "_against"), colds, strict=False):
            show(f"cold_init_ms{suffix}", wall)
            show(f"cold_init_cpu_ms{suffix}", cpu)
        baseline_app = Interpreter([sys.executable], [], work / "baseline_app.py")
        show("baseline_cold_init_ms", cold_figures(work, [baseline_app], {}, runs)[0][0])
        show("snapstart_resume_ms_estimate", snapstart_figure(work, model_dir, package, runs))
        for name, value in many_model_figures(model_dir, work, args.requests, package, runs).items():
            show(name, value)
        show("load_1min_after_cold", os.getloadavg()[0])
        show("batch_10k_ms", batch_figure(model_dir))
        # p99 of a difference needs many samples: at least 6,000 per side.
        for name, value in capture_figure(model_dir, max(6000, 2 * args.requests)).items():
            show(name, value)
        for name, value in http_figures(model_dir, args.http_seconds).items():
            show(name, value)
        peer_runs = {
            "mlserver": partial(mlserver_figures, args.peer_python, work, baseline, args.http_seconds),
            "bentoml": partial(
                bentoml_figures,
                [args.bentoml_python, args.peer_python],
                work,
                baseline,
                classes,
                args.http_seconds,
            ),
        }
        for peer, figures_of in peer_runs.items():
            peers = figures_of()
            if isinstance(peers, str):
                show(f"{peer}_http_rps", peers)
                continue
            for name, value in peers.items():
                show(name, value)
            show(f"http_rps_vs_{peer}", figures["http_rps"] / peers[f"{peer}_http_rps"])
        show("predict_function_unzipped_mb", sam_size())
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
