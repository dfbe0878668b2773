"""boto3 sessions and clients, configured in one place (endpoint, retries, region)."""

from liveml.aws.clients import client, local_endpoint, resource, use_localstack

__all__ = ["client", "local_endpoint", "resource", "use_localstack"]
