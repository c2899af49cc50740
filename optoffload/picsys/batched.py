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

    ``b_j = max(tau_j + G_j, uplink_free_j + min tx of j's undecided images)``

with ``tau_j`` its next decision time and ``G_i = min(tx_i, c_s,i + alpha +
G_{i+1})`` (the head image offloaded now, or after local images, each taking at
least ``c_s + alpha`` of CPU; ``F`` the same for a head already in the
accelerated CNN; a nanosecond margin keeps both lower bounds under rounding;
every term only grows). So with
``H = min_j b_j`` every decision at a time ``t < H`` already knows every arrival
that can count in its ``q_c``, whatever the other devices decide meanwhile:
all devices whose next decision is before ``H`` take one step together (one
numpy pass of the policy over them), then ``H`` is recomputed. The cloud is
the FIFO recursion of the reference loop (``done_k = max(arr_k, done_{k-S}) +
c_u``, jobs ordered by arrival, device, position) run on the arrivals before
``H``; ``q_c(t)`` is then ``#(arrivals <= t) - #(done <= t)`` (done times are
non-decreasing in FIFO order).

Speculation: for a kernel whose offload test only gets harder as ``q_c`` grows
(``monotone_in_queue``), devices beyond ``H`` decide too, with ``q_c`` counted
over the jobs known final, a lower bound (more arrivals only delay FIFO jobs):
a LOCAL there is final; an OFFLOAD is kept when it also holds at an upper bound
on ``q_c`` (:meth:`BatchState.cloud_queue_upper`), else discarded and decided
again later.

Backlog runs: for a kernel with ``backlog_local`` (the time-heuristic's
Algorithm 3, lines 2 and 5), decisions taken on the uplink backlog alone read no
other device, so each device takes a whole run of them per pass, whatever the
horizon (:class:`BacklogRuns`: running sums down the image axis, bit-identical).
Kernel runs: a kernel with ``local_runs`` (``balance``) evaluates its own rule along each
device's next ``LOCAL_RUN_IMAGES`` images assuming they are all processed locally (the
path's times and counts are running sums, as in the backlog runs) and keeps the prefix of
certain LOCALs plus, when it is certain, the OFFLOAD that ends it (:class:`KernelRuns`); the
one-decision step is then not needed.
Pending cloud arrivals (decided, not yet in the FIFO) are kept as numpy batches
and settled with one ``lexsort`` each time the horizon moves past some of them.

Scope: instances without energy data (a budget makes decisions depend on the
running energy; those runs take the reference loop) and with every transfer
time positive (a zero transfer time gives no lookahead). Per-device floating
point operations are the reference's, in the same order, so results are equal
bit for bit, not just close. An ``f-disc`` (z1 = 0) is resolved when its
accelerated CNN starts: only the device's own next decision can observe it,
and that decision comes later.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import numpy as np

from .model import F_DISC, F_OFF, I_OFF, S_DISC, S_UP

try:  # the C function behind np.count_nonzero (3x less call overhead on small arrays)
    from numpy._core.multiarray import count_nonzero as cnz
except ImportError:  # pragma: no cover - other numpy layouts
    cnz = np.count_nonzero

if TYPE_CHECKING:  # pragma: no cover
    from .model import PicsysInstance
    from .simulator import SimResult

RUN_IMAGES = 12
"""Images per device per backlog-run pass (:class:`BacklogRuns`; 6 to 16 measured within 10% at 200 x 1,000)."""

LOCAL_RUN_IMAGES = 4
"""Images per device per kernel-run pass (:class:`KernelRuns`; 3-5 measured within the noise, 6+ slower)."""

CHAIN = 1
"""Extra kernel-run passes per round for the devices that just offloaded (0 or 1 within 6%, 1 chosen)."""

DIRECT_COUNT = 1 << 16
"""``cloud_queue_upper`` counts pending arrivals without sorting when times x arrivals is at most this."""

_AR8 = np.arange(8)

__all__ = ["cnz", "BacklogRuns", "KernelRuns", "BatchKernel", "BatchState", "applicable", "run_batched"]


class BatchKernel(Protocol):
    """A policy's vectorised decision rule (identical to its ``initial`` / ``filtering``).

    Optional attributes ``uses_cloud`` (default True): False when no decision reads ``q_c``;
    the devices are then independent and all advance together; ``uses_uplink_queue``
    (default True): False when no decision reads the uplink queue length (not tracked then);
    ``backlog_local`` (default None): ``(thr_init, thr_filt)`` when the policy has Algorithm 3's
    backlog shortcuts: LOCAL at the initial stage of the image at flat position ``p`` whenever
    ``max(0, ufree - t) >= thr_init[p]``, and at the filtering stage of device ``m`` whenever
    ``max(0, ufree - t) >= thr_filt[m]``, without reading anything else (no ``q_c``, no tokens,
    no counts); the loop then takes whole runs of such decisions at once (:class:`BacklogRuns`);
    an optional third entry, a boolean array by device, is set True for the devices a run leaves
    at the filtering stage (their initial decision was a backlog LOCAL).
    ``local_runs`` (default False; needs ``monotone_in_queue``): the loop takes
    :class:`KernelRuns` instead of one-decision steps. The kernel then provides
    ``local_certain(st, k, t, p, filt, ufree, n_z1, n_filtered, n_z2, n_selected) -> (local,
    asked)``, its rule for decisions in the given (hypothetical) states, ``local`` True where
    LOCAL holds for every ``q_c`` at least :meth:`BatchState.cloud_queue` (a lower bound at any
    time) and ``asked`` where the decision requests ``q_c``; and ``offload_certain(st, e, H)``
    for entries ``e`` of that call not certainly LOCAL: True where OFFLOAD is certain (exact
    before the horizon ``H``, at :meth:`BatchState.cloud_queue_upper` beyond it), spending
    whatever an OFFLOAD spends (tokens) there.
    """

    def decide(self, st: BatchState, ids: np.ndarray, t: np.ndarray, p: np.ndarray,
               filt: np.ndarray, safe: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Decide for devices ``ids`` at times ``t``; ``p`` the flat index of each head image in
        the ``(M, W)`` per-image tables (``p - st.base[ids]`` its index in the queue,
        ``st.endpos[ids] - p`` the images left); ``filt`` marks the filtering stage (z1 = 1
        known). Returns ``(offload, requested)``: boolean arrays, ``offload`` True for OFFLOAD
        (else LOCAL), ``requested`` True where the decision asked the cloud for ``q_c``.
        With ``monotone_in_queue`` the loop also passes ``safe``: False marks a device beyond
        the horizon, whose ``q_c`` is only a lower bound; its OFFLOAD is discarded, so the
        kernel must not spend anything (tokens) on it. The kernel may set ``safe`` True (in
        place) where its OFFLOAD holds even at :meth:`BatchState.cloud_queue_upper`, an upper
        bound on ``q_c``: that OFFLOAD is then certain and kept."""
        ...


class BatchState:
    """Per-device state a :class:`BatchKernel` may read (arrays indexed by device).

    Mirrors :class:`~optoffload.picsys.policy.DeviceView`: ``ufree`` (uplink free at),
    ``n_images``, ``n_filtered``, ``n_z1``, ``n_selected``, ``n_z2``, ``alpha``, ``beta``,
    ``c_u``, ``servers``; ``CS`` / ``TX`` the per-image scaled sizes and transmission times,
    flat ``(M, W)`` tables (row ``m`` starts at ``base[m] = m W``, zero padded);
    :meth:`cloud_queue` and :meth:`uplink_queue` as in the view.
    """

    def __init__(self, inst: PicsysInstance) -> None:
        devs = inst.devices
        M = len(devs)
        self.M = M
        self.n_images = np.array([d.n for d in devs], dtype=np.int64)
        nmax = int(self.n_images.max()) if M else 0
        self.W = W = nmax + 1
        self.base = np.arange(M, dtype=np.int64) * W
        self.endpos = self.base + self.n_images
        self.alpha = np.array([d.alpha for d in devs], dtype=float)
        self.beta = np.array([d.beta for d in devs], dtype=float)
        self.c_u, self.servers = float(inst.cloud_time), int(inst.servers)
        N = self.n_images
        valid = np.arange(W) < N[:, None]                   # (M, W): a real image, row-major order
        self.valid = valid.ravel()

        def table(field: str, dtype=float) -> np.ndarray:
            out = np.zeros((M, W), dtype=dtype)
            if M:
                out[valid] = np.concatenate([getattr(d, field) for d in devs])
            return out

        CS, Z1, Z2 = table("c_s"), table("z1", np.int8), table("z2", np.int8)
        rate = np.array([d.rate for d in devs], dtype=float)
        TX = 8.0 * table("size") / rate[:, None]           # Device.tx, element by element
        txmin = np.minimum.accumulate(np.where(valid, TX, np.inf)[:, ::-1], axis=1)[:, ::-1]
        # lower bounds on when a device's next cloud arrival can happen, after its next
        # decision time tau: G (head image not started) and F (head image in the accelerated CNN).
        # G_i = min(tx_i, cpu_i + G_{i+1}) = min_{k>=i} (Q_k + tx_k) - Q_i, Q the prefix CPU time;
        # a nanosecond-scale margin keeps it a lower bound under rounding
        Q = np.zeros((M, W + 1))
        np.cumsum(np.where(valid, CS + self.alpha[:, None], 0.0), axis=1, out=Q[:, 1:])
        Qh = Q[:, :W]
        g = np.minimum.accumulate(np.where(valid, Qh + TX, np.inf)[:, ::-1], axis=1)[:, ::-1] - Qh
        margin = 1e-9 * (1.0 + Q[np.arange(M), N] + np.where(valid, TX, 0.0).max(axis=1, initial=0.0))
        G = np.where(valid, g - margin[:, None], np.inf)
        Gn = np.full((M, W), np.inf)
        Gn[:, :-1] = G[:, 1:]
        F = np.where(valid, np.minimum(np.where(Z1 == 1, TX, np.inf), Gn), np.inf)
        self.CS, self.TX, self.Z1, self.Z2 = CS.ravel(), TX.ravel(), Z1.ravel(), Z2.ravel()
        self.txmin = txmin.ravel()
        self.bound = np.concatenate([G.ravel(), F.ravel()])     # index: pos + (0 or M W by stage)
        self.ufree = np.zeros(M)
        self.n_filtered = np.zeros(M, dtype=np.int64)
        self.n_z1 = np.zeros(M, dtype=np.int64)
        self.n_selected = np.zeros(M, dtype=np.int64)
        self.n_z2 = np.zeros(M, dtype=np.int64)
        # uplink: completion times per device in order (FIFO: non-decreasing), inf beyond
        self.UD = np.full(M * W + 8, np.inf)        # (+ 8: the look-ahead of uplink_queue)
        self.ucur = self.base.copy()                # where the next upload of each device is stored
        self.uptr = self.base.copy()                # first upload not known finished
        # cloud: jobs known final (arrival < horizon), in FIFO order
        cap = int(self.n_images.sum())
        self.arr = np.zeros(cap)
        self.done = np.zeros(cap)
        self.job_pos = np.zeros(cap, dtype=np.int64)
        self.njobs = 0
        self._done_list: list[float] = []
        self._pend: list[tuple[np.ndarray, np.ndarray]] = []
        self.horizon = 0.0
        self._pmin = np.inf                         # earliest pending arrival (not yet in the FIFO)
        self.bj = np.zeros(M)                       # per device: no new upload ends before bj
        self.btx = np.full(M, np.inf)               # ... and each takes at least btx (uplink time)

    # ------------------------------------------------------------------ what a device may ask
    def uplink_queue(self, ids: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Images of each device still on its uplink at ``t`` (the view's ``uplink_queue``)."""
        p = self.uptr[ids]
        UD = self.UD
        tt = t[:, None]
        while True:                                  # 8 entries at a time (each row is sorted)
            k = np.logical_and.accumulate(UD[p[:, None] + _AR8] <= tt, axis=1).sum(axis=1)   # the prefix
            p = p + k
            if not cnz(k == 8):
                break
        self.uptr[ids] = p
        return self.ucur[ids] - p

    def cloud_queue_upper(self, t: np.ndarray, q: np.ndarray | None = None) -> np.ndarray:
        """An upper bound on ``q_c`` at times ``t`` beyond the horizon (eq. 11's queue).

        ``q_c(t) = #(arrivals <= t) - #(done <= t)``. Jobs known final keep their done times
        (every later arrival follows them in FIFO order); a known arrival not yet in the FIFO
        counts at most 1 if it is ``<= t``; and device ``j``, whose next new upload cannot end
        before ``b_j`` (the horizon's per-device bound) and whose uploads each take at least
        ``txmin_j`` of its uplink, adds at most ``1 + (t - b_j) / step_j`` arrivals by ``t >= b_j``
        (``step_j = txmin_j (1 - 1e-6)``: the factor covers rounding in the upload recursion).
        Summed with prefix sums over the ``b_j`` in increasing order: ``c + t S1_c - S2_c`` for
        the ``c`` devices with ``b_j <= t``, ``S1`` the prefix sums of ``1 / step`` and ``S2``
        those of ``b / step`` (plus a margin for their rounding). ``q``: :meth:`cloud_queue` at
        ``t`` if already known."""
        if q is None:
            q = self.cloud_queue(t)
        tmax = float(t.max())
        if self._pmin <= tmax:
            pa = self._pending()[0]
            pa = pa[pa <= tmax]
            if len(t) * len(pa) <= DIRECT_COUNT:       # few times: count directly (no sort)
                q = q + np.count_nonzero(pa <= t[:, None], axis=1)
            else:
                q = q + np.searchsorted(np.sort(pa), t, side="right")
        ok = self.bj <= tmax                            # devices that can add an arrival at all
        if not cnz(ok):
            return q
        b = self.bj[ok]
        inv = 1.0 / (self.btx[ok] * (1.0 - 1e-6))
        o = np.argsort(b)
        b, inv = b[o], inv[o]
        S1 = np.concatenate([[0.0], np.cumsum(inv)])
        S2 = np.concatenate([[0.0], np.cumsum(b * inv)])
        c = np.searchsorted(b, t, side="right")
        u = c + t * S1[c] - S2[c]
        u = u + 1e-9 * (c + t * S1[c] + S2[c]) + 1e-6  # rounding of the sums
        return q + np.floor(u).astype(np.int64)

    def cloud_queue(self, t: np.ndarray) -> np.ndarray:
        """``q_c`` at each time ``t`` (all ``t`` below the current horizon; eq. 11)."""
        if self._pmin <= float(t.max()):                 # an arrival not yet in the FIFO counts
            self._settle(self.horizon)
        n = self.njobs
        return np.searchsorted(self.arr[:n], t, side="right") - np.searchsorted(self.done[:n], t, side="right")

    # ------------------------------------------------------------------ cloud bookkeeping
    def _push(self, a: np.ndarray, p: np.ndarray) -> None:
        """New arrivals (times ``a`` of the images at flat positions ``p``), not yet in the FIFO."""
        self._pend.append((a, p))
        m = float(a.min())
        if m < self._pmin:
            self._pmin = m

    def _pending(self) -> tuple[np.ndarray, np.ndarray]:
        """The pending arrivals as one pair of arrays (times, flat positions)."""
        pend = self._pend
        if len(pend) > 1:
            pend[:] = [(np.concatenate([x[0] for x in pend]), np.concatenate([x[1] for x in pend]))]
        return pend[0]

    def _fifo(self, a: list, p) -> None:
        """Append jobs (already in FIFO order) to the cloud: the reference recursion, job by job."""
        k0, k1 = self.njobs, self.njobs + len(a)
        self.arr[k0:k1], self.job_pos[k0:k1] = a, p
        dl, S, c = self._done_list, self.servers, self.c_u
        if S == 1:
            d = dl[-1] if dl else -np.inf
            app = dl.append
            for x in a:
                d = (x if x > d else d) + c
                app(d)
        else:
            k = len(dl)
            for x in a:
                if k < S:
                    d = x + c
                else:
                    r = dl[k - S]
                    d = (x if x >= r else r) + c
                dl.append(d)
                k += 1
        self.done[k0:k1] = dl[k0:k1]
        self.njobs = k1

    def _settle(self, h: float) -> None:
        """Run the FIFO cloud over the pending arrivals before ``h`` (all of them when ``h`` is inf)."""
        if not self._pend:
            return
        a, p = self._pending()
        pend = self._pend                           # the loop appends to this very list
        if h == np.inf:
            pend.clear()
            self._pmin = np.inf
        else:
            now = a < h
            k = cnz(now)
            if k == len(a):
                pend.clear()
                self._pmin = np.inf
            else:
                rest = ~now
                pend[:] = [(a[rest], p[rest])]
                self._pmin = float(pend[0][0].min())
                if not k:
                    return
                a, p = a[now], p[now]
        order = np.lexsort((p, a))                  # FIFO: arrival, then device, then position
        self._fifo(a[order].tolist(), p[order])



def _run_sums(runs, st: BatchState, cand: np.ndarray, tau: np.ndarray, pos: np.ndarray, fs: np.ndarray,
              nfs: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The running CPU sums of the next ``runs.K`` images of the devices ``cand`` (shared by
    :class:`BacklogRuns` and :class:`KernelRuns`): ``Y[3i]`` = ``s_i`` (start of image ``i``),
    ``Y[3i + 2]`` = ``e_i`` (its end after the accelerated CNN), summed with one ``np.cumsum``
    down axis 0, the reference loop's order of additions. Runs starting at the filtering stage
    (``fs``) skip the first scaling and CNN: ``e_0 = tau`` exactly, since ``(tau + 0.0) + 0.0``
    is exact. Returns ``(p0, P, Y)`` with ``P`` the clipped flat positions."""
    p0 = pos[cand]
    P = runs.AR[:, None] + p0
    np.minimum(P, runs.last, out=P)
    Y = np.empty((3 * runs.K + 1, len(cand)))
    Y[0] = tau[cand]
    Y[1::3] = st.CS[P]
    Y[2::3] = st.alpha[cand]
    Y[3::3] = runs.bz[P]
    if nfs:
        Y[1:3, fs] = 0.0
    np.cumsum(Y, axis=0, out=Y)
    return p0, P, Y

class BacklogRuns:
    """Runs of backlog-LOCAL decisions, up to ``K`` images per device per numpy pass.

    For a kernel with ``backlog_local`` (Algorithm 3, lines 2 and 5 of the PicSys paper: the
    device runs the accelerated CNN while the uplink backlog ``l^t = max(0, uplink_free - t)``
    covers ``c_s + alpha``, and the expensive CNN on a positive while it covers ``beta``), a
    device whose head passes the line-2 test decides LOCAL without reading ``q_c`` or any other
    device's state, so it is not bound by the horizon. Its decision times are one running sum:
    image ``i`` starts at ``s_i``, its accelerated CNN ends at ``e_i = (s_i + c_s,i) + alpha``,
    the next image starts at ``s_{i+1} = e_i + beta z1_i`` (``+ 0.0`` is exact for a negative);
    its uplink free time before image ``i`` is ``u_i``, and an ``s-up`` (z1 = z2 = 1) uploads at
    ``s_{i+1}``: ``u_{i+1} = max(s_{i+1}, u_i) + tx_i``, which is ``u_i + tx_i`` while the backlog
    lasts (``u_i >= s_{i+1}``). ``np.cumsum`` over the increments ``(c_s,i, alpha, beta z1_i)``
    and ``(tx_i if s-up else 0)`` performs the reference's additions in its order, so every time
    is bit-identical. The run stops at the first failing test (line 2 at ``s_i``, or line 5 at
    ``e_i`` for a positive: the device is left at the filtering stage), after an ``s-up`` that
    finds the uplink idle (``s_{i+1} > u_i``: the ``max`` takes the other branch), at the
    device's last image, or after ``K`` images (``RUN_IMAGES``); the ordinary step decides what
    follows. A device left at the filtering stage whose line-5 test holds starts its run there
    (image 0's increments ``c_s, alpha`` are then 0.0: ``e_0 = tau`` exactly).
    """

    def __init__(self, st: BatchState, thr_init: np.ndarray, thr_filt: np.ndarray,
                 via: np.ndarray | None = None, K: int | None = None) -> None:
        M, W, K = st.M, st.W, int(RUN_IMAGES if K is None else K)
        self.K, self.via = K, via
        self.thr_filt = np.asarray(thr_filt, dtype=float)
        valid = st.valid
        z1 = st.Z1 == 1
        su = z1 & (st.Z2 == 1)
        # per flat position; every row ends with a padding slot whose line-2 threshold is inf,
        # so a run stops there and positions are clipped to the last slot (M W - 1, padding)
        self.last = M * W - 1
        self.thr = np.where(valid, thr_init, np.inf)          # line 2 fails past the last image
        self.bz = np.where(z1, np.repeat(st.beta, W), 0.0)    # beta z1 (the expensive CNN's time)
        self.txsu = np.where(su, st.TX, 0.0)                  # tx of an s-up
        self.code = (z1.view(np.int8) + 2 * su.view(np.int8))  # 1: positive, 3: s-up
        self.outs = np.where(z1, np.where(su, S_UP, S_DISC), F_DISC).astype(np.int8)
        self.cz1 = np.zeros(M * W + 1, dtype=np.int64)        # prefix counts of positives
        np.cumsum(z1, out=self.cz1[1:])
        self.AR = np.arange(K)

    def advance(self, st: BatchState, tau, soff, pos, out, comp, track_uplink: bool) -> None:
        """Take every device's backlog run (see the class docstring), in place."""
        ufree = st.ufree
        lt = np.maximum(0.0, ufree - tau)
        ini = soff == 0
        go = ini & (lt >= self.thr[pos])                      # line 2 holds at the head
        fgo = ~ini & (lt >= self.thr_filt)                    # at the filtering stage: line 5 holds
        if self.via is not None:
            fgo &= self.via
        cand = np.flatnonzero(go | fgo)
        n = len(cand)
        if not n:
            return
        fs = ~ini[cand]                                       # runs starting at the filtering stage
        nfs = cnz(fs)
        K = self.K
        K2, K3 = 2 * K, 3 * K
        # blocks are (image i of the run, device): the running sums go down axis 0, one
        # vector addition per step for all devices (np.cumsum: sequential, the loop's order)
        p0, P, Y = _run_sums(self, st, cand, tau, pos, fs, nfs)   # Y[3i] = s_i, Y[3i + 2] = e_i
        U = np.empty((K + 1, n))
        U[0] = ufree[cand]
        U[1:] = self.txsu[P]
        np.cumsum(U, axis=0, out=U)                            # U[i] = u_i while the backlog lasts
        code = self.code[P]
        z1 = code != 0
        su = code == 3
        S1 = Y[3::3]                                           # s_{i+1}
        E = Y[2::3]                                            # e_i
        # half-steps 2i (line 2 at s_i) and 2i + 1 (line 5 at e_i, positives only); the first
        # failing one ends the run
        stop = np.empty((K2 + 1, n), dtype=bool)
        stop[K2] = True
        si = stop[0:K2:2]
        Uk = U[:K]
        np.less(np.maximum(0.0, Uk - Y[0:K3:3]), self.thr[P], out=si)
        si[1:] |= su[:-1] & (S1[:-1] > U[:K - 1])             # an s-up that finds the uplink idle
        if nfs:
            si[0, fs] = False                                 # image 0's initial decision was taken
        sf = stop[1:K2:2]
        np.less(np.maximum(0.0, Uk - E), self.thr_filt[cand], out=sf)
        sf &= z1
        h = stop.argmax(axis=0)
        L = h >> 1                                             # images finished in the run
        half = h & 1                                           # 1: left at the filtering stage
        rows = np.arange(n)
        full = self.AR[:, None] < L
        C = np.where(z1, S1, E)                                # f-disc at e_i, s-disc at s_{i+1}
        ms = su & full
        nsu = ms.sum(axis=0)
        uend = U[L, rows]
        Lm1 = np.maximum(L - 1, 0)
        last = (L > 0) & su[Lm1, rows]
        if cnz(last):                                          # the last s-up: the reference's max
            lr = rows[last]
            lc = Lm1[last]
            uend[last] = np.maximum(S1[lc, lr], U[lc, lr]) + st.TX[P[lc, lr]]
        if cnz(nsu):
            D = U[1:].copy()                                   # u_{i+1}: the end of image i's upload
            D[Lm1, rows] = np.where(last, uend, D[Lm1, rows])
            C[ms] = D[ms]
            if track_uplink:
                uc = st.ucur[cand]
                st.UD[(uc + np.cumsum(ms, axis=0) - 1)[ms]] = D[ms]
                st.ucur[cand] = uc + nsu
            st.n_z2[cand] += nsu
            ufree[cand] = uend
        Pf = P[full]
        out[Pf] = self.outs[Pf]
        comp[Pf] = C[full]
        z1n = self.cz1[p0 + L] - self.cz1[p0]
        st.n_filtered[cand] += L + half - fs                   # (image 0 counted when its CNN started)
        st.n_z1[cand] += z1n + half - fs
        st.n_selected[cand] += z1n
        tau[cand] = Y[3 * L + 2 * half, rows]
        newp = p0 + L
        pos[cand] = newp
        soff[cand] = half * (st.M * st.W)
        if self.via is not None and cnz(half):
            self.via[cand[half == 1]] = True
        fin = newp >= st.endpos[cand]
        if cnz(fin):
            tau[cand[fin]] = np.inf


class KernelRuns:
    """Runs of certain-LOCAL decisions taken by the kernel itself, up to ``K`` images per device per pass.

    For a kernel with ``local_runs`` (``balance``) whose offload test only gets harder as
    ``q_c`` grows (``monotone_in_queue``): a LOCAL decided at a *lower* bound on ``q_c`` is the
    reference's decision, and the jobs known final give such a bound at any time, beyond the
    horizon too (:meth:`BatchState.cloud_queue`). So each device takes the decisions of its
    next ``K`` images *assuming* all of them are LOCAL, in one numpy pass: along that path its
    decision times, uplink free time and CNN counts are known in advance (the same running sums
    as :class:`BacklogRuns`: ``s_{i+1} = ((s_i + c_s,i) + alpha) + beta z1_i`` by ``np.cumsum``,
    and the uplink ``u_{i+1} = max(s_{i+1}, u_i) + tx_i`` after an ``s-up``, else ``u_i``, the
    reference's operations in its order). The kernel's ``local_certain`` evaluates every
    decision of that path (initial stage at ``s_i``, filtering stage at ``e_i = (s_i + c_s,i) +
    alpha`` for a positive) on the decisions of a ``(2 K, devices)`` block that exist; the
    device keeps the prefix up to the first decision that is not certainly LOCAL. That decision
    is taken as well when it is a certain OFFLOAD (``offload_certain``: exact before the
    horizon, whose arrivals are all known; beyond it, OFFLOAD even at ``q_c``'s upper bound);
    otherwise the device meets it again in the next pass. An OFFLOAD decided in the pass
    arrives at the cloud after the horizon, so it changes no ``q_c`` another device read in
    the same pass before the horizon. Each pass thus takes up to ``K`` LOCAL images and one
    OFFLOAD per device; the loop's rounds are bounded by the offloads of the busiest device
    rather than by its decisions, and each round makes ``CHAIN`` more passes over the devices
    that have just offloaded (``only``), with the same horizon (still valid: decisions only
    move the per-device bounds later).
    """

    def __init__(self, st: BatchState, K: int | None = None) -> None:
        M, W = st.M, st.W
        self.K = K = int(LOCAL_RUN_IMAGES if K is None else K)
        z1 = st.Z1 == 1
        su = z1 & (st.Z2 == 1)
        self.last = M * W - 1                                  # a padding slot (see BacklogRuns)
        self.pad = ~st.valid
        self.bz = np.where(z1, np.repeat(st.beta, W), 0.0)
        self.code = z1.view(np.int8) + 2 * su.view(np.int8)   # 1: positive, 3: s-up
        self.outs = np.where(z1, np.where(su, S_UP, S_DISC), F_DISC).astype(np.int8)
        self.cz1 = np.zeros(M * W + 1, dtype=np.int64)        # prefix counts of positives
        np.cumsum(z1, out=self.cz1[1:])
        self.csu = np.zeros(M * W + 1, dtype=np.int64)        # ... and of s-ups
        np.cumsum(su, out=self.csu[1:])
        self.AR = np.arange(K)

    def advance(self, st: BatchState, kernel, tau, soff, pos, out, comp, track_uplink: bool,
                H: float | None = None, only: np.ndarray | None = None) -> int:
        """Take every device's run (class docstring), in place; returns the cloud requests made
        and sets ``self.taken`` to the number of decisions taken. With the horizon ``H`` (its
        arrivals already known to ``st``, ``st.bj`` its per-device bounds) the decision that
        stops a run is also taken when it is a certain OFFLOAD (``kernel.offload_certain``:
        exact before ``H``, at ``q_c``'s upper bound beyond it), one per device per pass."""
        self.taken = 0
        self.offloaded = None
        cand = np.flatnonzero(tau < np.inf) if only is None else only[tau[only] < np.inf]
        n = len(cand)
        if not n:
            return 0
        K = self.K
        K2 = 2 * K
        fs = soff[cand] != 0                                   # runs starting at the filtering stage
        fsi = fs.view(np.int8).astype(np.int64)
        nfs = cnz(fs)
        p0, P, Y = _run_sums(self, st, cand, tau, pos, fs, nfs)   # Y[3i] = s_i, Y[3i + 2] = e_i
        S1 = Y[3::3]                                           # s_{i+1}
        code = self.code[P]
        z1 = code != 0
        su = code == 3
        TXP = st.TX[P]
        Uu = np.empty((K + 1, n))                              # u_i: uplink free before image i
        u = Uu[0] = st.ufree[cand]
        for i in range(K):                                     # the reference's max, then +
            u = Uu[i + 1] = np.where(su[i], np.maximum(S1[i], u) + TXP[i], u)
        # the 2 K decisions of the path: row 2i at s_i (initial), row 2i + 1 at e_i (filtering);
        # only those that exist: initial ones on real images (not image 0's when fs), filtering
        # ones of positives. Element (row r, device c) of w: image i = r >> 1, stage f = r & 1.
        c1 = self.cz1[P] - self.cz1[p0]                        # positives of the run before image i
        pad = self.pad[P]
        need = np.empty((K2, n), dtype=bool)
        np.logical_not(pad, out=need[0::2])
        if nfs:
            need[0, fs] = False
        need[1::2] = z1
        w = np.flatnonzero(need)
        r, c = np.divmod(w, n)
        f = r & 1
        ii = r >> 1
        ic = ii * n + c                                        # (image i, device c) in the (K, n) blocks
        c1e = c1.ravel()[ic]
        lw, aw = kernel.local_certain(
            st, cand[c], Y.ravel()[(3 * ii + 2 * f) * n + c], P.ravel()[ic], f.astype(bool), Uu.ravel()[ic],
            (st.n_z1[cand] - fsi)[c] + c1e + f, (st.n_filtered[cand] - fsi)[c] + ii + f,
            st.n_z2[cand][c] + (self.csu[P] - self.csu[p0]).ravel()[ic], st.n_selected[cand][c] + c1e)
        loc = np.ones(K2 * n, dtype=bool)
        loc[w] = lw
        loc = loc.reshape(K2, n)
        asked = np.zeros(K2 * n, dtype=bool)
        asked[w] = aw
        stop = np.empty((K2 + 1, n), dtype=bool)
        stop[K2] = True
        si = stop[0:K2:2]
        np.logical_or(~loc[0::2], pad, out=si)                 # not certainly LOCAL, or no image left
        if nfs:
            si[0, fs] = False                                 # image 0's initial decision was taken
        sf = stop[1:K2:2]
        np.logical_and(z1, ~loc[1::2], out=sf)
        h = stop.argmax(axis=0)
        L = h >> 1                                             # images finished in the run
        half = h & 1                                           # 1: left at the filtering stage
        # requests: every accepted decision (rows < h: initial ones but image 0's when fs,
        # filtering ones of positives) that asked for q_c
        take = np.arange(K2)[:, None] < h
        req = cnz(take & asked.reshape(K2, n))            # (asked is False where need is)
        rows = np.arange(n)
        full = self.AR[:, None] < L
        D = Uu[1:]
        C = np.where(z1, np.where(su, D, S1), Y[2::3])         # s-up at u_{i+1}, s-disc at s_{i+1}, f-disc at e_i
        Pf = P[full]
        out[Pf] = self.outs[Pf]
        comp[Pf] = C[full]
        ms = su & full
        nsu = ms.sum(axis=0)
        if track_uplink and cnz(nsu):
            uc = st.ucur[cand]
            st.UD[(uc + np.cumsum(ms, axis=0) - 1)[ms]] = D[ms]
            st.ucur[cand] = uc + nsu
        st.ufree[cand] = Uu[L, rows]
        newp = p0 + L
        c1L = self.cz1[newp] - self.cz1[p0]
        st.n_filtered[cand] += L + half - fsi                  # (image 0 counted when its CNN started)
        st.n_z1[cand] += c1L + half - fsi
        st.n_selected[cand] += c1L
        st.n_z2[cand] += nsu
        tau[cand] = Y[3 * L + 2 * half, rows]
        pos[cand] = newp
        soff[cand] = half * (st.M * st.W)
        self.taken = int(L.sum() + half.sum() + c1L.sum() - nfs)
        if H is not None:                                      # the stopping decision: a certain OFFLOAD?
            flat = h * n + rows
            dec = np.flatnonzero((h < K2) & ~loc.ravel()[np.minimum(flat, K2 * n - 1)])
            if dec.size:
                inv = np.empty(K2 * n, dtype=np.int64)
                inv[w] = np.arange(len(w))
                ok = kernel.offload_certain(st, inv[flat[dec]], H)
                dec = dec[ok]
            if dec.size:
                c, r = cand[dec], rows[dec]
                Lc, hc = L[dec], half[dec]
                pl = P[Lc, r]
                tu = tau[c]                                    # the stopping decision's time: s_L or e_L
                d = np.maximum(tu, st.ufree[c]) + st.TX[pl]
                st.ufree[c] = d
                if track_uplink:
                    uc = st.ucur[c]
                    st.UD[uc] = d
                    st.ucur[c] = uc + 1
                st._push(d, pl)
                out[pl] = np.where(hc == 1, F_OFF, I_OFF)
                newp[dec] = pl + 1
                pos[c] = pl + 1
                soff[c] = 0
                req += len(dec)
                self.taken += len(dec)
                self.offloaded = c
        fin = newp >= st.endpos[cand]
        if cnz(fin):
            tau[cand[fin]] = np.inf
        return req


def applicable(inst: PicsysInstance) -> bool:
    """Whether the batched loop covers ``inst`` (no energy data, every transfer time positive)."""
    if inst.has_energy or inst.n_devices == 0:
        return False
    # min tx = 8 min(B) / r: division by a positive rate is monotone, rounding too
    return all(d.n == 0 or 8.0 * float(np.min(d.size)) / d.rate > 0.0 for d in inst.devices)


def run_batched(inst: PicsysInstance, kernel: BatchKernel) -> SimResult:
    """Run the event loop with ``kernel`` deciding for many devices per step (module docstring)."""
    from .simulator import _result

    st = BatchState(inst)
    M, N, W = st.M, st.n_images, st.W
    MW = M * W
    uses_cloud = getattr(kernel, "uses_cloud", True)
    track_uplink = getattr(kernel, "uses_uplink_queue", True)
    # A kernel whose offload test only gets harder as q_c grows (``monotone_in_queue``) also
    # decides for devices beyond the horizon: the arrivals known final give a lower bound on
    # q_c (more arrivals only delay FIFO jobs), so a LOCAL there is final; an OFFLOAD is
    # discarded (no side effect: ``safe`` False) and decided again once the horizon passes.
    spec = bool(getattr(kernel, "monotone_in_queue", False))
    bl = getattr(kernel, "backlog_local", None)
    runs = BacklogRuns(st, *bl) if bl is not None else None
    kruns = KernelRuns(st) if spec and uses_cloud and getattr(kernel, "local_runs", False) else None
    tau = np.where(N > 0, 0.0, np.inf)
    soff = np.zeros(M, dtype=np.int64)               # 0: initial decision due; M W: accelerated CNN ends at tau
    pos = st.base.copy()                             # flat index of each device's head image
    endpos = st.endpos
    out = np.full(MW, -1, dtype=np.int8)
    comp = np.full(MW, np.nan)
    CS, TX, Z1, Z2, txmin, bound = st.CS, st.TX, st.Z1, st.Z2, st.txmin, st.bound
    alpha, beta, ufree, UD, ucur = st.alpha, st.beta, st.ufree, st.UD, st.ucur
    nfilt, nz1, nsel, nz2 = st.n_filtered, st.n_z1, st.n_selected, st.n_z2
    requests = 0
    push = st._push
    C_OFF = np.array([I_OFF, F_OFF], dtype=np.int8)      # by filtering stage
    C_SEL = np.array([S_DISC, S_UP], dtype=np.int8)      # by z2

    def upload(um: np.ndarray, up: np.ndarray, tu: np.ndarray) -> np.ndarray:
        """Images ``up`` of devices ``um`` join their FIFO uplinks at ``tu``: the end of each upload."""
        d = np.maximum(tu, ufree[um]) + TX[up]
        ufree[um] = d
        if track_uplink:
            uc = ucur[um]
            UD[uc] = d
            ucur[um] = uc + 1
        return d

    while True:
        if runs is not None:                         # backlog-LOCAL runs first: H only grows
            runs.advance(st, tau, soff, pos, out, comp, track_uplink)
        if kruns is not None:                        # runs of the kernel's certain decisions (balance)
            st.btx = txmin[pos]
            st.bj = bj = np.maximum(tau + bound[pos + soff], ufree + st.btx)
            st.horizon = H = float(bj.min())
            requests += kruns.advance(st, kernel, tau, soff, pos, out, comp, track_uplink, H)
            if kruns.taken:
                for _ in range(CHAIN):
                    if kruns.offloaded is None:
                        break
                    requests += kruns.advance(st, kernel, tau, soff, pos, out, comp, track_uplink, H,
                                              kruns.offloaded)
                continue
            if not np.isfinite(tau).any():
                break
        if uses_cloud:
            st.btx = txmin[pos]
            st.bj = bj = np.maximum(tau + bound[pos + soff], ufree + st.btx)
            H = float(bj.min())
            act = np.flatnonzero(tau < (np.inf if spec else H))
        else:
            H = np.inf
            act = np.flatnonzero(tau < H)
        if not act.size:
            if not np.isfinite(tau).any():
                break
            act = np.array([int(np.argmin(tau))])   # pragma: no cover - needs a transfer time absorbed by rounding
            H = max(H, float(tau[act[0]]) + 1e-300)
        st.horizon = H
        p = pos[act]
        t = tau[act]
        filt = soff[act] != 0
        if spec and uses_cloud:
            safe = t < H
            off, req = kernel.decide(st, act, t, p, filt, safe)
            acc = safe | ~off                        # beyond H only LOCAL is certain (see below)
            if cnz(acc) < len(acc):
                act, p, t, filt, off, req = act[acc], p[acc], t[acc], filt[acc], off[acc], req[acc]
                if not act.size:
                    continue
        else:
            off, req = kernel.decide(st, act, t, p, filt)
        requests += cnz(req)
        loc = ~off
        fl = filt & loc
        if cnz(fl):                                  # expensive CNN, ends at t + beta
            fm, fp = act[fl], p[fl]
            t2 = t[fl] + beta[fm]
            z2 = Z2[fp] == 1
            nsel[fm] += 1
            nz2[fm] += z2
            out[fp] = C_SEL[z2.view(np.uint8)]
            tau[fm] = t2
            nz = ~z2
            comp[fp[nz]] = t2[nz]
            if cnz(z2):                              # s-up: upload, completes there
                up = fp[z2]
                comp[up] = upload(fm[z2], up, t2[z2])
        if cnz(off):                                 # i-off / f-off: upload, then the cloud
            up = p[off]
            out[up] = C_OFF[filt[off].view(np.uint8)]
            push(upload(act[off], up, t[off]), up)
        il = ~filt & loc
        adv = filt | off
        if cnz(il):                                  # scale + accelerated CNN, ends at t + c_s + alpha
            lm, lp = act[il], p[il]
            tend = t[il] + CS[lp] + alpha[lm]
            tau[lm] = tend
            z1 = Z1[lp]
            nfilt[lm] += 1                           # seen only by this device's next decision,
            nz1[lm] += z1                            # which comes after tend (the reference's order)
            neg = z1 == 0
            if cnz(neg):                             # f-disc at tend: no decision, the next image is due
                dp = lp[neg]
                out[dp] = F_DISC
                comp[dp] = tend[neg]
                adv[il] = neg
            soff[act] = (il & ~adv) * MW
        else:
            soff[act] = 0
        newp = p + adv
        pos[act] = newp
        fin = newp >= endpos[act]
        if cnz(fin):                                 # no image left: the device is done
            tau[act[fin]] = np.inf
    st._settle(np.inf)
    n = st.njobs
    cdone = 0.0
    if n:
        comp[st.job_pos[:n]] = st.done[:n]
        cdone = max(0.0, float(st.done[:n].max()))
    out2, comp2 = out.reshape(M, W), comp.reshape(M, W)
    outcomes = [out2[m, :N[m]].copy() for m in range(M)]
    completion = [comp2[m, :N[m]].copy() for m in range(M)]
    return _result(inst, outcomes, completion, cdone, np.zeros(M), requests=requests)
