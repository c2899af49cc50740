"""The protocol of an online PicSys policy and what a device may see (paper section 5.2).

A policy decides, for the image at the head of a device's queue, at two
points (Algorithms 1-3 of the PicSys seed):

* :meth:`Policy.initial` when the device CPU becomes free: ``OFFLOAD``
  (outcome ``i-off``), ``LOCAL`` (scale + accelerated CNN), or ``STOP``
  (leave the image unprocessed; only meaningful under an energy budget);
* :meth:`Policy.filtering` after the accelerated CNN *and only if the query
  class is in its top-k1* (z1 = 1): ``OFFLOAD`` (``f-off``) or ``LOCAL``
  (expensive CNN, then the simulator uploads on z2 = 1 or discards).

A negative accelerated result (z1 = 0) is always discarded (``f-disc``), as in
Algorithm 2. The policy sees a :class:`DeviceView` holding only what the device
could know at that moment: its parameters, the sizes of the images in its
queue, its uplink backlog, the truth values it has *already computed* (counts
of positives so far), its energy, and the cloud queue length by request
(eq. 11). The view has no reference to the instance, so a policy cannot read a
truth value it has not computed; ``tests/test_picsys_simulator.py`` checks it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

LOCAL = 0
OFFLOAD = 1
STOP = 2


@dataclass(frozen=True)
class SystemInfo:
    """Public information at time 0 (what the cloud learns when devices register).

    No truth values: only parameters and image sizes.
    """

    n_devices: int
    c_u: float
    """Cloud seconds per offloaded image, ``c_u + c_step`` (what the cloud announces; issue #13)."""
    servers: int
    rate: np.ndarray
    alpha: np.ndarray
    beta: np.ndarray
    n_images: np.ndarray
    sizes: tuple[np.ndarray, ...]
    c_s: tuple[np.ndarray, ...]
    energy_budget: np.ndarray | None
    """Per-device budget in % (None when the instance has no energy data)."""


class DeviceView:
    """What device ``m`` knows at decision time ``t``. Updated in place by the simulator."""

    __slots__ = ("m", "t", "rate", "alpha", "beta", "c_u", "servers", "n_images", "index", "sizes", "c_s_all",
                 "tx_all", "uplink_free_at", "uplink_queue", "n_filtered", "n_z1", "n_selected", "n_z2",
                 "energy_used", "energy_budget", "e_s", "e_t", "e_alpha", "e_beta", "_cloud", "requests", "state")

    def __init__(self) -> None:
        self.state: dict = {}
        """Scratch space the policy may use for its own per-device state (tokens, windows...)."""

    # --- the head-of-queue image --------------------------------------------------------
    @property
    def remaining(self) -> int:
        """Images not yet decided, including the head image."""
        return self.n_images - self.index

    @property
    def size(self) -> float:
        return float(self.sizes[self.index])

    @property
    def c_s(self) -> float:
        return float(self.c_s_all[self.index])

    @property
    def tx(self) -> float:
        """Transmission time of the head image, ``8 B / r``."""
        return float(self.tx_all[self.index])

    @property
    def uplink_wait(self) -> float:
        """``l^t``: how long an image joining the uplink now would wait before it starts."""
        return max(0.0, self.uplink_free_at - self.t)

    @property
    def hit_rate_estimate(self) -> float | None:
        """Running estimate of the device hit rate from the accelerated CNN results so far
        (the paper's "average for the hit-rate", end of 5.2.3); None before any result."""
        return self.n_z1 / self.n_filtered if self.n_filtered else None

    @property
    def energy_residual(self) -> float | None:
        """``E^r_m`` in % of battery (None without an energy budget)."""
        return None if self.energy_budget is None else self.energy_budget - self.energy_used

    def cloud_queue(self) -> int:
        """``q_c``: images at the cloud (waiting or in service) now, by request packet (eq. 11)."""
        self.requests += 1
        return self._cloud.in_system(self.t)


class Policy:
    """Base class of online PicSys policies. Override :meth:`initial` and :meth:`filtering`.

    A policy whose decisions never depend on the state may instead implement
    :meth:`static_plan`, which the simulator then evaluates vectorised.
    """

    name = "policy"

    def reset(self, system: SystemInfo, rng: np.random.Generator) -> None:
        """Called once at time 0 (e.g. to hand out cloud tokens, eq. 18)."""

    def initial(self, dev: DeviceView) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def filtering(self, dev: DeviceView) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    static_plan: Callable[[SystemInfo], list[tuple[np.ndarray, np.ndarray]]] | None = None
    """Optional: ``static_plan(system) -> [(offload_initial, offload_filter) per device]``."""
