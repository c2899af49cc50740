"""The PicSys paper's online heuristics: time-heuristic, greedy, energy-heuristic, cloud tokens.

All are :class:`~optoffload.picsys.policy.Policy` subclasses run by the
event-driven simulator; each device decides with its :class:`DeviceView` only.

time-heuristic (section 5.2, eqs. 11-14, Algorithms 1-3)
    At the head image of a device, Algorithm 3 first checks the uplink backlog
    ``l^t``: if ``l^t >= c_s + alpha`` the device runs the accelerated CNN
    (line 2) and, on a positive result, the expensive CNN when ``l^t >= beta``
    (line 5). Otherwise it computes the speed-up ``eta = e_c / e_m``
    (Algorithms 1 and 2) and offloads iff ``eta < 1``, with

    * ``e_c = l^t + c^t_i + (q_t + q_c + 1) c_u`` (eq. 11), ``q_t`` the
      images in the device's uplink queue, ``q_c`` the cloud queue obtained by
      a request packet;
    * ``e_m`` from eq. 12 when the device's mean transmission time ``c^t``
      exceeds ``c_s + alpha + beta``, else eq. 13 (step 2 of 5.2.3); option
      ``estimate="eq14"`` uses eq. 14 with the correction factor ``w_m``
      below. ``q_m`` (option ``queue``): ``"paper"`` (default) counts the
      images *behind* the head, read like eq. 11, which counts the queues
      without the image under decision and adds it as the explicit ``+1``;
      ``"with-head"`` counts the head too (our reading before issue #13).
      ``c_s`` and ``c^t`` are the means over the remaining queue, head
      included (the note after eq. 14). Backlog ties (``l^t`` equal to
      ``c_s + alpha``) count as ``>=`` up to ``TIE`` (rounding).

    Hit rate ``h_m``: the paper uses "an average for the hit-rate" (note after
    Algorithm 3). Ours is the running share of positive accelerated-CNN
    results, smoothed by a prior: ``h = (n_pos + n0 h0) / (n_run + n0)`` with
    ``h0 = prior`` (default 0.25, the paper's system hit rate of 6.2.3, which
    the querying cloud would announce) and ``n0 = prior_weight`` (default 2
    pseudo-images), so the first decisions use ``h0`` and the estimate follows
    the device's own results after a few images. Option ``hit_rate`` (a
    number, or a list with one per device) fixes ``h_m`` instead: the
    per-device average the querying cloud would announce, e.g. 6.2.1's
    ``h = {0.2, 0, 0.5}`` (issue #13).

    Option ``filter``: ``"backlog"`` (default) applies Algorithm 3's line-5
    test ``l^t >= beta`` at every filtering decision; ``"direct"`` applies it
    only to images sent to the accelerated CNN by the line-2 backlog test,
    and otherwise calls Algorithm 2 directly, as Algorithm 1's line 6 reads.

    ``w_m`` of eq. 14 ("0 or very small" except when ``c^t >> c_s + alpha +
    beta``): ``w_m = clip((rho - 1) / 4, 0, 1)`` with ``rho = c^t / (c_s +
    alpha + beta)``: 0 while uploading is no slower than local work, 1 once it
    is five times slower.

greedy (section 6.1; issue #13)
    "Every mobile device makes a greedy choice of whether to process the
    image at the head of its queue locally, or offload it based on the
    device's estimated completion time, and the completion time of the image
    if offloaded, assuming the image does not incur any queueing delay on the
    cloud." Our reading (``reading="6.1"``, default): one decision per image,
    at the head of the queue: offload iff ``l^t + c^t_i + c_u < e_m``
    (eq. 11 without its cloud term ``(q_t + q_c) c_u``: the images in the
    uplink and at the cloud are the cloud queueing the image is assumed not
    to incur; no request packet), ``e_m`` as in the time-heuristic (eqs.
    12-14, same ``queue`` option). There are no Algorithm 3 backlog
    shortcuts and no second decision after the accelerated CNN: a local
    image is processed locally to the end (``f-disc``, ``s-up``, ``s-disc``).
    ``refilter=True`` repeats the comparison after a positive accelerated
    CNN. ``reading="no-queue"`` is our reading before issue #13: the
    time-heuristic (with Algorithm 3's shortcuts) with eq. 11 reduced to
    ``l^t + c^t_i + c_u``; it equals the time-heuristic on every instance the
    suites tried, so it is not a baseline.

cloud tokens (section 5.5.2, eq. 18), option ``tokens=True`` of both
    At time 0 the cloud computes ``num_tokens = max_m |I_m| alpha_m / c_u``
    (rounded down) and hands them out one at a time, round robin over the
    devices in decreasing uplink rate (the paper gives them to "the devices
    with the highest bandwidth"), a device receiving at most one token per
    image. An offload (initial or filtering) spends a token; a device with no
    token left processes locally. Uploads of ``s-up`` positives need no token.

energy-heuristic (section 5.4, Algorithm 4, eq. 17)
    The device probes its residual energy ``E^r`` at its first image and then
    every ``next_probe`` images (window of eq. 17 ``1 / (e_s + e_alpha +
    e_beta + e_t)`` images, at least 1). Algorithm 4 selects a mode for the
    window: ``time`` (the time-heuristic), ``accelerated-only`` (time-heuristic
    with the expensive CNN forbidden: positives are offloaded), ``all-offload``
    or ``all-accelerated`` (every image runs the accelerated CNN, positives are
    offloaded). ``num_hits`` of line 3 is the expected number of positives,
    ``h_m`` times the remaining images.

Energy guard (every policy here, when the device has a budget): an action is
taken only if the residual energy covers it in the worst case that can
follow: ``LOCAL`` at the initial stage needs ``e_s + e_alpha + e_t`` (the
positive may have to be offloaded), ``LOCAL`` at the filtering stage needs
``e_beta + e_t``, ``OFFLOAD`` needs ``e_t``. When the preferred action is not
covered the cheaper alternative is taken, and when nothing is covered the
image and all later ones are left unprocessed (``STOP``): the budget is
exhausted. So the paper's time-heuristic "does not consider the energy budget"
and stops when it runs out (Fig. 12).
"""

from __future__ import annotations

import math

import numpy as np

from optoffload.errors import InvalidInstance
from optoffload.picsys.batched import cnz
from optoffload.picsys.policy import LOCAL, OFFLOAD, STOP, DeviceView, Policy, SystemInfo
from optoffload.picsys.simulator import policy_solution

EPS = 1e-12
#: Tolerance of Algorithm 3's backlog tests ``l^t >= c_s + alpha`` and ``l^t >= beta``: the
#: uplink backlog is a sum of transfer times, so an exact tie (Table 3, device 1, image 8:
#: ``l^t = 1.40 - 1.05 = 0.35 = c_s + alpha``) must not be lost to rounding.
TIE = 1e-9
#: Readings of ``q_m`` in eqs. 12-14 (option ``queue``): "paper" counts the images *behind* the
#: head, as eq. 11 counts the queues without the image under decision and adds it as the
#: explicit ``+1`` (issue #13; reproduces all 20 decisions of Table 3); "with-head" also counts
#: the head image (the reading before issue #13).
QUEUE_READINGS = ("paper", "with-head")


def token_counts(system: SystemInfo) -> np.ndarray:
    """Cloud tokens per device (eq. 18), dealt round robin in decreasing uplink rate."""
    M = system.n_devices
    out = np.zeros(M, dtype=int)
    if M == 0:
        return out
    total = int(math.floor(float(np.max(system.n_images * system.alpha)) / system.c_u + 1e-9))
    order = sorted(range(M), key=lambda m: (-system.rate[m], m))
    cap = system.n_images.astype(int)
    total = min(total, int(cap.sum()))
    while total > 0:
        dealt = 0
        for m in order:
            if total == 0:
                break
            if out[m] < cap[m]:
                out[m] += 1
                total -= 1
                dealt += 1
        if dealt == 0:
            break
    return out


class EnergyGuard:
    """Mixin: clamp a wanted action to what the residual energy covers (see module docstring)."""

    @staticmethod
    def _guard_initial(dev: DeviceView, want: int) -> int:
        r = dev.energy_residual
        if r is None:
            return want
        i = dev.index
        need_local = dev.e_s[i] + dev.e_alpha + dev.e_t[i]
        need_off = dev.e_t[i]
        ok_local, ok_off = r + EPS >= need_local, r + EPS >= need_off
        if want == LOCAL and ok_local or want == OFFLOAD and ok_off:
            return want
        if ok_off:
            return OFFLOAD
        if ok_local:
            return LOCAL
        return STOP

    @staticmethod
    def _guard_filter(dev: DeviceView, want: int) -> int:
        r = dev.energy_residual
        if r is None or want == OFFLOAD:
            return want
        return LOCAL if r + EPS >= dev.e_beta + dev.e_t[dev.index] else OFFLOAD


class TimeHeuristic(EnergyGuard, Policy):
    """The time-heuristic (section 5.2.3, Algorithms 1-3; see the module docstring)."""

    name = "time-heuristic"

    def __init__(self, *, tokens: bool = False, estimate: str = "auto", prior: float = 0.25,
                 prior_weight: float = 2.0, queueing: bool = True, queue: str = "paper",
                 hit_rate=None, filter: str = "backlog") -> None:
        if estimate not in ("auto", "eq12", "eq13", "eq14"):
            raise InvalidInstance("estimate", f"must be auto, eq12, eq13 or eq14, got {estimate!r}")
        if queue not in QUEUE_READINGS:
            raise InvalidInstance("queue", f"must be {' or '.join(QUEUE_READINGS)}, got {queue!r}")
        self.queue = queue
        if filter not in ("backlog", "direct"):
            raise InvalidInstance("filter", f"must be backlog or direct, got {filter!r}")
        self.filter = filter
        self.fixed_hit = None if hit_rate is None else _hit_rates(hit_rate)
        if not 0.0 <= prior <= 1.0:
            raise InvalidInstance("prior", f"must lie in [0, 1], got {prior!r}")
        if not prior_weight >= 0:
            raise InvalidInstance("prior_weight", f"must be >= 0, got {prior_weight!r}")
        self.use_tokens = bool(tokens)
        self.estimate = estimate
        self.prior, self.prior_weight = float(prior), float(prior_weight)
        self.queueing = queueing
        self.tokens: np.ndarray | None = None

    # ------------------------------------------------------------------ protocol
    def reset(self, system: SystemInfo, rng: np.random.Generator) -> None:
        self.tokens = token_counts(system) if self.use_tokens else None
        if self.fixed_hit is not None and len(self.fixed_hit) not in (1, system.n_devices):
            raise InvalidInstance("hit_rate", f"has {len(self.fixed_hit)} entries, the instance has "
                                              f"{system.n_devices} devices")
        self._via_backlog = [False] * system.n_devices
        # suffix sums of c_s and transmission times: O(1) queue means (note after eq. 14)
        self._cs_suffix = [np.concatenate([np.cumsum(c[::-1])[::-1], [0.0]]) for c in system.c_s]
        self._tx_suffix = [np.concatenate([np.cumsum((8.0 * s / r)[::-1])[::-1], [0.0]])
                           for s, r in zip(system.sizes, system.rate)]

    def initial(self, dev: DeviceView) -> int:
        return self._guard_initial(dev, self._initial(dev))

    def filtering(self, dev: DeviceView) -> int:
        return self._guard_filter(dev, self._filtering(dev))

    def batch_kernel(self, system: SystemInfo):
        """The vectorised twin of this policy for the batched event loop (subclasses: none)."""
        return TimeHeuristicKernel(self, system) if type(self) is TimeHeuristic else None

    # ------------------------------------------------------------------ decisions
    def _initial(self, dev: DeviceView) -> int:
        lt = dev.uplink_wait
        if lt >= dev.c_s + self._stage_times(dev)[0] - TIE:  # Algorithm 3, line 2
            self._via_backlog[dev.m] = True
            return LOCAL
        self._via_backlog[dev.m] = False
        return self._offload_if_faster(dev)                 # Algorithm 1

    def _filtering(self, dev: DeviceView) -> int:
        if self.filter == "direct" and not self._via_backlog[dev.m]:
            return self._offload_if_faster(dev)             # Algorithm 1, line 6 -> Algorithm 2
        if dev.uplink_wait >= dev.beta - TIE:               # Algorithm 3, line 5
            return LOCAL
        return self._offload_if_faster(dev)                 # Algorithm 2

    def _offload_if_faster(self, dev: DeviceView) -> int:
        if not self._has_token(dev):
            return LOCAL
        eta = self.e_cloud(dev) / max(self.e_device(dev), EPS)
        if eta < 1.0:
            self._spend_token(dev)
            return OFFLOAD
        return LOCAL

    def _has_token(self, dev: DeviceView) -> bool:
        return self.tokens is None or self.tokens[dev.m] > 0

    def _spend_token(self, dev: DeviceView) -> None:
        if self.tokens is not None:
            self.tokens[dev.m] -= 1

    # ------------------------------------------------------------------ estimates
    def hit_rate(self, dev: DeviceView) -> float:
        """Running hit-rate estimate with a prior, or the fixed ``hit_rate`` option (module docstring)."""
        if self.fixed_hit is not None:
            return float(self.fixed_hit[dev.m if len(self.fixed_hit) > 1 else 0])
        n0 = self.prior_weight
        if dev.n_filtered + n0 <= 0:
            return self.prior
        return (dev.n_z1 + n0 * self.prior) / (dev.n_filtered + n0)

    def _stage_times(self, dev: DeviceView) -> tuple[float, float]:
        """(alpha, beta) as used in eqs. 12-14 (the two-stage variant overrides it)."""
        return dev.alpha, dev.beta

    def e_cloud(self, dev: DeviceView) -> float:
        """Eq. 11: ``e_c = l^t + c^t_i + (q_t + q_c + 1) c_u`` (greedy: no queueing term)."""
        if not self.queueing:
            return dev.uplink_wait + dev.tx + dev.c_u
        return dev.uplink_wait + dev.tx + (dev.uplink_queue + dev.cloud_queue() + 1) * dev.c_u

    def e_device(self, dev: DeviceView) -> float:
        """Eqs. 12-14 with the queue means of ``c_s`` and ``c^t``.

        ``q_m`` is the number of images behind the head (``queue="paper"``) or
        including it (``queue="with-head"``); the means are over the remaining
        queue, head included, so they are defined for the last image too.
        """
        i, n = dev.index, dev.remaining
        cs = self._cs_suffix[dev.m][i] / n
        ct = self._tx_suffix[dev.m][i] / n
        q = n - 1 if self.queue == "paper" else n
        h = self.hit_rate(dev)
        a, b = self._stage_times(dev)
        full = cs + a + b
        est = self.estimate
        if est == "auto":
            est = "eq12" if ct > full else "eq13"
        if est == "eq12":
            return (1 - h) * q * (cs + a) + full + h * q * ct
        if est == "eq13":
            return (1 - h) * q * (cs + a) + h * q * full + ct
        rho = ct / max(full, EPS)
        w = min(1.0, max(0.0, (rho - 1.0) / 4.0))
        return q * full + w * h * q * ct


def padded(rows: list, width: int) -> np.ndarray:
    """Per-device 1-D arrays as one zero-padded 2-D array (rows of the batched loop)."""
    out = np.zeros((len(rows), width))
    for m, r in enumerate(rows):
        out[m, :len(r)] = r
    return out


def hit_rates_batch(n_pos: np.ndarray, n_run: np.ndarray, prior: float, n0: float) -> np.ndarray:
    """``(n_pos + n0 prior) / (n_run + n0)``, ``prior`` where ``n_run + n0 <= 0`` (as the scalar rule)."""
    if n0 > 0:                                  # the denominator is positive
        return (n_pos + n0 * prior) / (n_run + n0)
    den = n_run + n0
    ok = den > 0
    return np.where(ok, (n_pos + n0 * prior) / np.where(ok, den, 1.0), prior)


class TimeHeuristicKernel:
    """The time-heuristic's decisions for many devices at once (:mod:`optoffload.picsys.batched`).

    Same rules and the same floating-point operations, in the same order, as
    :meth:`TimeHeuristic._initial` / :meth:`TimeHeuristic._filtering` (Algorithms 1-3, eqs.
    11-14); no energy guard (the batched loop runs only instances without energy data).
    """

    def __init__(self, pol: TimeHeuristic, system: SystemInfo) -> None:
        self.pol = pol
        M = system.n_devices
        width = int(system.n_images.max()) + 1 if M else 1
        self.cs_suf = padded(pol._cs_suffix, width).ravel()
        self.tx_suf = padded(pol._tx_suffix, width).ravel()
        self.via = np.zeros(M, dtype=bool)
        # (c_s + alpha) - TIE per image and beta - TIE per device: Algorithm 3's thresholds
        alpha = np.array([float(a) for a in system.alpha])
        self.back_cs = (padded(list(system.c_s), width) + alpha[:, None] - TIE).ravel()
        self.back_beta = np.asarray(system.beta, dtype=float) - TIE
        fh = pol.fixed_hit
        self.fixed = None if fh is None else (np.full(M, fh[0]) if len(fh) == 1 else np.asarray(fh, dtype=float))

    @property
    def backlog_local(self):
        """Algorithm 3's lines 2 and 5 as thresholds on ``l^t`` (the batched loop's backlog runs;
        ``via``: in ``filter="direct"`` mode line 5 applies after a backlog LOCAL only)."""
        return self.back_cs, self.back_beta, (self.via if self.pol.filter == "direct" else None)

    monotone_in_queue = True
    """eq. 11's e_c grows with q_c and e_m does not depend on it: a larger queue never turns
    LOCAL into OFFLOAD (the batched loop's speculation beyond the horizon relies on it)."""

    def decide(self, st, ids, t, p, filt, safe=None):
        pol = self.pol
        lt = np.maximum(0.0, st.ufree[ids] - t)                     # uplink_wait
        init = ~filt
        back_i = init & (lt >= self.back_cs[p])                      # Algorithm 3, line 2
        back_f = filt & (lt >= self.back_beta[ids])                  # Algorithm 3, line 5
        if pol.filter == "direct":                                   # (the only reader of `via`)
            self.via[ids[init]] = back_i[init]
            back_f &= self.via[ids]
        ask = ~(back_i | back_f)                                     # Algorithms 1 / 2
        if pol.tokens is not None:
            ask &= pol.tokens[ids] > 0
        if not cnz(ask):
            return ask, ask
        # eqs. 11-14 for every device (cheaper than subsetting); only `ask` uses them
        k, pk, a, b = ids, p, st.alpha[ids], st.beta[ids]
        qt = st.uplink_queue(k, t)
        qc = st.cloud_queue(t)
        e_c = lt + st.TX[pk] + (qt + qc + 1) * st.c_u               # eq. 11
        n = st.endpos[k] - pk
        cs = self.cs_suf[pk] / n
        ct = self.tx_suf[pk] / n
        q = n - 1 if pol.queue == "paper" else n
        h = self.fixed[k] if self.fixed is not None else \
            hit_rates_batch(st.n_z1[k], st.n_filtered[k], pol.prior, pol.prior_weight)
        csa = cs + a
        full = csa + b
        est = pol.estimate
        if est == "eq14":
            rho = ct / np.maximum(full, EPS)
            w = np.minimum(1.0, np.maximum(0.0, (rho - 1.0) / 4.0))
            e_m = q * full + w * h * q * ct
        else:                                                        # shared terms computed once
            x = (1 - h) * q * csa
            hq = h * q
            e12 = x + full + hq * ct
            e13 = x + hq * full + ct
            e_m = e12 if est == "eq12" else e13 if est == "eq13" else np.where(ct > full, e12, e13)
        e_m = np.maximum(e_m, EPS)
        off = ask & (e_c / e_m < 1.0)
        if safe is not None:                     # beyond the horizon: OFFLOAD even at q_c's upper bound?
            unc = np.flatnonzero(off & ~safe)
            if unc.size:                         # eq. 11 again, same operations, monotone in q_c
                e_hi = lt[unc] + st.TX[pk[unc]] + (qt[unc] + st.cloud_queue_upper(t[unc], qc[unc]) + 1) * st.c_u
                safe[unc[e_hi / e_m[unc] < 1.0]] = True
        if pol.tokens is not None:
            pol.tokens[k[off if safe is None else off & safe]] -= 1
        return off, ask


class Greedy(TimeHeuristic):
    """Greedy baseline (section 6.1; the module docstring gives the reading)."""

    name = "greedy"

    def __init__(self, *, reading: str = "6.1", refilter: bool = False, **kw) -> None:
        if reading not in ("6.1", "no-queue"):
            raise InvalidInstance("reading", f"must be 6.1 or no-queue, got {reading!r}")
        super().__init__(queueing=False, **kw)
        self.reading, self.refilter = reading, bool(refilter)

    def _initial(self, dev: DeviceView) -> int:
        if self.reading == "no-queue":
            return super()._initial(dev)
        return self._offload_if_faster(dev)

    def _filtering(self, dev: DeviceView) -> int:
        if self.reading == "no-queue":
            return super()._filtering(dev)
        return self._offload_if_faster(dev) if self.refilter else LOCAL


class EnergyHeuristic(TimeHeuristic):
    """The energy-heuristic (section 5.4, Algorithm 4; probe window eq. 17).

    ``probe="paper"``: lines 11 and 15 as printed, ``next_probe = max(E^r /
    (e_s + e_alpha + e_beta), window)``. ``probe="adaptive"``: ``min`` instead
    of ``max`` (at least 1), i.e. never run the time-heuristic for more images
    than the residual energy covers in the worst case before probing again;
    then the line-2 test ("enough energy to offload all remaining images?")
    is made in time and the device switches to the cheap mode while it can
    still finish (our variant; see docs/picsys-heuristics.md).
    """

    name = "energy-heuristic"

    def __init__(self, *, probe: str = "paper", **kw) -> None:
        if probe not in ("paper", "adaptive"):
            raise InvalidInstance("probe", f"must be paper or adaptive, got {probe!r}")
        super().__init__(**kw)
        self.probe = probe

    def _window(self, worst_case_images: float, window: int) -> int:
        if self.probe == "paper":
            return max(int(worst_case_images), window)
        return max(1, min(int(worst_case_images), window))

    def reset(self, system: SystemInfo, rng: np.random.Generator) -> None:
        super().reset(system, rng)
        self._mode = ["time"] * system.n_devices
        self._next_probe = [0] * system.n_devices

    def _probe(self, dev: DeviceView) -> None:
        """Algorithm 4 at a probe point; sets the mode and the next probe index."""
        r = dev.energy_residual
        m, i, n = dev.m, dev.index, dev.remaining
        if r is None:
            self._mode[m], self._next_probe[m] = "time", dev.n_images
            return
        es, et = float(np.mean(dev.e_s[i:])), float(np.mean(dev.e_t[i:]))
        ea, eb = dev.e_alpha, dev.e_beta
        window = max(1, int(1.0 / max(es + ea + eb + et, EPS)))      # eq. 17
        nxt = window
        if r < n * (es + ea + eb):                                    # line 1
            if r < n * et:                                            # line 2
                hits = self.hit_rate(dev) * n
                mode = "all-offload" if n * et < n * (es + ea) + hits * et else "all-accelerated"   # lines 3-7
            elif r / (es + ea + eb) > 1:                              # line 10
                mode, nxt = "time", self._window(r / (es + ea + eb), window)
            elif r / (es + ea) > 1:                                   # line 14
                mode, nxt = "accelerated-only", self._window(r / (es + ea + eb), window)
            else:
                mode = "all-offload"                                  # line 19
        else:
            mode = "time"                                             # line 24
        self._mode[m], self._next_probe[m] = mode, i + max(1, nxt)

    def initial(self, dev: DeviceView) -> int:
        if dev.index >= self._next_probe[dev.m]:
            self._probe(dev)
        mode = self._mode[dev.m]
        if mode == "all-offload":
            want = OFFLOAD
        elif mode == "all-accelerated":
            want = LOCAL
        else:
            want = self._initial(dev)
        return self._guard_initial(dev, want)

    def filtering(self, dev: DeviceView) -> int:
        mode = self._mode[dev.m]
        want = OFFLOAD if mode in ("all-accelerated", "accelerated-only", "all-offload") else self._filtering(dev)
        return self._guard_filter(dev, want)


# ---------------------------------------------------------------------- method functions

def _options(name: str, options: dict, allowed: set) -> dict:
    for k in options:
        if k not in allowed:
            raise InvalidInstance(k, f"unknown option for method {name!r} (known: {', '.join(sorted(allowed))})")
    out = dict(options)
    if "tokens" in out:
        out["tokens"] = _as_bool(out["tokens"], "tokens")
    return out


def _hit_rates(v) -> np.ndarray:
    """The ``hit_rate`` option: one probability for every device or a list, one per device."""
    vals = v if isinstance(v, (list, tuple)) else [v]
    out = []
    for k, x in enumerate(vals):
        if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)) or not 0 <= x <= 1:
            raise InvalidInstance(f"hit_rate[{k}]" if isinstance(v, (list, tuple)) else "hit_rate",
                                  f"must be a number in [0, 1], got {x!r}")
        out.append(float(x))
    if not out:
        raise InvalidInstance("hit_rate", "must not be empty")
    return np.asarray(out)


def _as_bool(v, field: str) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.lower() in ("true", "1", "yes", "false", "0", "no"):
        return v.lower() in ("true", "1", "yes")
    if isinstance(v, (int, np.integer)) and v in (0, 1):
        return bool(v)
    raise InvalidInstance(field, f"must be true or false, got {v!r}")


_TH_OPTS = {"tokens", "estimate", "prior", "prior_weight", "queue", "hit_rate", "filter"}


def time_heuristic(inst, *, time_limit=None, seed=0, threads=None, **options):
    """The time-heuristic (section 5.2, eqs. 11-14, Algorithms 1-3); ``tokens=True`` adds eq. 18."""
    pol = TimeHeuristic(**_options("time-heuristic", options, _TH_OPTS))
    return policy_solution(inst, pol, seed=seed, method="time-heuristic")


def greedy(inst, *, time_limit=None, seed=0, threads=None, **options):
    """Greedy baseline (section 6.1): one offload-or-local comparison per head image, no cloud
    queueing in the offload estimate; ``reading="no-queue"`` the pre-issue-13 variant."""
    opts = _options("greedy", options, _TH_OPTS | {"reading", "refilter"})
    if "refilter" in opts:
        opts["refilter"] = _as_bool(opts["refilter"], "refilter")
    pol = Greedy(**opts)
    return policy_solution(inst, pol, seed=seed, method="greedy")


def energy_heuristic(inst, *, time_limit=None, seed=0, threads=None, **options):
    """The energy-heuristic (section 5.4, Algorithm 4, window eq. 17); ``tokens=True`` adds eq. 18,
    ``probe="adaptive"`` our probe rule."""
    pol = EnergyHeuristic(**_options("energy-heuristic", options, _TH_OPTS | {"probe"}))
    return policy_solution(inst, pol, seed=seed, method="energy-heuristic")
