"""PicSys formal models as objects (``oo.build_model(inst, layer=...)``; docs/models.md).

The MILP is :func:`optoffload.formulations.picsys.milp.build` (one backend-neutral ``LinModel``
for Pyomo and PuLP), the CP-SAT model is :class:`~.cpsat.CpsatModel`. This module only gives
their components readable names when exported, through the maps below, without touching the
builders (other engineers edit them): variable groups by :data:`VAR_NAMES`, constraint rows
indexed by what they constrain (:func:`row_index`), CP-SAT variables by :data:`CPSAT_NAMES`.

Clean model (the default here): ``warm=False`` (big-M horizon H = sum of all durations instead
of the warm-start makespan), ``cuts=False`` (no ``T >= presolve bound``), ``dominance=False``
(``f-off`` kept). Each option, set True, changes the model as the solve methods do; the optimum
is the same (milp.py, common.py).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from optoffload.errors import InvalidInstance
from optoffload.models import check_suffix, normalize_values, write_guard
from optoffload.picsys.model import plan_to_decisions
from optoffload.solution import Solution
from optoffload.status import Status

from . import milp
from .common import OBJECTIVES, prepare, safe_bound

VAR_NAMES = {"y": "outcome", "E": "cpu_end", "W": "uplink_end", "s": "cloud_start", "V": "last_cloud_start",
             "b": "cloud_order", "g": "cloud_server", "T": "makespan"}
"""LinModel group -> exported name (docs/models.md has the meaning and equation of each)."""
CON_NAMES = {"cloud_last_start": "last_cloud_start_def"}
"""Constraint groups exported under another name (the LinModel key would clash with a variable)."""

CON_EQ = {
    "one_outcome": "(2)-(8)", "cpu_chain": "(9)", "uplink_fifo": "(10)", "uplink_after_cpu": "(10)",
    "cloud_after_upload": "(10)", "makespan_cloud": "(1)", "cloud_queue_order": "(10)",
    "cloud_last_start": "(10)", "last_cloud_start_def": "(10)", "makespan_cpu": "(1)", "makespan_uplink": "(1)", "processed": "max-processed",
    "energy_budget": "(15)-(16)", "one_server": "(10)", "cloud_disjunctive": "(10)",
}
"""Constraint group -> the paper equation it implements (eq. (10): the queueing delays, linearised)."""

ANCHOR = {"one_outcome": ("y",), "cpu_chain": ("E",), "uplink_fifo": ("W",), "uplink_after_cpu": ("W",),
          "cloud_after_upload": ("s",), "makespan_cloud": ("s",), "cloud_queue_order": ("s",),
          "cloud_last_start": ("V",), "makespan_cpu": ("E",), "makespan_uplink": ("W",), "processed": ("y",),
          "energy_budget": ("y",), "one_server": ("g",), "cloud_disjunctive": ("s", "s", "g")}
"""Which variables' indices (first occurrences, in row order) index a row of each group; ``y``
and ``g`` contribute (m, i), E/W of the makespan rows and y of the per-device rows only m."""
PER_DEVICE = {"makespan_cpu", "makespan_uplink", "processed", "energy_budget"}

CPSAT_NAMES = {"y": "outcome", "E": "cpu_end", "W": "uplink_end", "u": "uploads", "us": "upload_start",
               "up": "upload", "o": "offloads", "cs": "cloud_start", "cloud": "cloud", "V": "last_cloud_start",
               "T": "makespan"}


def var_name(group: str, idx: tuple) -> str:
    base = VAR_NAMES.get(group, group)
    return f"{base}[{','.join(str(int(x)) for x in idx)}]" if idx else base


def row_index(lm: milp.LinModel, group: str, coefs: dict, inv: list) -> tuple:
    """The readable index of one row (module docstring)."""
    out: list = []
    want = list(ANCHOR.get(group, ()))
    for j in coefs:
        if not want:
            break
        g, idx = inv[j]
        if g == want[0]:
            want.pop(0)
            if g in ("y", "g"):
                idx = idx[:2]
            out.extend(idx)
    if group in PER_DEVICE:
        out = out[:1]
    return tuple(int(x) for x in out)


def readable_rows(lm: milp.LinModel) -> dict[str, list[tuple[tuple, dict, str, float]]]:
    """Per group: (index, coefs, sense, rhs); in a group where an index repeats every row gets a
    trailing counter 1, 2, ... (``cloud_last_start[m,i,1]``: V >= V_prev, ``[m,i,2]``: V >= s)."""
    inv: list = [None] * lm.n_vars
    for key, j in lm.var_id.items():
        inv[j] = key
    out = {}
    for group, rows in lm.cons.items():
        seen: dict = {}
        lst = []
        for coefs, sense, rhs in rows:
            idx = row_index(lm, group, coefs, inv)
            n = seen.get(idx, 0) + 1
            seen[idx] = n
            lst.append((idx, coefs, sense, rhs, n))
        dup = any(n > 1 for *_, n in lst)  # then every row of the group gets the counter (one dimension)
        out[CON_NAMES.get(group, group)] = [((*idx, n) if dup else idx, c, s, r) for idx, c, s, r, n in lst]
    return out


def _options(objective, warm, cuts, dominance, scale, options):
    if options:
        k = next(iter(options))
        raise InvalidInstance(k, "unknown option for the picsys models (known: objective, warm, cuts, dominance, "
                                 "scale)")
    if objective not in OBJECTIVES:
        raise InvalidInstance("objective", f"must be one of {', '.join(OBJECTIVES)}, got {objective!r}")
    for n, v in (("warm", warm), ("cuts", cuts), ("dominance", dominance)):
        if not isinstance(v, bool):
            raise InvalidInstance(n, f"must be true or false, got {v!r}")


def build(inst, layer: str, *, objective: str = "makespan", warm: bool = False, cuts: bool = False,
          dominance: bool = False, scale: int | None = None, **options):
    """The model wrapper of ``layer`` (``oo.build_model``); options as in the module docstring,
    ``scale`` (cpsat only): ticks per second."""
    _options(objective, warm, cuts, dominance, scale, options)
    prep = prepare(inst, objective=objective, time_limit=None, warm=warm, cuts=cuts, dominance=dominance)
    if prep.infeasible:
        raise InvalidInstance("instance", f"infeasible, no model to build: {prep.infeasible}")
    if layer == "cpsat":
        return CpsatLayer(inst, prep, scale)
    with milp.no_gc():
        lm = milp.build(prep)
    return (PyomoLayer if layer == "pyomo" else PulpLayer)(inst, prep, lm)


class _MilpLayer:
    """What the two MILP layers share: names, value checks, decoding."""

    layer = "?"
    family = "picsys"

    def __init__(self, inst, prep, lm):
        self.instance, self.prep, self.lm = inst, prep, lm
        self.names = [None] * lm.n_vars
        for (g, idx), j in lm.var_id.items():
            self.names[j] = var_name(g, idx)
        self.rows = readable_rows(lm)
        self.native = self._native()

    # spellings accepted by values_from: canonical, LP label x(0_1), PuLP x_0_1
    def spellings(self) -> dict[str, str]:
        out = {}
        for n in self.names:
            out[n] = n
            m = re.fullmatch(r"(\w+)\[(.*)\]", n)
            if m:
                out[f"{m.group(1)}({m.group(2).replace(',', '_')})"] = n
                out[f"{m.group(1)}_{m.group(2).replace(',', '_')}"] = n
        return out

    def values_from(self, values) -> dict[str, float]:
        if isinstance(values, list):
            raise InvalidInstance("source", f"a CP-SAT response, but this is the {self.layer} model")
        return normalize_values(values, self.spellings())

    def column_values(self, vals: dict[str, float]) -> list:
        return [vals.get(n) for n in self.names]

    def check(self, vals: dict[str, float], tol: float = 1e-6) -> None:
        """Every row whose variables all have values must hold (tolerance scaled by the big-M H)."""
        x = self.column_values(vals)
        for g, idxs in self.lm.groups.items():
            if g == "y":
                for idx in idxs:
                    j = self.lm.var_id[(g, idx)]
                    if x[j] is None:
                        raise InvalidInstance(f"values.{self.names[j]}", "missing (a solution of another model?)")
        H = max(abs(u) for u in self.lm.ub) if self.lm.ub else 1.0
        for j, v in enumerate(x):
            if v is None:
                continue
            if v < self.lm.lb[j] - tol * max(1, H) or v > self.lm.ub[j] + tol * max(1, H) or (
                    self.lm.kind[j] == "B" and abs(v - round(v)) > tol):
                raise InvalidInstance(f"values.{self.names[j]}", f"{v!r} is outside its domain "
                                                                  f"[{self.lm.lb[j]!r}, {self.lm.ub[j]!r}]")
        for g, rows in self.rows.items():
            for idx, coefs, sense, rhs in rows:
                if any(x[j] is None for j in coefs):
                    continue
                lhs = sum(c * x[j] for j, c in coefs.items())
                t = tol * max(1.0, H, abs(rhs))
                bad = (sense == "<=" and lhs > rhs + t) or (sense == ">=" and lhs < rhs - t) or (
                    sense == "==" and abs(lhs - rhs) > t)
                if bad:
                    name = f"{g}[{','.join(map(str, idx))}]" if idx else g
                    raise InvalidInstance(f"values.{name}", f"violated (eq. {CON_EQ.get(g, '?')}): "
                                                            f"{lhs!r} {sense} {rhs!r}")

    def decode(self, vals: dict[str, float]) -> dict:
        x = [(-1.0 if v is None else v) for v in self.column_values(vals)]
        return plan_to_decisions(milp.decode(self.lm, x), self.prep.mode)

    def variables(self) -> list[str]:
        return list(self.names)

    def _solution(self, vals, native, proven, bound, runtime) -> Solution:
        from optoffload.api import verify
        from optoffload.picsys.simulator import evaluate

        dec = self.decode(vals)
        obj = float(evaluate(self.instance, dec))
        b = None if bound is None else min(safe_bound(bound), obj)
        closed = proven and b is not None and obj - b <= 1e-6 * max(1.0, obj)
        sol = Solution("picsys", self.instance.name, f"model/{self.layer}",
                       Status.OPTIMAL if closed else Status.FEASIBLE, obj, b, runtime, dec,
                       {"native_status": native})
        verify(self.instance, sol)
        return sol


class PyomoLayer(_MilpLayer):
    layer = "pyomo"

    def _native(self):
        """A ConcreteModel with indexed Vars and Constraints named by :data:`VAR_NAMES` and groups."""
        import pyomo.environ as pyo

        lm = self.lm
        m = pyo.ConcreteModel(name=f"picsys_{self.instance.name}")
        cols = [None] * lm.n_vars
        for group, idxs in lm.groups.items():
            name = VAR_NAMES.get(group, group)
            j0 = lm.var_id[(group, idxs[0])]
            dom = pyo.Binary if lm.kind[j0] == "B" else pyo.Reals
            if idxs == [()]:
                v = pyo.Var(within=dom, bounds=(lm.lb[j0], lm.ub[j0]))
                setattr(m, name, v)
                cols[j0] = v
                continue
            bnd = {idx: (lm.lb[lm.var_id[(group, idx)]], lm.ub[lm.var_id[(group, idx)]]) for idx in idxs}
            v = pyo.Var(idxs, within=dom, bounds=lambda _m, *i, b=bnd: b[tuple(i)], dense=True)
            setattr(m, name, v)
            for idx in idxs:
                cols[lm.var_id[(group, idx)]] = v[idx]
        for group, rows in self.rows.items():
            exprs = {}
            for idx, coefs, sense, rhs in rows:
                e = sum(c * cols[j] for j, c in coefs.items())
                exprs[idx] = e <= rhs if sense == "<=" else (e >= rhs if sense == ">=" else e == rhs)
            if list(exprs) == [()]:
                setattr(m, group, pyo.Constraint(expr=exprs[()]))
            else:
                setattr(m, group, pyo.Constraint(list(exprs), rule=lambda _m, *i, ex=exprs: ex[tuple(i)]))
        m.minimize_makespan = pyo.Objective(expr=cols[lm.objective], sense=pyo.minimize)
        self.cols = cols
        return m

    def write(self, path) -> Path:
        p = check_suffix(path, (".lp", ".mps"), "pyomo MILP")
        write_guard(lambda: self.native.write(str(p), io_options={"symbolic_solver_labels": True}), p)
        return p

    def solve(self, *, time_limit: float | None = None, solver: str = "appsi_highs", log: bool = False) -> Solution:
        """Solve the native model (with any user edits) by a Pyomo solver (default HiGHS)."""
        import time

        import pyomo.environ as pyo

        t0 = time.perf_counter()
        if solver == "appsi_highs":
            from pyomo.contrib.appsi.solvers.highs import Highs

            opt = Highs()
            opt.config.load_solution = False
            opt.config.stream_solver = bool(log)
            opt.config.mip_gap = 1e-9
            opt.highs_options = {"mip_abs_gap": 1e-9, "mip_feasibility_tolerance": 1e-9, "threads": 1}
            if time_limit is not None:
                opt.config.time_limit = float(time_limit)
            res = opt.solve(self.native)
            if res.best_feasible_objective is None:
                return Solution("picsys", self.instance.name, "model/pyomo", Status.UNKNOWN, None, None,
                                time.perf_counter() - t0, None, {"native_status": res.termination_condition.name})
            res.solution_loader.load_vars()
            native = res.termination_condition.name
            bound = res.best_objective_bound
        else:
            opt = pyo.SolverFactory(solver)
            res = opt.solve(self.native, load_solutions=False, tee=bool(log))
            self.native.solutions.load_from(res)
            native = str(res.solver.termination_condition)
            bound = getattr(res.problem, "lower_bound", None)
        proven = native == "optimal"
        vals = {self.names[j]: c.value for j, c in enumerate(self.cols) if c.value is not None}
        return self._solution(vals, native, proven, bound, time.perf_counter() - t0)


class PulpLayer(_MilpLayer):
    layer = "pulp"

    def _native(self):
        import pulp

        lm = self.lm
        prob = pulp.LpProblem(f"picsys_{self.instance.name}", pulp.LpMinimize)
        cols = [None] * lm.n_vars
        for j, n in enumerate(self.names):
            m = re.fullmatch(r"(\w+)\[(.*)\]", n)
            pname = f"{m.group(1)}_{m.group(2).replace(',', '_')}" if m else n
            cat = pulp.LpBinary if lm.kind[j] == "B" else pulp.LpContinuous
            lo, hi = (None, None) if cat == pulp.LpBinary else (lm.lb[j], lm.ub[j])
            cols[j] = prob.add_variable(pname, lowBound=lo, upBound=hi, cat=cat)
        prob += cols[lm.objective]
        for group, rows in self.rows.items():
            for idx, coefs, sense, rhs in rows:
                expr = pulp.LpAffineExpression([(cols[j], c) for j, c in coefs.items()])
                name = group + ("_" + "_".join(map(str, idx)) if idx else "")
                prob += ((expr <= rhs) if sense == "<=" else (expr >= rhs) if sense == ">=" else (expr == rhs), name)
        self.cols = cols
        return prob

    def write(self, path) -> Path:
        p = check_suffix(path, (".lp", ".mps"), "pulp MILP")
        if p.name.lower().endswith(".mps"):
            write_guard(lambda: self.native.writeMPS(str(p)), p)
        else:
            write_guard(lambda: self.native.writeLP(str(p)), p)
        return p

    def solve(self, *, time_limit: float | None = None, log: bool = False) -> Solution:
        """Solve the native problem with PuLP's bundled CBC."""
        import time

        import pulp

        t0 = time.perf_counter()
        from .pulp_milp import cbc_binary

        cmd = pulp.COIN_CMD(path=cbc_binary(), msg=bool(log), timeLimit=time_limit, gapRel=1e-9, gapAbs=1e-9)
        self.native.solve(cmd)
        proven = self.native.sol_status == pulp.LpSolutionOptimal
        vals = {self.names[j]: c.varValue for j, c in enumerate(self.cols) if c.varValue is not None}
        obj = pulp.value(self.native.objective)
        return self._solution(vals, pulp.LpStatus[self.native.status], proven, obj if proven else None,
                              time.perf_counter() - t0)


def _cpsat_name(name: str) -> str:
    m = re.fullmatch(r"([A-Za-z]+)((?:_\d+)*)", name)
    if not m or m.group(1) not in CPSAT_NAMES:
        return name
    idx = m.group(2).strip("_").replace("_", ",")
    base = CPSAT_NAMES[m.group(1)]
    return f"{base}[{idx}]" if idx else base


class CpsatLayer:
    """The CP-SAT model with readable variable names (integer times in ticks, ``scale`` per second)."""

    layer = "cpsat"
    family = "picsys"

    def __init__(self, inst, prep, scale):
        from .cpsat import CpsatModel

        self.instance, self.prep = inst, prep
        try:
            self.cm = CpsatModel(prep, scale)
        except ValueError as exc:
            raise InvalidInstance("scale", str(exc)) from None
        self.native = self.cm.model
        proto = self.native.Proto()
        for v in proto.variables:
            v.name = _cpsat_name(v.name)
        for c in proto.constraints:
            if c.name:
                c.name = _cpsat_name(c.name)
        self.names = [v.name for v in proto.variables]

    def variables(self) -> list[str]:
        return list(self.names)

    def write(self, path) -> Path:
        p = check_suffix(path, (".pb.txt", ".pbtxt", ".pb"), "cpsat")
        ok = write_guard(lambda: self.native.ExportToFile(str(p)), p)
        if not ok:
            raise InvalidInstance("path", f"cannot write {str(path)!r}")
        return p

    def values_from(self, values) -> dict[str, float]:
        if isinstance(values, list):  # CpSolverResponse: values by variable index
            if len(values) != len(self.names):
                raise InvalidInstance("source", f"the response has {len(values)} values but this model has "
                                                f"{len(self.names)} variables: a solution of another model?")
            return dict(zip(self.names, map(float, values)))
        known = {n: n for n in self.names}
        known.update({re.sub(r"\[(.*)\]", lambda m: "_" + m.group(1).replace(",", "_"), n): n for n in self.names})
        return normalize_values(values, known)

    def check(self, vals: dict[str, float]) -> None:
        """Fix the given values in a copy of the model; CP-SAT decides whether they are feasible."""
        from ortools.sat.python import cp_model

        md = cp_model.CpModel()
        md.Proto().copy_from(self.native.Proto())
        md.ClearHints()
        for n in self._outcome_names():
            if n not in vals:
                raise InvalidInstance(f"values.{n}", "missing (a solution of another model?)")
        idx = {n: j for j, n in enumerate(self.names)}
        for n, v in vals.items():
            if abs(v - round(v)) > 1e-9:
                raise InvalidInstance(f"values.{n}", f"must be an integer, got {v!r}")
            dom = list(self.native.Proto().variables[idx[n]].domain)
            if not any(dom[i] <= round(v) <= dom[i + 1] for i in range(0, len(dom), 2)):
                raise InvalidInstance(f"values.{n}", f"{v!r} is outside its domain {dom}")
            md.AddHint(md.GetIntVarFromProtoIndex(idx[n]), int(round(v)))
        s = cp_model.CpSolver()
        s.parameters.fix_variables_to_their_hinted_value = True  # only the unnamed values stay free
        s.parameters.max_time_in_seconds = 30.0
        s.parameters.num_workers = 1
        st = s.StatusName(s.Solve(md))
        if st == "INFEASIBLE":
            raise InvalidInstance("values", "infeasible for the cpsat model (CP-SAT proves no completion exists)")

    def _outcome_names(self):
        return [self.names[v.Index()] for ym in self.cm.y for yi in ym for v in yi.values()]

    def decode(self, vals: dict[str, float]) -> dict:
        plan = []
        for ym in self.cm.y:
            codes = np.empty(len(ym), dtype=np.int8)
            for i, yi in enumerate(ym):
                codes[i] = max(yi, key=lambda k: vals.get(self.names[yi[k].Index()], -1.0))
            plan.append(codes)
        return plan_to_decisions(plan, self.prep.mode)

    def solve(self, *, time_limit: float | None = None, threads: int = 1, log: bool = False) -> Solution:
        import time

        from ortools.sat.python import cp_model

        from optoffload.api import verify
        from optoffload.picsys.simulator import evaluate

        t0 = time.perf_counter()
        s = cp_model.CpSolver()
        s.parameters.num_workers = int(threads)
        s.parameters.log_search_progress = bool(log)
        if time_limit is not None:
            s.parameters.max_time_in_seconds = float(time_limit)
        st = s.StatusName(s.Solve(self.native))
        if st not in ("OPTIMAL", "FEASIBLE"):
            return Solution("picsys", self.instance.name, "model/cpsat", Status.UNKNOWN, None, None,
                            time.perf_counter() - t0, None, {"native_status": st})
        vals = {n: float(s.Value(self.native.GetIntVarFromProtoIndex(j))) for j, n in enumerate(self.names)}
        dec = self.decode(vals)
        obj = float(evaluate(self.instance, dec))
        b = math.nextafter(math.floor(s.BestObjectiveBound()) / self.cm.scale, -math.inf)
        b = min(b, obj)
        closed = st == "OPTIMAL" and obj - b <= 1e-6 * max(1.0, obj)
        sol = Solution("picsys", self.instance.name, "model/cpsat", Status.OPTIMAL if closed else Status.FEASIBLE,
                       obj, b, time.perf_counter() - t0, dec, {"native_status": st, "scale": self.cm.scale})
        verify(self.instance, sol)
        return sol
