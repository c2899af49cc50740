"""ERDS optimal edge shares for fixed splits: HiGHS cutting-plane LPs on y_u = 1/w_u.

The convex share problem of eq. (7) (erds.md 2.2) with the splits fixed, and the node LP that
``erds-exact`` (``optoffload.formulations.erds.exact``) solves at every tree node. Lives in the
core family package because both the exact method and the heuristics (optimal shares for their
splits) need it; the argument for its validity is in the docstring of the exact method's module
and in docs/erds.md ("erds-exact").

Public helper for method authors: :func:`solve_shares` (optimal shares for given splits).
"""

from __future__ import annotations

import time

import numpy as np

from optoffload.erds.evaluate import exit_matrix, expected_max_sel, time_tables
from optoffload.erds.model import ErdsInstance

LEAF_GAP = 1e-8
"""Relative gap to which a leaf's share LP is closed."""
PRUNE_TOL = 1e-8
"""A node is pruned when its bound >= incumbent * (1 - PRUNE_TOL)."""
INNER_GAP = 1e-2
"""Relative gap to which an inner (non-leaf) node's LP is closed. Any stopping point of the cutting
planes gives a valid bound (the LP is a relaxation); leaves still close to ``gap``, so certified
optima do not change. Measured in docs/erds.md ("erds-exact: the coupled node relaxation")."""


class _Timeout(Exception):
    """The deadline passed inside :func:`_solve_node`: ``args = (lower bound, best value, best shares)``.

    Internal: every caller catches it (``solve_shares`` returns the incumbent shares instead), so it
    never escapes a method under a time limit (issue #14, item 4).
    """

    def __init__(self, lb: float, ub: float = float("inf"), w=None):
        super().__init__(lb, ub, w)
        self.lb, self.ub, self.w = lb, ub, w


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
            raise _Timeout(lb, best_ub, best_w)
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
    """Optimal shares for fixed splits (the convex problem in w): returns (shares, value, bound).

    Under ``time_limit`` the cutting planes stop at the deadline and the best shares found so far
    are returned (at worst the equal shares, feasible), with the last proven bound; the caller
    can tell by ``bound < value`` beyond ``gap``. :class:`_Timeout` never escapes.
    """
    t0 = time.perf_counter()
    prob = _Problem(inst, early_exit)
    fixed = {u: int(s) for u, s in enumerate(splits)}
    deadline = None if time_limit is None else t0 + time_limit
    try:
        lb, ub, w, _ = _solve_node(prob, fixed, [], np.inf, gap, deadline)
    except _Timeout as to:
        lb, ub, w = to.lb, to.ub, to.w
    return w, ub, lb


