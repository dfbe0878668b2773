"""One rule for player ids, wherever a client sends one (``liveml.binding.players``)."""

from __future__ import annotations

import re
import unicodedata

import pytest

from liveml.binding.players import (
    PLAYER_ID_MAX,
    PLAYER_ID_PATTERN,
    UNSAFE_CATEGORIES,
    UNSAFE_RANGES,
    check_player_id,
    unsafe_character,
)
from liveml.monitoring.events import Event


def test_the_table_is_this_pythons_unicode_database() -> None:
    ranges: list[tuple[int, int]] = []
    for cp in range(0x110000):
        if unicodedata.category(chr(cp)) in UNSAFE_CATEGORIES:
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1] = (ranges[-1][0], cp)
            else:
                ranges.append((cp, cp))
    assert tuple(ranges) == UNSAFE_RANGES


@pytest.mark.parametrize(
    "bad",
    [
        "p\x00",
        "p\n1",
        "p\x85",
        "abc\u202e",
        "a\u200bb",
        "soft\u00adhyphen",
        "\ufeffbom",
        "tag\U000e0041",
        "l\u2028s",
    ],
)
def test_invisible_and_misleading_characters_are_refused_by_name(bad: str) -> None:
    char = unsafe_character(bad)
    assert char is not None
    with pytest.raises(ValueError, match=f"U\\+{ord(char):04X}"):
        check_player_id(bad)
    if ord(char) <= 0xFFFF:  # the OpenAPI pattern names the Basic Multilingual Plane's characters
        assert not re.match(PLAYER_ID_PATTERN, bad)


@pytest.mark.parametrize("good", ["p-1", "Zoë", "玩家_42", "игрок", "🎮player", "a" * PLAYER_ID_MAX])
def test_ids_in_any_script_are_accepted(good: str) -> None:
    assert check_player_id(good) == good and re.match(PLAYER_ID_PATTERN, good)


def test_lengths_outside_1_to_128_are_refused() -> None:
    for bad in ("", "a" * (PLAYER_ID_MAX + 1)):
        with pytest.raises(ValueError, match="1 to 128"):
            check_player_id(bad)


def test_events_use_the_same_rule() -> None:
    base = {"event_id": "e1", "type": "session_start", "timestamp": "2026-01-01T00:00:00Z"}
    assert Event.model_validate({**base, "player_id": "Zoë"}).player_id == "Zoë"
    with pytest.raises(ValueError, match="U\\+E0041"):
        Event.model_validate({**base, "player_id": "tag\U000e0041"})
