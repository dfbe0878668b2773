"""Each output checked by the tool that owns its format, where that tool runs here.

* CloudFormation fragments: cfn-lint's Python API on the fragment wrapped in a minimal template;
* Kubernetes manifests: kubernetes-validate against the bundled schemas, strictly (unknown fields fail);
* the Grafana dashboard: the JSON schema beside this module (Grafana's documented dashboard model);
* Prometheus rules: the rules file's documented structure (``liveml.advise.prometheus.RulesFile``),
  every expression parsed as PromQL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

import yaml
from pydantic import ValidationError

from liveml.advise.prometheus import RulesFile
from liveml.errors import field_problems

KUBERNETES_VERSION = "1.32"


@dataclass(frozen=True)
class Check:
    """One output and what its validator said."""

    output: str
    validator: str
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems


def cloudformation(name: str, fragment: dict[str, Any], *, function: dict[str, Any] | None = None) -> Check:
    """cfn-lint on ``fragment`` as a template; ``function`` (properties of the predict function) is
    linted on a minimal ``AWS::Lambda::Function`` beside it."""
    from cfnlint.api import ManualArgs, lint

    template = {"AWSTemplateFormatVersion": "2010-09-09", **fragment}
    if function is not None:
        template = {
            **template,
            "Resources": {
                **template["Resources"],
                "PredictFunctionSettings": {
                    "Type": "AWS::Lambda::Function",
                    "Properties": {
                        "Runtime": "python3.12",
                        "Handler": "app.handler",
                        "Role": "arn:aws:iam::123456789012:role/liveml-predict",
                        "Code": {"ZipFile": "def handler(event, context): return None"},
                        **function,
                    },
                },
            },
        }
    matches = lint(yaml.safe_dump(template, sort_keys=False), config=ManualArgs(regions=["us-east-1"]))
    return Check(name, "cfn-lint", [f"{m.rule.id} {m.message} (line {m.linenumber})" for m in matches])


def kubernetes(name: str, docs: list[dict[str, Any]]) -> Check:
    import kubernetes_validate

    problems = []
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path) or "(root)"
            problems.append(f"{doc.get('kind')} {path}: {exc.message}")
    return Check(name, f"kubernetes-validate {KUBERNETES_VERSION}", problems)


def dashboard_schema() -> dict[str, Any]:
    text = files("liveml.advise").joinpath("grafana_dashboard.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def grafana(name: str, dashboard: dict[str, Any]) -> Check:
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(dashboard_schema())
    problems = [
        f"{'.'.join(str(p) for p in err.absolute_path) or '(root)'}: {err.message}"
        for err in sorted(validator.iter_errors(dashboard), key=lambda e: list(e.absolute_path))
    ]
    return Check(name, "JSON schema (Grafana dashboard model)", problems)


def prometheus(name: str, rules: dict[str, Any]) -> Check:
    try:
        RulesFile.model_validate(rules)
    except ValidationError as exc:
        return Check(name, "Prometheus rules file structure + PromQL", [field_problems(exc)])
    return Check(name, "Prometheus rules file structure + PromQL", [])
