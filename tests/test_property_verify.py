"""Property per family (issue #14 acceptance): no plan is certified below the proven optimum.

Random plans of every shape the decision schema allows -- every outcome code including
``skip``, every ``mode`` and ``stages`` value (and junk), wrong lengths, out-of-range and
extra fields -- are either rejected by the family's ``evaluate`` / ``oo.verify`` or score at
least the proven optimum of the small instance (at most, for the maximized progressive family):

* PicSys: the optimum is :func:`optoffload.picsys.bruteforce.brute_force` (every plan
  enumerated). In mode ``max-processed`` (instances with enforced budgets only) the objective is
  lexicographic -- most images processed, then least makespan -- so an accepted plan either
  processes fewer images than the optimum or, with as many, has a makespan at least the optimum.
* ERDS: the proven lower bound of ``erds-exact`` (branch and bound, eq. 7); exact-evaluator
  plans, with or without early exits, must score at least it. The ``sampled`` evaluator (the
  paper's 10-round estimate F-hat, a different objective) is checked against its own optimum by
  brute force on one-task instances (a task's time only falls as its share grows).
* progressive: brute force over every permutation (ordering), every slot vector (airtime) and
  every candidate (config).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import optoffload as oo
from optoffload.errors import InvalidInstance
from picsys_exact_helpers import tiny_instance

TOL = 1e-9
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                          HealthCheck.data_too_large])

# ------------------------------------------------------------------------------------ picsys
_PICSYS: dict = {}


def _picsys_case(seed: int):
    if seed not in _PICSYS:
        from optoffload.picsys.bruteforce import brute_force

        inst = tiny_instance(seed, max_devices=2, max_images=4)
        best = {"makespan": brute_force(inst)}
        if inst.enforce_energy:
            ms, dec = brute_force(inst, mode="max-processed")
            best["max-processed"] = (ms, None if dec is None else
                                     sum(c != "skip" for row in dec["outcomes"] for c in row))
        _PICSYS[seed] = (inst, best)
    return _PICSYS[seed]


CODES = ["i-off", "f-off", "f-disc", "s-up", "s-disc", "skip", 0, 3, 5, 7, "x", None]


@st.composite
def picsys_plans(draw):
    seed = draw(st.integers(0, 40))
    inst, best = _picsys_case(seed)
    lengths = [d.n for d in inst.devices]
    if draw(st.booleans()) and draw(st.booleans()):
        lengths = [max(0, n + draw(st.integers(-1, 1))) for n in lengths]
    from optoffload.picsys.model import OUTCOMES, feasible_outcomes

    rows = []
    for m, n in enumerate(lengths):
        dev = inst.devices[m] if m < len(inst.devices) else None
        row = []
        for i in range(n):
            k = draw(st.integers(0, 9))
            if dev is not None and i < dev.n and k < 7:  # mostly feasible codes, some skips
                opts = [OUTCOMES[c] for c in feasible_outcomes(int(dev.z1[i]), int(dev.z2[i]))]
                row.append(draw(st.sampled_from(opts + (["skip"] if k < 2 else []))))
            else:
                row.append(draw(st.sampled_from(CODES)))
        rows.append(row)
    dec: dict = {"outcomes": rows}
    mode = draw(st.sampled_from([None, "makespan", "max-processed", "max-processed", "max-processed", "fastest", 1]))
    if mode is not None:
        dec["mode"] = mode
    stages = draw(st.sampled_from([None, None, None, None, 2, 3, 4, True]))
    if stages is not None:
        dec["stages"] = stages
    if draw(st.integers(0, 19)) == 0:
        dec["extra"] = 1
    return inst, best, dec


@settings(SETTINGS, max_examples=150)
@given(picsys_plans())
def test_picsys_no_plan_scores_below_the_optimum(case):
    inst, best, dec = case
    from optoffload.picsys.simulator import evaluate

    try:
        value = evaluate(inst, dec)
    except InvalidInstance:
        return
    assert math.isfinite(value)
    mode = dec.get("mode", "makespan")
    assert dec.get("stages", 3) == 3  # a two-stage plan is never a plan of the instance
    if mode == "makespan":
        opt = best["makespan"][0]
        assert opt is not None, "a plan was accepted for an instance where none is feasible"
        assert value >= opt - TOL
    else:
        assert inst.enforce_energy  # the mode exists only with enforced budgets
        opt_ms, opt_processed = best["max-processed"]
        processed = sum(c not in ("skip", 5) for row in dec["outcomes"] for c in row)
        assert opt_processed is not None and processed <= opt_processed
        assert processed < opt_processed or value >= opt_ms - TOL


def test_picsys_two_stage_plan_verifies_only_on_its_counterpart():
    """By hand: two-stage's plan belongs to ``table2-2stage``; presented as ``table2`` it is refused."""
    inst = oo.load("picsys/table2")
    sol = oo.solve(inst, "two-stage")
    assert sol.instance == "table2-2stage"
    assert oo.verify(inst, sol) == pytest.approx(sol.objective)
    d = sol.to_dict()
    d["instance"] = "table2"
    with pytest.raises(InvalidInstance, match="decisions.stages"):
        oo.verify(inst, d)


# -------------------------------------------------------------------------------------- erds
_ERDS: dict = {}


def _erds_case(seed: int):
    if seed not in _ERDS:
        inst = oo.generate("erds", seed=seed, tasks=1 + seed % 2, exits=2 + seed % 2)
        sol = oo.solve(inst, "erds-exact", time_limit=60)
        assert sol.status == oo.Status.OPTIMAL
        sampled_opt = None
        if inst.U == 1:
            # one task: its time only falls as its share grows, so the sampled objective's minimum
            # is at the largest share, and brute force over the K + 1 splits finds it
            from optoffload.erds.evaluate import sampled

            sampled_opt = min(sampled(inst, [s], [inst.share_max])[0] for s in range(inst.K + 1))
        _ERDS[seed] = (inst, (sol.bound, sampled_opt))
    return _ERDS[seed]


@st.composite
def erds_plans(draw):
    seed = draw(st.integers(0, 5))
    inst, bound = _erds_case(seed)
    U = inst.U + (draw(st.integers(-1, 1)) if draw(st.integers(0, 9)) == 0 else 0)
    splits = [draw(st.integers(-1, inst.K + 1) if draw(st.integers(0, 9)) == 0 else st.integers(0, inst.K))
              for _ in range(max(U, 0))]
    hi = inst.capacity / max(inst.U, 1)
    shares = [draw(st.floats(0.0, 1.2) if draw(st.integers(0, 9)) == 0 else st.floats(inst.w_min, hi))
              for _ in range(max(U, 0))]
    dec: dict = {"splits": splits, "shares": shares}
    ev = draw(st.sampled_from([None, "exact", "exact", "sampled", "magic"]))
    if ev is not None:
        dec["evaluator"] = ev
    ee = draw(st.sampled_from([None, True, False, "no"]))
    if ee is not None:
        dec["early_exit"] = ee
    return inst, bound, dec


@SETTINGS
@given(erds_plans())
def test_erds_no_plan_scores_below_the_optimum(case):
    inst, (bound, sampled_opt), dec = case
    from optoffload.erds.evaluate import evaluate

    try:
        value = evaluate(inst, dec)
    except InvalidInstance:
        return
    assert math.isfinite(value) and value >= 0
    if dec.get("evaluator", "exact") == "exact":
        # running every task to exit K (early_exit false) only lengthens each task: still >= optimum
        assert value >= bound * (1 - 1e-9) - TOL
    elif sampled_opt is not None:
        assert value >= sampled_opt * (1 - 1e-12) - TOL


# ------------------------------------------------------------------------------- progressive
_PROG: dict = {}


def _prog_case(kind: str, seed: int):
    key = (kind, seed)
    if key not in _PROG:
        if kind == "ordering":
            inst = oo.generate("progressive", seed=seed, problem="ordering", size=5)
            sp = inst.spec
            opt = max(sp.value(list(p)) for p in itertools.permutations(range(len(sp.sizes))))
        elif kind == "airtime":
            inst = oo.generate("progressive", seed=seed, problem="airtime", size=2, slots=6)
            sp = inst.spec
            opt = max(float(sum(sp.utility[d, x] for d, x in enumerate(s)))
                      for s in itertools.product(range(sp.slots + 1), repeat=len(sp.devices))
                      if sum(s) <= sp.slots)
        else:
            inst = oo.load("progressive/config-webp-heavy")
            opt = max(inst.spec.accuracy.values())
        _PROG[key] = (inst, opt)
    return _PROG[key]


@st.composite
def progressive_plans(draw):
    kind = draw(st.sampled_from(["ordering", "airtime", "config"]))
    inst, opt = _prog_case(kind, draw(st.integers(0, 3)) if kind != "config" else 0)
    sp = inst.spec
    dec: dict = {}
    if kind == "ordering" or draw(st.integers(0, 9)) == 0:
        n = len(sp.sizes) if kind == "ordering" else 3
        if draw(st.booleans()):
            dec["order"] = draw(st.permutations(list(range(n))))
        else:
            dec["order"] = draw(st.lists(st.integers(-1, n), min_size=n - 1, max_size=n + 1))
    if kind == "airtime" or draw(st.integers(0, 9)) == 0:
        nd = len(sp.devices) if kind == "airtime" else 2
        top = sp.slots if kind == "airtime" else 5
        dec["slots"] = draw(st.lists(st.integers(-1, top + 1), min_size=nd, max_size=nd + (draw(st.integers(0, 9)) == 0)))
    if kind == "config" or draw(st.integers(0, 9)) == 0:
        names = list(sp.accuracy) if kind == "config" else ["x"]
        dec["config"] = draw(st.sampled_from(names + ["jpeg-2000"]))
    return inst, opt, dec


@SETTINGS
@given(progressive_plans())
def test_progressive_no_plan_scores_above_the_optimum(case):
    inst, opt, dec = case
    from optoffload.progressive.model import evaluate

    try:
        value = evaluate(inst, dec)
    except InvalidInstance:
        return
    assert math.isfinite(value)
    assert value <= opt + TOL
