"""The dataset contract: columns, types, allowed values, target, entity id, event time and gates.

One YAML file is the source for data validation, the prediction API's request schema and the
feature order a game client sends (``Contract.feature_names``). Importing this package needs only
pydantic, PyYAML and the standard library, so the serving path can load it cheaply.
"""

from __future__ import annotations

from liveml.contract.errors import ContractError
from liveml.contract.infer import infer
from liveml.contract.model import Column, ColumnType, Contract, Gates, IssueCode, Task

__all__ = [
    "Column",
    "ColumnType",
    "Contract",
    "ContractError",
    "Gates",
    "IssueCode",
    "Task",
    "infer",
]
