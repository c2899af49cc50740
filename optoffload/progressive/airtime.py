"""Airtime allocation (PNC section IV, multiple-choice knapsack over slots): shared algorithms.

Used by the ``exact`` method (formulations/progressive/exact.py), the ``milp`` method's fallback
(formulations/progressive/milp.py) and the ``greedy`` heuristic (heuristics/progressive/greedy.py),
so that every method can return an incumbent and a valid bound within a time limit:

``equal_split``  ``floor(slots / D)`` slots per device: feasible, O(D), the last resort;
``hull_greedy``  greedy on the upper concave hulls of ``U[d, .]`` with its fractional (LP
                 relaxation) value as an upper bound on the optimum;
``airtime_dp``   the exact DP ``V_d(c) = max_{s <= c} V_{d-1}(c - s) + U_d(s)``, O(D * slots^2)
                 time and O(D * slots) memory, with a deadline.

Every function that takes ``deadline`` (a ``time.perf_counter()`` value) returns ``None`` when
the deadline passes before it finishes, so the caller falls back to the next cheaper answer.
"""

from __future__ import annotations

import time

import numpy as np


def _late(deadline: float | None) -> bool:
    return deadline is not None and time.perf_counter() > deadline


def equal_split(n_devices: int, capacity: int, max_slots: int) -> list[int]:
    """``min(max_slots, capacity // n_devices)`` slots per device (feasible: ``sum <= capacity``)."""
    return [int(min(max_slots, capacity // max(1, n_devices)))] * n_devices


def upper_hull(u: np.ndarray, deadline: float | None = None) -> list[int] | None:
    """Indices of the upper concave hull of the points ``(s, u[s])``, ``s = 0..len(u)-1`` (monotone chain).

    None if ``deadline`` passes (checked every 4,096 points).
    """
    hull: list[int] = []
    u = [float(x) for x in u]
    for s in range(len(u)):
        if s & 4095 == 0 and _late(deadline):
            return None
        us = u[s]
        while len(hull) >= 2:
            a, b = hull[-2], hull[-1]
            # drop b if it lies on or below the segment a -> s
            if (u[b] - u[a]) * (s - a) <= (us - u[a]) * (b - a):
                hull.pop()
            else:
                break
        hull.append(s)
    return hull


def hull_greedy(U: np.ndarray, capacity: int, deadline: float | None = None) -> tuple[list[int], float] | None:
    """Greedy on hull steps (integral) and the fractional hull bound (an upper bound on the optimum).

    ``U[d, s]`` is device ``d``'s utility with ``s`` slots (non-decreasing not required). The bound
    is the optimum of the LP relaxation of the multiple-choice knapsack (the greedy on hull
    slopes is optimal for it), so it is valid for every integral plan. None if ``deadline``
    passes while the hulls are built; past it during the final upgrade loop, the plan so far
    (feasible) is returned.
    """
    D, S1 = U.shape
    hulls = []
    for d in range(D):
        h = upper_hull(U[d], deadline)
        if h is None:
            return None
        hulls.append(h)
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
    while used < capacity and not _late(deadline):
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


DP_SEC_PER_CELL = 2e-9
"""Estimated seconds per (device, capacity, slots) cell of :func:`airtime_dp` (numpy, measured
about 1 ns on an idle 2-core machine; doubled for load). Used only to decide whether to start."""


def dp_cells(U: np.ndarray, capacity: int) -> int:
    """Cells :func:`airtime_dp` visits: ``sum_d sum_{s <= min(S, Q)} (Q + 1 - s)``."""
    D, S1 = U.shape
    k = min(S1 - 1, capacity)
    return D * ((k + 1) * (capacity + 1) - k * (k + 1) // 2)


def airtime_dp(U: np.ndarray, capacity: int, deadline: float | None = None) -> tuple[list[int], float] | None:
    """Optimal slots per device for utilities ``U[d, s]`` and ``sum s <= capacity`` (exact DP).

    ``V_d(c) = max_{s <= c} V_{d-1}(c - s) + U_d(s)``, computed one ``s`` at a time over the
    whole capacity vector (O(capacity) memory per device, not O(capacity * slots)). Ties go to
    the fewest slots (strict improvement only). None if ``deadline`` passes (checked every
    64 values of ``s``).
    """
    D, S1 = U.shape
    Q = int(capacity)
    V = np.zeros(Q + 1)  # V[c]: best value of the devices so far using at most c slots
    choice = np.zeros((D, Q + 1), dtype=np.int32)
    for d in range(D):
        best = V + U[d, 0]
        arg = choice[d]
        for s in range(1, min(S1 - 1, Q) + 1):
            if s & 63 == 0 and _late(deadline):
                return None
            cand = V[:Q + 1 - s] + U[d, s]
            tail = best[s:]
            better = cand > tail
            tail[better] = cand[better]
            arg[s:][better] = s
        V = best
    level = [0] * D
    rem = Q
    for d in range(D - 1, -1, -1):
        level[d] = int(choice[d, rem])
        rem -= level[d]
    return level, float(sum(U[d, level[d]] for d in range(D)))
