"""Exact methods of the progressive family without a solver (method ``exact``).

``config``   enumeration: every candidate replayed in the deadline simulator
             (PNC section IV); the best is optimal by construction.
``airtime``  dynamic programme over devices and slots (a multiple-choice
             knapsack): ``V_d(c) = max_{s <= c} V_{d-1}(c - s) + U_d(s)``,
             ``O(D * slots^2)``, vectorized per device.
``ordering`` dynamic programme over subsets: the chunks sent first form a set
             ``A`` whose last chunk ends at ``sum(A)``, so
             ``f(A) = max_{i in A} f(A - i) + w_i P(S >= sum(A))``,
             ``O(n 2^n)``, vectorized per subset size; up to 22 chunks.

Time limits: the ordering DP checks the clock between subset sizes and returns
the ratio-rule order (FEASIBLE) if it runs out; the other two are polynomial.
"""

from __future__ import annotations

import time

import numpy as np

from optoffload.errors import InvalidInstance
from optoffload.progressive.model import ratio_order
from optoffload.solution import Solution
from optoffload.status import Status

MAX_ORDERING_CHUNKS = 22


def exact(instance, *, time_limit=None, seed=0, threads=None, **options) -> Solution:
    """Dispatch on ``instance.problem``; returns OPTIMAL with ``bound == objective``."""
    if options:
        raise InvalidInstance(next(iter(options)), "unknown option for method 'exact'")
    t0 = time.perf_counter()
    fn = {"config": _config, "airtime": _airtime, "ordering": _ordering}[instance.problem]
    decisions, obj, status, info = fn(instance.spec, time_limit, t0)
    bound = obj if status == Status.OPTIMAL else None
    return Solution("progressive", instance.name, "exact", status, obj, bound, time.perf_counter() - t0,
                    decisions, info)


def _config(sp, time_limit, t0):
    acc = sp.accuracy
    best = max(acc, key=lambda k: (acc[k], k))
    return {"config": best}, acc[best], Status.OPTIMAL, {"accuracy": dict(acc)}


def airtime_dp(U: np.ndarray, capacity: int) -> tuple[list[int], float]:
    """Optimal slots per device for utilities ``U[d, s]`` and ``sum s <= capacity``."""
    D, S1 = U.shape
    Q = capacity
    V = np.full(Q + 1, 0.0)  # V[c]: best value of the devices so far using at most c slots
    choice = np.zeros((D, Q + 1), dtype=np.int64)
    c = np.arange(Q + 1)
    for d in range(D):
        s = np.arange(min(S1 - 1, Q) + 1)
        # cand[c, s] = V[c - s] + U[d, s] for s <= c
        idx = c[:, None] - s[None, :]
        ok = idx >= 0
        cand = np.where(ok, V[np.clip(idx, 0, None)] + U[d, s][None, :], -np.inf)
        choice[d] = np.argmax(cand, axis=1)  # first max: fewest slots among ties
        V = cand[c, choice[d]]
    level = [0] * D
    rem = Q
    for d in range(D - 1, -1, -1):
        level[d] = int(choice[d, rem])
        rem -= level[d]
    return level, float(sum(U[d, level[d]] for d in range(D)))


def _airtime(sp, time_limit, t0):
    level, val = airtime_dp(sp.utility, sp.slots)
    return {"slots": level}, val, Status.OPTIMAL, {}


def ordering_dp(sp, time_limit=None, t0=None):
    """Optimal order by DP over subsets, or None if the time limit ran out."""
    n = len(sp.sizes)
    if n > MAX_ORDERING_CHUNKS:
        raise InvalidInstance("chunks", f"the subset DP handles at most {MAX_ORDERING_CHUNKS} chunks, got {n} "
                                        "(use method 'greedy' or 'milp')")
    t0 = time.perf_counter() if t0 is None else t0
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
        return {"order": order}, sp.value(order), Status.FEASIBLE, {"time_limit_reached": True}
    return {"order": order}, sp.value(order), Status.OPTIMAL, {}
