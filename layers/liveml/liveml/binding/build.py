"""Model bindings built from registered versions (what a rollout or an experiment binds)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from liveml.binding.constants import BUCKETS, DEFAULT_VARIANT
from liveml.binding.errors import BindingError
from liveml.binding.model import BoundVariant, Experiment, ModelBinding
from liveml.modeldir import MANIFEST

if TYPE_CHECKING:
    from liveml.registry import ModelVersion


def model_dir_uri(version: ModelVersion) -> tuple[str, str]:
    """``(s3://…/model/, sha256 of manifest.json)`` of a registered version."""
    manifest = version.artifacts.get(MANIFEST)
    if manifest is None:
        raise BindingError(
            f"{version.model} v{version.version} has no manifest.json artifact: cannot bind it"
        )
    return manifest.uri.rsplit("/", 1)[0] + "/", manifest.sha256


def bound_variant(
    version: ModelVersion, name: str = DEFAULT_VARIANT, split_bp: int = BUCKETS
) -> BoundVariant:
    uri, sha = model_dir_uri(version)
    return BoundVariant(name=name, version=str(version.version), split_bp=split_bp, uri=uri, sha256=sha)


def single_binding(version: ModelVersion) -> ModelBinding:
    """One model version serving every request of its model."""
    return ModelBinding(model=version.model, variants=[bound_variant(version)])


def experiment_binding(
    versions: dict[str, ModelVersion], split: dict[str, float], *, name: str, salt: str
) -> ModelBinding:
    """Sticky A/B: variants named by ``versions``' keys, ``split`` in shares summing to 1."""
    names = list(versions)
    if set(split) != set(names):
        raise BindingError(f"the split names {sorted(split)}, the variants are {sorted(names)}")
    bps = [round(split[n] * BUCKETS) for n in names]
    bps[-1] = BUCKETS - sum(bps[:-1])  # rounding must not lose a bucket
    model = {v.model for v in versions.values()}
    if len(model) != 1:
        raise BindingError(f"an experiment compares versions of one model, got {sorted(model)}")
    return ModelBinding(
        model=model.pop(),
        variants=[bound_variant(versions[n], n, bp) for n, bp in zip(names, bps, strict=True)],
        experiment=Experiment(name=name, salt=salt),
    )
