"""The exact per-device DP with bound pruning and the device decomposition (optoffload.picsys.devicedp).

Expected values come from enumeration: every outcome combination of a small device, scored by
the relaxed objective ``max(E, W + f c)`` written out directly below (independently of the DP),
and the brute-force optimum of whole tiny instances (optoffload.picsys.bruteforce).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from picsys_exact_helpers import tiny_instance

import optoffload as oo
from optoffload.picsys import bounds as B
from optoffload.picsys import devicedp as D
from optoffload.picsys.bruteforce import brute_force
from optoffload.picsys.model import PicsysInstance
from optoffload.picsys.simulator import simulate_plan


def _device_inst(seed: int, n: int, c_u: float | None = None):
    rng = np.random.default_rng(seed)
    c_u = float(rng.choice([0.01, 0.1, 0.5])) if c_u is None else c_u
    z1 = (rng.random(n) < 0.5).astype(int)
    z2 = (z1 & (rng.random(n) < 0.5)).astype(int)
    dev = {"rate": float(rng.choice([5e6, 10e6, 20e6])), "alpha": float(rng.uniform(0.05, 0.4)),
           "beta": float(rng.uniform(0.1, 0.8)),
           "images": {"count": n, "size": rng.integers(50_000, 1_500_000, n).astype(float).tolist(),
                      "c_s": float(rng.uniform(0.0, 0.1)), "hit": z2.tolist(), "z1": z1.tolist(),
                      "z2": z2.tolist()}}
    return PicsysInstance.from_dict({"format": 1, "family": "picsys", "name": f"dev-{seed}",
                                        "cloud": {"servers": 1, "c_u": c_u}, "devices": [dev]})


def _relaxed(dev, combo, c):
    """max(E, W + f c) written out from shared/design/picsys.md: CPU chain, FIFO uplink, no cloud queue."""
    E = W = 0.0
    f = False
    for i, k in enumerate(combo):
        E += B.cpu_time(dev, i, k)
        if B.UPLOADS[k]:
            W = max(W, E) + float(dev.tx[i])
            f = bool(B.OFFLOADS[k])
    return max(E, W + (c if f else 0.0))


def _enumerate(dev, c):
    opts = [B.image_options(dev, i) for i in range(dev.n)]
    return min(_relaxed(dev, combo, c) for combo in itertools.product(*opts))


@pytest.mark.parametrize("seed", range(40))
def test_exact_device_optimum_equals_enumeration(seed):
    n = 1 + seed % 9
    inst = _device_inst(seed, n)
    dev, c = inst.devices[0], inst.cloud_time
    want = _enumerate(dev, c)
    tb = D.tables(dev)
    r = D.solve_device(tb, c)
    assert r.exact
    assert r.bound == pytest.approx(want, rel=3 * D.PRUNE_SLACK, abs=1e-12)  # bounds are lowered by the slack
    assert r.bound <= want * (1 + 1e-12)
    # the plan returned reaches the optimum when replayed by the direct formula
    assert _relaxed(dev, [int(k) for k in r.plan], c) == pytest.approx(want, rel=1e-12)
    bv, bplan = D.beam_plan(tb, c, beam=2)
    assert bv >= want * (1 - 1e-12)
    assert _relaxed(dev, [int(k) for k in bplan], c) == pytest.approx(bv, rel=1e-12)


@pytest.mark.parametrize("seed", range(20))
def test_run_below_the_optimum_proves_a_valid_bound(seed):
    """A threshold below the optimum drops everything; the bound it proves never exceeds the optimum."""
    inst = _device_inst(100 + seed, 7)
    dev, c = inst.devices[0], inst.cloud_time
    want = _enumerate(dev, c)
    r = D.run(D.tables(dev), c, want * 0.97)
    assert r.value is None or r.value > want * 0.97
    assert r.dropped_bound <= want * (1 + 1e-12)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(2, 8), cut=st.integers(0, 7))
def test_suffix_bound_never_exceeds_a_completion(seed, n, cut):
    """From every state reachable after ``cut`` images, the suffix bound is at most the best completion."""
    cut = min(cut, n - 1)
    inst = _device_inst(seed, n)
    dev, c = inst.devices[0], inst.cloud_time
    tb = D.tables(dev)
    sb = D._SuffixBound(tb)
    for i in range(cut):
        sb.remove(i)
    opts = [B.image_options(dev, i) for i in range(n)]
    for head in itertools.product(*opts[:cut]):
        E = W = 0.0
        for i, k in enumerate(head):
            E += B.cpu_time(dev, i, k)
            if B.UPLOADS[k]:
                W = max(W, E) + float(dev.tx[i])
        b = float(sb(np.array([E]), np.array([W]))[0])
        best = math.inf
        for tail in itertools.product(*opts[cut:]):
            best = min(best, _relaxed(dev, list(head) + list(tail), c))
        assert b <= best * (1 + 1e-12) + 1e-12


@pytest.mark.parametrize("seed", range(30))
def test_decomposition_bound_is_valid_and_exact_when_closed(seed):
    inst = tiny_instance(seed, max_devices=3, max_images=7, energy=False)
    opt = float(brute_force(inst)[0])
    d = D.decompose(inst)
    assert d.complete
    assert d.bound <= opt * (1 + 1e-9) + 1e-12
    sim = simulate_plan(inst, d.plan).makespan
    assert sim >= opt * (1 - 1e-12)
    if sim <= d.bound * (1 + 1e-9):
        assert sim == pytest.approx(opt, rel=1e-9)


@pytest.mark.parametrize("seed", range(6))
def test_exact_dp_matches_the_unpruned_merging_dp(seed):
    """Where the merging DP never coarsens (exact=True), both DPs give the same device optimum."""
    inst = _device_inst(200 + seed, 30, c_u=0.05)
    dev, c = inst.devices[0], inst.cloud_time
    codes, cpu, up, off = B.device_tables(dev)
    ref = B.device_bound(cpu, up, off, codes, dev.tx, c, cap=10**6)
    assert ref.exact
    r = D.solve_device(D.tables(dev), c)
    assert r.exact
    assert r.bound == pytest.approx(ref.bound, rel=1e-9)


def test_paper_large_instance_closes():
    """20 devices x 1,000 images, the paper's parameters: the combined plan replays to the bound."""
    inst = oo.generate("picsys", seed=3, preset="large", devices=20, images=1000)
    d = D.decompose(inst)
    assert d.exact and d.complete
    sim = simulate_plan(inst, d.plan).makespan
    assert sim <= d.bound * (1 + 1e-6)
    assert d.bound >= B.lower_bound(inst, lp=False, cap=512) * (1 - 1e-9)


@pytest.mark.parametrize("seed", range(8))
def test_lock_step_beams_equal_one_device_at_a_time(seed):
    """beam_plans (all devices in one pass) gives each device the value of beam_plan on its own."""
    inst = oo.generate("picsys", seed=seed, preset="large", devices=1 + seed % 5, images=7 + 13 * seed)
    tbs = [D.tables(d) for d in inst.devices]
    together = D.beam_plans(tbs, inst.cloud_time, beam=8)
    for tb, (v, plan) in zip(tbs, together):
        v1, _ = D.beam_plan(tb, inst.cloud_time, beam=8)
        assert v == pytest.approx(v1, rel=1e-12)
        assert D.relaxed_value(tb, plan, inst.cloud_time) == pytest.approx(v, rel=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_cloud_relief_never_lengthens_the_replay(seed):
    """With a saturated cloud (c_u = 0.1, the picsys-exact `cloud` variant), the relieved plan replays
    no longer than the plain combination, and every device's local plan ends by the bound on its own
    (checked with the direct formula above)."""
    inst = oo.generate("picsys", seed=seed, preset="large", devices=6, images=120, c_u=0.1)
    plain = D.decompose(inst, relieve=False)
    relieved = D.decompose(inst)
    assert relieved.bound == plain.bound
    assert simulate_plan(inst, relieved.plan).makespan <= simulate_plan(inst, plain.plan).makespan + 1e-12
    for dev in inst.devices:
        p = D.local_plan(D.tables(dev), plain.bound, inst.cloud_time)
        if p is not None:
            assert _relaxed(dev, [int(k) for k in p], inst.cloud_time) <= plain.bound * (1 + 1e-12)


def test_decompose_rejects_bad_arguments_naming_them():
    inst = oo.load("picsys/table2")
    with pytest.raises(oo.InvalidInstance) as e:
        D.decompose(inst, devices=[0, 7])
    assert e.value.field == "devices" and "7" in str(e.value)
    with pytest.raises(oo.InvalidInstance) as e:
        D.decompose(inst, beam=0)
    assert e.value.field == "beam"
