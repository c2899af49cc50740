"""PicSys simulator: hand-derived makespans, plan replay == online event loop, no truth leaks.

Common parameters of the hand cases (unless stated): B = 1,000,000 bytes and
r = 8 Mbps, so an upload takes 8 * 1e6 / 8e6 = 1.0 s; c_s = 0.1, alpha = 0.2,
beta = 0.4, c_u = 0.05 (so the CPU part is 0.3 s after the accelerated CNN and
0.7 s after the expensive one).
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import optoffload as oo
from optoffload.picsys.generator import generate
from optoffload.picsys.model import PicsysInstance, parse_plan
from optoffload.picsys.policy import LOCAL, OFFLOAD, STOP, Policy
from optoffload.picsys.simulator import run_policy, simulate_plan
from picsys_helpers import device, instance

MB = 1_000_000


def makespan(inst_dict, outcomes):
    inst = oo.from_dict(inst_dict)
    return oo.verify(inst, oo.Solution("picsys", inst.name, "hand", oo.Status.FEASIBLE,
                                       objective=_eval(inst, outcomes), decisions={"outcomes": outcomes}))


def _eval(inst, outcomes):
    from optoffload.picsys.simulator import evaluate

    return evaluate(inst, {"outcomes": outcomes})


@pytest.mark.parametrize("outcome,hit,z1,z2,expected", [
    ("i-off", [0], [0], [0], 1.0 + 0.05),                 # upload 1.0, cloud 0.05
    ("f-off", [1], [1], [0], 0.1 + 0.2 + 1.0 + 0.05),     # scale+accelerated 0.3, upload, cloud
    ("f-disc", [0], [0], [0], 0.1 + 0.2),                 # scale+accelerated, discard
    ("s-up", [1], [1], [1], 0.1 + 0.2 + 0.4 + 1.0),       # + expensive 0.4, upload, no cloud work
    ("s-disc", [1], [1], [0], 0.1 + 0.2 + 0.4),           # + expensive, discard
])
def test_one_device_one_image_each_outcome(outcome, hit, z1, z2, expected):
    d = instance([device([MB], hit, z1, z2)])
    assert makespan(d, [[outcome]]) == pytest.approx(expected, abs=1e-12)


def test_two_devices_share_one_cloud_with_a_tie():
    # Both devices offload their single image at t=0; both uploads end at 1.0 (a tie at the cloud).
    # FIFO ties go by device index: device 0 is served 1.00-1.05, device 1 1.05-1.10.
    d = instance([device([MB], [0]), device([MB], [0])])
    inst = oo.from_dict(d)
    res = simulate_plan(inst, parse_plan(inst, {"outcomes": [["i-off"], ["i-off"]]}))
    assert res.makespan == pytest.approx(1.10, abs=1e-12)
    assert res.device_completion.tolist() == pytest.approx([1.05, 1.10], abs=1e-12)
    # with two servers both are served in parallel: 1.0 + 0.05
    d2 = instance([device([MB], [0]), device([MB], [0])], servers=2)
    assert makespan(d2, [["i-off"], ["i-off"]]) == pytest.approx(1.05, abs=1e-12)


def test_cloud_queue_builds_up():
    # Device 0 offloads 3 images of 0.4 MB at 8 Mbps (0.4 s each): arrivals 0.4, 0.8, 1.2.
    # Device 1 offloads one 0.1 MB image at 8 Mbps: arrival 0.1. c_u = 0.5 (slow cloud):
    # dev1 0.1-0.6; dev0#1 0.6-1.1; dev0#2 1.1-1.6; dev0#3 1.6-2.1 -> makespan 2.1.
    d = instance([device([4e5] * 3, [0, 0, 0]), device([1e5], [0])], c_u=0.5)
    assert makespan(d, [["i-off"] * 3, ["i-off"]]) == pytest.approx(2.1, abs=1e-12)


def test_uplink_busy_while_cpu_works():
    # Image 1 i-off joins the uplink at 0 and uploads 0-1.0 (cloud 1.0-1.05).
    # Image 2 starts on the CPU at 0 (i-off used no CPU): 0.3 s, joins the uplink at 0.3 but it is
    # busy until 1.0, so it uploads 1.0-2.0, cloud 2.0-2.05.
    # Image 3 (s-disc) runs on the CPU 0.3-1.0 while image 2 waits: completes at 1.0.
    d = instance([device([MB] * 3, [0, 1, 1], z1=[0, 1, 1], z2=[0, 0, 0])])
    inst = oo.from_dict(d)
    res = simulate_plan(inst, parse_plan(inst, {"outcomes": [["i-off", "f-off", "s-disc"]]}))
    assert res.completion[0].tolist() == pytest.approx([1.05, 2.05, 1.0], abs=1e-12)
    assert res.makespan == pytest.approx(2.05, abs=1e-12)


def test_table2_baselines_by_hand():
    # Table 2: 800 kB at 20 Mbps -> 0.32 s per upload; c_s + alpha = 0.35, + beta = 0.95.
    # all-device: device 1 has 8 misses (0.35 each) and 2 hits (0.95 each): CPU ends at 4.7; its
    # last hit (9th image) ends the CPU at 7*0.35 + 2*0.95 = 4.35 and uploads until 4.67 < 4.7.
    # all-cloud: device 1 uploads 10 images back to back, the last arrives at 3.2, cloud 0.01 -> 3.21
    # (devices 2 and 3 finish their uploads by 1.92, so the cloud is never the bottleneck).
    inst = oo.load("picsys/table2")
    assert oo.solve(inst, "all-device").objective == pytest.approx(4.7, abs=1e-9)
    assert oo.solve(inst, "all-cloud").objective == pytest.approx(3.21, abs=1e-9)


def test_energy_accounting_eq16():
    # e_s=0.1, e_alpha=1, e_beta=10, e_t=100: i-off 100; f-off 0.1+1+100; f-disc 1.1; s-up 111.1; s-disc 11.1
    e = {"budget": 1000.0, "e_s": 0.1, "e_t": 100.0, "e_alpha": 1.0, "e_beta": 10.0}
    d = instance([device([MB] * 5, [0, 1, 0, 1, 1], z1=[0, 1, 0, 1, 1], z2=[0, 0, 0, 1, 0], energy=e)])
    inst = oo.from_dict(d)
    res = simulate_plan(inst, parse_plan(inst, {"outcomes": [["i-off", "f-off", "f-disc", "s-up", "s-disc"]]}))
    assert res.energy[0] == pytest.approx(100 + 101.1 + 1.1 + 111.1 + 11.1)
    assert res.energy_ok
    tight = instance([device([MB], [0], energy={**e, "budget": 50.0})])
    with pytest.raises(oo.InvalidInstance, match="budget"):
        _eval(oo.from_dict(tight), [["i-off"]])  # 100 % > 50 % budget (eq. 15)


def test_skip_only_in_max_processed_mode():
    # the mode exists only with enforced budgets (issue #14 item 1: an all-skip plan of a
    # budget-less instance verified with objective 0)
    energy = {"budget": 100.0, "e_s": 0.0, "e_t": 0.0, "e_alpha": 0.0, "e_beta": 0.0}
    inst = oo.from_dict(instance([device([MB, MB], [0, 0], energy=energy)]))
    from optoffload.picsys.simulator import evaluate

    with pytest.raises(oo.InvalidInstance, match=r"decisions.outcomes\[0\]\[1\]"):
        evaluate(inst, {"outcomes": [["f-disc", "skip"]]})
    # mode max-processed: the skipped image takes no time; the other one ends at 0.3
    assert evaluate(inst, {"mode": "max-processed", "outcomes": [["f-disc", "skip"]]}) == pytest.approx(0.3)
    plain = oo.from_dict(instance([device([MB, MB], [0, 0])]))
    with pytest.raises(oo.InvalidInstance, match=r"decisions.mode"):
        evaluate(plain, {"mode": "max-processed", "outcomes": [["f-disc", "skip"]]})


def test_empty_instance_has_makespan_zero():
    d = instance([device([], [], rate=1e6)])
    inst = oo.from_dict(d)
    assert oo.solve(inst, "all-device").objective == 0.0


# ------------------------------------------------------------------ online event loop vs plan replay

class RandomPolicy(Policy):
    """Decides at random but only from the view (reads the cloud queue to exercise requests)."""

    name = "random-test"

    def reset(self, system, rng):
        self.rng = rng

    def initial(self, dev):
        dev.cloud_queue()
        return OFFLOAD if self.rng.random() < 0.4 else LOCAL

    def filtering(self, dev):
        return OFFLOAD if self.rng.random() < 0.5 else LOCAL


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), devices=st.integers(1, 5), images=st.integers(0, 30),
       servers=st.integers(1, 3))
def test_event_loop_equals_plan_replay(seed, devices, images, servers):
    """Replaying the outcomes an online run produced gives the same completion times."""
    inst = generate(seed=seed, devices=devices, images=images, servers=servers, hit_rate=0.5, fpr_alpha=0.3)
    res = run_policy(inst, RandomPolicy(), seed=seed)
    replay = simulate_plan(inst, res.outcomes)
    assert res.makespan == pytest.approx(replay.makespan, rel=1e-12, abs=1e-12)
    for a, b in zip(res.completion, replay.completion):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(res.energy, replay.energy)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_static_fast_path_equals_event_loop(seed):
    inst = generate(seed=seed, devices=4, images=40, servers=1 + seed % 2)
    for m in ("all-device", "all-cloud"):
        a = oo.solve(inst, m)
        b = oo.solve(inst, m, event_loop=True)
        assert a.objective == pytest.approx(b.objective, rel=1e-12)
        assert a.decisions == b.decisions


def test_cloud_queue_seen_by_a_device():
    # Device 0 offloads 3 images of 0.1 MB at t=0 (uploads end 0.1, 0.2, 0.3), cloud c_u = 1.
    # Device 1's first image: scale+accelerated = 0.5 s (c_s 0.1 + alpha 0.4), so its filtering
    # decision is at t = 0.5: the cloud holds all 3 images (first served 0.1-1.1) -> q_c = 3.
    seen = []

    class Probe(Policy):
        def initial(self, dev):
            return OFFLOAD if dev.m == 0 else LOCAL

        def filtering(self, dev):
            seen.append((dev.t, dev.cloud_queue(), dev.hit_rate_estimate))
            return LOCAL

    d = instance([device([1e5] * 3, [0, 0, 0]), device([MB], [1], alpha=0.4)], c_u=1.0)
    run_policy(oo.from_dict(d), Probe())
    assert seen == [(pytest.approx(0.5), 3, 1.0)]


def test_policy_view_holds_no_truth():
    """The view handed to policies has no path to the instance's truth values."""
    inst = oo.load("picsys/table2")
    views = []

    class Spy(Policy):
        def initial(self, dev):
            views.append(dev)
            return LOCAL

        def filtering(self, dev):
            return LOCAL

    run_policy(inst, Spy())
    v = views[0]
    reachable = [getattr(v, s) for s in type(v).__slots__ if hasattr(v, s)]
    for obj in reachable:
        assert not isinstance(obj, PicsysInstance)
        assert not hasattr(obj, "devices") and not hasattr(obj, "z1")
    # the cloud object exposes only counts
    assert set(type(v._cloud).__slots__) == {"c_u", "servers", "pending", "recent", "done_q", "assigned"}


def test_policy_bad_return_value_is_reported():
    class Bad(Policy):
        name = "bad"

        def initial(self, dev):
            return "yes"

        def filtering(self, dev):
            return LOCAL

    with pytest.raises(ValueError, match="initial"):
        run_policy(oo.load("picsys/table2"), Bad())


def test_stop_leaves_images_unprocessed():
    class StopAll(Policy):
        def initial(self, dev):
            return STOP

        def filtering(self, dev):
            return LOCAL

    res = run_policy(oo.load("picsys/table2"), StopAll())
    assert res.processed == 0 and res.makespan == 0.0 and res.recall == 0.0


def test_recall_counts_hits_reaching_the_cloud():
    # hits: images 1 and 2 of 3. all-device uploads both (z2 = hit in table2-like truth) -> recall 1.
    # A plan discarding image 2 after the expensive CNN is infeasible for z2=1, so use z2=0 for it:
    d = instance([device([MB] * 3, [1, 1, 0], z1=[1, 1, 0], z2=[1, 0, 0])])
    inst = oo.from_dict(d)
    res = simulate_plan(inst, parse_plan(inst, {"outcomes": [["s-up", "s-disc", "f-disc"]]}))
    assert res.recall == pytest.approx(0.5)  # 1 of 2 hits found
    assert math.isclose(simulate_plan(inst, parse_plan(inst, {"outcomes": [["i-off", "f-off", "i-off"]]})).recall, 1)
