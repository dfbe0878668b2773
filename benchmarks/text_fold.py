"""The pre-graph's text fold (format 2): what it fixes and what it costs, one ``name value`` line each.

    python benchmarks/text_fold.py

- ``onnx_max_diff_format1`` / ``..._format2``: the largest |ONNX - scikit-learn| probability of a
  linear text model (trained on feedback in ten scripts and five casings) over 3,000 generated strings
  from every Unicode category, without the fold (text as it came; strings UTF-8 can carry) and with it.
- ``fold_us_ascii`` / ``fold_us_unicode``: median µs to fold one feedback string, beside
  ``lower_us_*``, the ``str.lower()`` the format-1 path did in effect (the naive baseline).
- ``predict_one_row_us_format2`` beside ``..._format1``: the served model's one-row ``predict``
  (pre-graph + ONNX Runtime) with a non-ASCII feedback string; ``predict_overhead_ratio`` is their ratio.
"""

from __future__ import annotations

import functools
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the tests' seeded Unicode text generator

from liveml.features import pregraph_spec  # noqa: E402
from liveml.inference import OnnxModel  # noqa: E402
from liveml.inference.pregraph import fold_text  # noqa: E402
from liveml.training.export import fitted_pregraph, graph_inputs, sklearn_outputs, to_onnx  # noqa: E402
from liveml.training.tuning import make_pipeline  # noqa: E402
from tests.small_models import SMALL  # noqa: E402
from tests.unicode_text import feedback_frame, random_texts  # noqa: E402


def _median_us(fn: Callable[[], object], repeats: int, per_call: int = 1) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) / per_call)
    return statistics.median(times) * 1e6


def main() -> None:
    df, contract = feedback_frame(600, seed=3)
    y = df[contract.target].to_numpy(dtype=np.int64)
    texts = random_texts(3000, seed=5)
    unseen = pd.DataFrame({"feedback": pd.Series(texts, dtype=object), "level": 7})
    # Format 1 cannot even carry lone surrogates through pandas; compare it on the strings it can.
    encodable = unseen[[t.encode("utf-8", "surrogatepass") == t.encode("utf-8", "replace") for t in texts]]
    models = {}
    for version, data in ((1, encodable), (2, unseen)):
        pipe = make_pipeline(
            {**pregraph_spec(contract), "version": version}, "linear", SMALL["linear"], "binary", 0, []
        )
        pipe.fit(df, y)
        onnx = OnnxModel(to_onnx(pipe, "binary"), fitted_pregraph(pipe), task="binary", classes=["0", "1"])
        diff = np.abs(onnx.run_inputs(graph_inputs(pipe, data)) - sklearn_outputs(pipe, data, "binary")).max()
        print(f"onnx_max_diff_format{version} {diff:.3g} ({len(data)} strings)")
        models[version] = onnx

    ascii_texts = [t for t in df["feedback"] if t.isascii()] or ["great game no lag"]
    unicode_texts = list(df["feedback"])
    for name, sample in (("ascii", ascii_texts), ("unicode", unicode_texts)):
        fold = _median_us(lambda: [fold_text(t) for t in sample], 21, len(sample))  # noqa: B023 (run now)
        lower = _median_us(lambda: [t.lower() for t in sample], 21, len(sample))  # noqa: B023
        print(f"fold_us_{name} {fold:.2f}")
        print(f"lower_us_{name} {lower:.2f} (baseline; fold/lower {fold / lower:.1f}x)")

    row = [{"feedback": "Très bien, GROßARTIG — 素晴らしい 😀", "level": 7}]
    predict = {v: _median_us(functools.partial(m.predict, row, as_of=0.0), 2000) for v, m in models.items()}
    print(f"predict_one_row_us_format1 {predict[1]:.1f}")
    print(f"predict_one_row_us_format2 {predict[2]:.1f}")
    print(f"predict_overhead_ratio {predict[2] / predict[1]:.3f}")


if __name__ == "__main__":
    main()
