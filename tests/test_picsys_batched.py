"""The batched event loop (optoffload.picsys.batched) against the reference loop (issue #15).

The oracle is the reference one-event-at-a-time loop (``event_loop="reference"``), which
the other simulator tests check against hand-derived traces and the plan replay. Every
comparison is exact (``==`` on floats): the batched kernels perform the same floating-point
operations in the same order, so the outcomes, completion times and makespans must be
bit-identical, and so must the number of cloud request packets.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import optoffload as oo
from optoffload.heuristics.picsys.balance import Balance
from optoffload.heuristics.picsys.baselines import AllCloud, AllDevice
from optoffload.heuristics.picsys.time_heuristic import EnergyHeuristic, Greedy, TimeHeuristic
from optoffload.picsys import batched
from optoffload.picsys.generator import generate
from optoffload.picsys.simulator import run_policy

POLICIES = {
    "all-cloud": AllCloud, "all-device": AllDevice,
    "time-heuristic": TimeHeuristic,
    "time-heuristic+tokens": lambda: TimeHeuristic(tokens=True),
    "time-heuristic eq12": lambda: TimeHeuristic(estimate="eq12"),
    "time-heuristic eq13 with-head": lambda: TimeHeuristic(estimate="eq13", queue="with-head"),
    "time-heuristic eq14 direct": lambda: TimeHeuristic(estimate="eq14", filter="direct"),
    "time-heuristic fixed h": lambda: TimeHeuristic(hit_rate=0.4, prior_weight=0.0),
    "balance": Balance,
    "balance+tokens": lambda: Balance(tokens=True),
    "balance cloud_share": lambda: Balance(cloud_share=True),
    "balance risk0 prior": lambda: Balance(risk=0.0, prior=0.6, prior_z2=0.3, prior_weight=0.0),
}


def _both(inst, make, seed=0):
    ref, new = make(), make()
    ref.static_plan = new.static_plan = None
    a = run_policy(inst, ref, seed=seed, event_loop="reference")
    b = run_policy(inst, new, seed=seed, event_loop="batched")
    return a, b


def _assert_identical(a, b):
    assert a.makespan == b.makespan
    assert a.cloud_completion == b.cloud_completion
    assert a.requests == b.requests
    assert len(a.outcomes) == len(b.outcomes)
    for x, y in zip(a.outcomes, b.outcomes):
        np.testing.assert_array_equal(x, y)
    for x, y in zip(a.completion, b.completion):
        np.testing.assert_array_equal(x, y)            # NaN == NaN here; floats compared exactly
    np.testing.assert_array_equal(a.device_completion, b.device_completion)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 100_000), devices=st.integers(1, 7), images=st.integers(0, 60),
       servers=st.integers(1, 3), hit=st.sampled_from([0.05, 0.25, 0.6]), rate=st.sampled_from([2e6, 10e6, 50e6]))
def test_batched_equals_reference_random(seed, devices, images, servers, hit, rate):
    """Random instances (some devices without images when images < devices), every policy."""
    inst = generate(seed=seed, devices=devices, images=images, servers=servers, hit_rate=hit, rate=rate)
    for name, make in POLICIES.items():
        a, b = _both(inst, make, seed)
        _assert_identical(a, b)


@pytest.mark.parametrize("name", sorted(POLICIES))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_batched_equals_reference_seeded(name, seed):
    """Larger seeded instances (20 devices, 2,000 images; the cloud is contended), each policy."""
    inst = generate(seed=seed, devices=20, images=2000, servers=1 + seed)
    a, b = _both(inst, POLICIES[name], seed)
    _assert_identical(a, b)
    assert a.processed == inst.n_images


def test_default_path_is_batched_and_equal():
    """run_policy's default takes the batched loop for a kernel policy; the result equals the reference."""
    inst = generate(seed=5, devices=6, images=300)
    pol = TimeHeuristic()
    assert batched.applicable(inst) and pol.batch_kernel is not None
    a = run_policy(inst, TimeHeuristic(), event_loop="reference")
    b = run_policy(inst, TimeHeuristic())
    _assert_identical(a, b)
    s1 = oo.solve(inst, "time-heuristic")
    assert s1.objective == a.makespan


def test_policies_without_kernel_and_energy_instances_use_the_reference_loop():
    """Subclasses that change the rule (greedy, energy-heuristic) and instances with energy data
    have no batched path: the default falls back, ``event_loop="batched"`` refuses."""
    inst = generate(seed=1, devices=3, images=60)
    for make in (Greedy, EnergyHeuristic):
        with pytest.raises(ValueError, match="no batch kernel"):
            run_policy(inst, make(), event_loop="batched")
    energy = generate(seed=1, preset="energy", devices=3, images=60)
    assert not batched.applicable(energy)
    with pytest.raises(ValueError, match="no batch kernel"):
        run_policy(energy, TimeHeuristic(), event_loop="batched")
    run_policy(energy, TimeHeuristic())                # falls back silently


def test_bad_event_loop_value():
    inst = generate(seed=1, devices=2, images=10)
    with pytest.raises(oo.InvalidInstance, match="event_loop"):
        run_policy(inst, TimeHeuristic(), event_loop="fast")


def test_lookahead_bound_by_hand():
    """G_i = min(tx_i, c_s,i + alpha + G_{i+1}) (head not started) and F_i = min(tx_i if z1_i = 1,
    G_{i+1}) (head in the accelerated CNN), up to a nanosecond margin.

    One device, alpha = 0.1, c_s = (0.05, 0.05, 0.05), tx = (1.0, 0.2, 0.5) (sizes 1.25, 0.25,
    0.625 MB at 10 Mbps): G_2 = 0.5, G_1 = min(0.2, 0.15 + 0.5) = 0.2, G_0 = min(1.0, 0.15 +
    0.2) = 0.35; with z1 = (0, 1, 1): F_0 = G_1 = 0.2, F_1 = min(0.2, G_2) = 0.2, F_2 = 0.5.
    """
    from optoffload.picsys.model import PicsysInstance

    d = {"format": 1, "family": "picsys", "name": "hand", "cloud": {"c_u": 0.3, "servers": 1}, "devices": [
        {"rate": 10e6, "alpha": 0.1, "beta": 0.4, "images": {
            "size": [1.25e6, 0.25e6, 0.625e6], "c_s": [0.05, 0.05, 0.05], "z1": [0, 1, 1], "z2": [0, 1, 0],
            "hit": [0, 1, 0]}}]}
    inst = PicsysInstance.from_dict(d)
    stt = batched.BatchState(inst)
    W = stt.W
    np.testing.assert_allclose(stt.bound[:3], [0.35, 0.2, 0.5], atol=1e-8)
    np.testing.assert_allclose(stt.bound[W:W + 3], [0.2, 0.2, 0.5], atol=1e-8)
    assert np.all(stt.bound[:3] <= [0.35, 0.2, 0.5]) and np.all(stt.bound[W:W + 3] <= [0.2, 0.2, 0.5])
    for make in (TimeHeuristic, Balance, AllCloud):
        _assert_identical(*_both(inst, make))


def test_baseline_method_option_event_loop():
    """``all-cloud`` / ``all-device`` take ``event_loop`` (true, "reference", "batched"): all equal the
    vectorised static replay (whose figures other tests derive by hand)."""
    inst = generate(seed=4, devices=4, images=80, servers=2)
    for m in ("all-cloud", "all-device"):
        base = oo.solve(inst, m)
        for ev in (True, "reference", "batched"):
            s = oo.solve(inst, m, event_loop=ev)
            assert s.objective == pytest.approx(base.objective, rel=1e-12)
            assert s.decisions == base.decisions


def test_tokens_not_spent_on_discarded_speculative_offloads():
    """With tokens, the batched loop's discarded offloads beyond the horizon must not spend a
    token: the token counts left at the end equal the reference's."""
    inst = generate(seed=2, devices=10, images=1000)
    left = []
    for ev in ("reference", "batched"):
        pol = TimeHeuristic(tokens=True)
        run_policy(inst, pol, event_loop=ev)
        left.append(pol.tokens.copy())
    np.testing.assert_array_equal(left[0], left[1])


def test_baseline_event_loop_option_rejects_other_values():
    inst = generate(seed=4, devices=2, images=10)
    with pytest.raises(oo.InvalidInstance, match="event_loop"):
        oo.solve(inst, "all-cloud", event_loop="fast")
