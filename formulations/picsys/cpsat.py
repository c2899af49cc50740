"""PicSys offline optimum with OR-Tools CP-SAT (PicSys seed, section 5.1, eqs. (1)-(10); 5.3, eqs. (15)-(16)).

The model is the flexible flow shop of ``shared/design/picsys.md`` with
optional tasks:

* one Boolean per image and allowed outcome (the paper's ``x1..x5``,
  constraints (2)-(8) reduce to "exactly one allowed outcome");
* the device CPU chain without idling (eq. 9): ``E_i = E_{i-1} + cpu_i``;
* per device, an optional upload interval per image (present iff the outcome
  uploads) starting no earlier than ``E_i`` and than the end ``W_{i-1}`` of the
  previous upload: the uplink serves the queue in order (a FIFO; letting the
  solver reorder uploads could beat FIFO, so the order is fixed);
* the cloud: an optional interval of length ``c_u`` per offloaded image after
  its upload, on ``S`` servers (``NoOverlap`` for ``S = 1``, else the model of
  "Several cloud servers" below). The solver may order the cloud freely:
  with identical ``c_u`` FIFO is makespan-optimal, so the optimum equals the
  simulator's FIFO. Same-device offloads keep queue order (FIFO does).
  ``c_u`` is ``inst.cloud_time = c_u + c_step`` (cloud-side step, issue #13);
* ``T >= E_last, W_last`` and every cloud end: the makespan (eq. 1);
* energy (eq. 15): ``sum_i E_i <= a_m`` per device, eq. (16) per outcome;
  mode ``max-processed``: a ``skip`` outcome and ``#processed_m = P_m``, the
  per-device maximum (a unit-value knapsack, solved exactly before).

Waiting (a later upload or cloud start than the earliest) is allowed in the
model; it never helps because every completion time is monotone in the
others, so the model optimum equals the simulator's optimum, and the plan
decoded from any solution replays to at most the model's makespan.

Several cloud servers (``S > 1``, issue #15)
--------------------------------------------
A ``Cumulative`` of capacity ``S`` propagates weakly: tiny cloud-bound
instances (8-12 images, 2-3 servers) stayed unproven after minutes. Option
``cloud`` (default ``"auto"``: ``"servers+lag"`` up to :data:`AUTO_SERVERS_MAX_JOBS`
potential cloud jobs, ``"cumulative+lag"`` beyond) combines, with ``+``:

* ``servers``: ``S`` explicit machines. Each cloud job ``j`` (fixed order:
  device, then queue) has one Boolean ``x_js`` per server, ``sum_s x_js = o_j``
  (``o_j``: the image is offloaded), and an optional interval
  ``[cs_j, cs_j + c)`` present iff ``x_js`` under one ``NoOverlap`` per server
  (disjunctive reasoning, much stronger than the cumulative's). Symmetry:
  servers are numbered by their first job, ``x_js => some j' < j has
  x_j',s-1`` (prefix Booleans ``p_js = OR_{j' <= j} x_j's``); the first job is
  on server 0.
* ``lag``: per device, the last ``S`` cloud starts are carried along the queue
  (``R_1 >= ... >= R_S``, ``-c`` before any) and each offload starts at or after
  ``R_S + c``: the ``S``-th previous cloud job of the same device has ended.
* ``cuts``: the threshold cuts of :mod:`.cloudcuts`,
  ``T >= t * z_t + c * q_t``, ``S * q_t >= #offloads whose earliest arrival is
  >= t`` (``q_t`` integer), ``z_t >= o_j`` for those offloads (``z_t``: the group
  is not empty; the groups are nested, so ``z_t >= z_t'`` for ``t < t'`` plus the
  new members), at most :data:`MAX_CLOUD_CUTS` thresholds. Not in ``auto``:
  on the reproduced hard instances it made cold runs (``warm=False``) stall
  without any incumbent on 2 of 33, while ``servers+lag`` proved all.
* ``cumulative``: the former ``Cumulative`` of capacity ``S`` (kept for
  comparison; used whenever ``servers`` is not chosen).

With ``S`` at least the number of potential cloud jobs, nothing is added: every
job has its own server and FIFO never queues (each offload starts at its
arrival, which the rows above already allow).

*No valid plan is cut off.* Take any plan and its FIFO cloud schedule (the
simulator's, with the model's durations). List scheduling with identical
service ``c`` serves jobs in arrival order, starts are non-decreasing along
that order, and the job at position ``p`` starts at ``max(a_p, s_{p-S} + c)``
(by induction the ``S`` busy servers hold positions ``p-S..p-1`` and the one
of ``p-S`` frees first). So: the schedule is one on ``S`` machines without
overlap; renumbering the machines by their first job (a relabelling of
identical machines) satisfies the symmetry rows; a device's offloads arrive in
queue order (FIFO uplink, ties broken by queue order), so its starts are
non-decreasing; between a device's offload ``k`` and its ``S``-th previous
one ``k-S`` lie at least ``S - 1`` jobs in FIFO order, so ``pos(k) - S >=
pos(k-S)`` and ``s_k >= s_{pos(k)-S} + c >= s_{k-S} + c`` (lag); and the
threshold cuts hold for every schedule on ``S`` machines (jobs starting at or
after ``t`` share ``S`` machines, one of which runs ``ceil(n / S)`` of them),
with the earliest arrivals computed from the model's own integer durations.
*Nothing invalid is admitted:* a model solution is a non-overlapping
schedule on ``S`` machines respecting arrivals, so its makespan is at least
the FIFO makespan of its plan (FIFO is optimal for identical service times
and release dates). Hence the model optimum is the simulator's FIFO optimum,
and the scale argument below (which keeps the FIFO schedule of the floored
durations) still gives a valid bound.

Integer time (the scale)
------------------------
CP-SAT needs integers. Every duration ``d`` (seconds, as the simulator
computes it) becomes ``floor(d * scale)`` ticks, computed exactly with
fractions; ``scale`` defaults to ``1e9`` (nanoseconds), lowered by powers of
ten if the horizon would pass ``2^50`` ticks. Claim: the integer model's
optimum ``T*_int`` satisfies ``T*_int <= scale * T*``. Take an optimal plan;
its simulator schedule is a max-plus expression of sums of durations, monotone
in each duration; replacing each duration by its floor (and serving the
cloud FIFO in the order of the floored arrivals, the schedule the ``S > 1``
rows above are proven for; FIFO with identical service is monotone in the
arrivals) gives an integral schedule feasible for the integer model with
every time at most ``scale`` times the real one. So CP-SAT's best
bound divided by ``scale`` is a valid lower bound on the real optimum. The
objective reported is never the integer one: it is the simulator's makespan of
the decoded plan. For a plan optimal in the integer model this exceeds the
bound by at most ``K / scale`` with ``K`` the number of durations on a longest
path (at most ``3N``), i.e. 0.3 microseconds for ``N = 100`` at the default
scale, below :data:`~optoffload.formulations.picsys.common.OPT_TOL`.

Energies use the same idea (floors of ``e * K`` against
``floor(threshold * K)``, ``K`` chosen so sums stay below ``2^50``): every
plan within a budget stays feasible, so the bound is valid; the decoded plan
is re-checked by the simulator.
"""

from __future__ import annotations

import math
import time
from fractions import Fraction

import numpy as np

from optoffload.picsys import bounds as B
from optoffload.picsys.model import SKIPPED, PicsysInstance

from .common import Prepared, finalize, infeasible_solution, prepare, presolved, skipped_solution
from .milp import BuildTimeout

CUT_SHARE = 0.6
"""Under a time limit, the integer DP cuts of :meth:`CpsatModel._device_cuts` are computed only
until this share of the limit is spent; later devices get the cheaper valid cut from the real DP."""

MIN_SOLVE = 0.05
"""Seconds CP-SAT must have left after the build for the search to be started."""
MAX_CLOUD_CUTS = 64
"""Most threshold cuts (:func:`~optoffload.formulations.picsys.cloudcuts.threshold_cuts`) added for ``S > 1``."""
AUTO_SERVERS_MAX_JOBS = 100
"""Option ``cloud="auto"`` models ``S > 1`` servers explicitly (``servers+lag``) up to this many
potential cloud jobs, and as ``cumulative+lag`` beyond. Measured (docs/picsys-exact.md): at 12-60
cloud-bound images the explicit servers proved more instances (12-20 images: 60 of 60 against 50
of 60 at 3 s; 30-60: 18 of 24 against 16 at 5 s); at 100-200 both proved the same 8 of 12 runs, the
servers taking 0.85-2.2x as long (median 1.45x); at 500-1,000 images (20 devices) the servers were
3-16x slower than ``cumulative+lag`` or unproven at 20 s."""
MAX_CUT_TERMS = 200_000
"""Most offload literals summed over all threshold cuts (fewer cuts on large instances)."""
DEFAULT_SCALE = 10**9
"""Ticks per second of the CP-SAT model (nanoseconds)."""
MAX_TICKS = 2**50
"""Largest horizon (and energy sum) in integer units."""


def ticks(x: float, scale: int) -> int:
    """``floor(x * scale)`` computed exactly (``x`` as the float the simulator uses)."""
    return math.floor(Fraction(x) * scale)


def choose_scale(horizon: float, scale: int | None) -> int:
    s = DEFAULT_SCALE if scale is None else int(scale)
    if s < 1:
        raise ValueError(f"scale must be a positive integer, got {scale!r}")
    if scale is None:
        while s > 1 and horizon * s > MAX_TICKS:
            s //= 10
    return s


class CpsatModel:
    """The CP-SAT model of one instance (attributes expose the native model and variables)."""

    def __init__(self, prep: Prepared, scale: int | None = None, *, no_overlap_uplink: bool = True,
                 cloud: str = "auto"):
        self.cloud = cloud
        self.cloud_parts: tuple[str, ...] = ()
        """The parts of the ``S > 1`` cloud model actually built (empty for ``S = 1``)."""
        from ortools.sat.python import cp_model

        inst = prep.inst
        self.prep = prep
        horizon_real = prep.warm_value if prep.warm_value is not None else _trivial_horizon(inst)
        self.scale = S = choose_scale(max(horizon_real, 1e-9), scale)
        self.model = md = cp_model.CpModel()
        self.c_int = c = ticks(inst.cloud_time, S)
        H = self._horizon(S)
        self.horizon = H
        self.y: list[list[dict[int, object]]] = []
        self.T = md.NewIntVar(0, H, "T")
        ends = []
        cloud_iv = []
        self.jobs: list[CloudJob] = []
        for m, dev in enumerate(inst.devices):
            ym = []
            # V: latest cloud start of the device's offloads so far; -c before the first (S = 1)
            V0 = -c if inst.servers == 1 else 0
            E_prev, W_prev, V_prev = 0, 0, V0
            up_iv = []
            n_proc = []
            e_terms = []
            for i in range(dev.n):
                if i & 255 == 0 and prep.deadline is not None and time.perf_counter() > prep.deadline:
                    raise BuildTimeout  # the model is charged to the limit (issue #14, item 3)
                opts = prep.options(m, i)
                yi = {k: md.NewBoolVar(f"y_{m}_{i}_{k}") for k in opts}
                md.AddExactlyOne(yi.values())
                ym.append(yi)
                cpu = sum(ticks(B.cpu_time(dev, i, k), S) * v for k, v in yi.items())
                E = md.NewIntVar(0, H, f"E_{m}_{i}")
                md.Add(E == E_prev + cpu)
                ups = [v for k, v in yi.items() if B.UPLOADS[k]]
                offs = [v for k, v in yi.items() if B.OFFLOADS[k]]
                W = md.NewIntVar(0, H, f"W_{m}_{i}")
                if ups:
                    u = _or_var(md, ups, f"u_{m}_{i}")
                    tx = ticks(float(dev.tx[i]), S)
                    st = md.NewIntVar(0, H, f"us_{m}_{i}")
                    iv = md.NewOptionalFixedSizeIntervalVar(st, tx, u, f"up_{m}_{i}")
                    up_iv.append(iv)
                    md.Add(st >= E).OnlyEnforceIf(u)
                    md.Add(st >= W_prev).OnlyEnforceIf(u)
                    md.Add(W == st + tx).OnlyEnforceIf(u)
                    if not isinstance(u, int):
                        md.Add(W == W_prev).OnlyEnforceIf(u.Not())
                    if offs:
                        o = _or_var(md, offs, f"o_{m}_{i}")
                        cs = md.NewIntVar(0, H, f"cs_{m}_{i}")
                        civ = md.NewOptionalFixedSizeIntervalVar(cs, c, o, f"cloud_{m}_{i}")
                        cloud_iv.append(civ)
                        self.jobs.append(CloudJob(m, i, o, cs, st, tx, civ))
                        md.Add(cs >= st + tx).OnlyEnforceIf(o)
                        md.Add(cs >= V_prev + (c if inst.servers == 1 else 0)).OnlyEnforceIf(o)
                        md.Add(self.T >= cs + c).OnlyEnforceIf(o)
                        V = md.NewIntVar(V0, H, f"V_{m}_{i}")
                        md.Add(V == cs).OnlyEnforceIf(o)
                        if not isinstance(o, int):
                            md.Add(V == V_prev).OnlyEnforceIf(o.Not())
                        V_prev = V
                else:
                    md.Add(W == W_prev)
                E_prev, W_prev = E, W
                if SKIPPED in yi:
                    n_proc.append(yi[SKIPPED])
                if inst.enforce_energy:
                    e_terms.append(yi)
            if dev.n:
                ends += [E_prev, W_prev]
            if n_proc:
                md.Add(sum(n_proc) == dev.n - prep.targets[m])
            if inst.enforce_energy and dev.n:
                self._energy(m, e_terms)
            if no_overlap_uplink and len(up_iv) > 1:
                md.AddNoOverlap(up_iv)
            self.y.append(ym)
        for e in ends:
            md.Add(self.T >= e)
        if cloud_iv:
            if inst.servers == 1:
                md.AddNoOverlap(cloud_iv)
            else:
                self._cloud_servers(cloud)
        self.lb_int = self._device_cuts()
        md.Add(self.T >= self.lb_int)
        md.Minimize(self.T)

    # ----------------------------------------------------------------------------------- parts
    def _cloud_servers(self, variant: str) -> None:
        """The cloud for ``S > 1`` (see the module docstring, "Several cloud servers")."""
        md, S, c = self.model, self.prep.inst.servers, self.c_int
        jobs = self.jobs
        if S >= len(jobs):
            self.cloud_parts = ("none",)
            return  # a server per job: FIFO never queues, every row below would be void
        deadline = self.prep.deadline

        def tick(k: int) -> None:
            if k & 255 == 0 and deadline is not None and time.perf_counter() > deadline:
                raise BuildTimeout  # the model is charged to the limit (issue #14, item 3)

        if variant == "auto":
            parts = {"servers", "lag"} if len(jobs) <= AUTO_SERVERS_MAX_JOBS else {"cumulative", "lag"}
        else:
            parts = set(variant.split("+"))
        if "servers" not in parts:
            parts.add("cumulative")
        self.cloud_parts = tuple(p for p in CLOUD_PARTS if p in parts)
        if "cumulative" in parts or "servers" not in parts:
            md.AddCumulative([j.iv for j in jobs], [1] * len(jobs), S)
        if "lag" in parts:
            by_dev: dict[int, list[CloudJob]] = {}
            for j in jobs:
                by_dev.setdefault(j.m, []).append(j)
            for m, js in by_dev.items():
                R = [-c] * S  # the device's last S cloud starts (latest first); -c: none yet
                for k, j in enumerate(js):
                    tick(k)
                    md.Add(j.cs >= R[-1] + c).OnlyEnforceIf(j.o)
                    if j is js[-1]:
                        break
                    newR = []
                    for r in range(S):
                        v = md.NewIntVar(-c, self.horizon, f"R_{j.m}_{j.i}_{r}")
                        md.Add(v == (j.cs if r == 0 else R[r - 1])).OnlyEnforceIf(j.o)
                        if not isinstance(j.o, int):
                            md.Add(v == R[r]).OnlyEnforceIf(j.o.Not())
                        newR.append(v)
                    R = newR
        if "servers" in parts:
            prev = None
            per_server = [[] for _ in range(S)]
            for k, j in enumerate(jobs):
                tick(k)
                xs = [md.NewBoolVar(f"x_{j.m}_{j.i}_{s}") for s in range(S)]
                md.Add(sum(xs) == j.o)
                for s in range(S):
                    per_server[s].append(md.NewOptionalFixedSizeIntervalVar(j.cs, c, xs[s], f"cl_{j.m}_{j.i}_{s}"))
                # symmetry: servers are numbered by their first job (in this fixed job order)
                for s in range(1, S):
                    if prev is None:
                        md.Add(xs[s] == 0)
                    else:
                        md.AddImplication(xs[s], prev[s - 1])
                if k < len(jobs) - 1:
                    pref = [md.NewBoolVar(f"p_{j.m}_{j.i}_{s}") for s in range(S)]
                    for s in range(S):
                        terms = [xs[s]] + ([prev[s]] if prev is not None else [])
                        md.AddMaxEquality(pref[s], terms)
                    prev = pref
            for ivs in per_server:
                md.AddNoOverlap(ivs)
        if "cuts" in parts:
            from .cloudcuts import earliest_arrivals, threshold_cuts
            arr = earliest_arrivals(self.prep.inst, self.prep.options, lambda x: ticks(x, self.scale),
                                    deadline=deadline)
            o_of = {(j.m, j.i): j.o for j in jobs}
            cuts = threshold_cuts(arr, max_cuts=max(1, min(MAX_CLOUD_CUTS, MAX_CUT_TERMS // max(1, len(jobs)))))
            z_next, seen = None, set()
            for t, grp in reversed(cuts):  # groups are nested: z_t = z_next OR (o of the new members)
                q = md.NewIntVar(0, len(grp), f"q_{t}")
                md.Add(S * q >= sum(o_of[g] for g in grp))
                z = md.NewBoolVar(f"z_{t}")
                for g in grp:
                    if g not in seen:
                        md.AddImplication(o_of[g], z)
                if z_next is not None:
                    md.AddImplication(z_next, z)
                seen.update(grp)
                z_next = z
                md.Add(self.T >= t + c * q).OnlyEnforceIf(z)
                md.Add(self.T >= c * q)

    def _horizon(self, S: int) -> int:
        """An upper bound on the integer makespan of the warm plan (or of any plan if none)."""
        inst = self.prep.inst
        if self.prep.warm_plan is not None:
            return int_makespan(inst, self.prep.warm_plan, S, self.prep.deadline)
        return ticks(_trivial_horizon(inst), S) + 3 * inst.n_images + 1

    def _energy(self, m: int, yi_list: list[dict]) -> None:
        dev = self.prep.inst.devices[m]
        thr = B.energy_threshold(dev.energy.budget)
        top = sum(max(B.image_energy_of(dev, i, k) for k in yi) for i, yi in enumerate(yi_list))
        K = max(1, int(MAX_TICKS // max(top, thr, 1e-12)))
        terms = [ticks(B.image_energy_of(dev, i, k), K) * v for i, yi in enumerate(yi_list) for k, v in yi.items()]
        self.model.Add(sum(terms) <= ticks(thr, K))

    def _device_cuts(self) -> int:
        """Per-device DP bound on the integer durations (valid for the integer model)."""
        prep, S = self.prep, self.scale
        best = 0
        for m, dev in enumerate(prep.inst.devices):
            if prep.device_lb[m] <= 0 or not dev.n:
                continue
            if prep.deadline is not None and time.perf_counter() > prep.t0 + CUT_SHARE * (prep.deadline - prep.t0):
                # out of time for the exact integer DP: every integer duration is at least scale * d - 1 and
                # a path has at most 3 n durations, so floor(scale * LB_m) - 3 n is valid for the integer model
                best = max(best, math.floor(Fraction(prep.device_lb[m]) * S) - 3 * dev.n)
                continue
            codes, cpu, up, off = B.device_tables(dev)
            cpu_i = [np.array([ticks(x, S) for x in row], dtype=float) for row in cpu]
            tx_i = np.array([ticks(float(t), S) for t in dev.tx], dtype=float)
            r = B.device_bound(cpu_i, up, off, codes, tx_i, float(self.c_int), cap=512)
            best = max(best, int(r.bound))
        return best

    def hint(self, plan: list[np.ndarray]) -> None:
        for ym, codes in zip(self.y, plan):
            for yi, k in zip(ym, codes):
                for kk, v in yi.items():
                    self.model.AddHint(v, int(kk == k))

    def decode(self, solver) -> list[np.ndarray]:
        plan = []
        for ym in self.y:
            codes = np.empty(len(ym), dtype=np.int8)
            for i, yi in enumerate(ym):
                codes[i] = next(k for k, v in yi.items() if solver.BooleanValue(v))
            plan.append(codes)
        return plan


class CloudJob:
    """One potential cloud step: image ``i`` of device ``m``, present iff ``o``, starting at ``cs``
    after the upload interval ``[st, st + tx)``; ``iv`` its optional interval of length ``c``."""

    __slots__ = ("m", "i", "o", "cs", "st", "tx", "iv")

    def __init__(self, m, i, o, cs, st, tx, iv):
        self.m, self.i, self.o, self.cs, self.st, self.tx, self.iv = m, i, o, cs, st, tx, iv


CLOUD_PARTS = ("cumulative", "servers", "lag", "cuts")
"""Parts of the ``S > 1`` cloud model that option ``cloud`` may combine with ``+``."""


def check_cloud(cloud) -> str:
    """Validate option ``cloud``: ``"auto"`` or a ``+``-joined subset of :data:`CLOUD_PARTS`."""
    from optoffload.errors import InvalidInstance

    if cloud == "auto":
        return cloud
    parts = cloud.split("+") if isinstance(cloud, str) else None
    if not parts or any(p not in CLOUD_PARTS for p in parts):
        raise InvalidInstance("cloud", f"must be 'auto' or a '+'-joined subset of {', '.join(CLOUD_PARTS)}, "
                                       f"got {cloud!r}")
    return cloud


def _or_var(md, lits: list, name: str):
    """A Boolean equal to the sum of mutually exclusive literals (1 if they cover every option)."""
    if len(lits) == 1:
        return lits[0]
    v = md.NewBoolVar(name)
    md.Add(v == sum(lits))
    return v


def _trivial_horizon(inst: PicsysInstance) -> float:
    """Makespan of an arbitrary schedule without overlaps: the sum of every duration."""
    tot = inst.cloud_time * inst.n_images
    for dev in inst.devices:
        tot += float(np.sum(dev.c_s + dev.alpha + dev.beta + dev.tx))
    return tot


def int_makespan(inst: PicsysInstance, plan: list[np.ndarray], S: int, deadline: float | None = None) -> int:
    """Makespan of ``plan`` with floored integer durations and FIFO cloud (exact integers).

    Raises :class:`~optoffload.formulations.picsys.milp.BuildTimeout` past ``deadline`` (every 4,096 images)."""
    span = 0
    arr = []
    c = ticks(inst.cloud_time, S)
    for m, (dev, codes) in enumerate(zip(inst.devices, plan)):
        E = W = 0
        for i, k in enumerate(codes):
            if i & 4095 == 0 and deadline is not None and time.perf_counter() > deadline:
                raise BuildTimeout
            E += ticks(B.cpu_time(dev, i, int(k)), S)
            if B.UPLOADS[k]:
                W = max(W, E) + ticks(float(dev.tx[i]), S)
                if B.OFFLOADS[k]:
                    arr.append((W, m, i))
        span = max(span, E, W)
    arr.sort()
    free = [0] * inst.servers
    for a, _, _ in arr:
        j = min(range(inst.servers), key=free.__getitem__)
        free[j] = max(free[j], a) + c
        span = max(span, free[j])
    return span


_STATUS = {"OPTIMAL": "optimal", "FEASIBLE": "feasible", "INFEASIBLE": "infeasible", "UNKNOWN": "unknown"}


def solve_cpsat(inst: PicsysInstance, *, time_limit=None, seed=0, threads=None, objective="makespan",
                scale=None, warm=True, cuts=True, dominance=True, log=False, params=None, cloud="auto", **options):
    """Method ``cpsat``: the CP-SAT model above (see module docstring).

    Options: ``objective`` (``"makespan"`` or ``"max-processed"``), ``scale``
    (ticks per second, default 1e9), ``warm`` (hint the best simple plan),
    ``cuts`` (add the device decomposition's bound ``T >= LB``; with ``warm``, a warm plan that meets it is returned without a model), ``dominance`` (leave
    out ``f-off``, dominated by ``i-off``), ``log`` (solver log),
    ``params`` (dict of extra CP-SAT parameters, applied last),
    ``cloud`` (the ``S > 1`` cloud model: ``"auto"`` (``"servers+lag"`` up to
    :data:`AUTO_SERVERS_MAX_JOBS` potential cloud jobs, else ``"cumulative+lag"``) or a
    ``+``-joined subset of :data:`CLOUD_PARTS`; ignored for ``S = 1``).
    ``threads`` = CP-SAT workers (default 1: deterministic for a seed).
    """
    t_call = time.perf_counter()
    from ortools.sat.python import cp_model  # a first import costs 0.4 s and more under load: charged to the limit

    from .common import no_unknown_options

    no_unknown_options("cpsat", options)
    cloud = check_cloud(cloud)
    if time_limit is not None:
        time_limit = max(0.0, float(time_limit) - (time.perf_counter() - t_call))
    prep = prepare(inst, objective=objective, time_limit=time_limit, warm=warm, cuts=cuts,
                   dominance=dominance)
    if prep.infeasible:
        return infeasible_solution(prep, "cpsat")
    if (done := presolved(prep, "cpsat", "ortools-cpsat", log=bool(log))) is not None:
        return done
    if inst.n_images == 0:
        return finalize(prep, "cpsat", native="EMPTY", proven=True, plan=[np.zeros(0, np.int8)] * inst.n_devices,
                        bound=0.0)
    try:
        cm = CpsatModel(prep, scale, cloud=cloud)
        if prep.remaining() is not None and prep.deadline - time.perf_counter() < MIN_SOLVE:
            raise BuildTimeout
    except BuildTimeout:
        return skipped_solution(prep, "cpsat", native="build-timeout", info={"backend": "ortools-cpsat"},
                                note="time limit reached while building the CP-SAT model")
    if prep.warm_plan is not None:
        cm.hint(prep.warm_plan)
    solver = cp_model.CpSolver()
    p = solver.parameters
    p.random_seed = int(seed)
    p.num_workers = int(threads) if threads else 1
    p.log_search_progress = bool(log)
    rem = prep.remaining()
    if rem is not None:
        p.max_time_in_seconds = rem
    for k, v in (params or {}).items():
        setattr(p, k, v)
    st = solver.Solve(cm.model)
    name = solver.StatusName(st)
    if name == "MODEL_INVALID":
        raise RuntimeError(f"cpsat: invalid model: {cm.model.Validate()}")
    plan = cm.decode(solver) if name in ("OPTIMAL", "FEASIBLE") else None
    bound = None
    if name in ("OPTIMAL", "FEASIBLE"):
        b = max(float(solver.BestObjectiveBound()), float(cm.lb_int))
        bound = math.nextafter(float(Fraction(int(math.floor(b))) / cm.scale), -math.inf)
    info = {"backend": "ortools-cpsat", "scale": cm.scale, "horizon_ticks": cm.horizon,
            "wall_solver_s": solver.WallTime(), "branches": solver.NumBranches(), "conflicts": solver.NumConflicts()}
    if cm.cloud_parts:
        info["cloud_model"] = "+".join(cm.cloud_parts)  # the S > 1 cloud model built (option cloud)
    return finalize(prep, "cpsat", native=name, proven=name == "OPTIMAL", plan=plan, bound=bound, info=info)
