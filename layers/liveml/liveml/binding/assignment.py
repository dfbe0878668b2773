"""Sticky variant assignment for A/B experiments.

``bucket = int.from_bytes(sha256(f"{salt}:{player_id}".encode("utf-8")).digest()[:8], "big") % 10_000``
and the variant is the first whose cumulative split (in basis points, summing to 10,000) exceeds the
bucket. Python's ``hash()`` is salted per process and would reshuffle players on every cold start;
sha256 is the same in every process and language, so the Unity client and the A/B analysis compute
exactly what the predict function computes. ``assignment_vectors.json`` beside this file holds the
test vectors every implementation must reproduce.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from liveml.binding.constants import BUCKETS
from liveml.binding.errors import BindingError


def bucket(salt: str, player_id: str) -> int:
    """The player's bucket in ``[0, 10000)`` for the experiment with ``salt``."""
    digest = hashlib.sha256(f"{salt}:{player_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def validate_split(split: Sequence[tuple[str, int]]) -> None:
    """A split names each variant once, with non-negative basis points summing to 10,000."""
    names = [name for name, _ in split]
    if not split or len(set(names)) != len(names):
        raise BindingError(f"split must name each variant once, got {names}")
    if any(bp < 0 for _, bp in split) or sum(bp for _, bp in split) != BUCKETS:
        raise BindingError(f"split weights are basis points summing to {BUCKETS}, got {list(split)}")


def variant_for_bucket(value: int, split: Sequence[tuple[str, int]]) -> str:
    """The variant whose cumulative range ``[lo, lo + bp)`` holds ``value``."""
    upper = 0
    for name, bp in split:
        upper += bp
        if value < upper:
            return name
    raise BindingError(f"bucket {value} outside a split summing to {upper}")


def assign_variant(salt: str, player_id: str, split: Sequence[tuple[str, int]]) -> str:
    """The variant of ``player_id``: stable across processes, machines and languages."""
    return variant_for_bucket(bucket(salt, player_id), split)
