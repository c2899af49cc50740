"""Formal models as objects: build, inspect, export, solve elsewhere, bring the values back.

::

    import optoffload as oo
    m = oo.build_model("picsys/table2", layer="pyomo")   # nothing is solved
    m.native                  # the pyomo ConcreteModel (CpModel for "cpsat", LpProblem for "pulp")
    m.write("m.lp")           # .lp/.mps (MILP layers), .pb.txt/.pb (cpsat); ERDS pyomo also .nl/.gms
    sol = m.solve()           # the layer's own solver on the native model (user edits included)
    sol = oo.read_solution("picsys/table2", "pyomo", "m.sol")   # HiGHS/CBC/Gurobi .sol or a dict

The models and their components (names after the paper's equations) are listed in
docs/models.md. The family implementations live in ``optoffload.formulations.<family>.models``
(named here by strings, imported on use); each provides ``build(instance, layer, **options)``
returning an object with ``native``, ``write(path)``, ``solve(**kw)``, ``decode(values)`` and
``check(values)``.

A model built by :func:`build_model` is "clean" by default: no warm start, no presolve cuts, no
dominance reduction (the options that change the model, documented per family in
docs/models.md), so an exported file is the paper's model and nothing else.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from .errors import InvalidInstance
from .solution import Solution
from .status import Status

LAYERS = ("pyomo", "pulp", "cpsat")
FAMILY_MODELS = {
    "picsys": "optoffload.formulations.picsys.models:build",
    "erds": "optoffload.formulations.erds.models:build",
}
"""Family -> builder ``fn(instance, layer, **options)``."""
FAMILY_LAYERS = {"picsys": ("pyomo", "pulp", "cpsat"), "erds": ("pyomo", "cpsat")}


def layers(family: str) -> tuple[str, ...]:
    """The modelling layers a family has."""
    return FAMILY_LAYERS.get(family, ())


def _check_layer(family: str, layer: Any) -> None:
    if layer not in LAYERS:
        raise InvalidInstance("layer", f"unknown layer {layer!r} (layers: {', '.join(LAYERS)})")
    if layer not in layers(family):
        have = ", ".join(layers(family)) or "none"
        raise InvalidInstance("layer", f"family {family!r} has no {layer!r} model (its layers: {have})")


def build_model(instance: Any, layer: str = "pyomo", **options: Any):
    """Build (without solving) the family's formal model of ``instance`` in ``layer``.

    Returns the family's model wrapper (``.native``, ``.write``, ``.solve``, ``.decode``).
    Options are family specific (docs/models.md); unknown ones raise InvalidInstance.
    """
    from .api import load
    from .family import resolve

    inst = load(instance)
    _check_layer(inst.family, layer)
    return resolve(FAMILY_MODELS[inst.family])(inst, layer, **options)


def check_suffix(path: Any, allowed: tuple[str, ...], layer: str) -> Path:
    """``path`` as a Path whose name ends in one of ``allowed`` (InvalidInstance naming it)."""
    p = Path(str(path))
    name = p.name.lower()
    if not any(name.endswith(s) for s in allowed):
        raise InvalidInstance("path", f"{str(path)!r}: the {layer} model is written as {', '.join(allowed)}")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise InvalidInstance("path", f"cannot write {str(path)!r}: directory {str(parent)!r} does not exist")
    return p


def write_guard(fn, path: Path):
    """Run ``fn()`` (a writer); an OSError becomes InvalidInstance naming the path."""
    try:
        return fn()
    except OSError as exc:
        raise InvalidInstance("path", f"cannot write {str(path)!r}: {exc.strerror or exc}") from None


# ----------------------------------------------------------------------------- solution files

class FileValues(dict):
    """Values read from a solution file; ``omits_zeros``: the format leaves out zero values (CBC)."""

    omits_zeros = False


_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?inf"


def parse_solution_file(path: Any) -> dict[str, float] | list[int]:
    """Variable values from a solver's solution file.

    Formats: HiGHS ``.sol`` (``writeSolution``: ``# Columns N`` then ``name value`` lines), CBC
    (``solu``: a status line, then ``index name value reduced-cost``), Gurobi/SCIP ``.sol``
    (``# Objective value = ...`` / ``objective value:`` then ``name value``) and a CP-SAT
    ``CpSolverResponse`` text proto (``solution: v`` lines, values by variable index; returned
    as a list).
    """
    p = Path(str(path))
    try:
        text = p.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise InvalidInstance("source", f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
    lines = text.splitlines()
    if re.search(r"^\s*solution:\s*-?\d+", text, re.M) or re.search(r"^\s*status:\s*[A-Z_]+", text, re.M):
        return [int(x) for x in re.findall(r"^\s*solution:\s*(-?\d+)", text, re.M)]
    vals = FileValues()
    if any(ln.startswith("# Columns") for ln in lines):  # HiGHS
        i = next(n for n, ln in enumerate(lines) if ln.startswith("# Columns"))
        for ln in lines[i + 1:]:
            if ln.startswith("#") or not ln.strip():
                break
            parts = ln.split()
            if len(parts) >= 2:
                vals[parts[0]] = float(parts[1])
        return vals
    first = lines[0] if lines else ""
    if re.match(r"^\s*(Optimal|Stopped|Infeasible|Integer|Unbounded|Feasible)", first) and "objective" in first.lower():
        vals.omits_zeros = True
        for ln in lines[1:]:  # CBC: index name value reduced-cost (zero values left out)
            parts = ln.split()
            if len(parts) >= 3 and re.fullmatch(r"\d+", parts[0]):
                vals[parts[1]] = float(parts[2])
        return vals
    vals.omits_zeros = True  # SCIP leaves out zero values; Gurobi writes all (then nothing is filled)
    for ln in lines:  # Gurobi / SCIP style: name value
        s = ln.strip()
        if not s or s.startswith("#") or s.lower().startswith(("objective value", "solution status")):
            continue
        parts = s.split()
        if len(parts) >= 2 and re.fullmatch(_NUM, parts[1]):
            vals[parts[0]] = float(parts[1])
    if not vals:
        raise InvalidInstance("source", f"{str(path)!r}: no variable values found (HiGHS, CBC, Gurobi .sol or "
                                        "CP-SAT response text expected)")
    return vals


def canonical(name: str) -> str:
    """``x(0_1)`` (Pyomo LP labels) -> ``x[0,1]``; canonical names pass through."""
    m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)\(([^()]*)\)", name)
    if m:
        return f"{m.group(1)}[{m.group(2).replace('_', ',')}]"
    return name


def normalize_values(values: dict, known: dict[str, str]) -> dict[str, float]:
    """Map user/file names onto the model's canonical names.

    ``known``: every accepted spelling -> canonical name. A value whose name the model does not
    have raises InvalidInstance ("a solution of another model?").
    """
    out: dict[str, float] = {}
    unknown = []
    for k, v in values.items():
        key = known.get(str(k)) or known.get(canonical(str(k)))
        if key is None:
            unknown.append(str(k))
            continue
        try:
            fv = float(v)
        except (TypeError, ValueError):
            raise InvalidInstance(f"values.{k}", f"must be a number, got {v!r}") from None
        if math.isnan(fv):
            raise InvalidInstance(f"values.{k}", f"must be a number, got {v!r}")
        out[key] = fv
    if getattr(values, "omits_zeros", False) and not unknown:
        for key in set(known.values()):
            out.setdefault(key, 0.0)
    if unknown:
        raise InvalidInstance("source", f"{len(unknown)} value(s) name variables this model does not have "
                                        f"(first: {unknown[0]!r}): a solution of another model?")
    return out


def read_solution(instance: Any, layer: str, source: Any, *, verify: bool = True, **options: Any) -> Solution:
    """A verified :class:`Solution` from variable values of the model ``build_model(instance, layer, **options)``.

    ``source``: a dict ``{variable name: value}`` (canonical names such as ``outcome[0,1,3]``,
    LP-file labels ``outcome(0_1_3)`` or PuLP names ``outcome_0_1_3``) or the path of a solution
    file (:func:`parse_solution_file`; variables a CBC or SCIP file leaves out are 0, as those
    writers omit zero values). The values are checked against the model's constraints
    (a violated one raises InvalidInstance naming it), decoded into decisions and replayed in the
    family's simulator; status FEASIBLE, no bound.
    """
    from .api import load
    from .api import verify as _verify

    inst = load(instance)
    model = build_model(inst, layer, **options)
    if isinstance(source, dict):
        values: Any = source
    elif isinstance(source, (str, Path)):
        values = parse_solution_file(source)
    else:
        raise InvalidInstance("source", f"must be a dict of values or a solution file path, got {type(source).__name__}")
    vals = model.values_from(values)
    model.check(vals)
    dec = model.decode(vals)
    from .family import resolve
    from .registry import get_family

    obj = float(resolve(get_family(inst.family).evaluate)(inst, dec))
    sol = Solution(inst.family, inst.name, f"read-solution/{layer}", Status.FEASIBLE, obj, None, 0.0, dec,
                   {"layer": layer, "values": len(vals)})
    if verify:
        _verify(inst, sol)
    return sol


__all__ = ["LAYERS", "build_model", "layers", "parse_solution_file", "read_solution"]
