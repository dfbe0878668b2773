"""`liveml sagemaker upload-source`: the training entry point's source bundle, where the jobs find it."""

from __future__ import annotations

import hashlib

import typer
from rich.console import Console

from liveml.cli._stack import AWS_OPTION, STACK_OPTION, connect

app = typer.Typer(
    help="The SageMaker training backend (backend: sagemaker in liveml.yaml).", no_args_is_help=True
)
console = Console()


@app.command("upload-source")
def upload_source(aws: bool = AWS_OPTION, stack_name: str = STACK_OPTION) -> None:
    """Bundle train.py, the liveml package and its training requirements; upload it to the artifacts
    bucket (sagemaker/sourcedir.tar.gz), which every tuning job's training jobs run in script mode."""
    from liveml.aws.s3 import put_bytes
    from liveml.localcloud import project_root
    from liveml.pipeline.sagemaker import SOURCE_KEY, package_source

    outputs = connect(aws, stack_name)
    requirements = (project_root() / "functions" / "train" / "requirements.txt").read_text()
    bundle = package_source(requirements)
    uri = f"s3://{outputs.artifacts_bucket}/{SOURCE_KEY}"
    put_bytes(uri, bundle, content_type="application/gzip")
    console.print(f"{uri}  {len(bundle) / 1e6:.1f} MB  sha256 {hashlib.sha256(bundle).hexdigest()[:16]}")
