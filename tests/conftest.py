"""Shared pytest set-up: unit tests never touch the network.

Tests marked ``integration`` or ``e2e`` talk to LocalStack on 127.0.0.1; every other test runs with
pytest-socket's ``disable_socket(allow_unix_socket=True)`` (Unix sockets stay open for asyncio), so an
accidental AWS call fails loudly, unless it carries pytest-socket's ``allow_hosts``/``enable_socket``.
A unit test that starts its own server marks itself ``@pytest.mark.allow_hosts(["127.0.0.1"])``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

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
