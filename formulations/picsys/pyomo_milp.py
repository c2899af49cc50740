"""PicSys MILP in Pyomo (method ``pyomo``; model: :mod:`optoffload.formulations.picsys.milp`).

Default solver: HiGHS through Pyomo's ``appsi_highs`` interface. Any other
Pyomo solver name works (``solver="cbc"``, ``"glpk"``, ``"gurobi"``, ...);
``solver="cbc"`` without ``executable=`` uses the CBC binary shipped with PuLP.
``write="model.lp"`` (or ``.mps``) exports the model for users with other
solvers (symbolic names: ``y[m,i,k]``, ``E[m,i]``, ``W[m,i]``, ``s[m,i]``,
``b[m,i,m2,i2]``, ``T``).

Tolerances are tightened (relative gap 1e-9, integrality 1e-9 where the
solver takes it) because big-M rows turn an integrality slack into a time
error of ``H * tol``. The decoded plan is replayed in the simulator; the
reported bound is the solver's dual bound lowered by a safety margin
(:data:`~optoffload.formulations.picsys.common.BOUND_SAFETY`) for those tolerances, and raised to the presolve lower
bound (exact arithmetic) when that is larger.
"""

from __future__ import annotations

from pathlib import Path

from optoffload.errors import InvalidInstance

from . import milp
from .common import finalize, infeasible_solution, no_unknown_options, prepare, presolved, safe_bound

TIME_OPTION = {"cbc": "sec", "glpk": "tmlim", "gurobi": "TimeLimit", "cplex": "timelimit", "scip": "limits/time",
               "highs": "time_limit", "xpress": "maxtime"}
THREAD_OPTION = {"cbc": "threads", "gurobi": "Threads", "cplex": "threads", "highs": "threads",
                 "scip": "parallel/maxnthreads"}
SEED_OPTION = {"cbc": "randomCbcSeed", "gurobi": "Seed", "cplex": "randomseed", "highs": "random_seed",
               "scip": "randomization/randomseedshift"}
GAP_OPTION = {"cbc": "ratioGap", "gurobi": "MIPGap", "cplex": "mipgap", "highs": "mip_rel_gap", "glpk": "mipgap",
              "scip": "limits/gap"}


def to_pyomo(lm: milp.LinModel, deadline: float | None = None):
    """A Pyomo ConcreteModel of ``lm`` and the list of its variables by column.

    Raises :class:`~optoffload.formulations.picsys.milp.BuildTimeout` past ``deadline``
    (a ``time.perf_counter()`` value).
    """
    import time

    import pyomo.environ as pyo

    model = pyo.ConcreteModel(name="picsys")
    cols = [None] * lm.n_vars
    for group, idxs in lm.groups.items():
        if group == "T":
            j = lm.var_id[("T", ())]
            model.T = pyo.Var(bounds=(lm.lb[j], lm.ub[j]), within=pyo.Reals)
            cols[j] = model.T
            continue
        binary = lm.kind[lm.var_id[(group, idxs[0])]] == "B"

        def bounds(_m, *idx, group=group):
            j = lm.var_id[(group, tuple(idx))]
            return lm.lb[j], lm.ub[j]

        v = pyo.Var(idxs, within=pyo.Binary if binary else pyo.Reals, bounds=bounds, dense=True)
        setattr(model, group, v)
        for idx in idxs:
            cols[lm.var_id[(group, idx)]] = v[idx]
    for group, rows in lm.cons.items():
        cl = pyo.ConstraintList()
        setattr(model, "c_" + group, cl)
        for n, (coefs, sense, rhs) in enumerate(rows):
            if deadline is not None and n % 256 == 0 and time.perf_counter() > deadline:
                raise milp.BuildTimeout
            expr = sum(coef * cols[j] for j, coef in coefs.items())
            if sense == "<=":
                cl.add(expr <= rhs)
            elif sense == ">=":
                cl.add(expr >= rhs)
            else:
                cl.add(expr == rhs)
    model.obj = pyo.Objective(expr=cols[lm.objective], sense=pyo.minimize)
    return model, cols


def _cbc_path() -> str:
    from .pulp_milp import cbc_binary

    return cbc_binary()


STAGES = {
    "highspy": ("arrays", "highs-pass", "highs-presolve"),
    "appsi": ("to-pyomo", "appsi-load", "highs-presolve"),
    "file": ("to-pyomo", "lp-write", "cbc-read"),
}
"""Stages (keys of :data:`~optoffload.formulations.picsys.milp.SEC_PER_NZ`) between :func:`milp.build` and the search."""


def solve_pyomo(inst, *, time_limit=None, seed=0, threads=None, objective="makespan", solver="appsi_highs",
                executable=None, write=None, solver_options=None, warm=True, cuts=True, dominance=True, log=False,
                direct=True, memory_mb=None, **options):
    """Method ``pyomo`` (see the module docstring).

    Options: ``objective``, ``solver`` (a Pyomo solver name; default
    ``appsi_highs``), ``executable`` (path of the solver binary), ``write``
    (export to ``.lp``/``.mps``), ``solver_options`` (dict passed to the
    solver, applied last), ``warm``, ``cuts``, ``dominance``, ``log``,
    ``direct`` (with ``appsi_highs``: load the model into HiGHS through
    highspy's matrix API, 15-20x faster than through Pyomo expressions, same
    solver and options; False goes through Pyomo's ``appsi_highs``).

    ``memory_mb``: memory budget of the model (default 600 MB under a time limit, none
    without; 0: none), see :func:`~optoffload.formulations.picsys.milp.memory_budget`; a model
    over it is not built (``native_status`` ``memory-skipped``, the warm start is returned).

    Time limit: building and loading the model are charged against it (see
    :class:`~optoffload.formulations.picsys.milp.Clock`). When the model is not expected to
    be loaded in time, it is not built or not loaded, and the warm start is
    returned (``native_status`` ``load-skipped``) with the presolve bound.
    """
    no_unknown_options("pyomo", options)
    if write is not None and Path(str(write)).suffix.lower() not in (".lp", ".mps"):
        raise InvalidInstance("write", f"must end in .lp or .mps, got {write!r}")
    prep = prepare(inst, objective=objective, time_limit=time_limit, warm=warm, cuts=cuts,
                   dominance=dominance)
    if prep.infeasible:
        return infeasible_solution(prep, "pyomo")
    # a solver, executable, options or model file the user asked for is checked and used: no shortcut then
    plain = write is None and solver == "appsi_highs" and executable is None and not solver_options
    if plain and (done := presolved(prep, "pyomo", "pyomo", log=bool(log))) is not None:
        return done
    with milp.no_gc():
        return _build_and_solve(prep, seed=seed, threads=threads, solver=solver, executable=executable, write=write,
                                solver_options=solver_options, log=log, direct=direct,
                                memory=milp.memory_budget(prep, memory_mb))


def _build_and_solve(prep, *, seed, threads, solver, executable, write, solver_options, log, direct, memory=None):
    import time

    direct = bool(direct) and solver == "appsi_highs"
    path = "highspy" if direct else ("appsi" if solver == "appsi_highs" else "file")
    info = {"backend": f"pyomo/{solver}" + ("/highspy" if direct else "")}
    clock = milp.Clock(prep, memory)
    stages = STAGES[path] + (("to-pyomo", "lp-write") if write is not None and direct else ())
    low = milp.nonzeros_lower(prep)
    if not clock.fits(low, ("build",) + stages, "before build"):
        return _skip(prep, info, clock, low, "before build")
    est_nnz = milp.estimate_size(prep)[2]
    if not clock.fits(est_nnz, ("build",) + stages, "before build"):
        return _skip(prep, info, clock, est_nnz, "before build")
    model = cols = arrays = None
    try:
        t = time.perf_counter()
        lm = milp.build(prep)
        nnz = milp.nonzeros(lm)
        clock.calibrate(time.perf_counter() - t, nnz)
        info.update(variables=lm.n_vars, constraints=lm.n_cons, nonzeros=nnz)
        if not clock.fits(nnz, stages, "after build"):
            return _skip(prep, info, clock, nnz, "after build")
        if not direct or write is not None:
            model, cols = to_pyomo(lm, prep.deadline)
        if direct:
            arrays = milp.to_arrays(lm, prep.deadline)
    except milp.BuildTimeout:
        return finalize(prep, "pyomo", native="build-timeout", proven=False, plan=None, bound=None,
                        info={**info, "note": "time limit reached while building the model"})
    if write is not None:
        try:
            model.write(str(write), io_options={"symbolic_solver_labels": True})
        except OSError as exc:
            raise InvalidInstance("write", f"cannot write {str(write)!r}: {exc.strerror or exc}") from None
        info["written"] = str(write)
    warm_vals = milp.warm_values(lm, prep, prep.warm_plan) if prep.warm_plan is not None else None
    if cols is not None and warm_vals is not None:
        for j, v in warm_vals.items():
            cols[j].set_value(v, skip_validation=True)
    load = {"highspy": ("highs-pass", "highs-presolve"), "appsi": ("appsi-load", "highs-presolve"),
            "file": ("lp-write", "cbc-read")}[path]
    if not clock.fits(nnz, load, "before load"):
        return _skip(prep, info, clock, nnz, "before load")
    if direct:
        native, proven, plan, bound = _solve_highspy(lm, arrays, warm_vals, prep, seed, threads, log, solver_options)
    elif solver == "appsi_highs":
        native, proven, plan, bound = _solve_appsi_highs(lm, model, cols, prep, seed, threads, log, solver_options)
    else:
        native, proven, plan, bound = _solve_legacy(lm, model, cols, prep, solver, executable, seed, threads, log,
                                                    solver_options, clock, nnz)
    if clock.estimates:
        info["load_estimates_s"] = {k: round(v, 4) for k, v in clock.estimates.items()}
    return finalize(prep, "pyomo", native=native, proven=proven, plan=plan, bound=bound, info=info)


def _skip(prep, info, clock, nnz, when):
    return milp.load_skipped(prep, "pyomo", info, clock, nnz, when)


HIGHS_STATUS = {"kOptimal": "optimal", "kInfeasible": "infeasible", "kUnboundedOrInfeasible": "infeasibleOrUnbounded",
                "kUnbounded": "unbounded", "kTimeLimit": "maxTimeLimit", "kIterationLimit": "maxIterations",
                "kObjectiveBound": "objectiveLimit", "kObjectiveTarget": "objectiveLimit",
                "kSolutionLimit": "maxIterations", "kInterrupt": "interrupted", "kHighsInterrupt": "interrupted"}
"""HiGHS model status -> the name appsi's TerminationCondition gives it (so ``native_status`` is the same)."""


HIGHS_ERRORS = ("kNotset", "kLoadError", "kModelError", "kPresolveError", "kSolveError", "kPostsolveError",
                "kUnknown")
"""HiGHS model statuses that mean the run failed (not a limit, not a proof)."""

RETRIES = ({"warm": False}, {"warm": False, "presolve": "off"})
"""The successive HiGHS re-runs after an error status (see :func:`_solve_highspy`): without the
MIP start, then also without presolve. On the busy-cloud instances of issue #14 (item 11),
HiGHS returned ``kSolveError`` with the warm start and proved the optimum without it."""


def _run_highs(lm, arrays, warm_vals, prep, seed, threads, log, solver_options, extra=None):
    """One HiGHS run on a fresh ``Highs`` object: (highs, model status name)."""
    import highspy
    import numpy as np

    h = highspy.Highs()
    h.setOptionValue("output_flag", bool(log))
    lo, hi, start, index, value = arrays
    cost = np.zeros(lm.n_vars)
    cost[lm.objective] = 1.0
    integ = np.fromiter((k == "B" for k in lm.kind), dtype=np.int32, count=lm.n_vars)
    h.passModel(lm.n_vars, len(lo), len(value), int(highspy.MatrixFormat.kRowwise),
                int(highspy.ObjSense.kMinimize), 0.0, cost, np.asarray(lm.lb, dtype=np.float64),
                np.asarray(lm.ub, dtype=np.float64), lo, hi, start.astype(np.int32), index, value, integ)
    rem = prep.remaining(0.01)
    if rem is not None:
        h.setOptionValue("time_limit", float(rem))
    h.setOptionValue("mip_rel_gap", 1e-9)
    hopts = {"random_seed": int(seed), "mip_abs_gap": 1e-9, "mip_feasibility_tolerance": 1e-9,
             "threads": int(threads) if threads else 1}
    hopts.update(solver_options or {})
    hopts.update(extra or {})
    for k, v in hopts.items():
        h.setOptionValue(k, v)
    if warm_vals is not None:
        sol = highspy.HighsSolution()
        col = np.zeros(lm.n_vars)
        for j, v in warm_vals.items():
            col[j] = v
        sol.col_value = col
        sol.value_valid = True
        sol.dual_valid = False
        h.setSolution(sol)
    h.HandleKeyboardInterrupt = True
    h.run()
    return h, h.getModelStatus().name


def _solve_highspy(lm, arrays, warm_vals, prep, seed, threads, log, solver_options):
    """Load ``lm`` into HiGHS with highspy's matrix API and solve (the options of :func:`_solve_appsi_highs`).

    An error status (:data:`HIGHS_ERRORS`) is retried in the time left (:data:`RETRIES`); the
    retries and the final status are in ``info["solver_retries"]`` and ``info["warning"]``, and
    without a solver plan the warm start is returned (FEASIBLE) as before.
    """
    h, name = _run_highs(lm, arrays, warm_vals, prep, seed, threads, log, solver_options)
    retries = []
    for change in RETRIES:
        if name not in HIGHS_ERRORS:
            break
        rem = prep.remaining(0.0)
        if rem is not None and rem < 2 * milp.MIN_SOLVE:
            retries.append({"after": name, "retry": "none: no time left"})
            break
        extra = {k: v for k, v in change.items() if k != "warm"}
        retries.append({"after": name, "retry": dict(change)})
        h, name = _run_highs(lm, arrays, None if change.get("warm") is False else warm_vals, prep, seed, threads,
                             log, solver_options, extra)
    if retries:
        prep.info["solver_retries"] = retries + [{"final": name}]
        prep.info["warning"] = (f"HiGHS ended with {retries[0]['after']}; retried "
                                f"{sum(isinstance(r['retry'], dict) for r in retries)} time(s), final status {name}")
    native = HIGHS_STATUS.get(name, name)
    if name in HIGHS_ERRORS:  # neither the plan nor the bound of a failed run is trusted
        return native, False, None, None
    sol = h.getSolution()
    feasible = native == "optimal" or (native in ("maxTimeLimit", "maxIterations", "objectiveLimit")
                                       and sol.value_valid)
    plan = milp.decode(lm, list(sol.col_value)) if feasible else None
    if native in ("infeasible", "infeasibleOrUnbounded"):
        # T <= H is satisfied by the warm plan, so this means a tolerance failure; keep the warm plan.
        return native, False, None, None
    hinfo = h.getInfo()
    if hinfo.mip_node_count == -1:
        raw = hinfo.objective_function_value if feasible else None
    else:
        raw = hinfo.mip_dual_bound
    return native, native == "optimal", plan, safe_bound(raw)


def _solve_appsi_highs(lm, model, cols, prep, seed, threads, log, solver_options):
    from pyomo.contrib.appsi.base import TerminationCondition as TC
    from pyomo.contrib.appsi.solvers.highs import Highs

    opt = Highs()
    if not opt.available():
        raise RuntimeError("pyomo: HiGHS (highspy) is not available; pass solver='cbc' or install highspy")
    opt.config.load_solution = False
    opt.config.stream_solver = bool(log)
    opt.config.warmstart = prep.warm_plan is not None
    opt.set_instance(model)  # the load (not interruptible) is charged against the limit: measured before it
    rem = prep.remaining(0.01)
    if rem is not None:
        opt.config.time_limit = rem
    opt.config.mip_gap = 1e-9
    hopts = {"random_seed": int(seed), "mip_abs_gap": 1e-9, "mip_feasibility_tolerance": 1e-9,
             "threads": int(threads) if threads else 1}
    hopts.update(solver_options or {})
    opt.highs_options = hopts
    res = opt.solve(model)
    tc = res.termination_condition
    plan = None
    if res.best_feasible_objective is not None:
        res.solution_loader.load_vars()
        plan = milp.decode(lm, [c.value for c in cols])
    native = tc.name
    if tc == TC.error:
        prep.info["warning"] = "HiGHS (appsi) ended with an error; returned the warm start"
        return native, False, None, None
    if tc in (TC.infeasible, TC.infeasibleOrUnbounded):
        # T <= H is satisfied by the warm plan, so this means a tolerance failure; keep the warm plan.
        return native, False, None, None
    bound = safe_bound(res.best_objective_bound)
    return native, tc == TC.optimal, plan, bound


def _limit_at_launch(opt, key, prep, read_cost):
    """Set the time-limit option when the solver's command line is built, after Pyomo wrote the model file.

    Pyomo shell solvers (CBC, GLPK, ...) write the problem file inside ``solve``
    and then build the command line from ``opt.options``; wrapping that step on
    this instance passes the seconds really left, minus the estimated time the
    solver needs to read the file.
    """
    orig = opt.create_command_line

    def create_command_line(executable, problem_files):
        left = prep.remaining(0.0) - read_cost
        if left < milp.MIN_SOLVE:
            raise milp.NoTimeToLaunch(f"{max(left, 0.0):.3f} s left for the solver after reading the model")
        opt.options[key] = left
        return orig(executable, problem_files)

    opt.create_command_line = create_command_line


def _solve_legacy(lm, model, cols, prep, solver, executable, seed, threads, log, solver_options, clock=None,
                  nnz=0):
    import pyomo.environ as pyo
    from pyomo.opt import SolutionStatus, TerminationCondition as TC

    base = solver.split("_")[-1] if solver.startswith("appsi_") else solver
    if solver == "cbc" and executable is None:
        executable = _cbc_path()
    kw = {"executable": executable} if executable else {}
    import logging

    pyo_log = logging.getLogger("pyomo")
    level = pyo_log.level
    pyo_log.setLevel(logging.CRITICAL)  # an unknown name makes Pyomo log a traceback; we raise one line
    try:
        opt = pyo.SolverFactory(solver, **kw)
        ok = opt is not None and opt.available(exception_flag=False)
    except Exception:  # noqa: BLE001 - any failure to build the solver means "not available"
        ok = False
    finally:
        pyo_log.setLevel(level)
    if not ok:
        raise InvalidInstance("solver", f"Pyomo solver {solver!r} is not available on this machine")
    rem = prep.remaining(0.01)
    if rem is not None and base in TIME_OPTION:
        opt.options[TIME_OPTION[base]] = rem
        if hasattr(opt, "create_command_line"):
            _limit_at_launch(opt, TIME_OPTION[base], prep, 0.0 if clock is None else clock.cost(nnz, ("cbc-read",)))
        if base == "cbc":
            opt.options["timeMode"] = "elapsed"
    if base in THREAD_OPTION:
        opt.options[THREAD_OPTION[base]] = int(threads) if threads else 1
    if base in SEED_OPTION:
        opt.options[SEED_OPTION[base]] = int(seed)
    if base in GAP_OPTION:
        opt.options[GAP_OPTION[base]] = 1e-9
    if base == "cbc":
        opt.options["allowableGap"] = 1e-9
        opt.options["integerTolerance"] = 1e-9
    for k, v in (solver_options or {}).items():
        opt.options[k] = v
    solve_kw = {"load_solutions": False, "tee": bool(log)}
    try:
        try:
            res = opt.solve(model, warmstart=prep.warm_plan is not None and opt.warm_start_capable(), **solve_kw)
        except (TypeError, AttributeError):
            res = opt.solve(model, **solve_kw)
    except milp.NoTimeToLaunch as exc:
        prep.info["note"] = f"solver not started: {exc}"
        return "launch-skipped", False, None, None
    except Exception as exc:  # noqa: BLE001 - a crashed solver process: the warm start, with a warning
        prep.info["warning"] = f"{solver} failed ({type(exc).__name__}: {str(exc)[:200]}); returned the warm start"
        return "solver-error", False, None, None
    tc = res.solver.termination_condition
    plan = None
    if len(res.solution) > 0 and res.solution(0).status in (SolutionStatus.optimal, SolutionStatus.feasible,
                                                             SolutionStatus.stoppedByLimit, SolutionStatus.other):
        model.solutions.load_from(res)
        vals = [c.value for c in cols]
        if all(v is not None for j, v in enumerate(vals) if lm.kind[j] == "B"):
            plan = milp.decode(lm, vals)
    bound = None
    lb = getattr(res.problem, "lower_bound", None)
    try:
        bound = safe_bound(float(lb)) if lb is not None else None
    except (TypeError, ValueError):
        bound = None
    return str(tc), tc == TC.optimal, plan, bound
