"""The validation report: JSON for machines, a rich table for people."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from liveml.contract.model import IssueCode

if TYPE_CHECKING:
    from rich.table import Table


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Issue(BaseModel):
    code: IssueCode
    severity: Severity = Severity.ERROR
    column: str | None = None
    rows_affected: int = 0
    #: a few offending values (or row numbers), as text
    examples: list[str] = Field(default_factory=list)
    message: str


class ValidationReport(BaseModel):
    passed: bool
    rows: int
    columns: int
    issues: list[Issue] = Field(default_factory=list)
    contract: str | None = None
    contract_sha256: str | None = None
    dataset_sha256: str | None = None
    seconds: float = 0.0

    @classmethod
    def build(cls, issues: list[Issue], rows: int, columns: int, **extra: object) -> ValidationReport:
        passed = not any(i.severity is Severity.ERROR for i in issues)
        # Errors first, then by code, so the first lines of a table are the ones that matter.
        ordered = sorted(
            issues, key=lambda i: (i.severity is not Severity.ERROR, i.code.value, i.column or "")
        )
        return cls.model_validate(
            {"passed": passed, "rows": rows, "columns": columns, "issues": ordered, **extra}
        )

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity is Severity.WARNING]

    @property
    def codes(self) -> set[str]:
        return {i.code.value for i in self.issues}

    def has(self, code: str, column: str | None = None) -> bool:
        return any(i.code == code and (column is None or i.column == column) for i in self.issues)

    def summary(self) -> str:
        if self.passed:
            extra = f" with {len(self.warnings)} warning(s)" if self.warnings else ""
            return f"data gate passed: {self.rows} rows, {self.columns} columns{extra}"
        codes = sorted({i.code.value for i in self.errors})
        return f"data gate failed: {len(self.errors)} error(s) ({', '.join(codes)})"

    def to_json(self, indent: int | None = 2) -> str:
        return self.model_dump_json(indent=indent)

    def render(self) -> Table:
        from rich.table import Table

        title = ("[bold green]PASSED[/]" if self.passed else "[bold red]FAILED[/]") + (
            f"  {self.rows} rows x {self.columns} columns"
        )
        if self.contract:
            title += f"  contract {self.contract}"
        table = Table(title=title, show_lines=False, expand=False)
        table.add_column("severity")
        table.add_column("check")
        table.add_column("column")
        table.add_column("rows", justify="right")
        table.add_column("examples", overflow="fold", max_width=40)
        table.add_column("message", overflow="fold")
        for issue in self.issues:
            sev = "[red]error[/]" if issue.severity is Severity.ERROR else "[yellow]warning[/]"
            table.add_row(
                sev,
                issue.code.value,
                issue.column or "",
                str(issue.rows_affected) if issue.rows_affected else "",
                ", ".join(_escape(e) for e in issue.examples),
                _escape(issue.message),
            )
        if not self.issues:
            table.add_row("", "", "", "", "", "no issues")
        return table


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
