"""The serving path stays light: no scikit-learn, scipy, optuna or pandas (Lambda size, cold start)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HEAVY = ("sklearn", "scipy", "optuna", "pandas", "skl2onnx", "joblib", "pickle5")
ROOT = Path(__file__).resolve().parents[3]

PROBE = """
import json, sys, runpy
{body}
print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {heavy})))
"""


def _heavy_modules_after(body: str, env: dict[str, str]) -> list[str]:
    code = PROBE.format(body=body, heavy=repr(set(HEAVY)))
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=True,
        cwd=ROOT,
    )
    result: list[str] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_importing_liveml_serving_imports_nothing_heavy() -> None:
    assert _heavy_modules_after("import liveml.serving", {}) == []


def test_the_predict_handler_with_a_loaded_model_imports_nothing_heavy(model_dir: Path) -> None:
    body = f"runpy.run_path({str(ROOT / 'functions/predict/app.py')!r})"
    assert _heavy_modules_after(body, {"LIVEML_MODEL_DIR": str(model_dir)}) == []


def _web_modules_after(module: str) -> list[str]:
    web = ("fastapi", "starlette", "mangum")
    loaded = f"sorted(m for m in sys.modules if m.split('.')[0] in {web})"
    code = f"import sys, json, {module}; print(json.dumps({loaded}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    result: list[str] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_the_binding_experiments_rollout_and_serving_packages_load_no_web_framework() -> None:
    # Rollouts and the A/B statistics read the binding and the sticky assignment; none needs FastAPI,
    # and liveml.serving only loads it when the app is asked for.
    for module in ("liveml.binding", "liveml.experiments", "liveml.rollout", "liveml.serving"):
        assert _web_modules_after(module) == [], module


def test_a_cold_start_that_only_predicts_never_loads_the_web_framework(model_dir: Path) -> None:
    # The Lambda fast path answers a valid one-row prediction; FastAPI (about half of the handler's
    # import time) loads with the first request that needs the full app, here a 422.
    events = ROOT / "tests" / "events"
    code = f"""
import json, runpy, sys, io, contextlib, types
ctx = types.SimpleNamespace(function_name="f", memory_limit_in_mb=1024, invoked_function_arn="arn",
    aws_request_id="r", function_version="1", log_group_name="g", log_stream_name="s")
with contextlib.redirect_stdout(io.StringIO()):
    fn = runpy.run_path({str(ROOT / "functions/predict/app.py")!r})
    good = fn["handler"](json.load(open({str(events / "apigw_predict.json")!r})), ctx)
before = sorted(m for m in sys.modules if m.split(".")[0] in ("fastapi", "starlette", "mangum"))
with contextlib.redirect_stdout(io.StringIO()):
    bad = fn["handler"](json.load(open({str(events / "apigw_predict_bad_range.json")!r})), ctx)
print(json.dumps([good["statusCode"], before, bad["statusCode"], "fastapi" in sys.modules]))
"""
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "LIVEML_MODEL_DIR": str(model_dir)},
        check=True,
        cwd=ROOT,
    )
    good, before, bad, loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert (good, before) == (200, [])
    assert (bad, loaded) == (422, True)


def _without_plugin_setting() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}


PLUGINS_PROBE = """
import json, sys
from pydantic import BaseModel
class Row(BaseModel):
    x: int
print(json.dumps(["importlib.metadata" in sys.modules, Row.model_validate({"x": "3"}).x]))
"""


def test_with_every_pydantic_plugin_disabled_the_plugin_lookup_is_never_imported(model_dir: Path) -> None:
    # The predict function sets PYDANTIC_DISABLE_PLUGINS: its cold start must not pay for importing
    # importlib.metadata, which pydantic's plugin loader imports even when told to load no plugin.
    off = {"PYDANTIC_DISABLE_PLUGINS": "__all__"}
    body = f"runpy.run_path({str(ROOT / 'functions/predict/app.py')!r})"
    code = (
        PROBE.format(body=body, heavy=repr(set(HEAVY)))
        + "print(json.dumps('importlib.metadata' in sys.modules))"
    )
    for env, imported in ((off, False), ({}, True)):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT,
            env={**_without_plugin_setting(), "LIVEML_MODEL_DIR": str(model_dir), **env},
        )  # fmt: skip
        assert json.loads(out.stdout.strip().splitlines()[-1]) is imported, env


def test_pydantic_validates_the_same_with_or_without_the_plugin_lookup() -> None:
    for env in ({"PYDANTIC_DISABLE_PLUGINS": "__all__"}, {}):
        code = "import liveml\n" + PLUGINS_PROBE
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT,
            env={**_without_plugin_setting(), **env},
        )  # fmt: skip
        metadata_imported, x = json.loads(out.stdout.strip().splitlines()[-1])
        assert x == 3
        assert metadata_imported is not bool(env), env
