"""Datasets: reading (CSV, Parquet, JSON lines, compressed), the data gate, versions, synthetic players.

``liveml.data.synth`` is imported lazily by name so that reading and validating stay light.
"""

from __future__ import annotations

from liveml.contract.model import IssueCode
from liveml.data.errors import DataQualityError, DataReadError
from liveml.data.read import (
    READ_ISSUES_ATTR,
    SOURCE_ATTR,
    Source,
    dataset_fingerprint,
    read_dataset,
    read_issues,
)
from liveml.data.report import Issue, Severity, ValidationReport
from liveml.data.synth import generate_players, player_contract
from liveml.data.validate import check, conform, validate, validate_source

__all__ = [
    "READ_ISSUES_ATTR",
    "SOURCE_ATTR",
    "DataQualityError",
    "DataReadError",
    "Issue",
    "IssueCode",
    "Severity",
    "Source",
    "ValidationReport",
    "check",
    "conform",
    "dataset_fingerprint",
    "generate_players",
    "player_contract",
    "read_dataset",
    "read_issues",
    "validate",
    "validate_source",
]
