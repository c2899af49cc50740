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


@pytest.mark.parametrize("cls", [TimeHeuristic, Balance])
def test_tokens_not_spent_on_discarded_speculative_offloads(cls):
    """With tokens, the batched loop's discarded offloads beyond the horizon must not spend a
    token: the token counts left at the end equal the reference's."""
    inst = generate(seed=2, devices=10, images=1000)
    left = []
    for ev in ("reference", "batched"):
        pol = cls(tokens=True)
        run_policy(inst, pol, event_loop=ev)
        left.append(pol.tokens.copy())
    np.testing.assert_array_equal(left[0], left[1])


def test_baseline_event_loop_option_rejects_other_values():
    inst = generate(seed=4, devices=2, images=10)
    with pytest.raises(oo.InvalidInstance, match="event_loop"):
        oo.solve(inst, "all-cloud", event_loop="fast")


# ---------------------------------------------------------------------- backlog runs (issue #15)

RUN_POLICIES = {k: POLICIES[k] for k in ("time-heuristic", "time-heuristic+tokens", "time-heuristic eq14 direct",
                                         "time-heuristic fixed h", "time-heuristic eq13 with-head")}


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 100_000), devices=st.integers(1, 6), images=st.integers(0, 80),
       servers=st.integers(1, 3), hit=st.sampled_from([0.25, 0.6, 0.9]), rate=st.sampled_from([1e6, 4e6, 50e6]),
       K=st.sampled_from([1, 2, 3, 8]), alpha=st.sampled_from([0.02, 0.2]), c_u=st.sampled_from([0.001, 0.05]))
def test_backlog_runs_equal_reference_random(seed, devices, images, servers, hit, rate, K, alpha, c_u):
    """Slow uplinks and cheap local steps give long backlog runs (Algorithm 3, lines 2 and 5); run
    lengths K of 1-3 put the K boundary everywhere; high hit rates give runs that end at the
    filtering stage and s-up uploads inside runs. The oracle is the reference loop (exact ==)."""
    inst = generate(seed=seed, devices=devices, images=images, servers=servers, hit_rate=hit, rate=rate,
                    alpha=alpha, c_u=c_u)
    old = batched.RUN_IMAGES
    batched.RUN_IMAGES = K
    try:
        for make in RUN_POLICIES.values():
            _assert_identical(*_both(inst, make, seed))
    finally:
        batched.RUN_IMAGES = old


def _one_device(ufree, z1, z2, tx=(0.5, 0.5, 0.3, 0.5)):
    """One device, alpha = 0.1, beta = 0.4, c_s = 0.05 per image, tx = 8 B / r with r = 8 Mbps
    (so tx = B / 1e6 s), uplink busy until ``ufree``; the time-heuristic's thresholds
    (c_s + alpha - TIE = 0.15 - 1e-9 and beta - TIE = 0.4 - 1e-9)."""
    from optoffload.heuristics.picsys.time_heuristic import TIE
    from optoffload.picsys.model import PicsysInstance

    n = len(z1)
    d = {"format": 1, "family": "picsys", "name": "runs", "cloud": {"c_u": 0.01, "servers": 1}, "devices": [
        {"rate": 8e6, "alpha": 0.1, "beta": 0.4, "images": {
            "size": [x * 1e6 for x in tx[:n]], "c_s": [0.05] * n, "z1": list(z1), "z2": list(z2),
            "hit": list(z2)}}]}
    inst = PicsysInstance.from_dict(d)
    stt = batched.BatchState(inst)
    stt.ufree[:] = ufree
    runs = batched.BacklogRuns(stt, stt.CS + 0.1 - TIE, stt.beta - TIE, K=8)
    MW = stt.M * stt.W
    state = dict(tau=np.zeros(1), soff=np.zeros(1, dtype=np.int64), pos=stt.base.copy(),
                 out=np.full(MW, -1, dtype=np.int8), comp=np.full(MW, np.nan))
    return stt, runs, state


def _advance(stt, runs, s):
    runs.advance(stt, s["tau"], s["soff"], s["pos"], s["out"], s["comp"], True)


def test_backlog_run_by_hand_stops_at_filtering_stage():
    """Uplink busy until 1.0, z1 = (0, 1, 1, 0), z2 = 0. By hand: image 0 starts at 0 (l^t = 1.0
    >= 0.15: LOCAL), its accelerated CNN ends at 0.15, negative: f-disc at 0.15; image 1 at 0.15
    (l^t = 0.85), CNN ends 0.30, positive, l^t = 0.70 >= 0.4: expensive CNN to 0.70, s-disc;
    image 2 at 0.70 (l^t = 0.30 >= 0.15), CNN ends 0.85, positive, l^t = 0.15 < 0.4: the run
    stops at image 2's filtering decision (tau = 0.85, filtering stage)."""
    from optoffload.picsys.model import F_DISC, S_DISC

    stt, runs, s = _one_device(1.0, (0, 1, 1, 0), (0, 0, 0, 0))
    _advance(stt, runs, s)
    assert s["tau"][0] == pytest.approx(0.85) and s["pos"][0] == 2 and s["soff"][0] == stt.M * stt.W
    assert list(s["out"][:4]) == [F_DISC, S_DISC, -1, -1]
    np.testing.assert_allclose(s["comp"][:2], [0.15, 0.70])
    assert (stt.n_filtered[0], stt.n_z1[0], stt.n_selected[0], stt.n_z2[0]) == (3, 2, 1, 0)
    assert stt.ufree[0] == 1.0


def test_backlog_run_by_hand_through_an_s_up():
    """Uplink busy until 2.0, z1 = (1, 1, 0, 0), z2 = (1, 0, 0, 0). By hand: image 0: CNN ends
    0.15 (l^t = 1.85 >= 0.4), expensive CNN to 0.55, s-up: upload max(0.55, 2.0) + 0.5 = 2.5;
    image 1 at 0.55 (l^t = 2.5 - 0.55 = 1.95), CNN to 0.70, expensive CNN to 1.10, s-disc;
    image 2 at 1.10 (l^t = 1.40): f-disc at 1.25; image 3 at 1.25 (l^t = 1.25): f-disc at 1.40;
    no image left: the device is done."""
    from optoffload.picsys.model import F_DISC, S_DISC, S_UP

    stt, runs, s = _one_device(2.0, (1, 1, 0, 0), (1, 0, 0, 0))
    _advance(stt, runs, s)
    assert s["tau"][0] == np.inf and s["pos"][0] == 4
    assert list(s["out"][:4]) == [S_UP, S_DISC, F_DISC, F_DISC]
    np.testing.assert_allclose(s["comp"][:4], [2.5, 1.10, 1.25, 1.40])
    assert stt.ufree[0] == pytest.approx(2.5) and stt.UD[0] == pytest.approx(2.5) and stt.ucur[0] == 1
    assert (stt.n_filtered[0], stt.n_z1[0], stt.n_selected[0], stt.n_z2[0]) == (4, 2, 2, 1)


def test_backlog_run_by_hand_s_up_on_an_idle_uplink():
    """Uplink free at u = t2 - 5e-10, t2 = 0.55 the end of image 0's expensive CNN: line 5 still
    holds within TIE (l^t = 0.4 - 5e-10 >= 0.4 - 1e-9), the s-up then finds the uplink idle and
    uploads from t2 (max(t2, u) = t2, not u): the run stops after image 0 with uplink free at
    t2 + 0.5 and the next decision at t2."""
    t2 = ((0.0 + 0.05) + 0.1) + 0.4                   # the loop's additions, in its order
    stt, runs, s = _one_device(t2 - 5e-10, (1, 0), (1, 0))
    _advance(stt, runs, s)
    assert s["pos"][0] == 1 and s["tau"][0] == t2 and s["soff"][0] == 0
    assert stt.ufree[0] == t2 + 0.5 and s["comp"][0] == t2 + 0.5


def test_backlog_runs_thresholds_are_the_time_heuristics():
    """The kernel's thresholds are Algorithm 3's: c_s + alpha - TIE per image, beta - TIE per device."""
    from optoffload.heuristics.picsys.time_heuristic import TIE
    from optoffload.picsys.simulator import system_info

    inst = generate(seed=3, devices=3, images=30)
    pol = TimeHeuristic()
    system = system_info(inst)
    pol.reset(system, np.random.default_rng(0))
    thr_i, thr_f, via = pol.batch_kernel(system).backlog_local
    W = int(system.n_images.max()) + 1
    for m, d in enumerate(inst.devices):
        np.testing.assert_array_equal(thr_i[m * W:m * W + d.n], d.c_s + d.alpha - TIE)
        assert thr_f[m] == d.beta - TIE
    assert via is None
    pol = TimeHeuristic(filter="direct")
    pol.reset(system, np.random.default_rng(0))
    assert pol.batch_kernel(system).backlog_local[2] is not None


@pytest.mark.parametrize("cls", [TimeHeuristic, Balance])
def test_cloud_queue_upper_bounds_the_final_queue(cls):
    """Every upper bound the loop computed beyond the horizon is >= the true q_c at that time,
    taken from the final FIFO (arrivals and done times of every job, by brute-force counting)."""
    calls = []
    orig = batched.BatchState.cloud_queue_upper

    def spy(self, t, q=None):
        out = orig(self, t, q)
        calls.append((self, t.copy(), out.copy()))
        return out

    batched.BatchState.cloud_queue_upper = spy
    try:
        for seed in range(3):
            inst = generate(seed=seed, devices=15, images=1500, servers=1 + seed % 2)
            run_policy(inst, cls(), event_loop="batched")
    finally:
        batched.BatchState.cloud_queue_upper = orig
    assert calls
    for stt, t, q in calls:
        n = stt.njobs
        arr, done = stt.arr[:n], stt.done[:n]
        true = np.array([int(np.sum(arr <= x)) - int(np.sum(done <= x)) for x in t])
        assert np.all(q >= true)


def test_backlog_runs_take_most_images():
    """On the paper's large-system distribution most images are decided by backlog runs, not by
    the kernel: the kernel sees far fewer decisions than there are images (the point of the runs)."""
    from optoffload.heuristics.picsys.time_heuristic import TimeHeuristicKernel

    inst = generate(seed=0, devices=20, images=4000)
    seen = [0]
    orig = TimeHeuristicKernel.decide

    def spy(self, st_, ids, *a, **k):
        seen[0] += len(ids)
        return orig(self, st_, ids, *a, **k)

    TimeHeuristicKernel.decide = spy
    try:
        a, b = _both(inst, TimeHeuristic)
    finally:
        TimeHeuristicKernel.decide = orig
    _assert_identical(a, b)
    assert seen[0] < inst.n_images / 2


# ---------------------------------------------------------------------- kernel runs (balance, issue #15)

KRUN_POLICIES = {k: POLICIES[k] for k in ("balance", "balance+tokens", "balance risk0 prior")}


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 100_000), devices=st.integers(1, 6), images=st.integers(0, 80),
       servers=st.integers(1, 3), hit=st.sampled_from([0.05, 0.25, 0.6, 0.9]),
       rate=st.sampled_from([1e6, 4e6, 10e6, 50e6]), K=st.sampled_from([1, 2, 3, 8]),
       alpha=st.sampled_from([0.02, 0.2]), c_u=st.sampled_from([0.001, 0.05, 0.3]), chain=st.sampled_from([0, 1, 3]))
def test_kernel_runs_equal_reference_random(seed, devices, images, servers, hit, rate, K, alpha, c_u, chain):
    """balance's runs of certain decisions (KernelRuns: LOCAL prefixes decided at a lower bound on
    q_c, the stopping OFFLOAD taken exactly before the horizon or at q_c's upper bound beyond it).
    Slow and fast uplinks, cheap and dear local steps, a fast and a contended cloud, hit rates up
    to 0.9 (runs ending at the filtering stage, s-ups on busy and idle uplinks inside runs); run
    lengths K of 1-3 put the K boundary everywhere; 0-3 extra passes per round for the devices
    that just offloaded (``CHAIN``). The oracle is the reference loop (exact ==)."""
    inst = generate(seed=seed, devices=devices, images=images, servers=servers, hit_rate=hit, rate=rate,
                    alpha=alpha, c_u=c_u)
    old = batched.LOCAL_RUN_IMAGES, batched.CHAIN
    batched.LOCAL_RUN_IMAGES, batched.CHAIN = K, chain
    try:
        for make in KRUN_POLICIES.values():
            _assert_identical(*_both(inst, make, seed))
    finally:
        batched.LOCAL_RUN_IMAGES, batched.CHAIN = old


@pytest.mark.parametrize("seed", [0, 1])
def test_kernel_runs_equal_reference_large_k(seed):
    """Long runs (K = 16) on the seeded 20 x 2,000 instances, the cloud contended; exact ==."""
    inst = generate(seed=seed, devices=20, images=2000, servers=1 + seed)
    old = batched.LOCAL_RUN_IMAGES
    batched.LOCAL_RUN_IMAGES = 16
    try:
        for make in KRUN_POLICIES.values():
            _assert_identical(*_both(inst, make, seed))
    finally:
        batched.LOCAL_RUN_IMAGES = old


def test_kernel_runs_need_fewer_rounds_than_decisions():
    """A loop that takes one decision per device per round needs at least as many rounds as the
    busiest device has decisions (>= its images). With KernelRuns balance takes several per
    pass: fewer passes (rounds and their extra passes together) than the largest image count
    (20 devices x 4,000 images: about 200 each), and the one-step kernel path (``decide``) is
    not used at all, only the runs' kernel calls."""
    from optoffload.heuristics.picsys.balance import BalanceKernel

    inst = generate(seed=0, devices=20, images=4000)
    rounds, steps = [0], [0]
    orig_a, orig_d = batched.KernelRuns.advance, BalanceKernel.decide

    def spy_a(self, *a, **k):
        rounds[0] += 1
        return orig_a(self, *a, **k)

    def spy_d(self, st_, ids, *a, **k):
        steps[0] += len(ids)
        return orig_d(self, st_, ids, *a, **k)

    batched.KernelRuns.advance, BalanceKernel.decide = spy_a, spy_d
    try:
        a, b = _both(inst, Balance)
    finally:
        batched.KernelRuns.advance, BalanceKernel.decide = orig_a, orig_d
    _assert_identical(a, b)
    nmax = max(d.n for d in inst.devices)
    assert rounds[0] < 0.75 * nmax
    assert steps[0] == 0


def test_kernel_runs_only_without_cloud_share():
    """cloud_share makes f_loc read q_c (not monotone): no runs, the one-step loop (same result)."""
    from optoffload.heuristics.picsys.balance import BalanceKernel
    from optoffload.picsys.simulator import system_info

    inst = generate(seed=3, devices=3, images=30)
    system = system_info(inst)
    for cs, want in ((False, True), (True, False)):
        pol = Balance(cloud_share=cs)
        pol.reset(system, np.random.default_rng(0))
        k = pol.batch_kernel(system)
        assert isinstance(k, BalanceKernel) and k.local_runs is want and k.monotone_in_queue is want


class _FakeKernel:
    """A rule that is LOCAL except at the decisions listed in ``offload_at`` (their order in the
    ``local_certain`` call), which it declares certain OFFLOADs; it records every state asked."""

    def __init__(self, offload_at=(), certain=True):
        self.offload_at, self.certain, self.seen = set(offload_at), certain, []

    def local_certain(self, st_, k, t, p, filt, ufree, nz1, nfilt, nz2, nsel):
        self.seen += [(float(a), bool(f), int(b), int(c), int(d), int(e), float(u))
                      for a, f, b, c, d, e, u in zip(t, filt, nfilt, nz1, nsel, nz2, ufree)]
        loc = np.array([j not in self.offload_at for j in range(len(k))])
        return loc, np.ones(len(k), dtype=bool)

    def offload_certain(self, st_, e, H):
        return np.full(len(e), self.certain)


def _kernel_run(z1, z2, kernel, K=4):
    stt, _, s = _one_device(0.0, z1, z2)
    runs = batched.KernelRuns(stt, K=K)
    req = runs.advance(stt, kernel, s["tau"], s["soff"], s["pos"], s["out"], s["comp"], True, 10.0)
    return stt, s, req


def test_kernel_run_by_hand_through_s_ups_on_an_idle_uplink():
    """One device (c_s = 0.05, alpha = 0.1, beta = 0.4, tx = (0.5, 0.5, 0.3, 0.5)), uplink idle,
    z1 = (1, 1, 0, 1), z2 = (1, 0, 0, 1), a rule that is always LOCAL, K = 4. By hand: image 0
    decided at 0 and (filtering) at 0.15, expensive CNN to 0.55, s-up on the idle uplink:
    max(0.55, 0) + 0.5 = 1.05 (a backlog run would stop here; a kernel run goes on); image 1 at
    0.55 and 0.70, s-disc at 1.10; image 2 at 1.10, f-disc at 1.25; image 3 at 1.25 and 1.40,
    s-up: max(1.80, 1.05) + 0.5 = 2.30. The states asked (time, stage, n_filtered, n_z1,
    n_selected, n_z2, uplink free) follow the reference's counting: a CNN's result counts from
    the next decision on. Seven decisions, seven requests; the device is done."""
    from optoffload.picsys.model import F_DISC, S_DISC, S_UP

    kern = _FakeKernel()
    stt, s, req = _kernel_run((1, 1, 0, 1), (1, 0, 0, 1), kern)
    want = [(0.0, False, 0, 0, 0, 0, 0.0), (0.15, True, 1, 1, 0, 0, 0.0), (0.55, False, 1, 1, 1, 1, 1.05),
            (0.70, True, 2, 2, 1, 1, 1.05), (1.10, False, 2, 2, 2, 1, 1.05), (1.25, False, 3, 2, 2, 1, 1.05),
            (1.40, True, 4, 3, 2, 1, 1.05)]
    assert len(kern.seen) == len(want)
    for got, w in zip(kern.seen, want):
        assert got[1:6] == w[1:6]
        assert got[0] == pytest.approx(w[0]) and got[6] == pytest.approx(w[6])
    assert req == 7 and s["tau"][0] == np.inf and s["pos"][0] == 4
    assert list(s["out"][:4]) == [S_UP, S_DISC, F_DISC, S_UP]
    np.testing.assert_allclose(s["comp"][:4], [1.05, 1.10, 1.25, 2.30])
    assert stt.ufree[0] == pytest.approx(2.30) and stt.ucur[0] == 2
    np.testing.assert_allclose(stt.UD[:2], [1.05, 2.30])
    assert (stt.n_filtered[0], stt.n_z1[0], stt.n_selected[0], stt.n_z2[0]) == (4, 3, 3, 2)


def test_kernel_run_by_hand_ends_with_a_certain_offload():
    """As above, but the rule offloads at its 5th decision (image 2's initial one, at 1.10, with
    the uplink free at 1.05): images 0-1 are taken locally, image 2 is offloaded (i-off, upload
    max(1.10, 1.05) + 0.3 = 1.40, a cloud arrival at 1.40), and the device's next decision is
    image 3's at the same time 1.10 (initial stage). Five requests."""
    from optoffload.picsys.model import I_OFF, S_DISC, S_UP

    stt, s, req = _kernel_run((1, 1, 0, 1), (1, 0, 0, 1), _FakeKernel(offload_at={4}))
    assert req == 5 and s["pos"][0] == 3 and s["soff"][0] == 0
    assert s["tau"][0] == pytest.approx(1.10)
    assert list(s["out"][:3]) == [S_UP, S_DISC, I_OFF]
    assert stt.ufree[0] == pytest.approx(1.40)
    a, p = stt._pending()
    assert list(p) == [2] and a[0] == pytest.approx(1.40)
    assert (stt.n_filtered[0], stt.n_z1[0], stt.n_selected[0], stt.n_z2[0]) == (2, 2, 2, 1)


def test_kernel_run_by_hand_resumes_at_the_filtering_stage():
    """As above, but the 4th decision (image 1's filtering one, at 0.70) is neither certainly
    LOCAL nor a certain OFFLOAD: the pass leaves the device there (tau = 0.70, filtering stage,
    image 1 counted as filtered and positive: n_filtered = 2, n_z1 = 2, n_selected = 1, n_z2 = 1;
    three requests). The next pass, always LOCAL, starts at that decision, with the same state,
    and ends where the first test ended (same outcomes, times and counts; 4 more requests)."""
    from optoffload.picsys.model import F_DISC, S_DISC, S_UP

    stt, s, req = _kernel_run((1, 1, 0, 1), (1, 0, 0, 1), _FakeKernel(offload_at={3}, certain=False))
    assert req == 3 and s["pos"][0] == 1 and s["soff"][0] == stt.M * stt.W
    assert s["tau"][0] == pytest.approx(0.70)
    assert (stt.n_filtered[0], stt.n_z1[0], stt.n_selected[0], stt.n_z2[0]) == (2, 2, 1, 1)
    kern = _FakeKernel()
    runs = batched.KernelRuns(stt, K=4)
    req2 = runs.advance(stt, kern, s["tau"], s["soff"], s["pos"], s["out"], s["comp"], True, 10.0)
    first = kern.seen[0]
    assert first[1:6] == (True, 2, 2, 1, 1) and first[0] == pytest.approx(0.70) and first[6] == pytest.approx(1.05)
    assert req2 == 4 and s["tau"][0] == np.inf and s["pos"][0] == 4
    assert list(s["out"][:4]) == [S_UP, S_DISC, F_DISC, S_UP]
    np.testing.assert_allclose(s["comp"][:4], [1.05, 1.10, 1.25, 2.30])
    assert (stt.n_filtered[0], stt.n_z1[0], stt.n_selected[0], stt.n_z2[0]) == (4, 3, 3, 2)
