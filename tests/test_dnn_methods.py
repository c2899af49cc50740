"""dnn methods: dnn-exact equals enumeration, never loses to a heuristic or baseline, the chain
case gives the erds family's numbers."""

import itertools

import numpy as np
import pytest

import optoffload as oo
from optoffload.dnn.convert import erds_split, from_erds
from optoffload.dnn.cut import ideals
from optoffload.dnn.evaluate import objective
from optoffload.dnn.generate import generate
from optoffload.dnn.multi import optimal_shares

METHODS = ["dnn-heuristic", "dnn-mincut", "dads", "neurosurgeon", "edgent", "edge-only", "cloud-only"]


def _enumerate(inst):
    """Every combination of closed edge sets (no pruning), each with its optimal shares (convex)."""
    best = np.inf
    for combo in itertools.product(*[ideals(t) for t in inst.tasks]):
        best = min(best, optimal_shares(inst, list(combo), gap=1e-9)[1])
    return best


@pytest.mark.parametrize("objective", ["max", "sum"])
def test_exact_equals_enumeration(objective):
    # expected value: exhaustive enumeration of all split vectors with optimal shares
    for seed in range(6):
        inst = generate(seed=seed, tasks=2, nodes=4, exits=2, objective=objective)
        sol = oo.solve(inst, "dnn-exact")
        assert sol.status is oo.Status.OPTIMAL
        assert sol.objective == pytest.approx(_enumerate(inst), rel=1e-7)


def test_exact_never_loses_on_100_random_instances():
    worst = 0.0
    for seed in range(100):
        inst = generate(seed=1000 + seed, tasks=2 + seed % 2, nodes=5 + seed % 3, exits=1 + seed % 3,
                        objective="sum" if seed % 4 == 3 else "max", input_offload=seed % 5 != 0)
        ex = oo.solve(inst, "dnn-exact")
        assert ex.status is oo.Status.OPTIMAL and ex.bound <= ex.objective + 1e-12
        for m in METHODS:
            s = oo.solve(inst, m)
            worst = max(worst, (ex.objective - s.objective) / s.objective)
            assert ex.objective <= s.objective * (1 + 1e-7), (seed, m, ex.objective, s.objective)
            assert ex.bound <= s.objective * (1 + 1e-9)
    assert worst <= 1e-7


def test_one_task_exact_is_the_min_cut():
    # one task: E[max] = E[T]; the min cut at the largest share (brute-force-checked in test_dnn_cut)
    for seed in range(10):
        inst = generate(seed=seed, tasks=1, nodes=9, exits=3)
        a, b = oo.solve(inst, "dnn-exact"), oo.solve(inst, "dnn-mincut")
        assert b.status is oo.Status.OPTIMAL
        assert a.objective == pytest.approx(b.objective, rel=1e-9)


@pytest.mark.parametrize("name", ["erds/paper-u3", "erds/paper-u2"])
def test_chain_case_is_erds(name):
    e = oo.load(name)
    d = from_erds(e)
    # evaluator: the same splits and shares give the erds objective to the last digit
    rng = np.random.default_rng(0)
    for _ in range(20):
        s = rng.integers(0, e.K + 1, e.U)
        w = rng.uniform(e.w_min, 1.0 / e.U, e.U)
        assert objective(d, erds_split(d, s), w) == pytest.approx(oo.erds.objective(e, s, w), rel=1e-12)
    # certified optima, both closed to a 1e-10 leaf gap
    ee = oo.solve(e, "erds-exact", gap=1e-10)
    de = oo.solve(d, "dnn-exact", gap=1e-10)
    assert de.status is oo.Status.OPTIMAL and ee.status is oo.Status.OPTIMAL
    assert abs(de.objective - ee.objective) <= 1e-9 * ee.objective
    # the same split points
    assert [len(x) - 1 for x in de.decisions["splits"]] == ee.decisions["splits"]
    for m in ("edge-only", "cloud-only"):
        assert abs(oo.solve(d, m).objective - oo.solve(e, m).objective) <= 1e-9 * oo.solve(e, m).objective


def test_uncertified_candidates_report_a_valid_bound():
    # envelope candidates for E[max] of several tasks are not certified: FEASIBLE, and the root
    # bound (per-exit minima over all closed sets) must lie below the certified optimum, which the
    # "ideals" candidates give (expected value: that optimum, cross-checked by enumeration above)
    for seed in range(6):
        inst = generate(seed=seed, tasks=3, nodes=7, exits=3, edge_slowdown=1.0, link_bps=3e6)
        opt = oo.solve(inst, "dnn-exact", candidates="ideals")
        env = oo.solve(inst, "dnn-exact", candidates="envelope")
        assert opt.status is oo.Status.OPTIMAL and env.status is oo.Status.FEASIBLE
        assert env.bound is not None and env.bound <= opt.objective * (1 + 1e-9)
        assert env.objective >= opt.objective * (1 - 1e-7)


@pytest.mark.parametrize("method", ["dnn-exact", "dnn-mincut", "dnn-heuristic", "dads", "neurosurgeon", "edgent",
                                    "edge-only", "cloud-only"])
def test_a_spent_time_limit_bounds_the_work(method):
    """With the limit already spent (1 us), the searching methods stop searching: every task past
    the deadline gets the forced (cloud-only) split, dnn-exact certifies nothing, and every plan
    still verifies (oo.solve replays it). At 200 tasks x 500 layers a 5 s limit once took 19-29 s."""
    inst = oo.generate("dnn", seed=4, tasks=6, nodes=9, exits=3)
    sol = oo.solve(inst, method, time_limit=1e-6)
    assert sol.status in (oo.Status.FEASIBLE, oo.Status.UNKNOWN)
    if method in ("dads", "neurosurgeon", "edgent", "dnn-mincut"):
        assert sol.info["tasks_after_time_limit"] >= inst.U - 1
    if method == "dnn-exact":
        assert sol.info["certified"] is False
