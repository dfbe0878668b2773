"""The liveml-local Lambda executor on LocalStack: functions created with boto3 directly."""

from __future__ import annotations

import base64
import io
import json
import textwrap
import time
import uuid
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.config import Config

from liveml.localcloud import Status

ROLE = "arn:aws:iam::000000000000:role/lambda-role"


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, textwrap.dedent(text))
    return buffer.getvalue()


@pytest.fixture(scope="module")
def aws(localstack: Status) -> Callable[[str], Any]:
    config = Config(retries={"max_attempts": 2}, read_timeout=120)

    def make(service: str) -> Any:
        return boto3.client(service, endpoint_url=localstack.endpoint, region_name="us-east-1", config=config)  # type: ignore[call-overload]

    return make


@pytest.fixture(scope="module")
def lam(aws: Callable[[str], Any]) -> Any:
    return aws("lambda")


@pytest.fixture
def make_function(lam: Any) -> Iterator[Callable[..., str]]:
    created: list[str] = []

    def make(code: str, *, timeout: int = 10, layers: list[str] | None = None, **extra: Any) -> str:
        name = f"t-{uuid.uuid4().hex[:10]}"
        lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": _zip({"app.py": code})},
            Timeout=timeout,
            Layers=layers or [],
            **extra,
        )
        lam.get_waiter("function_active_v2").wait(FunctionName=name)
        created.append(name)
        return name

    yield make
    for name in created:
        lam.delete_function(FunctionName=name)


def _invoke(lam: Any, name: str, event: Any = None, **kwargs: Any) -> tuple[dict[str, Any], Any]:
    response = lam.invoke(FunctionName=name, Payload=json.dumps(event or {}).encode(), **kwargs)
    return response, json.loads(response["Payload"].read() or b"null")


def test_invoke_returns_the_handlers_answer_and_tail_logs(
    lam: Any, make_function: Callable[..., str]
) -> None:
    name = make_function(
        """
        def handler(event, context):
            print("handling", event["x"])
            return {"double": event["x"] * 2, "request_id": context.aws_request_id,
                    "remaining_ms": context.get_remaining_time_in_millis()}
        """
    )
    response, body = _invoke(lam, name, {"x": 21}, LogType="Tail")
    assert "FunctionError" not in response
    assert body["double"] == 42
    assert 0 < body["remaining_ms"] <= 10_000
    logs = base64.b64decode(response["LogResult"]).decode()
    assert "handling 21" in logs
    assert f"START RequestId: {body['request_id']}" in logs


def test_a_raising_handler_gives_function_error_with_type_and_trace(
    lam: Any, make_function: Callable[..., str]
) -> None:
    name = make_function(
        """
        class ModelNotFound(Exception):
            pass

        def handler(event, context):
            raise ModelNotFound("no model churn:7")
        """
    )
    response, body = _invoke(lam, name)
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "ModelNotFound"
    assert body["errorMessage"] == "no model churn:7"
    assert any("app.py" in frame for frame in body["stackTrace"])


def test_an_import_error_is_reported_like_lambda(lam: Any, make_function: Callable[..., str]) -> None:
    # numpy is in the project venv but not in Lambda's runtime: the handler must not see it.
    name = make_function("import numpy\n\ndef handler(event, context):\n    return 1\n")
    response, body = _invoke(lam, name)
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert "numpy" in body["errorMessage"]


def test_a_sleeping_handler_is_cut_at_its_timeout_and_the_next_invoke_works(
    lam: Any, make_function: Callable[..., str]
) -> None:
    name = make_function(
        """
        import time

        def handler(event, context):
            time.sleep(event.get("sleep", 0))
            return "woke"
        """,
        timeout=2,
    )
    started = time.monotonic()
    response, body = _invoke(lam, name, {"sleep": 30})
    elapsed = time.monotonic() - started
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 2.00 seconds" in body["errorMessage"]
    assert 2 <= elapsed < 8
    # The killed environment is re-initialised on the next invoke.
    response, body = _invoke(lam, name, {"sleep": 0})
    assert "FunctionError" not in response
    assert body == "woke"


def test_a_function_with_a_layer_imports_the_layers_module(
    lam: Any, make_function: Callable[..., str]
) -> None:
    layer_zip = _zip(
        {
            "python/gamekit/__init__.py": "VERSION = '1.2.3'\n",
            "python/lib/python3.12/site-packages/sitepkg.py": "NAME = 'from site-packages'\n",
        }
    )
    layer = lam.publish_layer_version(
        LayerName=f"gamekit-{uuid.uuid4().hex[:6]}",
        Content={"ZipFile": layer_zip},
        CompatibleRuntimes=["python3.12"],
    )
    try:
        name = make_function(
            """
            import gamekit, sitepkg

            def handler(event, context):
                return [gamekit.VERSION, sitepkg.NAME]
            """,
            layers=[layer["LayerVersionArn"]],
        )
        response, body = _invoke(lam, name)
        assert "FunctionError" not in response, body
        assert body == ["1.2.3", "from site-packages"]
    finally:
        lam.delete_layer_version(LayerName=layer["LayerArn"].split(":")[-1], VersionNumber=layer["Version"])


def test_weighted_alias_splits_traffic_and_reports_the_executed_version(
    lam: Any, make_function: Callable[..., str]
) -> None:
    name = make_function("def handler(event, context):\n    return 'blue'\n")
    v1 = lam.publish_version(FunctionName=name)["Version"]
    lam.update_function_code(
        FunctionName=name, ZipFile=_zip({"app.py": "def handler(event, context):\n    return 'green'\n"})
    )
    lam.get_waiter("function_updated_v2").wait(FunctionName=name)
    v2 = lam.publish_version(FunctionName=name)["Version"]
    # LocalStack's update_alias fails with non-empty weights: create the alias with them.
    lam.create_alias(
        FunctionName=name,
        Name="live",
        FunctionVersion=v1,
        RoutingConfig={"AdditionalVersionWeights": {v2: 0.3}},
    )

    def call(_: int) -> tuple[str, str]:
        response = lam.invoke(FunctionName=name, Qualifier="live", Payload=b"{}")
        return response["ExecutedVersion"], json.loads(response["Payload"].read())

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(call, range(200)))
    versions = Counter(version for version, _ in results)
    assert set(versions) <= {v1, v2}
    assert abs(versions[v1] / 200 - 0.7) <= 0.10, versions
    assert abs(versions[v2] / 200 - 0.3) <= 0.10, versions
    # ExecutedVersion names the version whose code answered.
    assert all(answer == ("blue" if version == v1 else "green") for version, answer in results)


def test_concurrent_invokes_get_separate_environments_and_warm_ones_are_reused(
    lam: Any, make_function: Callable[..., str]
) -> None:
    name = make_function(
        """
        import os, time
        def handler(event, context):
            time.sleep(event.get("sleep", 0))
            return os.getpid()
        """
    )
    with ThreadPoolExecutor(max_workers=3) as pool:
        pids = list(pool.map(lambda _: _invoke(lam, name, {"sleep": 1.5})[1], range(3)))
    assert len(set(pids)) == 3
    warm = {_invoke(lam, name)[1] for _ in range(5)}
    assert warm <= set(pids)


def test_logs_reach_cloudwatch_logs(
    lam: Any, aws: Callable[[str], Any], make_function: Callable[..., str]
) -> None:
    marker = uuid.uuid4().hex
    name = make_function(
        f"""
        import logging
        logging.getLogger().setLevel(logging.INFO)

        def handler(event, context):
            print("print {marker}")
            logging.getLogger("app").info("logged {marker}")
            return "ok"
        """
    )
    _invoke(lam, name)
    logs = aws("logs")
    deadline = time.monotonic() + 20
    messages: list[str] = []
    while time.monotonic() < deadline:
        try:
            events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
        except logs.exceptions.ResourceNotFoundException:
            events = []
        messages = [event["message"] for event in events]
        if any(f"logged {marker}" in message for message in messages):
            break
        time.sleep(0.5)
    assert any(f"print {marker}" in message for message in messages), messages
    assert any(f"logged {marker}" in message for message in messages), messages


def test_async_invoke_runs_the_function(
    lam: Any, aws: Callable[[str], Any], make_function: Callable[..., str]
) -> None:
    s3 = aws("s3")
    bucket = f"async-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    name = make_function(
        f"""
        import boto3

        def handler(event, context):
            boto3.client("s3").put_object(Bucket="{bucket}", Key="done", Body=event["token"].encode())
        """
    )
    response = lam.invoke(
        FunctionName=name, InvocationType="Event", Payload=json.dumps({"token": "t0k"}).encode()
    )
    assert response["StatusCode"] == 202
    deadline = time.monotonic() + 30
    body = b""
    while time.monotonic() < deadline:
        try:
            body = s3.get_object(Bucket=bucket, Key="done")["Body"].read()
            break
        except s3.exceptions.NoSuchKey:
            time.sleep(0.5)
    assert body == b"t0k"
    s3.delete_object(Bucket=bucket, Key="done")
    s3.delete_bucket(Bucket=bucket)


def test_a_function_calls_aws_through_boto3(
    lam: Any, aws: Callable[[str], Any], make_function: Callable[..., str]
) -> None:
    s3 = aws("s3")
    bucket = f"inside-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    name = make_function(
        """
        import os, boto3

        def handler(event, context):
            s3 = boto3.client("s3")
            s3.put_object(Bucket=event["bucket"], Key="from-lambda.txt", Body=b"hello")
            return {"endpoint": os.environ["AWS_ENDPOINT_URL"], "region": os.environ["AWS_REGION"]}
        """
    )
    response, body = _invoke(lam, name, {"bucket": bucket})
    assert "FunctionError" not in response, body
    assert body["endpoint"].startswith("http://127.0.0.1:")
    assert s3.get_object(Bucket=bucket, Key="from-lambda.txt")["Body"].read() == b"hello"
    s3.delete_object(Bucket=bucket, Key="from-lambda.txt")
    s3.delete_bucket(Bucket=bucket)


def test_dynamodb_works_offline(aws: Callable[[str], Any]) -> None:
    ddb = aws("dynamodb")
    table = f"reg-{uuid.uuid4().hex[:8]}"
    ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    try:
        ddb.put_item(
            TableName=table, Item={"pk": {"S": "model#churn"}, "sk": {"S": "v#1"}, "auc": {"N": "0.81"}}
        )
        ddb.put_item(
            TableName=table, Item={"pk": {"S": "model#churn"}, "sk": {"S": "v#2"}, "auc": {"N": "0.84"}}
        )
        item = ddb.get_item(TableName=table, Key={"pk": {"S": "model#churn"}, "sk": {"S": "v#2"}})["Item"]
        assert item["auc"]["N"] == "0.84"
        found = ddb.query(
            TableName=table,
            KeyConditionExpression="pk = :p AND begins_with(sk, :v)",
            ExpressionAttributeValues={":p": {"S": "model#churn"}, ":v": {"S": "v#"}},
        )
        assert found["Count"] == 2
    finally:
        ddb.delete_table(TableName=table)
