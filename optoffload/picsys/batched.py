"""Batched event loop: the online PicSys simulation with many devices deciding per numpy step.

Same semantics and *identical decisions* as the reference event loop of
:func:`optoffload.picsys.simulator.run_policy` (``event_loop="reference"``;
``tests/test_picsys_batched.py`` compares outcomes, completion times, makespans and
request counts on random instances), for policies that provide a
:class:`BatchKernel` (:meth:`~optoffload.picsys.policy.Policy.batch_kernel`).

Why devices can decide together (conservative lookahead). Devices interact only
through the cloud, and a device sees the cloud only through ``q_c`` (eq. 11),
the number of images at the cloud at its decision time ``t``: the jobs that
*arrived* by ``t``. A job arrives when its upload ends, and an upload that a
device ``j`` schedules from now on cannot end before

    ``b_j = max(tau_j, uplink_free_j) + min tx of j's undecided images``

(``tau_j`` its next decision time; every term only grows). So with
``H = min_j b_j`` every decision at a time ``t < H`` already knows every arrival
that can count in its ``q_c``, whatever the other devices decide meanwhile:
all devices whose next decision is before ``H`` take one step together (one
numpy pass of the policy over them), then ``H`` is recomputed. The cloud is
the FIFO recursion of the reference loop (``done_k = max(arr_k, done_{k-S}) +
c_u``, jobs ordered by arrival, device, position) run on the arrivals before
``H``; ``q_c(t)`` is then ``#(arrivals <= t) - #(done <= t)`` (done times are
non-decreasing in FIFO order).

Scope: instances without energy data (a budget makes decisions depend on the
running energy; those runs take the reference loop) and with every transfer
time positive (a zero transfer time gives no lookahead). Per-device floating
point operations are the reference's, in the same order, so results are equal
bit for bit, not just close.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import numpy as np

from .model import F_DISC, F_OFF, I_OFF, S_DISC, S_UP

if TYPE_CHECKING:  # pragma: no cover
    from .model import PicsysInstance
    from .simulator import SimResult

__all__ = ["BatchKernel", "BatchState", "applicable", "run_batched"]


class BatchKernel(Protocol):
    """A policy's vectorised decision rule (identical to its ``initial`` / ``filtering``)."""

    def decide(self, st: BatchState, ids: np.ndarray, t: np.ndarray, i: np.ndarray,
               filt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Decide for devices ``ids`` at times ``t``, head images ``i``; ``filt`` marks the
        filtering stage (z1 = 1 known). Returns ``(offload, requested)``: boolean arrays,
        ``offload`` True for OFFLOAD (else LOCAL), ``requested`` True where the decision
        asked the cloud for ``q_c`` (a request packet)."""
        ...


class BatchState:
    """Per-device state a :class:`BatchKernel` may read (arrays indexed by device).

    Mirrors :class:`~optoffload.picsys.policy.DeviceView`: ``ufree`` (uplink free at),
    ``n_images``, ``n_filtered``, ``n_z1``, ``n_selected``, ``n_z2``, ``alpha``, ``beta``,
    ``c_u``, ``servers``; ``CS`` / ``TX`` the per-image scaled sizes and transmission times
    (rows padded with 0); :meth:`cloud_queue` and :meth:`uplink_queue` as in the view.
    """

    def __init__(self, inst: PicsysInstance) -> None:
        devs = inst.devices
        M = len(devs)
        self.M = M
        self.n_images = np.array([d.n for d in devs], dtype=np.int64)
        nmax = int(self.n_images.max()) if M else 0
        self.nmax = nmax
        self.alpha = np.array([d.alpha for d in devs], dtype=float)
        self.beta = np.array([d.beta for d in devs], dtype=float)
        self.c_u, self.servers = float(inst.cloud_time), int(inst.servers)
        self.CS = np.zeros((M, nmax + 1))
        self.TX = np.zeros((M, nmax + 1))
        self.Z1 = np.zeros((M, nmax + 1), dtype=np.int8)
        self.Z2 = np.zeros((M, nmax + 1), dtype=np.int8)
        txmin = np.full((M, nmax + 1), np.inf)
        for m, d in enumerate(devs):
            self.CS[m, :d.n] = d.c_s
            self.TX[m, :d.n] = d.tx
            self.Z1[m, :d.n] = d.z1
            self.Z2[m, :d.n] = d.z2
            if d.n:
                txmin[m, :d.n] = np.minimum.accumulate(np.asarray(d.tx, dtype=float)[::-1])[::-1]
        self.txmin = txmin
        self.ufree = np.zeros(M)
        self.n_filtered = np.zeros(M, dtype=np.int64)
        self.n_z1 = np.zeros(M, dtype=np.int64)
        self.n_selected = np.zeros(M, dtype=np.int64)
        self.n_z2 = np.zeros(M, dtype=np.int64)
        # uplink: completion times per device in order (FIFO: non-decreasing), inf beyond
        self.UD = np.full((M, nmax + 1), np.inf)
        self.ucnt = np.zeros(M, dtype=np.int64)
        self.uptr = np.zeros(M, dtype=np.int64)
        # cloud: jobs known final (arrival < horizon), in FIFO order
        cap = int(self.n_images.sum())
        self.arr = np.zeros(cap)
        self.done = np.zeros(cap)
        self.job_m = np.zeros(cap, dtype=np.int64)
        self.job_pos = np.zeros(cap, dtype=np.int64)
        self.njobs = 0
        self._done_list: list[float] = []
        self._pend: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.horizon = 0.0

    # ------------------------------------------------------------------ what a device may ask
    def uplink_queue(self, ids: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Images of each device still on its uplink at ``t`` (the view's ``uplink_queue``)."""
        p = self.uptr[ids]
        UD = self.UD
        while True:
            adv = UD[ids, p] <= t
            if not adv.any():
                break
            p = p + adv
        self.uptr[ids] = p
        return self.ucnt[ids] - p

    def cloud_queue(self, t: np.ndarray) -> np.ndarray:
        """``q_c`` at each time ``t`` (all ``t`` below the current horizon; eq. 11)."""
        self._settle(self.horizon)
        n = self.njobs
        return np.searchsorted(self.arr[:n], t, side="right") - np.searchsorted(self.done[:n], t, side="right")

    # ------------------------------------------------------------------ cloud bookkeeping
    def _arrive(self, arr: np.ndarray, m: np.ndarray, pos: np.ndarray) -> None:
        self._pend.append((arr, m, pos))

    def _settle(self, h: float) -> None:
        """Run the FIFO cloud over the pending arrivals before ``h`` (all of them when ``h`` is inf)."""
        if not self._pend:
            return
        if len(self._pend) == 1:
            a, m, p = self._pend[0]
        else:
            a = np.concatenate([x[0] for x in self._pend])
            m = np.concatenate([x[1] for x in self._pend])
            p = np.concatenate([x[2] for x in self._pend])
        if h == np.inf:
            self._pend = []
        else:
            now = a < h
            if not now.any():
                self._pend = [(a, m, p)]
                return
            if now.all():
                self._pend = []
            else:
                rest = ~now
                self._pend = [(a[rest], m[rest], p[rest])]
                a, m, p = a[now], m[now], p[now]
        order = np.lexsort((p, m, a))
        a, m, p = a[order], m[order], p[order]
        k0, k1 = self.njobs, self.njobs + len(a)
        self.arr[k0:k1], self.job_m[k0:k1], self.job_pos[k0:k1] = a, m, p
        dl, S, c = self._done_list, self.servers, self.c_u
        # the reference's recursion (simulator._Cloud._assign_until), job by job
        if S == 1:
            d = dl[-1] if dl else -np.inf
            app = dl.append
            for x in a.tolist():
                d = (x if x > d else d) + c
                app(d)
        else:
            k = len(dl)
            for x in a.tolist():
                if k < S:
                    d = x + c
                else:
                    r = dl[k - S]
                    d = (x if x >= r else r) + c
                dl.append(d)
                k += 1
        self.done[k0:k1] = dl[k0:k1]
        self.njobs = k1


def applicable(inst: PicsysInstance) -> bool:
    """Whether the batched loop covers ``inst`` (no energy data, every transfer time positive)."""
    if inst.has_energy or inst.n_devices == 0:
        return False
    return all(d.n == 0 or float(np.min(d.tx)) > 0.0 for d in inst.devices)


def run_batched(inst: PicsysInstance, kernel: BatchKernel) -> SimResult:
    """Run the event loop with ``kernel`` deciding for many devices per step (module docstring)."""
    from .simulator import _result

    st = BatchState(inst)
    M, N, nmax = st.M, st.n_images, st.nmax
    ar = np.arange(M)
    tau = np.where(N > 0, 0.0, np.inf)
    stage = np.zeros(M, dtype=np.int8)            # 0: initial decision due, 1: accelerated CNN ends at tau
    idx = np.zeros(M, dtype=np.int64)
    out = np.full((M, max(nmax, 1)), -1, dtype=np.int8)
    comp = np.full((M, max(nmax, 1)), np.nan)
    CS, TX, Z1, Z2, txmin = st.CS, st.TX, st.Z1, st.Z2, st.txmin
    alpha, beta, ufree, UD = st.alpha, st.beta, st.ufree, st.UD
    requests = 0
    while True:
        b = np.maximum(tau, ufree) + txmin[ar, idx]
        H = float(b.min())
        act = np.flatnonzero(tau < H)
        if act.size == 0:
            if not np.isfinite(tau).any():
                break
            act = np.array([int(np.argmin(tau))])   # pragma: no cover - needs a transfer time absorbed by rounding
        st.horizon = H
        i = idx[act]
        stg = stage[act]
        t = tau[act]
        filt = stg == 1
        if filt.any():
            fi, ii = act[filt], i[filt]
            st.n_filtered[fi] += 1
            neg = Z1[fi, ii] == 0
            if neg.any():                           # f-disc: no decision
                dm, di = fi[neg], ii[neg]
                out[dm, di] = F_DISC
                comp[dm, di] = tau[dm]
                idx[dm] += 1
                stage[dm] = 0
                i = idx[act]
                filt = stage[act] == 1
            st.n_z1[fi[~neg]] += 1
        live = filt | (i < N[act])
        if not live.all():                           # no image left: the device is done
            tau[act[~live]] = np.inf
            act, i, t, filt = act[live], i[live], t[live], filt[live]
            if act.size == 0:
                continue
        off, req = kernel.decide(st, act, t, i, filt)
        requests += int(np.count_nonzero(req))
        # outcomes
        loc = ~off
        f_loc = filt & loc
        code = np.where(filt, np.where(off, F_OFF, np.where(Z2[act, i] == 1, S_UP, S_DISC)),
                        np.where(off, I_OFF, -1)).astype(np.int8)
        has = code >= 0
        out[act[has], i[has]] = code[has]
        t_up = t
        if f_loc.any():                              # expensive CNN: ends at t + beta
            t2 = t + beta[act]
            fm = act[f_loc]
            st.n_selected[fm] += 1
            st.n_z2[act[f_loc & (code == S_UP)]] += 1
            sd = code == S_DISC
            comp[act[sd], i[sd]] = t2[sd]
            tau[fm] = t2[f_loc]
            t_up = np.where(f_loc, t2, t)
        up = off | (code == S_UP)
        if up.any():
            um, ui = act[up], i[up]
            tu = t_up[up]
            uf = ufree[um]
            d = np.where(tu > uf, tu, uf) + TX[um, ui]
            ufree[um] = d
            UD[um, st.ucnt[um]] = d
            st.ucnt[um] += 1
            sup = code[up] == S_UP
            if sup.any():
                comp[um[sup], ui[sup]] = d[sup]
            c = ~sup
            st._arrive(d[c], um[c], ui[c])
        i_loc = ~filt & loc
        if i_loc.any():                              # scale + accelerated CNN
            lm, li = act[i_loc], i[i_loc]
            tau[lm] = t[i_loc] + CS[lm, li] + alpha[lm]
            stage[lm] = 1
        adv = act[filt | off]
        idx[adv] += 1
        stage[act[filt]] = 0
    st._settle(np.inf)
    n = st.njobs
    cdone = 0.0
    if n:
        comp[st.job_m[:n], st.job_pos[:n]] = st.done[:n]
        cdone = max(0.0, float(st.done[:n].max()))
    outcomes = [out[m, :N[m]].copy() for m in range(M)]
    completion = [comp[m, :N[m]].copy() for m in range(M)]
    return _result(inst, outcomes, completion, cdone, np.zeros(M), requests=requests)
