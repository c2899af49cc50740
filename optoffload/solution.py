"""The family-independent result of a solve."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from .status import Status


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    """Relative gap ``|objective - bound| / max(|objective|, 1e-9)``.

    Returns 0 when both are equal (including both 0), None when either is missing.
    """
    if objective is None or bound is None:
        return None
    if not (math.isfinite(objective) and math.isfinite(bound)):
        return None
    diff = objective - bound
    if abs(diff) <= 1e-12:
        return 0.0
    return abs(diff) / max(abs(objective), 1e-9)


@dataclass
class Solution:
    """What every method of every family returns.

    Attributes
    ----------
    family, instance, method:
        Names (``instance`` is the instance's ``name`` field).
    status:
        A :class:`Status`. Heuristics return FEASIBLE.
    objective:
        Objective in the family's unit (PicSys and ERDS: seconds; progressive:
        per the problem). None when there is no solution.
    bound:
        Best proven lower bound (minimization) or None.
    runtime:
        Wall seconds spent solving.
    decisions:
        Family-specific plain data (JSON-serializable) that the family's
        simulator replays in :func:`optoffload.verify`.
    info:
        Extra plain data (solver statistics, reasons for infeasibility...).
    """

    family: str
    instance: str
    method: str
    status: Status
    objective: float | None
    bound: float | None = None
    runtime: float = 0.0
    decisions: Any = None
    info: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.status = Status(self.status)
        if self.objective is not None:
            self.objective = float(self.objective)
        if self.bound is not None:
            self.bound = float(self.bound)

    @property
    def gap(self) -> float | None:
        """Relative gap between objective and bound (None if either is missing)."""
        return relative_gap(self.objective, self.bound)

    def to_dict(self) -> dict:
        """The JSON object of the CLI's ``--json`` (architecture page)."""
        return {
            "family": self.family,
            "instance": self.instance,
            "method": self.method,
            "status": self.status.value,
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "runtime_s": self.runtime,
            "decisions": self.decisions,
            "info": self.info,
        }

    def __str__(self) -> str:
        def fmt(x: float | None) -> str:
            return "-" if x is None else f"{x:.6g}"

        return (
            f"{self.family}/{self.instance} via {self.method}: "
            f"status={self.status.value} objective={fmt(self.objective)} "
            f"bound={fmt(self.bound)} gap={fmt(self.gap)} "
            f"runtime={self.runtime:.3f}s"
        )
