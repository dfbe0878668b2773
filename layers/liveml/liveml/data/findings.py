"""What the data gate's checks share while they run: the issues found so far and what later checks
reuse (each usable feature as numbers or category codes; the columns too broken to look at again)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from liveml.contract.model import IssueCode
from liveml.data.report import Issue, Severity

if TYPE_CHECKING:
    from numpy.typing import NDArray


@dataclass
class Findings:
    issues: list[Issue] = field(default_factory=list)
    #: numeric view of each usable feature (for the leakage check), by column name
    numeric: dict[str, NDArray[np.float64]] = field(default_factory=dict)
    #: category codes of each usable categorical feature (-1 for null)
    codes: dict[str, NDArray[np.int64]] = field(default_factory=dict)
    #: columns a type mismatch, all nulls or too many categories made unusable
    broken: set[str] = field(default_factory=set)

    def add(
        self,
        code: IssueCode,
        message: str,
        *,
        column: str | None = None,
        rows: int = 0,
        examples: list[str] | None = None,
        severity: Severity = Severity.ERROR,
    ) -> None:
        self.issues.append(
            Issue(
                code=code,
                severity=severity,
                column=column,
                rows_affected=rows,
                examples=examples or [],
                message=message,
            )
        )
