"""Reading datasets: formats, compression and encodings sniffed from content, clear errors."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from liveml.contract import IssueCode
from liveml.data import (
    DataReadError,
    dataset_fingerprint,
    player_contract,
    read_dataset,
    read_issues,
)


@pytest.fixture(scope="module")
def csv_bytes(players: pd.DataFrame) -> bytes:
    return players.to_csv(index=False).encode()


def _zip(data: bytes, name: str = "players.csv") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(name, data)
        zf.writestr("__MACOSX/._players.csv", b"junk")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("wrap", "name"),
    [
        (lambda b: b, "players.csv"),
        (lambda b: gzip.compress(b), "players.csv.gz"),
        (lambda b: gzip.compress(b), "upload.bin"),  # content decides, not the name
        (lambda b: bz2.compress(b), "players.csv.bz2"),
        (_zip, "players.zip"),
        (lambda b: b.replace(b",", b";"), "players.csv"),
        (lambda b: b.replace(b",", b"\t"), "players.tsv"),
        (lambda b: b.replace(b",", b"|"), None),
    ],
)
def test_csv_variants_read_the_same(
    players: pd.DataFrame, csv_bytes: bytes, wrap: object, name: str | None
) -> None:
    df = read_dataset(wrap(csv_bytes), name=name)  # type: ignore[operator]
    assert df.shape == players.shape
    assert list(df.columns) == list(players.columns)
    assert df["level"].tolist() == players["level"].tolist()
    assert read_issues(df) == []


def test_parquet_and_jsonl_and_json_array(players: pd.DataFrame, tmp_path: Path) -> None:
    pq = tmp_path / "p.parquet"
    players.to_parquet(pq, index=False)
    jl = players.to_json(orient="records", lines=True).encode()
    arr = players.to_json(orient="records").encode()
    for source, name in ((pq, None), (jl, "p.jsonl"), (gzip.compress(jl), "p.jsonl.gz"), (arr, "p.json")):
        df = read_dataset(source, name=name)
        assert len(df) == len(players) and df["player_id"].tolist() == players["player_id"].tolist()


def test_paths_bytes_and_streams(csv_bytes: bytes, tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(csv_bytes)
    by_path = read_dataset(path)
    by_str = read_dataset(str(path))
    with path.open("rb") as f:
        by_stream = read_dataset(f)
    by_bytes = read_dataset(io.BytesIO(csv_bytes).getvalue())
    for df in (by_str, by_stream, by_bytes):
        pd.testing.assert_frame_equal(df, by_path)
    assert by_path.attrs["liveml_source"]["sha256"] == hashlib.sha256(csv_bytes).hexdigest()
    assert (
        dataset_fingerprint(path) == dataset_fingerprint(csv_bytes) == hashlib.sha256(csv_bytes).hexdigest()
    )


def test_contract_keeps_leading_zeros() -> None:
    contract = player_contract()
    text = "player_id,device\n007,ios\n"
    assert read_dataset(text.encode(), contract=contract)["player_id"].tolist() == ["007"]
    assert read_dataset(text.encode())["player_id"].tolist() == [7]


def test_bom_is_read_with_a_warning(csv_bytes: bytes) -> None:
    df = read_dataset(b"\xef\xbb\xbf" + csv_bytes)
    assert df.columns[0] == "player_id"
    (issue,) = read_issues(df)
    assert issue.code is IssueCode.ENCODING and issue.severity == "warning"


def test_latin1_is_read_with_an_error_issue() -> None:
    df = read_dataset("player_id,feedback\np1,très bien\n".encode("latin-1"))
    assert df["feedback"].tolist() == ["très bien"]
    (issue,) = read_issues(df)
    assert issue.code is IssueCode.ENCODING and issue.severity == "error" and "très" in issue.examples


@pytest.mark.parametrize(
    ("data", "name", "code", "words"),
    [
        (b"", "x.csv", IssueCode.EMPTY_DATASET, "empty"),
        (b"\n\n  \n", "x.csv", IssueCode.EMPTY_DATASET, "empty"),
        (bytes(range(256)) * 8, "x.csv", IssueCode.UNREADABLE, "binary content"),
        (b"a,b\n1,2\n", "x.csv.gz", IssueCode.UNREADABLE, "not gz"),
        (gzip.compress(b"a,b\n1,2\n" * 100)[:30], "x.csv.gz", IssueCode.UNREADABLE, "corrupt or truncated"),
        (b'{"a": 1}\n{"a": 2, "b"', "x.jsonl", IssueCode.UNREADABLE, "line 2"),
        (b"PAR1 not really parquet", "x.parquet", IssueCode.UNREADABLE, "Parquet"),
        (b'a,b\n1,"unterminated\n', "x.csv", IssueCode.UNREADABLE, "cannot be parsed"),
    ],
)
def test_unreadable(data: bytes, name: str, code: IssueCode, words: str) -> None:
    with pytest.raises(DataReadError) as info:
        read_dataset(data, name=name)
    assert info.value.code is code
    assert words in str(info.value)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(DataReadError, match="no such file"):
        read_dataset(tmp_path / "nope.csv")
    with pytest.raises(DataReadError, match="is a directory"):
        read_dataset(tmp_path)


def test_ragged_rows_are_dropped_and_reported() -> None:
    df = read_dataset(b"a,b,c\n1,2,3\n4,5,6,7\n8,9\n10,11,12\n")
    assert df["a"].tolist() == [1, 10]
    (issue,) = read_issues(df)
    assert issue.code is IssueCode.RAGGED_ROWS and issue.rows_affected == 2
    assert issue.examples == ["row 2: 4 fields", "row 3: 2 fields"]


def test_truncated_last_row_says_so() -> None:
    (issue,) = read_issues(read_dataset(b"a,b,c\n1,2,3\n4,5"))
    assert issue.code is IssueCode.RAGGED_ROWS and "truncated" in issue.message


def test_no_delimiter_is_reported() -> None:
    (issue,) = read_issues(read_dataset(b"a b c\n1 2 3\n"))
    assert issue.code is IssueCode.WRONG_DELIMITER


def _bomb(kind: str, size: int) -> bytes:
    """``size`` bytes of one repeated CSV row, compressed: kilobytes that expand to ``size``."""
    row = b"p1,1,2,3\n"
    data = b"player_id,a,b,c\n" + row * (size // len(row))
    if kind == "gzip":
        return gzip.compress(data, compresslevel=9)
    if kind == "bz2":
        return bz2.compress(data)
    if kind == "xz":
        import lzma

        return lzma.compress(data)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("players.csv", data)
    return buf.getvalue()


@pytest.mark.parametrize("kind", ["gzip", "bz2", "xz", "zip"])
def test_decompression_bomb_is_refused_with_too_large(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = _bomb(kind, 8 << 20)
    assert len(bomb) < 200_000  # small on the wire
    monkeypatch.setenv("LIVEML_MAX_DATASET_BYTES", str(1 << 20))
    with pytest.raises(DataReadError, match="decompresses to more than 1,048,576 bytes") as err:
        read_dataset(bomb, name=f"players.csv.{kind}")
    assert err.value.code is IssueCode.TOO_LARGE


def test_zip_whose_header_lies_about_its_size_is_still_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = bytearray(_bomb("zip", 4 << 20))
    # Rewrite the uncompressed size in the central directory to 100 bytes; the cap must still hold.
    central = bomb.rfind(b"PK\x01\x02")
    bomb[central + 24 : central + 28] = (100).to_bytes(4, "little")
    monkeypatch.setenv("LIVEML_MAX_DATASET_BYTES", str(1 << 20))
    with pytest.raises(DataReadError) as err:
        read_dataset(bytes(bomb), name="players.csv.zip")
    assert err.value.code in (IssueCode.TOO_LARGE, IssueCode.UNREADABLE)


def test_under_the_cap_reads_and_the_setting_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIVEML_MAX_DATASET_BYTES", str(16 << 20))
    assert len(read_dataset(_bomb("gzip", 1 << 20), name="players.csv.gz")) > 100_000
    monkeypatch.setenv("LIVEML_MAX_DATASET_BYTES", "lots")
    with pytest.raises(DataReadError, match="LIVEML_MAX_DATASET_BYTES"):
        read_dataset(_bomb("gzip", 1000), name="players.csv.gz")


def test_plain_file_over_the_cap_is_refused(csv_bytes: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIVEML_MAX_DATASET_BYTES", "100")
    with pytest.raises(DataReadError) as err:
        read_dataset(csv_bytes, name="players.csv")
    assert err.value.code is IssueCode.TOO_LARGE
