"""Cloud-queue cuts for the PicSys exact models with ``S`` identical cloud servers (issue #15).

With identical service time ``c`` (``inst.cloud_time``) and FIFO on ``S``
servers, the last cloud completion of a plan is the closed form used by
:mod:`optoffload.picsys.bruteforce`::

    C = max_j ( a_j + c * ceil(n_j / S) ),   n_j = #{offloads j' : a_j' >= a_j}

over the arrivals ``a_j`` (upload ends) of the offloaded images. Every
offloaded image ``j`` arrives no earlier than a constant ``r_j``
(:func:`earliest_arrivals`), so ``#{j' : a_j' >= t} >= #{j' offloaded : r_j' >= t}``
for any ``t``, and taking ``j`` the first arrival at or after ``t``
(``a_j >= t``) gives the *threshold cut*, for every ``t``::

    T >= t * z_t + c * q_t,   S * q_t >= sum_{j in G_t} o_j,   z_t >= o_j (j in G_t)     (*)

with ``G_t = {j : r_j >= t}``, ``q_t`` integer, ``z_t`` Boolean (the group has
an offload: without one, nothing of the group reaches the cloud and ``T >= t``
would be wrong), and ``o_j`` 1 iff image ``j`` is offloaded (``i-off`` or
``f-off``). It is linear in the offload Booleans plus two variables per
threshold, and valid for every plan (``q_t = ceil(n/S)``, ``z_t = [n >= 1]``
satisfy it): the ``n`` offloads of ``G_t`` start at or after ``t`` on ``S``
servers, one of which runs ``ceil(n / S)`` of them. With ``t = min r`` it is
the classic ``T >= a_min + c * ceil(n / S)``. Only the distinct values of
``r`` matter as thresholds (between two consecutive values the group is the
same and the larger ``t`` dominates). The groups are nested, so the ``z``
rows can be written ``z_t >= z_t'`` (``t'`` the next threshold) plus one row
per new member: ``O(N)`` rows in all.

CP-SAT (``cpsat.py``, option ``cloud=...+cuts``) writes the first row as
``T >= t + c * q_t`` enforced by ``z_t``, and ``T >= c * q_t``, which is the same
for Boolean ``z_t``. The MILPs (``milp.py``) can use :func:`threshold_cuts`
unchanged: per threshold one integer column ``q_t``, one binary ``z_t`` and
the rows of (*), with ``o_j`` the sum of the image's offloading outcome
columns, arrivals in seconds (``dur`` left as the identity), and ``options`` the
model's outcome set. The cuts are valid for ``S = 1`` as well.
"""

from __future__ import annotations

import time
from typing import Callable, Sequence

from optoffload.picsys import bounds as B
from optoffload.picsys.model import PicsysInstance

from .milp import BuildTimeout

FRONT_CAP = 64
"""Largest Pareto front kept per image by :func:`earliest_arrivals` (beyond it, neighbours are merged
into their component-wise minimum: the arrivals stay valid lower bounds)."""


def earliest_arrivals(inst: PicsysInstance, options: Callable[[int, int], Sequence[int]] | None = None,
                      dur: Callable[[float], float] | None = None, deadline: float | None = None
                      ) -> list[list[float | None]]:
    """Per device and image: the earliest time the image can reach the cloud, over every plan.

    ``options(m, i)``: the outcome codes allowed for image ``i`` of device ``m``
    (default: every feasible outcome); ``dur``: maps each duration (seconds) to
    the model's units (e.g. integer ticks; default: identity), sums are taken in
    those units. ``None`` for images with no offloading outcome. Past ``deadline``
    (a ``time.perf_counter()`` value) it raises
    :class:`~optoffload.formulations.picsys.milp.BuildTimeout` (checked every 256 images).

    The earliest arrival of image ``i`` is ``min max(W, E + cpu) + tx_i`` over the
    states ``(E, W)`` (CPU end, uplink free time; eq. 9 and the FIFO uplink)
    reachable by images ``0..i-1`` and the image's offloading outcomes. The
    states are kept as a Pareto front (both coordinates are monotone in the
    recursion, so dropping dominated states is exact); past :data:`FRONT_CAP`
    states, neighbours are merged into their component-wise minimum, which can
    only lower the result.
    """
    opt = options or (lambda m, i: B.image_options(inst.devices[m], i))
    f = dur or (lambda x: x)
    out: list[list[float | None]] = []
    for m, dev in enumerate(inst.devices):
        front = [(0, 0)]
        row: list[float | None] = []
        for i in range(dev.n):
            if i & 255 == 0 and deadline is not None and time.perf_counter() > deadline:
                raise BuildTimeout
            ks = opt(m, i)
            tx = f(float(dev.tx[i]))
            cpu = {k: f(B.cpu_time(dev, i, k)) for k in ks}
            offs = [cpu[k] for k in ks if B.OFFLOADS[k]]
            row.append(min(max(W, E + min(offs)) + tx for E, W in front) if offs else None)
            nxt = set()
            for E, W in front:
                for k in ks:
                    E2 = E + cpu[k]
                    nxt.add((E2, max(W, E2) + tx if B.UPLOADS[k] else W))
            front = _pareto(nxt)
        out.append(row)
    return out


def _pareto(points) -> list[tuple]:
    pts = sorted(points)
    front = []
    for E, W in pts:
        if not front or W < front[-1][1]:
            front.append((E, W))
    while len(front) > FRONT_CAP:
        front = [(min(a[0], b[0]), min(a[1], b[1])) for a, b in zip(front[::2], front[1::2])] + \
            (front[-1:] if len(front) % 2 else [])
        front = _pareto(front) if len(front) > FRONT_CAP else front
    return front


def threshold_cuts(arrivals: list[list[float | None]], max_cuts: int | None = None
                   ) -> list[tuple[float, list[tuple[int, int]]]]:
    """The cuts (*) of the module docstring: ``[(t, [(m, i), ...]), ...]``, one per threshold ``t``.

    Each entry says ``T >= t + c * ceil(n / S)`` when ``n``, the number of offloaded images
    among those listed, is at least 1 (``T >= c * ceil(n / S)`` always).
    Thresholds are the distinct earliest arrivals; with ``max_cuts`` only that
    many (evenly spread, always including the smallest) are returned, each cut
    being valid on its own.
    """
    jobs = [(r, m, i) for m, row in enumerate(arrivals) for i, r in enumerate(row) if r is not None]
    ts = sorted({r for r, _, _ in jobs})
    if max_cuts is not None and len(ts) > max_cuts:
        step = len(ts) / max_cuts
        ts = sorted({ts[int(k * step)] for k in range(max_cuts)})
    return [(t, [(m, i) for r, m, i in jobs if r >= t]) for t in ts]
