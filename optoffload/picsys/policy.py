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
from typing import TYPE_CHECKING, Callable, Protocol

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from numpy.typing import NDArray

    FloatArray = NDArray[np.float64]
    IntArray = NDArray[np.int_]

__all__ = ["LOCAL", "OFFLOAD", "STOP", "CloudQueue", "DeviceView", "Policy", "PolicyProtocol", "SystemInfo",
           "StaticPlan"]

LOCAL = 0
"""Decision: process the image on the device (initial stage: scale + accelerated CNN; filtering: expensive CNN)."""
OFFLOAD = 1
"""Decision: upload the image to the cloud (initial stage: ``i-off``; filtering stage: ``f-off``)."""
STOP = 2
"""Decision (initial stage only): leave this and every later image of the device unprocessed."""


class CloudQueue(Protocol):
    """What a device may ask the cloud: the number of images in the system at time ``t`` (eq. 11)."""

    def in_system(self, t: float) -> int: ...


@dataclass(frozen=True)
class SystemInfo:
    """Public information at time 0 (what the cloud learns when devices register).

    No truth values: only parameters and image sizes.
    """

    n_devices: int
    """M, the number of devices."""
    c_u: float
    """Cloud seconds per offloaded image, ``c_u + c_step`` (what the cloud announces; issue #13)."""
    servers: int
    """Parallel cloud servers."""
    rate: FloatArray
    """Per-device uplink rate r_m (bits per second; transmission time ``8 B / r``)."""
    alpha: FloatArray
    """Per-device time of the scaling + accelerated CNN step (seconds per image)."""
    beta: FloatArray
    """Per-device time of the expensive CNN step (seconds per image)."""
    n_images: IntArray
    """Per-device number of images."""
    sizes: tuple[FloatArray, ...]
    """Per-device image sizes B (bytes)."""
    c_s: tuple[FloatArray, ...]
    """Per-device, per-image scaled-image sizes (bytes)."""
    energy_budget: FloatArray | None
    """Per-device budget in % (None when the instance has no energy data)."""


class DeviceView:
    """What device ``m`` knows at decision time ``t``. Updated in place by the simulator."""

    __slots__ = ("m", "t", "rate", "alpha", "beta", "c_u", "servers", "n_images", "index", "sizes", "c_s_all",
                 "tx_all", "uplink_free_at", "uplink_queue", "n_filtered", "n_z1", "n_selected", "n_z2",
                 "energy_used", "energy_budget", "e_s", "e_t", "e_alpha", "e_beta", "_cloud", "requests", "state")

    m: int
    """Device index (0-based)."""
    t: float
    """Decision time (seconds since the start)."""
    rate: float
    """Uplink rate r_m (bits per second)."""
    alpha: float
    """Time of scaling + accelerated CNN for one image (seconds)."""
    beta: float
    """Time of the expensive CNN for one image (seconds)."""
    c_u: float
    """Cloud service time of one image (seconds)."""
    servers: int
    """Parallel cloud servers."""
    n_images: int
    """Images of this device."""
    index: int
    """Index of the head-of-queue image (the one being decided)."""
    sizes: FloatArray
    """Image sizes B (bytes), all images of the device."""
    c_s_all: FloatArray
    """Scaled-image sizes (bytes), all images of the device."""
    tx_all: FloatArray
    """Transmission times ``8 B / r`` (seconds), all images of the device."""
    uplink_free_at: float
    """Time at which the uplink finishes what is already queued on it."""
    uplink_queue: int
    """Images waiting on or using the uplink."""
    n_filtered: int
    """Images whose accelerated CNN result is known (computed so far)."""
    n_z1: int
    """Of those, how many were positive (z1 = 1)."""
    n_selected: int
    """Images whose expensive CNN result is known."""
    n_z2: int
    """Of those, how many were positive (z2 = 1)."""
    energy_used: float
    """Energy spent so far (% of battery)."""
    energy_budget: float | None
    """Energy budget (% of battery), None without energy data."""
    e_s: FloatArray
    """Per-image energy of the local steps (%, zeros without energy data)."""
    e_t: FloatArray
    """Per-image energy of transmitting (%, zeros without energy data)."""
    e_alpha: float
    """Energy of one accelerated CNN step (%)."""
    e_beta: float
    """Energy of one expensive CNN step (%)."""
    _cloud: CloudQueue
    requests: int
    """Cloud queue requests made so far (each :meth:`cloud_queue` call is one packet)."""
    state: dict[str, object]

    def __init__(self) -> None:
        self.state = {}
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

    static_plan: StaticPlan | None = None
    """Optional: ``static_plan(system) -> [(offload_initial, offload_filter) per device]``."""

    def batch_kernel(self, system: SystemInfo) -> object | None:
        """Optional: a vectorised twin of :meth:`initial` / :meth:`filtering` (called after
        :meth:`reset`), an :class:`optoffload.picsys.batched.BatchKernel` taking the same
        decisions for many devices at once; the simulator then runs the batched event loop.
        None (the default) keeps the reference loop. Subclasses that change a decision rule
        must return None or their own kernel."""
        return None


StaticPlan = Callable[[SystemInfo], "list[tuple[np.ndarray, np.ndarray]]"]
"""``static_plan(system) -> [(offload_initial, offload_filter) per device]`` (boolean arrays)."""


class PolicyProtocol(Protocol):
    """The structural type of an online policy (what :func:`optoffload.picsys.policy_solution` runs).

    Subclassing :class:`Policy` is the easy way to satisfy it; any object with these members works.
    """

    name: str

    def reset(self, system: SystemInfo, rng: np.random.Generator) -> None: ...

    def initial(self, dev: DeviceView) -> int: ...

    def filtering(self, dev: DeviceView) -> int: ...
