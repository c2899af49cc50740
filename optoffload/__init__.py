"""optoffload: exact and heuristic optimization for edge/cloud computation offloading.

Quick tour::

    import optoffload as oo
    inst = oo.load("picsys/table2")
    sol = oo.solve(inst, method="cpsat", time_limit=10, seed=0)
    oo.verify(inst, sol)          # recomputes the objective with the simulator
    oo.methods("picsys")

Solver layers (OR-Tools, Pyomo, PuLP) are imported only when a method needs them.
"""

from pathlib import Path as _Path

_here = _Path(__file__).resolve().parent
if not (_here / "heuristics").is_dir() and (_here.parent / "heuristics" / "__init__.py").is_file() \
        and (_here.parent / "pyproject.toml").is_file():
    # A source checkout (the repository root is on sys.path): the installed layout maps the
    # root folders formulations/, heuristics/, benchmarks/ to optoffload.formulations, ... (see
    # pyproject.toml); here the same names resolve through this package's search path.
    __path__.append(str(_here.parent))  # noqa: F821 - the package's own __path__
del _Path, _here

from .api import compare, evaluate, from_dict, generate, load, methods, save, simulate, solve, verify
from .errors import InvalidInstance, UnknownName, VerificationError
from .limits import limits
from .models import build_model, read_solution
from .registry import available_families as families
from .registry import instances, register_method, unregister_method
from .solution import Solution
from .status import Status

__version__ = "0.1.0"

__all__ = [
    "InvalidInstance",
    "build_model",
    "read_solution",
    "Solution",
    "Status",
    "UnknownName",
    "VerificationError",
    "families",
    "from_dict",
    "generate",
    "compare",
    "evaluate",
    "instances",
    "limits",
    "load",
    "methods",
    "register_method",
    "save",
    "simulate",
    "solve",
    "unregister_method",
    "verify",
]
