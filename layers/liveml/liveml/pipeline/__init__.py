"""The training pipeline seen from outside: uploads, finding and watching executions."""

from liveml.pipeline.errors import PipelineError
from liveml.pipeline.executions import ExecutionSummary, find_execution, wait_for_execution

__all__ = ["ExecutionSummary", "PipelineError", "find_execution", "wait_for_execution"]
