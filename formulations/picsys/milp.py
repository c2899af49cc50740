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
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from optoffload.picsys import bounds as B
from optoffload.picsys.model import SKIPPED

from .common import Prepared


class BuildTimeout(Exception):
    """The model could not be built before the time limit."""


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
    cons: dict[str, list[tuple[dict[int, float], str, float]]] = field(default_factory=dict)
    """Group name -> list of (coefs, sense '<=' '>=' '==', rhs)."""
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
        self.cons.setdefault(group, []).append(({k: float(v) for k, v in coefs.items() if v != 0}, sense, float(rhs)))

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
    c, S = inst.c_u, inst.servers
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
    c, S = inst.c_u, inst.servers
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
    tot = inst.c_u * inst.n_images
    for dev in inst.devices:
        tot += float(np.sum(dev.c_s + dev.alpha + dev.beta + dev.tx))
    return tot


def warm_values(lm: LinModel, prep: Prepared, plan: list[np.ndarray]) -> dict[int, float]:
    """A complete feasible assignment of the MILP for ``plan`` (simulator timing, FIFO cloud)."""
    inst = prep.inst
    c, S = inst.c_u, inst.servers
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
