"""The contract of a benchmark suite.

A suite is a list of independent *tasks* (plain JSON-serializable dicts, each
with a unique string ``"id"``), a function that runs one task and returns one
*row* (a JSON-serializable dict) or a list of rows, and a report that turns all
rows into markdown (and may write plots next to it).

``run`` must be a top-level function (it is shipped to worker processes or
Dask workers) and must take all randomness from the task (record the seed in
the task so that it lands in every row).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable


@dataclass(frozen=True)
class Suite:
    name: str
    summary: str
    tasks: Callable[[bool], list[dict]]
    """``tasks(quick) -> list of task dicts``; ``quick`` asks for a smoke-sized suite."""
    run: Callable[[dict], Any]
    """``run(task) -> row dict | list of row dicts`` (top-level, picklable)."""
    report: Callable[[list[dict], Path], str] | None = None
    """``report(rows, outdir) -> markdown``; may write plots into ``outdir``."""
    tasks_with: Callable[[bool, list[str] | None, int | None], list[dict]] | None = None
    """Optional, for suites that compare methods (``bench SUITE --methods a,b --seeds N``):
    ``tasks_with(quick, methods, seeds) -> tasks``. ``methods`` (names or ``module:function``
    strings) replaces the suite's own list of compared methods (its reference method stays),
    ``seeds`` the number of random instances; None keeps the suite's default. The tasks carry
    the methods, so ``run`` needs nothing else. Suites without it reject both options."""


def markdown_table(rows: list[dict], columns: list[str], floatfmt: str = "{:.4g}") -> str:
    """A GitHub markdown table of ``rows`` restricted to ``columns``."""
    def fmt(v: Any) -> str:
        if v is None:
            return "-"
        if isinstance(v, float):
            return floatfmt.format(v)
        return str(v)

    head = "| " + " | ".join(columns) + " |"
    sep = "|" + "|".join("---" for _ in columns) + "|"
    body = ["| " + " | ".join(fmt(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join([head, sep, *body])
