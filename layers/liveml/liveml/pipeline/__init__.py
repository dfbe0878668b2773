"""The training pipeline: settings, starting runs once per object version, watching executions."""

from liveml.pipeline.errors import PipelineError
from liveml.pipeline.executions import (
    ExecutionSummary,
    StateTiming,
    describe_execution,
    find_execution,
    state_timings,
    wait_for_execution,
)
from liveml.pipeline.settings import SETTINGS_FILE, ApprovalPolicy, Backend, PipelineSettings, is_dataset_key
from liveml.pipeline.start import RunRequest, execution_name, start_run

__all__ = [
    "SETTINGS_FILE",
    "ApprovalPolicy",
    "Backend",
    "ExecutionSummary",
    "PipelineError",
    "PipelineSettings",
    "RunRequest",
    "StateTiming",
    "describe_execution",
    "execution_name",
    "find_execution",
    "is_dataset_key",
    "start_run",
    "state_timings",
    "wait_for_execution",
]
