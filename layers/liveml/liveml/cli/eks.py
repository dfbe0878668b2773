"""``liveml eks``: render sized Kubernetes manifests for a model version, and switch blue/green."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import typer

from liveml.cli._stack import AWS_OPTION, STACK_OPTION, connect, model_dir_option
from liveml.config import Settings
from liveml.errors import LiveMLError
from liveml.modeldir import MANIFEST, sha256_hex

app = typer.Typer(
    help="The serving app on EKS: sized manifests and blue/green switching.", no_args_is_help=True
)


@app.command()
def render(
    model: str = typer.Option(..., help="registered model name, e.g. churn"),
    version: int = typer.Option(..., help="registered version to serve"),
    qps: float = typer.Option(..., help="expected requests per second at peak"),
    image: str = typer.Option(
        ...,
        envvar="LIVEML_EKS_IMAGE",
        help="the image built from eks/Dockerfile, pinned by digest: <repository>@sha256:<64 hex>",
    ),
    out: Path = typer.Option(Path("eks/rendered"), help="directory to write the kustomize tree to"),
    model_dir: Path | None = model_dir_option(
        "the version to measure (its manifest must be the registered one); fetched from the registry's "
        "artifacts when absent"
    ),
    binding: str | None = typer.Option(
        None,
        help="serve this binding document instead (s3://…/bindings/<sha256>.json, e.g. what a Lambda "
        "version pins), so the pods serve exactly what the function serves",
    ),
    slot: str = typer.Option("blue", help="blue or green: the slot this version goes to"),
    role_arn: str = typer.Option(
        "arn:aws:iam::123456789012:role/liveml-predict",
        envvar="LIVEML_EKS_ROLE_ARN",
        help="IAM role (IRSA) allowed to read the model",
    ),
    oidc_provider: str = typer.Option(
        "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE",
        envvar="LIVEML_EKS_OIDC_PROVIDER",
        help="the cluster's OIDC issuer (aws eks describe-cluster --query cluster.identity.oidc.issuer)",
    ),
    namespace: str = typer.Option("liveml"),
    requests: int = typer.Option(500, help="timed requests in the measurement"),
    aws: bool = AWS_OPTION,
    stack_name: str = STACK_OPTION,
) -> None:
    """Bind a registered version, measure it (latency, memory) and write manifests sized for QPS."""
    from liveml.advise.artifacts import fetch_version
    from liveml.binding import Binding
    from liveml.binding.build import single_binding
    from liveml.eks import irsa_trust_policy, measure, pinned_image, size, write_tree
    from liveml.registry import Registry

    if slot not in ("blue", "green"):
        raise LiveMLError(f"--slot must be blue or green, got {slot!r}")
    # Refused before anything is fetched or measured.
    pinned_image(image)
    irsa_trust_policy(role_arn, oidc_provider, namespace)
    connect(aws, stack_name)
    registered = Registry().get(model, version)
    # The pods verify the manifest they download against the registry's hash, not a local file's.
    bound = single_binding(registered)
    if model_dir is not None:
        local_sha = sha256_hex((model_dir / MANIFEST).read_bytes())
        if local_sha != bound.variants[0].sha256:
            raise LiveMLError(
                f"--model-dir {model_dir}: its {MANIFEST} (sha256 {local_sha}) is not the one registered "
                f"for {model} v{version} ({bound.variants[0].sha256}); measure the registered version"
            )
    binding_value = binding or Binding.one(bound).canonical().decode()
    with tempfile.TemporaryDirectory(prefix="liveml-eks-") as tmp:
        local = model_dir or fetch_version(registered, Path(tmp))
        try:
            measured = measure(local, requests=requests)
        except RuntimeError as exc:
            raise LiveMLError(str(exc)) from None
    sizing = size(measured, qps)
    settings = Settings()
    write_tree(
        out,
        sizing,
        slot=slot,
        binding_json=binding_value,
        image=image,
        role_arn=role_arn,
        namespace=namespace,
        oidc_provider=oidc_provider,
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
    typer.echo(
        f"wrote {out}/ (kubectl apply -k {out}/overlays/{slot}; kubectl apply -k {out}/live); "
        f"the role {role_arn} needs the trust policy in {out}/irsa-trust-policy.json"
    )


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
