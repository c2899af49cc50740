"""ERDS eq. (7) in OR-Tools CP-SAT on a share grid (method ``erds-cpsat``).

Model (erds.md 2.1-2.2; code names = CP-SAT variable names; docs/models.md)::

    split[u,s]     Boolean, exactly one per task            ``one_split``      s_u in {0..K}
    grid[u]        integer g_u, share w_u = g_u * delta       delta = resolution * capacity
                   sum_u g_u <= floor(C / delta)            ``capacity``       sum w <= C
    edge[u,j]      = floor(S * nu_E cum_u(j) / (g_u delta))  ``edge_time``      (AddElement on g_u)
    task_time[u,k] >= edge[u,min(s,k)] + floor(S * B_usk)  if split[u,s]     T_u(s,k,w), erds.md 2.1
    outcome_max[o] >= task_time[u, o_u]                      for every u      max_u T_u in outcome o
    min  sum_o floor(Q p_o) outcome_max[o]                                      eq. (7) scaled

Grid: g_u in [ceil(lo_u / delta), floor(hi_u / delta)] (lo, hi: the share bounds of
``optoffload.erds.shares``), so every grid point is a feasible plan and the decoded plan's
objective (recomputed by the exact evaluator) is >= the continuous optimum of ``erds-exact``.

Integer scaling and valid bounds. Times are floored to ticks (S per time unit) and
probabilities floored to units of 1/Q, so for every grid plan the integer objective is
<= Q S F(plan): CP-SAT's best bound / (Q S) is a valid lower bound on the *grid* optimum
(``info["grid_bound"]``). S and Q are chosen so that the objective stays below 2^60
(``choose_scales``); the rounding error of the integer objective is at most
2 / S + sum_o theta_o / Q (time units), reported as ``info["scaling_error_bound"]``.

The reported ``bound`` is a valid lower bound on the *continuous* problem (option
``continuous_bound``, default True): a second CP-SAT model, the same but with the edge time of
grid index g taken at the share min((g+1) delta, hi_u) (the largest share that rounds down to
g). Any continuous plan w has g_u = floor(w_u / delta) with sum g_u delta <= C and
T_u(w_u) >= T_u(min((g_u+1) delta, hi_u)), so that model's optimum is <= F*. Status OPTIMAL
only when objective - bound <= 1e-6 max(1, objective); a grid optimum proven by CP-SAT is
``info["grid_status"] == "optimal"`` (the usual case), with status FEASIBLE because the grid
optimum is above the continuous one. A priori, when lo_u is on the grid, the grid optimum is
within F* delta / (w_min - delta) of F* (round each optimal share down to the grid:
T scales by at most w / (w - delta)); ``info["grid_error_a_priori"]``.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from optoffload.erds.evaluate import exit_matrix, objective, time_tables
from optoffload.erds.model import ErdsInstance, decisions
from optoffload.erds.shares import _bounds, feasible_shares
from optoffload.errors import InvalidInstance
from optoffload.solution import Solution
from optoffload.status import Status

from . import budget as _bd
from .budget import Budget, BuildAborted
from .pyomo import _fallback, candidate_splits, joint_outcomes, n_joint, outcome_names

OPT_TOL = 1e-6
MAX_OBJ = 2**60
TIME_BITS = 28
"""Largest task time is scaled to about 2^TIME_BITS ticks."""
MAX_JOINT = 20000


def grid_range(inst: ErdsInstance, resolution: float, relaxed: bool = False) -> tuple[float, np.ndarray, np.ndarray, int]:
    """(delta, g_lo, g_hi, N): share grid of the (relaxed) model; sum g <= N."""
    delta = float(resolution) * float(inst.capacity)
    lo, hi = _bounds(inst)
    eps = 1e-9
    if relaxed:
        glo = np.floor(lo / delta + eps).astype(int)
    else:
        glo = np.ceil(lo / delta - eps).astype(int)
    ghi = np.floor(hi / delta + eps).astype(int)
    N = int(math.floor(inst.capacity / delta + eps))
    return delta, glo, ghi, N


def choose_scales(tmax: float) -> tuple[int, int]:
    """(S, Q): ticks per time unit and probability units, with Q * S * tmax <= 2^60."""
    S = max(1, int(2**TIME_BITS / max(tmax, 1e-9)))
    Q = max(1, int(MAX_OBJ // (S * max(tmax, 1e-9) + 1)))
    return S, Q


def _floor(x: Fraction) -> int:
    return math.floor(x)


class ErdsCpsat:
    """The CP-SAT model of one instance (``model``: the ``CpModel``; variables as attributes)."""

    def __init__(self, inst: ErdsInstance, *, resolution: float = 0.01, early_exit: bool = True,
                 dominance: bool = False, relaxed: bool = False, budget: Budget | None = None):
        from ortools.sat.python import cp_model

        if isinstance(resolution, bool) or not isinstance(resolution, (int, float)) or not (0 < resolution <= 1):
            raise InvalidInstance("resolution", f"must be a number in (0, 1], got {resolution!r}")
        self.inst = inst
        self.resolution = float(resolution)
        self.relaxed = relaxed
        A, B = time_tables(inst)
        P = exit_matrix(inst, early_exit)
        lo, hi = _bounds(inst)
        U, K = inst.U, inst.K
        delta, glo, ghi, N = grid_range(inst, resolution, relaxed)
        if np.any(glo > ghi) or glo.sum() > N:
            raise InvalidInstance("resolution", f"{resolution!r}: no share grid point satisfies w_min and the capacity")
        self.delta, self.glo, self.ghi, self.N = delta, glo, ghi, N
        if n_joint(P) > MAX_JOINT:
            raise InvalidInstance("instance", f"{n_joint(P)} joint exit outcomes: erds-cpsat enumerates them "
                                              f"(at most {MAX_JOINT}); use erds-exact")
        outs, probs = joint_outcomes(P, budget)
        self.outs, self.probs = outs, probs
        self.cand = cand = candidate_splits(inst, early_exit, dominance)
        # edge parts EA[u][j] = nu_E cum_u(j) (A[u,s,k] = EA[u][min(s,k)])
        EA = np.zeros((U, K + 1))
        for s in range(K + 1):
            for k in range(K):
                EA[:, min(s, k + 1)] = A[:, s, k]

        def share_of(u, g):
            w = g * delta
            if relaxed:
                return min((g + 1) * delta, hi[u])
            return w

        tmax = 0.0
        for u in range(U):
            wmin = max(share_of(u, int(glo[u])), 1e-12)
            for s in cand[u]:
                tmax = max(tmax, float(np.max(A[u, s] / wmin + B[u, s])))
        self.S, self.Q = S, Q = choose_scales(tmax)
        self.model = md = cp_model.CpModel()
        self.split = {(u, s): md.NewBoolVar(f"split[{u},{s}]") for u in range(U) for s in cand[u]}
        self.grid = [md.NewIntVar(int(glo[u]), int(ghi[u]), f"grid[{u}]") for u in range(U)]
        for u in range(U):
            md.AddExactlyOne([self.split[u, s] for s in cand[u]]).WithName(f"one_split[{u}]")
        md.Add(sum(self.grid) <= N).WithName("capacity")
        self.edge = {}
        self.task_time = {}
        top = int(S * tmax) + 2 * K + 2
        for u in range(U):
            if budget is not None:
                budget.check("edge_time")
            gidx = md.NewIntVar(0, int(ghi[u] - glo[u]), f"grid_index[{u}]")
            md.Add(gidx == self.grid[u] - int(glo[u]))
            js = sorted({min(s, k) for s in cand[u] for k in range(1, K + 1)})
            for j in js:
                vals = []
                for g in range(int(glo[u]), int(ghi[u]) + 1):
                    w = Fraction(share_of(u, g))
                    vals.append(_floor(Fraction(float(EA[u, j])) * S / w) if w > 0 else top)
                e = md.NewIntVar(min(vals), max(vals), f"edge[{u},{j}]")
                md.AddElement(gidx, vals, e).WithName(f"edge_time[{u},{j}]")
                self.edge[u, j] = e
            for k in range(1, K + 1):
                t = md.NewIntVar(0, top, f"task_time[{u},{k}]")
                self.task_time[u, k] = t
                for s in cand[u]:
                    b = _floor(Fraction(float(B[u, s, k - 1])) * S)
                    ct = md.Add(t >= self.edge[u, min(s, k)] + b).WithName(f"task_time_def[{u},{k},{s}]")
                    ct.OnlyEnforceIf(self.split[u, s])
        self.names = outcome_names(outs)
        self.theta = []
        terms = []
        for n, o, p in zip(self.names, outs, probs):
            if budget is not None:
                budget.tick("outcome_max_ge")
            th = md.NewIntVar(0, top, f"outcome_max[{n}]")
            for u in range(U):
                md.Add(th >= self.task_time[u, o[u] + 1]).WithName(f"outcome_max_ge[{n},{u}]")
            self.theta.append(th)
            c = int(math.floor(p * Q))
            if c > 0:
                terms.append(c * th)
        md.Minimize(sum(terms))
        # per plan: |F - integer objective / (Q S)| <= 2 / S (two floored terms per time) + sum_o theta_o / Q
        self.scaling_error = 2.0 / S + len(outs) * (tmax + 2.0 / S) / Q

    # ------------------------------------------------------------------ decode
    def shares_of(self, gvals) -> np.ndarray:
        """Feasible shares of grid values (the relaxed model's shares are not plans)."""
        lo, hi = _bounds(self.inst)
        w = np.asarray(gvals, dtype=float) * self.delta
        return feasible_shares(w, lo, hi, self.inst.capacity)

    def decode(self, solver) -> tuple[list[int], np.ndarray]:
        splits = [next(s for s in self.cand[u] if solver.BooleanValue(self.split[u, s])) for u in range(self.inst.U)]
        return splits, self.shares_of([solver.Value(g) for g in self.grid])

    def bound_of(self, int_bound: float) -> float:
        """A valid lower bound (time units) from CP-SAT's integer bound."""
        b = math.floor(int_bound) / (self.Q * self.S)
        return b - 1e-12 * max(1.0, abs(b))


_STATUS = {"OPTIMAL": "optimal", "FEASIBLE": "feasible", "INFEASIBLE": "infeasible", "UNKNOWN": "unknown"}


def cpsat_units(inst, n_outcomes: int, resolution: float) -> int:
    """Size of the CP-SAT model in ``budget`` units: the outcome rows plus the AddElement tables
    (U (K+1) edge times x the grid points per task)."""
    n_grid = int(math.floor(1.0 / float(resolution))) + 1
    return _bd.model_units(n_outcomes, inst.U, inst.K) + inst.U * (inst.K + 1) * n_grid


def to_grid(inst, resolution: float):
    """Shares -> a plan of the grid: g_u = floor(w_u / delta) clipped to [g_lo, g_hi] (g_lo if that breaks
    the capacity), then the left-over steps of sum g <= N to the largest remainders (largest-remainder rounding)."""
    delta, glo, ghi, N = grid_range(inst, resolution)

    def f(w):
        x = np.asarray(w, dtype=float) / delta
        g = np.clip(np.floor(x + 1e-9).astype(int), glo, ghi)
        if g.sum() > N:
            g = glo.copy()
        for u in np.argsort(-(x - g), kind="stable"):  # largest remainders get the left-over grid steps
            if g.sum() >= N:
                break
            if g[u] < ghi[u] and x[u] > g[u]:
                g[u] += 1
        lo, hi = _bounds(inst)
        return feasible_shares(g * delta, lo, hi, inst.capacity)

    return f


def _run(cm: ErdsCpsat, deadline, seed, threads, log, params):
    from ortools.sat.python import cp_model

    solver = cp_model.CpSolver()
    p = solver.parameters
    p.random_seed = int(seed)
    p.num_workers = int(threads) if threads else 1
    p.log_search_progress = bool(log)
    deadline = _bd.as_budget(deadline)
    if deadline.deadline is not None:
        p.max_time_in_seconds = max(0.01, deadline.remaining())
    for k, v in (params or {}).items():
        setattr(p, k, v)
    st = solver.Solve(cm.model)
    name = solver.StatusName(st)
    if name == "MODEL_INVALID":
        raise RuntimeError(f"erds-cpsat: invalid model: {cm.model.Validate()}")
    return solver, name


def solve_erds_cpsat(inst: ErdsInstance, *, time_limit: float | None = None, seed: int = 0, threads: int | None = None,
                     resolution: float = 0.01, continuous_bound: bool = True, early_exit: bool = True,
                     dominance: bool = True, log: bool = False, params: dict | None = None) -> Solution:
    """``erds-cpsat``: the grid model of the module docstring.

    ``early_exit`` (model the early exits of eq. (7); False: every task runs to its last exit, as without exits); ``log`` (print CP-SAT's search log on stderr).

    Options: ``resolution`` (grid step as a fraction of the capacity, default 0.01),
    ``continuous_bound`` (solve the relaxed grid model for a bound on the continuous optimum;
    False reports no bound), ``early_exit``, ``dominance`` (drop dominated splits), ``log``,
    ``params`` (extra CP-SAT parameters). ``threads``: CP-SAT workers (default 1). The time limit
    is shared: the grid model first, the relaxed model with what is left.
    """
    if isinstance(resolution, bool) or not isinstance(resolution, (int, float)) or not (0 < resolution <= 1):
        raise InvalidInstance("resolution", f"must be a number in (0, 1], got {resolution!r}")
    deadline = Budget(time_limit)
    P = exit_matrix(inst, early_exit)
    nj = n_joint(P)
    units = cpsat_units(inst, min(nj, MAX_JOINT + 1), resolution)
    base = {"backend": "ortools-cpsat", "resolution": float(resolution), "model_units": units}
    why = None
    if nj > MAX_JOINT:
        why = f"{_bd.fmt_count(nj)} joint outcomes > MAX_JOINT {MAX_JOINT}"
    elif units > _bd.MAX_MODEL_UNITS:
        why = f"model: {units} units above the memory bound {_bd.MAX_MODEL_UNITS}"
    elif not deadline.fits(_bd.build_seconds(units, _bd.CPSAT_S_PER_UNIT)):
        why = (f"model: estimated build {_bd.build_seconds(units, _bd.CPSAT_S_PER_UNIT):.3g} s does not fit the remaining "
               f"{deadline.remaining():.3g} s")
    if why is None:
        try:
            cm = ErdsCpsat(inst, resolution=resolution, early_exit=early_exit, dominance=dominance, budget=deadline)
            base["build_s"] = deadline.elapsed()
        except BuildAborted as e:
            why = f"time limit reached while building the model ({e})"
    if why is not None:
        delta, glo, ghi, N = grid_range(inst, resolution)
        if np.any(glo > ghi) or glo.sum() > N:
            raise InvalidInstance("resolution", f"{resolution!r}: no share grid point satisfies w_min and the capacity")
        return _fallback(inst, deadline, early_exit, why, base, method="erds-cpsat", grid=to_grid(inst, resolution))
    solver, name = _run(cm, deadline, seed, threads, log, params)
    info = {**base, "grid_status": _STATUS.get(name, name),
            "time_scale": cm.S, "prob_scale": cm.Q, "n_outcomes": len(cm.outs),
            "wall_solver_s": solver.WallTime()}
    if name not in ("OPTIMAL", "FEASIBLE"):
        return Solution("erds", inst.name, "erds-cpsat", Status.UNKNOWN, None, None,
                        deadline.elapsed(), None, info)
    splits, w = cm.decode(solver)
    val = objective(inst, splits, w, early_exit=early_exit)
    grid_bound = cm.bound_of(solver.BestObjectiveBound())
    info["grid_bound"] = grid_bound
    info["grid_objective_int"] = solver.ObjectiveValue() / (cm.Q * cm.S)
    lo = _bounds(inst)[0]
    delta = cm.delta
    on_grid = bool(np.all(np.abs(lo / delta - np.round(lo / delta)) < 1e-9))
    info["grid_error_a_priori"] = (val * delta / (float(lo.min()) - delta)
                                   if on_grid and float(lo.min()) > delta else None)
    bound = None
    if continuous_bound and not deadline.fits(_bd.build_seconds(units, _bd.CPSAT_S_PER_UNIT)):
        info["relaxed_status"] = "skipped: its estimated build does not fit the remaining time"
    elif continuous_bound:
        try:
            rm = ErdsCpsat(inst, resolution=resolution, early_exit=early_exit, dominance=dominance, relaxed=True,
                           budget=deadline)
            rs, rname = _run(rm, deadline, seed, threads, log, params)
            info["relaxed_status"] = _STATUS.get(rname, rname)
            if rname in ("OPTIMAL", "FEASIBLE"):
                bound = min(rm.bound_of(rs.BestObjectiveBound()), val)
        except InvalidInstance:
            bound = None
        except BuildAborted:
            info["relaxed_status"] = "aborted: time limit reached while building it"
    runtime = deadline.elapsed()
    closed = bound is not None and val - bound <= OPT_TOL * max(1.0, abs(val))
    status = Status.OPTIMAL if closed else Status.FEASIBLE
    return Solution("erds", inst.name, "erds-cpsat", status, val, bound, runtime,
                    decisions(splits, w, early_exit=early_exit), info)
