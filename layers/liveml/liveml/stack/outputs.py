"""The deployed stack's outputs, with the URLs that work on the chosen target."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from liveml.aws import client, local_endpoint
from liveml.stack.errors import StackError


class StackOutputs(BaseModel):
    """What clients need to use a deployed stack."""

    stack_name: str
    api_id: str
    api_stage: str
    #: On LocalStack: `<endpoint>/_aws/execute-api/<api>/<stage>`; on AWS: the execute-api URL.
    api_url: str
    api_key_id: str
    api_key: str
    data_bucket: str
    artifacts_bucket: str
    registry_table: str
    event_bus: str
    alerts_topic_arn: str
    training_state_machine_arn: str
    predict_function: str
    raw: dict[str, str]


def read_outputs(stack_name: str = "liveml", *, local: bool = True) -> StackOutputs:
    """Read the stack's outputs and the API key's value."""
    endpoint = local_endpoint() if local else None
    cloudformation: Any = client("cloudformation", endpoint_url=endpoint)
    try:
        stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    except cloudformation.exceptions.ClientError as exc:
        hint = "liveml deploy --local" if local else "liveml deploy --aws"
        raise StackError(f"stack {stack_name!r} is not deployed ({exc}): run `{hint}`") from None
    raw = {item["OutputKey"]: item["OutputValue"] for item in stack.get("Outputs", [])}
    api_key: Any = client("apigateway", endpoint_url=endpoint).get_api_key(
        apiKey=raw["ApiKeyId"], includeValue=True
    )
    api_url = f"{endpoint}/_aws/execute-api/{raw['ApiId']}/{raw['ApiStage']}" if local else raw["ApiUrl"]
    return StackOutputs(
        stack_name=stack_name,
        api_id=raw["ApiId"],
        api_stage=raw["ApiStage"],
        api_url=api_url,
        api_key_id=raw["ApiKeyId"],
        api_key=api_key["value"],
        data_bucket=raw["DataBucketName"],
        artifacts_bucket=raw["ArtifactsBucketName"],
        registry_table=raw["RegistryTableName"],
        event_bus=raw["EventBusName"],
        alerts_topic_arn=raw["AlertsTopicArn"],
        training_state_machine_arn=raw["TrainingStateMachineArn"],
        predict_function=raw["PredictFunctionName"],
        raw=raw,
    )
