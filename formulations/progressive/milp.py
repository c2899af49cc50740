"""MILP models of the progressive family (method ``milp``): Pyomo + HiGHS (appsi).

``config``   one binary per candidate, ``sum x_c = 1``, maximize
             ``sum acc_c x_c`` (accuracies from the simulator). Trivial, kept so
             that every problem kind has a solver-backed cross-check.
``airtime``  multiple-choice knapsack: ``z[d, s] = 1`` if device ``d`` gets
             ``s`` slots; ``sum_s z[d, s] = 1`` for each ``d``,
             ``sum_{d,s} s z[d, s] <= slots``; maximize ``sum U_d(s) z[d, s]``.
``ordering`` linear-ordering model: ``p[i, k] = 1`` if chunk ``i`` goes before
             ``k`` (``p[k, i] = 1 - p[i, k]``), transitivity on every triple,
             completion ``C_i = c_i + sum_k c_k p[k, i]``; ``y[i, j] = 1`` only
             if ``C_i <= s_j`` (big-M ``sum c``); maximize
             ``sum_i w_i sum_j P(S = s_j) y[i, j]``. Practical up to ~12 chunks.

Status mapping (appsi ``TerminationCondition``): ``optimal`` -> OPTIMAL;
``maxTimeLimit``/``interrupted``/``maxIterations`` with an incumbent ->
FEASIBLE, without -> UNKNOWN; ``infeasible`` -> INFEASIBLE (cannot happen:
the all-zero / any-order plan is feasible); anything else -> UNKNOWN.
The reported objective is recomputed from the extracted plan (the simulator
is the source of truth), the bound is HiGHS's dual bound.
"""

from __future__ import annotations

import itertools
import time

import numpy as np

from optoffload.errors import InvalidInstance
from optoffload.solution import Solution
from optoffload.status import Status


def _solve(model, time_limit, threads, log=False):
    from pyomo.contrib.appsi.base import TerminationCondition as TC
    from pyomo.contrib.appsi.solvers import Highs

    opt = Highs()
    opt.config.load_solution = False
    opt.config.stream_solver = bool(log)  # HiGHS's own log (optoffload solve --log)
    if time_limit is not None:
        opt.config.time_limit = float(time_limit)
    hopts = {"mip_rel_gap": 1e-7}
    if threads is not None:
        hopts["threads"] = int(threads)
    opt.highs_options = hopts
    res = opt.solve(model)
    tc = res.termination_condition
    has = res.best_feasible_objective is not None
    if tc == TC.optimal:
        status = Status.OPTIMAL
    elif tc in (TC.maxTimeLimit, TC.interrupted, TC.maxIterations):
        status = Status.FEASIBLE if has else Status.UNKNOWN
    elif tc == TC.infeasible:
        status = Status.INFEASIBLE
    else:
        status = Status.UNKNOWN
    if has and status.has_solution:
        res.solution_loader.load_vars()
    bound = res.best_objective_bound
    bound = None if bound is None or not np.isfinite(bound) else float(bound)
    return status, bound, str(tc.name)


def milp(instance, *, time_limit=None, seed=0, threads=None, log=False, **options) -> Solution:
    """Dispatch on ``instance.problem`` (see the module docstring). ``log`` (bool) streams HiGHS's
    log (``optoffload solve --log``)."""
    if options:
        raise InvalidInstance(next(iter(options)), "unknown option for method 'milp'")
    import pyomo.environ as pyo

    t0 = time.perf_counter()
    fn = {"config": _config, "airtime": _airtime, "ordering": _ordering}[instance.problem]
    decisions, obj, status, bound, info = fn(pyo, instance.spec, time_limit, threads, log)
    if status == Status.OPTIMAL and bound is not None:
        bound = max(bound, obj)  # HiGHS's gap tolerance may put the dual bound a hair below the replayed value
    return Solution("progressive", instance.name, "milp", status, obj if status.has_solution else None, bound,
                    time.perf_counter() - t0, decisions if status.has_solution else None, info)


def _config(pyo, sp, time_limit, threads, log=False):
    acc = sp.accuracy
    names = list(acc)
    m = pyo.ConcreteModel()
    m.x = pyo.Var(range(len(names)), within=pyo.Binary)
    m.one = pyo.Constraint(expr=sum(m.x[i] for i in range(len(names))) == 1)
    m.obj = pyo.Objective(expr=sum(acc[n] * m.x[i] for i, n in enumerate(names)), sense=pyo.maximize)
    status, bound, tc = _solve(m, time_limit, threads, log)
    if not status.has_solution:
        return None, None, status, bound, {"termination": tc}
    pick = names[max(range(len(names)), key=lambda i: pyo.value(m.x[i]))]
    return {"config": pick}, acc[pick], status, bound, {"termination": tc}


def _airtime(pyo, sp, time_limit, threads, log=False):
    U = sp.utility
    D, S1 = U.shape
    m = pyo.ConcreteModel()
    idx = [(d, s) for d in range(D) for s in range(S1)]
    m.z = pyo.Var(idx, within=pyo.Binary)
    m.one = pyo.Constraint(range(D), rule=lambda m, d: sum(m.z[d, s] for s in range(S1)) == 1)
    m.cap = pyo.Constraint(expr=sum(s * m.z[d, s] for d, s in idx) <= sp.slots)
    m.obj = pyo.Objective(expr=sum(float(U[d, s]) * m.z[d, s] for d, s in idx), sense=pyo.maximize)
    status, bound, tc = _solve(m, time_limit, threads, log)
    if not status.has_solution:
        return None, None, status, bound, {"termination": tc}
    level = [max(range(S1), key=lambda s: pyo.value(m.z[d, s])) for d in range(D)]
    return {"slots": level}, float(sum(U[d, s] for d, s in enumerate(level))), status, bound, {"termination": tc}


def _ordering(pyo, sp, time_limit, threads, log=False):
    n = len(sp.sizes)
    c = sp.sizes
    vals = np.unique(sp.budget_values)
    probs = np.array([sp.budget_probs[sp.budget_values == v].sum() for v in vals])
    J = range(len(vals))
    bigm = float(c.sum())
    m = pyo.ConcreteModel()
    pairs = [(i, k) for i in range(n) for k in range(n) if i < k]
    m.p = pyo.Var(pairs, within=pyo.Binary)

    def before(k, i):  # 1 if k precedes i
        return m.p[k, i] if k < i else 1 - m.p[i, k]

    m.tri = pyo.ConstraintList()
    for i, j, k in itertools.combinations(range(n), 3):
        m.tri.add(m.p[i, j] + m.p[j, k] - m.p[i, k] <= 1)
        m.tri.add(m.p[i, j] + m.p[j, k] - m.p[i, k] >= 0)
    m.y = pyo.Var([(i, j) for i in range(n) for j in J], within=pyo.Binary)
    m.done = pyo.ConstraintList()
    for i in range(n):
        comp = float(c[i]) + sum(float(c[k]) * before(k, i) for k in range(n) if k != i)
        for j in J:
            m.done.add(comp <= float(vals[j]) + bigm * (1 - m.y[i, j]))
    m.obj = pyo.Objective(expr=sum(float(sp.importance[i] * probs[j]) * m.y[i, j] for i in range(n) for j in J),
                          sense=pyo.maximize)
    status, bound, tc = _solve(m, time_limit, threads, log)
    if not status.has_solution:
        return None, None, status, bound, {"termination": tc}
    npred = [sum(round(pyo.value(before(k, i))) for k in range(n) if k != i) for i in range(n)]
    order = sorted(range(n), key=lambda i: (npred[i], i))
    return {"order": order}, sp.value(order), status, bound, {"termination": tc}
