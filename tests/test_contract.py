"""The cross-family contract of ARCHITECTURE.md, checked on random generated instances.

For every family and a few seeds: every method returns a Solution whose
objective the family's simulator reproduces (``solve`` verifies it), the best
exact objective is no worse than any other method's (in the family's sense),
and no reported bound is on the wrong side of any feasible objective.
"""

import pytest
from hypothesis import given, settings, strategies as st

import optoffload as oo
from optoffload.registry import get_family

SMALL = {
    "picsys": {"devices": 2, "images": 6},
    "erds": {"tasks": 2, "exits": 3},
    "progressive": {"problem": "ordering", "size": 4},
    "dnn": {"tasks": 2, "nodes": 6, "exits": 2},
}
SMALL_ALT = {"dnn": [{"tasks": 1, "nodes": 7, "exits": 3}, {"tasks": 3, "nodes": 5, "objective": "sum"}],
             "progressive": [{"problem": "airtime", "size": 3, "slots": 12}, {"problem": "config"}]}
SKIP_SLOW = {"erds": {"erds-osa", "erds-brb", "iao"}}  # exponential optimal-split step; tested in test_erds_*


def _check(inst, family):
    fam = get_family(family)
    sols = {}
    for m, spec in fam.methods.items():
        if m in SKIP_SLOW.get(family, ()):
            continue
        s = oo.solve(inst, m, time_limit=20, seed=0, threads=1)  # verify=True replays every solution
        sols[m] = (spec.kind, s)
    # plans of this instance only: two-stage and longest-expected solve the two-stage counterpart
    # (<name>-2stage, issue #14 item 1), a different system whose makespan is not comparable
    feasible = [s.objective for _, s in sols.values() if s.status.has_solution and s.instance == inst.name]
    better = min if fam.sense == "min" else max
    exact = [s for kind, s in sols.values() if kind == "exact" and s.status is oo.Status.OPTIMAL]
    tol = 1e-6
    for e in exact:
        best = better(feasible)
        assert abs(e.objective - best) <= tol * max(1.0, abs(best)), (family, e.method, e.objective, best)
    for kind, s in sols.values():
        if s.bound is None or s.instance != inst.name:
            continue
        for obj in feasible:
            if fam.sense == "min":
                assert s.bound <= obj + tol * max(1.0, abs(obj)), (family, s.method, s.bound, obj)
            else:
                assert s.bound >= obj - tol * max(1.0, abs(obj)), (family, s.method, s.bound, obj)


@pytest.mark.parametrize("family", sorted(SMALL))
@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_contract_on_random_instances(family, seed):
    for opts in [SMALL[family], *SMALL_ALT.get(family, [])]:
        _check(oo.generate(family, seed=seed, **opts), family)
