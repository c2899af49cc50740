"""ERDS eq. (7) as a Pyomo model (method ``erds-pyomo``): binary splits, y_u = 1/w_u, E[max] exactly.

The model (erds.md 2.1-2.2; code names in ``code font``; docs/models.md has the full table)::

    min  sum_o p_o theta_o                                   ``expected_makespan``   eq. (7)
    s.t. sum_s x_us = 1                     for all u        ``one_split[u]``         s_u in {0..K}
         sum_u w_u <= C                                      ``capacity``             sum w <= 1
         w_u y_u >= 1                       for all u        ``share_inverse[u]``     y_u = 1/w_u (convex)
         y_min_u x_us <= ys_us <= y_max_u x_us               ``inv_share_split_lo/hi[u,s]``
         y_u = sum_s ys_us                  for all u        ``inv_share_sum[u]``
         t_uk = sum_s A_usk ys_us + B_usk x_us               ``task_time[u,k]``       T_u(s,k,w), erds.md 2.1
         theta_o >= t_{u, o_u}              for all o, u     ``outcome_max[o,u]``     max_u T_u in outcome o
         w_min <= w_u <= w_max,  x binary

``x_us`` = ``split[u,s]`` (1 iff blocks 0..s of task u run on the edge), ``w_u`` = ``share[u]``,
``y_u`` = ``inv_share[u]``, ``ys_us`` = ``inv_share_split[u,s]`` (y_u when split s is chosen, else
0: the exact disaggregation of the product x_us * y_u, so ``task_time`` is linear), ``t_uk`` =
``task_time[u,k]``, ``theta_o`` = ``outcome_max[o]``. An outcome o is one joint exit vector
(k_1..k_U) in {1..K}^U with p_o = prod_u pi_{u,k_u} > 0 (exits independent across tasks); its
name is ``o_k1_k2_..`` (``outcome_names``). Objective increasing in every y_u means y_u = 1/w_u
at an optimum, so the model's optimum is the optimum of eq. (7).

``outcomes="sampled"``: the joint outcomes are replaced by ``samples`` joint exit vectors drawn
from pi (seeded), each with weight count/samples; the plan is re-scored by the exact evaluator
and no bound is reported (the sample average is not a bound). ``"auto"`` (default) uses the
joint outcomes up to ``MAX_JOINT`` of them.

Solvers (option ``solver``; docs/models.md "ERDS in Pyomo: why an own OA loop"):

* ``"highs"`` (default): outer approximation on the one nonlinear constraint. ``share_inverse`` is
  replaced by tangents w_u >= 2/y0 - y_u/y0^2 of the convex w >= 1/y (each a valid relaxation),
  the MILP master is solved by HiGHS (Pyomo ``appsi_highs``, incremental), its dual bound is a
  valid lower bound. For the master's splits the convex NLP "shares for fixed splits" is solved
  by :func:`optoffload.erds.shares.solve_shares` (the core's cutting-plane LP, gap 1e-10): an
  upper bound, and tangents at its optimal y (OA cuts) plus at the master's y (extended cutting
  plane cuts) are added. With a linear objective and convex constraints, OA cuts at an
  assignment's NLP optimum make the master at that assignment >= its NLP optimum, so no split
  vector is visited twice and the loop ends with LB >= UB (1 - gap). MindtPy was not used: its OA
  needs an NLP solver (Ipopt) that does not install with pip here.
* ``"scip"``: the nonlinear model solved directly by SCIP (PySCIPOpt reading the model's ``.lp``
  in a child process, :data:`SCIP_HEURISTICS`), spatial branch and bound on the bilinear
  constraint. The decoded splits get their optimal shares by the
  share LP (never worse than SCIP's), and SCIP's dual bound lowered by ``SCIP_SAFETY`` (its
  feasibility tolerance on ``share_inverse``) is the bound.

Both: time limits honoured (FEASIBLE with the incumbent or UNKNOWN), OPTIMAL when
(objective - bound) <= 1e-6 max(1, objective), objective recomputed by the exact evaluator.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from optoffload.erds.evaluate import exit_matrix, objective, time_tables
from optoffload.erds.model import ErdsInstance, decisions
from optoffload.erds.shares import _bounds, _Timeout, solve_shares
from optoffload.errors import InvalidInstance
from optoffload.solution import Solution
from optoffload.status import Status

from . import budget as _bd
from .budget import Budget, BuildAborted, n_joint_exact

MAX_JOINT = 20000
"""``outcomes="auto"``: joint outcomes when K^U (nonzero ones) is at most this, else sampled."""
OPT_TOL = 1e-6
"""OPTIMAL when objective - bound <= OPT_TOL * max(1, objective)."""
SCIP_SAFETY = 1e-8
"""Relative margin subtracted from SCIP's dual bound: with ``numerics/feastol`` 1e-9 a point SCIP
accepts has w y >= 1 - 1e-9, so its times (and bound) are at most 1e-9 relative too low; 10x margin."""
SOLVERS = ("highs", "scip")
OUTCOMES = ("auto", "joint", "sampled")


def candidate_splits(inst: ErdsInstance, early_exit: bool = True, dominance: bool = True) -> list[list[int]]:
    """Per task the split points kept in the model: all 0..K, or (``dominance``) those not pointwise
    slower than another split over the task's whole share range (the rule of ``erds-exact``:
    T is affine in y, so checking both ends of [1/hi, 1/lo] suffices)."""
    if not dominance:
        return [list(range(inst.K + 1)) for _ in range(inst.U)]
    from optoffload.erds.shares import _Problem

    return [list(c) for c in _Problem(inst, early_exit).cand]


def joint_outcomes(P: np.ndarray, budget=None) -> tuple[list[tuple[int, ...]], list[float]]:
    """Every joint exit vector (0-based exits) with nonzero probability, and its probability.

    ``budget`` (:class:`~optoffload.formulations.erds.budget.Budget`): checked once per block of
    outcomes; raises ``BuildAborted`` past its deadline."""
    U, K = P.shape
    outs, probs = [], []
    nz = [np.flatnonzero(P[u] > 0) for u in range(U)]
    for combo in itertools.product(*nz):
        if budget is not None:
            budget.tick("joint outcomes")
        p = float(np.prod([P[u, k] for u, k in enumerate(combo)]))
        if p > 0:
            outs.append(tuple(int(k) for k in combo))
            probs.append(p)
    return outs, probs


def sampled_outcomes(P: np.ndarray, samples: int, seed: int) -> tuple[list[tuple[int, ...]], list[float]]:
    """``samples`` joint exit vectors drawn from P (independent tasks), merged with weights count/samples."""
    rng = np.random.default_rng(seed)
    U, K = P.shape
    draws = np.stack([rng.choice(K, size=samples, p=P[u] / P[u].sum()) for u in range(U)], axis=1)
    uniq, counts = np.unique(draws, axis=0, return_counts=True)
    return [tuple(int(k) for k in row) for row in uniq], [float(c) / samples for c in counts]


def n_joint(P: np.ndarray) -> int:
    """Joint outcomes with nonzero probability (a Python int: K^U overflowed int64 before issue #14)."""
    return n_joint_exact(P)


def outcome_names(outs) -> list[str]:
    """``o_k1_k2_..`` with 1-based exits (exit k = the classifier after block k)."""
    return ["o_" + "_".join(str(k + 1) for k in o) for o in outs]


def build_pyomo(inst: ErdsInstance, *, outcomes: str = "auto", samples: int = 1000, seed: int = 0,
                early_exit: bool = True, dominance: bool = False, budget: Budget | None = None):
    """The Pyomo ``ConcreteModel`` of the module docstring (nothing is solved).

    ``dominance=True`` leaves dominated splits out of ``split`` (same optimum, smaller model);
    the default is the clean model with every split 0..K. ``budget``: the deadline is checked
    once per outcome block (``budget.CHECK_EVERY`` rows); past it ``BuildAborted`` is raised.
    A model larger than ``budget.MAX_MODEL_UNITS`` units is refused (InvalidInstance naming
    ``outcomes``) before anything is allocated.
    """
    import pyomo.environ as pyo

    if outcomes not in OUTCOMES:
        raise InvalidInstance("outcomes", f"must be one of {', '.join(OUTCOMES)}, got {outcomes!r}")
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise InvalidInstance("samples", f"must be an integer >= 1, got {samples!r}")
    A, B = time_tables(inst)
    P = exit_matrix(inst, early_exit)
    lo, hi = _bounds(inst)
    U, K = inst.U, inst.K
    mode = outcomes
    if mode == "auto":
        mode = "joint" if n_joint(P) <= MAX_JOINT else "sampled"
    n_est = n_joint(P) if mode == "joint" else samples
    units = _bd.model_units(n_est, U, K)
    if units > _bd.MAX_MODEL_UNITS:
        raise InvalidInstance("outcomes", f"{mode!r}: the model would have {units} units ({n_est} outcomes x "
                                          f"{U + 1} rows + U K (K+1) terms), above the memory bound "
                                          f"{_bd.MAX_MODEL_UNITS} (formulations/erds/budget.py)")
    outs, probs = joint_outcomes(P, budget) if mode == "joint" else sampled_outcomes(P, samples, seed)
    cand = candidate_splits(inst, early_exit, dominance)
    names = outcome_names(outs)
    m = pyo.ConcreteModel(name=f"erds_{inst.name}")
    m.tasks = pyo.Set(initialize=range(U), ordered=True, doc="tasks u (sub-DTs)")
    m.exits = pyo.Set(initialize=range(1, K + 1), ordered=True, doc="exits k = 1..K")
    pairs = [(u, s) for u in range(U) for s in cand[u]]
    m.split_choices = pyo.Set(initialize=pairs, dimen=2, ordered=True, doc="(u, s): split s allowed for task u")
    m.outcomes = pyo.Set(initialize=names, ordered=True, doc="joint exit outcomes o = (k_1..k_U)")
    ylo = {u: 1.0 / hi[u] for u in range(U)}
    yhi = {u: 1.0 / lo[u] for u in range(U)}
    m.split = pyo.Var(m.split_choices, within=pyo.Binary, doc="x[u,s] = 1 iff task u splits after block s")
    m.share = pyo.Var(m.tasks, bounds=lambda _m, u: (float(lo[u]), float(hi[u])), doc="w_u: edge share")
    m.inv_share = pyo.Var(m.tasks, bounds=lambda _m, u: (ylo[u], yhi[u]), doc="y_u = 1 / w_u")
    m.inv_share_split = pyo.Var(m.split_choices, bounds=lambda _m, u, s: (0.0, yhi[u]),
                                doc="y_u if split s is chosen, else 0")
    tmax = {(u, k): max(A[u, s, k - 1] * yhi[u] + B[u, s, k - 1] for s in cand[u]) for u in range(U)
            for k in range(1, K + 1)}
    m.task_time = pyo.Var(m.tasks, m.exits, bounds=lambda _m, u, k: (0.0, float(tmax[u, k])),
                          doc="T_u(s_u, k, w_u), erds.md 2.1")
    omax = {n: max(tmax[u, o[u] + 1] for u in range(U)) for n, o in zip(names, outs)}
    m.outcome_max = pyo.Var(m.outcomes, bounds=lambda _m, n: (0.0, float(omax[n])),
                            doc="theta_o >= max_u T_u in joint outcome o")
    m.one_split = pyo.Constraint(m.tasks, rule=lambda _m, u: sum(_m.split[u, s] for s in cand[u]) == 1)
    m.capacity = pyo.Constraint(expr=sum(m.share[u] for u in range(U)) <= float(inst.capacity))
    m.share_inverse = pyo.Constraint(m.tasks, rule=lambda _m, u: _m.share[u] * _m.inv_share[u] >= 1)
    m.inv_share_split_lo = pyo.Constraint(
        m.split_choices, rule=lambda _m, u, s: _m.inv_share_split[u, s] >= ylo[u] * _m.split[u, s])
    m.inv_share_split_hi = pyo.Constraint(
        m.split_choices, rule=lambda _m, u, s: _m.inv_share_split[u, s] <= yhi[u] * _m.split[u, s])
    m.inv_share_sum = pyo.Constraint(
        m.tasks, rule=lambda _m, u: _m.inv_share[u] == sum(_m.inv_share_split[u, s] for s in cand[u]))

    def _time(_m, u, k):
        return _m.task_time[u, k] == sum(float(A[u, s, k - 1]) * _m.inv_share_split[u, s]
                                         + float(B[u, s, k - 1]) * _m.split[u, s] for s in cand[u])

    m.task_time_def = pyo.Constraint(m.tasks, m.exits, rule=_time)
    okey = dict(zip(names, outs))
    m.outcome_max_ge = pyo.Constraint(m.outcomes, m.tasks)
    for n in names:  # a loop (not a rule) so that the deadline is checked per outcome block
        if budget is not None:
            budget.tick("outcome_max_ge")
        o = okey[n]
        for u in range(U):
            m.outcome_max_ge[n, u] = m.outcome_max[n] >= m.task_time[u, o[u] + 1]
    m.expected_makespan = pyo.Objective(expr=sum(p * m.outcome_max[n] for n, p in zip(names, probs)),
                                        sense=pyo.minimize)
    m._erds = {"outcomes": mode, "n_outcomes": len(outs), "cand": cand, "probs": probs, "outs": outs}
    return m


def decode_values(inst: ErdsInstance, cand, values: dict, *, tol: float = 1e-6) -> tuple[list[int], np.ndarray]:
    """(splits, shares) from values keyed ``split[u,s]`` and ``share[u]``, checked against the model.

    Raises InvalidInstance naming the variable when a value is missing, a split row is not
    one-hot, or a share breaks its bounds or the capacity by more than ``tol`` (relative);
    tiny violations are then pulled back onto the feasible set (the objective is monotone).
    """
    from optoffload.erds.shares import feasible_shares

    lo, hi = _bounds(inst)
    splits = []
    for u in range(inst.U):
        row = {}
        for s in cand[u]:
            key = f"split[{u},{s}]"
            if key not in values:
                raise InvalidInstance(f"values.{key}", "missing (a solution of another model?)")
            row[s] = float(values[key])
        on = [s for s, v in row.items() if v > 0.5]
        if len(on) != 1 or any(abs(v - (s in on)) > tol for s, v in row.items()):
            raise InvalidInstance(f"values.split[{u},*]", f"must be one-hot (one_split[{u}]), got {row}")
        splits.append(on[0])
    w = np.zeros(inst.U)
    for u in range(inst.U):
        key = f"share[{u}]"
        if key not in values:
            raise InvalidInstance(f"values.{key}", "missing (a solution of another model?)")
        w[u] = float(values[key])
        if w[u] < lo[u] - tol * max(1, lo[u]) or w[u] > hi[u] + tol * max(1, hi[u]):
            raise InvalidInstance(f"values.{key}", f"must lie in [{float(lo[u])!r}, {float(hi[u])!r}], got {float(w[u])!r}")
    if w.sum() > inst.capacity * (1 + tol):
        raise InvalidInstance("values.share", f"sum {float(w.sum())!r} exceeds capacity {inst.capacity!r} (capacity)")
    return splits, feasible_shares(w, lo, hi, inst.capacity)


def var_values(model) -> dict[str, float]:
    """Current values of the decision variables keyed ``split[u,s]`` / ``share[u]``."""
    out = {}
    for (u, s), v in model.split.items():
        out[f"split[{u},{s}]"] = 0.0 if v.value is None else float(v.value)
    for u, v in model.share.items():
        out[f"share[{u}]"] = float("nan") if v.value is None else float(v.value)
    return out


def _check(solver, gap, max_iter):
    if solver not in SOLVERS:
        raise InvalidInstance("solver", f"must be one of {', '.join(SOLVERS)}, got {solver!r}")
    if not (isinstance(gap, float) and 0 < gap < 0.1):
        raise InvalidInstance("gap", f"must be a float in (0, 0.1), got {gap!r}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1:
        raise InvalidInstance("max_iter", f"must be an integer >= 1, got {max_iter!r}")


def solve_erds_pyomo(inst: ErdsInstance, *, time_limit: float | None = None, seed: int = 0, threads: int | None = None,
                     solver: str = "highs", outcomes: str = "auto", samples: int = 1000, early_exit: bool = True,
                     dominance: bool = True, gap: float = 1e-7, max_iter: int = 500, log: bool = False) -> Solution:
    """``erds-pyomo``: the model of the module docstring solved by HiGHS (OA loop) or SCIP.

    ``early_exit`` (model the early exits of eq. (7); False: every task runs to its last exit, as without exits); ``log`` (print the solver's log on stderr).

    Options: ``solver`` ("highs" | "scip"), ``outcomes`` ("auto" | "joint" | "sampled"),
    ``samples`` (scenario count of the sampled variant), ``early_exit``, ``dominance`` (drop
    dominated splits from the model; same optimum), ``gap`` (relative UB-LB gap closing the OA
    loop), ``max_iter`` (OA master solves), ``log``. ``threads``: solver threads (default 1).
    """
    _check(solver, gap, max_iter)
    if outcomes not in OUTCOMES:
        raise InvalidInstance("outcomes", f"must be one of {', '.join(OUTCOMES)}, got {outcomes!r}")
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise InvalidInstance("samples", f"must be an integer >= 1, got {samples!r}")
    bud = Budget(time_limit)
    P = exit_matrix(inst, early_exit)
    mode, why = _plan_outcomes(inst, P, outcomes, samples, bud)
    if mode is None:
        return _fallback(inst, bud, early_exit, why, {"backend": f"pyomo/{solver}"})
    try:
        model = build_pyomo(inst, outcomes=mode, samples=samples, seed=seed, early_exit=early_exit,
                            dominance=dominance, budget=bud)
    except BuildAborted as e:
        return _fallback(inst, bud, early_exit, f"time limit reached while building the model ({e})",
                         {"backend": f"pyomo/{solver}", "outcomes": mode})
    meta = model._erds
    units = _bd.model_units(meta["n_outcomes"], inst.U, inst.K)
    info = {"backend": f"pyomo/{solver}", "outcomes": meta["outcomes"], "n_outcomes": meta["n_outcomes"],
            "variables": model.nvariables(), "constraints": model.nconstraints(), "model_units": units,
            "build_s": bud.elapsed()}
    if why:
        info["outcomes_reason"] = why
    load_s = _bd.build_seconds(units)  # load into the solver (appsi set_instance / .lp write + read)
    if not bud.fits(load_s):
        return _fallback(inst, bud, early_exit, f"no time left to load the built model (estimated {load_s:.3g} s)",
                         info)
    if solver == "highs":
        res = _solve_oa(inst, model, bud, seed, threads, gap, max_iter, early_exit, log, load_s)
    else:
        res = _solve_scip(inst, model, bud, seed, threads, early_exit, log, load_s)
    splits, w, lb, native, proven = res
    info.update(native)
    if splits is None:
        rem = bud.remaining()
        if rem is None or rem > 0:  # no incumbent from the solver: the heuristic one, if time is left
            plan = _bd.heuristic_plan(inst, early_exit=early_exit, budget=bud,
                                      reason=f"the solver found no incumbent ({info.get('native_status')})")
            if plan is not None:
                splits, w, _, finfo = plan
                info.update(finfo)
    if splits is None:
        return Solution("erds", inst.name, "erds-pyomo", Status.UNKNOWN, None,
                        lb if meta["outcomes"] == "joint" else None, bud.elapsed(), None, info)
    runtime = bud.elapsed()
    val = objective(inst, splits, w, early_exit=early_exit)
    if meta["outcomes"] != "joint":
        info["sample_objective"] = native.get("master_bound")
        return Solution("erds", inst.name, "erds-pyomo", Status.FEASIBLE, val, None, runtime,
                        decisions(splits, w, early_exit=early_exit), info)
    bound = None if lb is None else min(lb, val)
    closed = bound is not None and val - bound <= OPT_TOL * max(1.0, abs(val))
    status = Status.OPTIMAL if closed else Status.FEASIBLE
    return Solution("erds", inst.name, "erds-pyomo", status, val, bound, runtime,
                    decisions(splits, w, early_exit=early_exit), info)


def _plan_outcomes(inst, P, outcomes, samples, bud):
    """(mode, reason): the outcome model to build, or (None, reason) when none fits time or memory.

    ``"auto"``: joint if at most ``MAX_JOINT`` outcomes and its estimated build + load fits the
    remaining time, else sampled if that fits, else None (heuristic fallback). ``"joint"`` and
    ``"sampled"``: that model if it fits, else None. Memory: a model above
    ``budget.MAX_MODEL_UNITS`` units never fits.
    """
    U, K = inst.U, inst.K
    nj = n_joint(P)
    tries = []
    if outcomes in ("auto", "joint") and (outcomes == "joint" or nj <= MAX_JOINT):
        tries.append(("joint", nj))
    if outcomes in ("auto", "sampled"):
        tries.append(("sampled", samples))
    reasons = []
    for mode, n in tries:
        units = _bd.model_units(n, U, K)
        est = 2 * _bd.build_seconds(units)  # build, then load
        if units > _bd.MAX_MODEL_UNITS:
            reasons.append(f"{mode} model: {units} units above the memory bound {_bd.MAX_MODEL_UNITS}")
        elif not bud.fits(est):
            reasons.append(f"{mode} model: estimated build + load {est:.3g} s does not fit the remaining "
                           f"{bud.remaining():.3g} s")
        else:
            return mode, "; ".join(reasons)
    if outcomes == "auto" and nj > MAX_JOINT:
        reasons.insert(0, f"{_bd.fmt_count(nj)} joint outcomes > MAX_JOINT {MAX_JOINT}")
    return None, "; ".join(reasons)


def _fallback(inst, bud, early_exit, reason, info, method="erds-pyomo", grid=None):
    """Heuristic incumbent (``budget.heuristic_plan``) as FEASIBLE, or UNKNOWN if even that ran out of time.

    ``grid``: callable mapping shares to the method's share grid (erds-cpsat)."""
    plan = _bd.heuristic_plan(inst, early_exit=early_exit, budget=bud, reason=reason)
    info = dict(info)
    if plan is None:
        info["fallback"] = reason + "; no time left for the heuristic"
        return Solution("erds", inst.name, method, Status.UNKNOWN, None, None, bud.elapsed(), None, info)
    splits, w, val, finfo = plan
    info.update(finfo)
    if grid is not None:
        w = grid(w)
        val = _bd.score(inst, splits, w, early_exit)
    return Solution("erds", inst.name, method, Status.FEASIBLE, val, None, bud.elapsed(),
                    decisions(splits, w, early_exit=early_exit), info)


def _remaining(bud):
    return _bd.as_budget(bud).remaining()


def _solve_oa(inst, model, deadline, seed, threads, gap, max_iter, early_exit, log, load_s=0.0):
    """Outer approximation with HiGHS (module docstring). Returns (splits, shares, lb, info, proven).

    ``deadline``: a :class:`Budget`. Each master solve gets the remaining seconds minus ``load_s``
    (the estimated, non-interruptible appsi load/update of the model); the loop stops when that
    is <= 0.01 s."""
    deadline = _bd.as_budget(deadline)
    import pyomo.environ as pyo
    from pyomo.contrib.appsi.base import TerminationCondition as TC
    from pyomo.contrib.appsi.solvers.highs import Highs

    lo, hi = _bounds(inst)
    U = inst.U
    cand = model._erds["cand"]
    model.share_inverse.deactivate()
    model.share_tangent = pyo.ConstraintList(doc="tangents w_u >= 2/y0 - y_u/y0^2 of share_inverse")
    tangents: set = set()

    def tangent(u, y0):
        y0 = float(min(max(y0, 1.0 / hi[u]), 1.0 / lo[u]))
        key = (u, round(y0, 12))
        if key in tangents:
            return False
        tangents.add(key)
        model.share_tangent.add(model.share[u] + model.inv_share[u] / y0 ** 2 >= 2.0 / y0)
        return True

    for u in range(U):
        for y0 in np.geomspace(1.0 / hi[u], 1.0 / lo[u], 6):
            tangent(u, y0)
    opt = Highs()
    opt.config.load_solution = False
    opt.config.stream_solver = bool(log)
    opt.config.mip_gap = 1e-9
    opt.highs_options = {"random_seed": int(seed), "mip_abs_gap": 1e-10, "mip_feasibility_tolerance": 1e-9,
                         "primal_feasibility_tolerance": 1e-9, "threads": int(threads) if threads else 1}
    lb, ub, inc = -math.inf, math.inf, None
    visited: dict = {}
    it = 0
    native = "iteration-limit"
    try:
        for it in range(1, max_iter + 1):
            rem = _remaining(deadline)
            if rem is not None:
                if rem - load_s <= 0.01:
                    native = "time-limit"
                    break
                opt.config.time_limit = rem - load_s
            res = opt.solve(model)
            tc = res.termination_condition
            if res.best_objective_bound is not None and math.isfinite(res.best_objective_bound):
                lb = max(lb, float(res.best_objective_bound))
            if tc != TC.optimal:
                native = "time-limit" if tc == TC.maxTimeLimit else f"master-{tc.name}"
                break
            res.solution_loader.load_vars()
            vals = var_values(model)
            splits = [max(cand[u], key=lambda s, u=u: vals[f"split[{u},{s}]"]) for u in range(U)]
            added = False
            key = tuple(splits)
            if key not in visited:
                rem = _remaining(deadline)
                w, v, _ = solve_shares(inst, splits, early_exit=early_exit, gap=1e-10,
                                       time_limit=None if rem is None else max(rem, 0.01))
                visited[key] = v
                if v < ub:
                    ub, inc = v, (splits, w)
                for u in range(U):
                    added |= tangent(u, 1.0 / w[u])
            if ub - lb <= gap * max(1.0, abs(ub)):
                native = "optimal"
                break
            for u in range(U):
                y, w = model.inv_share[u].value, model.share[u].value
                if w * y < 1 - 1e-10:
                    added |= tangent(u, y)
            if not added:
                native = "stalled"
                break
    except _Timeout:  # the share LP ran out of time
        native = "time-limit"
    info = {"native_status": native, "oa_iterations": it, "split_vectors_visited": len(visited),
            "tangents": len(tangents), "master_bound": lb if math.isfinite(lb) else None}
    if inc is None:
        return None, None, (lb if math.isfinite(lb) else None), info, False
    return inc[0], inc[1], (lb if math.isfinite(lb) else None), info, native == "optimal"


_SCIP_CHILD = r"""
import json, sys
import pyscipopt
path, limit, seed, heur, log = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1", sys.argv[5] == "1"
m = pyscipopt.Model()
if not log:
    m.hideOutput()
m.readProblem(path)
if limit > 0:
    m.setParam("limits/time", limit)
m.setParam("limits/gap", 1e-9)
m.setParam("limits/absgap", 1e-10)
m.setParam("numerics/feastol", 1e-9)
m.setParam("randomization/randomseedshift", seed)
if not heur:
    m.setHeuristics(pyscipopt.SCIP_PARAMSETTING.OFF)
m.optimize()
out = {"status": m.getStatus(), "bound": m.getDualbound(), "nsols": m.getNSols()}
if m.getNSols() > 0:
    sol = m.getBestSol()
    out["values"] = {v.name: m.getSolVal(sol, v) for v in m.getVars()}
print("@@RESULT@@" + json.dumps(out), flush=True)
"""
SCIP_HEURISTICS = (True, False)
"""SCIP runs with its primal heuristics, and again without them if the child crashed: with them
PySCIPOpt 6.3's SCIP aborts the process ("free(): invalid pointer") on the U = 5 joint-outcome
model of ``oo.generate("erds", seed=0, tasks=5)``, without them it solves it (but is 6x slower
on U = 4). The child process makes a crash a retry, not the end of the caller."""


CHILD_START_S = 1.5
"""Estimated seconds for the SCIP child to start Python and import PySCIPOpt (charged to the limit)."""
CHILD_GRACE_S = 1.0
"""The child is killed this long after the remaining time (SCIP's own limit excludes reading)."""


def _solve_scip(inst, model, deadline, seed, threads, early_exit, log, load_s=0.0):
    """The nonlinear model by SCIP (PySCIPOpt) in a child process, from the model's ``.lp`` file.

    The child reads the file Pyomo writes (the quadratic ``share_inverse`` rows included), solves
    and prints the values; a SCIP crash or a hung child gives no solution and
    ``native_status`` "scip-crashed (...)".
    """
    deadline = _bd.as_budget(deadline)
    import json
    import os
    import subprocess
    import sys
    import tempfile

    try:
        import pyscipopt  # noqa: F401
    except ImportError:
        raise InvalidInstance("solver", "SCIP (pyscipopt) is not available on this machine") from None
    from optoffload.models import canonical

    fd, path = tempfile.mkstemp(suffix=".lp", prefix="erds-scip-")
    os.close(fd)
    try:
        model.write(path, io_options={"symbolic_solver_labels": True})
        text, rc, tries = "", None, []
        for heur in SCIP_HEURISTICS:
            rem = _remaining(deadline)
            # SCIP's limits/time starts after the read: charge start-up and read (about load_s)
            limit = 0.0 if rem is None else rem - CHILD_START_S - load_s
            if rem is not None and limit <= 0.05:
                tries.append({"heuristics": heur, "exit": "skipped: no time left for the child"})
                break
            try:
                proc = subprocess.run([sys.executable, "-c", _SCIP_CHILD, path, repr(limit), str(int(seed)),
                                       "1" if heur else "0", "1" if log else "0"],
                                      capture_output=not log, text=True,
                                      timeout=None if rem is None else rem + CHILD_GRACE_S)
                text, rc = proc.stdout or "", proc.returncode
            except subprocess.TimeoutExpired:
                text, rc = "", "timeout"
            tries.append({"heuristics": heur, "exit": rc})
            if "@@RESULT@@" in text:
                break
    finally:
        os.unlink(path)
    line = next((ln for ln in text.splitlines() if ln.startswith("@@RESULT@@")), None)
    if line is None:
        return None, None, None, {"native_status": f"scip-crashed (exit {rc})", "scip_runs": tries}, False
    out = json.loads(line[len("@@RESULT@@"):])
    try:
        lb = float(out["bound"])
        lb = lb - SCIP_SAFETY * max(1.0, abs(lb)) if math.isfinite(lb) else None
    except (TypeError, ValueError):
        lb = None
    info = {"native_status": out["status"], "scip_bound": out["bound"] if lb is not None else None,
            "scip_runs": tries}
    if not out.get("values"):
        return None, None, lb, info, False
    vals = {}
    for k, v in out["values"].items():
        vals[canonical(k)] = v
        comp = model.find_component(canonical(k))
        if comp is not None and hasattr(comp, "set_value"):
            comp.set_value(v, skip_validation=True)  # the values stay on the native model, as with HiGHS
    vals = {k: v for k, v in vals.items() if k.startswith(("split[", "share["))}
    tc_optimal = out["status"] == "optimal"
    cand = model._erds["cand"]
    splits = [max(cand[u], key=lambda s, u=u: vals[f"split[{u},{s}]"]) for u in range(inst.U)]
    _, w_scip = decode_values(inst, cand, vals, tol=1e-4)
    v_scip = objective(inst, splits, w_scip, early_exit=early_exit)
    rem = _remaining(deadline)
    try:
        w, v, _ = solve_shares(inst, splits, early_exit=early_exit, gap=1e-10,
                               time_limit=None if rem is None else max(rem, 0.01))
    except _Timeout:  # keep SCIP's shares
        w, v = w_scip, v_scip
    if v_scip < v:
        w = w_scip
    return splits, w, lb, info, tc_optimal
