"""The model comparison as an HTML report a producer can open: the recommendation and its reasons, the
candidates' figures, and plots — the primary metric against the tolerance band, reliability curves and
accuracy per segment (matplotlib, embedded as PNG like the training report)."""

from __future__ import annotations

import html
from pathlib import Path

from liveml.advise.compare import ModelAdvice
from liveml.plots import png_base64, pyplot


def plots(advice: ModelAdvice) -> dict[str, str]:
    """Title → base64 PNG."""
    plt = pyplot()
    scored = [c for c in advice.candidates if c.excluded is None and advice.primary_metric in c.metrics]
    out: dict[str, str] = {}
    if not scored:
        return out
    fig, ax = plt.subplots(figsize=(6, 3.5))
    labels = [f"v{c.version}" for c in scored]
    values = [c.metrics[advice.primary_metric] for c in scored]
    colors = ["tab:green" if c.version == advice.recommended else "tab:grey" for c in scored]
    ax.bar(labels, values, color=colors)
    best = max(values)
    ax.axhspan(
        best - advice.tolerance, best, color="tab:green", alpha=0.15, label="within tolerance of the best"
    )
    ax.set_ylim(min(values) - 3 * max(advice.tolerance, 0.005), best + max(advice.tolerance, 0.005))
    ax.set(
        ylabel=advice.primary_metric, title=f"{advice.primary_metric} on v{advice.holdout_version}'s holdout"
    )
    ax.legend(loc="lower right")
    out[f"{advice.primary_metric} per version"] = png_base64(fig)

    curves = [c for c in scored if c.calibration_curve]
    if curves:
        fig, ax = plt.subplots(figsize=(5, 4))
        for c in curves:
            ax.plot(
                [p for p, _ in c.calibration_curve],
                [o for _, o in c.calibration_curve],
                marker="o",
                label=f"v{c.version} (error {c.calibration_error:.3f})",
            )
        ax.plot([0, 1], [0, 1], linestyle=":", color="grey")
        ax.set(xlabel="predicted probability", ylabel="observed frequency", title="Calibration")
        ax.legend()
        out["Calibration"] = png_base64(fig)

    for column in advice.segment_columns:
        segments = sorted({s for c in scored for s in c.segments.get(column, {})})
        if not segments:
            continue
        fig, ax = plt.subplots(figsize=(max(5, len(segments) * 0.9), 3.5))
        width = 0.8 / len(scored)
        for i, c in enumerate(scored):
            heights = [c.segments.get(column, {}).get(s, float("nan")) for s in segments]
            ax.bar([j + i * width for j in range(len(segments))], heights, width, label=f"v{c.version}")
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(segments))], segments)
        what = "mean absolute error" if advice.task == "regression" else "accuracy"
        ax.set(ylabel=what, title=f"{what} by {column}")
        ax.legend()
        out[f"By {column}"] = png_base64(fig)
    return out


def render(advice: ModelAdvice) -> str:
    esc = html.escape
    rows = "".join(
        f"<tr class='{'ok' if c.version == advice.recommended else ''}'><td>v{c.version}</td>"
        f"<td>{esc(c.family)}</td><td>{esc(c.stage)}</td>"
        + (
            f"<td colspan='6'>excluded: {esc(c.excluded)}</td>"
            if c.excluded
            else f"<td>{c.metrics.get(advice.primary_metric, float('nan')):.4f}</td>"
            f"<td>{'-' if c.calibration_error is None else f'{c.calibration_error:.4f}'}</td>"
            f"<td>{'-' if c.segment_gap is None else f'{c.segment_gap:.4f}'}</td>"
            f"<td>{'-' if c.latency_us is None else f'{c.latency_us:.0f}'}</td>"
            f"<td>{c.onnx_bytes:,}</td><td>{'yes' if c.on_device else 'no'}</td>"
        )
        + "</tr>"
        for c in advice.candidates
    )
    reasons = "".join(f"<li>{esc(r)}</li>" for r in advice.reasons)
    figures = "".join(
        f"<figure><img alt='{esc(t)}' src='data:image/png;base64,{b64}'>"
        f"<figcaption>{esc(t)}</figcaption></figure>"
        for t, b64 in plots(advice).items()
    )
    chosen = "none" if advice.recommended is None else f"v{advice.recommended}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>LiveML advice: {esc(advice.model)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.2em .6em}}.ok{{background:#e8f5e9}}
figure{{display:inline-block;margin:.5em}}</style></head><body>
<h1>{esc(advice.model)}: ship {chosen}</h1>
<ul>{reasons}</ul>
<p>Every version scored on the same {advice.holdout_rows} holdout rows (v{advice.holdout_version}'s holdout);
versions within {advice.tolerance:g} of the best {esc(advice.primary_metric)} count as equal.</p>
<table><tr><th>version</th><th>family</th><th>stage</th><th>{esc(advice.primary_metric)}</th>
<th>calibration error</th><th>segment gap</th><th>latency µs</th><th>ONNX bytes</th><th>on device</th></tr>
{rows}</table>
<h2>Plots</h2>{figures}
</body></html>
"""


def write(advice: ModelAdvice, path: Path) -> Path:
    path.write_text(render(advice), encoding="utf-8")
    return path
