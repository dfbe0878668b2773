"""The SLA spec: the example parses; a bad spec is refused with the field named."""

from __future__ import annotations

from pathlib import Path

import pytest

from liveml.advise import Sla, SlaError

EXAMPLE_SLA = Path(__file__).resolve().parents[3] / "examples" / "sla.yaml"
GOOD = """
latency_ms: {p50: 20, p99: 80}
traffic: {mean_rps: 500, peak_rps: 2000}
availability: 99.9
cost: {max_monthly_usd: 3000}
"""


def test_example_sla_parses_with_its_stated_budget() -> None:
    sla = Sla.load(EXAMPLE_SLA)
    assert sla.latency_ms.p99 == 80 and sla.traffic.peak_rps == 2000
    assert sla.error_budget_fraction == pytest.approx(0.001)
    assert sla.error_budget.window_days == 30 and sla.quality.max_accuracy_loss == 0.03


def test_defaults_fill_what_is_optional() -> None:
    sla = Sla.from_yaml(GOOD)
    assert sla.traffic.peak_hours == 4 and sla.quality.max_drift == 0.2


@pytest.mark.parametrize(
    ("text", "named"),
    [
        (GOOD + "latncy: 3\n", "latncy"),  # a typo is an error, not a silent default
        (GOOD.replace("p50: 20", "p50: 200"), "latency_ms: Value error, p50 (200 ms) must not exceed p99"),
        (GOOD.replace("peak_rps: 2000", "peak_rps: 100"), "traffic: Value error, peak_rps (100)"),
        (GOOD.replace("99.9", "100"), "availability"),
        (GOOD.replace("99.9", "ninety"), "availability"),
        (GOOD.replace("cost: {max_monthly_usd: 3000}", ""), "cost: Field required"),
        (GOOD.replace("mean_rps: 500", "mean_rps: -1"), "traffic.mean_rps"),
        (GOOD + "quality: {max_accuracy_loss: 3}\n", "quality.max_accuracy_loss"),
        (GOOD + "error_budget: {window_days: 365}\n", "error_budget.window_days"),
        ("- a list\n", "must be a mapping"),
        ("latency_ms: [\n", "not valid YAML"),
    ],
)
def test_a_bad_spec_names_the_field(text: str, named: str) -> None:
    with pytest.raises(SlaError) as err:
        Sla.from_yaml(text, where="sla.yaml")
    assert named in str(err.value) and str(err.value).startswith("sla.yaml")


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SlaError, match="No such file"):
        Sla.load(tmp_path / "absent.yaml")


def test_the_readme_spec_is_the_example_spec() -> None:
    readme = (EXAMPLE_SLA.parents[1] / "README.md").read_text()
    block = readme.split("# sla.yaml (strict", 1)[1].split("```", 1)[0]
    assert Sla.from_yaml(block.split("\n", 1)[1]) == Sla.load(EXAMPLE_SLA)
