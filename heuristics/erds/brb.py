"""Outer problem (eq. (9)): edge-share allocation by branch-reduce-and-bound (erds.md 3.1).

F*(w) = min_s F(w, s) is non-increasing in every share (erds.md 2.3), so over a box [a, b] no
point beats F*(b): a monotonic-optimisation (Tuy) bound. The paper's code runs 4000 iterations
with no stopping test and rounds box ends to 3 decimals; here the loop stops when the smallest
box bound is within ``tol`` (relative) of the incumbent, or at ``max_iter`` / the time limit.

Steps per iteration (erds.md 3.1): pick the box with the smallest bound; halve its longest edge;
*reduce* each child: b_i <- min(b_i, C - sum_{j != i} a_j) (a feasible w in the box cannot have
more), drop it if sum(a) > C; *bound* it by F(b); improve the incumbent at the point where the
segment a -> b meets the face sum w = C (or at b when b is feasible). The bound returned is valid
only when F is exactly monotone: exact inner splitting (OSA) and the exact evaluator. With the
sampled evaluator or HSA inner it is reported as None.
"""

from __future__ import annotations

import heapq
import itertools
import time
from typing import Callable

import numpy as np


STALL_WORK = 100_000
"""Default stall budget in task-iterations: BRB stops when its incumbent has not improved by more
than ``tol`` (relative) during the last ``ceil(STALL_WORK / U)`` iterations (docs/erds.md, "BRB
stopping rule"). A budget of U x iterations makes the cost of waiting the same at every U, so the
whole run costs O(U) per iteration times a number of iterations that falls with U."""


def stall_patience(U: int, stall_work: int | None) -> int | None:
    """Iterations without improvement after which BRB stops (None: never, the paper's rule)."""
    if stall_work is None:
        return None
    return max(2, -(-int(stall_work) // max(int(U), 1)))


def brb(F: Callable[[np.ndarray], float], lo: np.ndarray, hi: np.ndarray, C: float, *, tol: float = 1e-4,
        max_iter: int = 4000, time_limit: float | None = None, decimals: int | None = None,
        stall_work: int | None = STALL_WORK) -> tuple[np.ndarray, float, float, dict]:
    """Minimise a non-increasing ``F`` over {lo <= w <= hi, sum w <= C}.

    Returns ``(w, F(w), bound, info)``; ``bound`` is min over open boxes of F(upper corner)
    (a valid lower bound when F is monotone). ``decimals`` rounds box ends (paper: 3).

    Stopping (first that holds): the smallest open-box bound is within ``tol`` (relative) of the
    incumbent (``stop="tolerance"``: converged, the bound certifies it); the incumbent has not
    improved by more than ``tol`` (relative) for :func:`stall_patience` iterations
    (``"stalled"``; ``stall_work=None`` disables it, the paper's fixed-iteration rule);
    ``max_iter``; ``time_limit``.
    """
    t0 = time.perf_counter()
    cache: dict = {}
    patience = stall_patience(len(lo), stall_work)

    def f(w: np.ndarray) -> float:
        key_w = np.round(w, 12)
        key = key_w.tobytes()
        if key not in cache:
            cache[key] = float(F(key_w))
        return cache[key]

    def rnd(x: np.ndarray) -> np.ndarray:
        return x if decimals is None else np.round(x, decimals)

    def reduce(a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
        if a.sum() > C * (1 + 1e-12):
            return None
        return np.minimum(b, C - (a.sum() - a))

    def face_point(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if b.sum() <= C:
            return b
        lam = (C - a.sum()) / (b - a).sum()
        return np.clip(a + lam * (b - a), lo, hi)

    best_w = face_point(lo, reduce(lo, hi))
    best = f(best_w)
    a0, b0 = lo.copy(), reduce(lo, hi)
    tie = itertools.count()
    heap = [(f(b0), next(tie), a0, b0)]
    it = 0
    last_gain = 0  # iteration of the last improvement of the incumbent by more than tol
    stop = "tolerance"
    dropped = np.inf  # smallest bound of a box discarded without being split

    while heap:
        bnd, _, a, b = heap[0]
        if bnd >= best - tol * max(abs(best), 1e-12):
            break
        if it >= max_iter:
            stop = "max_iter"
            break
        if patience is not None and it - last_gain >= patience:
            stop = "stalled"
            break
        if time_limit is not None and time.perf_counter() - t0 > time_limit:
            stop = "time_limit"
            break
        heapq.heappop(heap)
        it += 1
        i = int(np.argmax(b - a))
        h = (b[i] - a[i]) / 2
        if h <= (0.5 * 10.0 ** -decimals if decimals is not None else 1e-12):
            dropped = min(dropped, bnd)
            continue  # cannot split further: the box is resolved at this resolution
        bA = b.copy()
        bA[i] = rnd(np.array([b[i] - h]))[0]
        aB = a.copy()
        aB[i] = bA[i]
        for ca, cb in ((a.copy(), bA), (aB, b.copy())):
            cb = reduce(ca, cb)
            if cb is None or np.any(cb < ca - 1e-12):
                continue
            z = face_point(ca, cb)
            fz = f(z)
            if fz < best:
                if fz < best - tol * max(abs(best), 1e-12):
                    last_gain = it
                best, best_w = fz, z
            fb = f(cb)
            if fb < best - tol * max(abs(best), 1e-12):
                heapq.heappush(heap, (fb, next(tie), ca, cb))
            else:
                dropped = min(dropped, fb)
    bound = min([best, dropped] + [x[0] for x in heap])
    info = {"iterations": it, "evaluations": len(cache), "open_boxes": len(heap), "stop": stop,
            "patience": patience}
    return best_w, best, bound, info
