"""``liveml advise deploy|model``: serving and alerting config from an SLA; which version to ship."""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from liveml.cli._stack import AWS_OPTION, STACK_OPTION, connect, model_dir_option
from liveml.errors import LiveMLError
from liveml.registry import ModelVersion, Registry

if TYPE_CHECKING:
    from liveml.advise.llm import Advice, Explanation

app = typer.Typer(
    help="The ops assistant: deployment and alerting config from an SLA, and model choices explained.",
    no_args_is_help=True,
)
console = Console()
LLM_MODEL_OPTION = typer.Option(
    None, "--llm-model", help="Bedrock model id (default: LIVEML_ADVISE_BEDROCK_MODEL)"
)


def _progress() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console)


@app.command()
def deploy(
    model: str = typer.Option(..., "--model", help="model name, e.g. churn"),
    sla_path: Path = typer.Option(..., "--sla", help="the SLA spec (sla.yaml)"),
    version: int | None = typer.Option(None, help="version to plan for (default: production, else newest)"),
    out: Path = typer.Option(Path("advise"), "--out", help="directory for every output"),
    model_dir: Path | None = model_dir_option("no registry or stack needed; give --version"),
    measurement_path: Path | None = typer.Option(
        None,
        "--measurement",
        exists=True,
        dir_okay=False,
        help="a saved measurement.json (or `liveml eks render`'s sizing.json): the same plan again",
    ),
    requests: int = typer.Option(500, min=50, help="timed requests when measuring"),
    llm: str | None = typer.Option(None, "--llm", help="bedrock: let an LLM explain the plan"),
    llm_model: str | None = LLM_MODEL_OPTION,
    aws: bool = AWS_OPTION,
    stack_name: str = STACK_OPTION,
) -> None:
    """Lambda settings, EKS sizing, CloudWatch alarms, Prometheus rules and a Grafana dashboard from
    an SLA and the model's measured latency and memory; each output validated."""
    from liveml.advise import Sla, advise_deploy
    from liveml.advise.artifacts import fetch_version
    from liveml.advise.measured import load_measurement, measure_model
    from liveml.config import Settings

    _check_llm(llm)
    sla = Sla.load(sla_path)  # a bad spec fails before anything is fetched
    if model_dir is not None:
        if version is None:
            raise LiveMLError("--model-dir needs --version: a local directory does not know its version")
        version_no, metrics = version, _manifest_metrics(model_dir)
    else:
        connect(aws, stack_name)
        chosen = _version(Registry(), model, version)
        version_no, metrics = chosen.version, chosen.metrics
    with _progress() as progress, tempfile.TemporaryDirectory(prefix="liveml-advise-") as tmp:
        if measurement_path is not None:
            measured = load_measurement(measurement_path)
        else:
            task = progress.add_task(f"fetching {model} v{version_no}", total=None)
            local = model_dir or fetch_version(chosen, Path(tmp))
            progress.update(task, description=f"measuring {requests} requests through the serving app")
            measured = measure_model(local, requests=requests)
            progress.remove_task(task)
        task = progress.add_task("planning and validating every output", total=None)
        advice = advise_deploy(
            sla,
            measured,
            model=model,
            version=version_no,
            metrics=metrics,
            out=out,
            region=Settings().region,
        )
        progress.remove_task(task)
    console.print(escape(advice.summary), highlight=False)
    console.print(f"wrote {len(advice.written)} files under {out}/")
    if llm:
        _explain(advice.plan, llm_model, out / "explanation.json")
    if not advice.passed:
        failed = [c.output for c in advice.checks if not c.passed]
        raise LiveMLError(f"outputs refused by their validators: {', '.join(failed)} (see {out}/summary.md)")


def _manifest_metrics(model_dir: Path) -> dict[str, float]:
    """The holdout metrics a local model directory's manifest records (what registration would copy)."""
    from liveml.inference import ArtifactError, read_manifest

    try:
        manifest = read_manifest(model_dir)
    except ArtifactError as exc:
        raise LiveMLError(str(exc)) from None
    return {k: float(v) for k, v in (manifest.get("metrics") or {}).items() if isinstance(v, int | float)}


def _check_llm(llm: str | None) -> None:
    if llm not in (None, "bedrock"):
        raise LiveMLError(f"--llm must be bedrock, got {llm!r}")


def _explanation_dict(explanation: Explanation) -> dict[str, Any]:
    return {**asdict(explanation), "proposals": [p.model_dump() for p in explanation.proposals]}


def _explain(advice: Advice, model_id: str | None, out: Path | None) -> Explanation:
    """The LLM's explanation when it held to the facts; otherwise why it was not used."""
    from liveml.advise.llm import explain

    explanation = explain(advice, model_id=model_id)
    if explanation.source == "llm":
        console.print(f"\n[bold]In words ({explanation.model_id}):[/]")
        console.print(escape(explanation.text), highlight=False)
        for p in explanation.proposals:
            console.print(f"- proposes {p.kind} {p.field} = {p.value:g}: {escape(p.why)}", highlight=False)
    else:
        console.print("\n[yellow]The LLM's answer was not used (the deterministic reasons stand):[/]")
        for m in explanation.mismatches:
            console.print(f"- {escape(m)}", highlight=False)
    if out is not None:
        out.write_text(json.dumps(_explanation_dict(explanation), indent=2) + "\n", encoding="utf-8")
    return explanation


def _version(registry: Registry, model: str, version: int | None) -> ModelVersion:
    if version is not None:
        return registry.get(model, version)
    found = registry.production(model)
    if found is None:
        versions = registry.versions(model)
        if not versions:
            raise LiveMLError(f"model {model!r} has no registered versions")
        found = max(versions, key=lambda v: v.version)
    return found


@app.command("model")
def model_cmd(
    model: str = typer.Option(..., "--model", help="model name, e.g. churn"),
    versions: str | None = typer.Option(
        None, help="versions to compare, e.g. 3,4,5 (default: every version not rejected or archived)"
    ),
    segment: list[str] = typer.Option(
        [], "--segment", help="a feature column whose groups must be served fairly (repeat it)"
    ),
    tolerance: float = typer.Option(0.005, help="primary-metric difference players cannot tell apart"),
    out: Path | None = typer.Option(None, "--out", help="write the comparison as JSON here"),
    report: Path | None = typer.Option(None, "--report", help="write an HTML report with plots here"),
    llm: str | None = typer.Option(None, "--llm", help="bedrock: let an LLM word the explanation"),
    llm_model: str | None = LLM_MODEL_OPTION,
    aws: bool = AWS_OPTION,
    stack_name: str = STACK_OPTION,
) -> None:
    """Compare the candidate versions on one holdout and recommend one, with reasons."""
    from liveml.advise import candidates_of, compare
    from liveml.advise.artifacts import fetch_version

    _check_llm(llm)
    try:
        chosen = [int(v) for v in versions.split(",")] if versions else None
    except ValueError:
        raise LiveMLError(f"--versions must be numbers separated by commas, got {versions!r}") from None
    connect(aws, stack_name)
    registry = Registry()
    candidates = candidates_of(registry.versions(model), chosen)
    if not candidates:
        raise LiveMLError(f"model {model!r} has no candidate versions (none registered, or all rejected)")
    production = registry.production(model)
    with _progress() as progress, tempfile.TemporaryDirectory(prefix="liveml-advise-") as tmp:
        task = progress.add_task("fetching", total=None)
        pairs = []
        for v in candidates:
            progress.update(task, description=f"fetching v{v.version}")
            pairs.append((v, fetch_version(v, Path(tmp))))
        progress.update(task, description=f"scoring {len(pairs)} versions on one holdout")
        advice = compare(
            model,
            pairs,
            production=production.version if production else None,
            segments=segment or None,
            tolerance=tolerance,
        )
        progress.remove_task(task)
    table = Table(
        title=f"{model}: candidates on v{advice.holdout_version}'s holdout ({advice.holdout_rows} rows)"
    )
    for column in (
        "version",
        "family",
        "stage",
        advice.primary_metric,
        "calibration",
        "segment gap",
        "latency µs",
        "onnx",
        "on device",
    ):
        table.add_column(column)
    for c in advice.candidates:
        if c.excluded:
            table.add_row(str(c.version), c.family, c.stage, f"excluded: {c.excluded}")
            continue
        table.add_row(
            f"[bold]{c.version}[/]" if c.version == advice.recommended else str(c.version),
            c.family,
            c.stage,
            f"{c.metrics.get(advice.primary_metric, float('nan')):.4f}",
            "-" if c.calibration_error is None else f"{c.calibration_error:.4f}",
            "-" if c.segment_gap is None else f"{c.segment_gap:.4f}",
            f"{c.latency_us:.0f}" if c.latency_us is not None else "-",
            f"{c.onnx_bytes / 1e3:.0f} KB",
            "yes" if c.on_device else "no",
        )
    console.print(table)
    console.print(f"[bold]Recommended: v{advice.recommended}[/]")
    for reason in advice.reasons:
        console.print(f"- {escape(reason)}", highlight=False)
    explanation = _explain(advice, llm_model, None) if llm else None
    if report is not None:
        from liveml.advise.report import write

        console.print(f"wrote {write(advice, report)}")
    if out is not None:
        data = {**asdict(advice), "facts": advice.facts()}
        if explanation is not None:
            data["explanation"] = _explanation_dict(explanation)
        out.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        console.print(f"wrote {out}")
