"""Build the corpus of broken datasets the data gate must reject, deterministically.

Run ``python tests/data/bad/make_corpus.py`` to (re)write the files beside this script; the unit
tests check that the committed files match what this script writes. Every case starts from the
same small, clean synthetic sample (which passes) and breaks exactly one thing. The 100k-category
file is large, so the tests build it with ``high_cardinality_frame`` at test time instead.
"""

from __future__ import annotations

import argparse
import gzip
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from liveml.contract import Contract, Gates
from liveml.data.synth import generate_players, player_contract

HERE = Path(__file__).resolve().parent
ROWS = 60
SEED = 11


@dataclass(frozen=True)
class Case:
    file: str
    code: str | None  # the issue code the gate must report; None for files that must pass
    why: str
    passes: bool = False
    #: text files are compared byte for byte in the tests; binary writers may vary by library version
    stable: bool = True


def corpus_contract() -> Contract:
    """The players contract with gates sized for a 60-row sample."""
    base = player_contract("binary")
    return base.model_copy(update={"name": "bad-corpus", "gates": Gates(min_rows=40, min_rows_per_class=5)})


def clean_frame() -> pd.DataFrame:
    return generate_players(ROWS, SEED, "binary")


def _csv(df: pd.DataFrame) -> bytes:
    return df.to_csv(index=False, lineterminator="\n").encode("utf-8")


def _with(column: str, values: Callable[[pd.DataFrame], Any]) -> Callable[[], bytes]:
    def build() -> bytes:
        df = clean_frame()
        df[column] = values(df)
        return _csv(df)

    return build


def _rows(pick: Callable[[pd.DataFrame], pd.DataFrame]) -> Callable[[], bytes]:
    return lambda: _csv(pick(clean_frame()))


def _set_cells(column: str, rows: list[int], value: Any) -> Callable[[], bytes]:
    def build() -> bytes:
        df = clean_frame()
        if not isinstance(value, int | float):
            df[column] = df[column].astype(object)
        df.loc[df.index.isin(rows), column] = value
        return _csv(df)

    return build


def _binary_junk() -> bytes:
    return np.random.default_rng(SEED).integers(0, 256, 4096, dtype=np.uint8).tobytes()


def _truncated_gzip() -> bytes:
    whole = gzip.compress(_csv(clean_frame()), mtime=0)
    return whole[: len(whole) // 2]


def _truncated_csv() -> bytes:
    lines = _csv(clean_frame()).decode().splitlines()
    last = ",".join(lines[-1].split(",")[:4])  # the upload stopped in the middle of the last row
    return ("\n".join([*lines[:-1], last])).encode()


def _ragged() -> bytes:
    lines = _csv(clean_frame()).decode().splitlines()
    lines[5] += ",surplus,fields"
    lines[9] = ",".join(lines[9].split(",")[:7])
    return ("\n".join(lines) + "\n").encode()


def _latin1() -> bytes:
    df = clean_frame()
    df.loc[[2, 7, 30], "feedback"] = ["très bien", "génial, à bientôt", "trop difficile, fâché"]
    return df.to_csv(index=False, lineterminator="\n").encode("latin-1")


def _bom() -> bytes:
    return b"\xef\xbb\xbf" + _csv(clean_frame())


def _space_separated() -> bytes:
    return (clean_frame().to_string(index=False) + "\n").encode()


def _duplicate_rows() -> bytes:
    df = clean_frame()
    return _csv(pd.concat([df, df.iloc[:8]], ignore_index=True))


def _duplicate_ids() -> bytes:
    df = clean_frame()
    copies = df.index.isin([10, 11, 12])
    for column in ("player_id", "event_time"):
        df.loc[copies, column] = df[column].iloc[0]
    return _csv(df)


def _leakage() -> bytes:
    # days_since_last_login measured after the churn window: churners are exactly those gone 14+ days
    df = clean_frame()
    rng = np.random.default_rng(SEED)
    df["days_since_last_login"] = np.where(
        df["churned"] == 1, rng.integers(14, 45, len(df)), rng.integers(0, 14, len(df))
    )
    return _csv(df)


def _few_positives() -> bytes:
    df = clean_frame()
    positives = df.index[df["churned"] == 1]
    return _csv(df.drop(index=positives[2:]).reset_index(drop=True))


def _parquet_truncated() -> bytes:
    buf = io.BytesIO()
    clean_frame().to_parquet(buf, index=False)
    whole = buf.getvalue()
    return whole[: len(whole) * 2 // 3]


def _jsonl_truncated() -> bytes:
    text = clean_frame().to_json(orient="records", lines=True)
    return text[: int(len(text) * 0.6)].encode()


def _zip_two_files() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in ("players_part1.csv", "players_part2.csv"):
            info = zipfile.ZipInfo(name, date_time=(2024, 6, 1, 0, 0, 0))
            zf.writestr(info, _csv(clean_frame()))
    return buf.getvalue()


BUILDERS: dict[str, Callable[[], bytes]] = {
    "good.csv": lambda: _csv(clean_frame()),
    "bom.csv": _bom,
    "binary_junk.csv": _binary_junk,
    "fake_gzip.csv.gz": lambda: _csv(clean_frame()),
    "truncated_gzip.csv.gz": _truncated_gzip,
    "truncated.csv": _truncated_csv,
    "ragged_rows.csv": _ragged,
    "empty.csv": lambda: b"",
    "header_only.csv": lambda: _csv(clean_frame()).split(b"\n", 1)[0] + b"\n",
    "wrong_delimiter.csv": _space_separated,
    "latin1.csv": _latin1,
    "all_nan_column.csv": _with("avg_session_minutes", lambda df: np.nan),
    "nulls_over_threshold.csv": _set_cells("friends", list(range(0, 60, 2)), np.nan),
    "non_nullable_nulls.csv": _set_cells("level", [3, 4], np.nan),
    "missing_columns.csv": _rows(lambda df: df.drop(columns=["level", "friends"])),
    "extra_columns.csv": _with("internal_notes", lambda df: "export v2"),
    "type_mismatch.csv": _set_cells("sessions_last_7d", [1, 8, 20], "many"),
    "bad_dates.csv": _set_cells("signup_date", [4, 5], "last tuesday"),
    "out_of_range.csv": _set_cells("level", [6, 7], 250),
    "infinite_values.csv": _set_cells("spend_30d", [3], np.inf),
    "unseen_categories.csv": _set_cells("device", [2, 9, 15], "switch"),
    "duplicate_rows.csv": _duplicate_rows,
    "duplicate_ids.csv": _duplicate_ids,
    "constant_column.csv": _with("device", lambda df: "pc"),
    "too_few_rows.csv": _rows(lambda df: df.head(25)),
    "single_class.csv": _with("churned", lambda df: 0),
    "missing_target.csv": _rows(lambda df: df.drop(columns=["churned"])),
    "min_rows_per_class.csv": _few_positives,
    "target_leakage.csv": _leakage,
    "truncated.parquet": _parquet_truncated,
    "truncated.jsonl": _jsonl_truncated,
    "two_files.zip": _zip_two_files,
}

CASES: list[Case] = [
    Case("good.csv", None, "the clean sample every other case breaks", passes=True),
    Case("bom.csv", "encoding", "UTF-8 with a byte-order mark: read, with a warning", passes=True),
    Case("binary_junk.csv", "unreadable", "random bytes named .csv"),
    Case("fake_gzip.csv.gz", "unreadable", "plain CSV named .csv.gz"),
    Case("truncated_gzip.csv.gz", "unreadable", "a gzip cut in half"),
    Case("truncated.csv", "ragged_rows", "the upload stopped in the middle of the last row"),
    Case("ragged_rows.csv", "ragged_rows", "one row with extra fields, one short"),
    Case("empty.csv", "empty_dataset", "zero bytes"),
    Case("header_only.csv", "empty_dataset", "a header and no rows"),
    Case("wrong_delimiter.csv", "wrong_delimiter", "a printed DataFrame: columns aligned with spaces"),
    Case("latin1.csv", "encoding", "latin-1 text (accents in feedback)"),
    Case("all_nan_column.csv", "null_fraction", "a column of all NaN"),
    Case("nulls_over_threshold.csv", "null_fraction", "half of a nullable column empty (gate 20%)"),
    Case("non_nullable_nulls.csv", "null_fraction", "nulls in a column the contract marks not nullable"),
    Case("missing_columns.csv", "missing_columns", "two contract columns dropped"),
    Case("extra_columns.csv", "extra_columns", "a column the contract does not know"),
    Case("type_mismatch.csv", "type_mismatch", "text in an integer column"),
    Case("bad_dates.csv", "type_mismatch", "free text in a datetime column"),
    Case("out_of_range.csv", "out_of_range", "level 250 (max 100)"),
    Case("infinite_values.csv", "infinite_values", "inf in spend"),
    Case("unseen_categories.csv", "unseen_categories", "a device the contract does not list"),
    Case("duplicate_rows.csv", "duplicate_rows", "8 rows exported twice (gate 1%)"),
    Case("duplicate_ids.csv", "duplicate_ids", "one player id and event time on four rows"),
    Case("constant_column.csv", "constant_column", "every device is pc"),
    Case("too_few_rows.csv", "too_few_rows", "25 rows (gate 40)"),
    Case("single_class.csv", "single_class", "nobody churned"),
    Case("missing_target.csv", "target_missing", "the target column left out"),
    Case("min_rows_per_class.csv", "min_rows_per_class", "2 churners (gate 5 per class)"),
    Case("target_leakage.csv", "target_leakage", "days since last login measured after the churn window"),
    Case("truncated.parquet", "unreadable", "a Parquet file cut short", stable=False),
    Case("truncated.jsonl", "unreadable", "JSON lines cut mid-object"),
    Case("two_files.zip", "unreadable", "a zip with two CSVs: which one?"),
]


def high_cardinality_frame(rows: int = 100_000) -> pd.DataFrame:
    """A full-size players frame whose country column has ``rows`` distinct values."""
    df = generate_players(rows, SEED, "binary")
    df["country"] = [f"c{i:06d}" for i in range(rows)]
    return df


def write(out: Path = HERE) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for case in CASES:
        path = out / case.file
        path.write_bytes(BUILDERS[case.file]())
        written.append(path)
    contract_path = out / "contract.yaml"
    contract_path.write_text(corpus_contract().to_yaml(), encoding="utf-8")
    written.append(contract_path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    for path in write(args.out):
        print(f"{path.stat().st_size:>8}  {path}")


if __name__ == "__main__":
    main()
