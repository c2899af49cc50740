"""ERDS formal models as objects (``oo.build_model(inst, layer="pyomo"|"cpsat")``; docs/models.md).

* ``pyomo``: :func:`optoffload.formulations.erds.pyomo.build_pyomo` (eq. (7), joint outcomes,
  nonlinear ``share_inverse[u]``: w_u y_u >= 1). Written as ``.lp`` (the bilinear constraint as a
  quadratic row, which Gurobi, CPLEX and SCIP read; HiGHS's reader rejects it), ``.nl`` or
  ``.gms``. Option ``linearize=True`` replaces ``share_inverse`` by ``tangents`` (default 12)
  tangent cuts per task: a MILP relaxation (valid lower bound, any MILP solver and ``.mps``).
* ``cpsat``: :class:`optoffload.formulations.erds.cpsat.ErdsCpsat` on a share grid
  (``resolution``), written as ``.pb.txt``/``.pb``.

Clean model by default: ``dominance=False`` (every split 0..K).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from optoffload.errors import InvalidInstance
from optoffload.models import check_suffix, normalize_values, write_guard
from optoffload.solution import Solution

from .pyomo import OUTCOMES, build_pyomo, decode_values


def build(inst, layer: str, *, outcomes: str = "joint", samples: int = 1000, seed: int = 0, early_exit: bool = True,
          dominance: bool = False, resolution: float = 0.01, linearize: bool = False, tangents: int = 12, **options):
    if options:
        k = next(iter(options))
        raise InvalidInstance(k, "unknown option for the erds models (known: outcomes, samples, seed, early_exit, "
                                 "dominance, resolution, linearize, tangents)")
    for n, v in (("early_exit", early_exit), ("dominance", dominance), ("linearize", linearize)):
        if not isinstance(v, bool):
            raise InvalidInstance(n, f"must be true or false, got {v!r}")
    if layer == "cpsat":
        return CpsatLayer(inst, resolution=resolution, early_exit=early_exit, dominance=dominance)
    if outcomes not in OUTCOMES:
        raise InvalidInstance("outcomes", f"must be one of {', '.join(OUTCOMES)}, got {outcomes!r}")
    if isinstance(tangents, bool) or not isinstance(tangents, int) or tangents < 2:
        raise InvalidInstance("tangents", f"must be an integer >= 2, got {tangents!r}")
    return PyomoLayer(inst, outcomes=outcomes, samples=samples, seed=seed, early_exit=early_exit,
                      dominance=dominance, linearize=linearize, tangents=tangents)


def _spell(names):
    out = {}
    for n in names:
        out[n] = n
        m = re.fullmatch(r"(\w+)\[(.*)\]", n)
        if m:
            out[f"{m.group(1)}({m.group(2).replace(',', '_')})"] = n
            out[f"{m.group(1)}_{m.group(2).replace(',', '_')}"] = n
    return out


class PyomoLayer:
    layer = "pyomo"
    family = "erds"

    def __init__(self, inst, *, outcomes, samples, seed, early_exit, dominance, linearize, tangents):
        import pyomo.environ as pyo

        self.instance, self.early_exit, self.linearize = inst, early_exit, linearize
        self.native = m = build_pyomo(inst, outcomes=outcomes, samples=samples, seed=seed, early_exit=early_exit,
                                      dominance=dominance)
        self.cand = m._erds["cand"]
        if linearize:
            from optoffload.erds.shares import _bounds

            lo, hi = _bounds(inst)
            m.share_inverse.deactivate()
            pts = {(u, n): float(y0) for u in range(inst.U)
                   for n, y0 in enumerate(np.geomspace(1.0 / hi[u], 1.0 / lo[u], tangents))}
            m.tangent_points = pyo.Set(initialize=list(pts), dimen=2)
            m.share_tangent = pyo.Constraint(
                m.tangent_points, rule=lambda _m, u, n: _m.share[u] + _m.inv_share[u] / pts[u, n] ** 2 >= 2 / pts[u, n])
        self.names = [v.name for v in m.component_data_objects(pyo.Var, descend_into=True)]

    def variables(self) -> list[str]:
        return list(self.names)

    def write(self, path) -> Path:
        suffixes = (".lp", ".mps", ".nl", ".gms") if self.linearize else (".lp", ".nl", ".gms")
        p = check_suffix(path, suffixes, "erds pyomo" + (" (linearized)" if self.linearize else ""))
        write_guard(lambda: self.native.write(str(p), io_options={"symbolic_solver_labels": True}), p)
        return p

    def values_from(self, values) -> dict[str, float]:
        if isinstance(values, list):
            raise InvalidInstance("source", "a CP-SAT response, but this is the pyomo model")
        return normalize_values(values, _spell(self.names))

    def check(self, vals) -> None:
        decode_values(self.instance, self.cand, vals)

    def decode(self, vals) -> dict:
        from optoffload.erds.model import decisions

        s, w = decode_values(self.instance, self.cand, vals)
        return decisions(s, w, early_exit=self.early_exit)

    def solve(self, *, time_limit: float | None = None, solver: str = "scip", log: bool = False) -> Solution:
        """Solve the native model: ``solver="scip"`` (the nonlinear model as is, user edits included)
        or ``"highs"`` (the OA loop of ``erds-pyomo``; its share subproblem ignores user edits)."""
        import time

        from optoffload.api import verify
        from optoffload.erds.evaluate import objective
        from optoffload.erds.model import decisions
        from optoffload.status import Status

        from . import pyomo as P

        if self.linearize:
            raise InvalidInstance("linearize", "the linearized model is a relaxation: export it, or solve the "
                                               "clean model")
        t0 = time.perf_counter()
        deadline = None if time_limit is None else t0 + float(time_limit)
        if solver == "scip":
            s, w, lb, info, _ = P._solve_scip(self.instance, self.native, deadline, 0, 1, self.early_exit, log)
        elif solver == "highs":
            s, w, lb, info, _ = P._solve_oa(self.instance, self.native, deadline, 0, 1, 1e-7, 500, self.early_exit, log)
        else:
            raise InvalidInstance("solver", f"must be scip or highs, got {solver!r}")
        if s is None:
            return Solution("erds", self.instance.name, "model/pyomo", Status.UNKNOWN, None, lb,
                            time.perf_counter() - t0, None, info)
        val = objective(self.instance, s, w, early_exit=self.early_exit)
        b = None if lb is None or self.native._erds["outcomes"] != "joint" else min(lb, val)
        st = Status.OPTIMAL if b is not None and val - b <= 1e-6 * max(1.0, val) else Status.FEASIBLE
        sol = Solution("erds", self.instance.name, "model/pyomo", st, val, b, time.perf_counter() - t0,
                       decisions(s, w, early_exit=self.early_exit), info)
        verify(self.instance, sol)
        return sol


class CpsatLayer:
    layer = "cpsat"
    family = "erds"

    def __init__(self, inst, *, resolution, early_exit, dominance):
        from .cpsat import ErdsCpsat

        self.instance, self.early_exit = inst, early_exit
        self.cm = ErdsCpsat(inst, resolution=resolution, early_exit=early_exit, dominance=dominance)
        self.native = self.cm.model
        self.names = [v.name for v in self.native.Proto().variables]

    def variables(self) -> list[str]:
        return list(self.names)

    def write(self, path) -> Path:
        p = check_suffix(path, (".pb.txt", ".pbtxt", ".pb"), "cpsat")
        if not write_guard(lambda: self.native.ExportToFile(str(p)), p):
            raise InvalidInstance("path", f"cannot write {str(path)!r}")
        return p

    def values_from(self, values) -> dict[str, float]:
        if isinstance(values, list):
            if len(values) != len(self.names):
                raise InvalidInstance("source", f"the response has {len(values)} values but this model has "
                                                f"{len(self.names)} variables: a solution of another model?")
            return dict(zip(self.names, map(float, values)))
        return normalize_values(values, _spell(self.names))

    def _as_pyomo_values(self, vals):
        out = {}
        for (u, s), v in self.cm.split.items():
            key = f"split[{u},{s}]"
            if key not in vals:
                raise InvalidInstance(f"values.{key}", "missing (a solution of another model?)")
            out[key] = vals[key]
        for u in range(self.instance.U):
            key = f"grid[{u}]"
            if key not in vals:
                raise InvalidInstance(f"values.{key}", "missing (a solution of another model?)")
            g = vals[key]
            if abs(g - round(g)) > 1e-9 or not (self.cm.glo[u] <= round(g) <= self.cm.ghi[u]):
                raise InvalidInstance(f"values.{key}", f"must be an integer in [{self.cm.glo[u]}, {self.cm.ghi[u]}], "
                                                       f"got {g!r}")
            out[f"share[{u}]"] = round(g) * self.cm.delta
        return out

    def check(self, vals) -> None:
        pv = self._as_pyomo_values(vals)
        g = sum(round(vals[f"grid[{u}]"]) for u in range(self.instance.U))
        if g > self.cm.N:
            raise InvalidInstance("values.grid", f"sum {g} exceeds {self.cm.N} (capacity)")
        decode_values(self.instance, self.cm.cand, pv)

    def decode(self, vals) -> dict:
        from optoffload.erds.model import decisions

        s, w = decode_values(self.instance, self.cm.cand, self._as_pyomo_values(vals))
        return decisions(s, w, early_exit=self.early_exit)

    def solve(self, *, time_limit: float | None = None, threads: int = 1, log: bool = False) -> Solution:
        """Solve the native grid model with CP-SAT (bound: the grid optimum's, in ``info``)."""
        import time

        from optoffload.api import verify
        from optoffload.erds.evaluate import objective
        from optoffload.status import Status

        from .cpsat import _run

        t0 = time.perf_counter()
        deadline = None if time_limit is None else t0 + float(time_limit)
        solver, name = _run(self.cm, deadline, 0, threads, log, None)
        info = {"grid_status": name.lower()}
        if name not in ("OPTIMAL", "FEASIBLE"):
            return Solution("erds", self.instance.name, "model/cpsat", Status.UNKNOWN, None, None,
                            time.perf_counter() - t0, None, info)
        vals = {n: float(solver.Value(self.native.GetIntVarFromProtoIndex(j))) for j, n in enumerate(self.names)}
        dec = self.decode(vals)
        info["grid_bound"] = self.cm.bound_of(solver.BestObjectiveBound())
        sol = Solution("erds", self.instance.name, "model/cpsat", Status.FEASIBLE,
                       objective(self.instance, dec["splits"], dec["shares"], early_exit=self.early_exit), None,
                       time.perf_counter() - t0, dec, info)
        verify(self.instance, sol)
        return sol
