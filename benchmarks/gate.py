"""Data gate benchmark: drafting a contract and holding a file to it, one ``name value`` line each.

    python benchmarks/gate.py                 # 50,000 synthetic players
    python benchmarks/gate.py --rows 200000

Figures (medians of ``--repeats`` runs, in this process):
- ``infer_ms``: ``contract infer`` on the players; ``validate_ms``: the whole gate against that draft
  (every column check, duplicates, leakage, expectations); ``draft_accepts_its_file``: 1 when it passes.
- ``texts_object_strings_ms``: the gate's text view of one object column of strings (what categorical
  checks and ``conform`` call), which also turns Python booleans into ``true``/``false``;
  ``texts_naive_astype_ms``: the naive baseline, ``astype(str)`` with no boolean handling;
  ``texts_ratio_vs_naive``: theirs over ours.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from liveml.contract import infer
from liveml.data import generate_players, validate
from liveml.data.convert import texts


def median_ms(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    players = generate_players(args.rows, 1)
    contract = infer(players, target="churned", name="players")
    print(f"rows {args.rows}")
    print(f"infer_ms {median_ms(lambda: infer(players, target='churned'), args.repeats):.1f}")
    print(f"validate_ms {median_ms(lambda: validate(players, contract), args.repeats):.1f}")
    print(f"draft_accepts_its_file {int(validate(players, contract).passed)}")

    devices = np.random.default_rng(0).choice(["ios", "android", "pc", "console"], args.rows).tolist()
    strings = pd.Series(devices, dtype=object)
    ours = median_ms(lambda: texts(strings), args.repeats)
    naive = median_ms(lambda: strings.astype("str").where(strings.notna()), args.repeats)
    print(f"texts_object_strings_ms {ours:.2f}")
    print(f"texts_naive_astype_ms {naive:.2f}")
    print(f"texts_ratio_vs_naive {naive / ours:.2f}")


if __name__ == "__main__":
    main()
