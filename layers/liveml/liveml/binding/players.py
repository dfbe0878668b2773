"""What a player id may be, the same wherever a client sends one (predictions, ``/models/latest``,
events): 1 to 128 characters, none of them a control character (C0, C1), a format character (bidi
marks and overrides, zero-width characters, the soft hyphen, BOM, language tags) or a line/paragraph
separator — the Unicode categories Cc, Cf, Zl and Zp. Those are invisible or change how an id reads
("Trojan Source"), and they forge log lines; an id is echoed in logs, captures and answers."""

from __future__ import annotations

import re

PLAYER_ID_MAX = 128
UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})

#: Every code point of those categories (Unicode 15.0, Python 3.12), as ranges; a test recomputes
#: them from ``unicodedata`` so a newer Python cannot drift from the table unnoticed.
UNSAFE_RANGES: tuple[tuple[int, int], ...] = (
    (0x0000, 0x001F), (0x007F, 0x009F), (0x00AD, 0x00AD), (0x0600, 0x0605), (0x061C, 0x061C),
    (0x06DD, 0x06DD), (0x070F, 0x070F), (0x0890, 0x0891), (0x08E2, 0x08E2), (0x180E, 0x180E),
    (0x200B, 0x200F), (0x2028, 0x202E), (0x2060, 0x2064), (0x2066, 0x206F), (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB), (0x110BD, 0x110BD), (0x110CD, 0x110CD), (0x13430, 0x1343F), (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A), (0xE0001, 0xE0001), (0xE0020, 0xE007F),
)  # fmt: skip


def _char_class(ranges: tuple[tuple[int, int], ...]) -> str:
    return "".join(f"\\u{a:04x}" if a == b else f"\\u{a:04x}-\\u{b:04x}" for a, b in ranges)


#: The rule as a JSON-schema pattern for the OpenAPI document. It lists the Basic Multilingual Plane's
#: ranges only, since a pattern's ``\u`` escapes cannot name the others; the check below covers all.
PLAYER_ID_PATTERN = f"^[^{_char_class(tuple(r for r in UNSAFE_RANGES if r[1] <= 0xFFFF))}]+$"
_UNSAFE = re.compile(
    "[" + "".join(f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in UNSAFE_RANGES) + "]"
)


def unsafe_character(value: str) -> str | None:
    """The first character a player id must not contain, if any."""
    found = _UNSAFE.search(value)
    return found.group() if found else None


def check_player_id(value: str) -> str:
    """``value`` if it is a valid player id; ``ValueError`` naming the first offending character."""
    if not 1 <= len(value) <= PLAYER_ID_MAX:
        raise ValueError(f"must be 1 to {PLAYER_ID_MAX} characters, got {len(value)}")
    bad = unsafe_character(value)
    if bad is not None:
        raise ValueError(f"must not contain control, format or bidi characters (found U+{ord(bad):04X})")
    return value
