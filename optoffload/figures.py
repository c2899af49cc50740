"""Figures fit for a paper, shared by every benchmark suite.

Conventions (issue #16), applied by these helpers so that each suite only draws its data:

* size: one column (3.5 in) or the text width (7.16 in) of a two-column paper; 7-8 pt text
  (:data:`optoffload.plot.STYLE`);
* files: ``NAME.png`` at 200 dpi and ``NAME.pdf`` (vector) side by side (:func:`save`);
* every axis labelled with its unit, the swept quantity named on the x axis;
* ours vs the paper's told apart by the legend: ours solid with circles, the paper's dashed with
  crosses, our exact evaluator dotted with triangles (:data:`OURS`, :data:`PAPER`, :data:`EXACT`,
  :func:`style_legend`); a missing paper value drawn as a hollow marker labelled "n/a"
  (:func:`mark_missing`), never as a silent gap;
* a log (or clipped) axis where one method dwarfs the rest (:func:`auto_scale`);
* n (instances per point) in the caption (:func:`save`'s ``caption`` is drawn under the axes and
  returned for the markdown report);
* no figure when there is nothing to show (a ``--quick`` run with one point per line):
  :func:`worth_plotting` says so and the report says why instead.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import Any, Iterable, Sequence

from .plot import COLUMN_WIDTH_IN, STYLE, TEXT_WIDTH_IN, pyplot, style

DPI = 200
OURS = {"linestyle": "-", "marker": "o", "markersize": 3}
PAPER = {"linestyle": "--", "marker": "x", "markersize": 4, "alpha": 0.8}
EXACT = {"linestyle": ":", "marker": "^", "markersize": 3}
#: Colour-blind safe palette (Okabe-Ito), cycled per method.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000", "#999999",
           "#882255", "#44AA99", "#117733")


def color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def figure(nrows: int = 1, ncols: int = 1, *, width: str | float = "column", height: float | None = None,
           **kw: Any):
    """``(fig, axes)`` of a column-width (``"column"``, 3.5 in) or text-width (``"text"``) figure."""
    plt = pyplot()
    w = {"column": COLUMN_WIDTH_IN, "text": TEXT_WIDTH_IN}.get(width, width) if isinstance(width, str) else width
    h = height if height is not None else (2.4 if nrows == 1 else 1.9 * nrows)
    with style():
        fig, axes = plt.subplots(nrows, ncols, figsize=(w, h), layout="constrained", **kw)
    return fig, axes


def worth_plotting(xs: Iterable[Any], min_points: int = 2) -> bool:
    """True if a line has at least ``min_points`` distinct x values (else the plot says nothing)."""
    return len({x for x in xs if x is not None}) >= min_points


def auto_scale(ax, values: Iterable[float], *, axis: str = "y", ratio: float = 20.0) -> str:
    """Log scale when the positive values span more than ``ratio`` (one method dwarfs the
    rest); returns ``"log"`` or ``"linear"``."""
    v = [float(x) for x in values if x is not None and isinstance(x, (int, float)) and math.isfinite(x) and x > 0]
    if len(v) >= 2 and max(v) / min(v) > ratio:
        (ax.set_yscale if axis == "y" else ax.set_xscale)("log")
        return "log"
    return "linear"


def clip_axis(ax, values: Sequence[float], *, quantile: float = 0.8, factor: float = 1.5) -> float | None:
    """Clip the y axis at ``factor`` x the ``quantile`` of ``values`` when the largest exceeds it;
    returns the clip (the caller annotates the clipped bars with :func:`label_bars`)."""
    v = sorted(float(x) for x in values if x is not None and math.isfinite(float(x)))
    if len(v) < 3:
        return None
    cap = v[min(len(v) - 1, int(quantile * (len(v) - 1)))] * factor
    if v[-1] > cap > 0:
        ax.set_ylim(top=cap)
        return cap
    return None


def label_bars(ax, bars, values: Sequence[float | None], *, fmt: str = "{:.3g}", clip: float | None = None,
               fontsize: float = 5.5, rotation: float = 90) -> None:
    """Print each bar's value above it (inside the top when the axis is clipped at ``clip``)."""
    for b, v in zip(bars, values):
        if v is None or not math.isfinite(v):
            continue
        x = b.get_x() + b.get_width() / 2
        if clip is not None and v > clip:
            ax.text(x, clip * 0.98, fmt.format(v) + "\u2191", ha="center", va="top", fontsize=fontsize, rotation=90,
                    color="white", fontweight="bold")
        else:
            ax.text(x, b.get_height() + b.get_y(), " " + fmt.format(v) if rotation else fmt.format(v), ha="center",
                    va="bottom", fontsize=fontsize, rotation=rotation)


def mark_missing(ax, x: float, y: float = 0.0, *, text: str = "n/a", color: str = "0.4") -> None:
    """A paper value that the paper does not give: a hollow marker and "n/a" at ``(x, y)``."""
    ax.plot([x], [y], marker="o", markersize=4, markerfacecolor="none", markeredgecolor=color, linestyle="none")
    ax.annotate(text, (x, y), textcoords="offset points", xytext=(0, 4), ha="center", va="bottom", fontsize=5,
                color=color, rotation=90)


def style_legend(ax_or_fig, *, ours: bool = True, paper: bool = True, exact: bool = False,
                 methods: Sequence[tuple[str, str]] = (), loc: str = "best", ncol: int = 1, **kw: Any):
    """A legend with one colour entry per method and one line-style entry per source."""
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=c, linestyle="-", label=m) for m, c in methods]
    if ours:
        handles.append(Line2D([], [], color="black", label="ours", **OURS))
    if exact:
        handles.append(Line2D([], [], color="black", label="ours, exact evaluator", **EXACT))
    if paper:
        handles.append(Line2D([], [], color="black", label="paper", **PAPER))
    return ax_or_fig.legend(handles=handles, loc=loc, ncol=ncol, frameon=False, **kw)


def save(fig, outdir: str | Path, name: str, *, caption: str | None = None, n: int | str | None = None) -> str:
    """Write ``outdir/name.png`` (200 dpi) and ``outdir/name.pdf``; close the figure.

    The caption (with ``n = ...`` appended when given) is drawn under the axes and returned as a
    markdown image line for the suite's report.
    """
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    cap = caption or ""
    if n is not None:
        cap = (cap + " " if cap else "") + f"n\u00a0=\u00a0{n}."
    if cap:
        width_in = fig.get_size_inches()[0]
        wrapped = textwrap.fill(cap, width=int(width_in * 19))
        fig.supxlabel(wrapped, fontsize=STYLE["font.size"] - 1, x=0.0, ha="left", color="0.25")
    with style():
        fig.savefig(outdir / f"{name}.png", dpi=DPI)
        fig.savefig(outdir / f"{name}.pdf")
    pyplot().close(fig)
    return f"![{cap or name}]({name}.png) ([PDF]({name}.pdf))"


__all__ = ["figure", "save", "auto_scale", "clip_axis", "label_bars", "mark_missing", "style_legend",
           "worth_plotting", "color", "OURS", "PAPER", "EXACT", "COLUMN_WIDTH_IN", "TEXT_WIDTH_IN"]
