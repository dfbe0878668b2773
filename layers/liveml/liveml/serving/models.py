"""Loading the bound model version(s): fetch (S3 or a local directory), verify sha256, open sessions.

No pickle is ever read here: a model is ``manifest.json`` + ``model.onnx`` (+ ``model.compact.json``)
+ its contract, each checked against the sha256 the manifest lists, and the manifest against the
binding's. Only those artifacts are downloaded, whatever else the directory holds.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from liveml.contract import Contract, ContractError
from liveml.inference import ModelBundle, load_model_dir
from liveml.modeldir import COMPACT, CONTRACT_NAMES, MANIFEST, ONNX
from liveml.modeldir import sha256_hex as _sha256
from liveml.serving.assignment import assign_variant
from liveml.serving.binding import BoundVariant, Experiment, ModelBinding
from liveml.serving.constants import MODEL_CACHE_DIR
from liveml.serving.errors import BindingError, IntegrityError


class PredictionLike(Protocol):
    @property
    def label(self) -> str | None: ...
    @property
    def probabilities(self) -> dict[str, float] | None: ...
    @property
    def value(self) -> float | None: ...
    @property
    def confidence(self) -> float | None: ...


class Predictor(Protocol):
    """What serving needs from a model: raw rows (dicts keyed by column) in, one prediction per row."""

    def predict(self, rows: Sequence[Mapping[str, Any]]) -> Sequence[PredictionLike]: ...


@dataclass(frozen=True)
class Artifact:
    name: str
    sha256: str
    size_bytes: int | None
    #: s3://… when the model came from S3 (for presigned URLs), else None.
    uri: str | None


@dataclass
class ServedModel:
    """One loaded variant."""

    model: str
    version: str
    variant: str
    predictor: Predictor
    contract: Contract
    task: str
    classes: list[str] | None
    onnx: Artifact
    compact: Artifact | None
    manifest_sha256: str | None
    source: Literal["s3", "local"]
    local_path: str | None


@dataclass
class ServingModels:
    """Everything this process serves: one model name, one or more variants, and how players map to them."""

    model: str
    variants: list[ServedModel]
    experiment: Experiment | None = None
    split: list[tuple[str, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.variants:
            raise BindingError("no model variants loaded")
        self._by_name = {v.variant: v for v in self.variants}
        first = self.variants[0].contract
        for other in self.variants[1:]:
            # The request schema comes from one contract, so every variant must read the same features.
            if [c.model_dump() for c in other.contract.features] != [c.model_dump() for c in first.features]:
                raise BindingError(
                    f"variants {self.variants[0].variant!r} and {other.variant!r} have different feature "
                    "columns; an A/B test here needs the same contract features"
                )

    @property
    def primary(self) -> ServedModel:
        return self.variants[0]

    @property
    def contract(self) -> Contract:
        return self.primary.contract

    def for_player(self, player_id: str) -> ServedModel:
        """The variant that serves ``player_id``: sticky for an experiment, the only one otherwise."""
        if self.experiment is None:
            return self.primary
        return self._by_name[assign_variant(self.experiment.salt, player_id, self.split)]

    def variant(self, name: str) -> ServedModel:
        return self._by_name[name]


# --- fetching ----------------------------------------------------------------------------------


def _split_s3(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    if not bucket:
        raise BindingError(f"{uri!r} is not an s3://bucket/prefix URI")
    return bucket, key


def _needed(manifest: Mapping[str, Any]) -> list[str]:
    artifacts = manifest.get("artifacts", {})
    names = [ONNX, *(n for n in (COMPACT, *CONTRACT_NAMES) if n in artifacts)]
    # Refuse anything that is not ONNX or JSON/YAML, even if a manifest were to name it.
    return [n for n in names if n.endswith((".onnx", ".json", ".yaml", ".yml"))]


def fetch_s3(variant: BoundVariant, cache_dir: Path, s3: Any) -> Path:
    """Download the manifest and the serving artifacts of ``variant`` into ``cache_dir``, verified."""
    bucket, prefix = _split_s3(variant.uri)
    prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
    target = cache_dir / f"{variant.version}-{variant.sha256}"
    target.mkdir(parents=True, exist_ok=True)

    def get(key: str) -> bytes:
        try:
            body: bytes = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except Exception as exc:
            raise BindingError(f"cannot read s3://{bucket}/{key}: {exc}") from exc
        return body

    raw = get(prefix + MANIFEST)
    if _sha256(raw) != variant.sha256:
        raise IntegrityError(
            f"s3://{bucket}/{prefix}{MANIFEST}: sha256 {_sha256(raw)} differs from the binding's "
            f"{variant.sha256}; refusing to serve it"
        )
    manifest = json.loads(raw)
    for name in _needed(manifest):
        entry = manifest["artifacts"][name]
        data = get(prefix + entry["path"])
        if _sha256(data) != entry["sha256"]:
            raise IntegrityError(f"s3://{bucket}/{prefix}{entry['path']}: sha256 differs from the manifest")
        dest = target / entry["path"]
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
    (target / MANIFEST).write_bytes(raw)
    return target


def _load_contract(directory: Path, manifest: Mapping[str, Any]) -> Contract:
    artifacts = manifest.get("artifacts", {})
    for name in CONTRACT_NAMES:
        entry = artifacts.get(name)
        path = directory / (entry["path"] if entry else name)
        if path.is_file():
            if entry and _sha256(path.read_bytes()) != entry["sha256"]:
                raise IntegrityError(f"{path}: sha256 differs from the manifest")
            if name.endswith(".json"):
                return Contract.from_dict(json.loads(path.read_text()), source=str(path))
            return Contract.load(path)
    if isinstance(manifest.get("contract"), dict):
        try:
            return Contract.from_dict(manifest["contract"], source=f"{directory}/{MANIFEST}")
        except ContractError as exc:
            raise BindingError(str(exc)) from None
    raise BindingError(f"{directory}: the model directory carries no contract ({', '.join(CONTRACT_NAMES)})")


def _artifact(bundle: ModelBundle, name: str, base_uri: str | None) -> Artifact | None:
    entry = bundle.manifest.get("artifacts", {}).get(name)
    if entry is None:
        return None
    path = bundle.path / entry["path"]
    uri = None
    if base_uri is not None:
        uri = base_uri.rstrip("/") + "/" + entry["path"]
    return Artifact(name, entry["sha256"], path.stat().st_size if path.exists() else None, uri)


def load_variant(model: str, variant: BoundVariant, *, cache_dir: Path, s3: Any | None = None) -> ServedModel:
    if variant.is_s3:
        if s3 is None:
            from liveml.aws.clients import client

            s3 = client("s3")
        directory = fetch_s3(variant, cache_dir, s3)
    else:
        directory = Path(variant.uri)
        if variant.sha256 is not None:
            actual = _sha256((directory / MANIFEST).read_bytes())
            if actual != variant.sha256:
                raise IntegrityError(f"{directory}/{MANIFEST}: sha256 {actual} differs from {variant.sha256}")
    bundle = load_model_dir(directory)  # verifies every artifact against the manifest again
    contract = _load_contract(directory, bundle.manifest)
    onnx = _artifact(bundle, ONNX, variant.uri if variant.is_s3 else None)
    assert onnx is not None  # load_model_dir refused a manifest without it
    manifest_sha = variant.sha256 or _sha256((directory / MANIFEST).read_bytes())
    return ServedModel(
        model=model,
        version=variant.version,
        variant=variant.name,
        predictor=bundle.onnx,
        contract=contract,
        task=bundle.task,
        classes=bundle.classes,
        onnx=onnx,
        compact=_artifact(bundle, COMPACT, variant.uri if variant.is_s3 else None),
        manifest_sha256=manifest_sha,
        source="s3" if variant.is_s3 else "local",
        local_path=None if variant.is_s3 else str(directory.resolve()),
    )


def load_models(
    binding: ModelBinding, *, cache_dir: str | Path | None = None, s3: Any | None = None
) -> ServingModels:
    """Load every bound variant. Call once per process (module scope on Lambda)."""
    default = Path(tempfile.gettempdir()) / "liveml-models"  # Lambda: /tmp is the only writable place
    cache = Path(cache_dir or os.environ.get(MODEL_CACHE_DIR) or default)
    variants = [load_variant(binding.model, v, cache_dir=cache, s3=s3) for v in binding.variants]
    return ServingModels(binding.model, variants, binding.experiment, binding.split)
