"""Resources the unit tests create in moto (the ``moto`` fixture of ``tests/unit/conftest.py``), shaped
as the stack's template shapes them."""

from __future__ import annotations

from typing import Any


def create_registry_table(dynamodb: Any, name: str) -> None:
    """The model registry's table: one item per ``pk`` (the model) and ``sk`` (version, alias, event)."""
    dynamodb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in ("pk", "sk")],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
