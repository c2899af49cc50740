"""The PicSys discrete-event simulator: the single source of truth for every objective.

Semantics (``shared/design/picsys.md``, paper section 5.1):

* device CPU serves the queue in order without idling (eq. 9): image ``i``
  starts at ``t_i = t_{i-1} + cpu_{i-1}``; ``cpu`` is 0 (``i-off``),
  ``c_s + alpha`` (``f-off``, ``f-disc``) or ``c_s + alpha + beta``
  (``s-up``, ``s-disc``);
* each device has one FIFO uplink working in parallel with its CPU; an image
  joins it when its CPU part ends and takes ``8 B / r`` seconds;
* the cloud has ``S`` identical servers taking ``c_u + c_step`` per image
  (``c_step``: the optional cloud-side step, e.g. scaling at the cloud, issue
  #13; default 0), FIFO by arrival time (ties: device index, then queue position);
* an image completes at the end of its cloud processing (``i-off``,
  ``f-off``), of its upload (``s-up``) or of its CPU work (``f-disc``,
  ``s-disc``); the makespan is the largest completion time (eq. 1), 0 when
  there is no image;
* energy per image is eq. 16; the budget constraint is eq. 15.

Two entry points share these semantics: :func:`simulate_plan` replays a fixed
outcome plan (vectorised, used by ``verify``), :func:`run_policy` runs an
online :class:`~optoffload.picsys.policy.Policy` event by event. A test checks
that replaying the outcomes produced by any policy gives the same makespan.
"""

from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InvalidInstance
from ..solution import Solution
from ..status import Status
from .model import (F_DISC, F_OFF, I_OFF, OUTCOMES, S_DISC, S_UP, SKIPPED, PicsysInstance, parse_plan,
                    plan_to_decisions)
from .policy import LOCAL, OFFLOAD, STOP, DeviceView, Policy, SystemInfo


@dataclass
class SimResult:
    """Everything the simulator measures for one run."""

    makespan: float
    outcomes: list[np.ndarray]
    completion: list[np.ndarray]
    """Per image completion time (NaN for a skipped image)."""
    device_completion: np.ndarray
    """Per device: latest completion among its images (including their cloud part)."""
    cloud_completion: float
    energy: np.ndarray
    """Per device energy used, % of battery (eq. 16); zeros without energy data."""
    energy_ok: bool
    recall: float | None
    processed: int
    requests: int = 0
    extra: dict = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        allc = np.concatenate(self.outcomes) if self.outcomes else np.zeros(0, dtype=np.int8)
        names = OUTCOMES + ("skip",)
        return {names[k]: int(np.sum(allc == k)) for k in range(6)}

    def decisions(self, mode: str = "makespan") -> dict:
        return plan_to_decisions(self.outcomes, mode)

    def info(self) -> dict:
        return {"outcome_counts": self.counts(), "recall": self.recall, "energy": self.energy.tolist(),
                "energy_ok": self.energy_ok, "processed": self.processed, "cloud_completion": self.cloud_completion,
                "device_completion": self.device_completion.tolist(), "cloud_requests": self.requests, **self.extra}


# ------------------------------------------------------------------------------ energy / recall

def image_energy(inst: PicsysInstance, m: int, codes: np.ndarray) -> np.ndarray:
    """Energy of each image of device ``m`` for its outcome (paper eq. 16: cost1^(e)..cost5^(e))."""
    dev = inst.devices[m]
    if dev.energy is None:
        return np.zeros(dev.n)
    e = dev.energy
    local = (codes == F_OFF) | (codes == F_DISC) | (codes == S_UP) | (codes == S_DISC)
    expensive = (codes == S_UP) | (codes == S_DISC)
    up = (codes == I_OFF) | (codes == F_OFF) | (codes == S_UP)
    return np.where(local, e.e_s + e.e_alpha, 0.0) + np.where(expensive, e.e_beta, 0.0) + np.where(up, e.e_t, 0.0)


def recall_of(inst: PicsysInstance, plan: list[np.ndarray]) -> float | None:
    """Share of ground-truth hits that reach the cloud as positives.

    An offloaded image (``i-off``, ``f-off``) is classified by the cloud, taken
    as the reference classifier, so a hit offloaded is found; an ``s-up`` hit is
    found; hits discarded on the device (``f-disc``, ``s-disc``) or skipped are
    lost. None when the instance has no hit.
    """
    hits = found = 0
    for dev, codes in zip(inst.devices, plan):
        h = dev.hit == 1
        hits += int(h.sum())
        found += int((h & ((codes == I_OFF) | (codes == F_OFF) | (codes == S_UP))).sum())
    return found / hits if hits else None


# ------------------------------------------------------------------------------ fixed plan

def _fifo_done(join: np.ndarray, service: np.ndarray) -> np.ndarray:
    """Completion times of a single FIFO server: ``f_k = max(join_k, f_{k-1}) + s_k``.

    Closed form ``f_k = S_k + max_{j<=k}(join_j - S_{j-1})`` with ``S`` the
    cumulative service (vectorised; equal to the recursion up to rounding).
    """
    if len(join) == 0:
        return join.astype(float)
    s = np.cumsum(service)
    return s + np.maximum.accumulate(join - (s - service))


def _cloud_done(arrival: np.ndarray, dev_idx: np.ndarray, pos: np.ndarray, c_u: float, servers: int) -> np.ndarray:
    """FIFO cloud with identical servers; returns the completion time of each arrival (input order)."""
    n = len(arrival)
    done = np.empty(n)
    if n == 0:
        return done
    order = np.lexsort((pos, dev_idx, arrival))
    arr = arrival[order]
    if servers == 1:
        d = _fifo_done(arr, np.full(n, c_u))
    else:
        # FIFO with identical service times: job k starts when job k-S ends (round-robin servers).
        d = np.empty(n)
        for k in range(n):
            start = arr[k] if k < servers else max(arr[k], d[k - servers])
            d[k] = start + c_u
    done[order] = d
    return done


def simulate_plan(inst: PicsysInstance, plan: list[np.ndarray]) -> SimResult:
    """Replay a fixed outcome plan (one int code array per device; see :func:`parse_plan`)."""
    completion: list[np.ndarray] = []
    up_done_all, up_dev, up_pos, off_mask_all, energy = [], [], [], [], np.zeros(inst.n_devices)
    for m, (dev, codes) in enumerate(zip(inst.devices, plan)):
        filt = (codes == F_OFF) | (codes == F_DISC)
        sel = (codes == S_UP) | (codes == S_DISC)
        cpu = np.where(filt | sel, dev.c_s + dev.alpha, 0.0) + np.where(sel, dev.beta, 0.0)
        end = np.cumsum(cpu)                        # end of CPU part; start t_i = end - cpu (eq. 9)
        comp = np.where(codes == SKIPPED, np.nan, end)
        up = (codes == I_OFF) | (codes == F_OFF) | (codes == S_UP)
        idx = np.flatnonzero(up)
        done = _fifo_done(end[idx], dev.tx[idx])
        comp[idx] = done                            # s-up completes here; offloads overwritten below
        completion.append(comp)
        off = (codes[idx] == I_OFF) | (codes[idx] == F_OFF)
        up_done_all.append(done[off])
        up_dev.append(np.full(int(off.sum()), m))
        up_pos.append(idx[off])
        energy[m] = float(image_energy(inst, m, codes).sum())
    arrival = np.concatenate(up_done_all) if up_done_all else np.zeros(0)
    dev_idx = np.concatenate(up_dev) if up_dev else np.zeros(0, dtype=int)
    pos = np.concatenate(up_pos) if up_pos else np.zeros(0, dtype=int)
    cdone = _cloud_done(arrival, dev_idx, pos, inst.cloud_time, inst.servers)
    for m in range(inst.n_devices):
        sel = dev_idx == m
        if sel.any():
            completion[m][pos[sel]] = cdone[sel]
    return _result(inst, plan, completion, float(cdone.max()) if len(cdone) else 0.0, energy)


def device_side_completion(inst: PicsysInstance, plan: list[np.ndarray]) -> np.ndarray:
    """Per device, when its own part ends: its last CPU end or upload end, whichever is later.

    This is the per-device time of the paper's Table 3 (its cloud part is the table's
    separate "cloud completion time" row); the makespan is the larger of the two.
    """
    out = np.zeros(inst.n_devices)
    for m, (dev, codes) in enumerate(zip(inst.devices, plan)):
        filt = (codes == F_OFF) | (codes == F_DISC)
        sel = (codes == S_UP) | (codes == S_DISC)
        end = np.cumsum(np.where(filt | sel, dev.c_s + dev.alpha, 0.0) + np.where(sel, dev.beta, 0.0))
        idx = np.flatnonzero((codes == I_OFF) | (codes == F_OFF) | (codes == S_UP))
        up = _fifo_done(end[idx], dev.tx[idx])
        out[m] = max(float(end[-1]) if dev.n else 0.0, float(up[-1]) if len(up) else 0.0)
    return out


def _result(inst: PicsysInstance, plan, completion, cloud_completion, energy, requests=0) -> SimResult:
    dev_comp = np.array([float(np.nanmax(c)) if len(c) and not np.all(np.isnan(c)) else 0.0 for c in completion])
    makespan = float(dev_comp.max()) if len(dev_comp) else 0.0
    ok = True
    if inst.has_energy:
        for m, dev in enumerate(inst.devices):
            if dev.energy is not None and energy[m] > dev.energy.budget * (1 + 1e-9) + 1e-12:
                ok = False
    processed = int(sum(int(np.sum(c != SKIPPED)) for c in plan))
    return SimResult(makespan=makespan, outcomes=[np.asarray(c, dtype=np.int8) for c in plan], completion=completion,
                     device_completion=dev_comp, cloud_completion=cloud_completion, energy=energy, energy_ok=ok,
                     recall=recall_of(inst, plan), processed=processed, requests=requests)


def two_stage_counterpart(inst: PicsysInstance) -> PicsysInstance:
    """The same system without the Filtering stage (paper 6.2.5, "two-stage").

    A locally processed image runs only the expensive CNN: ``alpha = 0``,
    ``e_alpha = 0``, every image "passes" the (absent) accelerated CNN
    (``z1 = 1``), and the expensive CNN's verdict is ``z2`` where the
    three-stage system computed it (``z1 = 1``) and the ground truth ``hit``
    elsewhere (our choice: the expensive CNN finds the hits that the
    accelerated CNN missed). Outcomes are then ``i-off``, ``s-up``, ``s-disc``.
    """
    from dataclasses import replace

    devs = []
    for d in inst.devices:
        z2 = np.where(d.z1 == 1, d.z2, d.hit).astype(np.int8)
        e = None if d.energy is None else replace(d.energy, e_alpha=0.0)
        devs.append(replace(d, alpha=0.0, z1=np.ones(d.n, dtype=np.int8), z2=z2, energy=e))
    return replace(inst, devices=tuple(devs), name=f"{inst.name}-2stage", stages=2)


def plan_info(inst: PicsysInstance, decisions: Any) -> dict:
    """For ``optoffload verify``: in mode ``max-processed`` the objective is lexicographic (most
    images processed, then least makespan), so the makespan alone does not rank a plan; report
    the images processed and the most the budgets allow (:func:`~optoffload.picsys.bounds.max_processed`)."""
    if not (isinstance(decisions, dict) and decisions.get("mode") == "max-processed"):
        return {}
    from .bounds import max_processed

    plan = parse_plan(inst, decisions)
    return {"mode": "max-processed", "processed": int(sum(int(np.sum(c != SKIPPED)) for c in plan)),
            "max_processed": int(sum(max_processed(inst))), "images": inst.n_images}


def counterpart(inst: PicsysInstance, name: str) -> PicsysInstance | None:
    """The related system a Solution named ``name`` belongs to (``Family.counterpart``).

    ``<name>-2stage`` is the two-stage counterpart of a three-stage instance; anything else is
    not a system of ``inst`` (None).
    """
    if inst.stages == 3 and name == f"{inst.name}-2stage":
        return two_stage_counterpart(inst)
    return None


def evaluate(inst: PicsysInstance, decisions: Any) -> float:
    """The family's single source of truth: the makespan of a decision plan.

    The plan must belong to ``inst`` itself: ``"stages"`` (default 3) must equal the
    instance's own ``stages`` -- a ``"stages": 2`` plan of the two-stage baselines (6.2.5) is a
    plan of :func:`two_stage_counterpart`, which :func:`optoffload.verify` selects when the
    Solution names that system (``<name>-2stage``). Raises :class:`InvalidInstance` for a
    malformed plan, a plan of another system or mode, an outcome infeasible for the truth
    values (constraints (4)-(7)), or a plan over an enforced energy budget (eq. 15).
    """
    if isinstance(decisions, dict) and "stages" in decisions:
        st = decisions["stages"]
        if isinstance(st, bool) or st not in (2, 3):
            raise InvalidInstance("decisions.stages", f"must be 2 or 3, got {st!r}")
        if st != inst.stages:
            raise InvalidInstance(
                "decisions.stages",
                f"a {st}-stage plan is not a plan of the {inst.stages}-stage system {inst.name!r}"
                + (f" (it belongs to its two-stage counterpart: give the solution instance '{inst.name}-2stage')"
                   if st == 2 else ""))
    plan = parse_plan(inst, decisions)
    res = simulate_plan(inst, plan)
    if inst.enforce_energy and not res.energy_ok:
        m = next(m for m, d in enumerate(inst.devices) if res.energy[m] > d.energy.budget * (1 + 1e-9) + 1e-12)
        raise InvalidInstance("decisions", f"device {m} uses {res.energy[m]:.6g}% of battery, over its budget "
                                           f"{inst.devices[m].energy.budget:.6g}% (eq. 15)")
    return res.makespan


# ------------------------------------------------------------------------------ online policies

class _Cloud:
    """FIFO cloud fed lazily: arrivals are known when uploads are scheduled."""

    __slots__ = ("c_u", "servers", "pending", "recent", "done_q", "assigned")

    def __init__(self, c_u: float, servers: int) -> None:
        self.c_u, self.servers = c_u, servers
        self.pending: list = []          # heap of (arrival, device, pos)
        self.recent: deque = deque(maxlen=servers)   # completion times of the last S jobs
        self.done_q: deque = deque()     # completion times of assigned jobs not yet known finished
        self.assigned: list = []         # (device, pos, done)

    def arrive(self, t: float, m: int, pos: int) -> None:
        heapq.heappush(self.pending, (t, m, pos))

    def _assign_until(self, t: float) -> None:
        pend, recent, S, c_u = self.pending, self.recent, self.servers, self.c_u
        while pend and pend[0][0] <= t:
            arr, m, pos = heapq.heappop(pend)
            start = arr if len(recent) < S else max(arr, recent[0])
            d = start + c_u
            recent.append(d)
            self.done_q.append(d)
            self.assigned.append((m, pos, d))

    def in_system(self, t: float) -> int:
        self._assign_until(t)
        q = self.done_q
        while q and q[0] <= t:
            q.popleft()
        return len(q) + 0

    def finish(self) -> list:
        self._assign_until(float("inf"))
        return self.assigned


def system_info(inst: PicsysInstance) -> SystemInfo:
    """The public, truth-free description of an instance handed to a policy."""
    return SystemInfo(
        n_devices=inst.n_devices, c_u=inst.cloud_time, servers=inst.servers,
        rate=np.array([d.rate for d in inst.devices]), alpha=np.array([d.alpha for d in inst.devices]),
        beta=np.array([d.beta for d in inst.devices]), n_images=np.array([d.n for d in inst.devices]),
        sizes=tuple(d.size.copy() for d in inst.devices), c_s=tuple(d.c_s.copy() for d in inst.devices),
        energy_budget=(np.array([d.energy.budget if d.energy else np.inf for d in inst.devices])
                       if inst.enforce_energy else None))


def _resolve_static(inst: PicsysInstance, static: list) -> list[np.ndarray]:
    plan = []
    for m, (dev, pair) in enumerate(zip(inst.devices, static)):
        off_i, off_f = (np.asarray(a, dtype=bool) for a in pair)
        if off_i.shape != (dev.n,) or off_f.shape != (dev.n,):
            raise ValueError(f"static_plan: device {m} needs two boolean arrays of length {dev.n}")
        code = np.where(off_i, I_OFF, np.where(dev.z1 == 0, F_DISC,
                                                np.where(off_f, F_OFF, np.where(dev.z2 == 1, S_UP, S_DISC))))
        plan.append(code.astype(np.int8))
    return plan


EVENT_LOOPS = (False, True, "auto", "reference", "batched")
"""Values of ``run_policy(event_loop=...)``."""


def run_policy(inst: PicsysInstance, policy: Policy, *, seed: int = 0, event_loop: bool | str = False) -> SimResult:
    """Run an online policy through the event-driven simulator.

    Decision events are processed in time order (ties: device index). A device
    learns ``z1`` of an image only after its accelerated CNN ends and ``z2``
    only after its expensive CNN ends. Policies with a ``static_plan`` are
    evaluated vectorised unless ``event_loop`` is set.

    ``event_loop``: ``False`` / ``"auto"`` (default: static plan if any, else the
    batched loop of :mod:`optoffload.picsys.batched` when the policy has a
    ``batch_kernel`` and the instance allows it, else the reference loop);
    ``True`` (an event loop even for a static policy, batched when possible);
    ``"reference"`` (always the one-event-at-a-time loop below); ``"batched"``
    (the batched loop or ValueError). Both loops take identical decisions.
    """
    if not any(event_loop is v or (isinstance(v, str) and event_loop == v) for v in EVENT_LOOPS):
        raise InvalidInstance("event_loop", f"must be true, false, auto, reference or batched, got {event_loop!r}")
    rng = np.random.default_rng(seed)
    system = system_info(inst)
    policy.reset(system, rng)
    if policy.static_plan is not None and event_loop in (False, "auto"):
        return simulate_plan(inst, _resolve_static(inst, policy.static_plan(system)))
    if event_loop != "reference":
        from . import batched

        make = getattr(policy, "batch_kernel", None)
        kernel = make(system) if make is not None and batched.applicable(inst) else None
        if kernel is not None:
            return batched.run_batched(inst, kernel)
        if event_loop == "batched":
            raise ValueError(f"policy {getattr(policy, 'name', policy)!r} has no batch kernel for this instance "
                             "(needs a batch_kernel, no energy data, positive transfer times)")
    return _run_reference(inst, policy)


def _run_reference(inst: PicsysInstance, policy: Policy) -> SimResult:
    """The reference event loop: one event at a time, the policy called per decision."""

    M = inst.n_devices
    cloud = _Cloud(inst.cloud_time, inst.servers)
    views: list[DeviceView] = []
    outcomes = [np.full(d.n, -1, dtype=np.int8) for d in inst.devices]
    completion = [np.full(d.n, np.nan) for d in inst.devices]
    energy = np.zeros(M)
    up_done: list[deque] = [deque() for _ in range(M)]
    for m, d in enumerate(inst.devices):
        v = DeviceView()
        v.m, v.t, v.rate, v.alpha, v.beta = m, 0.0, d.rate, d.alpha, d.beta
        v.c_u, v.servers, v.n_images, v.index = inst.cloud_time, inst.servers, d.n, 0
        v.sizes, v.c_s_all, v.tx_all = d.size.copy(), d.c_s.copy(), d.tx
        v.uplink_free_at, v.uplink_queue = 0.0, 0
        v.n_filtered = v.n_z1 = v.n_selected = v.n_z2 = 0
        v.energy_used = 0.0
        if d.energy is not None:
            # a budget that is not enforced is no budget (as for the exact methods): the policy may
            # not stop on it, so its plan processes every image (issue #14: skips only where the
            # instance's objective mode allows them)
            v.energy_budget = d.energy.budget if inst.enforce_energy else None
            v.e_alpha, v.e_beta = d.energy.e_alpha, d.energy.e_beta
            v.e_s, v.e_t = d.energy.e_s.copy(), d.energy.e_t.copy()
        else:
            v.energy_budget, v.e_alpha, v.e_beta, v.e_s, v.e_t = None, 0.0, 0.0, np.zeros(d.n), np.zeros(d.n)
        v._cloud, v.requests = cloud, 0
        views.append(v)

    heap = [(0.0, m, 0) for m in range(M) if inst.devices[m].n > 0]
    heapq.heapify(heap)
    INIT, FILTER = 0, 1

    def upload(m: int, i: int, t: float, to_cloud: bool) -> None:
        v = views[m]
        start = t if t > v.uplink_free_at else v.uplink_free_at
        done = start + v.tx_all[i]
        v.uplink_free_at = done
        up_done[m].append(done)
        energy[m] += v.e_t[i]
        if to_cloud:
            cloud.arrive(done, m, i)
        else:
            completion[m][i] = done

    def refresh(v: DeviceView, m: int, t: float) -> None:
        """Bring the device's own state up to time ``t`` before a decision."""
        q = up_done[m]
        while q and q[0] <= t:
            q.popleft()
        v.uplink_queue = len(q)
        v.energy_used = float(energy[m])

    while heap:
        t, m, stage = heapq.heappop(heap)
        v = views[m]
        dev = inst.devices[m]
        if stage == FILTER:
            i = v.index
            v.t = t
            v.n_filtered += 1
            if dev.z1[i] == 0:
                outcomes[m][i] = F_DISC
                completion[m][i] = t
                v.index += 1
            else:
                v.n_z1 += 1
                refresh(v, m, t)
                d = policy.filtering(v)
                if d == OFFLOAD:
                    outcomes[m][i] = F_OFF
                    upload(m, i, t, True)
                    v.index += 1
                elif d == LOCAL:
                    t2 = t + dev.beta
                    energy[m] += v.e_beta
                    v.n_selected += 1
                    if dev.z2[i] == 1:
                        v.n_z2 += 1
                        outcomes[m][i] = S_UP
                        upload(m, i, t2, False)
                    else:
                        outcomes[m][i] = S_DISC
                        completion[m][i] = t2
                    v.index += 1
                    heapq.heappush(heap, (t2, m, INIT))
                    continue
                else:
                    raise ValueError(f"policy {policy.name!r}: filtering() returned {d!r} (LOCAL or OFFLOAD)")
        # INIT: decide the head images while the CPU stays free at time t
        while v.index < v.n_images:
            i = v.index
            v.t = t
            refresh(v, m, t)
            d = policy.initial(v)
            if d == OFFLOAD:
                outcomes[m][i] = I_OFF
                upload(m, i, t, True)
                v.index += 1
            elif d == LOCAL:
                energy[m] += v.e_s[i] + v.e_alpha
                heapq.heappush(heap, (t + dev.c_s[i] + dev.alpha, m, FILTER))
                break
            elif d == STOP:
                outcomes[m][i] = SKIPPED
                v.index += 1
            else:
                raise ValueError(f"policy {policy.name!r}: initial() returned {d!r} (LOCAL, OFFLOAD or STOP)")

    cdone = 0.0
    for m, i, d in cloud.finish():
        completion[m][i] = d
        cdone = max(cdone, d)
    res = _result(inst, outcomes, completion, cdone, energy, requests=sum(v.requests for v in views))
    return res


def policy_solution(inst: PicsysInstance, policy: Policy, *, seed: int = 0, method: str | None = None,
                    mode: str = "makespan", event_loop: bool | str = False) -> Solution:
    """Run ``policy`` and wrap the result as a FEASIBLE :class:`Solution` (decisions = outcomes)."""
    import time

    t0 = time.perf_counter()
    res = run_policy(inst, policy, seed=seed, event_loop=event_loop)
    rt = time.perf_counter() - t0
    if res.processed < inst.n_images and mode == "makespan":
        mode = "max-processed"
    if inst.enforce_energy and not res.energy_ok:
        return Solution(family="picsys", instance=inst.name, method=method or policy.name, status=Status.INFEASIBLE,
                        objective=None, runtime=rt, decisions=res.decisions(mode),
                        info={**res.info(), "reason": "the policy exceeded an enforced energy budget (eq. 15)"})
    return Solution(family="picsys", instance=inst.name, method=method or policy.name, status=Status.FEASIBLE,
                    objective=res.makespan, runtime=rt, decisions=res.decisions(mode), info=res.info())


# ------------------------------------------------------------------------------ event times

@dataclass
class Schedule:
    """Per-image event times of a replayed plan (one array per device; NaN where not applicable).

    Derived from the same recursions as :func:`simulate_plan` (eq. 9 for the CPU, the FIFO
    uplink, the FIFO cloud with ``S`` servers): ``cpu_start = t_i``, ``cpu_end = t_i + cpu_i``;
    ``up_end`` the uplink completion and ``up_start = up_end - 8 B / r``; ``cloud_end`` the cloud
    completion, ``cloud_start = cloud_end - c_u`` and ``server`` the server index (job ``k`` in
    arrival order takes the server freed by job ``k - S``, i.e. server ``k mod S``).
    """

    outcomes: list[np.ndarray]
    cpu_start: list[np.ndarray]
    cpu_end: list[np.ndarray]
    up_start: list[np.ndarray]
    up_end: list[np.ndarray]
    cloud_start: list[np.ndarray]
    cloud_end: list[np.ndarray]
    server: list[np.ndarray]
    completion: list[np.ndarray]
    energy: list[np.ndarray]
    makespan: float


def schedule(inst: PicsysInstance, decisions: Any) -> Schedule:
    """Event times of every image under ``decisions`` (for tables and Gantt charts).

    Same semantics as :func:`evaluate` (two-stage decisions replay on the counterpart); the
    completion times and makespan equal :func:`simulate_plan`'s (a test checks it).
    """
    if isinstance(decisions, dict) and decisions.get("stages") == 2:
        inst = two_stage_counterpart(inst)
    plan = parse_plan(inst, decisions)
    res = simulate_plan(inst, plan)
    nan = np.nan
    cs, ce, us, ue, ks, ke, sv, en = [], [], [], [], [], [], [], []
    arrivals = []
    for m, (dev, codes) in enumerate(zip(inst.devices, plan)):
        filt = (codes == F_OFF) | (codes == F_DISC)
        sel = (codes == S_UP) | (codes == S_DISC)
        cpu = np.where(filt | sel, dev.c_s + dev.alpha, 0.0) + np.where(sel, dev.beta, 0.0)
        end = np.cumsum(cpu)
        local = cpu > 0
        cs.append(np.where(local, end - cpu, nan))
        ce.append(np.where(local, end, nan))
        up = (codes == I_OFF) | (codes == F_OFF) | (codes == S_UP)
        idx = np.flatnonzero(up)
        done = _fifo_done(end[idx], dev.tx[idx])
        a = np.full(dev.n, nan)
        b = np.full(dev.n, nan)
        a[idx], b[idx] = done - dev.tx[idx], done
        us.append(a)
        ue.append(b)
        off = np.flatnonzero((codes == I_OFF) | (codes == F_OFF))
        for i in off:
            arrivals.append((b[i], m, int(i)))
        ks.append(np.full(dev.n, nan))
        ke.append(np.full(dev.n, nan))
        sv.append(np.full(dev.n, -1, dtype=int))
        en.append(image_energy(inst, m, codes))
    arrivals.sort()  # FIFO by arrival, ties by device then queue position (as _cloud_done)
    for k, (_, m, i) in enumerate(arrivals):
        ke[m][i] = res.completion[m][i]
        ks[m][i] = ke[m][i] - inst.c_u
        sv[m][i] = k % inst.servers
    return Schedule(outcomes=res.outcomes, cpu_start=cs, cpu_end=ce, up_start=us, up_end=ue, cloud_start=ks,
                    cloud_end=ke, server=sv, completion=res.completion, energy=en, makespan=res.makespan)
