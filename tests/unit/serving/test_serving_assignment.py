"""Sticky A/B assignment: the published vectors, and the properties the A/B analysis relies on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from liveml.binding.assignment import assign_variant, bucket, validate_split
from liveml.binding.errors import BindingError

VECTORS = Path(__file__).resolve().parents[3] / "layers/liveml/liveml/binding/assignment_vectors.json"


def _vectors() -> list[dict[str, object]]:
    data: list[dict[str, object]] = json.loads(VECTORS.read_text(encoding="utf-8"))["vectors"]
    return data


def test_there_are_enough_vectors_covering_every_variant_and_edge() -> None:
    vectors = _vectors()
    assert len(vectors) >= 20
    assert {0, 9999} <= {v["bucket"] for v in vectors}  # both ends of the bucket space
    assert {"treatment", "C"} <= {v["variant"] for v in vectors}


@pytest.mark.parametrize("case", _vectors(), ids=lambda c: f"{c['salt']}:{c['player_id']}")
def test_assignment_vectors(case: dict[str, object]) -> None:
    salt, player = str(case["salt"]), str(case["player_id"])
    split = [(str(name), int(bp)) for name, bp in case["split"]]  # type: ignore[attr-defined]
    assert bucket(salt, player) == case["bucket"]
    assert assign_variant(salt, player, split) == case["variant"]


def test_assignment_does_not_depend_on_the_process_hash_seed() -> None:
    # Python's hash() changes with PYTHONHASHSEED; ours must not.
    code = "from liveml.binding.assignment import bucket; print([bucket('s', f'p{i}') for i in range(50)])"
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(outputs) == 1


def test_split_shares_are_respected_and_salts_reshuffle() -> None:
    split = [("A", 9000), ("B", 1000)]
    counts = Counter(assign_variant("exp", f"player-{i}", split) for i in range(20_000))
    assert abs(counts["B"] / 20_000 - 0.10) < 0.01
    same = sum(
        assign_variant("exp", f"p{i}", [("A", 5000), ("B", 5000)])
        == assign_variant("exp-2", f"p{i}", [("A", 5000), ("B", 5000)])
        for i in range(4000)
    )
    assert 0.45 < same / 4000 < 0.55  # a new salt is an independent assignment


@pytest.mark.parametrize(
    "split",
    [[], [("A", 5000), ("A", 5000)], [("A", 5000), ("B", 4000)], [("A", -1), ("B", 10001)]],
)
def test_bad_splits_are_refused(split: list[tuple[str, int]]) -> None:
    with pytest.raises(BindingError):
        validate_split(split)
