"""erds-pyomo and erds-cpsat (formulations/erds/pyomo.py, cpsat.py) against independent references.

References: ``erds-exact`` (the certified branch and bound of formulations/erds/exact.py, its own
tests check it against brute force) for the continuous optimum; for the CP-SAT grid model a brute
force here, enumerating every share-grid point and every split vector with the exact evaluator.
"""

import itertools
import math

import numpy as np
import pytest

import optoffload as oo
from optoffload.erds.evaluate import objective
from optoffload.erds.shares import _bounds
from optoffload.formulations.erds.cpsat import grid_range

REL = 1e-6


def _scip_ok():
    try:
        import pyomo.environ as pyo

        return pyo.SolverFactory("scip_direct").available(exception_flag=False)
    except Exception:  # noqa: BLE001
        return False


def _instances(n):
    """n random instances, U = 1..3, K = 2..3, one or per-task exit distributions (seeded)."""
    out = []
    for seed in range(n):
        U = 1 + seed % 3
        K = 2 + (seed // 3) % 2
        out.append(oo.generate("erds", seed=1000 + seed, tasks=U, exits=K, per_task_probs=bool(seed % 2), w_min=0.1))
    return out


@pytest.mark.parametrize("name", ["erds/paper-u1", "erds/paper-u2", "erds/paper-u3"])
def test_pyomo_highs_paper_equals_exact(name):
    ex = oo.solve(name, "erds-exact")
    s = oo.solve(name, "erds-pyomo")  # verify=True replays the plan
    assert s.status is oo.Status.OPTIMAL
    assert abs(s.objective - ex.objective) <= REL * ex.objective
    assert s.bound <= ex.objective * (1 + 1e-9)


@pytest.mark.skipif(not _scip_ok(), reason="pyscipopt not installed")
@pytest.mark.parametrize("name", ["erds/paper-u1", "erds/paper-u2", "erds/paper-u3"])
def test_pyomo_scip_paper_equals_exact(name):
    ex = oo.solve(name, "erds-exact")
    s = oo.solve(name, "erds-pyomo", solver="scip")
    assert s.status is oo.Status.OPTIMAL, s.info
    assert abs(s.objective - ex.objective) <= REL * ex.objective
    assert s.bound <= ex.objective * (1 + 1e-9)


@pytest.mark.slow
def test_pyomo_highs_equals_exact_100_random():
    for inst in _instances(100):
        ex = oo.solve(inst, "erds-exact")
        s = oo.solve(inst, "erds-pyomo")
        assert s.status is oo.Status.OPTIMAL, (inst.name, s.info)
        assert abs(s.objective - ex.objective) <= REL * max(1.0, ex.objective), inst.name
        assert s.bound <= ex.objective * (1 + 1e-9) and ex.bound <= s.objective * (1 + 1e-9), inst.name


def test_pyomo_clean_model_equals_dominance_model():
    inst = oo.generate("erds", seed=7, tasks=2, exits=3)
    a = oo.solve(inst, "erds-pyomo", dominance=False)
    b = oo.solve(inst, "erds-pyomo", dominance=True)
    assert a.status is b.status is oo.Status.OPTIMAL
    assert math.isclose(a.objective, b.objective, rel_tol=REL)


def test_pyomo_sampled_variant_rescored_exactly():
    inst = oo.load("erds/paper-u3")
    ex = oo.solve(inst, "erds-exact")
    s = oo.solve(inst, "erds-pyomo", outcomes="sampled", samples=300, seed=3)
    assert s.status is oo.Status.FEASIBLE and s.bound is None
    assert s.info["outcomes"] == "sampled" and s.info["n_outcomes"] <= 125
    assert s.objective >= ex.objective * (1 - 1e-9)  # a feasible plan, scored by the exact evaluator
    assert math.isclose(s.objective, objective(inst, s.decisions["splits"], s.decisions["shares"]), rel_tol=1e-12)


def _grid_optimum(inst, resolution):
    """Brute force: min over all grid share vectors (sum <= N) and all split vectors of eq. (7)
    written out over the K^U joint exit outcomes (vectorised; independent of evaluate.py's
    product-of-CDFs formula)."""
    from optoffload.erds.evaluate import time_tables

    delta, glo, ghi, N = grid_range(inst, resolution)
    A, B = time_tables(inst)
    U, K = inst.U, inst.K
    sv = np.array(list(itertools.product(range(K + 1), repeat=U)))  # split vectors
    ko = np.array(list(itertools.product(range(K), repeat=U)))  # joint outcomes
    pk = np.prod([inst.exit_probs[u, ko[:, u]] for u in range(U)], axis=0)
    best = math.inf
    for g in itertools.product(*[range(int(a), int(b) + 1) for a, b in zip(glo, ghi)]):
        if sum(g) > N:
            continue
        w = np.asarray(g, dtype=float) * delta
        # T[v, o, u] = A[u, s_vu, k_ou] / w_u + B[u, s_vu, k_ou]
        T = np.stack([A[u][sv[:, u]][:, ko[:, u]] / w[u] + B[u][sv[:, u]][:, ko[:, u]] for u in range(U)], axis=2)
        best = min(best, float((T.max(axis=2) @ pk).min()))
    return best


@pytest.mark.slow
def test_cpsat_equals_grid_enumeration_100_random():
    for i, inst in enumerate(_instances(100)):
        res = 0.1 if inst.U == 3 else 0.05
        ref = _grid_optimum(inst, res)
        check_bound = i % 4 == 0
        s = oo.solve(inst, "erds-cpsat", resolution=res, continuous_bound=check_bound)
        assert s.info["grid_status"] == "optimal"
        # integer scaling error (docstring) is ~1e-6 absolute; the grid optimum is found to it
        assert abs(s.objective - ref) <= 1e-6 * max(1.0, ref), (inst.name, s.objective, ref)
        assert s.info["grid_bound"] <= ref * (1 + 1e-12)
        if check_bound:  # and against the continuous optimum
            ex = oo.solve(inst, "erds-exact")
            assert s.objective >= ex.objective * (1 - 1e-9)
            assert s.bound <= ex.objective * (1 + 1e-9)


@pytest.mark.parametrize("name", ["erds/paper-u1", "erds/paper-u2", "erds/paper-u3"])
def test_cpsat_paper_one_percent_grid(name):
    ex = oo.solve(name, "erds-exact")
    s = oo.solve(name, "erds-cpsat", resolution=0.01)
    assert s.info["grid_status"] == "optimal"
    assert s.objective >= ex.objective * (1 - 1e-9)  # a grid point is a feasible plan
    assert s.bound <= ex.objective * (1 + 1e-9)  # the relaxed grid model bounds the continuous optimum
    # within the certified error objective - bound, and the a priori delta / (w_min - delta)
    assert s.objective - ex.objective <= s.objective - s.bound + 1e-9
    assert s.objective - ex.objective <= s.info["grid_error_a_priori"]


def test_cpsat_refining_the_grid_never_goes_below_exact():
    inst = oo.load("erds/paper-u2")
    ex = oo.solve(inst, "erds-exact").objective
    vals = [oo.solve(inst, "erds-cpsat", resolution=r).objective for r in (0.1, 0.05, 0.01)]
    assert all(v >= ex * (1 - 1e-9) for v in vals)
    assert vals[2] <= vals[0] + 1e-9  # the 0.01 grid contains the 0.1 grid


@pytest.mark.parametrize("method", ["erds-pyomo", "erds-cpsat"])
def test_time_limit_no_exception(method):
    inst = oo.generate("erds", seed=3, tasks=4, exits=5)
    s = oo.solve(inst, method, time_limit=0.05)
    assert s.status in (oo.Status.OPTIMAL, oo.Status.FEASIBLE, oo.Status.UNKNOWN)


@pytest.mark.parametrize("method,opt,val", [("erds-pyomo", "solver", "gurobi"), ("erds-pyomo", "outcomes", "x"),
                                            ("erds-cpsat", "resolution", 0.0), ("erds-cpsat", "resolution", 2)])
def test_bad_options_name_the_option(method, opt, val):
    with pytest.raises(oo.InvalidInstance, match=opt):
        oo.solve("erds/paper-u2", method, **{opt: val})


@pytest.mark.skipif(not _scip_ok(), reason="pyscipopt not installed")
def test_scip_child_crash_is_unknown_not_the_end_of_the_caller(monkeypatch):
    """A SCIP abort (seen with heuristics on at U = 5) kills only the child: both runs crash here.

    Since issue #14 the method then returns the heuristic incumbent (budget.heuristic_plan) with
    the SCIP bound (none here), status FEASIBLE, instead of UNKNOWN."""
    from optoffload.formulations.erds import pyomo as P

    monkeypatch.setattr(P, "_SCIP_CHILD", "import os; os.abort()")
    s = oo.solve("erds/paper-u2", "erds-pyomo", solver="scip")
    assert s.status is oo.Status.FEASIBLE and s.bound is None and "no incumbent" in s.info["fallback"]
    oo.verify("erds/paper-u2", s)
    assert s.info["native_status"].startswith("scip-crashed") and len(s.info["scip_runs"]) == 2
