"""Session fixtures for integration tests against LocalStack on the host.

``localstack``: LocalStack running on 127.0.0.1 (started through ``liveml.localcloud`` if it is not
already up, and stopped at the end only if this session started it). Stack-deploy fixtures build on
it below.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from liveml.localcloud import LocalCloudConfig, Status, down, status, up

_HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Everything under tests/integration needs LocalStack (the hook sees the whole session's items).
    for item in items:
        if item.path.is_relative_to(_HERE):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def localstack() -> Iterator[Status]:
    """LocalStack, up and healthy; AWS_* variables point boto3 at it for the session."""
    cfg = LocalCloudConfig()
    started_here = not status(cfg).running
    current = up(cfg)
    saved = {
        k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")
    }
    os.environ.update(
        {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}
    )
    try:
        yield current
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if started_here:
            down(cfg)
