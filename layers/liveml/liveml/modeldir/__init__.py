"""The model directory: its file names, the typed manifest and sha256 verification (``format.py``
describes the format). Standard library only, so every function and the CLI can import it."""

from __future__ import annotations

from liveml.modeldir.errors import ArtifactError, IntegrityError
from liveml.modeldir.format import (
    COMPACT,
    CONTRACT,
    CONTRACT_NAMES,
    EVALUATED_FILES,
    GOLDEN_REQUESTS,
    HOLDOUT_REFERENCE,
    HOLDOUT_ROWS,
    MANIFEST,
    MANIFEST_FORMAT_VERSION,
    MODEL_CARD_JSON,
    MODEL_CARD_MD,
    ONNX,
    REFERENCE_SAMPLE,
    REFERENCE_SKETCH,
    REPORT,
    TRIALS,
    ArtifactEntry,
    GraphInputEntry,
    Manifest,
    fetch_verified,
    seal,
    sha256_hex,
    write_manifest,
)

__all__ = [
    "COMPACT",
    "CONTRACT",
    "CONTRACT_NAMES",
    "EVALUATED_FILES",
    "GOLDEN_REQUESTS",
    "HOLDOUT_REFERENCE",
    "HOLDOUT_ROWS",
    "MANIFEST",
    "MANIFEST_FORMAT_VERSION",
    "MODEL_CARD_JSON",
    "MODEL_CARD_MD",
    "ONNX",
    "REFERENCE_SAMPLE",
    "REFERENCE_SKETCH",
    "REPORT",
    "TRIALS",
    "ArtifactEntry",
    "ArtifactError",
    "GraphInputEntry",
    "IntegrityError",
    "Manifest",
    "fetch_verified",
    "seal",
    "sha256_hex",
    "write_manifest",
]
