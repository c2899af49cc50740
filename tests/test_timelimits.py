"""Time limits honoured and no exception under a limit, every family (issue #14, items 3, 4, 11).

No wall-clock assertion: the limits are either so small that every deadline check has already
passed (1e-9 s: the first check of any loop fails), or the cost tables are patched so that a
step is deterministically estimated not to fit; solver failures are monkeypatched. Every
expected value is derived by brute force (enumeration) or from the method's documented fallback.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

import optoffload as oo
from optoffload.picsys.bruteforce import brute_force
from picsys_exact_helpers import tiny_instance

TOL = 1e-7


# ---------------------------------------------------------------------------------------- ERDS
@pytest.mark.parametrize("method", ["cloud-only", "edge-only", "random", "erds-exact"])
def test_erds_methods_never_leak_the_internal_timeout(method):
    """Issue #14 item 4: with a limit that has passed at the first deadline check, the fixed-split
    baselines returned exit 1 with ``_Timeout``; now they return the best shares found so far
    (at worst the equal shares, feasible), and erds-exact keeps its incumbent leaf."""
    inst = oo.generate("erds", seed=3, tasks=40)
    sol = oo.solve(inst, method, time_limit=1e-9)
    assert sol.status in (oo.Status.FEASIBLE, oo.Status.OPTIMAL)
    assert oo.verify(inst, sol) == pytest.approx(sol.objective)
    if method != "erds-exact":
        assert sol.info.get("time_limit_reached") is True
    if sol.bound is not None:
        assert sol.bound <= sol.objective + 1e-9


def test_erds_osa_no_recursion_limit_and_matches_exhaustive():
    """The OSA branch and bound is iterative: it equals the exhaustive optimum (the paper's EOA,
    ``osa_exhaustive``) on small instances, and runs with more tasks than Python's recursion limit."""
    import sys

    from optoffload.erds.inner import _branch_and_bound, _dominated, osa_exhaustive, split_times
    from optoffload.erds.evaluate import exit_matrix

    for seed in range(4):
        inst = oo.generate("erds", seed=seed, tasks=4, exits=3)
        w = np.full(inst.U, inst.capacity / inst.U)
        T, P = split_times(inst, w), exit_matrix(inst, True)
        val, _ = _branch_and_bound(T, P, _dominated(T, P))
        assert val == pytest.approx(osa_exhaustive(inst, w)[1], rel=1e-12)
    U = sys.getrecursionlimit() + 100
    with oo.limits.raised(max_tasks=U):  # past the validator's default (issue #14 item 6)
        inst = oo.generate("erds", seed=0, tasks=U, exits=2)
    w = np.full(U, inst.capacity / U)
    T, P = split_times(inst, w), exit_matrix(inst, True)
    val, s = _branch_and_bound(T, P, _dominated(T, P))
    assert np.isfinite(val) and len(s) == U


# --------------------------------------------------------------------------------- progressive
def _airtime(seed, D=3, slots=6):
    return oo.generate("progressive", seed=seed, problem="airtime", size=D, slots=slots)


def _airtime_brute(inst):
    U = inst.spec.utility
    D, S1 = U.shape
    best = -np.inf
    for lv in itertools.product(range(S1), repeat=D):
        if sum(lv) <= inst.spec.slots:
            best = max(best, float(sum(U[d, x] for d, x in enumerate(lv))))
    return best


@pytest.mark.parametrize("seed", range(6))
def test_airtime_dp_is_exact_and_keeps_fewest_slots_on_ties(seed):
    """The O(slots)-memory DP gives the enumeration optimum, and the decisions of the previous
    (slots x slots matrix) DP, whose formula is re-implemented here as the reference."""
    from optoffload.progressive.airtime import airtime_dp

    inst = _airtime(seed)
    U, Q = inst.spec.utility, inst.spec.slots
    level, val = airtime_dp(U, Q)
    assert val == pytest.approx(_airtime_brute(inst), abs=1e-12)
    D, S1 = U.shape
    V = np.zeros(Q + 1)
    choice = np.zeros((D, Q + 1), dtype=int)
    c = np.arange(Q + 1)
    for d in range(D):
        s = np.arange(min(S1 - 1, Q) + 1)
        idx = c[:, None] - s[None, :]
        cand = np.where(idx >= 0, V[np.clip(idx, 0, None)] + U[d, s][None, :], -np.inf)
        choice[d] = np.argmax(cand, axis=1)
        V = cand[c, choice[d]]
    ref, rem = [0] * D, Q
    for d in range(D - 1, -1, -1):
        ref[d] = int(choice[d, rem])
        rem -= ref[d]
    assert level == ref


@pytest.mark.parametrize("seed", range(4))
def test_progressive_exact_airtime_gives_up_to_the_hull_greedy(seed, monkeypatch):
    """With the DP estimated not to fit (cost table patched), ``exact`` returns the hull-greedy plan,
    FEASIBLE, with the LP-relaxation bound, which is at least the enumeration optimum; with a
    passed limit it returns the equal split, FEASIBLE. Never an exception."""
    import optoffload.formulations.progressive.exact as E

    inst = _airtime(seed)
    opt = _airtime_brute(inst)
    monkeypatch.setattr(E, "DP_SEC_PER_CELL", 1e9)
    sol = oo.solve(inst, "exact", time_limit=1000)
    if sol.status == oo.Status.FEASIBLE:
        assert "time_limit_reached" in sol.info
        assert sol.bound >= opt - 1e-12 >= sol.objective - 1e-12
    else:  # the hull greedy met its own LP bound: proven optimal
        assert sol.objective == pytest.approx(opt, abs=1e-12)
    inst = _airtime(seed)  # fresh: no cached utility table
    sol = oo.solve(inst, "exact", time_limit=1e-9)
    assert sol.status == oo.Status.FEASIBLE and sol.decisions["slots"] == [inst.spec.slots // 3] * 3


def test_progressive_exact_ordering_and_config_under_a_passed_limit():
    """Ordering: the DP is not started when its estimate exceeds the time left (a passed limit):
    the ratio-rule order with the bound sum_i w_i P(S >= c_i) (each chunk as if sent first), which
    is at least the DP optimum. Config: the first candidate replayed, FEASIBLE."""
    from optoffload.formulations.progressive.exact import ordering_dp

    inst = oo.generate("progressive", seed=1, problem="ordering", size=8)
    sp = inst.spec
    opt = sp.value(ordering_dp(sp))
    sol = oo.solve(inst, "exact", time_limit=1e-9)
    assert sol.status == oo.Status.FEASIBLE
    assert sol.bound >= opt - 1e-12 >= sol.objective - 1e-12
    inst = oo.generate("progressive", seed=1, problem="config", size=2)
    sol = oo.solve(inst, "exact", time_limit=1e-9)
    assert sol.status == oo.Status.FEASIBLE
    assert sol.decisions["config"] == inst.spec.candidates[0].name


@pytest.mark.parametrize("problem", ["airtime", "ordering", "config"])
def test_progressive_milp_skips_a_model_that_cannot_load(problem, monkeypatch):
    """With the build priced above the limit (SEC_PER_NZ patched), ``milp`` does not build the model
    and returns the core's incumbent (FEASIBLE, native_status load-skipped) with a valid bound."""
    import optoffload.formulations.progressive.milp as M

    monkeypatch.setattr(M, "SEC_PER_NZ", 1e6)
    kw = {"airtime": {"size": 3, "slots": 6}, "ordering": {"size": 7}, "config": {"size": 2}}[problem]
    inst = oo.generate("progressive", seed=2, problem=problem, **kw)
    sol = oo.solve(inst, "milp", time_limit=5)
    assert sol.status == oo.Status.FEASIBLE and sol.info["native_status"] == "load-skipped"
    ref = oo.solve(inst, "exact")  # the exact DP / enumeration, proven optimal
    assert sol.objective <= ref.objective + 1e-12
    if sol.bound is not None:
        assert sol.bound >= ref.objective - 1e-12


# -------------------------------------------------------------------------------------- PicSys
@pytest.mark.parametrize("method", ["cpsat", "pyomo", "pulp", "look-ahead"])
def test_picsys_passed_limit_returns_warm_start(method):
    """A limit passed at the first check: the warm start (FEASIBLE, or OPTIMAL when it meets the
    bound), never UNKNOWN or an exception; the bound is at most the brute-force optimum."""
    for seed in (1, 4):
        inst = tiny_instance(seed, energy=False)
        best, _ = brute_force(inst)
        sol = oo.solve(inst, method, time_limit=1e-9)
        assert sol.status in (oo.Status.FEASIBLE, oo.Status.OPTIMAL), sol.info
        assert sol.objective >= best - TOL
        if sol.bound is not None:
            assert sol.bound <= best + TOL


def test_pulp_solver_error_maps_to_warm_start_with_warning(monkeypatch):
    """Item 4: a crashing CBC (PulpSolverError out of ``prob.solve``) gives the warm start,
    FEASIBLE, native_status solver-error and a warning, not an exception."""
    import pulp

    def boom(self, solver=None, **kw):
        raise pulp.PulpSolverError("Pulp: Error while executing (simulated segfault)")

    monkeypatch.setattr(pulp.LpProblem, "solve", boom)
    inst = tiny_instance(3, energy=False)
    sol = oo.solve(inst, "pulp", time_limit=30)
    assert sol.status in (oo.Status.FEASIBLE, oo.Status.OPTIMAL)
    assert sol.info["native_status"] == "solver-error" and "CBC failed" in sol.info["warning"]
    assert sol.info["incumbent_from"] == "warm start"


def test_pulp_missing_log_keeps_the_finished_solve(monkeypatch):
    """Item 11: the CBC log vanishing after a finished solve (FileNotFoundError) must not turn the
    solve into an error: the solver's plan is kept (the brute-force optimum here), with a warning."""
    import pulp

    orig = pulp.LpProblem.solve

    def solve_then_lose_log(self, solver=None, **kw):
        out = orig(self, solver, **kw)
        import os

        os.unlink(solver.optionsDict.get("logPath") if hasattr(solver, "optionsDict") and
                  solver.optionsDict.get("logPath") else solver.logPath)
        return out

    monkeypatch.setattr(pulp.LpProblem, "solve", solve_then_lose_log)
    inst = tiny_instance(5, energy=False)
    best, _ = brute_force(inst)
    sol = oo.solve(inst, "pulp")
    assert sol.objective == pytest.approx(best, abs=1e-6)
    assert "log unreadable" in sol.info["warning"]


def test_highs_error_status_is_retried_and_reported(monkeypatch):
    """Item 11: a HiGHS error status (kSolveError) is retried in the time left without the MIP
    start; the retry proves the brute-force optimum, and the error is in info["warning"] and
    info["solver_retries"], not only in native_status."""
    import optoffload.formulations.picsys.pyomo_milp as P

    real = P._run_highs
    calls = []

    def flaky(*a, **kw):
        h, name = real(*a, **kw)
        calls.append(name)
        return (h, "kSolveError") if len(calls) == 1 else (h, name)

    monkeypatch.setattr(P, "_run_highs", flaky)
    inst = tiny_instance(6, energy=False)
    best, _ = brute_force(inst)
    sol = oo.solve(inst, "pyomo", time_limit=60, cuts=False)  # cuts=False: the model path (the decomposition
    assert len(calls) == 2                                     # alone proves this tiny instance, issue #15)
    assert sol.status == oo.Status.OPTIMAL and sol.objective == pytest.approx(best, abs=1e-6)
    assert "kSolveError" in sol.info["warning"]
    assert sol.info["solver_retries"][0] == {"after": "kSolveError", "retry": {"warm": False}}


def test_highs_error_without_retry_success_returns_warm_start(monkeypatch):
    """Every run failing: the warm start, FEASIBLE (or OPTIMAL if it meets the bound), a warning."""
    import optoffload.formulations.picsys.pyomo_milp as P

    real = P._run_highs
    monkeypatch.setattr(P, "_run_highs", lambda *a, **kw: (real(*a, **kw)[0], "kSolveError"))
    inst = tiny_instance(6, energy=False)
    sol = oo.solve(inst, "pyomo", time_limit=60, cuts=False)  # the model path, as above
    assert sol.status.has_solution and sol.info["incumbent_from"] == "warm start"
    assert sol.info["solver_retries"][-1] == {"final": "kSolveError"}


def test_memory_budget_skips_the_model_and_validates(monkeypatch):
    """A model over ``memory_mb`` is not built (memory-skipped, warm start); without a limit the
    default is no budget (the model is solved to the brute-force optimum); bad values are rejected."""
    inst = tiny_instance(2, energy=False)
    best, _ = brute_force(inst)
    sol = oo.solve(inst, "pyomo", time_limit=30, memory_mb=1e-6, cuts=False)  # cuts=False: the model path
    assert sol.info["native_status"] == "memory-skipped" and sol.status.has_solution
    sol = oo.solve(inst, "pulp", time_limit=30, memory_mb=1e-6, cuts=False)
    assert sol.info["native_status"] == "memory-skipped"
    sol = oo.solve(inst, "pyomo")
    assert sol.status == oo.Status.OPTIMAL and sol.objective == pytest.approx(best, abs=1e-6)
    with pytest.raises(oo.InvalidInstance, match="memory_mb"):
        oo.solve(inst, "pyomo", memory_mb=-1)


def test_look_ahead_supports_energy_budgets():
    """Item 11: look-ahead no longer refuses budgeted instances: it returns CP-SAT's proven optimum
    of eq. (15), equal to the brute-force optimum under the budgets."""
    for seed in range(12):
        inst = tiny_instance(seed, energy=True)
        if not inst.enforce_energy:
            continue
        best, _ = brute_force(inst)
        sol = oo.solve(inst, "look-ahead", time_limit=60)
        if best == float("inf") or best is None:
            assert sol.status == oo.Status.INFEASIBLE
        else:
            assert sol.status == oo.Status.OPTIMAL and sol.objective == pytest.approx(best, abs=1e-6)


# ----------------------------------------------------------------------------------- benchmark
def test_timelimits_suite_covers_every_method_that_takes_a_limit():
    """The quick suite lists every exact method of every family, every ERDS and progressive method,
    and PicSys look-ahead (the methods whose time_limit changes what they do)."""
    from optoffload.benchmarks.picsys.timelimits import SUITES

    tasks = SUITES["timelimits"].tasks(True)
    have = {(t["family"], t["method"]) for t in tasks}
    for fam in ("erds", "progressive", "dnn"):
        assert {(fam, m) for m in oo.methods(fam)} <= have
    from optoffload.registry import get_family

    exact = {("picsys", m) for m, s in get_family("picsys").methods.items() if s.kind == "exact"}
    assert exact | {("picsys", "look-ahead")} <= have


def test_nonzeros_lower_bound_is_below_the_built_model():
    """The O(devices) pre-check never exceeds the nonzeros of the model actually built."""
    from optoffload.formulations.picsys import milp
    from optoffload.formulations.picsys.common import prepare

    for seed in range(10):
        inst = tiny_instance(seed)
        for mode in ("makespan", "max-processed"):
            prep = prepare(inst, objective=mode, time_limit=None)
            if prep.infeasible:
                continue
            assert milp.nonzeros_lower(prep) <= milp.nonzeros(milp.build(prep))


def test_progressive_greedy_airtime_honours_a_passed_limit():
    """The greedy heuristic under a passed limit: the equal split (feasible), no exception."""
    inst = _airtime(1)
    sol = oo.solve(inst, "greedy", time_limit=1e-9)
    assert sol.status == oo.Status.FEASIBLE and sol.decisions["slots"] == [inst.spec.slots // 3] * 3


def test_cbc_is_held_to_the_deadline_from_outside(monkeypatch):
    """CBC's own -sec is not checked in its root cut loop: the process is interrupted from outside
    at the deadline. Simulated with a CBC stand-in that ignores its time limit (sleeps 30 s): the
    solve must come back with the warm start, status FEASIBLE, and say why."""
    import stat
    import tempfile

    import optoffload.formulations.picsys.pulp_milp as pm

    fake = Path(tempfile.mkdtemp()) / "cbc"
    fake.write_text("#!/bin/sh\nexec sleep 30\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setattr(pm, "cbc_binary", lambda: str(fake))
    inst = oo.generate("picsys", seed=3, devices=3, images=30)
    sol = oo.solve(inst, "pulp", time_limit=1.0, cuts=False)
    assert sol.status is oo.Status.FEASIBLE and sol.info["incumbent_from"] == "warm start"
    assert "CBC overran the time limit" in sol.info.get("cbc_interrupted", "")
