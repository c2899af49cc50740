"""Baselines without a Filtering stage (PicSys seed, section 6.2.5): ``two-stage`` and ``longest-expected``.

Both run on the *two-stage counterpart* of the instance
(:func:`optoffload.picsys.simulator.two_stage_counterpart`): no accelerated
CNN (``alpha = 0``), a locally processed image runs the expensive CNN only
(``c_s + beta``) and is uploaded if that CNN says positive. Their decisions
carry ``"stages": 2`` so that ``oo.verify`` replays them on the same
counterpart. (Our simulator's outcomes always run the accelerated CNN before
the expensive one, so the counterpart, not a policy on the original
instance, is how a system without the accelerated CNN is expressed; the
change to the simulator is the ``stages`` key of the decisions.)

two-stage (6.2.5)
    "A mobile device initially makes the decision based on the network
    conditions, cloud backlog and hit-rate ... either offload the image or
    process it locally": the time-heuristic's initial stage (eqs. 11-13,
    Algorithms 1 and 3) with the single CNN in the role of the accelerated
    one (``alpha := beta``, ``beta := 0`` in eqs. 12-14) and the hit rate
    estimated from the expensive CNN's results. A locally processed image is
    never offloaded afterwards.

longest-expected (the paper's ref. [25], adapted to images as in 6.2.5)
    "Determine which devices have the longest expected completion time, and
    assign these to the cloud". At time 0 the cloud estimates each device's
    completion from public data only, ignoring the hit rate and the uploads
    of positives (as [25] does): with its first ``k`` images offloaded,
    ``E_m(k) = max(sum_{i >= k} (c_s_i + beta_m), sum_{i < k} tx_i + c_u)``
    and the cloud's ``E_c = c_u K / S`` for ``K`` offloaded images in total.
    It repeatedly gives one more image of the device with the largest
    ``E_m`` to the cloud while that lowers ``max(E_m, E_c)``. Offloaded images
    go first (the uplink then works while the CPU processes the rest). With
    ``stages=3`` the same rule runs on the original three-stage system
    (local cost ``c_s + alpha + beta``, no offload after the Filtering stage).
"""

from __future__ import annotations

import heapq

import numpy as np

from optoffload.errors import InvalidInstance
from optoffload.picsys.policy import LOCAL, OFFLOAD, DeviceView, Policy, SystemInfo
from optoffload.picsys.simulator import policy_solution, two_stage_counterpart

from .time_heuristic import TimeHeuristic, _options


class TwoStage(TimeHeuristic):
    """PicSys without the Filtering stage (run it on the two-stage counterpart)."""

    name = "two-stage"

    def _stage_times(self, dev: DeviceView) -> tuple[float, float]:
        return dev.beta, 0.0

    def hit_rate(self, dev: DeviceView) -> float:
        n0 = self.prior_weight
        if dev.n_selected + n0 <= 0:
            return self.prior
        return (dev.n_z2 + n0 * self.prior) / (dev.n_selected + n0)

    def filtering(self, dev: DeviceView) -> int:
        return self._guard_filter(dev, LOCAL)


class LongestExpected(Policy):
    """The baseline of ref. [25]: offload from the devices with the longest expected completion."""

    name = "longest-expected"

    def __init__(self, *, full_cost: bool = False) -> None:
        self.full_cost = full_cost   # three-stage system: local cost c_s + alpha + beta

    def reset(self, system: SystemInfo, rng: np.random.Generator) -> None:
        self._masks = [off for off, _ in self.plan(system)]

    def static_plan(self, system: SystemInfo):
        return self.plan(system)

    def plan(self, system: SystemInfo):
        """The cloud's assignment at time 0 (module docstring): [(offload_initial, offload_filter)]."""
        M = system.n_devices
        local = [system.c_s[m] + system.beta[m] + (system.alpha[m] if self.full_cost else 0.0) for m in range(M)]
        tx = [8.0 * system.sizes[m] / system.rate[m] for m in range(M)]
        rest = [float(np.sum(c)) for c in local]
        up = [0.0] * M
        k = [0] * M
        total = 0

        def e(m: int) -> float:
            return max(rest[m], up[m] + system.c_u if k[m] else 0.0)

        heap = [(-e(m), m) for m in range(M) if system.n_images[m] > 0]
        heapq.heapify(heap)
        while heap:
            neg, m = heapq.heappop(heap)
            if -neg != e(m):
                heapq.heappush(heap, (-e(m), m))
                continue
            if k[m] >= system.n_images[m]:
                continue
            old = max(e(m), system.c_u * total / system.servers)
            i = k[m]
            new_e = max(rest[m] - local[m][i], up[m] + tx[m][i] + system.c_u)
            if max(new_e, system.c_u * (total + 1) / system.servers) >= old - 1e-12:
                break
            rest[m] -= local[m][i]
            up[m] += tx[m][i]
            k[m] += 1
            total += 1
            heapq.heappush(heap, (-e(m), m))
        return [(np.arange(system.n_images[m]) < k[m], np.zeros(system.n_images[m], bool)) for m in range(M)]

    def initial(self, dev: DeviceView) -> int:
        return OFFLOAD if self._masks[dev.m][dev.index] else LOCAL

    def filtering(self, dev: DeviceView) -> int:
        return LOCAL


def _two_stage_solution(inst, pol, seed, method):
    # the plan belongs to the counterpart system: its Solution names it (``<name>-2stage``), so
    # that ``oo.verify(inst, sol)`` replays it there and never as a plan of ``inst`` itself
    sol = policy_solution(two_stage_counterpart(inst), pol, seed=seed, method=method)
    if sol.decisions is not None:
        sol.decisions = {**sol.decisions, "stages": 2}
    return sol


def two_stage(inst, *, time_limit=None, seed=0, threads=None, **options):
    """PicSys without the Filtering stage (section 6.2.5, Fig. 9)."""
    pol = TwoStage(**_options("two-stage", options,
                              {"tokens", "estimate", "prior", "prior_weight", "queue", "hit_rate"}))
    return _two_stage_solution(inst, pol, seed, "two-stage")


def longest_expected(inst, *, time_limit=None, seed=0, threads=None, stages=2, **options):
    """The baseline of the paper's ref. [25] (section 6.2.5, Fig. 10)."""
    _options("longest-expected", options, set())
    if stages not in (2, 3, "2", "3"):
        raise InvalidInstance("stages", f"must be 2 or 3, got {stages!r}")
    if int(stages) == 2:
        return _two_stage_solution(inst, LongestExpected(), seed, "longest-expected")
    return policy_solution(inst, LongestExpected(full_cost=True), seed=seed, method="longest-expected")
