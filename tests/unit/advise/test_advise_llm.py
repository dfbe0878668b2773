"""The optional LLM explanation, held to the facts.

Amazon Bedrock cannot run here (no LocalStack service, no network), so these tests use botocore's
Stubber on a real ``bedrock-runtime`` client with the Converse API's recorded request and response
shapes; the Stubber also checks our request against the service model.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from liveml.advise import Candidate, ModelAdvice
from liveml.advise.compare import recommend
from liveml.advise.llm import check_answer, explain, matches_fact, parse_answer

MODEL_ID = "anthropic.claude-3-5-haiku-20241022-v1:0"


def _advice() -> ModelAdvice:
    # version, family, stage, ROC AUC, accuracy, calibration error, ONNX bytes, on device, segment gap
    facts = [
        (3, "linear", "production", 0.8012, 0.78, 0.031, 4100, True, 0.05),
        (4, "random_forest", "candidate", 0.8347, 0.8, 0.022, 2_400_000, False, 0.04),
    ]
    candidates = [
        Candidate(
            version,
            family,
            "Approved",
            stage,
            {"roc_auc": auc, "accuracy": accuracy},
            calibration_error=calibration,
            onnx_bytes=size,
            on_device=device,
            segment_gap=gap,
        )
        for version, family, stage, auc, accuracy, calibration, size, device, gap in facts
    ]
    chosen, reasons = recommend(candidates, "roc_auc", 0.005, 3, 4, 300)
    return ModelAdvice(
        "churn", "binary", "roc_auc", 4, 300, 0.005, ["device"], candidates, 3, chosen, reasons
    )


def _converse_response(text: str) -> dict[str, Any]:
    """Converse's response shape, as recorded from the service."""
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 812, "outputTokens": 164, "totalTokens": 976},
        "metrics": {"latencyMs": 1432},
    }


def _client_answering(text: str | None, error: str | None = None) -> tuple[Any, Stubber]:
    client = boto3.client(
        "bedrock-runtime", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    stub = Stubber(client)
    expected = {"modelId": MODEL_ID, "system": ANY, "messages": ANY, "inferenceConfig": ANY}
    if error:
        stub.add_client_error(
            "converse", service_error_code=error, service_message="no access", http_status_code=403
        )
    else:
        stub.add_response("converse", _converse_response(text or ""), expected)
    stub.activate()
    return client, stub


def _answer(**overrides: Any) -> str:
    body = {
        "recommended_version": 4,
        "explanation": "Version 4 predicts churn best: ROC AUC 0.835 against 0.801 for the live v3, on "
        "the same 300 players. Its accuracy varies by only 4% across devices.",
        "proposals": [{"kind": "gate", "field": "min_roc_auc", "value": 0.8, "why": "v3 scores 0.80."}],
    }
    body.update(overrides)
    return "```json\n" + json.dumps(body) + "\n```"


def test_a_faithful_answer_is_shown_with_its_proposals() -> None:
    advice = _advice()
    assert advice.recommended == 4
    client, stub = _client_answering(_answer())
    result = explain(advice, client=client, model_id=MODEL_ID)
    stub.assert_no_pending_responses()
    assert result.source == "llm" and result.mismatches == []
    assert "Version 4" in result.text and result.proposals[0].field == "min_roc_auc"


def test_the_prompt_carries_the_facts_and_nothing_is_sent_without_them() -> None:
    advice = _advice()
    client, _stub = _client_answering(_answer())
    sent: dict[str, Any] = {}
    client.meta.events.register(
        "before-parameter-build.bedrock-runtime.Converse", lambda params, **_: sent.update(params)
    )
    explain(advice, client=client, model_id=MODEL_ID)
    text = sent["messages"][0]["content"][0]["text"]
    assert "v4.roc_auc = 0.8347" in text and "v3.calibration_error = 0.031" in text
    assert "Use ONLY the facts given" in sent["system"][0]["text"]


@pytest.mark.parametrize(
    ("answer", "mismatch"),
    [
        (_answer(explanation="Version 4 lifts ROC AUC to 0.91."), "cites 0.91"),
        (_answer(recommended_version=3), "recommends v3, the rule chose v4"),
        (
            _answer(proposals=[{"kind": "sla", "field": "latency_ms.p999", "value": 5, "why": ""}]),
            "'latency_ms.p999'",
        ),
        ("I think version 4 is best.", "holds no JSON object"),
        ('{"recommended_version": "four", "explanation": "x"}', "recommended_version"),
    ],
)
def test_an_answer_off_the_facts_falls_back_to_the_deterministic_reasons(answer: str, mismatch: str) -> None:
    advice = _advice()
    client, _ = _client_answering(answer)
    result = explain(advice, client=client, model_id=MODEL_ID)
    assert result.source == "deterministic"
    assert result.text == "\n".join(f"- {r}" for r in advice.reasons)
    assert any(mismatch in m for m in result.mismatches), result.mismatches


def test_bedrock_refusing_leaves_the_deterministic_answer() -> None:
    client, _ = _client_answering(None, error="AccessDeniedException")
    result = explain(_advice(), client=client, model_id=MODEL_ID)
    assert result.source == "deterministic" and "AccessDeniedException" in result.mismatches[0]


def test_numbers_match_within_their_own_rounding() -> None:
    facts = [0.8347, 300.0, 0.04]
    assert matches_fact("0.835", facts) and matches_fact("0.83", facts) and matches_fact("300", facts)
    assert matches_fact("4%", facts) and matches_fact("83.5%", facts)
    assert (
        not matches_fact("0.84", facts)
        and not matches_fact("0.8346", facts)
        and not matches_fact("301", facts)
    )


def test_the_model_id_comes_from_the_environment_unless_given(monkeypatch: pytest.MonkeyPatch) -> None:
    from liveml.advise.constants import bedrock_model_id

    monkeypatch.setenv("LIVEML_ADVISE_BEDROCK_MODEL", "amazon.nova-lite-v1:0")
    assert bedrock_model_id() == "amazon.nova-lite-v1:0"
    assert bedrock_model_id("explicit") == "explicit"


def test_check_answer_accepts_version_names_without_counting_them_as_numbers() -> None:
    answer = parse_answer(_answer(explanation="Ship v4 rather than v3."))
    assert check_answer(answer, _advice()) == []


# --- a serving plan explained -------------------------------------------------------------------------


def _plan() -> Any:
    from pathlib import Path

    from liveml.advise import Sla, plan_deploy
    from liveml.advise.measured import Measurement

    sla = Sla.load(Path(__file__).resolve().parents[3] / "examples" / "sla.yaml")
    measured = Measurement(cpu_ms_per_request=0.62, p99_ms=1.4, rss_mb=151.0, requests=500)
    return plan_deploy(sla, measured, model="churn", version=4, holdout={"accuracy": 0.81})


def test_a_plan_explanation_may_cite_the_plans_figures_and_propose_an_sla_change() -> None:
    plan = _plan()
    lam = plan.lambda_
    text = (
        f"Lambda needs {lam.memory_mb} MB and {lam.provisioned_peak} warm environments at the peak of "
        f"2,000 requests a second, and costs about ${lam.monthly_total_usd:,.2f} a month, mostly API Gateway."
    )
    proposal = {"kind": "sla", "field": "cost.max_monthly_usd", "value": 5000, "why": "Lambda is over 3000."}
    client, _ = _client_answering(
        json.dumps({"recommended_version": None, "explanation": text, "proposals": [proposal]})
    )
    result = explain(plan, client=client, model_id=MODEL_ID)
    assert result.source == "llm", result.mismatches
    assert result.proposals[0].field == "cost.max_monthly_usd"


def test_a_plan_explanation_with_a_wrong_cost_is_not_used() -> None:
    plan = _plan()
    text = "Lambda costs about $1,234.56 a month."
    client, _ = _client_answering(json.dumps({"recommended_version": None, "explanation": text}))
    result = explain(plan, client=client, model_id=MODEL_ID)
    assert result.source == "deterministic" and any("1,234.56" in m for m in result.mismatches)
    assert result.text.startswith(f"- Lambda: {plan.lambda_.memory_mb} MB")


def test_the_cli_shows_why_an_llm_answer_was_not_used(
    stack: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from typer.testing import CliRunner

    from liveml.cli import app

    client, stub = _client_answering(_answer(recommended_version=99, explanation="Ship it: ROC AUC 0.9999."))
    monkeypatch.setattr("liveml.aws.client", lambda service, **_: client)
    out = tmp_path / "advice.json"
    result = CliRunner().invoke(
        app,
        [
            "advise",
            "model",
            "--model",
            "churn",
            "--llm",
            "bedrock",
            "--llm-model",
            MODEL_ID,
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    stub.assert_no_pending_responses()
    assert "The LLM's answer was not used" in result.output and "cites 0.9999" in result.output
    explanation = json.loads(out.read_text())["explanation"]
    assert explanation["source"] == "deterministic" and any(
        "recommends v99" in m for m in explanation["mismatches"]
    )
