"""PicSys MILP in PuLP with CBC (method ``pulp``; model: :mod:`formulations.picsys.milp`).

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

from . import milp
from .common import finalize, infeasible_solution, no_unknown_options, prepare, safe_bound


def to_pulp(lm: milp.LinModel, deadline: float | None = None):
    """A PuLP problem of ``lm`` and its variables by column (BuildTimeout past ``deadline``)."""
    import time

    import pulp

    prob = pulp.LpProblem("picsys", pulp.LpMinimize)
    cols = [None] * lm.n_vars
    for group, idxs in lm.groups.items():
        for idx in idxs:
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
               dominance=True, log=False, cbc_options=None, **options):
    """Method ``pulp``: the MILP solved by CBC through PuLP.

    Options: ``objective``, ``warm``, ``cuts``, ``dominance``, ``log``, ``cbc_options`` (list
    of extra CBC command-line options such as ``["cuts off"]``).
    """
    import pulp

    no_unknown_options("pulp", options)
    prep = prepare(inst, objective=objective, time_limit=time_limit, warm=warm, cuts=cuts,
                   dominance=dominance)
    if prep.infeasible:
        return infeasible_solution(prep, "pulp")
    try:
        lm = milp.build(prep)
        prob, cols = to_pulp(lm, prep.deadline)
    except milp.BuildTimeout:
        return finalize(prep, "pulp", native="build-timeout", proven=False, plan=None, bound=None,
                        info={"backend": "pulp/cbc", "note": "time limit reached while building the model"})
    info = {"backend": "pulp/cbc", "variables": lm.n_vars, "constraints": lm.n_cons}
    if prep.warm_plan is not None:
        for j, v in milp.warm_values(lm, prep, prep.warm_plan).items():
            cols[j].setInitialValue(v)
    fd, logpath = tempfile.mkstemp(suffix=".log", prefix="picsys-cbc-")
    os.close(fd)
    try:
        opts = [f"randomCbcSeed {int(seed) + 1}", "integerTolerance 1e-9"] + list(cbc_options or [])
        rem = prep.remaining()
        cmd = pulp.COIN_CMD(path=cbc_binary(), msg=bool(log), timeLimit=rem, gapRel=1e-9, gapAbs=1e-9,
                            threads=int(threads or 1), warmStart=prep.warm_plan is not None, options=opts,
                            logPath=logpath)
        prob.solve(cmd)
        with open(logpath, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
    finally:
        os.unlink(logpath)
    status, sol_status = prob.status, prob.sol_status
    native = f"{pulp.LpStatus.get(status, status)}/{pulp.LpSolution.get(sol_status, sol_status)}"
    plan = None
    if sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        vals = [c.varValue for c in cols]
        if all(v is not None for j, v in enumerate(vals) if lm.kind[j] == "B"):
            plan = milp.decode(lm, vals)
    proven = sol_status == pulp.LpSolutionOptimal and "Stopped on" not in text
    bound = safe_bound(cbc_bound(text))
    return finalize(prep, "pulp", native=native, proven=proven, plan=plan, bound=bound, info=info)
