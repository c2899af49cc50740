"""The PicSys MILP (PicSys seed, section 5.1 eqs. (1)-(10); 5.3 eqs. (15)-(16)), backend-neutral.

The paper notes that its formulation is non-linear (queueing delays ``l^t``,
``l^q`` depend on earlier decisions). Linearised here with big-M constraints
whose M is the horizon ``H`` (the warm-start makespan, a valid upper bound on
the optimum since ``T <= H`` is imposed). Variables, per device ``m`` and image
``i`` (queue order):

``y[m,i,k]``  binary, outcome ``k`` among the allowed ones (constraints (2)-(8))
``E[m,i]``    CPU end: ``E_i = E_{i-1} + sum_k cpu_k y_k`` (eq. 9, no idling)
``W[m,i]``    uplink free time after image ``i``: ``W_i >= W_{i-1} + tx_i u_i`` and
              ``W_i >= E_i + tx_i u_i - Emax_i (1 - u_i)`` with ``u_i`` = sum of
              uploading outcomes: the upload of ``i`` ends at ``W_i`` (FIFO in queue order)
``s[m,i]``    cloud start of an offloaded image (``o_i`` = sum of offloading outcomes):
              ``s_i >= W_i - H (1 - o_i)``
``V[m,i]``    latest cloud start among the device's offloads up to ``i`` (``-c_u`` before
              the first when ``S = 1``, else 0): same-device offloads keep queue order,
              ``c_u`` apart when ``S = 1`` (FIFO does this)
``b[j,k]``    binary, cloud order of two offloads of different devices (``S = 1``: the
              classic disjunctive pair); with ``S >= 2`` also ``g[j,q]``, the server
              ``q`` of offload ``j``, and the pair constraints apply on a shared server
``T``         makespan: ``T >= E_last, W_last`` per device and ``T >= s_i + c_u`` for
              every offload (eq. 1); ``LB <= T <= H``.

Energy (eq. 15): ``sum e_{i,k} y_{i,k} <= a_m`` per device with eq. (16)
coefficients; mode ``max-processed``: a ``skip`` outcome and
``sum_{i,k != skip} y = P_m`` per device.

As in the CP-SAT model, waiting is allowed and never helps (all completion
times are monotone), and the cloud may be ordered freely (FIFO is optimal for
identical ``c_u``), so the MILP optimum equals the simulator's optimum.
Throughout, ``c_u`` is the cloud time per image ``inst.cloud_time = c_u + c_step``
(the optional cloud-side step of issue #13, identical for every image).
"""

from __future__ import annotations

import contextlib
import gc
import time
from dataclasses import dataclass, field

import numpy as np

from optoffload.picsys import bounds as B
from optoffload.picsys.model import SKIPPED

from .common import Prepared


class BuildTimeout(Exception):
    """The model could not be built before the time limit."""


class NoTimeToLaunch(Exception):
    """A solver process would start with less than :data:`MIN_SOLVE` seconds (it is not started:
    CBC launched with a few milliseconds left crashed, issue #14 item 4). Caught by the backends."""


class Rows:
    """One constraint group stored flat (column ids, coefficients, row lengths, senses, right-hand
    sides in ``array`` buffers: 12 bytes per nonzero instead of a dict per row).

    Iterating yields ``(coefs: dict, sense, rhs)`` per row as before; :func:`to_arrays` reads the
    buffers directly. The dict-per-row layout made a 20 x 1,000 model (4.8 M nonzeros) take
    2.5 GB (issue #14, item 3; measured in docs/picsys-exact.md).
    """

    __slots__ = ("keys", "vals", "lens", "senses", "rhs")
    SENSES = ("<=", ">=", "==")

    def __init__(self):
        from array import array

        self.keys, self.vals, self.lens = array("q"), array("d"), array("q")
        self.senses, self.rhs = bytearray(), array("d")

    def append(self, row: tuple) -> None:
        coefs, sense, rhs = row
        n = 0
        for k, v in coefs.items():
            if v != 0:
                self.keys.append(k)
                self.vals.append(v)
                n += 1
        self.lens.append(n)
        self.senses.append(self.SENSES.index(sense))
        self.rhs.append(float(rhs))

    def __len__(self) -> int:
        return len(self.lens)

    def __iter__(self):
        a = 0
        keys, vals = self.keys, self.vals
        for n, sn, r in zip(self.lens, self.senses, self.rhs):
            yield dict(zip(keys[a:a + n], vals[a:a + n])), self.SENSES[sn], r
            a += n

    def __getitem__(self, i: int) -> tuple:
        if i < 0:
            i += len(self)
        a = int(sum(self.lens[:i]))
        n = self.lens[i]
        return dict(zip(self.keys[a:a + n], self.vals[a:a + n])), self.SENSES[self.senses[i]], self.rhs[i]

    @property
    def nnz(self) -> int:
        return len(self.keys)


@dataclass
class LinModel:
    """A MILP as plain data: variables by (group, index), constraints as coefficient dicts."""

    groups: dict[str, list[tuple]] = field(default_factory=dict)
    """Group name -> list of index tuples (in creation order)."""
    var_id: dict[tuple, int] = field(default_factory=dict)
    """(group, index) -> column."""
    lb: list[float] = field(default_factory=list)
    ub: list[float] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)
    """'B' binary, 'C' continuous."""
    cons: dict[str, Rows] = field(default_factory=dict)
    """Group name -> rows (iterate: (coefs, sense '<=' '>=' '==', rhs)); see :class:`Rows`."""
    objective: int = -1
    y: list[list[dict[int, int]]] = field(default_factory=list)
    """y[m][i][k] -> column of the outcome binary."""

    def var(self, group: str, idx: tuple, lb: float, ub: float, kind: str = "C") -> int:
        key = (group, idx)
        self.var_id[key] = j = len(self.lb)
        self.groups.setdefault(group, []).append(idx)
        self.lb.append(float(lb))
        self.ub.append(float(ub))
        self.kind.append(kind)
        return j

    def add(self, group: str, coefs: dict[int, float], sense: str, rhs: float) -> None:
        rows = self.cons.get(group)
        if rows is None:
            rows = self.cons[group] = Rows()
        rows.append((coefs, sense, rhs))

    @property
    def n_vars(self) -> int:
        return len(self.lb)

    @property
    def n_cons(self) -> int:
        return sum(len(v) for v in self.cons.values())


def _acc(d: dict[int, float], j: int, v: float) -> None:
    d[j] = d.get(j, 0.0) + v


def build(prep: Prepared) -> LinModel:
    """The MILP of the module docstring for a prepared instance (raises BuildTimeout)."""
    inst = prep.inst
    c, S = inst.cloud_time, inst.servers
    H = prep.warm_value * (1 + 1e-9) + 1e-9 if prep.warm_value is not None else _sum_durations(inst)
    lm = LinModel()
    T = lm.var("T", (), max(0.0, prep.lower * (1 - 1e-12) - 1e-12), H)  # float slack on the DP bound
    lm.objective = T
    offloads: list[tuple[int, int, int, dict[int, float]]] = []  # (m, i, s column, o coefs)
    for m, dev in enumerate(inst.devices):
        ym = []
        E_prev = W_prev = V_prev = None
        Emax = 0.0
        proc: dict[int, float] = {}
        energy: dict[int, float] = {}
        for i in range(dev.n):
            if prep.deadline is not None and time.perf_counter() > prep.deadline:
                raise BuildTimeout
            opts = prep.options(m, i)
            yi = {k: lm.var("y", (m, i, k), 0, 1, "B") for k in opts}
            ym.append(yi)
            lm.add("one_outcome", {j: 1 for j in yi.values()}, "==", 1)
            cpu = {k: B.cpu_time(dev, i, k) for k in opts}
            Emax += max(cpu.values())
            E = lm.var("E", (m, i), 0, min(Emax, H))
            coefs = {E: 1.0}
            if E_prev is not None:
                coefs[E_prev] = -1.0
            for k, j in yi.items():
                _acc(coefs, j, -cpu[k])
            lm.add("cpu_chain", coefs, "==", 0)
            tx = float(dev.tx[i])
            u = {yi[k]: 1.0 for k in opts if B.UPLOADS[k]}
            o = {yi[k]: 1.0 for k in opts if B.OFFLOADS[k]}
            always = len(u) == len(yi)
            W = lm.var("W", (m, i), 0, H)
            # W_i >= W_{i-1} + tx u_i
            coefs = {W: 1.0}
            if W_prev is not None:
                coefs[W_prev] = -1.0
            for j in u:
                _acc(coefs, j, -tx)
            lm.add("uplink_fifo", coefs, ">=", 0)
            # W_i >= E_i + tx u_i - Emax_i (1 - u_i)
            coefs = {W: 1.0, E: -1.0}
            if always:
                lm.add("uplink_after_cpu", coefs, ">=", tx)
            else:
                for j in u:
                    _acc(coefs, j, -(tx + Emax))
                lm.add("uplink_after_cpu", coefs, ">=", -Emax)
            if o:
                s = lm.var("s", (m, i), 0, max(0.0, H - c))
                lm.add("cloud_after_upload", {s: 1.0, W: -1.0, **{j: -H for j in o}}, ">=", -H)
                lm.add("makespan_cloud", {T: 1.0, s: -1.0, **{j: -H for j in o}}, ">=", c - H)
                gap = c if S == 1 else 0.0
                if V_prev is not None:
                    lm.add("cloud_queue_order", {s: 1.0, V_prev: -1.0, **{j: -H for j in o}}, ">=", gap - H)
                V = lm.var("V", (m, i), -gap, H)  # -gap: no offload yet
                if V_prev is not None:
                    lm.add("cloud_last_start", {V: 1.0, V_prev: -1.0}, ">=", 0)
                lm.add("cloud_last_start", {V: 1.0, s: -1.0, **{j: -H for j in o}}, ">=", -H)
                V_prev = V
                offloads.append((m, i, s, o))
            if SKIPPED in yi:
                for k, j in yi.items():
                    if k != SKIPPED:
                        proc[j] = 1.0
            if inst.enforce_energy:
                for k, j in yi.items():
                    energy[j] = B.image_energy_of(dev, i, k)
            E_prev, W_prev = E, W
        if dev.n:
            lm.add("makespan_cpu", {T: 1.0, E_prev: -1.0}, ">=", 0)
            lm.add("makespan_uplink", {T: 1.0, W_prev: -1.0}, ">=", 0)
        if proc:
            lm.add("processed", proc, "==", prep.targets[m])
        if inst.enforce_energy and dev.n:
            lm.add("energy_budget", energy, "<=", B.energy_threshold(dev.energy.budget))
        lm.y.append(ym)
    _cloud_pairs(lm, prep, offloads, H)
    return lm


def _cloud_pairs(lm: LinModel, prep: Prepared, offloads: list, H: float) -> None:
    inst = prep.inst
    c, S = inst.cloud_time, inst.servers
    if S > 1:
        g = {}
        for n, (m, i, s, o) in enumerate(offloads):
            g[n] = [lm.var("g", (m, i, q), 0, 1, "B") for q in range(S)]
            lm.add("one_server", {**{j: 1.0 for j in g[n]}, **{j: -1.0 for j in o}}, "==", 0)
    for a in range(len(offloads)):
        if prep.deadline is not None and time.perf_counter() > prep.deadline:
            raise BuildTimeout
        ma, ia, sa, oa = offloads[a]
        for bb in range(a + 1, len(offloads)):
            mb, ib, sb, ob = offloads[bb]
            if ma == mb and S == 1:
                continue  # queue order on the device's chain (cloud_queue_order)
            both = {}
            for j in oa:
                _acc(both, j, -H)
            for j in ob:
                _acc(both, j, -H)
            if ma == mb:
                order = None  # same device: a before b (FIFO keeps queue order)
            else:
                order = lm.var("b", (ma, ia, mb, ib), 0, 1, "B")
            servers = [None] if S == 1 else list(range(S))
            for q in servers:
                share = dict(both) if q is None else {g_a: -H for g_a in [lm.var_id[("g", (ma, ia, q))]]}
                if q is not None:
                    share[lm.var_id[("g", (mb, ib, q))]] = -H
                rhs_extra = 2 * H
                # b before: s_b >= s_a + c - H (1 - order) - H (2 - presence)
                co = {sb: 1.0, sa: -1.0, **share}
                if order is not None:
                    _acc(co, order, -H)
                    lm.add("cloud_disjunctive", co, ">=", c - H - rhs_extra)
                    co = {sa: 1.0, sb: -1.0, **share}
                    _acc(co, order, H)
                    lm.add("cloud_disjunctive", co, ">=", c - rhs_extra)
                else:
                    lm.add("cloud_disjunctive", co, ">=", c - rhs_extra)


def _sum_durations(inst) -> float:
    tot = inst.cloud_time * inst.n_images
    for dev in inst.devices:
        tot += float(np.sum(dev.c_s + dev.alpha + dev.beta + dev.tx))
    return tot


def warm_values(lm: LinModel, prep: Prepared, plan: list[np.ndarray]) -> dict[int, float]:
    """A complete feasible assignment of the MILP for ``plan`` (simulator timing, FIFO cloud)."""
    inst = prep.inst
    c, S = inst.cloud_time, inst.servers
    val: dict[int, float] = {}
    arrivals = []
    span = 0.0
    for m, (dev, codes) in enumerate(zip(inst.devices, plan)):
        E = W = 0.0
        for i, k in enumerate(codes):
            for kk in prep.options(m, i):
                val[lm.var_id[("y", (m, i, kk))]] = float(kk == k)
            E += B.cpu_time(dev, i, int(k))
            if B.UPLOADS[k]:
                W = max(W, E) + float(dev.tx[i])
                if B.OFFLOADS[k]:
                    arrivals.append((W, m, i))
            val[lm.var_id[("E", (m, i))]] = E
            val[lm.var_id[("W", (m, i))]] = W
        span = max(span, E, W)
    arrivals.sort()
    start = {}
    server = {}
    free = [0.0] * S
    for a, m, i in arrivals:
        q = min(range(S), key=free.__getitem__)
        start[(m, i)] = st = max(free[q], a)
        server[(m, i)] = q
        free[q] = st + c
        span = max(span, free[q])
    for m, dev in enumerate(inst.devices):
        V = -c if S == 1 else 0.0
        for i in range(dev.n):
            key = ("s", (m, i))
            if key not in lm.var_id:
                continue
            st = start.get((m, i), 0.0)
            val[lm.var_id[key]] = st
            if (m, i) in start:
                V = max(V, st)
            val[lm.var_id[("V", (m, i))]] = V
            if S > 1:
                for q in range(S):
                    val[lm.var_id[("g", (m, i, q))]] = float(server.get((m, i)) == q)
    for idx in lm.groups.get("b", []):
        ma, ia, mb, ib = idx
        sa, sb = start.get((ma, ia)), start.get((mb, ib))
        val[lm.var_id[("b", idx)]] = float(sa is None or sb is None or sa <= sb)
    val[lm.objective] = span
    # rounding can put a value a few ulps outside its bounds; clamp (solvers reject such hints)
    return {j: min(max(v, lm.lb[j]), lm.ub[j]) for j, v in val.items()}


def decode(lm: LinModel, x: dict[int, float] | list | np.ndarray) -> list[np.ndarray]:
    """Outcome plan from column values (the largest ``y`` of each image)."""
    plan = []
    for ym in lm.y:
        codes = np.empty(len(ym), dtype=np.int8)
        for i, yi in enumerate(ym):
            codes[i] = max(yi, key=lambda k: (x[yi[k]] if x[yi[k]] is not None else -1.0))
        plan.append(codes)
    return plan


# ----------------------------------------------------------------------------- size, flat arrays, time budget

def nonzeros_lower(prep: Prepared) -> int:
    """A lower bound on the nonzeros of :func:`build`, in O(devices): every image has at least the
    ``one_outcome``, ``cpu_chain``, ``uplink_fifo`` and ``uplink_after_cpu`` rows, with at least 1, 1,
    1 and 2 nonzero coefficients (``E``, ``W`` and ``E`` in the last; zeros are dropped), 5 in
    all. Checked before :func:`estimate_size`, whose O(images) Python loop took 10 s at 2.5 M
    images: a model whose lower bound already does not fit is skipped at once."""
    return 5 * prep.inst.n_images


def estimate_size(prep: Prepared) -> tuple[int, int, int]:
    """(columns, rows, nonzeros) that :func:`build` would create, computed from counts only.

    Mirrors :func:`build` and :func:`_cloud_pairs` row by row, but counts a
    coefficient even when it is zero (``LinModel.add`` drops those), so the
    nonzero count is an upper estimate. Costs O(images) whatever the number of
    cloud pairs, which is what makes the model quadratic in the images.
    """
    inst = prep.inst
    S = inst.servers
    cols = 1
    rows = nnz = 0
    per_dev = []  # per device: list of |o| of its offload-capable images
    for m, dev in enumerate(inst.devices):
        offs = []
        for i in range(dev.n):
            opts = prep.options(m, i)
            k = len(opts)
            u = sum(1 for q in opts if q != SKIPPED and B.UPLOADS[q])
            o = sum(1 for q in opts if q != SKIPPED and B.OFFLOADS[q])
            first = i == 0
            cols += k + 2
            rows += 4
            nnz += k + (1 + (not first) + k) + (1 + (not first) + u) + (2 + (0 if u == k else u))
            if o:
                first_off = not offs
                cols += 2
                rows += 3 + 2 * (not first_off)
                nnz += 3 * (2 + o) + (not first_off) * ((2 + o) + 2)
                offs.append(o)
        if dev.n:
            rows += 2
            nnz += 4
        if prep.skip and prep.targets[m] < dev.n:
            rows += 1
            nnz += dev.n * 2
        if inst.enforce_energy and dev.n:
            rows += 1
            nnz += sum(len(prep.options(m, i)) for i in range(dev.n))
        per_dev.append(offs)
    n_off = sum(len(o) for o in per_dev)
    sum_o = sum(sum(o) for o in per_dev)
    same = sum(len(o) * (len(o) - 1) // 2 for o in per_dev)
    pairs = n_off * (n_off - 1) // 2
    diff = pairs - same
    # sum over pairs of different devices of |o_a| + |o_b|: each offload is in n_off - (its device's count) pairs
    o_diff = sum(sum(o) * (n_off - len(o)) for o in per_dev)
    if S == 1:
        cols += diff
        rows += 2 * diff
        nnz += 2 * (3 * diff + o_diff)
    else:
        cols += S * n_off
        rows += n_off
        nnz += n_off * S + sum_o
        cols += diff
        rows += S * (2 * diff + same)
        nnz += S * (2 * diff * 5 + same * 4)
    return cols, rows, nnz


def nonzeros(lm: LinModel) -> int:
    """Stored coefficients of ``lm``."""
    return sum(rows.nnz for rows in lm.cons.values())


def to_arrays(lm: LinModel, deadline: float | None = None):
    """``lm`` as flat arrays: (row_lower, row_upper, start, index, value) row-wise, in ``lm.cons`` order.

    Raises :class:`BuildTimeout` past ``deadline`` (checked once: the rows are already flat
    buffers, see :class:`Rows`, so this is a few numpy concatenations).
    """
    inf = float("inf")
    if deadline is not None and time.perf_counter() > deadline:
        raise BuildTimeout
    groups = list(lm.cons.values())
    sense = np.concatenate([np.frombuffer(bytes(r.senses), dtype=np.uint8) for r in groups]) if groups \
        else np.zeros(0, np.uint8)
    rhs = np.concatenate([np.frombuffer(r.rhs, dtype=np.float64) for r in groups]) if groups else np.zeros(0)
    lo = np.where(sense == 0, -inf, rhs)
    hi = np.where(sense == 1, inf, rhs)
    lengths = np.concatenate([np.frombuffer(r.lens, dtype=np.int64) for r in groups]) if groups \
        else np.zeros(0, np.int64)
    start = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=start[1:])
    index = np.concatenate([np.frombuffer(r.keys, dtype=np.int64) for r in groups]).astype(np.int32) if groups \
        else np.zeros(0, dtype=np.int32)
    value = np.concatenate([np.frombuffer(r.vals, dtype=np.float64) for r in groups]) if groups \
        else np.zeros(0, dtype=np.float64)
    return lo, hi, start, index, value


SEC_PER_NZ = {
    "build": 0.3e-6,          # build(): Python dicts (checks the deadline)
    "arrays": 0.13e-6,        # to_arrays() (checks the deadline)
    "highs-pass": 0.03e-6,    # highspy passModel (C++, not interruptible)
    "to-pyomo": 1.6e-6,       # to_pyomo() (checks the deadline)
    "appsi-load": 6.5e-6,     # appsi Highs.set_instance: Pyomo expressions into HiGHS (not interruptible)
    "lp-write": 2.2e-6,       # Pyomo's LP writer inside SolverFactory(...).solve (not interruptible)
    "to-pulp": 1.7e-6,        # to_pulp() (checks the deadline)
    "mps-write": 2.2e-6,      # PuLP's writeMPS inside prob.solve (not interruptible)
    "cbc-read": 3.0e-6,       # CBC reading an LP/MPS file and setting up (not interruptible)
    "highs-presolve": 0.6e-6,  # HiGHS checks its time limit only between presolve passes (overran by 0.8 s)
}
"""Seconds per model nonzero of each stage before a MILP solver starts searching.

Measured on the development machine (2 cores, ``/tmp`` on local disk) with
instances of the ``large`` preset, 200-600 images (0.2-1.7 M nonzeros), with the garbage
collector paused (:func:`no_gc`); see
docs/picsys-exact.md, "Time limits". :class:`Clock` rescales them by the
speed of :func:`build` measured on the instance being solved.
"""

@contextlib.contextmanager
def no_gc():
    """Pause Python's cyclic garbage collector (restored on exit).

    Building a model allocates millions of small dicts, tuples and Pyomo/PuLP
    objects and no garbage cycles; every allocation burst triggers a full
    traversal of the growing heap, which made :func:`build` and the
    translations about 3x slower (measured: ``build`` 1.45 s -> 0.50 s,
    ``to_pyomo`` 8.1 s -> 2.9 s at 600 images).
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


MIN_SOLVE = 0.05
"""Seconds a solver must have left after loading for the load to be worth it."""

BYTES_PER_NZ = 420
"""Peak resident bytes per model nonzero of a MILP method: about 60 for :func:`build` and
:func:`to_arrays`, 360 for HiGHS (presolve and MIP set-up). Measured at 20 x 1,000 images
(4.8 M nonzeros): 330 MB after the build, 2.1 GB peak (docs/picsys-exact.md, "Memory")."""

MEMORY_MB_DEFAULT = 600
"""Memory budget (MB) of a MILP model under a time limit when the option ``memory_mb`` is not
given. HiGHS's presolve and MIP set-up on larger models do not check the time limit often
enough (20 x 1,000 images, 60 s limit: 30 s of presolve, then more than 60 s before the first
check), so a model over this budget is not built and the warm start is returned."""


def memory_budget(prep: Prepared, memory_mb) -> float | None:
    """Bytes a model may take: ``memory_mb`` MB; ``None`` means :data:`MEMORY_MB_DEFAULT` under a
    time limit and no budget without one; ``0`` means no budget."""
    from optoffload.errors import InvalidInstance

    if memory_mb is None:
        return None if prep.deadline is None else MEMORY_MB_DEFAULT * 1e6
    if isinstance(memory_mb, bool) or not isinstance(memory_mb, (int, float)) or not memory_mb >= 0 \
            or memory_mb == float("inf"):
        raise InvalidInstance("memory_mb", f"must be a finite number >= 0 (0: no budget), got {memory_mb!r}")
    return None if memory_mb == 0 else float(memory_mb) * 1e6


class Clock:
    """Charges model building and loading against a prepared time limit.

    ``fits(nnz, stages)``: whether ``stages`` (keys of :data:`SEC_PER_NZ`) for a model with ``nnz``
    nonzeros, plus :data:`MIN_SOLVE`, are expected to end before the deadline (always True without a
    limit). ``calibrate`` rescales the rates by how fast :func:`build` ran here (never below half
    the table's speed, never above four times it, and only when the build took 50 ms or more).
    """

    def __init__(self, prep: Prepared, memory: float | None = None):
        self.prep = prep
        self.speed = 1.0
        self.estimates: dict[str, float] = {}
        self.memory = memory
        """Bytes the model may take (:func:`memory_budget`), None for no budget."""
        self.over_memory: str | None = None

    def cost(self, nnz: int, stages) -> float:
        return self.speed * nnz * sum(SEC_PER_NZ[s] for s in stages)

    def calibrate(self, seconds: float, nnz: int) -> None:
        if seconds >= 0.05 and nnz > 0:
            self.speed = min(4.0, max(0.5, seconds / (nnz * SEC_PER_NZ["build"])))

    def fits(self, nnz: int, stages, label: str) -> bool:
        if self.memory is not None and nnz * BYTES_PER_NZ > self.memory:
            self.estimates[label] = self.cost(nnz, stages)
            self.over_memory = (f"estimated {nnz * BYTES_PER_NZ / 1e6:.0f} MB ({BYTES_PER_NZ} B per nonzero) over "
                                f"the memory budget of {self.memory / 1e6:.0f} MB (option memory_mb)")
            return False
        if self.prep.deadline is None:
            return True
        need = self.cost(nnz, stages)
        self.estimates[label] = need
        return need + MIN_SOLVE <= self.prep.remaining(0.0)


def load_skipped(prep: Prepared, method: str, info: dict, clock: "Clock", nnz: int, when: str):
    """The Solution of a MILP whose build/load cannot fit in the time left: the warm start (or
    nothing) with the presolve bound, and the estimate in ``info``."""
    from .common import skipped_solution

    need = clock.estimates[when]
    left = max(0.0, prep.remaining(0.0) or 0.0)
    note = (f"not solved: building/loading the model ({nnz} nonzeros) was estimated at {need:.2f} s {when} "
            f"with {left:.2f} s of the time limit left")
    if clock.over_memory:
        note = f"not solved: the model ({nnz} nonzeros) was {clock.over_memory}"
    return skipped_solution(prep, method, native="memory-skipped" if clock.over_memory else "load-skipped",
                            info={**info, "load_estimates_s": {k: round(v, 4) for k, v in clock.estimates.items()}},
                            note=note)
