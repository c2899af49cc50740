"""Time limits of the PicSys MILP methods (``pyomo``, ``pulp``): build/load charged against the limit.

No wall-clock assertion: every test makes the decision deterministic, either
with a limit below :data:`optoffload.formulations.picsys.milp.MIN_SOLVE` (so no load can
fit whatever the machine's speed) or by setting the per-nonzero cost table.
Ground truth for objectives and bounds is brute-force enumeration.
"""

from __future__ import annotations

import time

import pytest

import optoffload as oo
from optoffload.formulations.picsys import milp
from optoffload.formulations.picsys.common import prepare
from optoffload.picsys import bounds as B
from optoffload.picsys.bruteforce import brute_force
from picsys_exact_helpers import tiny_instance

TOL = 1e-9
MILPS = {"pyomo": {}, "pyomo-appsi": {"direct": False}, "pyomo-cbc": {"solver": "cbc"}, "pulp": {}}


def _solve(inst, backend, **kw):
    return oo.solve(inst, backend.split("-")[0], threads=1, **MILPS[backend], **kw)


def test_estimate_size_matches_build():
    """estimate_size mirrors build() row by row: columns and rows exact, nonzeros an upper estimate
    (it counts coefficients that LinModel.add drops when they are 0), on 150 tiny instances in both
    modes (budgets, S = 2, dominance on and off)."""
    for seed in range(150):
        inst = tiny_instance(seed)
        for mode in ("makespan", "max-processed"):
            prep = prepare(inst, objective=mode, time_limit=None, dominance=bool(seed % 3))
            if prep.infeasible:
                continue
            lm = milp.build(prep)
            cols, rows, nnz = milp.estimate_size(prep)
            assert (cols, rows) == (lm.n_vars, lm.n_cons), (seed, mode)
            assert milp.nonzeros(lm) <= nnz <= 1.25 * milp.nonzeros(lm), (seed, mode)


def test_to_arrays_is_the_model():
    """to_arrays lays out exactly lm.cons: row bounds from the senses, coefficients in row order."""
    prep = prepare(tiny_instance(11), objective="makespan", time_limit=None)
    lm = milp.build(prep)
    lo, hi, start, index, value = milp.to_arrays(lm)
    rows = [r for g in lm.cons.values() for r in g]
    assert len(lo) == len(rows) and start[-1] == len(index) == milp.nonzeros(lm)
    for n, (coefs, sense, rhs) in enumerate(rows):
        assert dict(zip(index[start[n]:start[n + 1]].tolist(), value[start[n]:start[n + 1]].tolist())) == coefs
        assert (lo[n], hi[n]) == {"<=": (float("-inf"), rhs), ">=": (rhs, float("inf")), "==": (rhs, rhs)}[sense]


@pytest.mark.parametrize("backend", list(MILPS))
def test_tiny_budget_returns_warm_start_and_valid_bound(backend):
    """A limit of 1 ms leaves less than MIN_SOLVE for any load: the method returns the warm start
    (FEASIBLE, or OPTIMAL when it meets the bound), never UNKNOWN or an exception, with a bound
    that is at least the presolve bound and at most the brute-force optimum."""
    for seed in (1, 4, 9, 17):
        inst = tiny_instance(seed, energy=False)
        best, _ = brute_force(inst)
        sol = _solve(inst, backend, time_limit=1e-3)
        assert sol.status in (oo.Status.FEASIBLE, oo.Status.OPTIMAL), (seed, sol.info)
        assert sol.info["native_status"] == "load-skipped" and sol.info["incumbent_from"] == "warm start"
        assert sol.objective == pytest.approx(sol.info["warm_start"]["objective"], abs=TOL)
        assert sol.objective >= best - TOL
        assert B.lower_bound(inst, cap=512) - TOL <= sol.bound <= best + TOL
        oo.verify(inst, sol)


def test_tiny_budget_large_instance_feasible_with_gap():
    """20 devices x 200 images, cloud-bound (c_u = 0.2): the warm start is not provably optimal, so a
    1 ms limit gives FEASIBLE with a positive gap and the presolve bound (lower_bound, cap 512)."""
    inst = oo.generate("picsys", seed=0, preset="large", devices=20, images=200, c_u=0.2)
    lb = B.lower_bound(inst, cap=512)
    for backend in ("pyomo", "pulp"):
        sol = _solve(inst, backend, time_limit=1e-3)
        assert sol.status == oo.Status.FEASIBLE and sol.gap > 0
        assert sol.bound == pytest.approx(lb, rel=1e-12)
        assert "nonzeros" in sol.info["note"]
        oo.verify(inst, sol)


@pytest.mark.parametrize("backend", ["pyomo", "pulp"])
def test_no_warm_start_no_cuts_is_unknown_with_bound(backend):
    """warm=False, cuts=False under a 1 ms limit: UNKNOWN (no incumbent), no exception, and the bound
    is computed anyway (lower_bound with cap 512, since prepare skipped it) and is below the optimum."""
    inst = tiny_instance(4, energy=False)
    best, _ = brute_force(inst)
    sol = _solve(inst, backend, time_limit=1e-3, warm=False, cuts=False)
    assert sol.status == oo.Status.UNKNOWN and sol.objective is None
    assert sol.bound == pytest.approx(B.lower_bound(inst, cap=512), rel=1e-12)
    assert 0 < sol.bound <= best + TOL


@pytest.mark.parametrize("backend", list(MILPS))
def test_cost_table_decides_the_skip(backend, monkeypatch):
    """With a generous limit (60 s) the decision follows SEC_PER_NZ: a model priced at 1 s per
    nonzero is skipped (warm start returned); priced at 0 it is solved to the brute-force optimum."""
    inst = tiny_instance(9, energy=False)
    best, _ = brute_force(inst)
    monkeypatch.setattr(milp, "SEC_PER_NZ", {k: 1.0 for k in milp.SEC_PER_NZ})
    sol = _solve(inst, backend, time_limit=60)
    assert sol.info["native_status"] == "load-skipped" and sol.status != oo.Status.UNKNOWN
    monkeypatch.setattr(milp, "SEC_PER_NZ", {k: 0.0 for k in milp.SEC_PER_NZ})
    sol = _solve(inst, backend, time_limit=60)
    assert sol.status == oo.Status.OPTIMAL and sol.objective == pytest.approx(best, abs=TOL)
    assert sol.info["incumbent_from"] in ("solver", "warm start") and sol.info["native_status"] != "load-skipped"


def test_clock_rules():
    """Clock: always fits without a limit; calibration clamps the speed to [0.5, 4] and ignores
    builds under 50 ms; cost is linear in nonzeros and stages."""
    inst = tiny_instance(2)
    clock = milp.Clock(prepare(inst, objective="makespan", time_limit=None))
    assert clock.fits(10**12, ("build", "appsi-load"), "x")
    clock.calibrate(100.0, 1)
    assert clock.speed == 4.0
    clock.calibrate(1e-9 + 0.05, 10**12)
    assert clock.speed == 0.5
    clock.calibrate(0.01, 1)
    assert clock.speed == 0.5
    assert clock.cost(1000, ("build", "arrays")) == pytest.approx(
        0.5 * 1000 * (milp.SEC_PER_NZ["build"] + milp.SEC_PER_NZ["arrays"]))
    tight = milp.Clock(prepare(inst, objective="makespan", time_limit=0.0))
    assert not tight.fits(0, (), "x")  # MIN_SOLVE is always needed


def test_cbc_gets_the_seconds_left_at_launch():
    """Both CBC paths read the limit when the command line is built, after the model file is written:
    the seconds left minus the estimated read time (at least 0.01 s); no limit gives none."""
    from optoffload.formulations.picsys.pulp_milp import _deadline_cbc
    from optoffload.formulations.picsys.pyomo_milp import _limit_at_launch

    inst = tiny_instance(2)
    prep = prepare(inst, objective="makespan", time_limit=30)
    cmd = _deadline_cbc(prep, 2.0, timeLimit=999)
    assert 0.01 <= cmd.timeLimit <= 28.0
    assert _deadline_cbc(prepare(inst, objective="makespan", time_limit=None), 2.0).timeLimit is None
    # with less than MIN_SOLVE left CBC is not launched at all (it crashed with a few ms, issue #14 item 4)
    with pytest.raises(milp.NoTimeToLaunch):
        _deadline_cbc(prepare(inst, objective="makespan", time_limit=1e-6), 2.0).timeLimit

    class FakeShell:
        def __init__(self):
            self.options = {}

        def create_command_line(self, executable, problem_files):
            return dict(self.options)

    opt = FakeShell()
    _limit_at_launch(opt, "sec", prep, 5.0)
    time.sleep(0.01)
    seen = opt.create_command_line("cbc", ["m.lp"])
    assert 0.01 <= seen["sec"] <= 25.0 - 0.01


@pytest.mark.parametrize("seed", [0, 5, 12, 21])
def test_direct_highspy_matches_appsi(seed):
    """pyomo's direct highspy loader and Pyomo's appsi_highs solve the same model: both prove the
    brute-force optimum (makespan mode) on tiny instances, with and without budgets."""
    inst = tiny_instance(seed)
    best, _ = brute_force(inst) if not inst.enforce_energy else (None, None)
    a = oo.solve(inst, "pyomo", threads=1, seed=seed)
    b = oo.solve(inst, "pyomo", threads=1, seed=seed, direct=False)
    assert a.status == b.status
    if a.objective is not None:
        assert a.objective == pytest.approx(b.objective, abs=1e-9)
        if best is not None:
            assert a.objective == pytest.approx(best, abs=TOL)
        oo.verify(inst, a)
