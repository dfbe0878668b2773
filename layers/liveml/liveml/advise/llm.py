"""The optional explanation by an LLM (Amazon Bedrock's Converse API), held to the facts.

The model is given the deterministic advice — a model comparison or a serving plan — and its facts
(named numbers from the registry and the measurements) and nothing else. Its answer must be a JSON
object that parses into :class:`LlmAnswer`; it must recommend the version the rule chose (when the
advice is about versions); every number in its text must match a fact within rounding; a proposed
change must name a real SLA field or contract gate. Anything else — an API error included — and the
deterministic answer stands, with the mismatch shown. Nothing else in LiveML needs it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from liveml.advise.constants import bedrock_model_id
from liveml.advise.sla import Sla
from liveml.contract.model import Gates
from liveml.errors import field_problems

_NUMBER = re.compile(r"(?<![\w.])[-+]?\d[\d,]*(?:\.\d+)?%?")

SYSTEM = (
    "You explain machine-learning decisions (which model version to ship, how to serve it against an "
    "SLA) to game producers in plain, short sentences. "
    "Use ONLY the facts given. Every number you write must be one of the facts (you may round it, or "
    "write a fraction as a percent). Answer with one JSON object and nothing else: "
    '{"recommended_version": <the version given, or null>, "explanation": "<3 to 6 sentences>", '
    '"proposals": [{"kind": "sla" | "gate", "field": "<dotted SLA field or contract gate>", '
    '"value": <number>, "why": "<one sentence>"}]}. '
    "Propose a change only when a fact supports it; an empty list is fine."
)


class Advice(Protocol):
    """What can be explained: ``ModelAdvice`` and ``DeployPlan``."""

    @property
    def headline(self) -> str: ...

    @property
    def recommended(self) -> int | None: ...

    @property
    def reasons(self) -> list[str]: ...

    def facts(self) -> dict[str, float]: ...


class Proposal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["sla", "gate"]
    field: str = Field(min_length=1)
    value: float
    why: str = ""


class LlmAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    recommended_version: int | None = None
    explanation: str = Field(min_length=1)
    proposals: list[Proposal] = Field(default_factory=list)


@dataclass(frozen=True)
class Explanation:
    """What to show: the LLM's answer when it held to the facts, else the deterministic reasons."""

    source: Literal["llm", "deterministic"]
    text: str
    proposals: list[Proposal] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    model_id: str | None = None


def _sla_fields(model: type[BaseModel] = Sla, prefix: str = "") -> set[str]:
    names: set[str] = set()
    for name, info in model.model_fields.items():
        sub = info.annotation
        if isinstance(sub, type) and issubclass(sub, BaseModel):
            names |= _sla_fields(sub, f"{prefix}{name}.")
        else:
            names.add(prefix + name)
    return names


def _gate_fields() -> set[str]:
    return {n for n in Gates.model_fields if n.startswith(("min_", "max_")) or n == "challenger_margin"}


def _decimals(token: str) -> int:
    return len(token.split(".")[1]) if "." in token else 0


def cited_numbers(text: str) -> list[str]:
    return [m.group(0) for m in _NUMBER.finditer(text)]


def matches_fact(token: str, facts: list[float]) -> bool:
    """``token`` equals a fact rounded to the token's own precision (a percent may stand for a fraction)."""
    percent = token.endswith("%")
    raw = token.rstrip("%").replace(",", "")
    try:
        value = float(raw)
    except ValueError:
        return False
    half_step = 0.5 * 10 ** -_decimals(raw) + 1e-9
    for fact in facts:
        candidates = [fact * 100] if percent else [fact, fact * 100]
        if any(abs(value - c) <= half_step for c in candidates):
            return True
    return False


def check_answer(answer: LlmAnswer, advice: Advice) -> list[str]:
    """Every way ``answer`` departs from the facts (empty: it may be shown)."""
    facts = list(advice.facts().values())
    problems = []
    if answer.recommended_version != advice.recommended:
        problems.append(f"recommends v{answer.recommended_version}, the rule chose v{advice.recommended}")
    texts = [answer.explanation, *(p.why for p in answer.proposals)]
    for text in texts:
        for token in cited_numbers(text):
            if not matches_fact(token, facts):
                problems.append(f"cites {token}, which is not among the facts")
    sla_fields, gates = _sla_fields(), _gate_fields()
    for p in answer.proposals:
        allowed = sla_fields if p.kind == "sla" else gates
        if p.field not in allowed:
            problems.append(f"proposes a change to {p.kind} field {p.field!r}, which does not exist")
    return problems


def parse_answer(text: str) -> LlmAnswer:
    """The JSON object in ``text`` (a code fence around it is tolerated) as :class:`LlmAnswer`."""
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        raise ValueError("the answer holds no JSON object")
    try:
        data = json.loads(text[start : end + 1])
    except ValueError as exc:
        raise ValueError(f"the answer's JSON does not parse: {exc}") from None
    try:
        return LlmAnswer.model_validate(data)
    except ValidationError as exc:
        raise ValueError(f"the answer does not fit the expected shape: {field_problems(exc)}") from None


def prompt(advice: Advice) -> str:
    facts = advice.facts()
    chose = "" if advice.recommended is None else f" The rule recommends v{advice.recommended}."
    return (
        f"{advice.headline}.{chose} The deterministic reasons:\n"
        + "\n".join(f"- {r}" for r in advice.reasons)
        + "\n\nFacts (name = value):\n"
        + "\n".join(f"{k} = {v:g}" for k, v in sorted(facts.items()))
        + f"\n\nSLA fields: {', '.join(sorted(_sla_fields()))}"
        + f"\nContract gates: {', '.join(sorted(_gate_fields()))}"
        + "\nExplain this to a producer."
    )


def explain(advice: Advice, *, client: Any = None, model_id: str | None = None) -> Explanation:
    """Ask Bedrock (``bedrock-runtime`` ``converse``) to explain ``advice``; fall back to the
    deterministic reasons whenever the answer cannot be trusted."""
    deterministic = "\n".join(f"- {r}" for r in advice.reasons)
    model_id = bedrock_model_id(model_id)
    if client is None:
        from liveml.aws import client as make_client

        client = make_client("bedrock-runtime")
    try:
        response = client.converse(
            modelId=model_id,
            system=[{"text": SYSTEM}],
            messages=[{"role": "user", "content": [{"text": prompt(advice)}]}],
            inferenceConfig={"maxTokens": 800, "temperature": 0.0},
        )
        text = "".join(c.get("text", "") for c in response["output"]["message"]["content"])
        answer = parse_answer(text)
    except Exception as exc:  # any failure of the optional path leaves the deterministic answer
        reason = str(exc) or type(exc).__name__
        return Explanation("deterministic", deterministic, mismatches=[f"LLM unavailable: {reason}"])
    problems = check_answer(answer, advice)
    if problems:
        return Explanation("deterministic", deterministic, mismatches=problems, model_id=model_id)
    return Explanation("llm", answer.explanation, answer.proposals, model_id=model_id)
