"""``liveml eks``: render sized Kubernetes manifests for a model version, and switch blue/green."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import typer

from liveml.config import Settings
from liveml.errors import LiveMLError
from liveml.modeldir import MANIFEST, sha256_hex

app = typer.Typer(
    help="The serving app on EKS: sized manifests and blue/green switching.", no_args_is_help=True
)


@app.command()
def render(
    model: str = typer.Option(..., help="model name, e.g. churn"),
    version: str = typer.Option(..., help="model version to serve"),
    qps: float = typer.Option(..., help="expected requests per second at peak"),
    out: Path = typer.Option(Path("eks/rendered"), help="directory to write the kustomize tree to"),
    model_dir: Path = typer.Option(
        ..., exists=True, file_okay=False, help="local copy of the model (measured)"
    ),
    uri: str | None = typer.Option(None, help="s3:// prefix of the model directory the pods load"),
    binding: str | None = typer.Option(
        None,
        help="serve this binding document instead (s3://…/bindings/<sha256>.json, e.g. what a Lambda "
        "version pins), so the pods serve exactly what the function serves",
    ),
    slot: str = typer.Option("blue", help="blue or green: the slot this version goes to"),
    image: str = typer.Option("liveml-predict:latest", help="container image built from eks/Dockerfile"),
    role_arn: str = typer.Option(
        "arn:aws:iam::123456789012:role/liveml-predict", help="IAM role (IRSA) allowed to read the model"
    ),
    namespace: str = typer.Option("liveml"),
    requests: int = typer.Option(500, help="timed requests in the measurement"),
) -> None:
    """Measure the model (latency, memory) and write manifests sized for QPS."""
    from liveml.binding import Binding, BoundVariant, ModelBinding
    from liveml.eks import measure, size, write_tree

    if slot not in ("blue", "green"):
        raise LiveMLError(f"--slot must be blue or green, got {slot!r}")
    settings = Settings()
    if uri is None:
        bucket = settings.artifacts_bucket or "liveml-artifacts"
        uri = f"s3://{bucket}/models/{model}/{version}/"
    # The pods verify the manifest they download against this hash: the one measured here.
    manifest_sha = sha256_hex((model_dir / MANIFEST).read_bytes())
    document = Binding.one(
        ModelBinding(model=model, variants=[BoundVariant(version=version, uri=uri, sha256=manifest_sha)])
    )
    binding_value = binding or document.canonical().decode()
    try:
        measured = measure(model_dir, requests=requests)
    except RuntimeError as exc:
        raise LiveMLError(str(exc)) from None
    sizing = size(measured, qps)
    write_tree(
        out,
        sizing,
        slot=slot,
        binding_json=binding_value,
        image=image,
        role_arn=role_arn,
        namespace=namespace,
        region=settings.region,
        measurement=measured,
    )
    typer.echo(
        f"measured {measured.cpu_ms_per_request:.3f} ms/request (p99 {measured.p99_ms:.3f}), "
        f"{measured.rss_mb:.0f} MB resident → {sizing.replicas} replicas "
        f"(HPA {sizing.hpa_min}-{sizing.hpa_max} at {sizing.hpa_cpu_target_percent}% CPU), "
        f"cpu {sizing.cpu_request_m}m/{sizing.cpu_limit_m}m, memory {sizing.memory_request_mi}/"
        f"{sizing.memory_limit_mi}Mi, ~{sizing.rps_per_pod:.0f} req/s per pod"
    )
    typer.echo(f"wrote {out}/ (kubectl apply -k {out}/overlays/{slot}; kubectl apply -k {out}/live)")


@app.command()
def switch(
    slot: str = typer.Argument(..., help="blue or green"),
    namespace: str = typer.Option("liveml"),
    service: str = typer.Option("liveml-predict", help="the live Service"),
    apply: bool = typer.Option(False, "--apply", help="run kubectl instead of printing the command"),
) -> None:
    """Point the live Service at a slot: print the selector patch, or apply it with kubectl."""
    from liveml.eks import selector_patch

    try:
        patch = json.dumps(selector_patch(slot), separators=(",", ":"))
    except ValueError as exc:
        raise LiveMLError(str(exc)) from None
    command = ["kubectl", "-n", namespace, "patch", "service", service, "--type", "merge", "-p", patch]
    if not apply:
        typer.echo(patch)
        typer.echo(" ".join(command[:-1]) + f" '{patch}'")
        return
    if shutil.which("kubectl") is None:
        raise LiveMLError("kubectl is not on the PATH")
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise LiveMLError(f"kubectl patch failed: {done.stderr.strip()}")
    typer.echo(done.stdout.strip() or f"service/{service} now selects slot {slot}")
