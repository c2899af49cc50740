"""The ordering MILPs of the progressive family (issue #15): the nested-knapsack model (default)
and the original linear-ordering model (``formulation="linear-ordering"``).

References: the subset DP (``exact``, itself checked against brute force over permutations in
test_progressive_methods.py), brute force over permutations here for the dominance rows, and the
two halves of the exactness proof in the module docstring, checked on the model's own data
(every order gives a feasible x of the same value; the order decoded from a feasible x is worth
at least x). No test asserts a time.
"""

import itertools
import subprocess
import sys

import numpy as np
import pytest

import optoffload as oo
from optoffload import InvalidInstance
from optoffload.benchmarks.progressive.ordering_milp import ordering_instance, recipe
from optoffload.formulations.progressive import milp as M
from optoffload.formulations.progressive.exact import ordering_dp

TOL = 1e-9


def _gen(n, seed):
    return oo.generate("progressive", problem="ordering", size=n, seed=seed)


def _dp(inst):
    return inst.spec.value(ordering_dp(inst.spec))


@pytest.mark.parametrize("seed", range(18))
def test_nested_knapsack_equals_the_subset_dp(seed):
    """18 random instances of 3-11 chunks: the default model reaches the DP's optimum, proves it
    (OPTIMAL, bound >= objective), and the decoded order scores the model's own objective."""
    inst = _gen(3 + seed % 9, 200 + seed)
    ref = _dp(inst)
    sol = oo.solve(inst, "milp", time_limit=120)
    assert sol.status == oo.Status.OPTIMAL
    assert sol.info["formulation"] == "nested-knapsack"
    assert sol.objective == pytest.approx(ref, abs=TOL)
    assert inst.spec.value(sol.decisions["order"]) == pytest.approx(sol.objective, abs=1e-12)
    assert sol.info["model_objective"] == pytest.approx(sol.objective, abs=1e-7)
    assert sol.bound >= sol.objective - TOL


@pytest.mark.parametrize("seed", range(6))
def test_both_formulations_equal_the_dp(seed):
    """3-6 chunks (the old model is slow beyond): both formulations reach the DP optimum."""
    inst = _gen(3 + seed % 4, 300 + seed)
    ref = _dp(inst)
    for form in M.FORMULATIONS:
        sol = oo.solve(inst, "milp", time_limit=120, formulation=form)
        assert sol.status == oo.Status.OPTIMAL, form
        assert sol.info["formulation"] == form
        assert sol.objective == pytest.approx(ref, abs=TOL), form
        assert sol.bound >= sol.objective - TOL
        assert inst.spec.value(sol.decisions["order"]) == pytest.approx(sol.objective, abs=1e-12)


def test_hand_example_both_formulations():
    """docs/progressive.md hand example (ordering-small): optimum b, c, a, d = 6.5 by hand."""
    inst = oo.load("progressive/ordering-small")
    for form in M.FORMULATIONS:
        sol = oo.solve(inst, "milp", formulation=form)
        assert sol.objective == pytest.approx(6.5)
        assert sol.decisions["order"][2:] == [0, 3]


def _x_of_order(sp, order):
    """Part (a) of the proof: x[i, j] = 1 iff C_i <= s_j, on the model's kept levels."""
    vals, _p, _c, _f = M.ordering_levels(sp)
    comp = np.empty(len(order))
    comp[np.asarray(order)] = np.cumsum(sp.sizes[np.asarray(order)])
    return comp[:, None] <= vals[None, :] + M.LEVEL_TOL


def _x_value(sp, x):
    vals, probs, const, _f = M.ordering_levels(sp)
    return const + float(np.sum(sp.importance[:, None] * probs[None, :] * x))


def _feasible(sp, x):
    vals, _p, _c, first = M.ordering_levels(sp)
    J = len(vals)
    knap = np.all(sp.sizes @ x <= vals + M.LEVEL_TOL)
    nested = np.all(x[:, :-1] <= x[:, 1:]) if J > 1 else True
    exists = all(not x[i, :first[i]].any() for i in range(len(sp.sizes)))  # no x below c_i
    return knap and nested and exists


@pytest.mark.parametrize("seed", range(8))
def test_every_order_gives_a_feasible_x_of_the_same_value(seed):
    """Proof part (a), on the reduced levels (subset-sum capacities, merged and dropped levels):
    200 random orders (and the DP's) map to feasible x whose model value is the simulator's."""
    sp = _gen(4 + seed, 400 + seed).spec
    rng = np.random.default_rng(seed)
    orders = [rng.permutation(len(sp.sizes)).tolist() for _ in range(200)] + [ordering_dp(sp)]
    for order in orders:
        x = _x_of_order(sp, order)
        assert _feasible(sp, x)
        assert _x_value(sp, x) == pytest.approx(sp.value(order), abs=1e-12)


@pytest.mark.parametrize("seed", range(8))
def test_the_decoded_order_is_worth_at_least_x(seed):
    """Proof part (b): random feasible x (each level a random subset of the next that fits, top
    level down) decode to an order worth at least x in the simulator."""
    sp = _gen(4 + seed, 500 + seed).spec
    vals, _p, _c, first = M.ordering_levels(sp)
    n, J = len(sp.sizes), len(vals)
    rng = np.random.default_rng(seed)
    for _ in range(100):
        x = np.zeros((n, J), dtype=bool)
        allowed = np.ones(n, dtype=bool)
        for j in reversed(range(J)):
            room = vals[j] + M.LEVEL_TOL
            for i in rng.permutation(n):
                if allowed[i] and first[i] <= j and sp.sizes[i] <= room and rng.random() < 0.8:
                    x[i, j] = True
                    room -= sp.sizes[i]
            allowed = x[:, j].copy()
        assert _feasible(sp, x)
        level = [int(np.argmax(x[i])) if x[i].any() else J for i in range(n)]
        order = M.decode_order(sp.sizes, sp.importance, level)
        assert sp.value(order) >= _x_value(sp, x) - 1e-12


@pytest.mark.parametrize("seed", range(10))
def test_dominance_keeps_an_optimal_order(seed):
    """The dominance rows (a before b if c_a <= c_b and w_a >= w_b) keep an optimum: brute force
    over the permutations of 6-7 chunks that respect every pair (transitive reduction) equals
    the best permutation overall."""
    n = 6 + seed % 2
    inst = _gen(n, 600 + seed)
    sp = inst.spec
    pairs = M.dominance_pairs(sp.sizes, sp.importance)
    assert pairs  # random draws always have some dominated chunk at this size
    best = max(sp.value(p) for p in itertools.permutations(range(n)))
    ok = []
    for p in itertools.permutations(range(n)):
        pos = {k: t for t, k in enumerate(p)}
        if all(pos[a] < pos[b] for a, b in pairs):
            ok.append(sp.value(p))
    assert max(ok) == pytest.approx(best, abs=1e-12)


def test_dominance_with_equal_chunks_is_a_strict_order():
    """Two identical chunks: one row, the smaller index first (no cycle)."""
    c, w = np.array([5.0, 5.0, 9.0]), np.array([1.0, 1.0, 0.5])
    assert M.dominance_pairs(c, w) == [(0, 1), (1, 2)]  # 0 > 1 > 2; (0, 2) follows by transitivity


def test_subset_sum_capacities():
    """Sizes 3 and 5: subset sums 0, 3, 5, 8. Budgets 4, 6, 7 reduce to 3, 5, 5: levels 6 and 7
    merge (probabilities add); 9 >= 8 = total is the constant (every chunk whole)."""
    d = {"format": 1, "family": "progressive", "name": "t", "problem": "ordering",
         "chunks": [{"bytes": 3, "importance": 1.0}, {"bytes": 5, "importance": 2.0}],
         "budget": {"bytes": [4, 6, 7, 9], "probs": [0.1, 0.2, 0.3, 0.4]}}
    sp = oo.from_dict(d).spec
    vals, probs, const, first = M.ordering_levels(sp)
    assert vals.tolist() == [3.0, 5.0] and probs.tolist() == pytest.approx([0.1, 0.5])
    assert const == pytest.approx(3.0 * 0.4) and first.tolist() == [0, 1]
    # by hand: order (0, 1): chunk 0 whole if S >= 3 (always: 1.0), chunk 1 if S >= 8 (0.4): 1 + 0.8 = 1.8;
    # order (1, 0): chunk 1 if S >= 5 (0.9): 1.8, chunk 0 if S >= 8 (0.4): 0.4; total 2.2
    sol = oo.solve(oo.from_dict(d), "milp")
    assert sol.objective == pytest.approx(2.2) and sol.decisions["order"] == [1, 0]
    assert M.subset_sums(np.array([1.5, 2.0])) is None  # fractional sizes: no reduction


def test_model_nonzeros_counts_the_built_model(monkeypatch):
    """model_nonzeros is the exact nonzero count of the model HiGHS receives (both formulations),
    counted here from the Pyomo model's rows and objective."""
    from pyomo.core.expr.visitor import identify_variables
    import pyomo.environ as pyo

    seen = {}
    real = M._solve

    def spy(model, *a, **k):
        nnz = sum(len(list(identify_variables(con.body))) for con in model.component_data_objects(pyo.Constraint))
        nnz += len(list(identify_variables(model.obj.expr)))
        seen["nnz"] = nnz
        return real(model, *a, **k)

    monkeypatch.setattr(M, "_solve", spy)
    for n, seed in ((4, 1), (6, 2), (10, 3)):
        inst = _gen(n, seed)
        for form in M.FORMULATIONS if n <= 6 else M.FORMULATIONS[:1]:
            oo.solve(inst, "milp", formulation=form, time_limit=60)
            assert seen.pop("nnz") == M.model_nonzeros(inst, form), (n, form)


@pytest.mark.parametrize("form", ["nested-knapsack", "linear-ordering"])
def test_time_limit_skip_for_both_formulations(form, monkeypatch):
    """Build priced above the limit: not built, the ratio rule (FEASIBLE, load-skipped) with a
    valid bound (the DP optimum is between objective and bound)."""
    monkeypatch.setattr(M, "SEC_PER_NZ", 1e6)
    inst = _gen(7, 2)
    sol = oo.solve(inst, "milp", time_limit=5, formulation=form)
    assert sol.status == oo.Status.FEASIBLE and sol.info["native_status"] == "load-skipped"
    assert sol.info["formulation"] == form
    ref = _dp(inst)
    assert sol.objective <= ref + 1e-12 <= sol.bound + 2e-12


def test_time_limit_mid_build_skips(monkeypatch):
    """The clock passes during the build (_check sees the deadline): load-skipped, never an exception."""
    inst = _gen(9, 4)
    calls = {"n": 0}
    real = M._check

    def late(deadline, nnz):
        calls["n"] += 1
        if calls["n"] > 1:
            raise M._Skip("time limit reached while building the model (test)")
        return real(deadline, nnz)

    monkeypatch.setattr(M, "_check", late)
    sol = oo.solve(inst, "milp", time_limit=30)
    assert sol.status == oo.Status.FEASIBLE and sol.info["native_status"] == "load-skipped"


def test_larger_instances_beyond_the_dp():
    """30 chunks by the generator's recipe (the DP stops at 22): a valid order (oo.verify replays it
    inside solve) and bound >= objective, whatever the status within a short limit."""
    inst = ordering_instance(30, 1)
    sol = oo.solve(inst, "milp", time_limit=3)
    assert sorted(sol.decisions["order"]) == list(range(30))
    assert sol.bound >= sol.objective - TOL
    assert sol.status in (oo.Status.OPTIMAL, oo.Status.FEASIBLE)


def test_recipe_is_the_generators():
    """ordering_instance's recipe reproduces oo.generate's chunks and budget where both exist."""
    for n, seed in ((5, 0), (22, 3)):
        want = _gen(n, seed).to_dict()
        got = recipe(n, seed)
        assert got["chunks"] == want["chunks"] and got["budget"] == want["budget"]


def test_bad_formulation_is_rejected():
    inst = _gen(4, 0)
    with pytest.raises(InvalidInstance, match="formulation"):
        oo.solve(inst, "milp", formulation="nope")
    with pytest.raises(InvalidInstance, match="formulation"):
        oo.solve(oo.generate("progressive", problem="airtime", size=2, slots=4), "milp",
                 formulation="linear-ordering")


def test_cli_formulation_option():
    """CLI: --option formulation=linear-ordering solves (exit 0); a bad name exits 2 with one line on stderr."""
    run = [sys.executable, "-m", "optoffload", "solve", "progressive/ordering-small", "--method", "milp"]
    ok = subprocess.run(run + ["--option", "formulation=linear-ordering", "--json"], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert '"formulation": "linear-ordering"' in ok.stdout
    bad = subprocess.run(run + ["--option", "formulation=nope"], capture_output=True, text=True)
    assert bad.returncode == 2
    assert len(bad.stderr.strip().splitlines()) == 1 and "formulation" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_ordering_milp_suite_rows():
    """progressive-ordering-milp, quick tasks of 5 chunks: both formulations proven optimal and equal
    to the DP (to 1e-9), the report has a row per formulation and size."""
    from optoffload.benchmarks.progressive import ordering_milp as S

    tasks = [t for t in S._tasks(True) if t["size"] == 5]
    assert {t["formulation"] for t in tasks} == set(M.FORMULATIONS)
    rows = [{**t, **S._run(t)} for t in tasks]
    assert all(r["status"] == "optimal" and abs(r["milp_vs_dp"]) <= TOL for r in rows)
    rep = S._report(rows, None)
    assert "| nested-knapsack | 5 |" in rep and "| linear-ordering | 5 |" in rep


@pytest.mark.parametrize("budget, want", [([8, 10], 3.0), ([1, 2], 0.0), ([0, 9], 1.5)])
def test_levels_that_are_all_constant(budget, want):
    """Chunks 3 B (importance 1) and 5 B (2), S uniform on two values. By hand: budgets 8 and 10
    hold both chunks in any order (1 + 2 = 3); 1 and 2 hold none (0); 0 or 9: both with
    probability 1/2 (1.5). No level is left for the model: OPTIMAL without HiGHS, bound = objective."""
    d = {"format": 1, "family": "progressive", "name": "t", "problem": "ordering",
         "chunks": [{"bytes": 3, "importance": 1.0}, {"bytes": 5, "importance": 2.0}],
         "budget": {"bytes": budget, "probs": [0.5, 0.5]}}
    sol = oo.solve(oo.from_dict(d), "milp")
    assert sol.status == oo.Status.OPTIMAL and sol.info["levels"] == 0
    assert sol.objective == pytest.approx(want) and sol.bound == pytest.approx(want)


@pytest.mark.parametrize("seed", range(4))
def test_fractional_sizes_equal_the_dp(seed):
    """Non-integer chunk sizes (no subset-sum reduction): generated instances with sizes x 1.37 and
    8-10 chunks; the MILP equals the subset DP."""
    d = _gen(8 + seed % 3, 700 + seed).to_dict()
    for ch in d["chunks"]:
        ch["bytes"] = ch["bytes"] * 1.37
    inst = oo.from_dict(d)
    assert M.subset_sums(inst.spec.sizes) is None
    sol = oo.solve(inst, "milp", time_limit=120)
    assert sol.status == oo.Status.OPTIMAL
    assert sol.objective == pytest.approx(_dp(inst), abs=TOL)
