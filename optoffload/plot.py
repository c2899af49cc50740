"""Pictures of one solution, drawn from the family simulator's own event times.

Usage::

    import optoffload as oo
    from optoffload import plot
    inst = oo.load("picsys/table2")
    sol = oo.solve(inst, "two-stage")
    plot.plot(inst, sol, "plan.png")       # PNG, PDF or SVG by extension

CLI: ``optoffload plot INSTANCE SOLUTION.json -o FILE.png|pdf|svg`` (SOLUTION.json as written by
``optoffload solve --json``).

What each family draws (its ``Family.plot`` hook, ``fn(instance, decisions, ax=None) -> Figure``):

* ``picsys`` (:func:`optoffload.picsys.view.plot`): Gantt chart of every device's CPU and uplink
  and of the cloud servers, outcomes coloured, the makespan marked;
* ``erds`` (:func:`optoffload.erds.view.plot`): where each task is cut, its share, and its
  execution time T_u(s_u, k, w_u) at every exit k with the exit probabilities;
* ``progressive`` (:func:`optoffload.progressive.view.plot`): the transmission windows of the
  images against the bandwidth trace (``config``), the bytes per device (``airtime``), or the
  cumulative bytes of the sending order against the budget distribution (``ordering``).

A new family adds its own drawing by naming it in its ``Family(plot="module:function")``; this
module needs no change. matplotlib is imported only when a picture is drawn.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import InvalidInstance

#: Column width of a two-column paper, inches (IEEE: 3.5 in).
COLUMN_WIDTH_IN = 3.5
#: Text width of a two-column paper, inches.
TEXT_WIDTH_IN = 7.16
FORMATS = (".png", ".pdf", ".svg")
DPI = 200


def pyplot():
    """matplotlib.pyplot with the non-interactive Agg backend (unless one is already chosen)."""
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "pdf", "svg", "module://matplotlib_inline.backend_inline"):
        try:
            matplotlib.use("Agg")
        except Exception:  # pragma: no cover - a backend was forced by the user
            pass
    import matplotlib.pyplot as plt

    return plt


#: Paper style: 7-8 pt text at column width (applied inside :func:`style`, never globally).
STYLE = {"font.size": 7, "axes.titlesize": 7.5, "axes.labelsize": 7, "xtick.labelsize": 6.5,
         "ytick.labelsize": 6.5, "legend.fontsize": 6.5, "lines.linewidth": 1.0, "axes.linewidth": 0.6,
         "xtick.major.width": 0.6, "ytick.major.width": 0.6, "savefig.bbox": "tight", "savefig.pad_inches": 0.02,
         "pdf.fonttype": 42, "svg.fonttype": "none"}


def style():
    """A context manager applying :data:`STYLE` (matplotlib's ``rc_context``)."""
    import matplotlib

    return matplotlib.rc_context(STYLE)


def new_axes(ax=None, *, width: float = TEXT_WIDTH_IN, height: float = 2.6):
    """``(figure, axes)``: the given axes' figure, or a new figure of ``width x height`` inches."""
    if ax is not None:
        return ax.figure, ax
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
    return fig, ax


def save(fig, path: str | Path, *, dpi: int = DPI) -> Path:
    """Write ``fig`` to ``path`` (format from the extension: .png, .pdf or .svg) and close it."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise InvalidInstance("output", f"extension must be one of {', '.join(FORMATS)}, got {str(path)!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    with style():
        fig.savefig(path, dpi=dpi)
    pyplot().close(fig)
    return path


def _decisions(solution: Any) -> Any:
    if hasattr(solution, "decisions") and hasattr(solution, "status"):
        return solution.decisions
    if isinstance(solution, dict):
        if "decisions" not in solution:
            raise InvalidInstance("solution", "has no 'decisions' (write it with `optoffload solve --json`)")
        return solution["decisions"]
    raise InvalidInstance("solution", f"must be a Solution or its JSON object, got {type(solution).__name__}")


def figure(instance: Any, solution: Any, ax=None, **kw: Any):
    """The family's picture of ``solution`` on ``instance`` (a matplotlib Figure)."""
    from .api import load
    from .family import resolve
    from .registry import get_family

    inst = load(instance)
    fam = get_family(inst.family)
    if not getattr(fam, "plot", None):
        raise InvalidInstance("family", f"family {inst.family!r} has no plot")
    if isinstance(solution, dict) and solution.get("family") not in (None, inst.family):
        raise InvalidInstance("solution.family", f"is {solution.get('family')!r} but the instance is {inst.family!r}")
    decisions = _decisions(solution)
    if decisions is None:
        raise InvalidInstance("solution", "has no decisions to draw (status without a solution?)")
    pyplot()
    with style():
        return resolve(fam.plot)(inst, decisions, ax=ax, **kw)


def plot(instance: Any, solution: Any, path: str | Path | None = None, **kw: Any):
    """Draw ``solution`` (a Solution or its JSON dict); write it to ``path`` if given.

    Returns the Figure (or the path written). Raises :class:`InvalidInstance` for a solution
    that does not fit the instance, or an unknown file extension.
    """
    if path is not None and Path(path).suffix.lower() not in FORMATS:
        raise InvalidInstance("output", f"extension must be one of {', '.join(FORMATS)}, got {str(path)!r}")
    fig = figure(instance, solution, **kw)
    return fig if path is None else save(fig, path)


__all__ = ["plot", "figure", "save", "new_axes", "pyplot", "COLUMN_WIDTH_IN", "TEXT_WIDTH_IN"]
