"""Seeded generators of free text in many scripts and casings, for the text-fold tests.

Words carry the label, in Latin with accents, German, Turkish (dotted/dotless i), Greek (final sigma),
Cyrillic, Arabic, CJK, Korean and Deseret (astral letters with case); filler comes from every Unicode
category that matters to a tokenizer: letters of each case, combining marks, digits of other scripts,
letter numbers, punctuation, symbols, emoji, spaces and format characters, lone surrogates.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable

import pandas as pd

from liveml.contract import Column, ColumnType, Contract, Task

GOOD = [
    "génial",
    "très bien",
    "großartig",
    "İyi oyun",
    "отлично",
    "素晴らしい",
    "좋아요",
    "ممتاز",
    "ΩΡΑΙΟΣ",
    "𐐀𐐨𐐩",
]
BAD = [
    "énorme lag",
    "straße kaputt",
    "kötü ışık",  # noqa: RUF001 (look-alike letters on purpose)
    "ужасно",
    "遅いです",
    "버그",
    "سيء جدا",
    "ΚΑΚΟΣ",
    "ǅungla",
    "ⅫⅫ ½",
]
_CATEGORIES = (
    "Lu",
    "Ll",
    "Lt",
    "Lm",
    "Lo",
    "Mn",
    "Mc",
    "Nd",
    "Nl",
    "No",
    "Pc",
    "Pd",
    "Po",
    "Sm",
    "So",
    "Zs",
    "Cf",
)


def _by_category() -> dict[str, list[str]]:
    """Assigned code points of each category (BMP and astral), sampled once."""
    out: dict[str, list[str]] = {c: [] for c in _CATEGORIES}
    for cp in range(0x80, 0x30000):
        cat = unicodedata.category(chr(cp))
        if cat in out:
            out[cat].append(chr(cp))
    return out


_POOL = _by_category()


_CASINGS: list[Callable[[str], str]] = [str.upper, str.lower, str.title, str.swapcase, str.casefold]


def _case(rng: random.Random, word: str) -> str:
    return rng.choice(_CASINGS)(word)


def random_text(rng: random.Random) -> str:
    """Label words in random casings among runs of characters from random Unicode categories."""
    parts: list[str] = []
    for _ in range(rng.randint(1, 6)):
        roll = rng.random()
        if roll < 0.45:
            parts.append(_case(rng, rng.choice(GOOD + BAD)))
        elif roll < 0.9:
            cat = rng.choice(_CATEGORIES)
            parts.append("".join(rng.choice(_POOL[cat]) for _ in range(rng.randint(1, 4))))
        else:
            parts.append(rng.choice(["\ud83d", "\udc00", "_", "__x_", "_e9_", "😀👍🏽", "e\u0301"]))
    return rng.choice(["", " ", "  ", "\t", ", "]).join(parts) if rng.random() < 0.5 else " ".join(parts)


def random_texts(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [random_text(rng) for _ in range(n)]


def feedback_frame(n: int, seed: int) -> tuple[pd.DataFrame, Contract]:
    """Rows of (feedback, level, liked): liked follows the feedback's words in any script or casing."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        good = rng.random() < 0.5
        words = [_case(rng, rng.choice(GOOD if good else BAD)) for _ in range(rng.randint(1, 3))]
        words.append(_case(rng, rng.choice(GOOD + BAD)))  # some noise
        rng.shuffle(words)
        liked = good if rng.random() < 0.9 else not good
        rows.append({"feedback": " ".join(words), "level": rng.randint(1, 50), "liked": int(liked)})
    contract = Contract(
        name="feedback",
        task=Task.BINARY,
        target="liked",
        columns=[
            Column(name="feedback", type=ColumnType.TEXT),
            Column(name="level", type=ColumnType.INTEGER, nullable=False, min=1, max=100),
            Column(name="liked", type=ColumnType.INTEGER, nullable=False, min=0, max=1),
        ],
    )
    return pd.DataFrame(rows), contract
