"""Shared pytest set-up: unit tests never touch the network; cloud tests share LocalStack and one stack.

Tests marked ``integration`` or ``e2e`` talk to LocalStack on 127.0.0.1; every other test runs with
pytest-socket's ``disable_socket(allow_unix_socket=True)`` (Unix sockets stay open for asyncio), so an
accidental AWS call fails loudly, unless it carries pytest-socket's ``allow_hosts``/``enable_socket``.
A unit test that starts its own server marks itself ``@pytest.mark.allow_hosts(["127.0.0.1"])``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from liveml.localcloud import Status, down, status, up
from liveml.stack import DeployTarget, StackOutputs, build, deploy, read_outputs, validate

_TESTS = Path(__file__).parent
#: Every test under these folders needs LocalStack (and is marked so by the hook below).
_CLOUD_SUITES = {_TESTS / "integration": "integration", _TESTS / "e2e": "e2e"}
#: The stack the tests deploy onto LocalStack once per session.
TEST_STACK = os.environ.get("LIVEML_TEST_STACK", "liveml")

# Integration/e2e tests need LocalStack; a unit test may still opt in to 127.0.0.1 with pytest-socket's
# own markers (``allow_hosts``, ``enable_socket``), which then decide.
_NETWORK_MARKERS = ("integration", "e2e", "allow_hosts", "enable_socket")


@pytest.fixture(autouse=True)
def _no_network_in_unit_tests(request: pytest.FixtureRequest) -> Iterator[None]:
    if any(request.node.get_closest_marker(name) for name in _NETWORK_MARKERS) or (
        "socket_enabled" in request.fixturenames
    ):
        yield
        return
    from pytest_socket import disable_socket, enable_socket, socket_allow_hosts

    allow = request.node.get_closest_marker("allow_hosts")
    if allow:  # a unit test of a server it started itself: only the hosts it names (127.0.0.1)
        socket_allow_hosts(allow.args[0], allow_unix_socket=True)
    else:
        disable_socket(allow_unix_socket=True)
    try:
        yield
    finally:
        enable_socket()


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for a block and put back what was there before."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


#: Tests allowed to be skipped, by node id prefix, each with its reason. Any other skip fails the run: a
#: test skipped in every run proves nothing and hides that it does.
ALLOWED_SKIPS: dict[str, str] = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()  # type: ignore[attr-defined]
    if not report.skipped or hasattr(report, "wasxfail"):
        return
    if any(item.nodeid.startswith(prefix) for prefix in ALLOWED_SKIPS):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    report.outcome = "failed"
    report.longrepr = (
        f"skipped ({reason}), and not on the allow-list: make it run, or add it to ALLOWED_SKIPS in "
        "tests/conftest.py with the reason"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for folder, marker in _CLOUD_SUITES.items():
            if item.path.is_relative_to(folder):
                item.add_marker(getattr(pytest.mark, marker))


@pytest.fixture(scope="session")
def localstack() -> Iterator[Status]:
    """LocalStack, up and healthy. For the session, AWS_* variables point every boto3 client (and
    ``liveml.aws``) at it with test credentials, so no test can reach real AWS by accident."""
    started_here = not status().running
    current = up()
    session_env = {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": current.endpoint,
        "LIVEML_ENDPOINT_URL": current.endpoint,
    }
    try:
        with _environment(session_env):
            yield current
    finally:
        if started_here:
            down()


@pytest.fixture(scope="session")
def stack(localstack: Status) -> Iterator[StackOutputs]:
    """The project's stack, built and deployed onto LocalStack once per session (``sam build`` and
    ``samlocal deploy``, as ``liveml deploy --local`` does), with ``LIVEML_*`` pointing at it."""
    root = _TESTS.parent
    validate(root)
    build(root)
    deploy(root, DeployTarget.LOCAL, stack_name=TEST_STACK)
    outputs = read_outputs(TEST_STACK)
    session_env = {
        "LIVEML_DATA_BUCKET": outputs.data_bucket,
        "LIVEML_ARTIFACTS_BUCKET": outputs.artifacts_bucket,
        "LIVEML_REGISTRY_TABLE": outputs.registry_table,
        "LIVEML_EVENT_BUS": outputs.event_bus,
        "LIVEML_ALERTS_TOPIC": outputs.alerts_topic_arn,
    }
    with _environment(session_env):
        yield outputs
