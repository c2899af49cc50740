"""The share LP of ``erds-exact`` as it was before issue #15 (kept callable for comparisons).

``oo.solve(inst, "erds-exact", share_lp="legacy")`` runs the branch and bound with these
functions: a fresh HiGHS model per tree node (only the Kelley cuts inherited), the bisection
pull-down onto sum w <= C, and a fresh polish solve. The ``erds-perf`` suite's ``exact-u3`` row
and ``tests/test_erds_exact_warm.py`` compare the default path against it in the same run.
Not part of the public API; see docs/erds.md ("erds-exact: warm-started share LPs").
"""

from __future__ import annotations

import time

import numpy as np

from optoffload.erds.shares import _Problem, _Timeout


def feasible_shares_bisect(w: np.ndarray, lo: np.ndarray, hi: np.ndarray, C: float) -> np.ndarray:
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


class LegacyShareLP:
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


def solve_node_legacy(prob: _Problem, fixed: dict, cuts: list, threshold: float, gap: float, deadline: float | None
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
    lp = LegacyShareLP(lo, hi, prob.C, cuts, prob.tangents)
    # initial cuts: at the largest shares and at equal shares, so the LP is bounded and informative
    best_ub, best_w = np.inf, None
    start = [1.0 / hi, 1.0 / feasible_shares_bisect(np.full(U, prob.C / U), lo, hi, prob.C)]
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
        prob.lp_solves += 1
        if res is None:
            break  # keep the last proven bound (cuts only tighten the LP, so it stays valid)
        lb, y = max(lb, res[0]), res[1]
        if lb >= threshold:
            break
        w = feasible_shares_bisect(1.0 / y, lo, hi, prob.C)
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
