"""Valid ranges of the numeric method options (issue #14, items 7-8; docs/validation.md).

Every numeric option of every method is listed here by name and checked by ``oo.solve`` before
the method runs, so ``max_iter=-1`` or ``search_evals=-3`` is an ``InvalidInstance`` naming the
option (CLI: exit 2) instead of a silent accept or an internal error. Options are matched by
name because the same name means the same thing in every method that takes it.
"""

from __future__ import annotations

import math
from typing import Any

from .errors import InvalidInstance

#: name -> (type, low, high, low_inclusive); ``None`` values are always allowed (method default).
RANGES: dict[str, tuple[type, float, float, bool]] = {
    # ERDS (heuristics/erds, formulations/erds)
    "max_iter": (int, 1, 10_000_000, True),           # BRB iterations
    "tol": (float, 0.0, 1.0, False),                  # BRB relative tolerance, in (0, 1]
    "decimals": (int, 0, 15, True),                   # rounding of BRB box ends (paper: 3)
    "gap": (float, 0.0, 0.1, False),                  # erds-exact relative gap (the method: < 0.1)
    "inner_gap": (float, 0.0, 0.1, False),            # erds-exact inner-node gap (the method: < 0.1)
    "node_limit": (int, 0, 10**12, True),             # erds-exact nodes (0: root bound only)
    "stall_work": (int, 1, 10**12, True),             # BRB stall budget in task-iterations (null: off)
    "samples": (int, 1, 10_000_000, True),            # erds-pyomo sampled exit outcomes
    "resolution": (float, 0.0, 1.0, False),           # erds-cpsat share grid, fraction of capacity, (0, 1]
    # DNN graphs (formulations/dnn, heuristics/dnn)
    "limit": (int, 1, 10_000_000, True),              # dnn-exact: most closed sets enumerated per task
    # PicSys exact (formulations/picsys)
    "scale": (int, 1, 10**12, True),                  # CP-SAT ticks per second
    "memory_mb": (float, 0.0, 1e7, True),             # pyomo/pulp model memory budget in MB (0: none)
    # PicSys look-ahead
    "enumerate_max": (int, 0, 20, True),              # images enumerated exhaustively (3^N plans)
    "search_evals": (int, 1, 10_000_000, True),       # plan evaluations of the offline search
    "search_time": (float, 0.0, 1e6, False),          # seconds
    # PicSys policies (heuristics/picsys)
    "prior": (float, 0.0, 1.0, True),                 # prior hit rate
    "prior_z2": (float, 0.0, 1.0, True),
    "prior_weight": (float, 0.0, 1e6, True),          # pseudo-count of the prior
    "risk": (float, 0.0, 1e6, True),
}


def check_option(name: str, value: Any) -> Any:
    """Return ``value`` if it lies in the documented range of option ``name``, else raise."""
    spec = RANGES.get(name)
    if spec is None or value is None:
        return value
    typ, lo, hi, lo_incl = spec
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInstance(name, f"must be {'an integer' if typ is int else 'a number'}, got {value!r}")
    if typ is int and not (isinstance(value, int) or float(value).is_integer()):
        raise InvalidInstance(name, f"must be an integer, got {value!r}")
    x = float(value)
    ok = math.isfinite(x) and (x >= lo if lo_incl else x > lo) and x <= hi
    if not ok:
        lo_s = f"{'[' if lo_incl else '('}{lo:g}"
        raise InvalidInstance(name, f"must lie in {lo_s}, {hi:g}], got {value!r}")
    return int(value) if typ is int else value


#: name -> allowed values, for string options that a method would otherwise read loosely
CHOICES: dict[str, tuple[str, ...]] = {
    "bound": ("best", "simple"),   # look-ahead: issue #3's lower bound or the simple one
}


def _scalar(v: Any) -> bool:
    return isinstance(v, (bool, int, str)) or (isinstance(v, float) and math.isfinite(v))


def check_structured(options: dict) -> None:
    """Options passed through to a solver, checked before any model is built.

    ``params`` (cpsat): an object of CP-SAT parameters; every name must be a ``SatParameters``
    field and CP-SAT must accept the values (an empty model is solved with them).
    ``solver_options`` (pyomo): an object of scalars; with a HiGHS solver every name and value
    must be accepted by HiGHS. ``cbc_options`` (pulp): a list of strings. ``executable``
    (pyomo): the path of an existing file.
    """
    for name, allowed in CHOICES.items():
        v = options.get(name)
        if v is not None and (not isinstance(v, str) or v not in allowed):
            raise InvalidInstance(name, f"must be one of {', '.join(allowed)}, got {v!r}")
    if options.get("params") is not None:
        _check_cpsat_params(options["params"])
    so = options.get("solver_options")
    if so is not None:
        if not isinstance(so, dict):
            raise InvalidInstance("solver_options", f"must be an object of solver options, got {so!r}")
        for k, v in so.items():
            if not _scalar(v):
                raise InvalidInstance(f"solver_options.{k}", f"must be a finite number, a string or a boolean, got {v!r}")
        solver = options.get("solver") or "appsi_highs"
        if isinstance(solver, str) and "highs" in solver:
            _check_highs_options(so)
    co = options.get("cbc_options")
    if co is not None and (not isinstance(co, list) or not all(isinstance(x, str) for x in co)):
        raise InvalidInstance("cbc_options", f"must be a list of strings (CBC command-line options), got {co!r}")
    ex = options.get("executable")
    if ex is not None:
        from pathlib import Path

        if not isinstance(ex, str) or not Path(ex).is_file():
            raise InvalidInstance("executable", f"must be the path of an existing solver binary, got {ex!r}")


def _check_cpsat_params(params: Any) -> None:
    if not isinstance(params, dict):
        raise InvalidInstance("params", f"must be an object of CP-SAT parameters, got {params!r}")
    try:
        from ortools.sat.python import cp_model
    except ImportError:  # pragma: no cover - the method itself reports the missing solver
        return
    solver = cp_model.CpSolver()
    for k, v in params.items():
        if not _scalar(v):
            raise InvalidInstance(f"params.{k}", f"must be a finite number, a string or a boolean, got {v!r}")
        try:
            setattr(solver.parameters, k, v)
        except AttributeError:
            raise InvalidInstance(f"params.{k}", "not a CP-SAT parameter (see sat_parameters.proto)") from None
        except (TypeError, ValueError) as exc:
            raise InvalidInstance(f"params.{k}", f"bad value {v!r}: {exc}") from None
    if solver.StatusName(solver.Solve(cp_model.CpModel())) == "MODEL_INVALID":
        raise InvalidInstance("params", f"CP-SAT rejects these parameter values: {params!r}")


def _check_highs_options(opts: dict) -> None:
    try:
        import highspy
    except ImportError:  # pragma: no cover
        return
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    for k, v in opts.items():
        if h.setOptionValue(k, v) != highspy.HighsStatus.kOk:
            raise InvalidInstance(f"solver_options.{k}", f"HiGHS rejects option {k!r} = {v!r} (unknown name, "
                                                         "wrong type or out of range)")
