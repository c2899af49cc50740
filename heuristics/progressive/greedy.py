"""Fast heuristics of the progressive family (method ``greedy``), one per problem kind.

``config``   fit-mean rule: the most accurate candidate whose complete image
             (framed, mean size) fits the mean window budget; the smallest
             candidate if none fits. What a designer picks from the mean
             bandwidth alone (PNC section V-F: "selecting the best model that
             guarantees the transmission of all encoded data ... becomes challenging").
``airtime``  greedy marginal allocation on the upper concave hulls of the
             devices' slot-accuracy curves: repeatedly give a device the hull
             step of best marginal accuracy per slot that still fits, then
             spend leftover slots on the best single upgrade. Optimal for
             concave curves (every hull step is one slot); its fractional
             version gives the upper bound reported as ``bound``.
``ordering`` ratio rule: send chunks by importance per byte, descending
             (Smith's rule); optimal when the budget is uniform over a long
             range or the sizes are equal. ``bound``: ``sum_i w_i P(S >= c_i)``
             (each chunk as if sent first).
"""

from __future__ import annotations

import time

import numpy as np

from optoffload.errors import InvalidInstance
from optoffload.progressive.airtime import hull_greedy, upper_hull  # noqa: F401 (re-exported)
from optoffload.progressive.model import ratio_order
from optoffload.progressive.profiles import data_bytes
from optoffload.solution import Solution
from optoffload.status import Status


def greedy(instance, *, time_limit=None, seed=0, threads=None, **options) -> Solution:
    """Dispatch on ``instance.problem`` (see the module docstring)."""
    if options:
        raise InvalidInstance(next(iter(options)), "unknown option for method 'greedy'")
    t0 = time.perf_counter()
    fn = {"config": _config, "airtime": _airtime, "ordering": _ordering}[instance.problem]
    if instance.problem == "airtime":
        decisions, obj, bound, info = _airtime(instance.spec, None if time_limit is None else t0 + float(time_limit))
    else:
        decisions, obj, bound, info = fn(instance.spec)
    return Solution("progressive", instance.name, "greedy", Status.FEASIBLE, obj, bound,
                    time.perf_counter() - t0, decisions, info)


def _config(sp):
    budget = sp.mean_budget()
    cap = float(data_bytes(budget))
    fits = [p for p in sp.candidates if float(p.complete_bytes(1.0)[0]) <= cap]
    if fits:
        pick = max(fits, key=lambda p: (p.full_accuracy, -p.total_bytes))
    else:
        pick = min(sp.candidates, key=lambda p: p.total_bytes)
    return {"config": pick.name}, sp.accuracy[pick.name], None, {"mean_budget_B": budget, "fits": len(fits)}


# ------------------------------------------------------------------ airtime
# upper_hull and hull_greedy live in the core (optoffload/progressive/airtime.py): the exact
# method uses them as its incumbent and bound under a time limit.


def _airtime(sp, deadline=None):
    """Hull greedy; under ``deadline`` (the time limit, issue #14) the utility table and the hulls
    are built while time is left, else the equal split is returned (no bound)."""
    U = sp.utility_rows(deadline)
    g = None if U is None else hull_greedy(U, sp.slots, deadline)
    if g is None:
        from optoffload.progressive.airtime import equal_split

        level = equal_split(len(sp.devices), sp.slots, sp.slots)
        return {"slots": level}, float(sum(sp.utility_at(d, s) for d, s in enumerate(level))), None, {
            "time_limit_reached": "equal split"}
    level, bound = g
    return {"slots": level}, float(sum(U[d, s] for d, s in enumerate(level))), bound, {}


# ----------------------------------------------------------------- ordering
def _ordering(sp):
    order = ratio_order(sp.sizes, sp.importance)
    bound = float(np.sum(sp.importance * sp.survival(sp.sizes)))
    return {"order": order}, sp.value(order), bound, {}
