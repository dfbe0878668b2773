"""The dataset contract: one YAML file that validation, the request schema and the client agree on.

Only pydantic, PyYAML and the standard library are imported here: the serving path loads the
contract to order features and must stay free of pandas and scikit-learn.
"""

from __future__ import annotations

import hashlib
import json
import math
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from liveml import yamltext
from liveml.contract.errors import ContractError


class ColumnType(StrEnum):
    NUMERIC = "numeric"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    CATEGORICAL = "categorical"
    TEXT = "text"
    DATETIME = "datetime"


class Task(StrEnum):
    BINARY = "binary"
    MULTICLASS = "multiclass"
    REGRESSION = "regression"


class IssueCode(StrEnum):
    """Stable names of the data-quality checks; reports and ``Gates.warn_only`` use them."""

    UNREADABLE = "unreadable"
    ENCODING = "encoding"
    WRONG_DELIMITER = "wrong_delimiter"
    RAGGED_ROWS = "ragged_rows"
    EMPTY_DATASET = "empty_dataset"
    MISSING_COLUMNS = "missing_columns"
    EXTRA_COLUMNS = "extra_columns"
    TYPE_MISMATCH = "type_mismatch"
    NULL_FRACTION = "null_fraction"
    OUT_OF_RANGE = "out_of_range"
    INFINITE_VALUES = "infinite_values"
    UNSEEN_CATEGORIES = "unseen_categories"
    HIGH_CARDINALITY = "high_cardinality"
    DUPLICATE_ROWS = "duplicate_rows"
    DUPLICATE_IDS = "duplicate_ids"
    CONSTANT_COLUMN = "constant_column"
    TOO_FEW_ROWS = "too_few_rows"
    TARGET_MISSING = "target_missing"
    SINGLE_CLASS = "single_class"
    MIN_ROWS_PER_CLASS = "min_rows_per_class"
    TARGET_LEAKAGE = "target_leakage"
    TOO_LARGE = "too_large"
    NULL_RATE_JUMP = "null_rate_jump"
    IMPLAUSIBLE_VALUES = "implausible_values"


_NUMERIC_TYPES = frozenset({ColumnType.NUMERIC, ColumnType.INTEGER})


class Column(BaseModel):
    """One column of the dataset: its type, whether it may be empty, and what values are allowed."""

    model_config = ConfigDict(extra="forbid", use_enum_values=False)

    name: str = Field(min_length=1)
    type: ColumnType
    nullable: bool = True
    min: float | None = None
    max: float | None = None
    categories: list[str] | None = None
    description: str = ""
    # What `contract infer` saw (expectations, not hard limits): the gate flags a sudden jump in the
    # null rate and values far outside the plausible range (``liveml.data.expectations``).
    #: share of rows that were null in the data the contract was drafted from
    expected_null_fraction: float | None = Field(None, ge=0.0, le=1.0)
    #: the observed range widened by a margin; values outside it are implausible, not impossible
    plausible_min: float | None = None
    plausible_max: float | None = None
    #: the column held a single value in the data the contract was drafted from, so the gate does not
    #: flag it as constant (a column that *becomes* constant is a broken export; one that was is not)
    expected_constant: bool | None = None

    @field_validator("min", "max", "plausible_min", "plausible_max")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError("must be a finite number (leave it out for no bound)")
        return value

    @field_validator("categories", mode="before")
    @classmethod
    def _categories_as_strings(cls, value: Any) -> Any:
        # YAML turns `[1, 2]` or `[yes, no]` into ints and bools; categories are compared as text.
        if isinstance(value, list):
            return [_yaml_scalar_text(v) for v in value]
        return value

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        if (self.min is not None or self.max is not None) and self.type not in _NUMERIC_TYPES:
            raise ValueError(f"min/max apply to numeric and integer columns, not {self.type.value}")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        plausible = (self.plausible_min, self.plausible_max)
        if plausible != (None, None) and self.type not in _NUMERIC_TYPES:
            raise ValueError(f"plausible_min/max apply to numeric and integer columns, not {self.type.value}")
        if None not in plausible and plausible[0] > plausible[1]:  # type: ignore[operator]
            raise ValueError(f"plausible_min ({plausible[0]}) is greater than plausible_max ({plausible[1]})")
        if self.categories is not None:
            if self.type is not ColumnType.CATEGORICAL:
                raise ValueError(f"categories apply to categorical columns, not {self.type.value}")
            if len(set(self.categories)) != len(self.categories):
                raise ValueError("categories contain duplicates")
        return self


class Gates(BaseModel):
    """Thresholds of the data gate and the model gate; every field has a default."""

    model_config = ConfigDict(extra="forbid")

    # data gates
    min_rows: int = Field(200, ge=1)
    max_null_fraction: float = Field(0.2, ge=0.0, le=1.0)
    #: a column's null share may exceed its ``expected_null_fraction`` by at most this much
    max_null_increase: float = Field(0.05, ge=0.0, le=1.0)
    min_rows_per_class: int = Field(20, ge=1)
    #: a single feature whose out-of-fold score alone reaches this flags target leakage
    leakage_auc: float = Field(0.99, gt=0.5, le=1.0)
    max_duplicate_fraction: float = Field(0.01, ge=0.0, le=1.0)
    #: rows repeating an earlier row: ``error`` above ``max_duplicate_fraction``, or ``warn`` always.
    #: Unset: ``error`` with an ``entity_id`` (a player twice), ``warn`` without one (two players can
    #: legitimately share every value). Repeated entity ids are always an error (``duplicate_ids``).
    duplicates: Literal["warn", "error"] | None = None
    #: a categorical column with more distinct values than this is flagged
    max_categories: int = Field(1000, ge=1)
    #: issue codes reported as warnings instead of errors (for example ``extra_columns``)
    warn_only: list[IssueCode] = Field(default_factory=list)
    # model gates
    min_accuracy: float | None = Field(None, ge=0.0, le=1.0)
    min_balanced_accuracy: float | None = Field(None, ge=0.0, le=1.0)
    min_roc_auc: float | None = Field(None, ge=0.0, le=1.0)
    max_rmse: float | None = Field(None, ge=0.0)
    min_r2: float | None = None
    #: a challenger must beat the champion's primary metric by at least this much
    challenger_margin: float = 0.0


class Contract(BaseModel):
    """A dataset's columns, its target and task, the entity id and event time, and its gates."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    version: int = Field(1, ge=1)
    task: Task
    target: str
    #: classification labels in a fixed order (as text); required for multiclass
    classes: list[str] | None = None
    entity_id: str | None = None
    event_time: str | None = None
    columns: list[Column] = Field(min_length=1)
    gates: Gates = Field(default_factory=Gates)

    @field_validator("classes", mode="before")
    @classmethod
    def _classes_as_strings(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [_yaml_scalar_text(v) for v in value]
        return value

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        names = [c.name for c in self.columns]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"columns: duplicate names {dupes}")
        known = set(names)
        for role in ("target", "entity_id", "event_time"):
            value = getattr(self, role)
            if value is not None and value not in known:
                raise ValueError(f"{role}: {value!r} is not one of the columns")
        roles = [r for r in (self.target, self.entity_id, self.event_time) if r is not None]
        if len(set(roles)) != len(roles):
            raise ValueError("target, entity_id and event_time must be different columns")
        if self.event_time is not None and self.column(self.event_time).type is not ColumnType.DATETIME:
            raise ValueError(f"event_time: column {self.event_time!r} must have type datetime")
        if not self.features:
            raise ValueError("columns: the contract has no feature columns")
        target_type = self.column(self.target).type
        if self.task is Task.REGRESSION:
            if self.classes is not None:
                raise ValueError("classes: a regression contract has no classes")
            if target_type not in _NUMERIC_TYPES:
                raise ValueError(f"target: a regression target must be numeric, not {target_type.value}")
        else:
            if target_type in (ColumnType.TEXT, ColumnType.DATETIME):
                raise ValueError(f"target: a classification target cannot be {target_type.value}")
            if self.task is Task.MULTICLASS and (self.classes is None or len(self.classes) < 3):
                raise ValueError("classes: a multiclass contract lists at least 3 classes, in order")
            if self.task is Task.BINARY and self.classes is not None and len(self.classes) != 2:
                raise ValueError(f"classes: a binary contract has exactly 2 classes, got {len(self.classes)}")
            if self.classes is not None and len(set(self.classes)) != len(self.classes):
                raise ValueError("classes: duplicates")
        return self

    # --- the feature order -------------------------------------------------------------------

    @property
    def features(self) -> list[Column]:
        """Every column except target, entity id and event time, in contract order.

        This is THE feature order: the prediction API's request schema and game clients use it.
        """
        skip = {self.target, self.entity_id, self.event_time}
        return [c for c in self.columns if c.name not in skip]

    @property
    def feature_names(self) -> list[str]:
        return [c.name for c in self.features]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        """The column called ``name``; a ContractError naming the known columns if there is none."""
        for col in self.columns:
            if col.name == name:
                return col
        raise ContractError(f"contract {self.name!r} has no column {name!r} (columns: {self.column_names})")

    # --- (de)serialisation -------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Any, source: str = "contract") -> Contract:
        if not isinstance(data, dict):
            raise ContractError(f"{source}: expected a mapping at the top level, got {type(data).__name__}")
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise ContractError.from_validation(exc, source) from None

    @classmethod
    def from_yaml(cls, text: str, source: str = "contract") -> Contract:
        try:
            data = yamltext.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or "not valid YAML"
            raise ContractError(f"{source}: {problem}{where}") from None
        return cls.from_dict(data, source)

    @classmethod
    def load(cls, path: str | Path) -> Contract:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ContractError(f"{p}: no such contract file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ContractError(f"{p}: cannot read the contract ({exc})") from None
        return cls.from_yaml(text, source=str(p))

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def to_yaml(self) -> str:
        # Leave out empty optional fields so a drafted contract stays short enough to edit by hand.
        data = self.model_dump(mode="json", exclude_none=True, exclude_defaults=False)
        for col in data["columns"]:
            if not col.get("description"):
                col.pop("description", None)
            for bound in ("min", "max", "plausible_min", "plausible_max"):  # 0 reads better than 0.0
                if isinstance(col.get(bound), float) and col[bound].is_integer():
                    col[bound] = int(col[bound])
        gates = data.get("gates", {})
        if not gates.get("warn_only"):
            gates.pop("warn_only", None)
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)

    def save(self, path: str | Path) -> Path:
        p = Path(path)
        p.write_text(self.to_yaml(), encoding="utf-8")
        return p

    @property
    def canonical_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))

    @property
    def sha256(self) -> str:
        """Hash of the canonical JSON: same meaning, same hash, whatever the YAML's layout."""
        return hashlib.sha256(self.canonical_json.encode("utf-8")).hexdigest()


def _yaml_scalar_text(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value
