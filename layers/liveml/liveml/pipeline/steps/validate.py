"""Validate: record the dataset version, read the settings and contract, run the data gate.

The report is always written to S3 (``runs/<model>/<run>/validation.json``); a failed gate raises
``DataQualityError`` naming the issues, and the failure notification links the report.
"""

from __future__ import annotations

from typing import Any

from liveml.aws.s3 import get_bytes, get_text_if_exists, put_bytes
from liveml.contract import Contract
from liveml.data import DataQualityError, validate_source
from liveml.pipeline.errors import PipelineError
from liveml.pipeline.settings import PipelineSettings
from liveml.pipeline.steps.runs import RunState
from liveml.registry import record_dataset


def validate_step(state: RunState) -> dict[str, Any]:
    dataset = record_dataset(state.bucket, state.key, state.version_id)
    settings = PipelineSettings.from_yaml(get_text_if_exists(state.settings_uri), where=state.settings_uri)
    contract_uri = state.model_folder_uri(settings.contract)
    contract_text = get_text_if_exists(contract_uri)
    if contract_text is None:
        raise PipelineError(
            f"no contract at {contract_uri}: write one (`liveml contract infer data.csv`) and upload it "
            "beside the data before the dataset"
        )
    contract = Contract.from_yaml(contract_text, source=contract_uri)

    report = validate_source(
        get_bytes(state.dataset_uri, version_id=state.version_id), contract, name=state.key
    )
    report_uri = state.run_uri("validation.json")
    put_bytes(report_uri, report.to_json().encode(), content_type="application/json")
    if not report.passed:
        raise DataQualityError(report)  # the notification links the report written above
    return {
        "dataset": {**dataset.model_dump(), "s3_uri": dataset.s3_uri},
        "settings": settings.model_dump(mode="json"),
        "trigger": {"trigger": state.trigger, "reason": state.trigger_reason},
        "contract_uri": contract_uri,
        "contract_sha256": contract.sha256,
        "report_uri": report_uri,
        "rows": report.rows,
        "warnings": len(report.warnings),
    }
