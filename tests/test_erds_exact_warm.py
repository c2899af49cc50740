"""erds-exact with warm-started share LPs (issue #15) against the previous implementation.

The previous implementation is kept callable as ``share_lp="legacy"`` (a fresh HiGHS model per
node, bisection pull-down, fresh 500-round polish). Both certify: bound <= optimum <= objective
with a relative gap <= 1e-6. So the expected values here are derived from the legacy run in the
same test, never copied from output: each run's objective must be >= the other run's certified
bound, and the two objectives agree to the certificate gap. LP solve counts are deterministic,
so "fewer LP solves" is asserted exactly (no wall-clock assertion). The brute-force checks of
tests/test_erds_solvers.py and tests/test_erds_exact_bound.py run on the default (warm) path.
"""

import numpy as np
import pytest

import optoffload as oo
from optoffload.erds._shares_legacy import feasible_shares_bisect
from optoffload.erds.shares import _Problem, _solve_node, feasible_shares, solve_shares

CERT_GAP = 1e-6  # the certificate gap of status OPTIMAL (formulations/erds/exact.py docstring)


def _agree(warm, legacy):
    for s in (warm, legacy):
        assert s.status == oo.Status.OPTIMAL
        assert s.bound <= s.objective
        assert s.objective - s.bound <= CERT_GAP * s.objective
    # each objective is a feasible value, hence >= the optimum >= the other's certified bound
    assert warm.objective >= legacy.bound * (1 - 1e-12), (warm.objective, legacy.bound)
    assert legacy.objective >= warm.bound * (1 - 1e-12), (legacy.objective, warm.bound)
    assert warm.objective == pytest.approx(legacy.objective, rel=CERT_GAP)
    assert warm.info["lp_solves"] <= legacy.info["lp_solves"]


@pytest.mark.parametrize("name", ["erds/paper-u1", "erds/paper-u2", "erds/paper-u3"])
def test_paper_instances_same_certified_optimum(name):
    """paper-u1..u3: the warm path certifies the legacy optimum (to the certificate gap) with fewer
    LP solves (at U = 1 both need the same 3); both plans are replayed by ``oo.verify``
    (verify=True is the default)."""
    warm = oo.solve(name, "erds-exact")
    legacy = oo.solve(name, "erds-exact", share_lp="legacy")
    _agree(warm, legacy)
    if name.endswith("u3"):
        assert warm.info["lp_solves"] < legacy.info["lp_solves"]


def _random_cases():
    # 50 small instances: U in 2..4, K in 2..4, shared or per-task exit probabilities, the fixed
    # (default) and the scaled edge (nu_E = 6/U of erds-gap)
    out = []
    for i in range(50):
        U = 2 + i % 3
        K = 2 + (i // 3) % 3
        kw = {"seed": 100 + i, "tasks": U, "exits": K, "per_task_probs": bool(i % 2)}
        if i % 4 >= 2:
            kw["edge_factor"] = 6.0 / U
        out.append(kw)
    return out


@pytest.mark.slow
def test_random_small_instances_same_certified_optimum():
    """50 random small instances: same certified optimum as the legacy path, no more LP solves on
    any instance and fewer in total (both counts deterministic)."""
    tot = {"warm": 0, "legacy": 0}
    for kw in _random_cases():
        inst = oo.generate("erds", **kw)
        warm = oo.solve(inst, "erds-exact", verify=False)
        legacy = oo.solve(inst, "erds-exact", share_lp="legacy", verify=False)
        _agree(warm, legacy)
        tot["warm"] += warm.info["lp_solves"]
        tot["legacy"] += legacy.info["lp_solves"]
    assert tot["warm"] < tot["legacy"]


@pytest.mark.parametrize("relaxation", ["simple", "coupled"])
def test_both_relaxations_warm_matches_legacy(relaxation):
    """The warm start also runs under relaxation="simple" (the children's w bounds change in place
    of the parent's, the basis stays a valid warm start): same certified optimum as legacy."""
    inst = oo.generate("erds", seed=3, tasks=4, exits=3, per_task_probs=True, edge_factor=1.5)
    warm = oo.solve(inst, "erds-exact", relaxation=relaxation)
    legacy = oo.solve(inst, "erds-exact", relaxation=relaxation, share_lp="legacy")
    _agree(warm, legacy)


def test_feasible_shares_closed_form_by_hand_and_against_bisection():
    """Pull-down onto sum w <= C. By hand: lo = 0.1, w = (0.5, 1.5), C = 1: t = 0.5 gives
    0.25 + 0.75 = 1. lo = 0.2, w = (0.2, 2.0), C = 1: the first share stays at lo, 0.2 + 2 t = 1,
    t = 0.4, w = (0.2, 0.8). Already feasible: unchanged. Random inputs: sum <= C exactly in
    floating point, and the former 100-step bisection agrees to 1e-12."""
    lo, hi = np.full(2, 0.1), np.full(2, 2.0)
    assert feasible_shares(np.array([0.5, 1.5]), lo, hi, 1.0) == pytest.approx([0.25, 0.75], abs=1e-15)
    lo = np.full(2, 0.2)
    assert feasible_shares(np.array([0.2, 2.0]), lo, hi, 1.0) == pytest.approx([0.2, 0.8], abs=1e-15)
    assert np.array_equal(feasible_shares(np.array([0.3, 0.4]), lo, hi, 1.0), [0.3, 0.4])
    rng = np.random.default_rng(0)
    for _ in range(500):
        U = int(rng.integers(1, 12))
        lo = np.full(U, rng.uniform(0.01, 0.1))
        hi = np.full(U, 1.0)
        C = float(rng.uniform(U * lo[0] * 1.01, 1.5))
        w = rng.uniform(0.0, 1.2, U)
        a = feasible_shares(w, lo, hi, C)
        assert a.sum() <= C and np.all(a >= lo) and np.all(a <= hi)
        assert a == pytest.approx(feasible_shares_bisect(w, lo, hi, C), abs=1e-12)


def test_solve_shares_stall_rule_keeps_valid_bounds():
    """Fixed splits (the heuristics' share solve): the warm node solver with the stall rule returns
    lb <= value, the value is F at the returned feasible shares (recomputed by oo.evaluate's
    objective), and it agrees with the legacy 500-round solve to the gap of either."""
    from optoffload.erds._shares_legacy import solve_node_legacy
    from optoffload.erds.evaluate import objective

    inst = oo.load("erds/paper-u3")
    for splits in [(1, 1, 1), (0, 2, 1), (3, 3, 3)]:
        w, val, lb = solve_shares(inst, splits, gap=1e-10)
        assert lb <= val and w.sum() <= inst.capacity + 1e-12
        assert val == pytest.approx(objective(inst, splits, w), rel=1e-12)
        prob = _Problem(inst)
        llb, lub, _, _ = solve_node_legacy(prob, dict(enumerate(splits)), [], np.inf, 1e-10, None)
        assert val >= llb * (1 - 1e-12) and lub >= lb * (1 - 1e-12)
        assert val == pytest.approx(lub, rel=1e-8)


def test_child_inherits_parent_rows_and_basis():
    """A child's LP starts from every row of its parent (so its first LP value is >= the parent's
    bound: the parent's cuts stay valid and only rows are added) and the parent's final basis."""
    inst = oo.load("erds/paper-u3")
    prob = _Problem(inst)
    lb0, _, _, st = _solve_node(prob, {}, None, np.inf, 1e-2, None)
    assert st.basis is not None and len(st.rows[0]) > 0
    n0 = prob.lp_solves
    lb1, _, _, st1 = _solve_node(prob, {2: 1}, st, np.inf, 1e-2, None)
    assert lb1 >= lb0 * (1 - 1e-9)
    assert len(st1.rows[0]) >= len(st.rows[0]) and np.array_equal(st1.rows[0][:len(st.rows[0])], st.rows[0])
    assert prob.lp_solves > n0


def test_share_lp_rejects_unknown_names():
    """share_lp must be "warm" or "legacy": the error names the field (CLI: exit 2, one line)."""
    import subprocess
    import sys

    with pytest.raises(oo.InvalidInstance, match="share_lp"):
        oo.solve("erds/paper-u2", "erds-exact", share_lp="cold")
    r = subprocess.run([sys.executable, "-m", "optoffload", "solve", "erds/paper-u2", "--method", "erds-exact",
                        "--option", "share_lp=cold"], capture_output=True, text=True)
    assert r.returncode == 2, r.stderr
    assert "share_lp" in r.stderr and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_erds_perf_exact_row():
    """The erds-perf ``exact-u3`` row runs both paths on paper-u3 in one process: the LP counts
    (deterministic) favour the warm path, the objectives agree to the certificate gap, and the
    report prints the target beside the measurement."""
    from pathlib import Path

    from optoffload.benchmarks.erds.perf import _report, _run

    row = _run({"id": "exact-u3", "kind": "exact-u3", "quick": True, "repeats": 1})
    assert row["lp_solves"] < row["lp_solves_legacy"] and row["status"] == "optimal"
    assert abs(row["rel_objective_diff"]) <= CERT_GAP
    row.update(id="exact-u3", kind="exact-u3")
    assert "target < 50 ms" in _report([row], Path("."))
