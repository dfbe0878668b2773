"""What a predict-function version serves: the binding document, frozen with the Lambda version.

A document names every model the version serves, each with its variants and optional A/B experiment::

    {
      "models": [
        {"model": "churn",
         "variants": [
           {"name": "A", "version": "3", "split_bp": 5000,
            "uri": "s3://artifacts-bucket/models/churn/3/",
            "sha256": "<sha256 of that directory's manifest.json>"},
           {"name": "B", "version": "4", "split_bp": 5000, "uri": "s3://…/models/churn/4/", "sha256": "…"}
         ],
         "experiment": {"name": "churn-ab-1", "salt": "churn-ab-7f3a"}},
        {"model": "ltv", "variants": [{"version": "1", "uri": "s3://…/models/ltv/1/", "sha256": "…"}]}
      ],
      "default_model": "churn"
    }

Without an ``experiment`` a model has exactly one variant (``split_bp`` may be omitted). The registry's
sha256 of ``manifest.json`` is the root of trust of each model: the manifest lists every artifact with
its own sha256, and each one is checked after download. ``uri`` may also be a local directory (uvicorn,
tests). ``default_model`` answers the model-less routes (``/predict``); a document of one model needs
none. The single-model shape of earlier versions (``{"model", "variants", "experiment"}``) still reads.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from liveml.binding.assignment import validate_split
from liveml.binding.constants import BUCKETS, DEFAULT_VARIANT, MODEL_BINDING
from liveml.binding.errors import BindingError
from liveml.errors import field_problems
from liveml.modeldir import MANIFEST

#: A model name is a path segment of the API (``/models/{model}/predict``) and an S3 prefix.
MODEL_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class Experiment(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    salt: str = Field(min_length=1, description="mixed into the assignment hash; new salt, new assignment")


class BoundVariant(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(DEFAULT_VARIANT, min_length=1, max_length=64)
    version: str = Field(min_length=1)
    split_bp: int = Field(BUCKETS, ge=0, le=BUCKETS, description="share of players in basis points")
    uri: str = Field(min_length=1, description="s3://bucket/prefix/ of the model directory, or a local path")
    sha256: str | None = Field(
        None, pattern=r"^[0-9a-f]{64}$", description="sha256 of manifest.json (required for s3:// URIs)"
    )

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value

    @property
    def is_s3(self) -> bool:
        return self.uri.startswith("s3://")

    @model_validator(mode="after")
    def _s3_needs_sha(self) -> Self:
        if self.is_s3 and self.sha256 is None:
            raise ValueError(f"variant {self.name!r}: an s3:// model needs the sha256 of its manifest.json")
        return self


class ModelBinding(BaseModel):
    """One model of a binding: its variants and how players map to them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field(pattern=MODEL_NAME_PATTERN)
    variants: list[BoundVariant] = Field(min_length=1)
    experiment: Experiment | None = None

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        if self.experiment is None and len(self.variants) != 1:
            raise ValueError("several variants need an experiment (name and salt) to assign players")
        if self.experiment is not None:
            validate_split(self.split)
        return self

    @property
    def split(self) -> list[tuple[str, int]]:
        return [(v.name, v.split_bp) for v in self.variants]

    @property
    def versions(self) -> list[str]:
        return [v.version for v in self.variants]

    def describe(self) -> str:
        """``churn v3`` or ``churn A=v3:50% B=v4:50% (churn-ab-1)``."""
        if self.experiment is None:
            return f"{self.model} v{self.variants[0].version}"
        parts = " ".join(f"{v.name}=v{v.version}:{v.split_bp / 100:g}%" for v in self.variants)
        return f"{self.model} {parts} ({self.experiment.name})"

    @classmethod
    def from_dir(
        cls, path: str | Path, *, model: str | None = None, version: str | None = None
    ) -> ModelBinding:
        """Bind the single model in a local directory; name and version from its manifest if not given."""
        directory = Path(path)
        try:
            manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise BindingError(f"{directory}: no readable manifest.json ({exc})") from None
        name = model or manifest.get("model") or manifest.get("name") or directory.resolve().name
        ver = version or manifest.get("version") or manifest.get("model_version") or "local"
        try:
            return cls(
                model=str(name), variants=[BoundVariant(version=str(ver), uri=str(directory.resolve()))]
            )
        except ValidationError as exc:
            raise BindingError(f"{directory}: {field_problems(exc)}") from None


class Binding(BaseModel):
    """The binding document: every model one function version serves."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    models: list[ModelBinding] = Field(min_length=1)
    default_model: str | None = Field(
        None, description="the model of /predict, /predict/batch, /models/latest"
    )

    @model_validator(mode="before")
    @classmethod
    def _single_model_shape(cls, data: Any) -> Any:
        # Versions published before many-model bindings carry one model at the top level.
        if isinstance(data, dict) and "model" in data and "models" not in data:
            return {"models": [data]}
        return data

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        names = self.names
        if len(set(names)) != len(names):
            raise ValueError(f"each model is bound once, got {names}")
        if self.default_model is not None and self.default_model not in names:
            raise ValueError(f"default_model {self.default_model!r} is not one of the bound models {names}")
        return self

    @property
    def names(self) -> list[str]:
        return [m.model for m in self.models]

    @property
    def default(self) -> str | None:
        """The model of the model-less routes: the named default, else the only model."""
        if self.default_model is not None:
            return self.default_model
        return self.models[0].model if len(self.models) == 1 else None

    def get(self, model: str) -> ModelBinding | None:
        return next((m for m in self.models if m.model == model), None)

    def with_model(self, binding: ModelBinding) -> Binding:
        """This document with ``binding`` replacing its model's entry (or added); every other model as is."""
        models = [binding if m.model == binding.model else m for m in self.models]
        if binding.model not in self.names:
            models.append(binding)
        return Binding(models=models, default_model=self.default_model or self.default)

    def describe(self) -> str:
        return ", ".join(m.describe() for m in self.models)

    def canonical(self) -> bytes:
        """The document's bytes: one spelling per content, so its sha256 addresses it."""
        doc = self.model_dump(mode="json", exclude_none=True)
        return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()

    @classmethod
    def one(cls, binding: ModelBinding) -> Binding:
        return cls(models=[binding])

    @classmethod
    def from_json(cls, text: str | bytes, source: str = MODEL_BINDING) -> Binding:
        try:
            return cls.model_validate_json(text)
        except ValidationError as exc:
            raise BindingError(f"{source}: {field_problems(exc)}") from None
