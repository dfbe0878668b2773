"""Errors of the dataset contract."""

from __future__ import annotations

from typing import TYPE_CHECKING

from liveml.errors import LiveMLError

if TYPE_CHECKING:
    from pydantic import ValidationError


class ContractError(LiveMLError):
    """A contract that does not parse or does not hold together; the message names the field."""

    http_status = 422

    @classmethod
    def from_validation(cls, exc: ValidationError, source: str = "contract") -> ContractError:
        """One line per pydantic error, each naming the field path (``columns[2].type``) and why."""
        lines = []
        for err in exc.errors(include_url=False):
            path = _field_path(err["loc"])
            where = f"{source}: {path}" if path else source
            msg = err["msg"].removeprefix("Value error, ")
            lines.append(f"{where}: {msg}")
        return cls("; ".join(lines) if lines else f"{source}: invalid contract")


def _field_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
