"""Valid lower bounds on the PicSys optimum, and the per-device DP behind them.

Every bound here is a *relaxation* of the offline problem of section 5.1
(eqs. (1)-(10) of the PicSys seed) under the exact semantics of
``shared/design/picsys.md``: no plan, replayed in the simulator, can have a
makespan below it. They are cheap enough for instances far too large for the
exact models (the heuristic-gap benchmark uses them).

``device_bound`` (per-device dynamic programme)
    Keep one device, give the cloud infinitely many servers (no cloud queue).
    Its makespan is then ``max(E, W, C)``: CPU end ``E`` (eq. 9), last upload
    end ``W``, last cloud end ``C``. The DP walks the queue keeping the Pareto
    front of ``(E, W)`` per flag ``f`` = "the latest upload is an offload";
    (``c_u`` below stands for the cloud time per image, ``c_u + c_step``)
    ``max(E, W + f c_u) <= max(E, W, C)`` is the relaxed objective. Upload and
    CPU end times are monotone in ``(E, W)``, so dominance pruning is exact.
    When a front grows past ``cap`` points, neighbouring points are merged into
    their component-wise minimum: the bound stays valid (it only decreases)
    and the DP stops being exact (``exact=False``). The same DP returns the
    plan reaching its minimum, a strong warm start (``device_plans``).
``lp_bound`` (global LP relaxation, weak duality)
    Fractional outcomes; ``T`` bounds each device's CPU load, each uplink load,
    and the cloud: with ``n`` offloads the cloud ends no earlier than
    ``a_min + c_u n / S`` when ``n >= 1`` (``a_min``: the shortest transfer),
    and the linear under-estimator of that, zero at ``n = 0``, is
    ``(c_u / S + a_min / N) n`` with ``N`` the number of images. The LP is solved with HiGHS (highspy), and the bound
    reported is the Lagrangian value ``g(lambda)`` of its (normalised) duals,
    evaluated exactly, so solver tolerances cannot make it invalid.
``lower_bound(inst)``
    The largest of the two, with the device bound computed exactly by
    :func:`optoffload.picsys.devicedp.decompose` (``max_m D_m``, the exact optimum of every
    relaxed device problem; the merging DP at ``cap`` only where an exact DP outgrows its state
    limit).

With ``mode="max-processed"`` (energy variant, eq. 15) images may be skipped;
only devices whose budget covers all their images must process them all, and
the bound is the per-device DP bound over those devices.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .model import F_DISC, F_OFF, I_OFF, S_DISC, S_UP, SKIPPED, Device, PicsysInstance, feasible_outcomes

#: CPU use, upload and cloud use of each outcome code (``i-off`` .. ``skip``).
USES_CPU = np.array([0, 1, 1, 1, 1, 0], dtype=bool)
USES_BETA = np.array([0, 0, 0, 1, 1, 0], dtype=bool)
UPLOADS = np.array([1, 1, 0, 1, 0, 0], dtype=bool)
OFFLOADS = np.array([1, 1, 0, 0, 0, 0], dtype=bool)

ENERGY_RTOL, ENERGY_ATOL = 1e-9, 1e-12
"""Tolerance of the simulator's energy check: ``E_m <= a_m (1 + rtol) + atol`` (eq. 15)."""


def energy_threshold(budget: float) -> float:
    """The largest per-device energy the simulator accepts for budget ``budget``."""
    return budget * (1 + ENERGY_RTOL) + ENERGY_ATOL


def image_options(dev: Device, i: int, *, skip: bool = False) -> tuple[int, ...]:
    """Outcome codes allowed for image ``i`` of ``dev`` (eqs. (2)-(8)), plus ``skip`` if asked."""
    opts = feasible_outcomes(int(dev.z1[i]), int(dev.z2[i]))
    return opts + (SKIPPED,) if skip else opts


def cpu_time(dev: Device, i: int, code: int) -> float:
    """Device CPU time of image ``i`` under ``code`` (eq. 9 increments)."""
    if not USES_CPU[code]:
        return 0.0
    return float(dev.c_s[i] + dev.alpha + (dev.beta if USES_BETA[code] else 0.0))


def image_energy_of(dev: Device, i: int, code: int) -> float:
    """Energy (% of battery) of image ``i`` under ``code`` (eq. 16); 0 without energy data."""
    e = dev.energy
    if e is None or code == SKIPPED:
        return 0.0
    v = 0.0
    if USES_CPU[code]:
        v += float(e.e_s[i]) + e.e_alpha
    if USES_BETA[code]:
        v += e.e_beta
    if UPLOADS[code]:
        v += float(e.e_t[i])
    return v


def min_energy(dev: Device) -> np.ndarray:
    """Per image, the least energy over its feasible outcomes (skip excluded)."""
    return np.array([min(image_energy_of(dev, i, k) for k in image_options(dev, i)) for i in range(dev.n)])


def max_processed(inst: PicsysInstance) -> list[int]:
    """Per device, the most images it can process within its budget (eq. 15).

    Budgets are per device and skipping costs nothing, so this is a unit-value
    knapsack: take the images of least minimum energy first (greedy is exact).
    Without enforced budgets every image can be processed.
    """
    if not inst.enforce_energy:
        return [d.n for d in inst.devices]
    out = []
    for dev in inst.devices:
        e = np.sort(min_energy(dev))
        thr = energy_threshold(dev.energy.budget)
        out.append(int(np.searchsorted(np.cumsum(e), thr, side="right")))
    return out


def infeasibility_reason(inst: PicsysInstance) -> str | None:
    """Why no plan processes every image within the budgets, or None if one does.

    Budgets are independent per device, so the instance is feasible iff each
    device's least possible energy (sum of per-image minima) fits its budget.
    """
    if not inst.enforce_energy:
        return None
    bad = []
    for m, dev in enumerate(inst.devices):
        need = float(np.sum(min_energy(dev)))
        if need > energy_threshold(dev.energy.budget):
            bad.append(f"device {m} needs at least {need:.6g}% of battery to process its {dev.n} images "
                       f"(sum of per-image minimum energies, eq. 16) but its budget is {dev.energy.budget:.6g}%")
    if not bad:
        return None
    return "; ".join(bad) + " (eq. 15)"


# ------------------------------------------------------------------------------------------- per-device DP

@dataclass
class DeviceDP:
    """Result of :func:`device_bound` for one device."""

    bound: float
    """Minimum of the relaxed makespan ``max(E, W + f c_u)``: a valid lower bound."""
    plan: np.ndarray
    """A plan (int codes) reaching the bound when ``exact``; otherwise just a good plan."""
    exact: bool
    """False when the front was coarsened (the bound is then smaller than the DP optimum)."""
    front_max: int


def device_bound(cpu: list[np.ndarray], up: list[np.ndarray], off: list[np.ndarray], codes: list[np.ndarray],
                 tx: np.ndarray, c_u: float, *, cap: int = 4096) -> DeviceDP:
    """The per-device DP on explicit option tables (see the module docstring).

    For image ``i``: ``codes[i]`` its options, ``cpu[i]``/``up[i]``/``off[i]``
    the CPU time, upload flag and offload flag of each option, ``tx[i]`` its
    transfer time. Durations may be real or integral (CP-SAT's scaled model).
    """
    E = np.zeros(1)
    W = np.zeros(1)
    F = np.zeros(1, dtype=bool)
    parents: list[np.ndarray] = []
    choice: list[np.ndarray] = []
    exact = True
    fmax = 1
    for i in range(len(codes)):
        nE, nW, nF, par, ch = [], [], [], [], []
        idx = np.arange(len(E))
        for k in range(len(codes[i])):
            e2 = E + cpu[i][k]
            if up[i][k]:
                w2 = np.maximum(W, e2) + tx[i]
                f2 = np.full(len(E), bool(off[i][k]))
            else:
                w2, f2 = W, F
            nE.append(e2), nW.append(w2), nF.append(f2), par.append(idx), ch.append(np.full(len(E), k))
        E, W, F = np.concatenate(nE), np.concatenate(nW), np.concatenate(nF)
        par_a, ch_a = np.concatenate(par), np.concatenate(ch)
        keep_all = []
        for flag in (False, True):
            sel = np.flatnonzero(F == flag)
            if not len(sel):
                continue
            order = sel[np.lexsort((W[sel], E[sel]))]
            w = W[order]
            prev = np.minimum.accumulate(w)
            keep = np.ones(len(order), dtype=bool)
            keep[1:] = w[1:] < prev[:-1]
            kept = order[keep]
            if len(kept) > cap:
                exact = False
                groups = np.array_split(np.arange(len(kept)), cap // 2)
                # along a front E increases and W decreases: the group minimum is (first E, last W)
                firsts = np.array([g[0] for g in groups])
                lasts = np.array([g[-1] for g in groups])
                W[kept[firsts]] = W[kept[lasts]]
                kept = kept[firsts]
            keep_all.append(kept)
        kept = np.concatenate(keep_all)
        E, W, F = E[kept], W[kept], F[kept]
        parents.append(par_a[kept])
        choice.append(ch_a[kept])
        fmax = max(fmax, len(kept))
    val = np.maximum(E, W + np.where(F, c_u, 0.0))
    best = int(np.argmin(val))
    plan = np.empty(len(codes), dtype=np.int8)
    s = best
    for i in range(len(codes) - 1, -1, -1):
        plan[i] = codes[i][choice[i][s]]
        s = parents[i][s]
    return DeviceDP(bound=float(val[best]), plan=plan, exact=exact, front_max=fmax)


def device_tables(dev: Device, *, skip: bool = False):
    """Option tables of one device in real seconds (for :func:`device_bound`)."""
    codes, cpu, up, off = [], [], [], []
    for i in range(dev.n):
        ks = np.array(image_options(dev, i, skip=skip), dtype=np.int8)
        codes.append(ks)
        cpu.append(np.array([cpu_time(dev, i, int(k)) for k in ks]))
        up.append(UPLOADS[ks])
        off.append(OFFLOADS[ks])
    return codes, cpu, up, off


def device_plans(inst: PicsysInstance, *, cap: int = 4096) -> tuple[list[DeviceDP], list[np.ndarray]]:
    """Per-device DP results and the combined plan (each device's DP plan)."""
    res = []
    for dev in inst.devices:
        codes, cpu, up, off = device_tables(dev)
        res.append(device_bound(cpu, up, off, codes, dev.tx, inst.cloud_time, cap=cap))
    return res, [r.plan for r in res]


# ------------------------------------------------------------------------------------------- global LP

def lp_bound(inst: PicsysInstance) -> float:
    """Lagrangian bound from the global LP relaxation (module docstring); 0 for an empty instance."""
    if inst.n_images == 0:
        return 0.0
    M, S, c_u = inst.n_devices, inst.servers, inst.cloud_time
    dev_of_col, img_of_col, cpu_c, up_c, off_c = [], [], [], [], []
    tx_min = math.inf
    n_img = 0
    for m, dev in enumerate(inst.devices):
        if dev.n:
            tx_min = min(tx_min, float(dev.tx.min()))
        for i in range(dev.n):
            for k in image_options(dev, i):
                dev_of_col.append(m)
                img_of_col.append(n_img)
                cpu_c.append(cpu_time(dev, i, k))
                up_c.append(float(dev.tx[i]) if UPLOADS[k] else 0.0)
                off_c.append(1.0 if OFFLOADS[k] else 0.0)
            n_img += 1
    off_c = np.array(off_c) * (c_u / S + tx_min / n_img)
    cpu_c, up_c, off_c = np.array(cpu_c), np.array(up_c), np.array(off_c)
    dev_of_col, img_of_col = np.array(dev_of_col), np.array(img_of_col)
    # inequality rows: 0..M-1 cpu, M..2M-1 uplink, 2M cloud; columns: x (nx) then T
    duals = _lp_duals(M, n_img, dev_of_col, img_of_col, cpu_c, up_c, off_c)
    if duals is None:
        return 0.0
    lam = np.maximum(-duals, 0.0)
    if lam.sum() <= 0:
        return 0.0
    lam = lam / lam.sum()
    # g(lam) = sum over images of min over options of (lam_cpu cpu + lam_up up + lam_cloud off)
    w = lam[dev_of_col] * cpu_c + lam[M + dev_of_col] * up_c + lam[2 * M] * off_c
    per_img = np.full(n_img, np.inf)
    np.minimum.at(per_img, img_of_col, w)
    return float(per_img.sum())


# ------------------------------------------------------------------------------------------- public

def lower_bound(inst: PicsysInstance, *, mode: str = "makespan", lp: bool = True, cap: int = 4096) -> float:
    """A valid lower bound on the optimal makespan of ``inst`` (see the module docstring).

    ``mode`` is ``"makespan"`` (every image processed; budgets, if enforced,
    only make the optimum larger) or ``"max-processed"`` (eq. 15 variant with
    skips: only devices that can process all their images are bounded).
    ``lp=False`` skips the global LP (whose cost grows with the instance).
    """
    if mode not in ("makespan", "max-processed"):
        raise ValueError(f"mode must be 'makespan' or 'max-processed', got {mode!r}")
    if inst.n_images == 0:
        return 0.0
    if mode == "max-processed":
        full = [m for m, (k, d) in enumerate(zip(max_processed(inst), inst.devices)) if k == d.n]
    else:
        full = list(range(inst.n_devices))
    from .devicedp import decompose

    dec = decompose(inst, devices=full, relieve=False)
    best = dec.bound
    if not dec.exact:
        # some exact device DP outgrew its state limit: add the merging DP at ``cap``
        for m in full:
            dev = inst.devices[m]
            codes, cpu, up, off = device_tables(dev)
            best = max(best, device_bound(cpu, up, off, codes, dev.tx, inst.cloud_time, cap=cap).bound)
    if lp and mode == "makespan":
        best = max(best, lp_bound(inst))
    return best


# ------------------------------------------------------------------------------------------- content-blind

def content_blind_bound(inst: PicsysInstance, p1=None, p2=None) -> float:
    """Lower bound on the *expected* makespan of any online policy when truth values are i.i.d.

    Model (issue #13): on device ``m`` every image has ``z1 = 1`` with probability
    ``p1[m]`` and ``z2 = 1`` with probability ``p2[m] <= p1[m]``, independently of the
    other images (the generator draws them so); default: the shares realized on ``inst``.
    An online policy (the paper's heuristics, section 5.2) decides the initial stage of
    image ``i`` before ``z1_i`` is computed, and the filtering stage knowing ``z1_i = 1``
    but before ``z2_i``. Write ``a_i`` = P(i-off) and ``c_i`` = P(local, and on a positive
    the expensive CNN); on a positive the rest of the local mass, ``1 - a_i - c_i``, is
    offloaded (f-off). By independence the expected loads are linear in ``(a, c)``, over
    all three paths (i-off, f-off, the selection stage):

    * CPU of device m: ``sum_i (1 - a_i)(c_s_i + alpha) + p1 c_i beta``;
    * uplink of device m: ``sum_i tx_i (a_i + p1 (1 - a_i - c_i) + p2 c_i)``;
    * cloud: ``(c_u + c_step) / S * sum_i (a_i + p1 (1 - a_i - c_i))``.

    The makespan is at least each busy time, so its expectation is at least the largest
    expected load (Jensen), and the minimum over ``0 <= a_i, c_i; a_i + c_i <= 1`` of that
    largest load (an LP, SciPy HiGHS) bounds every online policy. The policy may use the
    image sizes (``tx_i``, ``c_s_i`` enter per image) but not the content it has not
    computed: hence "content-blind". It is not a bound for an offline plan, which knows
    the truth values (tests/test_picsys_repro.py checks it against the expected makespan
    of every static plan, by enumeration over all truth values).
    """
    if inst.n_images == 0:
        return 0.0
    from scipy.optimize import linprog

    M = inst.n_devices
    p1 = [float(d.z1.mean()) if d.n else 0.0 for d in inst.devices] if p1 is None else list(np.broadcast_to(p1, M))
    p2 = [float(d.z2.mean()) if d.n else 0.0 for d in inst.devices] if p2 is None else list(np.broadcast_to(p2, M))
    for m in range(M):
        if not (0.0 <= p2[m] <= p1[m] <= 1.0):
            raise ValueError(f"device {m}: need 0 <= p2 <= p1 <= 1, got p1={p1[m]}, p2={p2[m]}")
    N = inst.n_images
    nv = 2 * N + 1                       # a (N), c (N), T
    rows, rhs = [], []
    cloud = np.zeros(nv)
    cloud_const = 0.0
    k = 0
    cu = inst.cloud_time / inst.servers
    ub = []
    for m, dev in enumerate(inst.devices):
        cpu, up = np.zeros(nv), np.zeros(nv)
        cpu_const = up_const = 0.0
        for i in range(dev.n):
            loc = float(dev.c_s[i] + dev.alpha)
            tx = float(dev.tx[i])
            # CPU: loc - loc a + p1 beta c
            cpu_const += loc
            cpu[k] -= loc
            cpu[N + k] += p1[m] * dev.beta
            # uplink: tx (p1 + (1 - p1) a + (p2 - p1) c)
            up_const += tx * p1[m]
            up[k] += tx * (1 - p1[m])
            up[N + k] += tx * (p2[m] - p1[m])
            # cloud: cu (p1 + (1 - p1) a - p1 c)
            cloud_const += cu * p1[m]
            cloud[k] += cu * (1 - p1[m])
            cloud[N + k] -= cu * p1[m]
            row = np.zeros(nv)
            row[k] = row[N + k] = 1.0
            ub.append(row)
            k += 1
        for vec, const in ((cpu, cpu_const), (up, up_const)):
            vec = vec.copy()
            vec[-1] = -1.0
            rows.append(vec)
            rhs.append(-const)
    cloud[-1] = -1.0
    rows.append(cloud)
    rhs.append(-cloud_const)
    A = np.vstack(rows + ub)
    b = np.concatenate([rhs, np.ones(len(ub))])
    cost = np.zeros(nv)
    cost[-1] = 1.0
    res = linprog(cost, A_ub=A, b_ub=b, bounds=(0, None), method="highs")
    if res.status != 0:
        raise RuntimeError(f"content_blind_bound: LP failed ({res.message})")
    # shave the solver's optimality tolerance so that the value stays a lower bound
    return max(0.0, float(res.fun) * (1 - 1e-7) - 1e-9)


def _lp_duals(M: int, n_img: int, dev_of_col: np.ndarray, img_of_col: np.ndarray, cpu_c: np.ndarray,
              up_c: np.ndarray, off_c: np.ndarray) -> np.ndarray | None:
    """Duals of the 2M+1 load rows of the LP min T s.t. load_r(x) <= T, sum_k x_ik = 1, x >= 0.

    Solved with HiGHS through highspy (already a dependency; importing SciPy's ``linprog`` for this
    one LP cost 0.4-0.8 s per cold process, issue #15). Columns: x (nx) then T. Returns None when
    HiGHS does not report an optimum (the caller then returns the trivial bound 0). The duals
    only choose the Lagrange multipliers: the bound itself is recomputed from them in
    :func:`lp_bound`, so any dual vector gives a valid bound.
    """
    import highspy

    nx = len(dev_of_col)
    n_rows = 2 * M + 1 + n_img
    rows = np.concatenate([dev_of_col, M + dev_of_col, np.full(nx, 2 * M), 2 * M + 1 + img_of_col])
    cols = np.concatenate([np.arange(nx)] * 4)
    vals = np.concatenate([cpu_c, up_c, off_c, np.ones(nx)])
    nz = vals != 0
    rows = np.concatenate([rows[nz], np.arange(2 * M + 1)])
    cols = np.concatenate([cols[nz], np.full(2 * M + 1, nx)])
    vals = np.concatenate([vals[nz], -np.ones(2 * M + 1)])
    order = np.lexsort((rows, cols))  # column-wise (CSC) for HiGHS
    rows, cols, vals = rows[order], cols[order], vals[order]
    start = np.searchsorted(cols, np.arange(nx + 2)).astype(np.int32)
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_ = nx + 1
    lp.num_row_ = n_rows
    lp.col_cost_ = np.concatenate([np.zeros(nx), [1.0]])
    lp.col_lower_ = np.zeros(nx + 1)
    lp.col_upper_ = np.full(nx + 1, inf)
    lp.row_lower_ = np.concatenate([np.full(2 * M + 1, -inf), np.ones(n_img)])
    lp.row_upper_ = np.concatenate([np.zeros(2 * M + 1), np.ones(n_img)])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = start
    lp.a_matrix_.index_ = rows.astype(np.int32)
    lp.a_matrix_.value_ = vals.astype(float)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.passModel(lp)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return np.asarray(h.getSolution().row_dual[: 2 * M + 1], dtype=float)
