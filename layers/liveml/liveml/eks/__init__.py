"""Deployment tooling for the serving app on EKS (``liveml eks render|switch``): measuring a model's
pod (latency, memory), sizing replicas and resources for a QPS, rendering the kustomize tree (blue and
green slots, each with its binding document) and the live Service's selector patch.

The pods run ``liveml.serving.asgi`` under uvicorn and read the same binding document as a Lambda
version (``LIVEML_MODEL_BINDING``).
"""

from __future__ import annotations

from liveml.eks.kubernetes import (
    ImageNotPinnedError,
    Measurement,
    Sizing,
    irsa_trust_policy,
    measure,
    pinned_image,
    selector_patch,
    size,
    write_tree,
)

__all__ = [
    "ImageNotPinnedError",
    "Measurement",
    "Sizing",
    "irsa_trust_policy",
    "measure",
    "pinned_image",
    "selector_patch",
    "size",
    "write_tree",
]
