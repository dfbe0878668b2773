"""The template's security and durability properties, read statically (LocalStack enforces no IAM, so
an over-broad policy passes every integration test: these tests are what catches it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

TEMPLATE = Path(__file__).resolve().parents[3] / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags kept as ``{"!Tag": value}``."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {"!" + suffix: value}


_CfnLoader.add_multi_constructor("!", _tag)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.load(TEMPLATE.read_text(), Loader=_CfnLoader)
    return loaded


def _resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def _statements(resource: dict[str, Any]) -> list[dict[str, Any]]:
    """Every inline statement of a function's or state machine's policies (``!If`` branches included)."""
    found: list[dict[str, Any]] = []
    for policy in resource["Properties"].get("Policies", []):
        for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
            if "!If" in statement:
                found += [s for s in statement["!If"][1:] if isinstance(s, dict) and "Effect" in s]
            else:
                found.append(statement)
    return found


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def _policy_templates(resource: dict[str, Any]) -> set[str]:
    policies = [p for p in resource["Properties"].get("Policies", []) if isinstance(p, dict)]
    return {key for policy in policies for key in policy} - {"Statement"}


def test_the_predict_function_can_write_captures_only_and_touches_no_table(template: dict[str, Any]) -> None:
    predict = template["Resources"]["PredictFunction"]
    statements = _statements(predict)
    assert not _policy_templates(predict) - {"SQSSendMessagePolicy"}
    assert not [a for s in statements for a in _actions(s) if a.startswith("dynamodb:")]
    writes = [s for s in statements if any(a.startswith("s3:") and a != "s3:GetObject" for a in _actions(s))]
    assert len(writes) == 1 and _actions(writes[0]) == ["s3:PutObject"]
    assert writes[0]["Resource"] == {"!Sub": "${DataBucket.Arn}/captures/*"}
    reads = [s for s in statements if _actions(s) == ["s3:GetObject"]]
    assert [s["Resource"] for s in reads] == [{"!Sub": "${ArtifactsBucket.Arn}/*"}]


def test_no_function_has_crud_or_wildcard_policies(template: dict[str, Any]) -> None:
    broad = {"S3CrudPolicy", "S3FullAccessPolicy", "DynamoDBCrudPolicy", "LambdaInvokePolicy", "S3ReadPolicy"}
    for kind in ("AWS::Serverless::Function", "AWS::Serverless::StateMachine"):
        for name, resource in _resources(template, kind).items():
            assert not _policy_templates(resource) & broad, name
            for statement in _statements(resource):
                actions = _actions(statement)
                assert not [a for a in actions if a.endswith(":*") or a.startswith("s3:Delete")], name
                assert not [a for a in actions if "Acl" in a], name
                if any(a.startswith(("s3:", "dynamodb:", "lambda:")) for a in actions):
                    assert statement["Resource"] != "*", (name, actions)


def test_pipeline_functions_write_only_under_runs(template: dict[str, Any]) -> None:
    for name in ("ValidateFunction", "TrainFunction", "EvaluateFunction"):
        puts = [s for s in _statements(template["Resources"][name]) if "s3:PutObject" in _actions(s)]
        assert [s["Resource"] for s in puts] == [{"!Sub": "${ArtifactsBucket.Arn}/runs/*"}], name


def test_state_machines_invoke_exact_function_arns(template: dict[str, Any]) -> None:
    for name, machine in _resources(template, "AWS::Serverless::StateMachine").items():
        invokes = [s for s in _statements(machine) if "lambda:InvokeFunction" in _actions(s)]
        assert invokes, name
        for statement in invokes:
            targets = statement["Resource"]
            targets = targets if isinstance(targets, list) else [targets]
            assert all(set(r) == {"!GetAtt"} and r["!GetAtt"].endswith("Function.Arn") for r in targets), name


def test_binding_may_set_no_layer_but_ours(template: dict[str, Any]) -> None:
    rollout = _statements(template["Resources"]["RolloutFunction"])
    updates = [s for s in rollout if "lambda:UpdateFunctionConfiguration" in _actions(s)]
    assert len(updates) == 1
    ours = {"lambda:Layer": [{"!Ref": "LiveMLLayer"}]}
    assert updates[0]["Condition"] == {"ForAllValues:StringEquals": ours}


def test_localstack_only_permissions_exist_only_on_localstack(template: dict[str, Any]) -> None:
    assert template["Conditions"]["OnLocalStack"] == {"!Equals": [{"!Ref": "AWS::AccountId"}, "000000000000"]}
    policies = template["Resources"]["RolloutFunction"]["Properties"]["Policies"]
    guarded = [
        s["!If"] for p in policies if isinstance(p, dict) for s in p.get("Statement", []) if "!If" in s
    ]
    assert len(guarded) == 1 and guarded[0][0] == "OnLocalStack" and guarded[0][2] == {"!Ref": "AWS::NoValue"}
    recreate = {"lambda:DeleteAlias", "lambda:CreateAlias", "lambda:AddPermission"}
    assert recreate <= set(guarded[0][1]["Action"])
    unguarded = [a for s in _statements(template["Resources"]["RolloutFunction"]) for a in _actions(s)]
    assert unguarded.count("lambda:DeleteAlias") == 1  # only the guarded one


def test_stateful_resources_survive_a_delete_and_expire_what_they_should(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    for name in ("DataBucket", "ArtifactsBucket", "RegistryTable"):
        assert resources[name]["DeletionPolicy"] == "Retain", name
        assert resources[name]["UpdateReplacePolicy"] == "Retain", name
    assert resources["RegistryTable"]["Properties"]["DeletionProtectionEnabled"] is True
    lifecycle = resources["DataBucket"]["Properties"]["LifecycleConfiguration"]
    data_rules = {r["Id"]: r for r in lifecycle["Rules"]}
    assert data_rules["ExpireCaptures"]["Prefix"] == "captures/"
    assert data_rules["ExpireCaptures"]["ExpirationInDays"] == {"!Ref": "CaptureRetentionDays"}
    for bucket in ("DataBucket", "ArtifactsBucket"):
        rules = resources[bucket]["Properties"]["LifecycleConfiguration"]["Rules"]
        assert any("NoncurrentVersionExpiration" in r for r in rules), bucket
        assert any("AbortIncompleteMultipartUpload" in r for r in rules), bucket
    assert "CaptureRetentionDays" in template["Parameters"]


def test_no_event_is_dropped_silently(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    rules = [
        (name, event["Properties"])
        for name, r in resources.items()
        if r["Type"].startswith("AWS::Serverless::")
        for event in r["Properties"].get("Events", {}).values()
        if event["Type"] == "EventBridgeRule"
    ]
    assert len(rules) >= 2
    for name, rule in rules:
        assert rule["DeadLetterConfig"] == {"Arn": {"!GetAtt": "DeadLetterQueue.Arn"}}, name
        assert rule["RetryPolicy"]["MaximumRetryAttempts"] > 0, name
    assert resources["StartPipelineFunction"]["Properties"]["DeadLetterQueue"]["TargetArn"] == {
        "!GetAtt": "DeadLetterQueue.Arn"
    }
    redrive = resources["ShadowQueue"]["Properties"]["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == {"!GetAtt": "DeadLetterQueue.Arn"}
    alarms = _resources(template, "AWS::CloudWatch::Alarm")
    assert all(a["Properties"]["AlarmActions"] == [{"!Ref": "AlertsTopic"}] for a in alarms.values())
    watched = str([a["Properties"] for a in alarms.values()])
    for what in ("DeadLetterQueue.QueueName", "TrainingStateMachine", "RolloutStateMachine"):
        assert what in watched, what
    assert "ExecutionsFailed" in watched


def test_every_function_logs_with_retention_and_the_api_logs_the_key(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    groups = {
        str(r["Properties"]["LogGroupName"]["!Sub"]): r["Properties"]
        for r in _resources(template, "AWS::Logs::LogGroup").values()
    }
    for name in _resources(template, "AWS::Serverless::Function"):
        group = groups.get(f"/aws/lambda/${{{name}}}")
        assert group is not None, f"{name} has no log group in the stack"
        assert group["RetentionInDays"] == {"!Ref": "LogRetentionDays"}, name
    for name, machine in _resources(template, "AWS::Serverless::StateMachine").items():
        assert machine["Properties"]["Logging"]["Destinations"], name
    access = resources["PredictApi"]["Properties"]["AccessLogSetting"]
    assert "$context.identity.apiKeyId" in access["Format"]
