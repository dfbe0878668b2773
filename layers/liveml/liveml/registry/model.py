"""What the registry records about a model version."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class Approval(StrEnum):
    """SageMaker Model Registry's approval states, so a mirror maps one to one."""

    PENDING = "PendingManualApproval"
    APPROVED = "Approved"
    REJECTED = "Rejected"


class Stage(StrEnum):
    """Where a version is in its life."""

    CANDIDATE = "candidate"
    STAGING = "staging"
    PRODUCTION = "production"
    ARCHIVED = "archived"


class Artifact(BaseModel):
    """One stored file of a model version, verified by its sha256 before use."""

    uri: str
    sha256: str
    size_bytes: int


class Lineage(BaseModel):
    """Everything needed to say how a version came to be, and to make it again."""

    dataset_uri: str
    dataset_version_id: str
    dataset_sha256: str
    contract_sha256: str
    code_version: str
    settings: dict[str, Any] = Field(default_factory=dict)
    parameters: dict[str, Any] = Field(default_factory=dict)
    execution_arn: str | None = None
    #: Why the run started: upload, drift, accuracy, schedule or export (``liveml.pipeline.start``).
    trigger: str = "upload"
    trigger_reason: str = ""


class HistoryEntry(BaseModel):
    at: str
    change: str
    by: str = "liveml"
    reason: str = ""


class ModelVersion(BaseModel):
    """A registered model version."""

    model: str
    version: int
    approval: Approval
    stage: Stage
    family: str = ""
    metrics: dict[str, float] = Field(default_factory=dict)
    #: What the evaluate step decided: gates, parity, and the champion/challenger comparison.
    evaluation: dict[str, Any] = Field(default_factory=dict)
    artifacts: dict[str, Artifact] = Field(default_factory=dict)
    lineage: Lineage
    created_at: str
    updated_at: str
    history: list[HistoryEntry] = Field(default_factory=list)
    #: Bumped on every change; a write that names an older revision is refused.
    revision: int = 1
