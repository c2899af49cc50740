"""``balance``: our online PicSys heuristic (not in the paper).

Idea. The time-heuristic compares the head image's cloud completion (eq. 11)
with a worst-case estimate of the whole local queue (eqs. 12-14), and
Algorithm 3 sends an image to the accelerated CNN whenever the uplink
backlog exceeds ``c_s + alpha``, even when the image will then be offloaded
(the Table 3 trace, image 5 of device 3). ``balance`` instead asks, at each
decision, which choice for the head image lets the *rest of the device's
queue* finish first, using a fluid model of three resources:

* the device CPU, free at ``C``: a locally processed image costs
  ``a_j = c_s_j + alpha + p1 beta`` in expectation (``p1`` the running
  share of positive accelerated-CNN results);
* the device uplink, free at ``U = t + l^t``: an offloaded image costs
  ``tx_j = 8 B_j / r``, a locally processed one ``p1 p2 tx_j`` (``p2`` the
  running share of positive expensive-CNN results after a positive
  accelerated one);
* the cloud, busy until ``t + q_c c_u / S`` (request packet, eq. 11); an
  offloaded head image completes at ``max(upload end, that time) + c_u``.
  Option ``cloud_share=True`` adds a third line: if a fraction ``x`` of the
  ``R`` remaining images is offloaded and the ``M`` devices behave alike, the
  cloud needs ``M x R c_u / S`` more seconds. It is off by default: it made
  ``balance`` offload *more* at 100 Mbps (ties then favour offloading) and
  lost 12 % there, and changed nothing elsewhere.

Risk: the uplink line adds ``risk`` (default 2) standard deviations of the
number of positives among the ``R`` rest images (binomial, ``p1 p2``) times
their mean upload time. Positives that arrive late must still be uploaded, and
a device whose uplink is already full of offloads then finishes late. Without
this term ``balance`` offloads too eagerly on the paper's default setting (it
then loses to the time-heuristic by about 2 %). With ``risk = 2`` it wins on
every setting we tried (see docs/picsys-heuristics.md).

The rest of the queue finishes at ``F(C, U) = min_x max(C + (1-x) A,
U + x T_x + (1-x) P [, cloud(x)])`` with ``A``, ``T_x``, ``P`` the sums
of the per-image costs above; the minimum over ``x in [0, 1]`` of a max of
linear functions is taken exactly (breakpoints). The head image is offloaded
iff ``max(head completion if offloaded, F(C, U + tx_i)) <= max(head
completion if local, F(C + local cost, U + expected upload))``. At the
filtering stage the head is known positive, so its local cost is ``beta``
and its expected upload ``p2 tx_i``.

It uses only what a device may know: its queue's sizes and scaling times,
its CPU and uplink state, its own CNN results so far, the cloud queue length
on request, and the public system description of time 0 (number of devices
and images). Complexity O(1) per decision after O(n) suffix sums at reset.
Option ``tokens=True`` applies the cloud tokens of eq. 18 as in the
time-heuristic.
"""

from __future__ import annotations

import numpy as np

from optoffload.errors import InvalidInstance
from optoffload.picsys.batched import cnz
from optoffload.picsys.policy import LOCAL, OFFLOAD, DeviceView, Policy, SystemInfo
from optoffload.picsys.simulator import policy_solution

from .time_heuristic import EnergyGuard, _options, hit_rates_batch, padded, token_counts

EPS = 1e-12


def _min_max_linear(lines: list[tuple[float, float]]) -> float:
    """``min_{x in [0,1]} max_k (a_k + b_k x)``, exactly (the optimum is at 0, 1 or a crossing)."""
    cands = [0.0, 1.0]
    for k in range(len(lines)):
        for j in range(k + 1, len(lines)):
            (a1, b1), (a2, b2) = lines[k], lines[j]
            if abs(b1 - b2) > EPS:
                x = (a2 - a1) / (b1 - b2)
                if 0.0 < x < 1.0:
                    cands.append(x)
    return min(max(a + b * x for a, b in lines) for x in cands)


class Balance(EnergyGuard, Policy):
    """Fluid-balance online policy (module docstring)."""

    name = "balance"

    def __init__(self, *, tokens: bool = False, prior: float = 0.25, prior_z2: float = 0.8,
                 prior_weight: float = 2.0, cloud_share: bool = False, risk: float = 2.0) -> None:
        for k, v in (("prior", prior), ("prior_z2", prior_z2)):
            if not 0.0 <= v <= 1.0:
                raise InvalidInstance(k, f"must lie in [0, 1], got {v!r}")
        self.use_tokens = bool(tokens)
        self.prior, self.prior_z2, self.prior_weight = float(prior), float(prior_z2), float(prior_weight)
        self.cloud_share = cloud_share
        self.risk = float(risk)
        self.tie = 0.0

    def reset(self, system: SystemInfo, rng: np.random.Generator) -> None:
        self.tokens = token_counts(system) if self.use_tokens else None
        self._cs = [np.concatenate([np.cumsum(c[::-1])[::-1], [0.0]]) for c in system.c_s]
        self._tx = [np.concatenate([np.cumsum((8.0 * s / r)[::-1])[::-1], [0.0]])
                    for s, r in zip(system.sizes, system.rate)]
        self._active = int(np.sum(system.n_images > 0))
        self._mean_n = float(np.mean(system.n_images[system.n_images > 0])) if self._active else 1.0

    # ------------------------------------------------------------------ estimates
    def _p1(self, dev: DeviceView) -> float:
        n0 = self.prior_weight
        return (dev.n_z1 + n0 * self.prior) / (dev.n_filtered + n0) if dev.n_filtered + n0 > 0 else self.prior

    def _p2(self, dev: DeviceView) -> float:
        n0 = self.prior_weight
        return (dev.n_z2 + n0 * self.prior_z2) / (dev.n_selected + n0) if dev.n_selected + n0 > 0 \
            else self.prior_z2

    def _rest(self, dev: DeviceView, C: float, U: float, cloud0: float, p1: float, p2: float) -> float:
        """Fluid finish of the images after the head, given CPU free at C and uplink free at U."""
        m, j = dev.m, dev.index + 1
        R = dev.n_images - j
        if R <= 0:
            return max(C, U)
        cs, tx = self._cs[m][j], self._tx[m][j]
        A = cs + R * (dev.alpha + p1 * dev.beta)      # all local: CPU work
        q = p1 * p2
        P = q * tx                                     # all local: expected uploads of positives
        if self.risk:                                  # ... plus `risk` standard deviations
            P += self.risk * np.sqrt(R * q * (1 - q)) * tx / R
        cu = dev.c_u
        lines = [(C + A, -A), (U + P + cu, tx - P)]
        if self.cloud_share:
            lines.append((cloud0, self._active * R * cu / dev.servers))
        return _min_max_linear(lines)

    def _decide(self, dev: DeviceView, filtering: bool) -> int:
        if self.tokens is not None and self.tokens[dev.m] <= 0:
            return LOCAL
        t = dev.t
        p1, p2 = self._p1(dev), self._p2(dev)
        U = t + dev.uplink_wait
        cloud0 = t + dev.cloud_queue() * dev.c_u / dev.servers
        tx_i = dev.tx
        # offload the head
        u_off = U + tx_i
        head_off = max(u_off, cloud0) + dev.c_u
        f_off = max(head_off, self._rest(dev, t, u_off, cloud0 + dev.c_u / dev.servers, p1, p2))
        # process the head locally
        if filtering:
            c_loc = t + dev.beta
            u_loc = max(U, c_loc) + p2 * tx_i if p2 > 0 else U
            head_loc = u_loc if p2 > 0 else c_loc
        else:
            c_loc = t + dev.c_s + dev.alpha + p1 * dev.beta
            u_loc = max(U, c_loc) + p1 * p2 * tx_i
            head_loc = max(c_loc, u_loc)
        f_loc = max(head_loc, self._rest(dev, c_loc, u_loc, cloud0, p1, p2))
        if f_off < f_loc - self.tie:
            if self.tokens is not None:
                self.tokens[dev.m] -= 1
            return OFFLOAD
        return LOCAL

    def batch_kernel(self, system: SystemInfo):
        """The vectorised twin of this policy for the batched event loop (subclasses: none)."""
        return BalanceKernel(self, system) if type(self) is Balance else None

    def initial(self, dev: DeviceView) -> int:
        return self._guard_initial(dev, self._decide(dev, False))

    def filtering(self, dev: DeviceView) -> int:
        return self._guard_filter(dev, self._decide(dev, True))


def _min_max_linear_batch(lines: list) -> np.ndarray:
    """:func:`_min_max_linear` elementwise over arrays ``(a_k, b_k)`` (same candidates, same sums).

    ``a + b * 0.0 == a`` and ``a + b * 1.0 == a + b`` exactly, so the end points are taken
    without the multiplications. Call under ``np.errstate(divide="ignore", invalid="ignore")``.
    """
    def at(x):
        v = lines[0][0] + lines[0][1] * x
        for a, b in lines[1:]:
            v = np.maximum(v, a + b * x)
        return v

    v0, v1 = lines[0][0], lines[0][0] + lines[0][1]
    for a, b in lines[1:]:
        v0, v1 = np.maximum(v0, a), np.maximum(v1, a + b)
    best = np.minimum(v0, v1)
    for k in range(len(lines)):
        for j in range(k + 1, len(lines)):
            (a1, b1), (a2, b2) = lines[k], lines[j]
            d = b1 - b2
            x = (a2 - a1) / d
            ok = (np.abs(d) > EPS) & (0.0 < x) & (x < 1.0)
            if cnz(ok):
                best = np.where(ok, np.minimum(best, at(x)), best)
    return best


class BalanceKernel:
    """``balance``'s decisions for many devices at once (:mod:`optoffload.picsys.batched`).

    Same rule and the same floating-point operations, in the same order, as
    :meth:`Balance._decide`; no energy guard (the batched loop runs only instances
    without energy data).
    """

    uses_uplink_queue = False

    def __init__(self, pol: Balance, system: SystemInfo) -> None:
        self.pol = pol
        width = int(system.n_images.max()) + 1 if system.n_devices else 1
        self.cs = np.append(padded(pol._cs, width).ravel(), 0.0)   # (+ 1: the head may be the last
        self.tx = np.append(padded(pol._tx, width).ravel(), 0.0)   # padding slot in a KernelRuns block)

    def _rest_parts(self, st, k, p, alpha, beta, p1, p2):
        """The terms of :meth:`Balance._rest` that do not depend on ``C`` and ``U`` (the same for
        ``f_off`` and ``f_loc``): ``R``, ``A``, ``P``, ``tx`` and the lines' slopes."""
        pol = self.pol
        j = p + 1
        R = st.endpos[k] - j
        cs, tx = self.cs[j], self.tx[j]
        A = cs + R * (alpha + p1 * beta)
        q = p1 * p2
        P = q * tx
        if pol.risk:
            P = P + pol.risk * np.sqrt(R * q * (1 - q)) * tx / R
        b1, b2 = -A, tx - P
        d = b1 - b2
        return R, A, P, b1, b2, d, np.abs(d) > EPS

    def _rest(self, st, parts, C, U, cloud0):
        """:meth:`Balance._rest` elementwise (same operations, same order)."""
        R, A, P, b1, b2, d, big = parts
        cu = st.c_u
        a1, a2 = C + A, U + P + cu
        if self.pol.cloud_share:
            lines = [(a1, b1), (a2, b2), (cloud0, self.pol._active * R * cu / st.servers)]
            v = _min_max_linear_batch(lines)
        else:                                          # _min_max_linear_batch for two lines
            v = np.minimum(np.maximum(a1, a2), np.maximum(a1 + b1, a2 + b2))
            x = (a2 - a1) / d
            ok = big & (0.0 < x) & (x < 1.0)
            if cnz(ok):
                v = np.where(ok, np.minimum(v, np.maximum(a1 + b1 * x, a2 + b2 * x)), v)
        return np.where(R <= 0, np.maximum(C, U), v)

    @property
    def monotone_in_queue(self) -> bool:
        """Without ``cloud_share`` only ``f_off`` depends on q_c, and it grows with it."""
        return not self.pol.cloud_share

    @property
    def local_runs(self) -> bool:
        """Certain-LOCAL runs (:class:`optoffload.picsys.batched.KernelRuns`): as ``monotone_in_queue``."""
        return not self.pol.cloud_share

    def local_certain(self, st, k, t, i, filt, ufree, nz1, nfilt, nz2, nsel):
        """Where the decision in the given (hypothetical) state is LOCAL for every ``q_c`` at least
        the jobs known final give (:meth:`BatchState.cloud_queue`, a lower bound at any time);
        with tokens, a device without one is LOCAL and asks nothing. Returns ``(local, asked)``."""
        pol = self.pol
        with np.errstate(divide="ignore", invalid="ignore"):
            u_off, rest_off, f_loc = self._terms(st, k, t, i, filt, ufree, nz1, nfilt, nz2, nsel, None)
            c_u, S = st.c_u, st.servers
            thr = f_loc - pol.tie
            # q_c = 0 first (f_off at q_c = 0 is a lower bound: LOCAL there is LOCAL for any q_c);
            # the cloud count only where that does not settle it
            loc = ~(np.maximum(u_off + c_u, rest_off) < thr)
            w = np.flatnonzero(~loc)
            q = np.zeros(len(k), dtype=np.int64)
            if w.size:
                tw = t[w]
                q[w] = qw = st.cloud_queue(tw)
                loc[w] = ~(np.maximum(np.maximum(u_off[w], tw + qw * c_u / S) + c_u, rest_off[w]) < thr[w])
        self._last = (k, t, u_off, rest_off, thr, q)
        if pol.tokens is None:
            return loc, np.ones(len(k), dtype=bool)
        asked = pol.tokens[k] > 0
        return loc | ~asked, asked

    def offload_certain(self, st, e, H):
        """For decisions ``e`` of the last :meth:`local_certain` call that were not certainly
        LOCAL: True where OFFLOAD is certain (before the horizon ``H`` the count was exact;
        beyond it, OFFLOAD also at :meth:`BatchState.cloud_queue_upper`); spends their tokens."""
        k, t, u_off, rest_off, thr, q = self._last
        te = t[e]
        ok = te < H
        unc = np.flatnonzero(~ok)
        if unc.size:                                           # the same operations at q's upper bound
            eu, tu = e[unc], te[unc]
            c_u, S = st.c_u, st.servers
            qh = st.cloud_queue_upper(tu, q[eu])
            ok[unc] = np.maximum(np.maximum(u_off[eu], tu + qh * c_u / S) + c_u, rest_off[eu]) < thr[eu]
        if self.pol.tokens is not None:
            self.pol.tokens[k[e[ok]]] -= 1
        return ok

    def decide(self, st, ids, t, p, filt, safe=None):
        pol = self.pol
        if pol.tokens is not None:
            ask = pol.tokens[ids] > 0
            off = np.zeros(len(ids), dtype=bool)
            if not np.count_nonzero(ask):
                return off, ask
            s2 = None if safe is None else safe[ask]
            o, _ = self.decide_all(st, ids[ask], t[ask], p[ask], filt[ask], s2)
            off[ask] = o
            if s2 is not None:
                safe[ask] = s2
            pol.tokens[ids[off if safe is None else off & safe]] -= 1
            return off, ask
        return self.decide_all(st, ids, t, p, filt, safe)

    def decide_all(self, st, k, t, i, filt, safe=None):
        """Decisions for devices ``k`` (all asking ``q_c``); with ``safe`` (devices beyond the
        horizon marked False), an OFFLOAD that also holds at :meth:`BatchState.cloud_queue_upper`
        is marked certain (``safe`` set True in place): ``f_off`` grows with ``q_c``, ``f_loc``
        does not read it (``monotone_in_queue``), and float rounding is monotone."""
        with np.errstate(divide="ignore", invalid="ignore"):   # R = 0 and parallel lines: masked out
            q = st.cloud_queue(t)
            u_off, rest_off, f_loc = self._terms(st, k, t, i, filt, st.ufree[k], st.n_z1[k], st.n_filtered[k],
                                                 st.n_z2[k], st.n_selected[k], q)
            c_u, S = st.c_u, st.servers
            thr = f_loc - self.pol.tie
            off = np.maximum(np.maximum(u_off, t + q * c_u / S) + c_u, rest_off) < thr
            if safe is not None:
                unc = np.flatnonzero(off & ~safe)
                if unc.size:                                   # the same operations at q's upper bound
                    tu = t[unc]
                    qh = st.cloud_queue_upper(tu, q[unc])
                    f_hi = np.maximum(np.maximum(u_off[unc], tu + qh * c_u / S) + c_u, rest_off[unc])
                    safe[unc[f_hi < thr[unc]]] = True
            return off, np.ones(len(k), dtype=bool)

    def _terms(self, st, k, t, i, filt, ufree, nz1, nfilt, nz2, nsel, q):
        """The parts of :meth:`Balance._decide` for devices ``k`` in the given state: ``u_off``
        (the head's upload end if offloaded), ``rest_off`` (the rest's fluid finish then) and
        ``f_loc``. Without ``cloud_share`` only the head's cloud completion
        ``max(u_off, t + q c_u / S) + c_u`` reads ``q`` (eq. 11's queue), so ``f_off =
        max(that, rest_off)`` grows with ``q`` and ``f_loc`` does not depend on it."""
        pol = self.pol
        alpha, beta = st.alpha[k], st.beta[k]
        n0 = pol.prior_weight
        p1 = hit_rates_batch(nz1, nfilt, pol.prior, n0)
        p2 = hit_rates_batch(nz2, nsel, pol.prior_z2, n0)
        U = t + np.maximum(0.0, ufree - t)
        c_u, S = st.c_u, st.servers
        cloud0 = t + q * c_u / S if pol.cloud_share else None
        tx_i = st.TX[i]
        u_off = U + tx_i
        parts = self._rest_parts(st, k, i, alpha, beta, p1, p2)
        rest_off = self._rest(st, parts, t, u_off, cloud0 + c_u / S if pol.cloud_share else None)
        # local: filtering stage (head known positive) or initial stage
        c_f = t + beta
        pos = p2 > 0
        u_f = np.where(pos, np.maximum(U, c_f) + p2 * tx_i, U)
        h_f = np.where(pos, u_f, c_f)
        c_i = t + st.CS[i] + alpha + p1 * beta
        u_i = np.maximum(U, c_i) + p1 * p2 * tx_i
        h_i = np.maximum(c_i, u_i)
        c_loc, u_loc, head_loc = np.where(filt, c_f, c_i), np.where(filt, u_f, u_i), np.where(filt, h_f, h_i)
        f_loc = np.maximum(head_loc, self._rest(st, parts, c_loc, u_loc, cloud0))
        return u_off, rest_off, f_loc


def balance(inst, *, time_limit=None, seed=0, threads=None, **options):
    """Our online heuristic ``balance`` (fluid balance of CPU, uplink and a shared cloud)."""
    opts = _options("balance", options, {"tokens", "prior", "prior_z2", "prior_weight", "cloud_share", "risk"})
    return policy_solution(inst, Balance(**opts), seed=seed, method="balance")
