"""What the SAM stack relies on, through the liveml-local executor: API Gateway v1 proxy,
Step Functions Lambda tasks, S3 notifications and EventBridge rules invoking functions."""

from __future__ import annotations

import io
import json
import time
import urllib.request
import uuid
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from liveml.localcloud import Status

ROLE = "arn:aws:iam::000000000000:role/trigger-role"

RECORDER = """
import json, os, boto3
from urllib.parse import unquote_plus

def handler(event, context):
    if "httpMethod" in event:  # API Gateway v1 proxy
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
                "body": json.dumps({"path": event["path"], "query": event.get("queryStringParameters")})}
    if "Records" in event:  # S3 notification
        key = unquote_plus(event["Records"][0]["s3"]["object"]["key"])
        tag = "s3-" + key.split("/")[-1]
    elif "detail-type" in event:  # EventBridge
        tag = "events-" + event["detail"]["id"]
    else:  # Step Functions task input
        return {"doubled": event["n"] * 2}
    boto3.client("s3").put_object(Bucket=os.environ["OUT_BUCKET"], Key="seen/" + tag, Body=b"1")
    return {"tag": tag}
"""


@pytest.fixture(scope="module")
def aws(localstack: Status) -> Callable[[str], Any]:
    def make(service: str) -> Any:
        return boto3.client(service, endpoint_url=localstack.endpoint, region_name="us-east-1")  # type: ignore[call-overload]

    return make


@pytest.fixture(scope="module")
def recorder(aws: Callable[[str], Any]) -> Iterator[dict[str, str]]:
    lam, s3 = aws("lambda"), aws("s3")
    name = f"recorder-{uuid.uuid4().hex[:8]}"
    bucket = f"out-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("app.py", RECORDER)
    arn = lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": archive.getvalue()},
        Environment={"Variables": {"OUT_BUCKET": bucket}},
    )["FunctionArn"]
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    yield {"name": name, "arn": arn, "bucket": bucket}
    lam.delete_function(FunctionName=name)
    for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        s3.delete_object(Bucket=bucket, Key=item["Key"])
    s3.delete_bucket(Bucket=bucket)


def _wait_for_key(s3: Any, bucket: str, key: str, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if s3.list_objects_v2(Bucket=bucket, Prefix=key).get("KeyCount"):
            return True
        time.sleep(0.5)
    return False


def test_api_gateway_v1_proxy_reaches_the_function(
    aws: Callable[[str], Any], recorder: dict[str, str], localstack: Status
) -> None:
    apigw = aws("apigateway")
    api = apigw.create_rest_api(name=f"api-{uuid.uuid4().hex[:6]}")["id"]
    try:
        root = next(r["id"] for r in apigw.get_resources(restApiId=api)["items"] if r["path"] == "/")
        proxy = apigw.create_resource(restApiId=api, parentId=root, pathPart="{proxy+}")["id"]
        apigw.put_method(restApiId=api, resourceId=proxy, httpMethod="ANY", authorizationType="NONE")
        apigw.put_integration(
            restApiId=api,
            resourceId=proxy,
            httpMethod="ANY",
            type="AWS_PROXY",
            integrationHttpMethod="POST",
            uri=f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{recorder['arn']}/invocations",
        )
        apigw.create_deployment(restApiId=api, stageName="test")
        url = f"{localstack.endpoint}/_aws/execute-api/{api}/test/predict?player=p1"
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(url, timeout=60) as response:
            assert response.status == 200
            body = json.loads(response.read())
        assert body == {"path": "/predict", "query": {"player": "p1"}}
    finally:
        apigw.delete_rest_api(restApiId=api)


def test_step_functions_lambda_task_runs_the_function(
    aws: Callable[[str], Any], recorder: dict[str, str]
) -> None:
    sfn = aws("stepfunctions")
    definition = {
        "StartAt": "Double",
        "States": {"Double": {"Type": "Task", "Resource": recorder["arn"], "End": True}},
    }
    machine = sfn.create_state_machine(
        name=f"sm-{uuid.uuid4().hex[:6]}", definition=json.dumps(definition), roleArn=ROLE
    )["stateMachineArn"]
    try:
        execution = sfn.start_execution(stateMachineArn=machine, name="run-1", input=json.dumps({"n": 21}))
        deadline = time.monotonic() + 60
        described = sfn.describe_execution(executionArn=execution["executionArn"])
        while described["status"] == "RUNNING" and time.monotonic() < deadline:
            time.sleep(0.5)
            described = sfn.describe_execution(executionArn=execution["executionArn"])
        assert described["status"] == "SUCCEEDED", described
        assert json.loads(described["output"]) == {"doubled": 42}
    finally:
        sfn.delete_state_machine(stateMachineArn=machine)


def test_s3_notification_invokes_the_function(aws: Callable[[str], Any], recorder: dict[str, str]) -> None:
    s3, lam = aws("s3"), aws("lambda")
    source = f"in-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=source)
    lam.add_permission(
        FunctionName=recorder["name"],
        StatementId=f"s3-{source}",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn=f"arn:aws:s3:::{source}",
    )
    s3.put_bucket_notification_configuration(
        Bucket=source,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": recorder["arn"], "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )
    s3.put_object(Bucket=source, Key="datasets/churn/players week 1.csv", Body=b"a,b\n1,2\n")
    try:
        assert _wait_for_key(s3, recorder["bucket"], "seen/s3-players week 1.csv")
    finally:
        s3.delete_object(Bucket=source, Key="datasets/churn/players week 1.csv")
        s3.delete_bucket(Bucket=source)


def test_eventbridge_rule_invokes_the_function(aws: Callable[[str], Any], recorder: dict[str, str]) -> None:
    events, s3 = aws("events"), aws("s3")
    rule = f"rule-{uuid.uuid4().hex[:6]}"
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": ["liveml.test"]}))
    events.put_targets(Rule=rule, Targets=[{"Id": "recorder", "Arn": recorder["arn"]}])
    marker = uuid.uuid4().hex[:10]
    try:
        events.put_events(
            Entries=[
                {"Source": "liveml.test", "DetailType": "ModelApproved", "Detail": json.dumps({"id": marker})}
            ]
        )
        assert _wait_for_key(s3, recorder["bucket"], f"seen/events-{marker}")
    finally:
        events.remove_targets(Rule=rule, Ids=["recorder"])
        events.delete_rule(Name=rule)
