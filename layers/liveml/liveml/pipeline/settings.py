"""Per-model pipeline settings: ``datasets/<model>/liveml.yaml`` beside the data.

Validated strictly (an unknown key is a typo, not a silent default) and recorded with each run.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from liveml import yamltext
from liveml.errors import validated
from liveml.pipeline.errors import PipelineError

SETTINGS_FILE = "liveml.yaml"
#: Files under datasets/<model>/ that configure the pipeline rather than feed it.
CONFIG_SUFFIXES = (".yaml", ".yml", ".md")


class ApprovalPolicy(StrEnum):
    AUTO = "auto"  # a version that passes the gates is approved at once (ModelApproved starts a rollout)
    MANUAL = "manual"  # it waits in PendingManualApproval until `liveml models approve`


class Backend(StrEnum):
    LAMBDA = "lambda"
    SAGEMAKER = "sagemaker"


class SageMakerSettings(BaseModel):
    """The tuning job's resources. ``None`` means "sized from the dataset's rows and columns" when
    the run starts (``liveml.pipeline.sagemaker.sized``), so one liveml.yaml fits a growing dataset."""

    model_config = ConfigDict(extra="forbid")

    instance_type: str | None = Field(default=None, pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
    #: scikit-learn trains on one machine: the tuning job's parallel jobs are the scale-out.
    instance_count: int = Field(default=1, ge=1, le=1)
    #: training jobs in the tuning job (one trial each); ``None``: the settings' ``trials``
    max_jobs: int | None = Field(default=None, ge=1, le=500)
    parallel_jobs: int | None = Field(default=None, ge=1, le=100)
    #: each training job's limit
    max_runtime_s: int | None = Field(default=None, ge=300, le=5 * 24 * 3600)
    #: managed spot training: interrupted jobs resume from their checkpoint prefix
    spot: bool = True
    volume_size_gb: int | None = Field(default=None, ge=1, le=16384)
    #: the training image; ``None``: the scikit-learn framework image of the stack's region
    image_uri: str | None = None
    #: also register each version as a model package in a SageMaker Model Package Group named after
    #: the model, approval kept in step both ways (``liveml.registry.sagemaker_mirror``); any backend
    mirror_registry: bool = False


class PipelineSettings(BaseModel):
    """How one model's pipeline runs."""

    model_config = ConfigDict(extra="forbid")

    #: The dataset contract, relative to datasets/<model>/.
    contract: str = "contract.yaml"
    trials: int = Field(default=20, ge=1, le=1000)
    #: The Train step's wall-clock budget, from its start (imports, data, search, fit, export,
    #: upload); the training Lambda's 900 s timeout bounds it.
    time_budget_s: float = Field(default=240, gt=0, le=780)
    cv_folds: int = Field(default=5, ge=2, le=10)
    seed: int = 0
    approval: ApprovalPolicy = ApprovalPolicy.AUTO
    backend: Backend = Backend.LAMBDA
    #: The SageMaker backend's resources (``backend: sagemaker``); unset fields are sized from the data.
    sagemaker: SageMakerSettings = Field(default_factory=lambda: SageMakerSettings())
    #: How an approved version rolls out (``liveml.rollout.RolloutSettings`` fields). Kept as given, so
    #: the stack's defaults fill the rest at rollout time; checked here so a typo fails the run early.
    rollout: dict[str, Any] | None = None
    #: How ``liveml export`` and the scheduled export build this model's dataset from player events
    #: (``liveml.monitoring.export.ExportSettings`` fields); checked here so a typo fails early.
    export: dict[str, Any] | None = None

    @field_validator("rollout")
    @classmethod
    def _rollout_fields(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            from liveml.rollout.settings import RolloutSettings

            RolloutSettings.model_validate(value)
        return value

    @field_validator("export")
    @classmethod
    def _export_fields(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            from liveml.monitoring.export import ExportSettings

            ExportSettings.model_validate(value)
        return value

    #: How the monitor watches the model and when it retrains (``liveml.monitoring.MonitorSettings``
    #: fields); kept as given, checked here so a typo fails the upload's run, not the monitor.
    monitor: dict[str, Any] | None = None

    @field_validator("monitor")
    @classmethod
    def _monitor_fields(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            from liveml.monitoring.policy import MonitorSettings

            MonitorSettings.model_validate(value)
        return value

    @classmethod
    def from_yaml(cls, text: str | None, *, where: str = SETTINGS_FILE) -> PipelineSettings:
        """Parse settings; missing text means all defaults. Errors name the field and why."""
        if not text:
            return cls()
        try:
            data: Any = yamltext.safe_load(text)
        except yaml.YAMLError as exc:
            raise PipelineError(f"{where} is not valid YAML: {exc}") from None
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise PipelineError(f"{where} must be a mapping of settings, not {type(data).__name__}")
        return validated(cls, data, PipelineError, where, top="(root)")


def is_dataset_key(key: str) -> bool:
    """Whether an object under datasets/ is data to train on (not a contract or settings file)."""
    return not key.endswith("/") and not key.lower().endswith(CONFIG_SUFFIXES)
