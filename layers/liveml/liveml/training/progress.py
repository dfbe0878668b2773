"""What the ``progress`` callback of ``train_model`` and ``fit_and_export`` receives: a
:class:`~liveml.training.tuning.TrialEvent` after each trial of the search, and a :class:`PhaseEvent`
as each phase of the run begins — so a caller can show what the minutes after the search are spent on
(the winner's fit, the refit, the export and parity, writing the model directory, the evaluation).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from liveml.training.tuning import TrialEvent

#: The phases of a training run, in the order they begin (``refit`` only when one runs; ``fit``,
#: ``refit`` and ``export`` again for a runner-up when a better configuration fails to export).
PHASES = ("validate", "search", "fit", "refit", "export", "write", "evaluate")


@dataclass(frozen=True)
class PhaseEvent:
    """A phase begins; it lasts until the next one begins, the last one until the call returns."""

    phase: str
    #: what it works on, for people: "hist_gradient_boosting on all 5000 rows" (a refit)
    detail: str


type ProgressEvent = TrialEvent | PhaseEvent
type Progress = Callable[[ProgressEvent], None]


def begin(progress: Progress | None, phase: str, detail: str) -> None:
    """Tell ``progress`` (if any) that ``phase`` begins."""
    if progress is not None:
        progress(PhaseEvent(phase, detail))
