"""Integration tests share the session fixtures of ``tests/conftest.py`` (``localstack``, ``stack``)."""
