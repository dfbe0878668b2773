"""Where a run keeps its files: ``s3://<artifacts>/runs/<model>/<run id>/``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from liveml.config import Settings
from liveml.pipeline.settings import SETTINGS_FILE


class RunState(BaseModel):
    """The fields of the execution's state every step relies on."""

    bucket: str
    key: str
    version_id: str
    model: str
    run_id: str
    #: Why the run started (``liveml.pipeline.start.Trigger``) and the writer's reason.
    trigger: str = "upload"
    trigger_reason: str = ""

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> RunState:
        return cls.model_validate(event)

    @property
    def dataset_uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def model_folder_uri(self, name: str) -> str:
        """A file beside the data, under datasets/<model>/ (the contract, the settings)."""
        return f"s3://{self.bucket}/datasets/{self.model}/{name}"

    @property
    def settings_uri(self) -> str:
        return self.model_folder_uri(SETTINGS_FILE)

    def run_uri(self, name: str = "", *, artifacts_bucket: str | None = None) -> str:
        bucket = artifacts_bucket or Settings().require("artifacts_bucket")
        return f"s3://{bucket}/runs/{self.model}/{self.run_id}/{name}"
