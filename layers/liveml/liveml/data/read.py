"""Reading datasets: CSV, Parquet and JSON lines, plain or compressed, from a path, bytes or a stream.

The format is sniffed from the content (magic bytes, first characters), not only from the file
name, because uploads are often misnamed. Problems that still leave a readable table (a guessed
encoding, ragged rows that were dropped, a missing delimiter) are recorded as issues on
``df.attrs`` and picked up by ``validate``; bytes that are no table at all raise ``DataReadError``.

Decision on byte-order marks: a UTF-8 BOM (what Excel writes) is stripped and the file is read
normally, with a *warning* ``encoding`` issue. Rejecting it would only punish a harmless export
setting; not stripping it would silently rename the first column to ``\\ufeffplayer_id``.
A file that is not UTF-8 (latin-1, cp1252) is decoded with a guess so the rest can be reported,
but it fails the gate with an *error* ``encoding`` issue: the guess can be wrong, and the API
and game clients speak UTF-8.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import hashlib
import io
import lzma
import os
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol

from liveml.config import env
from liveml.contract.model import ColumnType, IssueCode
from liveml.data.errors import DataReadError
from liveml.data.report import Issue, Severity

if TYPE_CHECKING:
    import pandas as pd

    from liveml.contract.model import Contract

Source = str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO

#: key on ``DataFrame.attrs`` holding the issues found while reading (a list of dicts)
READ_ISSUES_ATTR = "liveml_read_issues"
#: key on ``DataFrame.attrs`` describing how the bytes were read (format, encoding, sha256...)
SOURCE_ATTR = "liveml_source"

_DELIMITERS = (",", ";", "\t", "|")
#: decompressed size refused by default: well above a game's player table, well below a Lambda's memory
DEFAULT_MAX_DATASET_BYTES = 2 << 30
_CHUNK = 1 << 20
_COMPRESSED_SUFFIXES = (".gz", ".gzip", ".bz2", ".zip", ".xz")
_TEXT_SUFFIXES = (".csv", ".tsv", ".txt", ".jsonl", ".ndjson", ".json")


def dataset_fingerprint(source: Source) -> str:
    """sha256 of the dataset's bytes as stored (the version id of a dataset, beside S3's)."""
    if isinstance(source, str | os.PathLike):
        h = hashlib.sha256()
        try:
            with Path(source).open("rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
        except OSError as exc:
            raise DataReadError(f"{source}: cannot read ({exc.strerror or exc})") from None
        return h.hexdigest()
    raw, _ = _load_bytes(source, None)
    return hashlib.sha256(raw).hexdigest()


def read_issues(df: pd.DataFrame) -> list[Issue]:
    """The issues ``read_dataset`` recorded on ``df`` (empty for a frame built any other way)."""
    return [Issue.model_validate(d) for d in df.attrs.get(READ_ISSUES_ATTR, [])]


def read_dataset(
    source: Source, *, name: str | None = None, contract: Contract | None = None
) -> pd.DataFrame:
    """Read a dataset from a path, bytes or a binary stream into a DataFrame.

    ``name`` is a hint (a file name such as ``players.csv.gz``) used only where the content does
    not decide. With a ``contract``, categorical and text columns are read as text, so codes like
    ``007`` keep their leading zeros.
    """

    raw, name = _load_bytes(source, name)
    sha = hashlib.sha256(raw).hexdigest()
    label = name or "dataset"
    data, compression, inner = _decompress(raw, label)
    if not data.strip():
        raise DataReadError(f"{label}: the file is empty", IssueCode.EMPTY_DATASET)
    issues: list[Issue] = []
    info: dict[str, Any] = {"name": name, "sha256": sha, "bytes": len(raw), "compression": compression}

    if data[:4] == b"PAR1":
        df = _read_parquet(data, label)
        info["format"] = "parquet"
    else:
        _reject_binary(data, label)
        text, encoding = _decode(data, label, issues)
        info["encoding"] = encoding
        head = text.lstrip()[:1]
        lower = inner.lower()
        if head in ("{", "[") or lower.endswith((".jsonl", ".ndjson", ".json")):
            df = _read_json(text, label)
            info["format"] = "jsonl"
        else:
            df, delimiter = _read_csv(text, label, issues, contract)
            info["format"] = "csv"
            info["delimiter"] = delimiter
    df.attrs[READ_ISSUES_ATTR] = [i.model_dump(mode="json") for i in issues]
    df.attrs[SOURCE_ATTR] = info
    return df


# --- bytes in --------------------------------------------------------------------------------


def _load_bytes(source: Source, name: str | None) -> tuple[bytes, str | None]:
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source), name
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            return path.read_bytes(), name or path.name
        except FileNotFoundError:
            raise DataReadError(f"{path}: no such file") from None
        except IsADirectoryError:
            raise DataReadError(f"{path}: is a directory, not a dataset file") from None
        except OSError as exc:
            raise DataReadError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if hasattr(source, "read"):
        data = source.read()
        if isinstance(data, str):  # a text stream: accept it, the caller meant the characters
            data = data.encode("utf-8")
        if not isinstance(data, bytes | bytearray):
            raise DataReadError(f"cannot read a dataset from {type(source).__name__}")
        return bytes(data), name or _stream_name(source)
    raise DataReadError(f"cannot read a dataset from {type(source).__name__}")


def _stream_name(stream: Any) -> str | None:
    n = getattr(stream, "name", None)
    return Path(n).name if isinstance(n, str) else None


def max_dataset_bytes() -> int:
    """The most bytes a dataset may decompress to (``LIVEML_MAX_DATASET_BYTES``, default 2 GiB)."""
    raw = env("MAX_DATASET_BYTES")
    try:
        return int(raw) if raw else DEFAULT_MAX_DATASET_BYTES
    except ValueError:
        raise DataReadError(f"LIVEML_MAX_DATASET_BYTES must be a number of bytes, not {raw!r}") from None


def _decompress(raw: bytes, label: str, limit: int | None = None) -> tuple[bytes, str | None, str]:
    """(data, compression, inner name). Magic bytes decide; a compressed name without them is an error.

    Decompression streams with an output cap: a few kilobytes can expand to gigabytes (a
    decompression bomb), which must be refused with ``too_large`` before it fills the memory.
    """
    cap = max_dataset_bytes() if limit is None else limit
    lower = label.lower()
    inner = lower
    for suffix in _COMPRESSED_SUFFIXES:
        if lower.endswith(suffix):
            inner = lower[: -len(suffix)]
    try:
        if raw[:2] == b"\x1f\x8b":
            return _capped(gzip.GzipFile(fileobj=io.BytesIO(raw)), cap, label), "gzip", inner
        if raw[:3] == b"BZh":
            return _capped(bz2.BZ2File(io.BytesIO(raw)), cap, label), "bz2", inner
        if raw[:6] == b"\xfd7zXZ\x00":
            return _capped(lzma.LZMAFile(io.BytesIO(raw)), cap, label), "xz", inner
        if raw[:4] == b"PK\x03\x04":
            data, member = _unzip(raw, label, cap)
            return data, "zip", member.lower()
    except (EOFError, OSError, zlib.error, lzma.LZMAError, ValueError) as exc:
        raise DataReadError(
            f"{label}: the compressed stream is corrupt or truncated ({exc}); upload the complete file"
        ) from None
    if inner != lower:
        kind = lower.rsplit(".", 1)[-1]
        raise DataReadError(
            f"{label}: named .{kind} but the content is not {kind} (starts with {raw[:8]!r}); "
            "fix the extension or compress the file"
        )
    if len(raw) > cap:
        raise _too_large(label, cap)
    return raw, None, lower


class _Reader(Protocol):
    def read(self, size: int, /) -> bytes: ...
    def close(self) -> None: ...


def _too_large(label: str, cap: int) -> DataReadError:
    return DataReadError(
        f"{label}: decompresses to more than {cap:,} bytes (LIVEML_MAX_DATASET_BYTES); "
        "split the dataset or raise the limit",
        IssueCode.TOO_LARGE,
    )


def _capped(stream: _Reader, cap: int, label: str) -> bytes:
    """Read a decompressing stream chunk by chunk, refusing as soon as it passes ``cap`` bytes."""
    out = bytearray()
    try:
        while chunk := stream.read(min(_CHUNK, cap + 1 - len(out))):
            out += chunk
            if len(out) > cap:
                raise _too_large(label, cap)
    finally:
        stream.close()
    return bytes(out)


def _unzip(raw: bytes, label: str, cap: int) -> tuple[bytes, str]:
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            members = [
                m
                for m in zf.infolist()
                if not m.is_dir()
                and not m.filename.startswith("__MACOSX/")
                and not Path(m.filename).name.startswith(".")
            ]
            if len(members) != 1:
                names = [m.filename for m in members]
                raise DataReadError(f"{label}: a zip must hold exactly one data file, found {names}")
            # The declared size can lie; the cap is enforced on what really comes out.
            if members[0].file_size > cap:
                raise _too_large(label, cap)
            return _capped(zf.open(members[0]), cap, label), members[0].filename
    except zipfile.BadZipFile as exc:
        raise DataReadError(f"{label}: corrupt or truncated zip ({exc})") from None


def _reject_binary(data: bytes, label: str) -> None:
    sample = data[:65536]
    if sample[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return  # UTF-16 text has NULs by nature
    controls = sum(1 for b in sample if b < 9 or 13 < b < 32)
    if b"\x00" in sample or controls > len(sample) // 100:
        raise DataReadError(
            f"{label}: binary content, not CSV, Parquet or JSON lines (starts with {sample[:8]!r})"
        )


def _decode(data: bytes, label: str, issues: list[Issue]) -> tuple[str, str]:
    if data[:3] == b"\xef\xbb\xbf":
        issues.append(
            Issue(
                code=IssueCode.ENCODING,
                severity=Severity.WARNING,
                message="UTF-8 byte-order mark found and stripped; the file was read as UTF-8",
            )
        )
        return _strict(data[3:], "utf-8", label), "utf-8-sig"
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        issues.append(
            Issue(
                code=IssueCode.ENCODING,
                severity=Severity.WARNING,
                message="UTF-16 file (byte-order mark found); read it, but prefer UTF-8",
            )
        )
        return _strict(data, "utf-16", label), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    for guess in ("cp1252", "latin-1"):
        try:
            text = data.decode(guess)
        except UnicodeDecodeError:
            continue
        line_no = data.count(b"\n", 0, first_bad) + 1
        examples = _non_ascii_words(text)
        issues.append(
            Issue(
                code=IssueCode.ENCODING,
                severity=Severity.ERROR,
                rows_affected=0,
                examples=examples,
                message=f"not UTF-8 (first bad byte on line {line_no}); decoded as {guess} "
                "to report the rest, re-export the file as UTF-8",
            )
        )
        return text, guess
    raise DataReadError(f"{label}: text in an unknown encoding", IssueCode.ENCODING)  # pragma: no cover


def _strict(data: bytes, encoding: str, label: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise DataReadError(
            f"{label}: declares {encoding} but is not ({exc.reason} at byte {exc.start})", IssueCode.ENCODING
        ) from None


def _non_ascii_words(text: str, limit: int = 3) -> list[str]:
    found: list[str] = []
    for word in text[:200_000].replace(",", " ").split():
        if not word.isascii() and word not in found:
            found.append(word[:40])
            if len(found) >= limit:
                break
    return found


# --- formats ---------------------------------------------------------------------------------


def _read_parquet(data: bytes, label: str) -> pd.DataFrame:
    import pandas as pd

    try:
        return pd.read_parquet(io.BytesIO(data))
    except ImportError:
        raise DataReadError(f"{label}: Parquet needs pyarrow, which is not installed here") from None
    except Exception as exc:  # pyarrow raises its own types for corrupt files
        raise DataReadError(f"{label}: corrupt or truncated Parquet ({_first_line(exc)})") from None


def _read_json(text: str, label: str) -> pd.DataFrame:
    import json

    import pandas as pd

    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            records = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise DataReadError(f"{label}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise DataReadError(f"{label}: a JSON file must be an array of objects (one per row)")
        return pd.DataFrame.from_records(records) if records else pd.DataFrame()
    rows: list[dict[str, Any]] = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            hint = " (the file looks truncated)" if line_no >= len(text.splitlines()) else ""
            raise DataReadError(f"{label}: invalid JSON on line {line_no}: {exc.msg}{hint}") from None
        if not isinstance(row, dict):
            raise DataReadError(f"{label}: line {line_no} is not a JSON object")
        rows.append(row)
    return pd.DataFrame.from_records(rows)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def _sniff_delimiter(lines: list[str]) -> str | None:
    """The delimiter giving the most consistent field count (>1) over the first lines, or None."""
    best: tuple[float, int, str] | None = None
    for d in _DELIMITERS:
        counts = [len(r) for r in csv.reader(lines, delimiter=d) if r]
        if not counts or counts[0] < 2:
            continue
        consistency = sum(1 for c in counts if c == counts[0]) / len(counts)
        score = (consistency, counts[0], d)
        if best is None or score[:2] > best[:2]:
            best = score
    return best[2] if best else None


def _read_csv(
    text: str, label: str, issues: list[Issue], contract: Contract | None
) -> tuple[pd.DataFrame, str]:
    import pandas as pd

    lines = [ln for ln in text.splitlines()[:50] if ln.strip()]
    delimiter = _sniff_delimiter(lines)
    if delimiter is None:
        delimiter = ","
        first = lines[0] if lines else ""
        issues.append(
            Issue(
                code=IssueCode.WRONG_DELIMITER,
                examples=[first[:80]],
                message="no comma, semicolon, tab or | delimiter found: every row is one field "
                "(was the file written with spaces or another separator?)",
            )
        )
    try:
        reader: Iterable[list[str]] = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        counts = [len(r) for r in reader if r]
    except csv.Error as exc:
        raise DataReadError(f"{label}: the CSV cannot be parsed ({exc})") from None
    n_fields = counts[0] if counts else 0
    ragged = [(i, c) for i, c in enumerate(counts[1:], start=1) if c != n_fields]

    dtype: dict[str, Any] | None = None
    if contract is not None:
        header = next(csv.reader([lines[0]], delimiter=delimiter)) if lines else []
        as_text = {c.name for c in contract.columns if c.type in (ColumnType.CATEGORICAL, ColumnType.TEXT)}
        dtype = {h: str for h in header if h in as_text}
    try:
        df = pd.read_csv(
            io.StringIO(text), sep=delimiter, dtype=dtype, on_bad_lines="skip", engine="c", low_memory=False
        )
    except pd.errors.EmptyDataError:
        raise DataReadError(f"{label}: no columns (empty file)", IssueCode.EMPTY_DATASET) from None
    except (pd.errors.ParserError, ValueError, csv.Error) as exc:
        raise DataReadError(
            f"{label}: the CSV cannot be parsed ({_first_line(exc)}); is the file truncated?"
        ) from None

    if ragged:
        # pandas skipped the long rows and padded the short ones with NaN: drop the short ones too,
        # so every row left is one the file really held.
        kept = [c for c in counts[1:] if c <= n_fields]
        short_positions = [pos for pos, c in enumerate(kept) if c < n_fields]
        if short_positions and len(kept) == len(df):
            df = df.drop(index=df.index[short_positions]).reset_index(drop=True)
        last_only = len(ragged) == 1 and ragged[0][0] == len(counts) - 1
        issues.append(
            Issue(
                code=IssueCode.RAGGED_ROWS,
                rows_affected=len(ragged),
                examples=[f"row {i}: {c} fields" for i, c in ragged[:5]],
                message=(
                    f"rows with a field count other than the header's {n_fields} were dropped"
                    + ("; only the last row is short: the file looks truncated" if last_only else "")
                ),
            )
        )
    return df, delimiter
