"""Exact methods of the progressive family without a solver (method ``exact``).

``config``   enumeration: every candidate replayed in the deadline simulator
             (PNC section IV); the best is optimal by construction.
``airtime``  dynamic programme over devices and slots (a multiple-choice
             knapsack): ``V_d(c) = max_{s <= c} V_{d-1}(c - s) + U_d(s)``,
             ``O(D * slots^2)`` time, ``O(D * slots)`` memory
             (:func:`optoffload.progressive.airtime.airtime_dp`).
``ordering`` dynamic programme over subsets: the chunks sent first form a set
             ``A`` whose last chunk ends at ``sum(A)``, so
             ``f(A) = max_{i in A} f(A - i) + w_i P(S >= sum(A))``,
             ``O(n 2^n)``, vectorized per subset size; up to 22 chunks.

Time limits (issue #14, item 3): the whole method is charged to ``time_limit``,
including the tables it needs (candidate replays, utility rows). ``config``
replays candidates while time is left and returns the best replayed one
(FEASIBLE, no bound) when it runs out. ``airtime`` computes the utility rows
under the deadline, then the hull greedy of :mod:`optoffload.progressive.airtime`
(incumbent and LP-relaxation upper bound), then the DP only if its estimated
cost (:data:`~optoffload.progressive.airtime.DP_SEC_PER_CELL`) fits the time
left; the DP itself checks the clock and gives up to the greedy plan. Without
the utility table in time, the equal split is returned (FEASIBLE, no bound).
``ordering`` skips the DP when its estimated cost does not fit, and checks the
clock between subset sizes; either way it returns the ratio-rule order
(FEASIBLE). ``info["time_limit_reached"]`` says which step was cut.
"""

from __future__ import annotations

import time

import numpy as np

from optoffload.errors import InvalidInstance
from optoffload.progressive.airtime import DP_SEC_PER_CELL, airtime_dp as _dp, dp_cells, equal_split, hull_greedy
from optoffload.progressive.model import ratio_order
from optoffload.solution import Solution
from optoffload.status import Status

MAX_ORDERING_CHUNKS = 22
ORDERING_SEC_PER_CELL = 30e-9
"""Estimated seconds per (subset, chunk) cell of :func:`ordering_dp` (about 15 ns measured; doubled)."""


def exact(instance, *, time_limit=None, seed=0, threads=None, **options) -> Solution:
    """Dispatch on ``instance.problem``; returns OPTIMAL with ``bound == objective``."""
    if options:
        raise InvalidInstance(next(iter(options)), "unknown option for method 'exact'")
    t0 = time.perf_counter()
    fn = {"config": _config, "airtime": _airtime, "ordering": _ordering}[instance.problem]
    decisions, obj, status, info = fn(instance.spec, time_limit, t0)
    bound = obj if status == Status.OPTIMAL else info.get("upper_bound")
    return Solution("progressive", instance.name, "exact", status, obj, bound, time.perf_counter() - t0,
                    decisions, info)


def _deadline(time_limit, t0):
    return None if time_limit is None else t0 + float(time_limit)


def _config(sp, time_limit, t0):
    deadline = _deadline(time_limit, t0)
    if deadline is None or "accuracy" in sp.__dict__:
        acc = sp.accuracy
    else:
        acc = sp.accuracy_until(deadline)
    best = max(acc, key=lambda k: (acc[k], k))
    if len(acc) < len(sp.candidates):
        return {"config": best}, acc[best], Status.FEASIBLE, {
            "accuracy": dict(acc), "time_limit_reached": f"replayed {len(acc)} of {len(sp.candidates)} candidates"}
    return {"config": best}, acc[best], Status.OPTIMAL, {"accuracy": dict(acc)}


def airtime_dp(U: np.ndarray, capacity: int) -> tuple[list[int], float]:
    """Optimal slots per device for utilities ``U[d, s]`` and ``sum s <= capacity``."""
    return _dp(U, capacity)


def _airtime(sp, time_limit, t0):
    deadline = _deadline(time_limit, t0)
    U = sp.utility_rows(deadline)
    if U is None:
        level = equal_split(len(sp.devices), sp.slots, sp.slots)
        return {"slots": level}, float(sum(sp.utility_at(d, x) for d, x in enumerate(level))), Status.FEASIBLE, {
            "time_limit_reached": "utility table not computed in time: equal split"}
    if deadline is None:
        level, val = _dp(U, sp.slots)
        return {"slots": level}, val, Status.OPTIMAL, {}
    greedy = hull_greedy(U, sp.slots, deadline)
    if greedy is None:
        level = equal_split(len(sp.devices), sp.slots, sp.slots)
        return {"slots": level}, float(sum(U[d, x] for d, x in enumerate(level))), Status.FEASIBLE, {
            "time_limit_reached": "hulls not built in time: equal split"}
    g_level, ub = greedy
    g_val = float(sum(U[d, x] for d, x in enumerate(g_level)))
    info = {"upper_bound": ub}
    if ub - g_val <= 1e-12 * max(1.0, abs(ub)):
        return {"slots": g_level}, g_val, Status.OPTIMAL, {**info, "proof": "hull greedy meets its LP bound"}
    need = dp_cells(U, sp.slots) * DP_SEC_PER_CELL
    left = deadline - time.perf_counter()
    dp = _dp(U, sp.slots, deadline) if need <= left else None
    if dp is None:
        why = (f"DP estimated at {need:.1f} s with {max(left, 0):.1f} s left" if need > left
               else "DP stopped at the time limit")
        return {"slots": g_level}, g_val, Status.FEASIBLE, {**info, "time_limit_reached": why + ": hull greedy"}
    level, val = dp
    return {"slots": level}, val, Status.OPTIMAL, info


def ordering_dp(sp, time_limit=None, t0=None):
    """Optimal order by DP over subsets, or None if the time limit ran out."""
    n = len(sp.sizes)
    if n > MAX_ORDERING_CHUNKS:
        raise InvalidInstance("chunks", f"the subset DP handles at most {MAX_ORDERING_CHUNKS} chunks, got {n} "
                                        "(use method 'greedy' or 'milp')")
    t0 = time.perf_counter() if t0 is None else t0
    if time_limit is not None and ORDERING_SEC_PER_CELL * n * (1 << n) > time_limit - (time.perf_counter() - t0):
        return None  # the DP cannot finish in the time left: do not start it
    N = 1 << n
    masks = np.arange(N, dtype=np.int64)
    bits = (masks[:, None] >> np.arange(n)[None, :]) & 1
    total = bits @ sp.sizes
    gain = sp.survival(total)
    pop = bits.sum(axis=1)
    f = np.full(N, -np.inf)
    f[0] = 0.0
    last = np.full(N, -1, dtype=np.int8)
    for k in range(1, n + 1):
        if time_limit is not None and time.perf_counter() - t0 > time_limit:
            return None
        layer = masks[pop == k]
        best = np.full(len(layer), -np.inf)
        arg = np.full(len(layer), -1, dtype=np.int8)
        for i in range(n):
            has = ((layer >> i) & 1).astype(bool)
            m = layer[has]
            v = f[m ^ (1 << i)] + sp.importance[i] * gain[m]
            sel = np.where(has)[0]
            better = v > best[sel] + 1e-15
            best[sel[better]] = v[better]
            arg[sel[better]] = i
        f[layer] = best
        last[layer] = arg
    order = []
    m = N - 1
    while m:
        i = int(last[m])
        order.append(i)
        m ^= 1 << i
    return order[::-1]


def _ordering(sp, time_limit, t0):
    order = ordering_dp(sp, time_limit, t0)
    if order is None:
        order = ratio_order(sp.sizes, sp.importance)
        ub = float(np.sum(sp.importance * sp.survival(sp.sizes)))  # each chunk as if sent first: valid
        return {"order": order}, sp.value(order), Status.FEASIBLE, {"time_limit_reached": True, "upper_bound": ub}
    return {"order": order}, sp.value(order), Status.OPTIMAL, {}
