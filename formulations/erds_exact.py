"""ERDS certified global optimum of eq. (7): branch and bound over splits, LP cutting planes on shares.

Model (erds.md 2.2): min_{s, w} F(w, s) = E[max_u T_u(s_u, X_u, w_u)] with
T_u = A[u,s_u,X_u] / w_u + B[u,s_u,X_u], w_min <= w_u <= w_max, sum_u w_u <= C.

Why this method (docs/erds.md, "erds-exact"):

* Substitute y_u = 1/w_u. For fixed splits every T_u is affine in y_u, so F is an expectation of
  a max of affine functions: convex and piecewise linear in y. A subgradient comes for free from
  the product-of-CDFs evaluation (``expected_max_sel``): dF/dy_u = E[A_u 1{u is the argmax}].
  Kelley cuts theta >= F(y0) + g (y - y0) are therefore exact facets of F.
* The capacity constraint sum_u 1/y_u <= C is convex and separable: with w_u >= 1/y_u it is
  outer-approximated by tangent cuts w_u >= 2/y0 - y_u/y0^2 and sum_u w_u <= C.
* The LP (HiGHS, via highspy) min theta over these cuts is a relaxation: its value is a valid lower
  bound. Its solution, pulled back onto sum w <= C, is feasible: an upper bound. Iterate to a
  relative gap of 1e-8 (leaf) or until the bound exceeds the incumbent (prune).
* Splits: best-first branch and bound over tasks, with a depth-first dive every ``DIVE_EVERY``
  pops to find incumbents. A split that is pointwise slower than another split over the task's
  whole share range is removed up front. At a node each task u not yet fixed ("free") gets, per
  exit k, an affine underestimator a_uk y_u + b_uk of m_uk(y) = min_s A[u,s,k] y + B[u,s,k]
  (min over its candidate splits) on its range y in [y1, y2] = [1/hi_u, 1/lo_u]:

  - ``relaxation="coupled"`` (default; docs/erds.md "erds-exact: the coupled node relaxation"):
    the chord of m_uk through (y1, m_uk(y1)) and (y2, m_uk(y2)). Validity: m_uk is a minimum
    of affine functions of y, hence concave, and a concave function lies above its chord on the
    interval between the chord's ends. So for every split s and every share w_u in [lo_u, hi_u],
    T_u(s, k, w_u) >= m_uk(1/w_u) >= chord(1/w_u). The slope (m(y2) - m(y1)) / (y2 - y1) is >= 0
    because A >= 0. Free tasks keep their full share range and take part in the capacity cuts,
    so they compete for capacity with the fixed tasks. The chord is the convex envelope of m_uk
    on [y1, y2]: no convex underestimator of m_uk alone is tighter (one that ties a task's
    split across its exits could be).
  - ``relaxation="simple"`` (the former relaxation): the constant m_uk(y1), the fastest split at
    the largest share, with the task's share pinned at w_min (it uses the least capacity).

  In both, each task's relaxed time is <= its true time at the same y and the node's feasible
  set contains (the y, w of) every leaf below it; E[max] is non-decreasing in each task's time,
  so the node LP value is <= F at every leaf below it. The node's F is convex in y (expectation
  of a max of affine functions, a >= 0), so its Kelley cuts are valid for it, and a child's F is
  pointwise >= its parent's on the same box (fixing a split replaces the underestimator by one of
  the functions it underestimates), so children inherit the parent's cuts. Pointwise, the
  coupled node value is >= the simple one: from any coupled point, pin the free tasks' shares to
  w_min (capacity still met) and replace their chord times by the constant m(y1) <= chord.

The returned bound is min(incumbent, LP bounds of all pruned nodes and leaves); status OPTIMAL
means the tree was exhausted, so bound <= optimum <= objective with gap <= 1e-6. Time or node
limit: FEASIBLE with the incumbent and min(incumbent, closed bounds, keys of the open nodes). A
node's key is max(parent key, own bounds), so this bound never decreases as more nodes are
processed, and best-first order raises it as fast as the relaxation allows.
"""

from __future__ import annotations

import heapq
import time

import numpy as np

from optoffload.erds.evaluate import exit_matrix, expected_max_sel, objective, time_tables
from optoffload.erds.model import ErdsInstance, decisions
from optoffload.errors import InvalidInstance
from optoffload.solution import Solution
from optoffload.status import Status

LEAF_GAP = 1e-8
"""Relative gap to which a leaf's share LP is closed."""
PRUNE_TOL = 1e-8
"""A node is pruned when its bound >= incumbent * (1 - PRUNE_TOL)."""
INNER_GAP = 1e-2
"""Relative gap to which an inner (non-leaf) node's LP is closed. Any stopping point of the cutting
planes gives a valid bound (the LP is a relaxation); leaves still close to ``gap``, so certified
optima do not change. Measured in docs/erds.md ("erds-exact: the coupled node relaxation")."""
DIVE_EVERY = 8
"""Best-first pops between two depth-first dives (which look for incumbents)."""


class _Timeout(Exception):
    pass


def _bounds(inst: ErdsInstance) -> tuple[np.ndarray, np.ndarray]:
    U = inst.U
    lo = np.full(U, inst.w_min)
    hi = np.minimum(inst.share_max, inst.capacity - (U - 1) * inst.w_min)
    return lo, np.maximum(hi, lo)


def feasible_shares(w: np.ndarray, lo: np.ndarray, hi: np.ndarray, C: float) -> np.ndarray:
    """Pull ``w`` (clipped to [lo, hi]) down onto sum <= C: w_u <- max(lo_u, t w_u), t by bisection.

    F is non-increasing in every share, so the result is a feasible point whose value is an upper
    bound; it equals ``w`` when ``w`` is already feasible.
    """
    w = np.clip(w, lo, hi)
    if w.sum() <= C:
        return w
    a, b = 0.0, 1.0
    for _ in range(100):
        t = 0.5 * (a + b)
        if np.maximum(lo, t * w).sum() <= C:
            a = t
        else:
            b = t
    return np.maximum(lo, a * w)


class ShareLP:
    """The cutting-plane LP in (theta, y, w) of one node (module docstring)."""

    def __init__(self, lo: np.ndarray, hi: np.ndarray, C: float, cuts: list, tangents: list):
        import highspy

        self.U = len(lo)
        self.lo, self.hi, self.C = lo, hi, C
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("primal_feasibility_tolerance", 1e-9)
        h.setOptionValue("dual_feasibility_tolerance", 1e-9)
        h.setOptionValue("threads", 1)
        inf = highspy.kHighsInf
        U = self.U
        # columns: theta (0), y_u (1..U), w_u (U+1..2U)
        h.addCol(1.0, 0.0, inf, 0, [], [])
        for u in range(U):
            h.addCol(0.0, 1.0 / hi[u], 1.0 / lo[u], 0, [], [])
        for u in range(U):
            h.addCol(0.0, lo[u], hi[u], 0, [], [])
        h.addRow(-inf, C, U, np.arange(U + 1, 2 * U + 1, dtype=np.int32), np.ones(U))
        self.h = h
        self.inf = inf
        self.cuts: list = []
        self.tangents: set = set()
        for c in cuts:
            self.add_cut(*c)
        for t in tangents:
            self.add_tangent(*t)

    def add_cut(self, g: np.ndarray, rhs: float) -> None:
        """theta - g . y >= rhs."""
        nz = np.flatnonzero(g)
        idx = np.r_[0, nz + 1].astype(np.int32)
        val = np.r_[1.0, -g[nz]]
        self.h.addRow(rhs, self.inf, len(idx), idx, val)
        self.cuts.append((g, rhs))

    def add_tangent(self, u: int, y0: float) -> None:
        """w_u + y_u / y0^2 >= 2 / y0 (tangent of w >= 1/y at y0)."""
        key = (u, round(float(y0), 12))
        if key in self.tangents:
            return
        self.tangents.add(key)
        self.h.addRow(2.0 / y0, self.inf, 2, np.array([1 + u, 1 + self.U + u], dtype=np.int32),
                      np.array([1.0 / y0 ** 2, 1.0]))

    def solve(self) -> tuple[float, np.ndarray] | None:
        """Optimal (theta, y) of the LP, or None when HiGHS does not report OPTIMAL twice."""
        import highspy

        h = self.h
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            h.clearSolver()  # numerical trouble with a warm basis: retry from scratch
            h.run()
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                return None
        x = np.asarray(h.getSolution().col_value)
        return float(h.getInfo().objective_function_value), x[1:1 + self.U]


RELAXATIONS = ("coupled", "simple")
"""Node relaxations of the free (not yet fixed) tasks; module docstring and docs/erds.md
"erds-exact: the coupled node relaxation"."""


class _Problem:
    def __init__(self, inst: ErdsInstance, early_exit: bool = True, relaxation: str = "coupled"):
        self.inst = inst
        self.relaxation = relaxation
        self.A, self.B = time_tables(inst)
        self.P = exit_matrix(inst, early_exit)
        self.lo, self.hi = _bounds(inst)
        self.C = inst.capacity
        self.U, self.K = inst.U, inst.K
        self.tangents: list = []
        for u in range(self.U):
            for y0 in np.geomspace(1.0 / self.hi[u], 1.0 / self.lo[u], 6):
                self.tangents.append((u, float(y0)))
        # splits pointwise dominated over y in [1/hi, 1/lo] (T affine in y: check both ends)
        self.cand = []
        for u in range(self.U):
            ends = [self.A[u] * y + self.B[u] for y in (1.0 / self.hi[u], 1.0 / self.lo[u])]
            keep = []
            for s in range(self.K + 1):
                dom = any(all(np.all(e[r] <= e[s] + 1e-12) for e in ends)
                          and (r < s or any(np.any(e[r] < e[s] - 1e-12) for e in ends))
                          for r in range(self.K + 1) if r != s)
                if not dom:
                    keep.append(s)
            self.cand.append(keep)
        # free-task rows (a_u, b_u): T_u(y) >= a_u y + b_u for every candidate split, y in [1/hi, 1/lo]
        y1, y2 = 1.0 / self.hi, 1.0 / self.lo
        self.free_a = np.zeros((self.U, self.K))
        self.free_b = np.zeros((self.U, self.K))
        for u in range(self.U):
            c = self.cand[u]
            m1 = (self.A[u, c] * y1[u] + self.B[u, c]).min(axis=0)  # fastest split at the largest share
            if relaxation == "simple" or not y2[u] > y1[u]:
                self.free_b[u] = m1
                continue
            # chord of the concave m(y) = min_s A_s y + B_s between y1 and y2 (per exit); A >= 0
            # makes m non-decreasing, so the slope is >= 0 (also in floating point)
            m2 = (self.A[u, c] * y2[u] + self.B[u, c]).min(axis=0)
            slope = np.maximum((m2 - m1) / (y2[u] - y1[u]), 0.0)
            self.free_a[u] = slope
            self.free_b[u] = m1 - slope * y1[u]

    def relaxed_rows(self, fixed: dict) -> tuple[np.ndarray, np.ndarray]:
        """Per task (a_u, b_u) rows of T_u = a_u y_u + b_u: fixed tasks their split's times, free
        tasks the relaxation's underestimator (a constant for "simple", a chord for "coupled")."""
        a = self.free_a.copy()
        b = self.free_b.copy()
        for u, s in fixed.items():
            a[u], b[u] = self.A[u, s], self.B[u, s]
        return a, b

    def value(self, a, b, y) -> tuple[float, np.ndarray]:
        val, sel = expected_max_sel(a * y[:, None] + b, self.P)
        return val, (sel * a).sum(axis=1)


def _solve_node(prob: _Problem, fixed: dict, cuts: list, threshold: float, gap: float, deadline: float | None
                ) -> tuple[float, float, np.ndarray | None, list]:
    """Close the node's share problem. Returns (lower bound, upper bound, shares, cuts)."""
    U = prob.U
    lo = prob.lo.copy()
    hi = prob.hi.copy()
    coupled = prob.relaxation == "coupled"
    if not coupled:
        for u in range(U):
            if u not in fixed:
                hi[u] = lo[u]  # free tasks keep only w_min of the capacity
    a, b = prob.relaxed_rows(fixed)
    lp = ShareLP(lo, hi, prob.C, cuts, prob.tangents)
    # initial cuts: at the largest shares and at equal shares, so the LP is bounded and informative
    best_ub, best_w = np.inf, None
    start = [1.0 / hi, 1.0 / feasible_shares(np.full(U, prob.C / U), lo, hi, prob.C)]
    for i, y in enumerate(start):
        v, g = prob.value(a, b, y)
        lp.add_cut(g, v - g @ y)
        if i == 1:
            best_ub, best_w = v, 1.0 / y  # equal shares: feasible
    lb = 0.0  # times are >= 0
    for _ in range(500):
        if deadline is not None and time.perf_counter() > deadline:
            raise _Timeout(lb)
        res = lp.solve()
        if res is None:
            break  # keep the last proven bound (cuts only tighten the LP, so it stays valid)
        lb, y = max(lb, res[0]), res[1]
        if lb >= threshold:
            break
        w = feasible_shares(1.0 / y, lo, hi, prob.C)
        yw = 1.0 / w
        v, g = prob.value(a, b, yw)
        if v < best_ub:
            best_ub, best_w = v, w
        if best_ub - lb <= gap * max(1.0, abs(best_ub)):
            break
        lp.add_cut(g, v - g @ yw)
        v2, g2 = prob.value(a, b, y)
        lp.add_cut(g2, v2 - g2 @ y)
        for u in range(U):
            if coupled or u in fixed:
                lp.add_tangent(u, float(y[u]))
    return lb, best_ub, best_w, lp.cuts


def solve_shares(inst: ErdsInstance, splits, *, early_exit: bool = True, gap: float = LEAF_GAP,
                 time_limit: float | None = None) -> tuple[np.ndarray, float, float]:
    """Optimal shares for fixed splits (the convex problem in w): returns (shares, value, bound)."""
    prob = _Problem(inst, early_exit)
    fixed = {u: int(s) for u, s in enumerate(splits)}
    deadline = None if time_limit is None else time.perf_counter() + time_limit
    lb, ub, w, _ = _solve_node(prob, fixed, [], np.inf, gap, deadline)
    return w, ub, lb


def solve_exact(inst: ErdsInstance, *, time_limit: float | None = None, seed: int = 0, threads: int | None = None,
                gap: float = LEAF_GAP, early_exit: bool = True, node_limit: int | None = None,
                relaxation: str = "coupled", inner_gap: float = INNER_GAP) -> Solution:
    """``erds-exact``: certified global optimum of eq. (7) (module docstring).

    Node order (docs/erds.md, "erds-exact: bound under a limit"): best-first on the node bound,
    with a depth-first dive every ``DIVE_EVERY`` pops. Every node carries a key that is a valid
    lower bound on its subtree and never below its parent's key, so the reported bound
    min(incumbent, open keys, closed bounds) is non-decreasing in the number of nodes processed.
    ``node_limit`` (deterministic) stops after that many tree nodes, like ``time_limit``.
    ``relaxation`` picks the node relaxation of the free tasks: "coupled" (default, chords that
    compete for capacity) or "simple" (fastest split at the largest share, w_min of capacity);
    both are valid, see the module docstring. ``inner_gap`` is the relative gap to which inner
    nodes' LPs are closed (``INNER_GAP``); leaves use ``gap``.
    ``threads`` is accepted and ignored (one HiGHS thread).
    """
    if not (isinstance(gap, float) and 0 < gap < 0.1):
        raise InvalidInstance("gap", f"must be a float in (0, 0.1), got {gap!r}")
    if node_limit is not None and (isinstance(node_limit, bool) or not isinstance(node_limit, int) or node_limit < 0):
        raise InvalidInstance("node_limit", f"must be an integer >= 0, got {node_limit!r}")
    if not (isinstance(inner_gap, float) and 0 < inner_gap < 0.1):
        raise InvalidInstance("inner_gap", f"must be a float in (0, 0.1), got {inner_gap!r}")
    if relaxation not in RELAXATIONS:
        raise InvalidInstance("relaxation", f"must be one of {RELAXATIONS}, got {relaxation!r}")
    t0 = time.perf_counter()
    deadline = None if time_limit is None else t0 + time_limit
    prob = _Problem(inst, early_exit, relaxation)
    U = prob.U
    from heuristics.erds_inner import hsa, osa

    stats = {"nodes": 0, "leaves": 0, "lp_pruned": 0, "cheap_pruned": 0, "dives": 0, "candidate_splits": prob.cand}
    inc_val, inc_s, inc_w = np.inf, None, None
    a0, b0 = prob.relaxed_rows({})
    root_lb = prob.value(a0, b0, 1.0 / prob.hi)[0]  # every task at its fastest split and largest share
    closed = np.inf  # min bound of closed (pruned or solved) subtrees
    # open nodes: heap of (key, -depth, tie, fixed, cuts); key = valid bound of the subtree
    heap: list = [(root_lb, 0, 0, {}, [])]
    tie = 1
    seen: dict = {}
    current = None  # the node being processed (still open)
    dive = None  # node to process next in a depth-first dive (open, not in the heap)
    try:
        # incumbent: alternate best splits for the shares and optimal shares for the splits
        w = feasible_shares(np.full(U, prob.C / U), prob.lo, prob.hi, prob.C)
        for _ in range(5):
            s = osa(inst, w, early_exit=early_exit) if U <= 6 else hsa(inst, w, early_exit=early_exit)
            s = tuple(int(x) for x in s)
            if s in seen:
                break
            lb, ub, wn, _ = _solve_node(prob, dict(enumerate(s)), [], np.inf, gap, deadline)
            seen[s] = lb
            stats["leaves"] += 1
            if ub < inc_val:
                inc_val, inc_s, inc_w = ub, s, wn
            w = wn
        order = list(np.argsort([-(prob.A[u, :, -1].max() / prob.hi[u] + prob.B[u].max()) for u in range(U)]))
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
                if diving:
                    stats["dives"] += 1
            current = (key, fixed, cuts)
            if key >= inc_val * (1 - PRUNE_TOL):
                closed = min(closed, key)
                current = None
                continue
            if node_limit is not None and stats["nodes"] >= node_limit:
                raise _Timeout(key)
            stats["nodes"] += 1
            depth = len(fixed)
            leaf_key = tuple(fixed[u] for u in range(U)) if depth == U else None
            if leaf_key in seen:
                closed = min(closed, max(key, seen[leaf_key]))  # solved while building the incumbent
                current = None
                continue
            try:
                node_gap = gap if depth == U else max(gap, inner_gap)
                lb, ub, wn, ncuts = _solve_node(prob, fixed, cuts, inc_val * (1 - PRUNE_TOL), node_gap, deadline)
            except _Timeout as to:
                current = (max(key, float(to.args[0])), fixed, cuts)
                raise
            lb = max(lb, key)
            current = None
            if depth == U:
                stats["leaves"] += 1
                if ub < inc_val:
                    inc_val, inc_s, inc_w = ub, leaf_key, wn
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
                kids.append((max(lb, prob.value(a, b, 1.0 / prob.hi)[0]), s, f2))
            kids.sort(key=lambda x: (x[0], x[1]))
            for cheap, s, f2 in kids:
                if cheap >= inc_val * (1 - PRUNE_TOL):
                    stats["cheap_pruned"] += 1
                    closed = min(closed, cheap)
                    continue
                node = (cheap, -(depth + 1), tie, f2, ncuts)
                tie += 1
                if diving and dive is None:
                    dive = node  # the most promising child: continue the dive with it
                else:
                    heapq.heappush(heap, node)
            if dive is None:
                diving = False
        bound = min(inc_val, closed)
        status = Status.OPTIMAL
    except _Timeout:
        open_keys = [k for k, *_ in heap]
        if dive is not None:
            open_keys.append(dive[0])
        if current is not None:
            open_keys.append(current[0])
        bound = min([inc_val, closed, *open_keys])
        status = Status.FEASIBLE if inc_s is not None else Status.UNKNOWN
    stats["open_nodes"] = len(heap) + (dive is not None) + (current is not None)
    if inc_s is not None:
        # polish: the incumbent leaf was closed to ``gap`` with inherited cuts; a fresh, 100x tighter
        # share solve for the same splits can only lower the objective (the bound is unchanged)
        try:
            _, ub, wn, _ = _solve_node(prob, dict(enumerate(inc_s)), [], np.inf, gap * 1e-2, deadline)
            if ub < inc_val:
                inc_val, inc_w = ub, wn
        except _Timeout:
            pass
    stats["candidate_splits"] = [list(map(int, c)) for c in prob.cand]
    runtime = time.perf_counter() - t0
    if inc_s is None:
        return Solution("erds", inst.name, "erds-exact", Status.UNKNOWN, None, bound, runtime, None, stats)
    dec = decisions(inc_s, inc_w, early_exit=early_exit)
    val = objective(inst, inc_s, inc_w, early_exit=early_exit)
    if bound is not None:
        bound = min(bound, val)
    return Solution("erds", inst.name, "erds-exact", status, val, bound, runtime, dec, stats)
