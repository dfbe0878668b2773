"""The pre-graph's text fold: ASCII out, the same words as scikit-learn's Unicode ``\\w`` finds, nothing
lost (the escape is reversible), format 1 models untouched, and the C# tables in step with Python's."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

from liveml.inference.errors import InputError
from liveml.inference.pregraph import PREGRAPH_VERSION, PreGraph, fold_text
from tests.unicode_text import random_texts
from tests.unity.textfold_tables import TABLES, render

_ESCAPE = re.compile(r"__|_([0-9a-f]+)_")


def _unfold(word: str) -> str:
    return _ESCAPE.sub(lambda m: "_" if m.group(0) == "__" else chr(int(m.group(1), 16)), word)


def _lowered(text: str) -> str:
    return "".join(c.lower() for c in text)


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("TRÈS BIEN", "tr_e8_s bien"),
        ("Straße", "stra_df_e"),
        ("İSTANBUL", "i stanbul"),  # 'İ' lowers to 'i' + a combining dot, which \w does not match
        ("ΑΣ ας", "_3b1__3c3_ _3b1__3c2_"),  # each character alone: no final-sigma context
        ("日本語", "_65e5__672c__8a9e_"),
        ("😀 a\u0301 \u200bb", "  a   b"),
        ("snake_case _e9_", "snake__case __e9__"),
        ("lone \ud83d", "lone  "),
        ("𐐀", "_10428_"),
        ("plain ascii", "plain ascii"),
    ],
)
def test_fold_examples(text: str, folded: str) -> None:
    assert fold_text(text) == folded


def test_word_characters_are_isalnum_or_underscore() -> None:
    """The fold and the C# tables classify with isalnum(); re's \\w must be exactly that."""
    word = re.compile(r"\w")
    assert [
        cp for cp in range(0x110000) if bool(word.fullmatch(chr(cp))) != (chr(cp).isalnum() or cp == 0x5F)
    ] == []


def test_fold_keeps_every_word_and_loses_none() -> None:
    texts = random_texts(4000, seed=1)
    assert sum(not t.isascii() for t in texts) > 3500
    for text in texts:
        folded = fold_text(text)
        assert folded.isascii(), text
        words = re.findall(r"\w+", folded)
        assert [_unfold(w) for w in words] == re.findall(r"\w+", _lowered(text)), text
        assert folded.lower() == folded  # scikit-learn's and ONNX's lowercasing change nothing


def test_ascii_fast_path_is_the_general_rule() -> None:
    text = "Mixed_CASE words 42 a-b"
    assert fold_text(text) == fold_text(text + "é")[:-4]


def _text_pregraph(version: int) -> PreGraph:
    return PreGraph.from_dict({"version": version, "columns": [{"name": "t", "type": "text"}]})


def test_format_2_folds_and_format_1_models_keep_their_text() -> None:
    rows: list[dict[str, Any]] = [{"t": "TRÈS_bien 日本"}, {"t": None}, {}]
    assert _text_pregraph(2).transform_rows(rows)["t"].ravel().tolist() == [
        "tr_e8_s__bien _65e5__672c_",
        "",
        "",
    ]
    assert _text_pregraph(1).transform_rows(rows)["t"].ravel().tolist() == ["TRÈS_bien 日本", "", ""]
    assert _text_pregraph(1).to_dict()["version"] == 1  # an older model round-trips as it was
    assert PreGraph([]).to_dict()["version"] == PREGRAPH_VERSION == 2


def test_unknown_pregraph_format_is_refused_by_name() -> None:
    with pytest.raises(
        InputError, match=r"pre-graph format version 3 is not supported \(this runtime reads \[1, 2\]\)"
    ):
        _text_pregraph(3)


def test_non_string_text_values_are_folded_as_text() -> None:
    out = _text_pregraph(2).transform_columns({"t": np.array([12, "ÉA"], dtype=object)})
    assert out["t"].ravel().tolist() == ["12", "_e9_a"]


def test_the_unity_client_tables_are_this_pythons() -> None:
    assert TABLES.read_text(encoding="utf-8") == render(), (
        "unity/Runtime/Core/TextFoldTables.cs is stale: run python tests/unity/textfold_tables.py"
    )


def test_the_fold_table_stops_growing_and_still_folds(monkeypatch: pytest.MonkeyPatch) -> None:
    from liveml.inference import pregraph

    monkeypatch.setattr(pregraph, "_FOLDED_MAX", len(pregraph._FOLDED))
    size = len(pregraph._FOLDED)
    texts = random_texts(300, seed=9)
    assert [fold_text(t) for t in texts] == ["".join(pregraph._fold_char(c) for c in t) for t in texts]
    assert len(pregraph._FOLDED) == size
