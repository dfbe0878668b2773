"""Building and deploying the SAM stack (to AWS or to LocalStack) and reading its outputs."""

from liveml.stack.deploy import DeployTarget, build, deploy, validate
from liveml.stack.errors import StackError
from liveml.stack.outputs import StackOutputs, read_outputs

__all__ = ["DeployTarget", "StackError", "StackOutputs", "build", "deploy", "read_outputs", "validate"]
