"""PicSys baselines of the paper's section 6.1: all-device and all-cloud.

* ``all-device``: every image runs the accelerated CNN on the device and, on
  a positive result, the expensive CNN; positives of the expensive CNN are
  uploaded (outcomes ``f-disc``, ``s-up``, ``s-disc`` only).
* ``all-cloud``: every image is offloaded at the initial stage (``i-off``).

Both are online policies whose decisions do not depend on the state, so they
also provide a ``static_plan`` that the simulator evaluates vectorised; the
event loop gives the same result (tested).
"""

from __future__ import annotations

import numpy as np

from optoffload.picsys.policy import LOCAL, OFFLOAD, Policy, SystemInfo
from optoffload.picsys.simulator import policy_solution


class _ConstantKernel:
    """Batch kernel of a constant policy (:mod:`optoffload.picsys.batched`)."""

    uses_uplink_queue = False

    uses_cloud = False

    def __init__(self, offload: bool) -> None:
        self.offload = offload

    def decide(self, st, ids, t, i, filt, safe=None):
        return np.full(len(ids), self.offload), np.zeros(len(ids), dtype=bool)


class AllDevice(Policy):
    name = "all-device"

    def initial(self, dev):
        return LOCAL

    def filtering(self, dev):
        return LOCAL

    def static_plan(self, system: SystemInfo):
        return [(np.zeros(n, bool), np.zeros(n, bool)) for n in system.n_images]

    def batch_kernel(self, system: SystemInfo):
        return _ConstantKernel(False) if type(self) is AllDevice else None


class AllCloud(Policy):
    name = "all-cloud"

    def initial(self, dev):
        return OFFLOAD

    def filtering(self, dev):  # never reached: every image is offloaded first
        return OFFLOAD

    def static_plan(self, system: SystemInfo):
        return [(np.ones(n, bool), np.zeros(n, bool)) for n in system.n_images]

    def batch_kernel(self, system: SystemInfo):
        return _ConstantKernel(True) if type(self) is AllCloud else None


def _no_options(name, options):
    if options:
        from optoffload.errors import InvalidInstance

        raise InvalidInstance(next(iter(options)), f"unknown option for method {name!r}")


def _loop(event_loop):
    """Method option ``event_loop``: unset/false (vectorised replay), true (an event loop, batched
    when possible), "reference" (the one-event-at-a-time loop) or "batched"."""
    if event_loop is None or event_loop is False or event_loop is True or event_loop in ("reference", "batched"):
        return bool(event_loop) if event_loop in (None, False, True) else event_loop
    from optoffload.errors import InvalidInstance

    raise InvalidInstance("event_loop", f"must be true, false, \"reference\" or \"batched\", got {event_loop!r}")


def all_device(inst, *, time_limit=None, seed=0, threads=None, event_loop=None, **options):
    """All images processed on their device (paper 6.1, "all-device")."""
    _no_options("all-device", options)
    pol = AllDevice()
    event_loop = _loop(event_loop)
    if event_loop:
        pol.static_plan = None
    return policy_solution(inst, pol, seed=seed, method="all-device", event_loop=event_loop)


def all_cloud(inst, *, time_limit=None, seed=0, threads=None, event_loop=None, **options):
    """All images offloaded at the initial stage (paper 6.1, "all-cloud")."""
    _no_options("all-cloud", options)
    pol = AllCloud()
    event_loop = _loop(event_loop)
    if event_loop:
        pol.static_plan = None
    return policy_solution(inst, pol, seed=seed, method="all-cloud", event_loop=event_loop)
