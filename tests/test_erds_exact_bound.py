"""erds-exact under a limit: the reported bound is a valid global lower bound and, with the
deterministic ``node_limit``, never decreases when the limit grows (best-first order, docs/erds.md
"erds-exact: bound under a limit")."""

import itertools

import numpy as np
import pytest

import optoffload as oo
from optoffload.erds import time_tables


def _scaled(U, seed):
    """The scaled-edge family of erds-gap / erds-scale (nu_E = 6/U, per-task exit probabilities)."""
    return oo.generate("erds", seed=seed, tasks=U, exits=5, per_task_probs=True, edge_factor=6.0 / U)


def _grid_min_u3(inst, n=201):
    """Brute force, independent of erds-exact: min of eq. (7) over every split vector and a grid of
    the face sum w = C of the U = 3 share simplex, the expectation by enumerating the K^3 exit
    combinations. Any feasible point's value is >= the optimum, so every valid bound is <= this."""
    A, B = time_tables(inst)
    U, K, P = inst.U, inst.K, inst.exit_probs
    g = np.linspace(inst.w_min, inst.capacity - 2 * inst.w_min, n)
    a, b = np.meshgrid(g, g)
    W = np.c_[a.ravel(), b.ravel(), inst.capacity - a.ravel() - b.ravel()]
    W = W[W[:, 2] >= inst.w_min - 1e-12]
    combos = list(itertools.product(range(K), repeat=U))
    weights = [np.prod([P[u, k[u]] for u in range(U)]) for k in combos]
    best = np.inf
    idx = np.arange(U)
    for s in itertools.product(range(K + 1), repeat=U):
        T = A[idx, s][None] / W[:, :, None] + B[idx, s][None]  # N x U x K
        f = sum(p * T[:, idx, list(k)].max(axis=1) for p, k in zip(weights, combos))
        best = min(best, float(f.min()))
    return best


@pytest.mark.parametrize("U, seed, step", [(3, 1, 1), (4, 0, 16)])
def test_node_limit_bound_valid_and_monotone(U, seed, step):
    """For every node limit: the bound is <= the certified optimum (and, at U = 3, <= a brute-force
    grid value); the bound never decreases as the limit grows; a limit past the tree size gives
    the unlimited result."""
    inst = _scaled(U, seed)
    full = oo.solve(inst, "erds-exact")
    assert full.status == oo.Status.OPTIMAL
    n = full.info["nodes"]
    assert n > 10  # the limits below stop the search at many different points
    ref = full.objective  # >= the true optimum, which every valid bound is below
    if U == 3:
        grid = _grid_min_u3(inst)
        assert full.bound <= grid + 1e-9
        ref = min(ref, grid)
    prev = -np.inf
    for nl in list(range(0, n, step)) + [n + 1]:
        sol = oo.solve(inst, "erds-exact", node_limit=nl)  # verify=True replays the incumbent
        assert sol.status == (oo.Status.OPTIMAL if nl > n else oo.Status.FEASIBLE), nl
        assert sol.bound <= sol.objective, nl
        assert sol.bound <= ref * (1 + 1e-12), (nl, sol.bound, ref)
        assert sol.bound >= prev * (1 - 1e-12), (nl, sol.bound, prev)
        prev = sol.bound
    assert sol.objective == pytest.approx(full.objective, rel=1e-12)
    assert sol.bound == pytest.approx(full.bound, rel=1e-12)


def test_time_limited_hard_instance_bound_below_every_method():
    """U = 16, scaled edge (erds-scale's instance, not certified within 60 s): a 2 s run is FEASIBLE
    with bound <= its objective and <= every heuristic's and baseline's objective (OSA-based
    methods are exponential in U and left out). The deterministic node limits 0, 10, 40 give
    non-decreasing bounds."""
    inst = _scaled(16, 0)
    sol = oo.solve(inst, "erds-exact", time_limit=2.0)
    assert sol.status == oo.Status.FEASIBLE
    assert sol.bound is not None and sol.bound <= sol.objective
    for m, opts in [("erds-hsa", {"max_iter": 50}), ("edgent-e", {}), ("edgent-m", {}),
                    ("cloud-only", {}), ("edge-only", {}), ("random", {})]:
        other = oo.solve(inst, m, **opts)
        assert sol.bound <= other.objective, (m, sol.bound, other.objective)
    bounds = [oo.solve(inst, "erds-exact", node_limit=nl).bound for nl in (0, 10, 40)]
    assert bounds == sorted(bounds)
    assert bounds[-1] <= sol.objective


def test_node_limit_rejects_bad_values():
    """node_limit must be an integer >= 0: the error names the field."""
    inst = oo.load("erds/paper-u2")
    for bad in (-1, 2.5, True):
        with pytest.raises(oo.InvalidInstance, match="node_limit"):
            oo.solve(inst, "erds-exact", node_limit=bad)


def test_coupled_free_rows_underestimate_every_split():
    """The "coupled" free-task row (chord of the concave min_s A_s y + B_s on [1/hi, 1/lo]) is <= the
    time of every candidate split at every share of the task's range (checked on a 101-point grid
    in y, and equal to the fastest split at both ends), and >= the "simple" constant."""
    from optoffload.erds.shares import _Problem

    for U, seed in [(3, 1), (6, 2), (16, 0)]:
        inst = _scaled(U, seed)
        cp, sp = _Problem(inst, relaxation="coupled"), _Problem(inst, relaxation="simple")
        a, b = cp.relaxed_rows({})
        a0, b0 = sp.relaxed_rows({})
        assert np.all(a0 == 0) and np.all(a >= 0)
        for u in range(U):
            c = cp.cand[u]
            ys = np.linspace(1 / cp.hi[u], 1 / cp.lo[u], 101)
            T = cp.A[u, c][None] * ys[:, None, None] + cp.B[u, c][None]  # y x split x exit
            row = a[u][None] * ys[:, None] + b[u][None]  # y x exit
            assert np.all(row <= T.min(axis=1) * (1 + 1e-12) + 1e-12), (U, u)
            assert np.all(row >= b0[u][None] * (1 - 1e-12)), (U, u)
            assert np.allclose(row[[0, -1]], T.min(axis=1)[[0, -1]], rtol=1e-12)


@pytest.mark.parametrize("U, seed", [(3, 1), (3, 4), (4, 0), (5, 2)])
def test_coupled_root_bound_tighter_and_valid(U, seed):
    """Root bounds: with node_limit=0 (the cheap bound, all tasks at their fastest split and largest
    share) both relaxations agree; with node_limit=1 (the root LP, closed to 1e-8 so the
    pointwise argument of docs/erds.md applies) "coupled" >= "simple". Every bound, also at the
    default inner gap, is <= the certified optimum and, at U = 3, <= the brute-force grid value.
    The certified optimum is the same under both relaxations (to the certificate gap)."""
    inst = _scaled(U, seed)
    full = {r: oo.solve(inst, "erds-exact", relaxation=r) for r in ("simple", "coupled")}
    for sol in full.values():
        assert sol.status == oo.Status.OPTIMAL
    assert full["coupled"].objective == pytest.approx(full["simple"].objective, rel=1e-7)
    ref = min(s.objective for s in full.values())
    if U == 3:
        ref = min(ref, _grid_min_u3(inst))
    b0 = {r: oo.solve(inst, "erds-exact", relaxation=r, node_limit=0).bound for r in full}
    b1 = {r: oo.solve(inst, "erds-exact", relaxation=r, node_limit=1, inner_gap=1e-8).bound for r in full}
    b1d = {r: oo.solve(inst, "erds-exact", relaxation=r, node_limit=1).bound for r in full}
    assert b0["coupled"] == pytest.approx(b0["simple"], rel=1e-12)
    assert b1["coupled"] >= b1["simple"] * (1 - 1e-7), (b1, ref)
    for b in (*b0.values(), *b1.values(), *b1d.values()):
        assert b <= ref * (1 + 1e-12), (b, ref)


def test_relaxation_rejects_unknown_names():
    """relaxation must be "coupled" or "simple", inner_gap a float in (0, 0.1): errors name the field."""
    with pytest.raises(oo.InvalidInstance, match="relaxation"):
        oo.solve(oo.load("erds/paper-u2"), "erds-exact", relaxation="tight")
    for bad in (0.0, 0.5, 1):
        with pytest.raises(oo.InvalidInstance, match="inner_gap"):
            oo.solve(oo.load("erds/paper-u2"), "erds-exact", inner_gap=bad)
