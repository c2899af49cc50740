"""``dnn-exact``: certified optimum of the many-task DNN-graph problem (dnn-graphs.md "Many tasks").

Route (docs/dnn.md "dnn-exact"): per task a candidate set of splits that provably contains an
optimal split (``optoffload.dnn.multi.Candidates``: all closed edge sets minus the pointwise
dominated ones; the min-cut envelope for the ``"sum"`` objective or one task), then

* objective ``"max"`` (E[max_u T_u]): the ERDS branch and bound of ``erds-exact``
  (formulations/erds/exact.py) over the candidates: every fixed candidate is an ERDS-style table
  T_uk = A_suk y_u + B_suk in y_u = 1/w_u, free tasks are relaxed by the chord of their concave
  per-exit minimum, and each node's share problem is closed by ERDS's HiGHS cutting-plane LP
  (``optoffload.erds.shares._solve_node``). Node bounds are valid (the relaxation's feasible set
  contains every leaf below and its times are below the true ones; E[max] is monotone), leaves
  are closed to a relative gap ``gap``, so OPTIMAL means bound <= optimum <= objective.
* objective ``"sum"`` (sum_u weight_u E[T_u]): depth-first branch and bound over the candidates;
  a leaf is a convex separable problem sum_u alpha_u / w_u + beta_u solved exactly by
  water-filling; a node's bound gives each free task its best candidate at its largest share and
  only w_min of the capacity (valid: every leaf below has w_u >= w_min and T_u >= that value).

When the candidate set is not certified (envelope candidates, objective "max", U >= 2), the
method still searches it to optimality but reports FEASIBLE, with the bound of the root node in
which every task is free and relaxed by the chord of its per-exit minimum over *all* closed edge
sets (one exact min cut per exit and share end): a valid lower bound for the whole problem.
"""

from __future__ import annotations

import heapq
import time

import numpy as np

from optoffload.dnn.evaluate import objective
from optoffload.dnn.model import DnnInstance, decisions
from optoffload.dnn.multi import (
    IDEAL_LIMIT,
    Candidates,
    TableProblem,
    alternate,
    expected_lines,
    share_bounds,
    sum_value,
    waterfill,
)
from optoffload.erds.shares import INNER_GAP, LEAF_GAP, PRUNE_TOL, _solve_node, _Timeout
from optoffload.errors import InvalidInstance
from optoffload.solution import Solution
from optoffload.status import Status

DIVE_EVERY = 8


def _global_bound(inst, cand, deadline) -> float | None:
    """A lower bound on the whole problem when the candidates are not certified: the root node
    with every task free, relaxed by the chord of its per-exit minimum over *all* closed edge sets
    (``Candidates.exit_minima``; valid by the argument of the module docstring)."""
    try:
        prob = TableProblem(inst, cand, minima=cand.exit_minima(inst))
        lb, _, _, _ = _solve_node(prob, {}, [], np.inf, INNER_GAP, deadline)
        return float(lb)
    except _Timeout as to:
        return float(to.args[0]) if to.args else None


def _finish(inst, cand, s, w, status, bound, t0, stats, deadline=None) -> Solution:
    masks = [cand.masks[u][x] for u, x in enumerate(s)]
    val = objective(inst, masks, w)
    if not cand.certified:
        status = Status.FEASIBLE if status == Status.OPTIMAL else status
        if deadline is not None and time.perf_counter() >= deadline:
            bound = None  # its per-exit minima over all closed sets are not interruptible: no time left
            stats["bound_kind"] = "none (time limit reached before the root relaxation)"
        else:
            bound = _global_bound(inst, cand, deadline)
            stats["bound_kind"] = "root relaxation over all closed edge sets"
    if bound is not None:
        bound = min(bound, val)
    stats.update(candidate_sizes=cand.sizes(), candidate_kind=cand.kind, certified=cand.certified)
    return Solution("dnn", inst.name, "dnn-exact", status, val, bound, time.perf_counter() - t0,
                    decisions(inst, masks, w), stats)


def _exact_sum(inst, cand, t0, deadline, node_limit, stats) -> Solution:
    lo, hi = share_bounds(inst)
    C = inst.capacity
    al, be = expected_lines(inst, cand)
    U = inst.U
    s0, w0, v0 = alternate(inst, cand)
    inc = [v0, s0, w0]
    free_best = np.array([np.min(al[u] / hi[u] + be[u]) for u in range(U)])
    suffix = np.r_[np.cumsum(free_best[::-1])[::-1], 0.0]
    order_c = [list(np.argsort(al[u] * U / C + be[u])) for u in range(U)]
    timed_out = False

    def rec(u: int, fixed: list) -> None:
        nonlocal timed_out
        if timed_out:
            return
        if (deadline is not None and time.perf_counter() > deadline) or (
                node_limit is not None and stats["nodes"] >= node_limit):
            timed_out = True
            return
        stats["nodes"] += 1
        if u == U:
            w = waterfill(np.array([al[v][x] for v, x in enumerate(fixed)]), lo, hi, C)
            val = sum_value(al, be, fixed, w)
            if val < inc[0]:
                inc[:] = [val, tuple(fixed), w]
            return
        for x in order_c[u]:
            f2 = fixed + [int(x)]
            cap = C - (U - len(f2)) * inst.w_min
            w = waterfill(np.array([al[v][y] for v, y in enumerate(f2)]), lo[:len(f2)], hi[:len(f2)], cap)
            lb = sum_value(al, be, f2, w) + suffix[len(f2)]
            if lb >= inc[0] * (1 - PRUNE_TOL):
                stats["pruned"] += 1
                continue
            rec(u + 1, f2)

    stats.update(nodes=0, pruned=0)
    rec(0, [])
    if timed_out:
        return _finish(inst, cand, inc[1], inc[2], Status.FEASIBLE, None, t0, stats)
    return _finish(inst, cand, inc[1], inc[2], Status.OPTIMAL, inc[0], t0, stats)


def solve_exact(inst: DnnInstance, *, time_limit: float | None = None, seed: int = 0, threads: int | None = None,
                gap: float = LEAF_GAP, candidates: str = "auto", limit: int = IDEAL_LIMIT,
                node_limit: int | None = None, inner_gap: float = INNER_GAP) -> Solution:
    """``dnn-exact`` (module docstring). ``candidates``: "auto" | "ideals" | "envelope"
    (``optoffload.dnn.multi``); ``limit``: most closed sets enumerated per task; ``gap``: leaf gap."""
    if not (isinstance(gap, float) and 0 < gap < 0.1):
        raise InvalidInstance("gap", f"must be a float in (0, 0.1), got {gap!r}")
    if node_limit is not None and (isinstance(node_limit, bool) or not isinstance(node_limit, int) or node_limit < 0):
        raise InvalidInstance("node_limit", f"must be an integer >= 0, got {node_limit!r}")
    t0 = time.perf_counter()
    deadline = None if time_limit is None else t0 + time_limit
    cand = Candidates(inst, candidates, limit, deadline=deadline)
    stats: dict = {}
    if inst.objective == "sum":
        return _exact_sum(inst, cand, t0, deadline, node_limit, stats)
    prob = TableProblem(inst, cand)
    U = inst.U
    stats.update(nodes=0, leaves=0, lp_pruned=0, dives=0)
    try:
        s0, w0, v0 = alternate(inst, cand, prob, gap=gap, deadline=deadline)
    except _Timeout:
        s0, w0, v0 = None, None, np.inf
    inc_val, inc_s, inc_w = v0, s0, w0
    a0, b0 = prob.relaxed_rows({})
    root = prob.value(a0, b0, 1.0 / prob.hi)[0]
    heap: list = [(root, 0, 0, {}, [])]
    tie = 1
    closed = np.inf
    current = dive = None
    order = list(np.argsort([-(prob.A[u][:, -1].max() / prob.hi[u] + prob.B[u].max()) for u in range(U)]))
    try:
        pops = 0
        diving = False
        while heap or dive is not None:
            if dive is not None:
                key, _, _, fixed, cuts = dive
                dive = None
            else:
                key, _, _, fixed, cuts = heapq.heappop(heap)
                pops += 1
                diving = pops % DIVE_EVERY == 0
                stats["dives"] += diving
            current = (key,)
            if key >= inc_val * (1 - PRUNE_TOL):
                closed = min(closed, key)
                current = None
                continue
            if node_limit is not None and stats["nodes"] >= node_limit:
                raise _Timeout(key)
            stats["nodes"] += 1
            depth = len(fixed)
            try:
                lb, ub, wn, ncuts = _solve_node(prob, fixed, cuts, inc_val * (1 - PRUNE_TOL),
                                                gap if depth == U else max(gap, inner_gap), deadline)
            except _Timeout as to:
                current = (max(key, float(to.args[0])),)
                raise
            lb = max(lb, key)
            current = None
            if depth == U:
                stats["leaves"] += 1
                if ub < inc_val:
                    inc_val, inc_s, inc_w = ub, tuple(fixed[v] for v in range(U)), wn
                closed = min(closed, lb)
                continue
            if lb >= inc_val * (1 - PRUNE_TOL):
                stats["lp_pruned"] += 1
                closed = min(closed, lb)
                continue
            u = order[depth]
            kids = []
            for s in prob.cand[u]:
                f2 = dict(fixed)
                f2[u] = s
                a, b = prob.relaxed_rows(f2)
                # every task at its largest share: a valid bound (times non-increasing in the share)
                kids.append((max(lb, prob.value(a, b, 1.0 / prob.hi)[0]), s, f2))
            kids.sort(key=lambda x: (x[0], x[1]))
            for cheap, s, f2 in kids:
                if cheap >= inc_val * (1 - PRUNE_TOL):
                    closed = min(closed, cheap)
                    continue
                node = (cheap, -(depth + 1), tie, f2, ncuts)
                tie += 1
                if diving and dive is None:
                    dive = node
                else:
                    heapq.heappush(heap, node)
            if dive is None:
                diving = False
        status, bound = Status.OPTIMAL, min(inc_val, closed)
    except _Timeout:
        keys = [k for k, *_ in heap] + ([dive[0]] if dive is not None else []) + (
            [current[0]] if current is not None else [])
        bound = min([inc_val, closed, *keys])
        status = Status.FEASIBLE if inc_s is not None else Status.UNKNOWN
    stats["open_nodes"] = len(heap)
    if inc_s is None:
        return Solution("dnn", inst.name, "dnn-exact", Status.UNKNOWN, None, bound, time.perf_counter() - t0, None,
                        stats)
    return _finish(inst, cand, inc_s, inc_w, status, bound, t0, stats, deadline)
