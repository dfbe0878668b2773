"""The monitoring report: drift over time, reference vs live distributions, live accuracy (HTML, plots)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from liveml.plots import png_base64, pyplot

#: Drifted features whose distributions the report draws.
TOP_FEATURES = 4


def _when(text: str) -> Any:
    """A record's time as matplotlib takes it (a datetime; typed Any for matplotlib's stubs)."""
    return datetime.fromisoformat(str(text).replace("Z", "+00:00"))


def _by_version(records: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        out.setdefault(str(r.get("version")), []).append(r)
    for rows in out.values():
        rows.sort(key=lambda r: str(r.get("window_end")))
    return out


def latest_ok(records: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The newest record that was compared (status ok), most drifted first among equals."""
    ok = [r for r in records if r.get("status") == "ok"]
    return max(ok, key=lambda r: (str(r["window_end"]), float(r.get("score") or 0)), default=None)


def figures(drift: Sequence[dict[str, Any]], accuracy: Sequence[dict[str, Any]]) -> list[tuple[str, str]]:
    plt = pyplot()
    out: list[tuple[str, str]] = []
    if drift:
        fig, ax = plt.subplots(figsize=(8, 3.5))
        for version, rows in sorted(_by_version(drift).items()):
            ok = [r for r in rows if r.get("status") == "ok"]
            ax.plot(
                [_when(r["window_end"]) for r in ok],
                [r["score"] for r in ok],
                marker="o",
                label=f"v{version}",
            )
            skipped = [r for r in rows if r.get("status") != "ok"]
            if skipped:
                ax.scatter(
                    [_when(r["window_end"]) for r in skipped], [0] * len(skipped), marker="x", color="grey"
                )
        ax.axhline(1, color="red", linestyle="--", label="alarm line")
        out.append(
            _over_time(
                fig,
                ax,
                "Drift over time",
                ylabel="drift score",
                title="Drift score per window (x: not enough data / no reference / contract changed)",
                legend="upper left",
            )
        )
    latest = latest_ok(drift)
    if latest is not None:
        shown = [f for f in latest["features"] if f.get("drifted")][:TOP_FEATURES] or latest["features"][:1]
        if latest.get("prediction"):
            shown.append(latest["prediction"])
        for f in shown:
            bins = f.get("bins") or {}
            labels = bins.get("labels", [])
            if not labels:
                continue
            fig, ax = plt.subplots(figsize=(8, 3))
            xs = list(range(len(labels)))
            ax.bar([x - 0.2 for x in xs], bins["reference"], width=0.4, label="training (reference)")
            ax.bar(
                [x + 0.2 for x in xs],
                bins["current"],
                width=0.4,
                label=f"live, window to {latest['window_end'][:16]}",
            )
            ax.set_xticks(list(xs), labels, rotation=60, ha="right", fontsize=7)
            ax.set(
                ylabel="share of rows",
                title=(
                    f"{f['feature']} (v{latest['version']}): score {f['score']:.2f}; "
                    f"{'; '.join(f['reasons']) or 'no drift'}"
                ),
            )
            ax.legend()
            out.append((f"{f['feature']}: reference vs live", png_base64(fig)))
    if accuracy:
        fig, ax = plt.subplots(figsize=(8, 3.5))
        for version, rows in sorted(_by_version(accuracy).items()):
            for variant in sorted({str(r.get("variant")) for r in rows}):
                mine = [r for r in rows if str(r.get("variant")) == variant and r.get("roc_auc") is not None]
                if not mine:
                    continue
                when = [_when(r["window_end"]) for r in mine]
                ys = [float(r["roc_auc"]) for r in mine]
                ci = [r.get("roc_auc_ci") or [y, y] for r, y in zip(mine, ys, strict=True)]
                err = [
                    [y - c[0] for y, c in zip(ys, ci, strict=True)],
                    [c[1] - y for y, c in zip(ys, ci, strict=True)],
                ]
                line = ax.errorbar(when, ys, yerr=err, marker="o", capsize=3, label=f"v{version} {variant}")
                estimated = [(x, y) for x, y, r in zip(when, ys, mine, strict=True) if r.get("estimate")]
                if estimated:
                    ax.scatter(
                        *zip(*estimated, strict=True),
                        facecolors="white",
                        edgecolors=line[0].get_color(),
                        zorder=3,
                    )
                holdout = mine[-1].get("holdout_roc_auc")
                if holdout is not None:
                    ax.axhline(float(holdout), color=line[0].get_color(), linestyle=":", linewidth=1)
        out.append(
            _over_time(
                fig,
                ax,
                "Live accuracy over time",
                ylabel="ROC AUC",
                title="Live ROC AUC per version (dotted: holdout; hollow: estimated, labels pending)",
                legend="lower left",
            )
        )
    return out


def _over_time(fig: Any, ax: Any, heading: str, *, ylabel: str, title: str, legend: str) -> tuple[str, str]:
    """A plot over the windows' end times, finished: labels, legend, slanted dates; with its heading."""
    ax.set(ylabel=ylabel, title=title)
    ax.legend(loc=legend)
    fig.autofmt_xdate()
    return heading, png_base64(fig)


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def render_report(
    model: str, drift: Sequence[dict[str, Any]], accuracy: Sequence[dict[str, Any]] = ()
) -> str:
    latest = [rows[-1] for _, rows in sorted(_by_version(drift).items())]
    summary = _table(
        ["version", "window end", "status", "rows", "score", "drifted features", "reason"],
        [
            [
                f"v{r['version']}",
                r["window_end"][:16],
                r["status"],
                r["rows"],
                "" if r.get("score") is None else f"{r['score']:.2f}",
                ", ".join(r.get("drifted_features") or []),
                r.get("reason", ""),
            ]
            for r in latest
        ],
    )
    top = latest_ok(drift)
    features = ""
    if top is not None:
        features = _table(
            ["feature", "score", "PSI", "threshold", "KS p", "W/std", "JS", "null rate", "unseen", "why"],
            [
                [
                    f["feature"],
                    f"{f['score']:.2f}",
                    f"{f['psi']:.4f}",
                    f"{f['psi_threshold']:.4f}",
                    "" if f.get("ks_pvalue") is None else f"{f['ks_pvalue']:.2g}",
                    "" if f.get("wasserstein_std") is None else f"{f['wasserstein_std']:.3f}",
                    "" if f.get("js_distance") is None else f"{f['js_distance']:.3f}",
                    f"{f['null_rate']:.1%} (ref {f['null_rate_reference']:.1%})",
                    f"{f['unseen_rate']:.1%}",
                    "; ".join(f["reasons"]),
                ]
                for f in top["features"]
            ],
        )
    plots = "".join(
        f"<h2>{escape(title)}</h2><img alt='{escape(title)}' src='data:image/png;base64,{png}'>"
        for title, png in figures(drift, accuracy)
    )
    generated = datetime.now(UTC).replace(microsecond=0).isoformat()
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Monitoring {escape(model)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }}
td, th {{ border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; }}
img {{ max-width: 100%; }}
</style></head><body>
<h1>Monitoring: {escape(model)}</h1>
<p>{len(drift)} drift window(s), {len(accuracy)} accuracy record(s); generated {generated}.
A score above 1 means a feature moved past both its effect floor and the noise band for the window's size.</p>
<h2>Latest window per version</h2>{summary}
{"<h2>Features in the latest compared window (most drifted first)</h2>" + features if features else ""}
{plots}
</body></html>
"""


def write_report(
    model: str, drift: Sequence[dict[str, Any]], accuracy: Sequence[dict[str, Any]], path: Path
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(model, drift, accuracy), encoding="utf-8")
    return path
