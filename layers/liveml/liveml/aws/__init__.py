"""boto3 sessions and clients, configured in one place (endpoint, retries, region)."""

from liveml.aws.clients import client, local_endpoint, resource, use_localstack
from liveml.aws.errors import explain

__all__ = ["client", "explain", "local_endpoint", "resource", "use_localstack"]
