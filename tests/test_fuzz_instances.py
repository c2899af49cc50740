"""Any one field of a valid instance replaced by junk: a named ``InvalidInstance`` or a clean solve.

The whole class behind issue #14 items 5-8 (bad values that reached a solver and came back as
an internal exception, NaN or inf): hypothesis replaces one leaf of each family's shipped
instances by a value from a junk list (negative, zero, huge, non-finite, wrong type) and asserts
that validation raises ``InvalidInstance`` or that a fast method returns a finite, verified
objective. Expected behaviour is the rule itself (docs/validation.md), not a recorded output.
"""

from __future__ import annotations

import copy
import math
import warnings

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import optoffload as oo
from optoffload.errors import InvalidInstance

JUNK = [-1, 0, 1e308, -1e308, "x", [], {}, None, True, 10**30, float("nan"), float("inf"), 1e-300, 2**31,
        [1, 2], {"a": 1}, "", 0.5, 7, 10**16, "20 Mbit/s", "5 ms"]
BASES = {"picsys/table2": "greedy", "erds/paper-u2": "erds-osa", "progressive/ordering-small": "greedy",
         "progressive/airtime-cameras": "greedy"}


def _leaves(o, path=()):
    if isinstance(o, dict):
        for k, v in o.items():
            yield from _leaves(v, path + (k,))
    elif isinstance(o, list):
        for i, v in enumerate(o[:4]):
            yield from _leaves(v, path + (i,))
    if path:
        yield path


_BASE_DICTS = {name: oo.load(name).to_dict() for name in BASES}
_PATHS = {name: list(_leaves(d)) for name, d in _BASE_DICTS.items()}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(BASES)), st.data())
def test_one_bad_field_is_named_or_harmless(name, data):
    path = data.draw(st.sampled_from(_PATHS[name]))
    junk = data.draw(st.sampled_from(JUNK))
    d = copy.deepcopy(_BASE_DICTS[name])
    cur = d
    for k in path[:-1]:
        cur = cur[k]
    cur[path[-1]] = junk
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            inst = oo.from_dict(d)
        except InvalidInstance as exc:
            assert exc.field  # a named field
            return
        try:
            sol = oo.solve(inst, BASES[name], time_limit=5)  # verify=True replays the plan
        except InvalidInstance:
            return
    assert sol.objective is None or math.isfinite(sol.objective)
