"""MILP models of the progressive family (method ``milp``): Pyomo + HiGHS (appsi).

``config``   one binary per candidate, ``sum x_c = 1``, maximize
             ``sum acc_c x_c`` (accuracies from the simulator). Trivial, kept so
             that every problem kind has a solver-backed cross-check.
``airtime``  multiple-choice knapsack: ``z[d, s] = 1`` if device ``d`` gets
             ``s`` slots; ``sum_s z[d, s] = 1`` for each ``d``,
             ``sum_{d,s} s z[d, s] <= slots``; maximize ``sum U_d(s) z[d, s]``.
``ordering`` two models, option ``formulation``:

  ``"nested-knapsack"`` (default). The payoff of an order depends only on
  which chunks are whole at each budget level ``s_1 < ... < s_J`` (the
  distinct values of ``S``), and those sets are nested prefixes of the order.
  Binary ``x[i, j] = 1`` if chunk ``i`` is whole within ``s_j``::

      max  sum_i w_i sum_j P(S = s_j) x[i, j]
      s.t. sum_i c_i x[i, j] <= s_j          for every level j   (knapsack)
           x[i, j] <= x[i, j+1]               for j < J           (nested)

  ``x[i, j]`` is created only where ``c_i <= s_j``. Exact reductions
  (:func:`ordering_levels`, :func:`dominance_pairs`): levels with
  ``s_j >= sum c`` (everything is whole: a constant ``sum w * P``), with
  ``s_j < min c`` or with ``P(S = s_j) = 0`` are left out (their terms are
  constants or zero, and dropping a level only drops constraints, so the
  proof below holds for the levels kept); with integer sizes each ``s_j`` is
  lowered to the largest subset sum ``<= s_j`` and equal levels merge; and
  ``x[a, j] >= x[b, j]`` when chunk ``a`` is no larger and no less important
  than ``b`` (some optimal order sends ``a`` first).

  *Exact.* (a) Every order ``pi`` gives a feasible ``x`` of the same value:
  put ``x[i, j] = 1`` iff ``C_i(pi) <= s_j``. It is monotone in ``j``
  because ``s_j`` increases; the chunks whole within ``s_j`` are a prefix of
  ``pi`` whose bytes sum to the largest of their ``C_i``, at most ``s_j``,
  so every knapsack holds; and ``sum_j P(S = s_j) [C_i <= s_j] =
  P(S >= C_i)``, the objective of ``ordering`` term by term. (b) Every
  feasible ``x`` gives an order at least as good: let ``L_i`` be the first
  level with ``x[i, L_i] = 1`` (``inf`` if none) and send the chunks by
  ``L_i`` ascending (ties: ratio rule). A chunk ``i`` with ``L_i = l`` is
  preceded only by chunks with ``L_k <= l``, so by nestedness
  ``C_i <= sum_k c_k x[k, l] <= s_l``: ``i`` is whole at every level
  ``j >= l``, i.e. wherever ``x[i, j] = 1``. As ``w_i, P >= 0`` the order's
  value is at least the model's. So the two optima are equal, the MILP's
  dual bound bounds the ordering problem, and the order decoded from any
  incumbent scores at least the incumbent (the reported objective is the
  simulator's ``sp.value(order)``). Size: at most ``n J`` binaries,
  ``J`` knapsack rows and ``n (J - 1)`` nesting rows, ``3 n J`` nonzeros
  (no big-M, no ``O(n^3)`` transitivity), plus the dominance rows. Measured
  (``optoffload bench progressive-ordering-milp``, 60 s limit, docs/progressive.md,
  shared machine): proven optimal in every run up to 25 chunks (mean 0.2 s
  at 6 chunks, 1.0 s at 8, 0.45 s at 10, 3-6 s at 12-16, 9-16 s at 18-20,
  max 29 s), 2 of 3 runs at 30; none at 40 (gap <= 0.38 %). The
  linear-ordering model in the same run: 2.9 s at 6 chunks, 29 s (max 57 s)
  at 8, none of 3 proven at 10 (gap up to 15 %).

  ``"linear-ordering"`` (the original model, kept for cross-checking):
  ``p[i, k] = 1`` if chunk ``i`` goes before ``k`` (``p[k, i] = 1 - p[i, k]``),
  transitivity on every triple, completion
  ``C_i = c_i + sum_k c_k p[k, i]``; ``y[i, j] = 1`` only if
  ``C_i <= s_j`` (big-M ``sum c``); maximize
  ``sum_i w_i sum_j P(S = s_j) y[i, j]``. Weak LP relaxation (big-M):
  practical up to about 8 chunks.

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


FORMULATIONS = ("nested-knapsack", "linear-ordering")
"""Models of the ``ordering`` kind (option ``formulation``; the first is the default)."""
DOMINANCE_MAX_CHUNKS = 1000
"""Above this many chunks the dominance rows (:func:`dominance_pairs`) are left out (the model stays exact)."""
NESTED_HIGHS_OPTIONS = {"mip_pscost_minreliable": 0}
"""HiGHS options of the nested-knapsack model: branch on pseudo-costs without strong branching
(strong branching took about 3/4 of the LP iterations; about 1.3x faster in docs/progressive.md)."""
SUBSET_SUM_MAX_CELLS = 50_000_000
"""Largest ``n * sum c`` for which :func:`ordering_levels` reduces capacities to subset sums."""
LEVEL_TOL = 1e-9
"""A chunk is whole within ``s`` if ``C <= s + LEVEL_TOL``: the simulator's rule
(:meth:`~optoffload.progressive.model.OrderingProblem.survival` counts ``S >= C - 1e-9``)."""


def _formulation(instance, formulation):
    """The ordering model to build: ``formulation`` checked (InvalidInstance names the option)."""
    if formulation is None:
        return FORMULATIONS[0] if instance.problem == "ordering" else None
    if not isinstance(formulation, str) or formulation not in FORMULATIONS:
        raise InvalidInstance("formulation", f"must be one of {', '.join(map(repr, FORMULATIONS))}, "
                                             f"got {formulation!r}")
    if instance.problem != "ordering":
        raise InvalidInstance("formulation", f"applies to ordering problems only, not {instance.problem!r}")
    return formulation


def subset_sums(c):
    """Boolean table ``reach[t]``: some set of chunks has exactly ``t`` bytes; None unless every
    size is an integer and ``n * sum c <= SUBSET_SUM_MAX_CELLS`` (bitset DP, ``O(n sum c)``)."""
    if not np.all(c == np.round(c)):
        return None
    total = int(round(float(c.sum())))
    if len(c) * (total + 1) > SUBSET_SUM_MAX_CELLS:
        return None
    reach = np.zeros(total + 1, dtype=bool)
    reach[0] = True
    for ci in np.round(c).astype(np.int64):
        reach[ci:] |= reach[:total + 1 - ci].copy()
    return reach


def ordering_levels(sp):
    """The budget levels of the nested-knapsack model: ``(vals, probs, const, first)``.

    ``vals``/``probs``: the capacities ``s_j`` kept (ascending) and ``P(S = s_j)``; ``const``:
    the value of the levels left out (those with ``s_j >= sum c``, where every chunk is whole:
    ``sum w * P``); ``first[i]``: the first kept level with ``c_i <= s_j`` (``len(vals)`` if
    none), so chunk ``i`` has variables ``x[i, first[i]:]``.

    Capacity reduction (integer sizes, :func:`subset_sums`): each ``s_j`` is lowered to the
    largest subset sum ``s'_j <= s_j``, and levels with the same ``s'_j`` are merged (their
    probabilities added). Exact: the chunks whole within ``s_j`` weigh some subset sum, so at
    most ``s'_j``; two levels with one ``s'`` hold the same prefix in every order. It tightens
    the LP relaxation (each level's fractional knapsack has the smaller capacity).
    """
    vals = np.unique(sp.budget_values)
    probs = np.array([sp.budget_probs[sp.budget_values == v].sum() for v in vals])
    reach = subset_sums(sp.sizes)
    if reach is not None:
        sums = np.flatnonzero(reach).astype(float)
        cap = sums[np.searchsorted(sums, vals + LEVEL_TOL, side="right") - 1]  # reach[0]: always one
        vals = np.unique(cap)
        probs = np.array([probs[cap == v].sum() for v in vals])
    total = float(sp.sizes.sum())
    full = vals + LEVEL_TOL >= total
    const = float(sp.importance.sum() * probs[full].sum())
    keep = ~full & (probs > 0) & (vals + LEVEL_TOL >= float(sp.sizes.min()))
    vals, probs = vals[keep], probs[keep]
    first = np.searchsorted(vals + LEVEL_TOL, sp.sizes, side="left")
    return vals, probs, const, first


def dominance_pairs(c, w):
    """The dominance rows of the nested-knapsack model: pairs ``(a, b)`` with ``a`` dominating ``b``.

    ``a`` dominates ``b`` if ``c_a <= c_b`` and ``w_a >= w_b`` (equal chunks: the smaller index
    first). Some optimal order sends every dominating chunk before the chunks it dominates
    (exchange argument: if ``b`` precedes ``a``, swapping them gives ``a`` the completion
    ``C'_a <= C_b``, ``b`` the completion ``C_a``, moves the chunks between them earlier and no
    other; the value changes by at least ``(w_a - w_b) (G(C_b) - G(C_a)) >= 0`` as
    ``G(c) = P(S >= c)`` does not increase. Swapping the closest such inverted pair creates no
    new inversion, so repeated swaps reach an order with none), and its ``x`` has
    ``x[a, j] >= x[b, j]``. Only the transitive reduction is returned (the other rows follow in
    the LP too). Empty above :data:`DOMINANCE_MAX_CHUNKS` chunks (the ``n x n`` product).
    """
    n = len(c)
    if n > DOMINANCE_MAX_CHUNKS or n < 2:
        return []
    i = np.arange(n)
    D = (c[:, None] <= c[None, :]) & (w[:, None] >= w[None, :]) & (
        (c[:, None] < c[None, :]) | (w[:, None] > w[None, :]) | (i[:, None] < i[None, :]))
    Df = D.astype(np.float64)
    red = D & ~((Df @ Df) > 0)
    a, b = np.nonzero(red)
    return list(zip(a.tolist(), b.tolist()))


def model_nonzeros(instance, formulation=None) -> int:
    """Nonzeros of the MILP of ``instance`` (exact counts from the module docstring's models,
    objective included); ``formulation`` as for :func:`milp` (ordering only)."""
    sp = instance.spec
    if instance.problem == "config":
        return 2 * len(sp.candidates)
    if instance.problem == "airtime":
        return 3 * len(sp.devices) * (sp.slots + 1)
    if _formulation(instance, formulation) == "nested-knapsack":
        return _nested_structure(sp)[-1]
    n, J = len(sp.sizes), len(np.unique(sp.budget_values))
    return 6 * (n * (n - 1) * (n - 2) // 6) + n * J * n + n * J


def _nested_structure(sp):
    """``(vals, probs, const, first, rows, pairs, nnz)`` of the nested-knapsack model:
    :func:`ordering_levels`, the levels whose knapsack row can bind (``rows``: the chunks that
    fit weigh more than ``s_j``), :func:`dominance_pairs` and the exact nonzero count."""
    vals, probs, const, first = ordering_levels(sp)
    J = len(vals)
    c = sp.sizes
    cnt = np.bincount(first, minlength=J + 1)[:J].cumsum()  # variables per level
    fits = np.bincount(first, weights=c, minlength=J + 1)[:J].cumsum()  # bytes of the chunks that fit
    rows = fits > vals + LEVEL_TOL
    pairs = dominance_pairs(c, sp.importance)
    nvar = int(cnt.sum())
    nest = nvar - int(np.sum(first < J))
    dom = sum(J - int(first[b]) for _a, b in pairs)
    # objective: 1 per variable; knapsack rows: 1 per variable of a binding level; nesting and dominance: 2 per row
    nnz = nvar + int(cnt[rows].sum()) + 2 * nest + 2 * dom
    return vals, probs, const, first, rows, pairs, nnz


def _solve(model, time_limit, threads, deadline=None, log=False, extra=None):
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
    hopts = {"mip_rel_gap": 1e-7, **(extra or {})}
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


def milp(instance, *, time_limit=None, seed=0, threads=None, log=False, formulation: str | None = None,
         **options) -> Solution:
    """Dispatch on ``instance.problem`` (see the module docstring). ``log`` (bool) streams HiGHS's
    log (``optoffload solve --log``). ``formulation`` (ordering only) "nested-knapsack" (default)
    or "linear-ordering" (the original model, for cross-checking)."""
    if options:
        raise InvalidInstance(next(iter(options)), "unknown option for method 'milp'")
    t0 = time.perf_counter()
    deadline = None if time_limit is None else t0 + float(time_limit)
    formulation = _formulation(instance, formulation)
    nnz = model_nonzeros(instance, formulation)
    need = nnz * SEC_PER_NZ
    if deadline is not None and need + MIN_SOLVE > deadline - time.perf_counter():
        note = f"model not built: {nnz} nonzeros estimated at {need:.2f} s with the time limit {time_limit:g} s"
        return _fallback(instance, t0, deadline, {"native_status": "load-skipped", "note": note,
                                                  **({"formulation": formulation} if formulation else {})})
    import pyomo.environ as pyo

    fn = {"config": _config, "airtime": _airtime, "ordering": _ordering_nested}[instance.problem]
    if formulation == "linear-ordering":
        fn = _ordering_linear
    try:
        decisions, obj, status, bound, info = fn(pyo, instance.spec, time_limit, threads, deadline, log)
    except _Skip as exc:
        return _fallback(instance, t0, deadline, {"native_status": "load-skipped", "note": str(exc),
                                                  **({"formulation": formulation} if formulation else {})})
    info.setdefault("native_status", info.get("termination"))
    if formulation is not None:
        info["formulation"] = formulation
        info["nonzeros"] = nnz
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


def _ordering_nested(pyo, sp, time_limit, threads, deadline=None, log=False):
    """The nested-knapsack model of the module docstring; the order is decoded by first level."""
    n = len(sp.sizes)
    c, w = sp.sizes, sp.importance
    vals, probs, const, first, rows, pairs, nnz = _nested_structure(sp)
    J = len(vals)
    idx = [(i, j) for i in range(n) for j in range(int(first[i]), J)]
    dom_nnz = 2 * sum(J - int(first[b]) for _a, b in pairs)
    _check(deadline, nnz)
    m = pyo.ConcreteModel()
    m.x = pyo.Var(idx, within=pyo.Binary)
    members = [[] for _ in range(J)]
    for i, j in idx:
        members[j].append(i)
    m.cap = pyo.ConstraintList()
    for j in range(J):
        if j & 255 == 0:
            _check(deadline, (nnz - dom_nnz) * (J - j) // max(J, 1) + dom_nnz)
        if rows[j]:  # a row that can bind
            m.cap.add(sum(float(c[i]) * m.x[i, j] for i in members[j]) <= float(vals[j]) + LEVEL_TOL)
    m.nest = pyo.ConstraintList()
    for i, j in idx:
        if j + 1 < J:
            m.nest.add(m.x[i, j] <= m.x[i, j + 1])
    m.dom = pyo.ConstraintList()
    for t, (a, b) in enumerate(pairs):
        if t & 255 == 0:
            _check(deadline, dom_nnz * (len(pairs) - t) // len(pairs))
        for j in range(int(first[b]), J):
            m.dom.add(m.x[a, j] >= m.x[b, j])
    m.obj = pyo.Objective(expr=sum(float(w[i] * probs[j]) * m.x[i, j] for i, j in idx), sense=pyo.maximize)
    if idx:
        status, bound, tc = _solve(m, time_limit, threads, deadline, log, NESTED_HIGHS_OPTIONS)
    else:  # no chunk fits any level that matters: every order scores the constant
        status, bound, tc = Status.OPTIMAL, 0.0, "optimal"
    info = {"termination": tc, "levels": J}
    if bound is not None:
        bound += const
    if not status.has_solution:
        return None, None, status, bound, info
    x = {(i, j): pyo.value(m.x[i, j]) > 0.5 for i, j in idx}
    info["model_objective"] = const + float(sum(w[i] * probs[j] for (i, j), on in x.items() if on))
    level = [min((j for j in range(int(first[i]), J) if x[i, j]), default=J) for i in range(n)]
    order = decode_order(c, w, level)
    return {"order": order}, sp.value(order), status, bound, info


def decode_order(c, w, level):
    """The order of a feasible ``x`` of the nested-knapsack model: chunks by ``level[i]``, the
    first level where ``x[i, j] = 1`` (``J`` if none), ties by the ratio rule ``w / c``
    descending, then index. Its value is at least the model's (module docstring, part (b))."""
    return sorted(range(len(c)), key=lambda i: (level[i], -w[i] / c[i], i))


def _ordering_linear(pyo, sp, time_limit, threads, deadline=None, log=False):
    """The linear-ordering model of the module docstring (``formulation="linear-ordering"``)."""
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
