"""The optuna search space as SageMaker hyperparameter ranges, and a tuning job's values back.

The families' ``space`` functions are the one definition of the search space: they are run once
against a recording trial that notes each ``suggest_*`` call, so the tuning job searches exactly
what the optuna search does. SageMaker has no conditional parameters, so the ranges are the union
of every family's; each training job uses ``family`` and only that family's values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from liveml.training.errors import TrainingError
from liveml.training.families import FAMILIES

#: the optuna parameter that picks the family (``liveml.training.search`` suggests it first)
FAMILY = "family"


@dataclass(frozen=True)
class Distribution:
    """One ``suggest_*`` call: ``kind`` is ``int``, ``float`` or ``categorical``."""

    name: str
    kind: str
    low: float = 0.0
    high: float = 0.0
    step: int | None = None
    log: bool = False
    choices: tuple[Any, ...] = ()

    def parse(self, text: Any) -> Any:
        """A hyperparameter as SageMaker passes it (a string) → the value optuna would suggest."""
        value = str(text).strip().strip('"')
        try:
            if self.kind == "int":
                number = round(float(value))
            elif self.kind == "float":
                number = float(value)  # type: ignore[assignment]
            else:
                for choice in self.choices:
                    if str(choice) == value:
                        return choice
                raise ValueError(f"not one of {[str(c) for c in self.choices]}")
        except ValueError as exc:
            raise TrainingError(f"hyperparameter {self.name}={value!r}: {exc}") from None
        if not self.low <= number <= self.high:
            raise TrainingError(f"hyperparameter {self.name}={value!r} is outside [{self.low}, {self.high}]")
        return number


class _Recorder:
    """Quacks like an ``optuna.Trial`` for the families' space functions; returns the low end."""

    def __init__(self) -> None:
        self.seen: list[Distribution] = []

    def suggest_int(self, name: str, low: int, high: int, *, step: int = 1, log: bool = False) -> int:
        self.seen.append(Distribution(name, "int", low, high, step if step != 1 else None, log))
        return low

    def suggest_float(self, name: str, low: float, high: float, *, log: bool = False) -> float:
        self.seen.append(Distribution(name, "float", low, high, None, log))
        return low

    def suggest_categorical(self, name: str, choices: Any) -> Any:
        self.seen.append(Distribution(name, "categorical", choices=tuple(choices)))
        return choices[0]


def family_space(family: str) -> list[Distribution]:
    """The distributions one family's space function suggests."""
    recorder = _Recorder()
    FAMILIES[family].space(recorder)
    return recorder.seen


def search_space(families: list[str] | None = None) -> dict[str, list[Distribution]]:
    """``{family: [its distributions]}`` for the given families (default: all)."""
    names = families or list(FAMILIES)
    unknown = set(names) - set(FAMILIES)
    if unknown:
        raise TrainingError(f"unknown model families {sorted(unknown)}; known: {sorted(FAMILIES)}")
    return {name: family_space(name) for name in names}


def parameter_ranges(families: list[str] | None = None) -> dict[str, list[dict[str, Any]]]:
    """The tuning job's ``ParameterRanges``. Stepped integers (``n_estimators`` by 50) become
    categorical, since SageMaker's integer ranges have no step."""
    space = search_space(families)
    ranges: dict[str, list[dict[str, Any]]] = {
        "CategoricalParameterRanges": [{"Name": FAMILY, "Values": list(space)}],
        "IntegerParameterRanges": [],
        "ContinuousParameterRanges": [],
    }
    for dists in space.values():
        for d in dists:
            if d.kind == "categorical":
                values = [str(c) for c in d.choices]
                ranges["CategoricalParameterRanges"].append({"Name": d.name, "Values": values})
            elif d.kind == "int" and d.step:
                steps = range(int(d.low), int(d.high) + 1, d.step)
                ranges["CategoricalParameterRanges"].append(
                    {"Name": d.name, "Values": [str(v) for v in steps]}
                )
            else:
                key = "IntegerParameterRanges" if d.kind == "int" else "ContinuousParameterRanges"
                ranges[key].append(
                    {
                        "Name": d.name,
                        "MinValue": str(d.low),
                        "MaxValue": str(d.high),
                        "ScalingType": "Logarithmic" if d.log else "Linear",
                    }
                )
    return {k: v for k, v in ranges.items() if v}


def trial_from_hyperparameters(hyperparameters: dict[str, Any]) -> dict[str, Any]:
    """One training job's hyperparameters → the optuna parameters of its single trial
    (``{"family": ..., "<prefix>.<name>": value, ...}``), checked against the search space."""
    if FAMILY not in hyperparameters:
        raise TrainingError(f"hyperparameter {FAMILY!r} is missing; known families: {sorted(FAMILIES)}")
    family = str(hyperparameters[FAMILY]).strip().strip('"')
    if family not in FAMILIES:
        raise TrainingError(f"hyperparameter family={family!r} is not one of {sorted(FAMILIES)}")
    trial: dict[str, Any] = {FAMILY: family}
    for d in family_space(family):
        if d.name not in hyperparameters:
            raise TrainingError(f"hyperparameter {d.name!r} is missing for family {family!r}")
        trial[d.name] = d.parse(hyperparameters[d.name])
    return trial
