"""Time and memory budget of erds-pyomo / erds-cpsat (formulations/erds/budget.py, issue #14).

No wall-clock assertions: the fallback paths are reached by tiny limits, a monkeypatched clock,
or a monkeypatched memory bound; each test asserts the status and replays the plan (oo.verify).
"""

import math

import numpy as np
import pytest

import optoffload as oo
from optoffload.erds.evaluate import objective, time_tables
from optoffload.formulations.erds import budget, cpsat, pyomo


def _ok(inst, s):
    assert s.status in (oo.Status.FEASIBLE, oo.Status.UNKNOWN)
    if s.status is oo.Status.FEASIBLE:
        assert s.bound is None
        oo.verify(inst, s)  # replay in the simulator: objective = exact evaluator of the plan


def _no_build(monkeypatch):
    def boom(*a, **k):
        raise AssertionError("the outcome model must not be built")

    monkeypatch.setattr(pyomo, "build_pyomo", boom)
    monkeypatch.setattr(cpsat, "ErdsCpsat", boom)


def test_joint_count_does_not_overflow():
    # by hand: 200 tasks with 5 nonzero exit probabilities each -> 5^200 joint outcomes
    # (np.prod in int64 wrapped around before issue #14)
    P = np.full((200, 5), 0.2)
    assert pyomo.n_joint(P) == 5**200
    assert budget.fmt_count(5**200) == "about 10^139"  # 5^200 has 140 digits: 200 log10(5) = 139.8


def test_task_tables_match_the_core_tables():
    inst = oo.generate("erds", seed=2, tasks=3, exits=6)
    A, B = time_tables(inst)
    for u in range(inst.U):
        a, b = budget.task_tables(inst, u)
        np.testing.assert_allclose(a, A[u], rtol=0, atol=0)
        np.testing.assert_allclose(b, B[u], rtol=0, atol=0)


@pytest.mark.parametrize("method,opts", [("erds-pyomo", {"solver": "highs"}), ("erds-pyomo", {"solver": "scip"}),
                                         ("erds-cpsat", {"resolution": 0.001})])
def test_large_U_small_limit_never_builds_the_outcome_model(monkeypatch, method, opts):
    # U = 200, K = 5: 5^200 joint outcomes; the sampled model (1000 x 201 rows) is estimated at
    # ~20 s, above a 1 s limit, so the heuristic incumbent (or UNKNOWN) is returned
    _no_build(monkeypatch)
    inst = oo.generate("erds", seed=0, tasks=200, exits=5)
    s = oo.solve(inst, method, time_limit=1.0, **opts)
    _ok(inst, s)
    assert "joint outcomes > MAX_JOINT" in s.info["fallback"]


def test_memory_bound_refuses_the_build_without_a_limit(monkeypatch):
    inst = oo.load("erds/paper-u3")
    monkeypatch.setattr(budget, "MAX_MODEL_UNITS", 10)
    with pytest.raises(oo.InvalidInstance, match="outcomes"):
        pyomo.build_pyomo(inst)  # export path: a clear error naming the option
    _no_build(monkeypatch)
    for m in ("erds-pyomo", "erds-cpsat"):
        s = oo.solve(inst, m)
        assert s.status is oo.Status.FEASIBLE and "memory bound" in s.info["fallback"]
        oo.verify(inst, s)
        # the fallback is a feasible plan, so never below the certified optimum of erds-exact
        assert s.objective >= oo.solve(inst, "erds-exact").objective * (1 - 1e-9)


class _JumpClock:
    """0.0 for the first ``n`` reads, then a time far past any deadline."""

    def __init__(self, n):
        self.n, self.calls = n, 0

    def __call__(self):
        self.calls += 1
        return 0.0 if self.calls <= self.n else 1e6


@pytest.mark.parametrize("method", ["erds-pyomo", "erds-cpsat"])
def test_deadline_inside_the_build_loop_aborts_cleanly(monkeypatch, method):
    # the clock passes the deadline after the size estimate (reads 1-2) and the first build
    # checks: the build loop must raise BuildAborted inside, and the method fall back
    inst = oo.generate("erds", seed=1, tasks=4, exits=5)
    monkeypatch.setattr(budget, "CHECK_EVERY", 1)
    clk = _JumpClock(3)
    monkeypatch.setattr(budget, "clock", clk)
    s = oo.solve(inst, method, time_limit=30.0)
    _ok(inst, s)
    assert "while building" in s.info["fallback"]


def test_build_checks_the_deadline_per_outcome_block(monkeypatch):
    inst = oo.generate("erds", seed=1, tasks=4, exits=5)  # 625 joint outcomes = 6 blocks of 100
    monkeypatch.setattr(budget, "CHECK_EVERY", 100)
    monkeypatch.setattr(budget, "clock", _JumpClock(2))
    b = budget.Budget(10.0)
    with pytest.raises(budget.BuildAborted):
        pyomo.build_pyomo(inst, outcomes="joint", budget=b)


def test_tiny_limit_at_u6_falls_back_before_building(monkeypatch):
    # U = 6: 15,625 outcomes, model_units = 15625 x 7 + 6 x 5 x 6 + 3 x 6 x 6 = 109,663 (by hand),
    # estimated build + load 2 x 109,663 x 1e-4 s = 21.9 s > 0.5 s; the sampled model does not fit either
    _no_build(monkeypatch)
    inst = oo.generate("erds", seed=0, tasks=6, exits=5)
    assert budget.model_units(15625, 6, 5) == 109663
    s = oo.solve(inst, "erds-pyomo", time_limit=0.5)
    _ok(inst, s)
    assert "joint model" in s.info["fallback"] and "sampled model" in s.info["fallback"]


def test_cpsat_fallback_is_a_grid_plan(monkeypatch):
    inst = oo.load("erds/paper-u3")
    monkeypatch.setattr(budget, "MAX_MODEL_UNITS", 10)
    s = oo.solve(inst, "erds-cpsat", resolution=0.05)
    w = np.asarray(s.decisions["shares"], dtype=float)
    delta = 0.05 * inst.capacity
    assert np.allclose(w / delta, np.round(w / delta), atol=1e-9)  # multiples of the grid step
    assert w.sum() <= inst.capacity * (1 + 1e-12)
    assert math.isclose(s.objective, objective(inst, s.decisions["splits"], w), rel_tol=1e-12)


def test_lean_task_times_equal_the_table_rows(monkeypatch):
    # reference: the rows [u, s_u] of the core's full time tables (computed before lowering the threshold)
    import sys

    ev = sys.modules["optoffload.erds.evaluate"]  # the module (optoffload.erds.evaluate is also a function name)

    inst = oo.generate("erds", seed=4, tasks=5, exits=7)
    rng = np.random.default_rng(0)
    splits = rng.integers(0, inst.K + 1, size=inst.U)
    w = np.full(inst.U, inst.capacity / inst.U)
    full = ev.task_times(inst, splits, w)
    lean_inst = oo.generate("erds", seed=4, tasks=5, exits=7)  # no cached tables
    monkeypatch.setattr(ev, "LEAN_TABLE_ENTRIES", 0)
    np.testing.assert_allclose(ev.task_times(lean_inst, splits, w), full, rtol=1e-15, atol=0)
    assert getattr(lean_inst, "_erds_tables", None) is None  # the full tables were not built
