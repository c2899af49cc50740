"""The one status enum every backend and heuristic maps onto."""

from __future__ import annotations

from enum import Enum


class Status(str, Enum):
    """Outcome of a solve.

    ``OPTIMAL``: proven optimal (bound == objective within the solver's tolerance).
    ``FEASIBLE``: a feasible solution without proof of optimality (every heuristic,
    and every exact method stopped by its time limit with an incumbent).
    ``INFEASIBLE``: proven that no feasible solution exists.
    ``UNKNOWN``: no solution and no proof (e.g. time limit before any incumbent).
    """

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    UNKNOWN = "unknown"

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.value

    @property
    def has_solution(self) -> bool:
        return self in (Status.OPTIMAL, Status.FEASIBLE)
