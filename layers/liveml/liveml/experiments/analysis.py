"""Join outcomes with assignments and judge an experiment without peeking into false positives.

The verdict is a deterministic function of the data. Analysed players are ordered by ``first_seen``;
the planned look ``k`` is the moment the ``looks[k]``-th player was enrolled (see
:meth:`Experiment.plan`), and its test uses exactly those players with the outcomes known now. Looks
not reached yet do not count. The first look whose ``|z|`` reaches its O'Brien-Fleming boundary
decides (``promote_b`` if B is better, ``keep_a`` if worse); the final look without a crossing means
``keep_a``; before it, ``keep_running``. So running the analysis every hour changes nothing: between
two looks the same prefix is tested against the same boundary. A broken experiment (sample-ratio
mismatch, or logged variants that differ from the sticky hash) is ``invalid``, whatever the effect.
The headline effect, interval and p-value describe all data now (nominal, as scipy computes them);
only the looks decide.
"""

from __future__ import annotations

import math
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from pydantic import BaseModel, ConfigDict

from liveml.binding.assignment import assign_variant
from liveml.experiments import stats
from liveml.experiments.design import Experiment, MetricKind, SampleSizePlan
from liveml.experiments.errors import ExperimentError

if TYPE_CHECKING:
    import pandas as pd

ASSIGNMENT_COLUMNS = ("player_id", "variant", "first_seen")
OUTCOME_COLUMNS = ("player_id", "value", "timestamp")
_TIMELINE_POINTS = 200
_TIMELINE_MIN_N = 30


class Verdict(StrEnum):
    PROMOTE_B = "promote_b"
    KEEP_A = "keep_a"
    KEEP_RUNNING = "keep_running"
    INVALID = "invalid"


class VariantSummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    model_version: str
    assigned: int  # players in the assignments
    n: int  # players analysed (with a value)
    required: int
    mean: float  # rate or mean of the metric
    std: float


class Effect(BaseModel):
    model_config = ConfigDict(frozen=True)

    absolute: float  # B - A
    relative: float | None  # (B - A) / A, None when A is 0
    ci_low: float
    ci_high: float
    confidence: float
    statistic: float
    p_value: float
    test: str


class SRMCheck(BaseModel):
    model_config = ConfigDict(frozen=True)

    counts: dict[str, int]
    expected: dict[str, float]
    chi2: float
    p_value: float
    threshold: float

    @property
    def mismatch(self) -> bool:
        return self.p_value < self.threshold


class Look(BaseModel):
    model_config = ConfigDict(frozen=True)

    index: int  # 1-based
    planned_players: int
    reached: bool
    at: str | None  # first_seen of the player that completed the look
    effect: float | None
    statistic: float | None
    boundary: float
    crossed: bool


class Timeline(BaseModel):
    """Cumulative metric per variant over enrolment time, for the report."""

    model_config = ConfigDict(frozen=True)

    at: list[str]
    n: dict[str, list[int]]
    mean: dict[str, list[float]]


class Analysis(BaseModel):
    model_config = ConfigDict(frozen=True)

    experiment: str
    metric: str
    kind: MetricKind
    alpha: float
    mde: float
    variants: list[VariantSummary]
    effect: Effect
    srm: SRMCheck
    assignment_mismatches: int | None  # None: not verified
    looks: list[Look]
    plan: SampleSizePlan
    verdict: Verdict
    reason: str
    notes: list[str]
    timeline: Timeline


def _require_columns(df: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ExperimentError(
            f"{what} lack column(s) {missing}; expected {list(columns)}, got {list(df.columns)}"
        )


def _times(series: pd.Series, what: str) -> pd.Series:
    import pandas as pd

    try:
        return pd.to_datetime(series, utc=True, format="mixed")
    except (ValueError, TypeError) as exc:
        raise ExperimentError(f"{what} are not all timestamps: {exc}") from None


def _examples(values: pd.Series | list[object], limit: int = 5) -> str:
    shown = [str(v) for v in list(values)[:limit]]
    return ", ".join(shown) + (", …" if len(values) > limit else "")


def read_table(path: Path, columns: tuple[str, ...], what: str) -> pd.DataFrame:
    """Read a CSV of ``what``, naming the file and the missing columns on failure."""
    import pandas as pd

    try:
        df = pd.read_csv(path, dtype={"player_id": str, "variant": str})
    except (OSError, ValueError) as exc:
        raise ExperimentError(f"cannot read {what} from {path}: {exc}") from None
    _require_columns(df, columns, f"{what} ({path})")
    return df


def prepare(
    experiment: Experiment, assignments: pd.DataFrame, outcomes: pd.DataFrame
) -> tuple[pd.DataFrame, list[str]]:
    """One row per assigned player: ``player_id, variant, first_seen, value`` (NaN: no value), and notes."""
    import pandas as pd

    _require_columns(assignments, ASSIGNMENT_COLUMNS, "assignments")
    _require_columns(outcomes, OUTCOME_COLUMNS, "outcomes")
    if assignments.empty:
        raise ExperimentError("assignments are empty: no player has been assigned yet")
    if outcomes.empty:
        raise ExperimentError(f"outcomes are empty: no {experiment.metric.name!r} event recorded yet")
    notes: list[str] = []

    players = assignments.loc[:, list(ASSIGNMENT_COLUMNS)].copy()
    players["player_id"] = players["player_id"].astype(str)
    players["variant"] = players["variant"].astype(str)
    if players["player_id"].isna().any() or (players["player_id"] == "").any():
        raise ExperimentError("assignments have rows without a player_id")
    dupes = players.loc[players["player_id"].duplicated(keep=False), "player_id"].unique()
    if len(dupes):
        raise ExperimentError(
            f"{len(dupes)} player(s) assigned more than once (a player has one sticky variant): "
            f"{_examples(list(dupes))}"
        )
    unknown = sorted(set(players["variant"]) - set(experiment.variants))
    if unknown:
        raise ExperimentError(
            f"assignments name unknown variant(s) {unknown}; experiment {experiment.name!r} has "
            f"{list(experiment.variants)}"
        )
    players["first_seen"] = _times(players["first_seen"], "assignments.first_seen")

    events = outcomes.loc[:, list(OUTCOME_COLUMNS)].copy()
    events["player_id"] = events["player_id"].astype(str)
    events["value"] = pd.to_numeric(events["value"], errors="coerce")
    bad = events["value"].isna() | ~np.isfinite(events["value"])
    if bad.any():
        raise ExperimentError(
            f"{int(bad.sum())} outcome row(s) have no numeric value, e.g. players "
            f"{_examples(events.loc[bad, 'player_id'])}"
        )
    if experiment.metric.kind is MetricKind.RATE and not events["value"].isin([0, 1]).all():
        odd = events.loc[~events["value"].isin([0, 1]), "value"]
        raise ExperimentError(f"a rate metric takes outcomes 0 or 1, got {_examples(odd.drop_duplicates())}")
    events["timestamp"] = _times(events["timestamp"], "outcomes.timestamp")

    unassigned = ~events["player_id"].isin(players["player_id"])
    if unassigned.any():
        notes.append(f"{int(unassigned.sum())} outcome row(s) of unassigned players ignored")
    events = events.loc[~unassigned].merge(players[["player_id", "first_seen"]], on="player_id")
    # An outcome before the player first met the variant cannot be its effect.
    early = events["timestamp"] < events["first_seen"]
    if early.any():
        notes.append(f"{int(early.sum())} outcome row(s) before the player's first_seen ignored")
    events = events.loc[~early].sort_values("timestamp", kind="stable")

    how = experiment.metric.aggregation
    grouped = events.groupby("player_id")["value"]
    per_player: pd.Series = getattr(grouped, how.value)()
    joined = players.merge(per_player.rename("value"), left_on="player_id", right_index=True, how="left")
    if experiment.metric.fills_missing:
        joined["value"] = joined["value"].fillna(0.0)
    joined = joined.sort_values(["first_seen", "player_id"], kind="stable").reset_index(drop=True)
    if joined["value"].notna().sum() == 0:
        raise ExperimentError("no assigned player has an outcome after its first_seen: nothing to analyse")
    return joined, notes


def _compare(experiment: Experiment, frame: pd.DataFrame) -> stats.Comparison:
    a = frame.loc[frame["variant"] == experiment.control, "value"].to_numpy(dtype=float)
    b = frame.loc[frame["variant"] == experiment.treatment, "value"].to_numpy(dtype=float)
    if len(a) < 2 or len(b) < 2:
        raise ExperimentError(
            f"each variant needs at least 2 players with outcomes, got {experiment.control}={len(a)}, "
            f"{experiment.treatment}={len(b)}"
        )
    if experiment.metric.kind is MetricKind.RATE:
        return stats.two_proportion(a.sum(), len(a), b.sum(), len(b), experiment.alpha)
    return stats.welch(a.mean(), a.var(ddof=1), len(a), b.mean(), b.var(ddof=1), len(b), experiment.alpha)


def _timeline(experiment: Experiment, frame: pd.DataFrame) -> Timeline:
    at_rows = np.unique(np.linspace(0, len(frame) - 1, min(_TIMELINE_POINTS, len(frame))).astype(int))
    n: dict[str, list[int]] = {}
    mean: dict[str, list[float]] = {}
    for name in experiment.variants:
        mine = (frame["variant"] == name).to_numpy() & frame["value"].notna().to_numpy()
        count = np.cumsum(mine)
        total = np.cumsum(np.where(mine, frame["value"].fillna(0.0).to_numpy(dtype=float), 0.0))
        with np.errstate(invalid="ignore", divide="ignore"):
            # The first few players are noise, not a trend: start each line at _TIMELINE_MIN_N.
            running = np.where(count >= _TIMELINE_MIN_N, total / count, np.nan)
        n[name] = [int(v) for v in count[at_rows]]
        mean[name] = [float(v) if math.isfinite(v) else math.nan for v in running[at_rows]]
    at = [ts.isoformat() for ts in frame["first_seen"].iloc[at_rows]]
    return Timeline(at=at, n=n, mean=mean)


def _better(experiment: Experiment, effect: float) -> bool:
    return effect > 0 if experiment.metric.higher_is_better else effect < 0


def _assignment_mismatches(experiment: Experiment, joined: pd.DataFrame) -> int:
    """How many logged variants differ from the sticky hash of the experiment's salt."""
    split = experiment.split_bp()
    expected = [assign_variant(experiment.salt, pid, split) for pid in joined["player_id"]]
    return int((joined["variant"].to_numpy() != np.asarray(expected)).sum())


def _srm_check(experiment: Experiment, joined: pd.DataFrame) -> SRMCheck:
    """Sample ratio mismatch: the assigned counts against the planned split (chi-squared)."""
    names = list(experiment.variants)
    counts = {name: int((joined["variant"] == name).sum()) for name in names}
    chi2, srm_p = stats.srm_pvalue([counts[v] for v in names], [experiment.split[v] for v in names])
    total = sum(counts.values())
    return SRMCheck(
        counts=counts,
        expected={v: total * experiment.split[v] for v in names},
        chi2=chi2,
        p_value=srm_p,
        threshold=experiment.srm_threshold,
    )


def _summaries(
    experiment: Experiment, analysed: pd.DataFrame, counts: dict[str, int], required: dict[str, int]
) -> list[VariantSummary]:
    summaries = []
    for name in experiment.variants:
        values = analysed.loc[analysed["variant"] == name, "value"].to_numpy(dtype=float)
        summaries.append(
            VariantSummary(
                name=name,
                model_version=experiment.variants[name],
                assigned=counts[name],
                n=len(values),
                required=required[name],
                mean=float(values.mean()) if len(values) else math.nan,
                std=float(values.std(ddof=1)) if len(values) > 1 else math.nan,
            )
        )
    return summaries


def _effect(experiment: Experiment, now: stats.Comparison, *, base: float) -> Effect:
    return Effect(
        absolute=float(now.effect),
        relative=float(now.effect) / base if base else None,
        ci_low=float(now.ci_low),
        ci_high=float(now.ci_high),
        confidence=1 - experiment.alpha,
        statistic=float(now.statistic),
        p_value=float(now.p_value),
        test="two-proportion z-test" if experiment.metric.kind is MetricKind.RATE else "Welch's t-test",
    )


def _looks(experiment: Experiment, analysed: pd.DataFrame, plan: SampleSizePlan) -> list[Look]:
    """Each planned interim look: reached or not, and whether its statistic crossed the boundary."""
    looks: list[Look] = []
    for k, (planned, bound) in enumerate(zip(plan.looks, plan.boundaries, strict=True), start=1):
        if planned > len(analysed):
            looks.append(Look(index=k, planned_players=planned, reached=False, at=None, effect=None,
                              statistic=None, boundary=bound, crossed=False))  # fmt: skip
            continue
        prefix = analysed.iloc[:planned]
        try:
            cmp = _compare(experiment, prefix)
        except ExperimentError:
            cmp = None  # a look so early that one arm is nearly empty cannot decide
        stat = float(cmp.statistic) if cmp is not None else 0.0
        looks.append(
            Look(
                index=k,
                planned_players=planned,
                reached=True,
                at=prefix["first_seen"].iloc[-1].isoformat(),
                effect=float(cmp.effect) if cmp is not None else None,
                statistic=stat if cmp is not None else None,
                boundary=bound,
                crossed=abs(stat) >= bound,
            )
        )
    return looks


def analyze(
    experiment: Experiment,
    assignments: pd.DataFrame,
    outcomes: pd.DataFrame,
    *,
    verify_assignments: bool = True,
) -> Analysis:
    """Effect, interval, p-value, SRM check, the planned looks and the verdict (see the module docstring).

    ``assignments``: ``player_id, variant, first_seen``; ``outcomes``: ``player_id, value, timestamp``.
    With ``verify_assignments`` each logged variant is recomputed from the sticky hash of the salt.
    """
    joined, notes = prepare(experiment, assignments, outcomes)
    plan = experiment.plan()
    mismatches = _assignment_mismatches(experiment, joined) if verify_assignments else None
    srm = _srm_check(experiment, joined)
    analysed = joined.loc[joined["value"].notna()].reset_index(drop=True)
    if len(analysed) < len(joined):
        notes.append(f"{len(joined) - len(analysed)} assigned player(s) without outcomes left out")
    summaries = _summaries(experiment, analysed, srm.counts, plan.per_variant)
    effect = _effect(experiment, _compare(experiment, analysed), base=summaries[0].mean)
    looks = _looks(experiment, analysed, plan)
    verdict, reason = _verdict(experiment, srm, mismatches, looks, len(analysed))
    return Analysis(
        experiment=experiment.name,
        metric=experiment.metric.name,
        kind=experiment.metric.kind,
        alpha=experiment.alpha,
        mde=experiment.metric.mde,
        variants=summaries,
        effect=effect,
        srm=srm,
        assignment_mismatches=mismatches,
        looks=looks,
        plan=plan,
        verdict=verdict,
        reason=reason,
        notes=notes,
        timeline=_timeline(experiment, joined),
    )


def _verdict(
    experiment: Experiment, srm: SRMCheck, mismatches: int | None, looks: list[Look], analysed: int
) -> tuple[Verdict, str]:
    if srm.mismatch:
        observed = ", ".join(f"{k}={v}" for k, v in srm.counts.items())
        planned = ", ".join(f"{k}={v:.0f}" for k, v in srm.expected.items())
        return Verdict.INVALID, (
            f"sample-ratio mismatch: assigned {observed}, planned {planned} "
            f"(chi-square p={srm.p_value:.2g} < {srm.threshold:g}); "
            "the split is broken (lost logs, a crashing variant, bot traffic?), "
            "so no effect estimate can be trusted"
        )
    if mismatches:
        return Verdict.INVALID, (
            f"{mismatches} player(s) logged a variant other than the sticky hash of salt "
            f"{experiment.salt!r} gives: assignment is not the one planned"
        )
    a, b = experiment.control, experiment.treatment
    for look in looks:
        if look.reached and look.crossed and look.effect is not None and look.statistic is not None:
            where = f"look {look.index} of {len(looks)} ({look.planned_players} players)"
            if _better(experiment, look.effect):
                return Verdict.PROMOTE_B, (
                    f"{b} is better than {a} by {look.effect:+.4g} at {where}: |z|={abs(look.statistic):.2f} "
                    f">= boundary {look.boundary:.2f}"
                )
            return Verdict.KEEP_A, (
                f"{b} is worse than {a} by {look.effect:+.4g} at {where}: |z|={abs(look.statistic):.2f} "
                f">= boundary {look.boundary:.2f}"
            )
    last = looks[-1]
    if last.reached:
        return Verdict.KEEP_A, (
            f"no significant difference at the planned horizon ({last.planned_players} players, "
            f"|z|={abs(last.statistic or 0.0):.2f} < {last.boundary:.2f}): keep {a}"
        )
    following = next(look for look in looks if not look.reached)
    return Verdict.KEEP_RUNNING, (
        f"{analysed} of {last.planned_players} planned players; no boundary crossed yet, next look "
        f"{following.index} of {len(looks)} at {following.planned_players} players"
    )
