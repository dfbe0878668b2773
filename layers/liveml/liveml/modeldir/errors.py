"""Errors of the model directory: one name for an artifact that must not be used."""

from __future__ import annotations

from liveml.errors import LiveMLError


class ArtifactError(LiveMLError):
    """A model artifact that is missing, tampered with (sha256 mismatch) or of an unknown format."""

    http_status = 500


class IntegrityError(ArtifactError):
    """An artifact's sha256 differs from the one recorded for it (manifest, binding or registry):
    never use it."""
