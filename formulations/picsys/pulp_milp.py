"""PicSys MILP in PuLP with CBC (method ``pulp``; model: :mod:`optoffload.formulations.picsys.milp`).

The same MILP as the ``pyomo`` method, handed to the CBC binary that PuLP
ships, so that two independent MILP solvers (HiGHS, CBC) and CP-SAT
cross-check one another. PuLP does not report CBC's best bound, so it is read
from CBC's log (``Lower bound:`` after a limit, ``Objective value:`` when
optimal), lowered by the same safety margin as the ``pyomo`` method, and
raised to the presolve lower bound when that is larger.
"""

from __future__ import annotations

import os
import re
import tempfile
import time

from . import milp
from .common import finalize, infeasible_solution, no_unknown_options, prepare, presolved, safe_bound


def to_pulp(lm: milp.LinModel, deadline: float | None = None):
    """A PuLP problem of ``lm`` and its variables by column (BuildTimeout past ``deadline``)."""
    import time

    import pulp

    prob = pulp.LpProblem("picsys", pulp.LpMinimize)
    cols = [None] * lm.n_vars
    for group, idxs in lm.groups.items():
        for n, idx in enumerate(idxs):
            if deadline is not None and n % 1024 == 0 and time.perf_counter() > deadline:
                raise milp.BuildTimeout
            j = lm.var_id[(group, idx)]
            name = group + ("_" + "_".join(str(x) for x in idx) if idx else "")
            cat = pulp.LpBinary if lm.kind[j] == "B" else pulp.LpContinuous
            lo, hi = (None, None) if cat == pulp.LpBinary else (lm.lb[j], lm.ub[j])
            cols[j] = prob.add_variable(name, lowBound=lo, upBound=hi, cat=cat)
    prob += cols[lm.objective]
    for group, rows in lm.cons.items():
        for n, (coefs, sense, rhs) in enumerate(rows):
            if deadline is not None and n % 256 == 0 and time.perf_counter() > deadline:
                raise milp.BuildTimeout
            expr = pulp.LpAffineExpression([(cols[j], c) for j, c in coefs.items()])
            if sense == "<=":
                prob += (expr <= rhs, f"{group}_{n}")
            elif sense == ">=":
                prob += (expr >= rhs, f"{group}_{n}")
            else:
                prob += (expr == rhs, f"{group}_{n}")
    return prob, cols


STAGES = ("to-pulp", "mps-write", "cbc-read")
"""Stages between :func:`milp.build` and CBC's search (keys of :data:`~optoffload.formulations.picsys.milp.SEC_PER_NZ`)."""


def _deadline_cbc(prep, read_cost: float, **kw):
    """A ``pulp.COIN_CMD`` whose time limit is read when the command line is built (after PuLP wrote the MPS file).

    PuLP writes the model and then reads ``timeLimit``; making it a property
    evaluated at that moment passes CBC the seconds really left, minus the
    estimated time CBC needs to read the file.
    """
    import pulp

    class DeadlineCBC(pulp.COIN_CMD):
        @property
        def timeLimit(self):
            if prep.deadline is None:
                return None
            left = prep.remaining(0.0) - read_cost
            if left < milp.MIN_SOLVE:
                # never launch CBC without time to search: with a few ms left it crashed (issue #14, item 4)
                raise milp.NoTimeToLaunch(f"{max(left, 0.0):.3f} s left for CBC after reading the model")
            return round(left, 3)

        @timeLimit.setter
        def timeLimit(self, value):
            pass  # the deadline decides

        def solve_CBC(self, lp, use_mps=True):
            """CBC's ``-sec`` is not checked inside its root cut loop (testbed, 5 s limit: 12.7 s
            measured), so the process is also held to the deadline from outside: at the deadline
            plus ``CBC_GRACE`` it gets SIGINT (CBC then stops and writes its incumbent, as on
            Ctrl-C), and is killed half a second later if it is still running."""
            if prep.deadline is None:
                return super().solve_CBC(lp, use_mps)
            import signal
            import subprocess as real

            from pulp.apis import coin_api as ca

            class _Shim:
                def __getattr__(self, name):
                    return getattr(real, name)

                @staticmethod
                def Popen(*args, **kwargs):
                    proc = real.Popen(*args, **kwargs)
                    wait0 = proc.wait

                    def wait(timeout=None):
                        left = prep.deadline + prep.reserve + CBC_GRACE - time.perf_counter()
                        try:
                            return wait0(timeout=max(left, 0.01))
                        except real.TimeoutExpired:
                            prep.info["cbc_interrupted"] = "CBC overran the time limit: stopped by SIGINT"
                            proc.send_signal(signal.SIGINT)
                            try:
                                return wait0(timeout=0.5)
                            except real.TimeoutExpired:
                                prep.info["cbc_interrupted"] = "CBC overran the time limit: killed"
                                proc.kill()
                                return wait0()

                    proc.wait = wait
                    return proc

            saved = ca.subprocess
            ca.subprocess = _Shim()
            try:
                return super().solve_CBC(lp, use_mps)
            finally:
                ca.subprocess = saved

    return DeadlineCBC(**kw)


CBC_GRACE = 0.1
"""Seconds past the deadline (and the finalize reserve) before CBC is interrupted from outside."""


def cbc_binary() -> str:
    """The CBC binary shipped with PuLP (also used by ``pyomo`` with ``solver="cbc"``)."""
    from pulp.apis import coin_api

    return coin_api.pulp_cbc_path


_FLOAT = r"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"


def cbc_bound(log: str) -> float | None:
    """CBC's final best bound from its log, or None."""
    m = re.search(r"^Lower bound:\s*" + _FLOAT, log, re.M)
    if m:
        return float(m.group(1))
    if re.search(r"^Result - Optimal solution found", log, re.M):
        m = re.search(r"^Objective value:\s*" + _FLOAT, log, re.M)
        if m:
            return float(m.group(1))
    return None


def solve_pulp(inst, *, time_limit=None, seed=0, threads=None, objective="makespan", warm=True, cuts=True,
               dominance=True, log=False, cbc_options=None, memory_mb=None, **options):
    """Method ``pulp``: the MILP solved by CBC through PuLP.

    Options: ``objective``, ``warm``, ``cuts``, ``dominance``, ``log``, ``cbc_options`` (list
    of extra CBC command-line options such as ``["cuts off"]``), ``memory_mb`` (model memory
    budget, as for ``pyomo``: 600 MB under a time limit by default, 0 for none).

    Time limit: building, writing and reading the model are charged against it
    (:class:`~optoffload.formulations.picsys.milp.Clock`); CBC gets the seconds left when it
    starts. A model not expected to load in time is skipped (``native_status``
    ``load-skipped``): the warm start is returned with the presolve bound.
    """
    no_unknown_options("pulp", options)
    prep = prepare(inst, objective=objective, time_limit=time_limit, warm=warm, cuts=cuts,
                   dominance=dominance)
    if prep.infeasible:
        return infeasible_solution(prep, "pulp")
    if (done := presolved(prep, "pulp", "pulp/cbc", log=bool(log))) is not None:
        return done
    with milp.no_gc():
        return _build_and_solve(prep, seed=seed, threads=threads, log=log, cbc_options=cbc_options,
                                memory=milp.memory_budget(prep, memory_mb))


def _build_and_solve(prep, *, seed, threads, log, cbc_options, memory=None):
    import time

    import pulp

    info = {"backend": "pulp/cbc"}
    clock = milp.Clock(prep, memory)
    low = milp.nonzeros_lower(prep)
    if not clock.fits(low, ("build",) + STAGES, "before build"):
        return _skip(prep, info, clock, low, "before build")
    est_nnz = milp.estimate_size(prep)[2]
    if not clock.fits(est_nnz, ("build",) + STAGES, "before build"):
        return _skip(prep, info, clock, est_nnz, "before build")
    try:
        t = time.perf_counter()
        lm = milp.build(prep)
        nnz = milp.nonzeros(lm)
        clock.calibrate(time.perf_counter() - t, nnz)
        info.update(variables=lm.n_vars, constraints=lm.n_cons, nonzeros=nnz)
        if not clock.fits(nnz, STAGES, "after build"):
            return _skip(prep, info, clock, nnz, "after build")
        prob, cols = to_pulp(lm, prep.deadline)
    except milp.BuildTimeout:
        return finalize(prep, "pulp", native="build-timeout", proven=False, plan=None, bound=None,
                        info={**info, "note": "time limit reached while building the model"})
    if not clock.fits(nnz, STAGES[1:], "before load"):
        return _skip(prep, info, clock, nnz, "before load")
    if prep.warm_plan is not None:
        for j, v in milp.warm_values(lm, prep, prep.warm_plan).items():
            cols[j].setInitialValue(v)
    fd, logpath = tempfile.mkstemp(suffix=".log", prefix="picsys-cbc-")
    os.close(fd)
    text = ""
    try:
        opts = [f"randomCbcSeed {int(seed) + 1}", "integerTolerance 1e-9"] + list(cbc_options or [])
        cmd = _deadline_cbc(prep, clock.cost(nnz, ("cbc-read",)), path=cbc_binary(), msg=False, gapRel=1e-9,
                            gapAbs=1e-9, threads=int(threads or 1), warmStart=prep.warm_plan is not None,
                            options=opts, logPath=logpath)
        try:
            prob.solve(cmd)
        except milp.NoTimeToLaunch as exc:
            return finalize(prep, "pulp", native="launch-skipped", proven=False, plan=None, bound=None,
                            info={**info, "note": f"CBC not started: {exc}"})
        except (pulp.PulpSolverError, OSError) as exc:
            # CBC crashed or left no solution file: the warm start (if any) with the presolve bound
            return finalize(prep, "pulp", native="solver-error", proven=False, plan=None, bound=None,
                            info={**info, "warning": f"CBC failed ({type(exc).__name__}: {str(exc)[:200]}); "
                                                     "returned the warm start"})
        try:
            with open(logpath, encoding="utf-8", errors="replace") as fh:
                text = fh.read()
        except OSError as exc:  # a finished solve is not an error over its log (issue #14, item 11)
            info["warning"] = f"CBC log unreadable ({type(exc).__name__}); CBC's bound not read"
        if log and text:  # CBC writes its log to logPath (PuLP ignores msg then): show it once the solve ends
            import sys

            sys.stderr.write(text)
            sys.stderr.flush()
    finally:
        try:
            os.unlink(logpath)
        except OSError:
            pass
    status, sol_status = prob.status, prob.sol_status
    native = f"{pulp.LpStatus.get(status, status)}/{pulp.LpSolution.get(sol_status, sol_status)}"
    plan = None
    if sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        vals = [c.varValue for c in cols]
        if all(v is not None for j, v in enumerate(vals) if lm.kind[j] == "B"):
            plan = milp.decode(lm, vals)
    proven = sol_status == pulp.LpSolutionOptimal and "Stopped on" not in text and bool(text)
    bound = safe_bound(cbc_bound(text))
    if clock.estimates:
        info["load_estimates_s"] = {k: round(v, 4) for k, v in clock.estimates.items()}
    return finalize(prep, "pulp", native=native, proven=proven, plan=plan, bound=bound, info=info)


def _skip(prep, info, clock, nnz, when):
    return milp.load_skipped(prep, "pulp", info, clock, nnz, when)
