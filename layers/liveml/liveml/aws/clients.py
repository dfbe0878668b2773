"""One factory for boto3 clients, so endpoint, region and retries are set the same everywhere."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

from liveml.config import Settings, env

#: LocalStack on the host (see ``liveml.localcloud``), on ``LIVEML_LOCALSTACK_PORT`` when set.
LOCAL_PORT = 4566

_RETRIES = Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=5, read_timeout=70)


def local_endpoint() -> str:
    """The LocalStack endpoint the CLI and the tests talk to."""
    port = env("LOCALSTACK_PORT") or LOCAL_PORT
    return env("ENDPOINT_URL") or f"http://127.0.0.1:{port}"


@cache
def _session(region: str) -> boto3.session.Session:
    return boto3.session.Session(region_name=region)


def client(service: str, *, endpoint_url: str | None = None, region: str | None = None, **config: Any) -> Any:
    """A boto3 client for ``service``; an explicit endpoint or region wins over the settings.

    Extra keyword arguments become botocore ``Config`` options (for example
    ``inject_host_prefix=False``, which Step Functions' ``start_sync_execution`` needs on LocalStack).
    """
    settings = Settings()
    cfg = _RETRIES.merge(Config(**config)) if config else _RETRIES
    return _session(region or settings.region).client(
        service,  # type: ignore[call-overload]
        endpoint_url=endpoint_url or settings.endpoint_url,
        config=cfg,
    )


def resource(service: str, *, endpoint_url: str | None = None, region: str | None = None) -> Any:
    """A boto3 resource for ``service`` (DynamoDB tables, mostly)."""
    settings = Settings()
    return _session(region or settings.region).resource(
        service,  # type: ignore[call-overload]
        endpoint_url=endpoint_url or settings.endpoint_url,
        config=_RETRIES,
    )


def use_localstack(endpoint: str | None = None) -> str:
    """Point every client made from now on at LocalStack, with the dummy credentials it accepts."""
    endpoint = endpoint or local_endpoint()
    os.environ["LIVEML_ENDPOINT_URL"] = endpoint
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    return endpoint
