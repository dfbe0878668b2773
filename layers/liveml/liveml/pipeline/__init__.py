"""The training pipeline: settings, starting runs once per object version, watching executions."""

from liveml.pipeline.errors import PipelineError
from liveml.pipeline.executions import ExecutionSummary, find_execution, wait_for_execution
from liveml.pipeline.settings import ApprovalPolicy, Backend, PipelineSettings, is_dataset_key
from liveml.pipeline.start import RunRequest, execution_name, start_run

__all__ = [
    "ApprovalPolicy",
    "Backend",
    "ExecutionSummary",
    "PipelineError",
    "PipelineSettings",
    "RunRequest",
    "execution_name",
    "find_execution",
    "is_dataset_key",
    "start_run",
    "wait_for_execution",
]
