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

Time limits (issue #14, item 3): building the Pyomo model and loading it into
HiGHS are charged to ``time_limit``. The model size is counted before building
(:func:`model_nonzeros`) and priced at :data:`SEC_PER_NZ`; a model that cannot
be built and loaded with :data:`MIN_SOLVE` to spare is not built (the build
also re-checks the clock), and HiGHS gets only the seconds left after loading.
When HiGHS is not run or ends without an incumbent, the method returns the
incumbent of the core's cheap rules (hull greedy or equal split for airtime,
the ratio rule for ordering, the best candidate replayed in time for config),
FEASIBLE with a valid upper bound where one exists, ``info["native_status"]``
``load-skipped`` and ``info["time_limit_reached"]``.
"""

from __future__ import annotations

import itertools
import time

import numpy as np

from optoffload.errors import InvalidInstance
from optoffload.progressive.model import ratio_order
from optoffload.solution import Solution
from optoffload.status import Status


SEC_PER_NZ = 12e-6
"""Estimated seconds per model nonzero to build the Pyomo model and load it into HiGHS (appsi:
about 2-4 us to build, 6.5 us to load, measured for PicSys in docs/picsys-exact.md; rounded up)."""
MIN_SOLVE = 0.05
"""Seconds HiGHS must have left after loading for the build to be worth it."""


class _Skip(Exception):
    """The model cannot be built and loaded in the time left (internal: caught by :func:`milp`)."""


def model_nonzeros(instance) -> int:
    """Nonzeros of the MILP of ``instance`` (exact counts from the module docstring's model)."""
    sp = instance.spec
    if instance.problem == "config":
        return 2 * len(sp.candidates)
    if instance.problem == "airtime":
        return 3 * len(sp.devices) * (sp.slots + 1)
    n, J = len(sp.sizes), len(np.unique(sp.budget_values))
    return 6 * (n * (n - 1) * (n - 2) // 6) + n * J * n + n * J


def _solve(model, time_limit, threads, deadline=None, log=False):
    from pyomo.contrib.appsi.base import TerminationCondition as TC
    from pyomo.contrib.appsi.solvers import Highs

    opt = Highs()
    opt.config.load_solution = False
    opt.config.stream_solver = bool(log)  # HiGHS's own log (optoffload solve --log)
    if deadline is not None:
        opt.set_instance(model)  # the load is charged to the limit: the solver gets what is left
        time_limit = max(0.01, deadline - time.perf_counter())
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
    t0 = time.perf_counter()
    deadline = None if time_limit is None else t0 + float(time_limit)
    nnz = model_nonzeros(instance)
    need = nnz * SEC_PER_NZ
    if deadline is not None and need + MIN_SOLVE > deadline - time.perf_counter():
        note = f"model not built: {nnz} nonzeros estimated at {need:.2f} s with the time limit {time_limit:g} s"
        return _fallback(instance, t0, deadline, {"native_status": "load-skipped", "note": note})
    import pyomo.environ as pyo

    fn = {"config": _config, "airtime": _airtime, "ordering": _ordering}[instance.problem]
    try:
        decisions, obj, status, bound, info = fn(pyo, instance.spec, time_limit, threads, deadline, log)
    except _Skip as exc:
        return _fallback(instance, t0, deadline, {"native_status": "load-skipped", "note": str(exc)})
    info.setdefault("native_status", info.get("termination"))
    if not status.has_solution and status != Status.INFEASIBLE and deadline is not None:
        return _fallback(instance, t0, deadline, {**info, "note": "HiGHS found no incumbent within the limit"})
    if status == Status.FEASIBLE and deadline is not None:
        # stopped by the limit: keep the better of HiGHS's incumbent and the cheap rule's (its bound too)
        fb = _fallback(instance, t0, time.perf_counter(), {})
        if bound is not None and fb.bound is not None:
            bound = min(bound, fb.bound)
        if fb.objective > obj + 1e-12:
            decisions, obj = fb.decisions, fb.objective
            info["incumbent_from"] = fb.info["incumbent_from"]
    if status == Status.OPTIMAL and bound is not None:
        bound = max(bound, obj)  # HiGHS's gap tolerance may put the dual bound a hair below the replayed value
    return Solution("progressive", instance.name, "milp", status, obj if status.has_solution else None, bound,
                    time.perf_counter() - t0, decisions if status.has_solution else None, info)


def _fallback(instance, t0, deadline, info: dict) -> Solution:
    """The answer when HiGHS cannot run or found nothing in time: the incumbent of the core's
    cheap rules (:mod:`optoffload.progressive.airtime`, the ratio rule, the candidates replayed in
    time) with its valid upper bound where one exists; FEASIBLE."""
    from optoffload.progressive.airtime import equal_split, hull_greedy

    sp = instance.spec
    bound = None
    if instance.problem == "config":
        acc = sp.accuracy_until(deadline)
        pick = max(acc, key=lambda k: (acc[k], k))
        dec, obj = {"config": pick}, acc[pick]
        info["incumbent_from"] = f"best of {len(acc)} replayed candidates"
    elif instance.problem == "airtime":
        U = sp.utility_rows(deadline)
        g = None if U is None else hull_greedy(U, sp.slots, deadline)
        if g is None:
            level = equal_split(len(sp.devices), sp.slots, sp.slots)
            info["incumbent_from"] = "equal split"
        else:
            level, bound = g
            info["incumbent_from"] = "hull greedy"
        dec, obj = {"slots": level}, float(sum(sp.utility_at(d, x) for d, x in enumerate(level)))
    else:
        order = ratio_order(sp.sizes, sp.importance)
        dec, obj = {"order": order}, sp.value(order)
        bound = float(np.sum(sp.importance * sp.survival(sp.sizes)))
        info["incumbent_from"] = "ratio rule"
    if bound is not None:
        bound = max(bound, obj)
    info["time_limit_reached"] = True
    return Solution("progressive", instance.name, "milp", Status.FEASIBLE, obj, bound, time.perf_counter() - t0,
                    dec, info)


def _check(deadline, nnz):
    """Raise :class:`_Skip` if loading ``nnz`` nonzeros cannot end before ``deadline``."""
    if deadline is not None and time.perf_counter() + nnz * SEC_PER_NZ * 0.6 + MIN_SOLVE > deadline:
        raise _Skip(f"time limit reached while building the model ({nnz} nonzeros)")


def _config(pyo, sp, time_limit, threads, deadline=None, log=False):
    acc = sp.accuracy if deadline is None else sp.accuracy_until(deadline)
    if len(acc) < len(sp.candidates):
        raise _Skip(f"replayed {len(acc)} of {len(sp.candidates)} candidates before the time limit")
    names = list(acc)
    m = pyo.ConcreteModel()
    m.x = pyo.Var(range(len(names)), within=pyo.Binary)
    m.one = pyo.Constraint(expr=sum(m.x[i] for i in range(len(names))) == 1)
    m.obj = pyo.Objective(expr=sum(acc[n] * m.x[i] for i, n in enumerate(names)), sense=pyo.maximize)
    status, bound, tc = _solve(m, time_limit, threads, deadline, log)
    if not status.has_solution:
        return None, None, status, bound, {"termination": tc}
    pick = names[max(range(len(names)), key=lambda i: pyo.value(m.x[i]))]
    return {"config": pick}, acc[pick], status, bound, {"termination": tc}


def _airtime(pyo, sp, time_limit, threads, deadline=None, log=False):
    U = sp.utility_rows(deadline)
    if U is None:
        raise _Skip("utility table not computed before the time limit")
    D, S1 = U.shape
    _check(deadline, 3 * D * S1)
    m = pyo.ConcreteModel()
    idx = [(d, s) for d in range(D) for s in range(S1)]
    m.z = pyo.Var(idx, within=pyo.Binary)
    m.one = pyo.Constraint(range(D), rule=lambda m, d: sum(m.z[d, s] for s in range(S1)) == 1)
    m.cap = pyo.Constraint(expr=sum(s * m.z[d, s] for d, s in idx) <= sp.slots)
    m.obj = pyo.Objective(expr=sum(float(U[d, s]) * m.z[d, s] for d, s in idx), sense=pyo.maximize)
    status, bound, tc = _solve(m, time_limit, threads, deadline, log)
    if not status.has_solution:
        return None, None, status, bound, {"termination": tc}
    level = [max(range(S1), key=lambda s: pyo.value(m.z[d, s])) for d in range(D)]
    return {"slots": level}, float(sum(U[d, s] for d, s in enumerate(level))), status, bound, {"termination": tc}


def _ordering(pyo, sp, time_limit, threads, deadline=None, log=False):
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
    for t, (i, j, k) in enumerate(itertools.combinations(range(n), 3)):
        if t & 1023 == 0:
            _check(deadline, 6 * (n * (n - 1) * (n - 2) // 6 - t))
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
    status, bound, tc = _solve(m, time_limit, threads, deadline, log)
    if not status.has_solution:
        return None, None, status, bound, {"termination": tc}
    npred = [sum(round(pyo.value(before(k, i))) for k in range(n) if k != i) for i in range(n)]
    order = sorted(range(n), key=lambda i: (npred[i], i))
    return {"order": order}, sp.value(order), status, bound, {"termination": tc}
