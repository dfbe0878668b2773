"""Loading the bound models: fetch (S3 or a local directory), verify sha256, open sessions when needed.

No pickle is ever read here: a model is ``manifest.json`` + ``model.onnx`` (+ ``model.compact.json``)
+ its contract, each checked against the sha256 the manifest lists, and the manifest against the
binding's. At start-up only each variant's manifest and contract are read (the API's request schemas
need them); its ONNX file is downloaded and its session opened on the first request that needs it,
so a version serving five models starts about as fast as one serving one.
"""

from __future__ import annotations

import json
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from liveml.binding import Binding, BoundVariant, Experiment, ModelBinding, assign_variant
from liveml.binding.constants import MODEL_CACHE_DIR
from liveml.binding.environment import read
from liveml.contract import Contract, ContractError
from liveml.modeldir import COMPACT, CONTRACT_NAMES, MANIFEST, ONNX
from liveml.modeldir import GOLDEN_REQUESTS as GOLDEN
from liveml.modeldir import sha256_hex as _sha256
from liveml.serving.errors import BindingError, IntegrityError, UnknownModelError


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


class _Source:
    """Where a variant's files come from: an S3 prefix (downloaded into a cache, verified) or a directory."""

    def __init__(self, variant: BoundVariant, cache_dir: Path, s3: Any | None) -> None:
        self.variant = variant
        self.is_s3 = variant.is_s3
        if self.is_s3:
            bucket, _, prefix = variant.uri.removeprefix("s3://").partition("/")
            if not bucket:
                raise BindingError(f"{variant.uri!r} is not an s3://bucket/prefix URI")
            self.bucket = bucket
            self.prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
            self.directory = cache_dir / f"{variant.version}-{variant.sha256}"
            self.directory.mkdir(parents=True, exist_ok=True)
        else:
            self.directory = Path(variant.uri)
        self._s3 = s3

    def _get(self, key: str) -> bytes:
        if self._s3 is None:
            from liveml.aws.clients import client

            self._s3 = client("s3")
        try:
            body: bytes = self._s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except Exception as exc:
            raise BindingError(f"cannot read s3://{self.bucket}/{key}: {exc}") from exc
        return body

    def manifest(self) -> tuple[dict[str, Any], str]:
        """The manifest and its sha256, checked against the binding's."""
        path = self.directory / MANIFEST
        raw = self._get(self.prefix + MANIFEST) if self.is_s3 else path.read_bytes()
        actual = _sha256(raw)
        expected = self.variant.sha256
        if expected is not None and actual != expected:
            where = f"s3://{self.bucket}/{self.prefix}{MANIFEST}" if self.is_s3 else str(path)
            raise IntegrityError(
                f"{where}: sha256 {actual} differs from the binding's {expected}; refusing it"
            )
        if self.is_s3:
            path.write_bytes(raw)
        try:
            return json.loads(raw), actual
        except ValueError as exc:
            raise BindingError(f"{path}: manifest is not JSON ({exc})") from None

    def fetch(self, manifest: Mapping[str, Any], name: str) -> Path | None:
        """The local path of artifact ``name`` (downloaded and checked from S3), None if not listed."""
        entry = manifest.get("artifacts", {}).get(name)
        if entry is None:
            return None
        path: Path = self.directory / entry["path"]
        if self.is_s3 and not path.is_file():
            data = self._get(self.prefix + entry["path"])
            if _sha256(data) != entry["sha256"]:
                raise IntegrityError(
                    f"s3://{self.bucket}/{self.prefix}{entry['path']}: sha256 differs from the manifest"
                )
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        return path

    def artifact(self, manifest: Mapping[str, Any], name: str) -> Artifact | None:
        entry = manifest.get("artifacts", {}).get(name)
        if entry is None:
            return None
        uri = self.variant.uri.rstrip("/") + "/" + entry["path"] if self.is_s3 else None
        size = entry.get("bytes")
        return Artifact(name, entry["sha256"], int(size) if size is not None else None, uri)


def _load_contract(source: _Source, manifest: Mapping[str, Any]) -> Contract:
    artifacts = manifest.get("artifacts", {})
    for name in CONTRACT_NAMES:
        path = source.fetch(manifest, name) if name in artifacts else source.directory / name
        if path is not None and path.is_file():
            entry = artifacts.get(name)
            if entry and _sha256(path.read_bytes()) != entry["sha256"]:
                raise IntegrityError(f"{path}: sha256 differs from the manifest")
            if name.endswith(".json"):
                return Contract.from_dict(json.loads(path.read_text()), source=str(path))
            return Contract.load(path)
    if isinstance(manifest.get("contract"), dict):
        try:
            return Contract.from_dict(manifest["contract"], source=f"{source.directory}/{MANIFEST}")
        except ContractError as exc:
            raise BindingError(str(exc)) from None
    raise BindingError(
        f"{source.directory}: the model directory carries no contract ({', '.join(CONTRACT_NAMES)})"
    )


class ServedVariant:
    """One bound variant: its manifest and contract from start-up, its ONNX session from first use."""

    def __init__(self, model: str, variant: BoundVariant, *, cache_dir: Path, s3: Any | None = None) -> None:
        self.model = model
        self.version = variant.version
        self.variant = variant.name
        self._source = _Source(variant, cache_dir, s3)
        manifest, self.manifest_sha256 = self._source.manifest()
        if ONNX not in manifest.get("artifacts", {}):
            raise BindingError(f"{model} v{self.version}: the manifest lists no {ONNX}")
        self.manifest = manifest
        self.contract = _load_contract(self._source, manifest)
        self.task = str(manifest["task"])
        classes = manifest.get("classes")
        self.classes: list[str] | None = None if classes is None else [str(c) for c in classes]
        self.source: Literal["s3", "local"] = "s3" if variant.is_s3 else "local"
        onnx = self._source.artifact(manifest, ONNX)
        assert onnx is not None
        self.onnx = onnx
        self.compact = self._source.artifact(manifest, COMPACT)
        self.golden = self._source.artifact(manifest, GOLDEN)
        self._predictor: Predictor | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._predictor is not None

    @property
    def predictor(self) -> Predictor:
        """The ONNX session, opened on first use (once, even with concurrent first requests)."""
        if self._predictor is None:
            with self._lock:
                if self._predictor is None:
                    self._predictor = self._open()
        return self._predictor

    def _open(self) -> Predictor:
        from liveml.inference import load_model_dir

        for name in (ONNX, COMPACT):
            self._source.fetch(self.manifest, name)
        # Reads the manifest again and checks every file it opens against it.
        bundle = load_model_dir(self._source.directory)
        if _sha256((self._source.directory / MANIFEST).read_bytes()) != self.manifest_sha256:
            raise IntegrityError(f"{self._source.directory}/{MANIFEST} changed since start-up; refusing it")
        return bundle.onnx


@dataclass
class ServedModel:
    """One model name: its variants and how players map to them."""

    model: str
    variants: list[ServedVariant]
    experiment: Experiment | None = None
    split: list[tuple[str, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.variants:
            raise BindingError(f"{self.model}: no variants loaded")
        self._by_name = {v.variant: v for v in self.variants}
        first = self.variants[0].contract
        for other in self.variants[1:]:
            # The request schema comes from one contract, so every variant must read the same features.
            if [c.model_dump() for c in other.contract.features] != [c.model_dump() for c in first.features]:
                raise BindingError(
                    f"{self.model}: variants {self.variants[0].variant!r} and {other.variant!r} have "
                    "different feature columns; an A/B test here needs the same contract features"
                )

    @property
    def primary(self) -> ServedVariant:
        return self.variants[0]

    @property
    def contract(self) -> Contract:
        return self.primary.contract

    def for_player(self, player_id: str) -> ServedVariant:
        """The variant that serves ``player_id``: sticky for an experiment, the only one otherwise."""
        if self.experiment is None:
            return self.primary
        return self._by_name[assign_variant(self.experiment.salt, player_id, self.split)]

    def variant(self, name: str) -> ServedVariant:
        return self._by_name[name]


@dataclass
class ServingModels:
    """Everything this process serves: each model by name, and the one of the model-less routes."""

    models: dict[str, ServedModel]
    default: str | None = None

    @property
    def names(self) -> list[str]:
        return list(self.models)

    def get(self, name: str | None) -> ServedModel:
        """The model ``name`` (None: the default), or a 404 naming the served ones."""
        key = self.default if name is None else name
        if key is None:
            raise UnknownModelError(None, self.names)
        try:
            return self.models[key]
        except KeyError:
            raise UnknownModelError(key, self.names) from None

    def __iter__(self) -> Any:
        return iter(self.models.values())


def load_model(model: ModelBinding, *, cache_dir: Path, s3: Any | None = None) -> ServedModel:
    variants = [ServedVariant(model.model, v, cache_dir=cache_dir, s3=s3) for v in model.variants]
    return ServedModel(model.model, variants, model.experiment, model.split)


def load_models(
    binding: Binding | ModelBinding,
    *,
    cache_dir: str | Path | None = None,
    s3: Any | None = None,
    eager: bool = False,
) -> ServingModels:
    """Every bound model's manifest and contract (sessions open on first use, or now with ``eager``).
    Call once per process (module scope on Lambda)."""
    doc = binding if isinstance(binding, Binding) else Binding.one(binding)
    default = Path(tempfile.gettempdir()) / "liveml-models"  # Lambda: /tmp is the only writable place
    cache = Path(cache_dir or read(MODEL_CACHE_DIR) or default)
    served = ServingModels({m.model: load_model(m, cache_dir=cache, s3=s3) for m in doc.models}, doc.default)
    if eager:
        for model in served:
            for variant in model.variants:
                _ = variant.predictor
    return served
