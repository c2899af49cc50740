"""Fast heuristics of the progressive family (method ``greedy``), one per problem kind.

``config``   fit-mean rule: the most accurate candidate whose complete image
             (framed, mean size) fits the mean window budget; the smallest
             candidate if none fits. What a designer picks from the mean
             bandwidth alone (PNC section V-F: "selecting the best model that
             guarantees the transmission of all encoded data ... becomes challenging").
``airtime``  greedy marginal allocation on the upper concave hulls of the
             devices' slot-accuracy curves: repeatedly give a device the hull
             step of best marginal accuracy per slot that still fits, then
             spend leftover slots on the best single upgrade. Optimal for
             concave curves (every hull step is one slot); its fractional
             version gives the upper bound reported as ``bound``.
``ordering`` ratio rule: send chunks by importance per byte, descending
             (Smith's rule); optimal when the budget is uniform over a long
             range or the sizes are equal. ``bound``: ``sum_i w_i P(S >= c_i)``
             (each chunk as if sent first).
"""

from __future__ import annotations

import time

import numpy as np

from optoffload.errors import InvalidInstance
from optoffload.progressive.model import ratio_order
from optoffload.progressive.profiles import data_bytes
from optoffload.solution import Solution
from optoffload.status import Status


def greedy(instance, *, time_limit=None, seed=0, threads=None, **options) -> Solution:
    """Dispatch on ``instance.problem`` (see the module docstring)."""
    if options:
        raise InvalidInstance(next(iter(options)), "unknown option for method 'greedy'")
    t0 = time.perf_counter()
    fn = {"config": _config, "airtime": _airtime, "ordering": _ordering}[instance.problem]
    decisions, obj, bound, info = fn(instance.spec)
    return Solution("progressive", instance.name, "greedy", Status.FEASIBLE, obj, bound,
                    time.perf_counter() - t0, decisions, info)


def _config(sp):
    budget = sp.mean_budget()
    cap = float(data_bytes(budget))
    fits = [p for p in sp.candidates if float(p.complete_bytes(1.0)[0]) <= cap]
    if fits:
        pick = max(fits, key=lambda p: (p.full_accuracy, -p.total_bytes))
    else:
        pick = min(sp.candidates, key=lambda p: p.total_bytes)
    return {"config": pick.name}, sp.accuracy[pick.name], None, {"mean_budget_B": budget, "fits": len(fits)}


# ------------------------------------------------------------------ airtime
def upper_hull(u: np.ndarray) -> list[int]:
    """Indices of the upper concave hull of the points ``(s, u[s])``, ``s = 0..len(u)-1`` (monotone chain)."""
    hull: list[int] = []
    for s in range(len(u)):
        while len(hull) >= 2:
            a, b = hull[-2], hull[-1]
            # drop b if it lies on or below the segment a -> s
            if (u[b] - u[a]) * (s - a) <= (u[s] - u[a]) * (b - a):
                hull.pop()
            else:
                break
        hull.append(s)
    return hull


def hull_greedy(U: np.ndarray, capacity: int) -> tuple[list[int], float]:
    """Greedy on hull steps (integral) and the fractional hull bound (an upper bound on the optimum).

    ``U[d, s]`` is device ``d``'s utility with ``s`` slots (non-decreasing not required).
    """
    D, S1 = U.shape
    hulls = [upper_hull(U[d]) for d in range(D)]
    # the hull of a non-decreasing curve may start with a 0-slope part only at the end; keep positive steps
    steps = []  # (slope, device, from, to)
    for d, h in enumerate(hulls):
        for a, b in zip(h, h[1:]):
            gain = U[d, b] - U[d, a]
            if gain > 0:
                steps.append((gain / (b - a), d, a, b))
    steps.sort(key=lambda x: (-x[0], x[1], x[2]))
    level = [0] * D
    used = 0
    blocked = [False] * D
    bound = float(U[:, 0].sum())
    frac_left = capacity
    frac_done = False
    for slope, d, a, b in steps:
        if not frac_done:
            take = min(b - a, frac_left)
            bound += slope * take
            frac_left -= take
            frac_done = frac_left == 0
        if blocked[d] or level[d] != a:
            blocked[d] = True
            continue
        if used + (b - a) <= capacity:
            level[d] = b
            used += b - a
        else:
            blocked[d] = True
    # leftover slots: best single upgrade (any device, any higher level) while one fits and helps
    while used < capacity:
        best = (0.0, -1, -1)
        for d in range(D):
            hi = min(S1 - 1, level[d] + capacity - used)
            if hi <= level[d]:
                continue
            seg = U[d, level[d] + 1:hi + 1] - U[d, level[d]]
            k = int(np.argmax(seg))
            if seg[k] > best[0] + 1e-15:
                best = (float(seg[k]), d, level[d] + 1 + k)
        if best[1] < 0:
            break
        used += best[2] - level[best[1]]
        level[best[1]] = best[2]
    value = float(sum(U[d, level[d]] for d in range(D)))
    return level, max(bound, value)


def _airtime(sp):
    U = sp.utility
    level, bound = hull_greedy(U, sp.slots)
    return {"slots": level}, float(sum(U[d, s] for d, s in enumerate(level))), bound, {}


# ----------------------------------------------------------------- ordering
def _ordering(sp):
    order = ratio_order(sp.sizes, sp.importance)
    bound = float(np.sum(sp.importance * sp.survival(sp.sizes)))
    return {"order": order}, sp.value(order), bound, {}
