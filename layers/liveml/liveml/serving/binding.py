"""Which model version(s) a function version serves: the binding, frozen with the Lambda version.

``LIVEML_MODEL_BINDING`` holds it as JSON::

    {
      "model": "churn",
      "variants": [
        {"name": "A", "version": "3", "split_bp": 5000,
         "uri": "s3://artifacts-bucket/models/churn/3/",
         "sha256": "<sha256 of that directory's manifest.json>"},
        {"name": "B", "version": "4", "split_bp": 5000, "uri": "s3://…/models/churn/4/", "sha256": "…"}
      ],
      "experiment": {"name": "churn-ab-1", "salt": "churn-ab-7f3a"}
    }

Without an ``experiment`` there is exactly one variant (``split_bp`` may be omitted). The registry's
sha256 of ``manifest.json`` is the root of trust: the manifest lists every artifact with its own
sha256, and each one is checked after download. ``uri`` may also be a local directory (uvicorn, tests),
and ``LIVEML_MODEL_DIR`` alone binds the single model found there (named by ``LIVEML_MODEL_NAME`` and
``LIVEML_MODEL_VERSION`` when set, else by its manifest).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from liveml.errors import field_problems
from liveml.modeldir import MANIFEST
from liveml.serving.assignment import validate_split
from liveml.serving.constants import (
    BUCKETS,
    DEFAULT_VARIANT,
    MODEL_BINDING,
    MODEL_DIR,
    MODEL_NAME,
    MODEL_VERSION,
)
from liveml.serving.errors import BindingError


class Experiment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    salt: str = Field(min_length=1, description="mixed into the assignment hash; new salt, new assignment")


class BoundVariant(BaseModel):
    model_config = ConfigDict(extra="forbid")

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
    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1)
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

    @classmethod
    def from_json(cls, text: str, source: str = MODEL_BINDING) -> ModelBinding:
        try:
            return cls.model_validate_json(text)
        except ValidationError as exc:
            raise BindingError(f"{source}: {field_problems(exc)}") from None

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
        return cls(model=str(name), variants=[BoundVariant(version=str(ver), uri=str(directory.resolve()))])

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> ModelBinding:
        """``LIVEML_MODEL_BINDING`` (JSON), else ``LIVEML_MODEL_DIR``; a clear error when neither is set."""
        env = os.environ if environ is None else environ
        text = env.get(MODEL_BINDING)
        if text:
            return cls.from_json(text)
        directory = env.get(MODEL_DIR)
        if directory:
            return cls.from_dir(directory, model=env.get(MODEL_NAME), version=env.get(MODEL_VERSION))
        raise BindingError(f"no model bound: set {MODEL_BINDING} (JSON) or {MODEL_DIR} (a model directory)")
