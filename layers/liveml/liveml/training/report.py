"""The model card (Markdown + JSON) and the HTML report with its plots (PNG, base64-embedded)."""

from __future__ import annotations

import html
import json
import time
from typing import Any

import numpy as np
import numpy.typing as npt

from liveml.plots import png_base64, pyplot
from liveml.training import metrics as m


def plots(
    task: str,
    y: npt.NDArray[Any],
    outputs: npt.NDArray[np.float64],
    classes: list[str] | None,
    trials: list[dict[str, Any]],
    importances: list[tuple[str, float]],
) -> dict[str, str]:
    """Title → base64 PNG. Curves come from ``liveml.training.metrics`` (numpy), so this runs in the
    evaluate function, which has matplotlib and ONNX Runtime but no scikit-learn."""
    plt = pyplot()
    out: dict[str, str] = {}
    if task != "regression" and classes is not None:
        k = outputs.shape[1]
        shown = [c for c in ([1] if k == 2 else range(k)) if len(np.unique(y == c)) == 2]
        fig, ax = plt.subplots(figsize=(5, 4))
        for c in shown:
            fpr, tpr = m.roc_curve(y == c, outputs[:, c])
            ax.plot(fpr, tpr, label=f"{classes[c]} (AUC {m.roc_auc_binary(y == c, outputs[:, c]):.3f})")
        ax.plot([0, 1], [0, 1], linestyle=":", color="grey")
        ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC curve")
        ax.legend(loc="lower right")
        out["ROC curve"] = png_base64(fig)
        fig, ax = plt.subplots(figsize=(5, 4))
        for c in shown:
            precision, recall, _ = m.precision_recall_curve(y == c, outputs[:, c])
            ap = m.average_precision_binary(y == c, outputs[:, c])
            ax.step(recall, precision, where="post", label=f"{classes[c]} (AP {ap:.3f})")
        ax.set(xlabel="recall", ylabel="precision", title="Precision-recall curve")
        ax.legend(loc="lower left")
        out["Precision-recall curve"] = png_base64(fig)
        fig, ax = plt.subplots(figsize=(5, 4))
        for c in shown:
            frac, mean = m.calibration_curve(y == c, outputs[:, c], n_bins=10)
            ax.plot(mean, frac, marker="o", label=classes[c])
        ax.plot([0, 1], [0, 1], linestyle=":", color="grey")
        ax.set(xlabel="predicted probability", ylabel="observed frequency", title="Calibration")
        ax.legend()
        out["Calibration"] = png_base64(fig)
        cm = m.confusion_matrix(y, outputs.argmax(axis=1), k)
        fig, ax = plt.subplots(figsize=(5, 4))
        ax.imshow(cm, cmap="Blues")
        for (i, j), v in np.ndenumerate(cm):
            ax.text(j, i, str(v), ha="center", va="center", color="black")
        ax.set_xticks(range(k), classes)
        ax.set_yticks(range(k), classes)
        ax.set(xlabel="predicted", ylabel="actual", title="Confusion matrix (holdout)")
        out["Confusion matrix"] = png_base64(fig)
    else:
        fig, ax = plt.subplots(figsize=(5, 4))
        ax.scatter(y, outputs, s=6, alpha=0.5)
        lo, hi = float(np.min(y)), float(np.max(y))
        ax.plot([lo, hi], [lo, hi], linestyle=":", color="grey")
        ax.set(xlabel="actual", ylabel="predicted", title="Predicted vs actual (holdout)")
        out["Predicted vs actual"] = png_base64(fig)
    done = [t for t in trials if t.get("value") is not None and t.get("state") == "COMPLETE"]
    if done:
        out["Optimisation history"] = _history(plt, done)
    if importances:
        top = importances[:20][::-1]
        fig, ax = plt.subplots(figsize=(6, max(2.5, 0.25 * len(top) + 1)))
        ax.barh([n for n, _ in top], [v for _, v in top])
        ax.set(title="Permutation importance (holdout, ONNX)", xlabel="drop in the primary metric")
        out["Feature importances"] = png_base64(fig)
    return out


#: figures ``plots`` draws for a classifier (fewer for regression)
FIGURES = 6


def figure_seconds() -> float:
    """Seconds one figure like the report's takes to draw and encode on this machine now: what the
    report will cost after a search, measured before the search plans its deadline. pyplot's first
    import and the first figure's one-off set-up (fonts, canvas: 3x a later figure here) happen here
    too and are not counted."""
    plt = pyplot()
    seconds = 0.0
    for _ in range(2):  # the second, warm figure is the one the report's figures cost
        started = time.monotonic()
        fig, ax = plt.subplots(figsize=(5, 4))
        xs = np.linspace(0.0, 1.0, 200)
        ax.plot(xs, xs**2, marker="o", label="probe")
        ax.set(xlabel="x", ylabel="y", title="probe")
        ax.legend()
        png_base64(fig)
        seconds = time.monotonic() - started
    return seconds


def _history(plt: Any, done: list[dict[str, Any]]) -> str:
    """Each completed trial's mean CV score, coloured by family, and the best so far."""
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(6, 4))
    for i, family in enumerate(sorted({str(t.get("family")) for t in done})):
        mine = [t for t in done if str(t.get("family")) == family]
        ax.scatter(
            [int(t["number"]) for t in mine],
            [float(t["value"]) for t in mine],
            s=16,
            color=f"C{i}",
            label=family,
        )
    xs = [int(t["number"]) for t in done]
    vals = [float(t["value"]) for t in done]
    ax.step(xs, np.maximum.accumulate(vals), where="post", color="black", linewidth=1, label="best so far")
    ax.legend(fontsize="small")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # trials are numbered, not measured
    ax.set(xlabel="trial", ylabel="mean CV score", title="Optimisation history (by family)")
    return png_base64(fig)


def feature_importances(pipeline: Any) -> list[tuple[str, float]]:
    """Model-based importances (trees) or |coefficients| (linear), by transformed feature name."""
    model = pipeline.steps[-1][1]
    names = [str(n) for n in pipeline[:-1].get_feature_names_out()]
    if hasattr(model, "feature_importances_"):
        values = np.asarray(model.feature_importances_, dtype=float)
    elif hasattr(model, "coef_"):
        values = np.abs(np.atleast_2d(model.coef_)).mean(axis=0)
    else:
        return []
    if len(values) != len(names):
        return []
    ranked = sorted(zip(names, values.tolist(), strict=True), key=lambda kv: -kv[1])
    return [(n, round(float(v), 6)) for n, v in ranked]


def card_markdown(card: dict[str, Any]) -> str:
    m = card["metrics"]
    lines = [
        f"# Model card: {card['name']}",
        "",
        f"- **Task:** {card['task']}"
        + (f" — classes {', '.join(card['classes'])}" if card.get("classes") else ""),
        f"- **Family:** {card['family']}",
        f"- **Created:** {card['created_at']} (liveml {card['code_version']})",
        f"- **Contract:** {card['contract']['name']} v{card['contract']['version']} "
        f"(sha256 `{card['contract']['sha256'][:12]}`)",
        f"- **Data:** {card['data']['rows']} rows ({card['data']['train_rows']} train, "
        f"{card['data']['holdout_rows']} holdout), sha256 `{card['data'].get('sha256') or 'not given'}`",
        f"- **Search:** {card['search']['trials']} trials in {card['search']['seconds']:.1f} s, "
        f"seed {card['search']['seed']}, {card['search']['folds']}-fold CV {card['primary_metric']} "
        f"{card['search']['cv_score']:.4f}",
        *[f"- {note}" for note in selection_notes(card)],
        "",
        "## Parameters",
        "",
        "```json",
        json.dumps(card["params"], indent=2, sort_keys=True),
        "```",
        "",
        "## Holdout metrics",
        "",
        "| metric | value |",
        "|---|---|",
    ]
    for key, value in m.items():
        if key != "confusion_matrix":
            lines.append(f"| {key} | {value if not isinstance(value, float) else f'{value:.4f}'} |")
    if "confusion_matrix" in m:
        lines += ["", "Confusion matrix (rows: actual, columns: predicted):", "", "```"]
        lines += ["  ".join(f"{v:>6}" for v in row) for row in m["confusion_matrix"]]
        lines.append("```")
    lines += ["", "## Gates", "", "| gate | metric | threshold | value | passed |", "|---|---|---|---|---|"]
    for g in card["gates"]:
        value = "n/a" if g["value"] is None else f"{g['value']:.4f}"
        lines.append(
            f"| {g['gate']} | {g['metric']} | {g['threshold']:.4f} | {value} "
            f"| {'yes' if g['passed'] else 'NO'} |"
        )
    if not card["gates"]:
        lines.append("| (none set in the contract) | | | | |")
    p = card["parity"]
    lines += [
        "",
        "## Export",
        "",
        f"- ONNX parity vs scikit-learn on the holdout: max |diff| {p['onnx_max_abs_diff']:.2e}",
        "- Compact on-device model: "
        + (
            f"max |diff| {p['compact_max_abs_diff']:.2e}"
            if p.get("compact_max_abs_diff") is not None
            else "not available for this model (text features or family)"
        ),
        f"- Golden requests: {card['golden_requests']} (golden_requests.json)",
        "",
    ]
    importance = card.get("permutation_importance") or []
    if importance:
        lines += [
            "## Top features",
            "",
            f"Permutation importance on the holdout (drop in {card['primary_metric']}):",
            "",
        ]
        lines += [f"- {r['feature']}: {r['importance']:.4f}" for r in importance[:10]]
        lines.append("")
    lines += [
        "## Limitations",
        "",
        "Trained on the data described above; predictions for players unlike those rows (new countries,",
        "devices, or behaviour the telemetry never showed) are extrapolations. Check drift against",
        "`reference_sample.csv` before trusting it on new traffic.",
        "",
    ]
    return "\n".join(lines)


def _section(title: str, body: str) -> str:
    """A report section, or nothing when it has nothing to show."""
    return f"<h2>{html.escape(title)}</h2>{body}\n" if body else ""


def _table(rows: list[list[str]], header: list[str]) -> str:
    if not rows:
        return ""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _fmt(v: Any) -> str:
    return "n/a" if v is None else f"{v:.4f}" if isinstance(v, float) else html.escape(str(v))


def selection_notes(card: dict[str, Any]) -> list[str]:
    """What a reader must know about how the served model was chosen and fitted (plain text)."""
    notes = []
    refit = card.get("refit") or {}
    data = card["data"]
    if refit.get("done"):
        notes.append(
            f"The holdout metrics are from a model fitted on {data['train_rows']} rows (80%) and scored on "
            f"the {data['holdout_rows']} held back; the served model is refit on all {refit['rows']} rows "
            "with the same configuration. Parity and the golden requests are checked on the served model."
        )
    elif refit:
        notes.append(f"The served model is the one scored on the holdout ({refit.get('reason')}).")
    search = card["search"]
    if search.get("within_noise"):
        lead, noise = search.get("lead"), search.get("noise_margin")
        measured = (
            f" (it leads the runner-up by {lead:.4f} CV, within twice the standard error of their fold "
            f"differences, {noise:.4f})"
            if isinstance(lead, float) and isinstance(noise, float)
            else ""
        )
        notes.append(
            f"The search's winner is within noise{measured}: another of the best configurations would "
            "likely do as well."
        )
    for r in (card.get("selection") or {}).get("rejected", []):
        notes.append(
            f"Candidate #{r['rank']} ({r['family']}, CV {r['cv_score']:.4f}) was not served: {r['reason']}"
        )
    return notes


def report_html(card: dict[str, Any], images: dict[str, str], importance: list[dict[str, Any]]) -> str:
    """The HTML report; every section shows content or is left out."""
    esc = html.escape
    metrics = _table(
        [[esc(k), _fmt(v)] for k, v in card["metrics"].items() if k != "confusion_matrix"],
        ["metric", "value"],
    )
    gates = _table(
        [
            [
                esc(g["gate"]),
                esc(g["metric"]),
                f"{g['threshold']:.4f}",
                _fmt(g["value"]),
                "passed" if g["passed"] else "<b>FAILED</b>",
            ]
            for g in card["gates"]
        ],
        ["gate", "metric", "threshold", "value", "verdict"],
    )
    notes = "".join(f"<li>{esc(n)}</li>" for n in selection_notes(card))
    search = card["search"]
    families = ", ".join(search.get("families") or [])
    search_text = (
        f"<p>{search['trials']} trials in {search['seconds']:.1f} s"
        + (f" over the families {esc(families)}" if families else "")
        + f"; the served configuration's {search['folds']}-fold CV {esc(card['primary_metric'])} is "
        f"{search['cv_score']:.4f}.</p>" + (f"<ul>{notes}</ul>" if notes else "")
    )
    p = card["parity"]
    compact = p.get("compact_max_abs_diff")
    parity = (
        f"<p>ONNX max |diff| vs scikit-learn on the holdout: {p['onnx_max_abs_diff']:.2e} "
        f"(tolerance {p['tolerance']:g}); golden requests replayed: {p.get('golden_requests', 0)}; "
        + (f"compact model max |diff| {compact:.2e}.</p>" if compact is not None else "no compact model.</p>")
    )
    figures = "".join(
        f"<figure><img alt='{esc(t)}' src='data:image/png;base64,{b64}'>"
        f"<figcaption>{esc(t)}</figcaption></figure>"
        for t, b64 in images.items()
    )
    top = _table(
        [[esc(r["feature"]), f"{r['importance']:.4f}", f"{r['std']:.4f}"] for r in importance[:20]],
        ["column", "drop in " + card["primary_metric"], "std over shuffles"],
    )
    if top and (card.get("refit") or {}).get("done"):
        top = (
            "<p>Measured on the holdout with the served ONNX model, which the refit fitted on these rows "
            "too: the ranking says what the model relies on, not how it generalises.</p>" + top
        )
    elif top:
        top = "<p>Measured on the holdout with the served ONNX model.</p>" + top
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>LiveML report: {esc(card["name"])}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.2em .6em}}.ok{{background:#e8f5e9}}.bad{{background:#ffebee}}
figure{{display:inline-block;margin:.5em}}pre{{background:#f6f6f6;padding:.6em}}</style></head><body>
<h1>{esc(card["name"])} — {esc(card["family"])}</h1>
<p>Task {esc(card["task"])}; created {esc(card["created_at"])}; contract {esc(card["contract"]["name"])}
v{card["contract"]["version"]}; data sha256 {esc(str(card["data"].get("sha256")))};
{card["data"]["train_rows"]} train / {card["data"]["holdout_rows"]} holdout rows.</p>
{_section("Holdout metrics", metrics)}{_section("Gates", gates)}{_section("Search", search_text)}\
<h2>Parameters</h2><pre>{esc(json.dumps(card["params"], indent=2, sort_keys=True))}</pre>
{_section("Parity", parity)}{_section("Plots", figures)}{_section("Top features", top)}\
</body></html>
"""
