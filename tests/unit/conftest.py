"""moto in place of AWS for the unit tests that need S3, DynamoDB or Step Functions (no LocalStack
here): dummy credentials, one region, and no endpoint override that would send boto3 elsewhere."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

REGION = "us-east-1"


def _moto(mp: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
    }.items():
        mp.setenv(name, value)
    mp.delenv("AWS_ENDPOINT_URL", raising=False)
    mp.delenv("LIVEML_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield


@pytest.fixture
def moto(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto for one test."""
    yield from _moto(monkeypatch)


@pytest.fixture(scope="module")
def moto_module() -> Iterator[None]:
    """moto for every test of a module (an expensive set-up, such as a trained model, is shared)."""
    mp = pytest.MonkeyPatch()
    try:
        yield from _moto(mp)
    finally:
        mp.undo()
