"""Errors of reading and validating datasets."""

from __future__ import annotations

from typing import TYPE_CHECKING

from liveml.contract.model import IssueCode
from liveml.errors import LiveMLError

if TYPE_CHECKING:
    from liveml.data.report import ValidationReport


class DataReadError(LiveMLError):
    """The bytes are not a dataset we can read; ``code`` names the check (``unreadable``, ``encoding``...)."""

    http_status = 422

    def __init__(self, message: str, code: IssueCode = IssueCode.UNREADABLE) -> None:
        super().__init__(message)
        self.code = code


class DataQualityError(LiveMLError):
    """The data gate failed; ``report`` holds every issue found."""

    http_status = 422

    def __init__(self, report: ValidationReport) -> None:
        self.report = report
        super().__init__(report.summary())
