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
    """LocalStack, up and healthy. For the session, AWS_* variables point every boto3 client (and
    ``liveml.aws``) at it with test credentials, so no test can reach real AWS by accident."""
    cfg = LocalCloudConfig()
    started_here = not status(cfg).running
    current = up(cfg)
    session_env = {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": current.endpoint,
        "LIVEML_ENDPOINT_URL": current.endpoint,
    }
    saved = {key: os.environ.get(key) for key in session_env}
    os.environ.update(session_env)
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
