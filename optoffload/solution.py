"""The family-independent result of a solve."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Any

from .errors import InvalidInstance
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
    _instance: Any = field(default=None, init=False, repr=False, compare=False)
    """The instance this Solution was solved on (set by :func:`optoffload.solve`; not serialized)."""

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

    # ------------------------------------------------------------------ human-readable views
    def __repr__(self) -> str:
        """Short: names, status, figures and a summary of the decisions (never the whole plan)."""
        def fmt(x: float | None) -> str:
            return "None" if x is None else f"{x:.6g}"

        gap = "None" if self.gap is None else f"{100 * self.gap:.3g}%"
        return (f"Solution({self.family}/{self.instance}, method={self.method!r}, status={self.status.value}, "
                f"objective={fmt(self.objective)}, bound={fmt(self.bound)}, gap={gap}, "
                f"runtime={self.runtime:.3g}s, decisions={summarize(self.decisions)})")

    def _repr_html_(self) -> str:
        """Notebook view: a small table of the figures, the decisions' shape and scalar info
        (well-formed HTML, a few kB whatever the instance size)."""
        e = html.escape

        def fmt(x: float | None) -> str:
            return "&#8211;" if x is None else e(f"{x:.6g}")

        rows = [("family / instance", e(f"{self.family}/{self.instance}")), ("method", e(self.method)),
                ("status", e(self.status.value)), ("objective", fmt(self.objective)), ("bound", fmt(self.bound)),
                ("gap", "&#8211;" if self.gap is None else e(f"{100 * self.gap:.4g} %")),
                ("runtime", e(f"{self.runtime:.4g} s")), ("decisions", e(summarize(self.decisions)))]
        info = list((self.info or {}).items())
        shown = 0
        for k, v in info:
            if shown >= 16:
                rows.append(("info", e(f"... {len(info) - shown} more keys")))
                break
            shown += 1
            if isinstance(v, (bool, int, float, str)) or v is None:
                rows.append((e(str(k)), e(_short(v))))
            elif isinstance(v, dict) and len(v) <= 8 and all(isinstance(x, (int, float, str, bool)) for x in v.values()):
                rows.append((e(str(k)), e(", ".join(f"{a}: {_short(b)}" for a, b in v.items()))))
        body = "".join(f"<tr><th style=\"text-align:left\">{k}</th><td style=\"text-align:left\">{v}</td></tr>"
                       for k, v in rows)
        return f"<table class=\"optoffload-solution\"><tbody>{body}</tbody></table>"

    def to_frame(self, instance: Any = None) -> Any:
        """A pandas DataFrame with one row per decision unit (PicSys: image; ERDS: task;
        progressive: image window, device or chunk), replayed by the family's simulator.

        ``instance`` defaults to the one this Solution was solved on (kept by :func:`solve`); the
        columns are each family's ``FRAME_COLUMNS`` (docs/readable.md). pandas is imported here.
        """
        import pandas as pd  # type: ignore[import-untyped]

        from .errors import InvalidInstance
        from .family import resolve
        from .registry import get_family

        inst = instance if instance is not None else getattr(self, "_instance", None)
        if inst is None:
            raise InvalidInstance("instance", "to_frame() needs the instance (this Solution was not made by solve())")
        from .api import load

        inst = load(inst)
        fam = get_family(inst.family)
        if not fam.frame:
            raise InvalidInstance("family", f"family {inst.family!r} has no frame view")
        if self.decisions is None:
            return pd.DataFrame(columns=list(frame_columns(inst)))
        return pd.DataFrame(resolve(fam.frame)(inst, self.decisions), columns=list(frame_columns(inst)))


def frame_columns(instance: Any) -> dict[str, str]:
    """The documented columns (name -> meaning) of ``to_frame()`` for ``instance``'s family."""
    import importlib

    from .registry import get_family

    fam = get_family(instance.family)
    if not fam.frame:
        raise InvalidInstance("family", f"family {instance.family!r} has no frame view")
    mod = importlib.import_module(fam.frame.partition(":")[0])
    cols: dict[str, Any] = mod.FRAME_COLUMNS
    problem = getattr(instance, "problem", None)
    if problem is not None and problem in cols and isinstance(cols[problem], dict):
        return dict(cols[problem])
    return dict(cols)


def _short(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    s = str(v)
    return s if len(s) <= 80 else s[:77] + "..."


def summarize(obj: Any, depth: int = 0) -> str:
    """A one-line shape of plain data: ``{outcomes: list[20 x list[1000]], mode: 'makespan'}``."""
    if isinstance(obj, dict):
        if depth > 1:
            return f"dict[{len(obj)}]"
        items = list(obj.items())
        parts = [f"{k}: {summarize(v, depth + 1)}" for k, v in items[:6]]
        if len(items) > 6:
            parts.append(f"... {len(items) - 6} more")
        return "{" + ", ".join(parts) + "}"
    if isinstance(obj, (list, tuple)):
        n = len(obj)
        if n == 0:
            return "[]"
        if n <= 4 and all(isinstance(x, (int, float, str, bool)) for x in obj):
            return "[" + ", ".join(_short(x) for x in obj) + "]"
        inner = summarize(obj[0], depth + 1) if isinstance(obj[0], (list, tuple, dict)) else type(obj[0]).__name__
        return f"list[{n} x {inner}]"
    if isinstance(obj, str):
        return repr(obj if len(obj) <= 30 else obj[:27] + "...")
    return _short(obj)
