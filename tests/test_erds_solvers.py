"""ERDS methods: certified optimum vs brute force and vs every method, paper figures, time limits."""

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import optoffload as oo
from optoffload.cli import main
from optoffload.erds import objective

HEUR = ["erds-osa", "erds-hsa", "erds-brb", "iao"]
BASE = ["edgent-e", "edgent-m", "cloud-only", "edge-only", "random"]


def test_exact_paper_u3_certified():
    """erds-exact on erds/paper-u3: status optimal, bound within 1e-6, no worse than any method.

    Expected optimum 77.78 at s = (1,1,1), w ~ (0.166, 0.341, 0.493): erds.md 5.3 (an
    independent NumPy port of the authors' code, exact objective)."""
    inst = oo.load("erds/paper-u3")
    sol = oo.solve(inst, "erds-exact")
    assert sol.status == oo.Status.OPTIMAL
    assert sol.gap is not None and sol.gap <= 1e-6
    assert sol.objective - sol.bound <= 1e-6 * sol.objective
    assert sol.objective == pytest.approx(77.78, abs=0.01)
    assert sol.decisions["splits"] == [1, 1, 1]
    assert sol.decisions["shares"] == pytest.approx([0.166, 0.341, 0.493], abs=2e-3)
    for m in HEUR + BASE:
        opts = {"max_iter": 500} if m in HEUR else {}  # a shorter BRB run can only be worse
        other = oo.solve(inst, m, **opts)  # verify=True replays every solution
        assert sol.objective <= other.objective + 1e-9, m
        if other.bound is not None:
            assert other.bound <= sol.objective + 1e-6 * sol.objective, m


@pytest.mark.parametrize("U, expected, splits", [(1, 23.18, [2]), (2, 51.84, [1, 2])])
def test_exact_paper_u1_u2(U, expected, splits):
    """U = 1: w = 1, s = 2, 23.18; U = 2: s = (1, 2), w ~ (0.324, 0.676), 51.84 (erds.md 5.3)."""
    sol = oo.solve(f"erds/paper-u{U}", "erds-exact")
    assert sol.status == oo.Status.OPTIMAL
    assert sol.objective == pytest.approx(expected, abs=0.01)
    assert sol.decisions["splits"] == splits


def _grid_min(inst, W):
    """min over every split vector and every row of W (N x U shares) of eq. (7), by enumerating
    the K^U exit combinations (vectorised over W)."""
    from optoffload.erds import time_tables

    A, B = time_tables(inst)
    U, K = inst.U, inst.K
    P = inst.exit_probs
    combos = list(itertools.product(range(K), repeat=U))
    best = np.inf
    for s in itertools.product(range(K + 1), repeat=U):
        T = A[np.arange(U), s][None] / W[:, :, None] + B[np.arange(U), s][None]  # N x U x K
        f = sum(np.prod([P[u, k[u]] for u in range(U)]) * T[:, np.arange(U), list(k)].max(axis=1)
                for k in combos)
        best = min(best, float(f.min()))
    return best


def _check_against_grid(inst, sol, W, step):
    """The certified optimum is <= every grid point (global optimality) and >= grid min x
    (1 - step / w_min): rounding the optimal shares down onto the grid scales each share by at
    least (1 - step / w_min), and F(t w) <= F(w) / t for t <= 1 since T = A / w + B."""
    bf = _grid_min(inst, W)
    assert sol.bound <= bf + 1e-9  # the proven bound; the objective is within the 1e-8 leaf gap of it
    assert sol.objective <= bf * (1 + 1e-7)
    assert sol.objective >= bf * (1 - step / inst.w_min) - 1e-9


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), K=st.integers(1, 3), per_task=st.booleans())
def test_exact_matches_brute_force_tiny(seed, K, per_task):
    """U = 2: all (K+1)^2 split vectors on a full 2-D grid of {w >= w_min, sum w <= 1} and on a
    fine grid of the face sum w = 1."""
    inst = oo.generate("erds", seed=seed, tasks=2, exits=K, per_task_probs=per_task, w_min=0.1)
    sol = oo.solve(inst, "erds-exact")
    assert sol.status == oo.Status.OPTIMAL and sol.bound <= sol.objective
    g = np.linspace(0.1, 0.9, 161)
    W = np.array([(a, b) for a in g for b in g if a + b <= 1 + 1e-12])
    _check_against_grid(inst, sol, W, g[1] - g[0])
    f = np.linspace(0.1, 0.9, 8001)
    _check_against_grid(inst, sol, np.c_[f, 1 - f], f[1] - f[0])


def test_exact_matches_brute_force_u3_grid():
    """U = 3, K = 2: all 27 split vectors on a grid of the face sum w = 1."""
    for seed in (11, 12):
        inst = oo.generate("erds", seed=seed, tasks=3, exits=2, w_min=0.1)
        sol = oo.solve(inst, "erds-exact")
        g = np.linspace(0.1, 0.8, 701)
        a, b = np.meshgrid(g, g)
        W = np.c_[a.ravel(), b.ravel(), 1 - a.ravel() - b.ravel()]
        W = W[W[:, 2] >= 0.1 - 1e-12]
        _check_against_grid(inst, sol, W, g[1] - g[0])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), U=st.integers(1, 4), K=st.integers(1, 5), per_task=st.booleans())
def test_exact_no_worse_than_every_method(seed, U, K, per_task):
    """On 100 random instances erds-exact <= every method, and every proven bound <= its objective.

    BRB methods run with a small iteration budget: a cheaper run can only be worse."""
    inst = oo.generate("erds", seed=seed, tasks=U, exits=K, per_task_probs=per_task)
    ex = oo.solve(inst, "erds-exact", time_limit=60)
    assert ex.status == oo.Status.OPTIMAL
    assert ex.bound <= ex.objective
    for m in HEUR + BASE:
        opts = {"max_iter": 60} if m in HEUR else {}
        other = oo.solve(inst, m, seed=seed, **opts)
        # OPTIMAL is certified to the method's relative gap 1e-8, so a heuristic may tie within it
        assert ex.objective <= other.objective * (1 + 1e-8) + 1e-9, (m, ex.objective, other.objective)
        if other.bound is not None:
            assert other.bound <= ex.objective * (1 + 1e-6), m


def test_share_lp_matches_grid_for_fixed_splits():
    """The convex share problem (fixed splits) is solved to optimality: no grid point beats it."""
    from optoffload.erds.shares import solve_shares

    inst = oo.load("erds/paper-u2")
    for s in [(0, 0), (1, 2), (5, 5), (2, 1)]:
        w, val, lb = solve_shares(inst, s)
        assert lb <= val <= lb * (1 + 1e-7)
        grid = min(objective(inst, s, (a, 1 - a)) for a in np.linspace(0.1, 0.9, 801))
        assert val <= grid + 1e-9 and val >= grid * (1 - 1e-3)


def test_osa_branch_and_bound_equals_exhaustive(monkeypatch):
    """The B&B path of OSA returns the exhaustive OSA value (paper's EOA) for fixed shares."""
    import optoffload.erds.inner as inner

    rng = np.random.default_rng(5)
    for seed in range(30):
        inst = oo.generate("erds", seed=seed, tasks=3, exits=4, per_task_probs=True)
        w = rng.dirichlet(np.ones(3)) * 0.7 + inst.w_min
        _, v_all = inner.osa_exhaustive(inst, w)
        monkeypatch.setattr(inner, "ENUM_LIMIT", 0)
        s, v = inner.osa(inst, w, return_value=True)
        monkeypatch.undo()
        assert v == pytest.approx(v_all, rel=1e-12)
        assert objective(inst, s, w) == pytest.approx(v_all, rel=1e-12)


def test_hsa_is_osa_for_one_task():
    """With U = 1 the max is the task itself: HSA's per-task rule is optimal (erds.md 3.3)."""
    from optoffload.erds.inner import hsa, osa

    for seed in range(20):
        inst = oo.generate("erds", seed=seed, tasks=1, exits=5)
        w = [1.0]
        assert objective(inst, hsa(inst, w), w) == pytest.approx(objective(inst, osa(inst, w), w))


def test_paper_figures_with_sampled_evaluator():
    """erds.md 5.2 (paper, U = 3, original scenario): Edgent-E 81.60 and Edgent-M 147.9 exactly;
    ERDS-OSA within 0.5 % of 65.25; Cloud-Only 96.07, Edge-Only 104.22 and IAO 90.88 within 0.5 %."""
    inst = oo.load("erds/paper-u3")
    assert oo.solve(inst, "edgent-e", evaluator="sampled").objective == pytest.approx(81.60, abs=1e-9)
    assert oo.solve(inst, "edgent-m", evaluator="sampled").objective == pytest.approx(147.9, abs=1e-9)
    osa = oo.solve(inst, "erds-osa", evaluator="sampled")
    assert abs(osa.objective - 65.25) <= 0.005 * 65.25
    assert osa.decisions["evaluator"] == "sampled"
    for m, paper in [("cloud-only", 96.07), ("edge-only", 104.22), ("iao", 90.88)]:
        assert oo.solve(inst, m, evaluator="sampled").objective == pytest.approx(paper, rel=5e-3), m


def test_time_limit_returns_incumbent_not_exception():
    """A tiny time limit on a large instance gives FEASIBLE/UNKNOWN with a valid bound."""
    inst = oo.generate("erds", seed=1, tasks=40, per_task_probs=True)
    sol = oo.solve(inst, "erds-exact", time_limit=0.3)
    assert sol.status in (oo.Status.FEASIBLE, oo.Status.UNKNOWN, oo.Status.OPTIMAL)
    if sol.status.has_solution:
        assert sol.bound is None or sol.bound <= sol.objective


def test_random_baseline_is_seeded():
    """Same seed, same splits; the seed is recorded."""
    inst = oo.generate("erds", seed=2, tasks=5)
    a, b = oo.solve(inst, "random", seed=7), oo.solve(inst, "random", seed=7)
    assert a.decisions == b.decisions and a.info["seed"] == 7


def test_cli_bad_method_option_exit_2(capsys):
    """A bad method option is bad input: exit status 2, one line naming the field."""
    assert main(["solve", "erds/paper-u1", "--method", "edgent-e", "--option", "evaluator=mc"]) == 2
    assert "evaluator" in capsys.readouterr().err
    assert main(["solve", "erds/paper-u1", "--method", "erds-exact", "--json"]) == 0
