"""The experiment report: one self-contained HTML file, plots embedded as base64 PNGs."""

from __future__ import annotations

import math
from html import escape
from pathlib import Path
from typing import Any

from liveml.experiments.analysis import Analysis, Verdict
from liveml.experiments.errors import ExperimentError
from liveml.plots import img_tag, pyplot

_COLOURS = ("#1f77b4", "#d62728")
_VERDICT_COLOUR = {
    Verdict.PROMOTE_B: "#2ca02c",
    Verdict.KEEP_A: "#1f77b4",
    Verdict.KEEP_RUNNING: "#7f7f7f",
    Verdict.INVALID: "#d62728",
}


def _figures(result: Analysis) -> list[tuple[str, str]]:
    import pandas as pd

    plt = pyplot()

    out: list[tuple[str, str]] = []
    t = pd.to_datetime(result.timeline.at)

    fig, ax = plt.subplots(figsize=(8, 3.5))
    for colour, (name, series) in zip(_COLOURS, result.timeline.mean.items(), strict=False):
        ax.plot(t, series, color=colour, label=name)
    for look in result.looks:
        if look.at is not None:
            ax.axvline(pd.Timestamp(look.at), color="#999", lw=0.8, ls=":")
    ax.set_ylabel(f"cumulative {result.metric}")
    ax.set_xlabel("enrolment time (first_seen); dotted: looks reached")
    ax.legend()
    fig.autofmt_xdate()
    out.append(("Metric over time per variant", img_tag(fig)))

    e = result.effect
    fig, ax = plt.subplots(figsize=(8, 2.2))
    ax.errorbar([e.absolute], [0], xerr=[[e.absolute - e.ci_low], [e.ci_high - e.absolute]], fmt="o",
                color="black", capsize=6)  # fmt: skip
    ax.axvline(0, color="#999", lw=1)
    for x in (-result.mde, result.mde):
        ax.axvline(x, color="#d62728", lw=0.8, ls="--")
    ax.set_yticks([])
    ax.set_xlabel(f"effect B - A with {e.confidence:.0%} interval (dashed: ± MDE)")
    out.append(("Effect and confidence interval", img_tag(fig)))

    fig, ax = plt.subplots(figsize=(8, 2.8))
    names = [v.name for v in result.variants]
    ax.bar(names, [v.n for v in result.variants], color=_COLOURS[: len(names)], label="analysed players")
    ax.scatter(names, [v.required for v in result.variants], marker="_", s=2000, color="black",
               label="required at final look", zorder=3)  # fmt: skip
    ax.set_ylabel("players")
    ax.legend(loc="lower right")
    out.append(("Sample size vs required", img_tag(fig)))

    reached = [look for look in result.looks if look.reached and look.statistic is not None]
    if len(result.looks) > 1:
        fig, ax = plt.subplots(figsize=(8, 3))
        ks = [look.index for look in result.looks]
        bounds = [look.boundary for look in result.looks]
        ax.plot(ks, bounds, "r--", label="boundary")
        ax.plot(ks, [-b for b in bounds], "r--")
        ax.plot([lk.index for lk in reached], [lk.statistic or 0.0 for lk in reached], "ko-", label="z")
        ax.set_xticks(ks)
        ax.set_xlabel("planned look")
        ax.legend()
        out.append(("Sequential looks: statistic vs O'Brien-Fleming boundary", img_tag(fig)))
    return out


def _fmt(value: float | None, spec: str = ".4g") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return format(value, spec)


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def render_report(result: Analysis) -> str:
    """The report as one HTML string."""
    e = result.effect
    variants = _table(
        ["variant", "model version", "assigned", "analysed", "required", result.metric, "std"],
        [
            [v.name, v.model_version, v.assigned, v.n, v.required, _fmt(v.mean), _fmt(v.std)]
            for v in result.variants
        ],
    )
    effect = _table(
        ["effect (B - A)", "relative", f"{e.confidence:.0%} CI", "statistic", "p-value", "test"],
        [[_fmt(e.absolute), _fmt(e.relative, ".2%"), f"[{_fmt(e.ci_low)}, {_fmt(e.ci_high)}]",
          _fmt(e.statistic, ".3f"), _fmt(e.p_value, ".3g"), e.test]],
    )  # fmt: skip
    srm = result.srm
    srm_html = _table(
        ["observed", "expected", "chi-square", "p-value", "result"],
        [[", ".join(f"{k}={v}" for k, v in srm.counts.items()),
          ", ".join(f"{k}={v:.0f}" for k, v in srm.expected.items()),
          _fmt(srm.chi2, ".3f"), _fmt(srm.p_value, ".3g"),
          f"MISMATCH (p < {srm.threshold:g})" if srm.mismatch else "ok"]],
    )  # fmt: skip
    looks = _table(
        ["look", "planned players", "reached", "effect", "statistic", "boundary", "crossed"],
        [[lk.index, lk.planned_players, lk.at or "no", _fmt(lk.effect), _fmt(lk.statistic, ".3f"),
          _fmt(lk.boundary, ".3f"), "yes" if lk.crossed else ""] for lk in result.looks],
    )  # fmt: skip
    verification = (
        "not verified"
        if result.assignment_mismatches is None
        else f"{result.assignment_mismatches} logged variant(s) differ from the sticky hash"
    )
    figures = "".join(f"<h2>{escape(title)}</h2>{img}" for title, img in _figures(result))
    notes = "".join(f"<li>{escape(n)}</li>" for n in result.notes) or "<li>none</li>"
    colour = _VERDICT_COLOUR[result.verdict]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Experiment {escape(result.experiment)}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 960px; margin: 2em auto; color: #222; }}
table {{ border-collapse: collapse; margin: .5em 0 1.5em; }}
td, th {{ border: 1px solid #ccc; padding: .3em .6em; text-align: right; }}
.verdict {{ border-left: 6px solid {colour}; padding: .6em 1em; background: #f6f6f6; }}
</style></head><body>
<h1>Experiment {escape(result.experiment)}: {escape(result.metric)} ({escape(result.kind.value)})</h1>
<div class="verdict"><strong>Verdict: {escape(result.verdict.value)}</strong><br>{escape(result.reason)}</div>
<h2>Variants</h2>{variants}
<h2>Effect (all data now, nominal)</h2>{effect}
<h2>Sample-ratio mismatch</h2>{srm_html}<p>Assignment check: {escape(verification)}.</p>
<h2>Planned looks (these decide; alpha {result.alpha:g}, inflation {result.plan.inflation:.3f})</h2>{looks}
{figures}
<h2>Notes</h2><ul>{notes}</ul>
</body></html>
"""


def write_report(result: Analysis, path: Path) -> Path:
    try:
        path.write_text(render_report(result), encoding="utf-8")
    except OSError as exc:
        raise ExperimentError(f"cannot write the report to {path}: {exc}") from None
    return path
