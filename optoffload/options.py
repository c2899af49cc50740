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
    # PicSys exact (formulations/picsys)
    "scale": (int, 1, 10**12, True),                  # CP-SAT ticks per second
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
