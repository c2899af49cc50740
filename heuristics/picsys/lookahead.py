"""The look-ahead oracle (PicSys seed, section 6: "future knowledge of the truth values ... an oracle").

The look-ahead knows every truth value and time, so it is an *offline*
problem: the paper's optimum "opt" (problem (1)-(10)). We return

1. the exact optimum where it can be had: CP-SAT (``oo.solve(inst, "cpsat")``,
   issue #3) when it proves optimality within ``time_limit``, or, for at most
   ``enumerate_max`` images (default 12), exhaustive enumeration over the
   dominant outcomes below (status OPTIMAL);
2. otherwise the best plan of an offline search (status FEASIBLE) with the
   best lower bound we have (``optoffload.picsys.bounds.lower_bound`` when
   issue #3 provides it, else :func:`simple_lower_bound`).

Dominance (why two outcomes per image suffice). For every image ``i-off``
dominates ``f-off``: both end at the cloud, but ``i-off`` uses no CPU time (all
later images of the device start no later) and joins the uplink earlier.
Every completion time of the simulator is a max-plus expression that is
non-decreasing in join times and durations (FIFO uplink in queue order, FIFO
cloud with identical service times over the sorted arrivals), so no
completion gets later. Hence an optimal plan exists that uses, per image,
``i-off`` or its *local* outcome fixed by the truth values (``f-disc`` if
z1 = 0, ``s-up`` if z2 = 1, ``s-disc`` otherwise): a 0/1 "offload" mask. A
test checks this against enumeration of all outcomes.

Offline search (large instances): candidate masks from (a) a per-device
fluid-balance construction (scan the queue, put each image on the resource,
CPU or uplink, that keeps the fluid estimate of the device's finish smallest,
offloads finishing ``D`` after their upload, ``D = c_u +`` an assumed cloud
delay that is raised while the cloud is the bottleneck) and (b) the outcome
plans of the online policies, mapped to masks; then first-improvement
single-flip local search on the devices that reach the makespan, each flip
evaluated by the simulator, within ``search_evals`` plan evaluations.
"""

from __future__ import annotations

import itertools
import time

import numpy as np

from optoffload.picsys.model import (F_DISC, F_OFF, I_OFF, OUTCOMES, S_DISC, S_UP, PicsysInstance,
                                     feasible_outcomes, plan_to_decisions)
from optoffload.picsys.simulator import simulate_plan
from optoffload.solution import Solution
from optoffload.status import Status


def local_outcomes(inst: PicsysInstance) -> list[np.ndarray]:
    """Per device, the outcome of each image if it is processed locally (fixed by truth)."""
    return [np.where(d.z1 == 0, F_DISC, np.where(d.z2 == 1, S_UP, S_DISC)).astype(np.int8) for d in inst.devices]


def mask_plan(inst: PicsysInstance, masks: list[np.ndarray], local: list[np.ndarray] | None = None) -> list[np.ndarray]:
    """The outcome plan of offload masks (True: ``i-off``; False: the local outcome)."""
    local = local_outcomes(inst) if local is None else local
    return [np.where(mk, I_OFF, lo).astype(np.int8) for mk, lo in zip(masks, local)]


def plan_mask(plan: list[np.ndarray]) -> list[np.ndarray]:
    """The dominant mask of any plan: everything that reaches the cloud becomes ``i-off``."""
    return [(np.asarray(p) == I_OFF) | (np.asarray(p) == F_OFF) for p in plan]


# ------------------------------------------------------------------------------ exact, small

def enumerate_optimum(inst: PicsysInstance, *, all_outcomes: bool = False) -> tuple[float, list[np.ndarray]]:
    """Exhaustive optimum: 2^n dominant masks, or every feasible outcome with ``all_outcomes``.

    Only for small instances (the caller bounds ``n``). Returns (makespan, plan).
    """
    n_per = [d.n for d in inst.devices]
    best, best_plan = float("inf"), None
    if all_outcomes:
        choices = [feasible_outcomes(int(d.z1[i]), int(d.z2[i])) for d in inst.devices for i in range(d.n)]
        it = itertools.product(*choices)
        to_plan = lambda flat: _split(np.asarray(flat, dtype=np.int8), n_per)  # noqa: E731
    else:
        local = np.concatenate(local_outcomes(inst)) if inst.n_images else np.zeros(0, np.int8)
        it = itertools.product((False, True), repeat=inst.n_images)
        to_plan = lambda flat: _split(np.where(np.asarray(flat, bool), I_OFF, local).astype(np.int8), n_per)  # noqa
    for flat in it:
        plan = to_plan(flat)
        ms = simulate_plan(inst, plan).makespan
        if ms < best - 1e-12:
            best, best_plan = ms, plan
    if best_plan is None:
        best_plan, best = [np.zeros(0, np.int8) for _ in n_per], 0.0
    return best, best_plan


def _split(flat: np.ndarray, n_per: list[int]) -> list[np.ndarray]:
    out, k = [], 0
    for n in n_per:
        out.append(flat[k:k + n])
        k += n
    return out


# ------------------------------------------------------------------------------ bound

def simple_lower_bound(inst: PicsysInstance) -> float:
    """A valid lower bound on the makespan (used when issue #3's ``lower_bound`` is absent).

    Per image, its standalone completion if it were first in line:
    ``min(8B/r + c_u, cpu_local + [z2] 8B/r)``. Per device, each image occupies
    the CPU (``cpu_local``) or the uplink (``8B/r``) and an ``s-up`` image both,
    so ``max(CPU, uplink) >= sum_i min(cpu_i + [z2] tx_i, tx_i) / 2``. Cloud:
    every image offloaded or not, nothing can finish before the first image's
    earliest completion. The bound is the largest of these.
    """
    lb = 0.0
    for d in inst.devices:
        if d.n == 0:
            continue
        cpu = d.c_s + d.alpha + np.where(d.z1 == 1, d.beta, 0.0)
        tx = d.tx
        own = np.minimum(tx + inst.cloud_time, cpu + np.where(d.z2 == 1, tx, 0.0))
        work = np.minimum(cpu + np.where(d.z2 == 1, tx, 0.0), tx)
        lb = max(lb, float(own.max()), float(work.sum()) / 2.0)
    return lb


def best_lower_bound(inst: PicsysInstance) -> float:
    lb = simple_lower_bound(inst)
    try:
        from optoffload.picsys.bounds import lower_bound  # issue #3
    except ImportError:
        return lb
    try:
        return max(lb, float(lower_bound(inst, lp=inst.n_images <= 2000)))
    except Exception:  # noqa: BLE001 - a failing optional bound must not hide ours
        return lb


# ------------------------------------------------------------------------------ offline search

def _balance_mask(inst: PicsysInstance, delay: float) -> list[np.ndarray]:
    """Per-device fluid-balance construction (module docstring, (a))."""
    masks = []
    D = inst.cloud_time + delay
    for d in inst.devices:
        n = d.n
        cpu = d.c_s + d.alpha + np.where(d.z1 == 1, d.beta, 0.0)
        tx = d.tx
        up_local = np.where(d.z2 == 1, tx, 0.0)
        # rest-of-queue work if local / if offloaded (suffix sums, exclusive)
        wc = np.concatenate([np.cumsum(cpu[::-1])[::-1][1:], [0.0]])
        wu = np.concatenate([np.cumsum(tx[::-1])[::-1][1:], [0.0]])
        mk = np.zeros(n, bool)
        c = u = 0.0
        for i in range(n):
            # option offload
            u_off = max(u, c) + tx[i]
            f_off = _fluid(c, u_off + D, wc[i], wu[i], max(u_off + D, c))
            c_loc = c + cpu[i]
            u_loc = max(u, c_loc) + up_local[i] if up_local[i] > 0 else u
            f_loc = _fluid(c_loc, u + D, wc[i], wu[i], max(c_loc, u_loc))
            if f_off < f_loc:
                mk[i], u = True, u_off
            else:
                c, u = c_loc, u_loc
        masks.append(mk)
    return masks


def _fluid(c: float, u: float, wc: float, wu: float, floor: float) -> float:
    """min over x in [0, 1] of max(c + (1-x) wc, u + x wu), at least ``floor``."""
    if wc + wu <= 0:
        return floor
    x = (c + wc - u) / (wc + wu)
    x = min(1.0, max(0.0, x))
    return max(floor, c + (1 - x) * wc, u + x * wu)


def offline_search(inst: PicsysInstance, *, seeds: list[list[np.ndarray]] = (), search_evals: int = 300,
                   search_time: float | None = None,
                   rng: np.random.Generator | None = None) -> tuple[float, list[np.ndarray]]:
    """Best mask plan found by construction + local search (module docstring). Returns (makespan, plan)."""
    local = local_outcomes(inst)
    cands = [plan_mask(p) for p in seeds]
    cands.append([np.zeros(d.n, bool) for d in inst.devices])
    cands.append([np.ones(d.n, bool) for d in inst.devices])
    delay = 0.0
    for _ in range(4):
        mk = _balance_mask(inst, delay)
        cands.append(mk)
        res = simulate_plan(inst, mask_plan(inst, mk, local))
        # cloud congestion seen by the plan: push the assumed delay up if the cloud finishes last
        extra = res.cloud_completion - _device_side_finish(inst, res)
        if extra <= 1e-9:
            break
        delay += extra
    best, best_mask = float("inf"), None
    for mk in cands:
        ms = simulate_plan(inst, mask_plan(inst, mk, local)).makespan
        if ms < best - 1e-12:
            best, best_mask = ms, [m.copy() for m in mk]
    best, best_mask = _local_search(inst, best_mask, best, local, search_evals, search_time,
                                    rng or np.random.default_rng(0))
    return best, mask_plan(inst, best_mask, local)


def _device_side_finish(inst: PicsysInstance, res) -> float:
    """Largest completion of images that do not end at the cloud."""
    out = 0.0
    for p, c in zip(res.outcomes, res.completion):
        sel = (p != I_OFF) & (p != F_OFF)
        if sel.any():
            out = max(out, float(np.nanmax(c[sel])))
    return out


def _local_search(inst, mask, best, local, search_evals, search_time, rng):
    """First-improvement single flips on the devices that reach the makespan.

    Stops after ``search_evals`` plan evaluations (deterministic for a seed) or,
    if given, ``search_time`` seconds, whichever comes first.
    """
    t_end = time.perf_counter() + search_time if search_time is not None else float("inf")
    evals = 0
    improved = True
    while improved and evals < search_evals and time.perf_counter() < t_end:
        improved = False
        res = simulate_plan(inst, mask_plan(inst, mask, local))
        crit = [m for m in np.argsort(-res.device_completion) if res.device_completion[m] >= best - 1e-9]
        for m in crit:
            idx = rng.permutation(inst.devices[m].n)
            for i in idx:
                if evals >= search_evals or time.perf_counter() >= t_end:
                    break
                mask[m][i] = ~mask[m][i]
                ms = simulate_plan(inst, mask_plan(inst, mask, local)).makespan
                evals += 1
                if ms < best - 1e-12:
                    best, improved = ms, True
                    break
                mask[m][i] = ~mask[m][i]
            if improved:
                break
    return best, mask


# ------------------------------------------------------------------------------ the method

def _policy_seeds(inst: PicsysInstance, seed: int, deadline: float | None = None) -> list[list[np.ndarray]]:
    """Outcome plans of the time-heuristic and balance policies; under ``deadline`` each runs only
    if it is expected to end in time (balance: 5x the time-heuristic's measured time, issue #15)."""
    from optoffload.heuristics.picsys.time_heuristic import TimeHeuristic
    from optoffload.picsys.simulator import run_policy

    if deadline is not None and time.perf_counter() + POLICY_SEC_PER_IMAGE * inst.n_images >= deadline:
        return []
    t = time.perf_counter()
    seeds = [run_policy(inst, TimeHeuristic(), seed=seed).outcomes]
    if deadline is not None and time.perf_counter() + 5 * (time.perf_counter() - t) > deadline:
        return seeds
    try:
        from optoffload.heuristics.picsys.balance import Balance

        seeds.append(run_policy(inst, Balance(), seed=seed).outcomes)
    except ImportError:  # pragma: no cover
        pass
    return seeds


def look_ahead(inst, *, time_limit=None, seed=0, threads=None, exact: str = "auto", enumerate_max: int = 12,
               search_evals: int = 300, search_time: float | None = None, bound: str = "best", **options):
    """The look-ahead oracle (section 6): the exact optimum where it can be had, else a strong search.

    ``exact``: ``"auto"`` (enumeration up to ``enumerate_max`` images, then
    CP-SAT when registered, then search), ``"cpsat"``, ``"enumerate"`` or
    ``"none"`` (search only). ``time_limit`` bounds the whole method: CP-SAT
    gets :data:`CP_SHARE` of it (10 s without a limit), the search what is left;
    ``search_evals`` bounds the local search by plan evaluations (default 300,
    deterministic for a seed); ``search_time`` adds a wall-clock cap.
    Instances with energy budgets (eq. 15) are solved by
    :func:`_look_ahead_energy` (CP-SAT's budgeted optimum).
    ``bound``: ``"best"`` (issue #3's ``lower_bound`` when present, with its LP
    up to 2,000 images) or ``"simple"`` (:func:`simple_lower_bound`, free).
    """
    from optoffload.errors import InvalidInstance

    if options:
        raise InvalidInstance(next(iter(options)), "unknown option for method 'look-ahead'")
    if exact not in ("auto", "cpsat", "enumerate", "none"):
        raise InvalidInstance("exact", f"must be auto, cpsat, enumerate or none, got {exact!r}")
    if bound not in ("best", "simple"):
        raise InvalidInstance("bound", f"must be best or simple, got {bound!r}")
    t0 = time.perf_counter()
    deadline = None if time_limit is None else t0 + float(time_limit)
    if inst.enforce_energy:
        return _look_ahead_energy(inst, t0, deadline, seed, threads)
    info: dict = {}
    if exact == "enumerate" or (exact == "auto" and inst.n_images <= enumerate_max):
        ms, plan = _enumerate(inst, info)
        return _solution(inst, plan, Status.OPTIMAL, ms, time.perf_counter() - t0, info)
    cp = None
    if exact in ("auto", "cpsat"):
        # one limit for the whole oracle: CP-SAT gets CP_SHARE of it, the search the rest (issue #14, item 3)
        cp_limit = 10.0 if deadline is None else CP_SHARE * (deadline - time.perf_counter())
        cp = _try_cpsat(inst, cp_limit, seed, threads) if cp_limit >= 0.05 else None
        if cp is not None and cp.status == Status.OPTIMAL:
            cp.method, cp.info = "look-ahead", {**cp.info, "method": "cpsat (proven optimal)"}
            cp.runtime = time.perf_counter() - t0
            return cp
    st = search_time
    if deadline is not None:
        left = max(0.0, deadline - time.perf_counter())
        st = left if st is None else min(float(st), left)
    if deadline is not None and time.perf_counter() + SEARCH_SIMS * SIM_SEC_PER_IMAGE * inst.n_images > deadline \
            and cp is not None and cp.status.has_solution:
        # not even the search's construction replays fit: CP-SAT's answer (its incumbent or warm start)
        cp.method, cp.info = "look-ahead", {**cp.info, "method": "cpsat incumbent (no time for the offline search)"}
        cp.runtime = time.perf_counter() - t0
        return cp
    seeds = _policy_seeds(inst, seed, None if deadline is None else deadline - 0.5 * (deadline - time.perf_counter()))
    if deadline is not None:
        left = max(0.0, deadline - time.perf_counter())
        st = left if search_time is None else min(float(search_time), left)
    ms, plan = offline_search(inst, seeds=seeds, search_evals=int(search_evals), search_time=st,
                              rng=np.random.default_rng(seed))
    info["method"] = "offline search"
    if cp is not None and cp.bound is not None and deadline is not None:
        bound = simple_lower_bound(inst)  # CP-SAT's bound already holds the presolve (DP and LP) bounds
    else:
        bound = best_lower_bound(inst) if bound == "best" else simple_lower_bound(inst)
    if cp is not None and cp.status.has_solution and cp.objective is not None and cp.objective < ms:
        ms, plan = cp.objective, [np.array([OUTCOMES.index(c) for c in row], dtype=np.int8)
                                  for row in cp.decisions["outcomes"]]
        info["method"] = "cpsat incumbent"
    if cp is not None and cp.bound is not None:
        bound = max(bound, cp.bound)
    status = Status.OPTIMAL if bound >= ms - 1e-9 else Status.FEASIBLE
    return _solution(inst, plan, status, ms, time.perf_counter() - t0, info, bound=min(bound, ms))


POLICY_SEC_PER_IMAGE = 2e-5
"""Estimated seconds per image of the time-heuristic's event loop (19 us measured at 2.5 M images
on a loaded machine); a policy seed runs only if it is expected to fit."""
SIM_SEC_PER_IMAGE = 1e-6
"""Estimated seconds per image of one plan replay (0.9 us measured at 2.5 M images)."""
SEARCH_SIMS = 8
"""Replays the offline search needs before its local search (candidates and cloud-delay rounds)."""
CP_SHARE = 0.6
"""Share of ``time_limit`` given to CP-SAT in :func:`look_ahead` (the offline search gets the rest)."""


def _look_ahead_energy(inst, t0, deadline, seed, threads):
    """The oracle with energy budgets (eq. 15): the offline optimum of the budgeted problem.

    The dominance argument of the module docstring does not hold under budgets (``i-off`` and
    the local outcomes spend different energy), so the oracle is CP-SAT's model of eq. (15)
    within the limit (10 s without one), compared with the energy-heuristic's plan when that
    plan keeps every budget. OPTIMAL only when CP-SAT proves it; INFEASIBLE when CP-SAT proves
    no plan fits the budgets; UNKNOWN when neither gives a budget-feasible plan.
    """
    from optoffload.picsys.model import OUTCOMES as OC

    limit = 10.0 if deadline is None else max(0.05, 0.9 * (deadline - time.perf_counter()))
    cp = _try_cpsat(inst, limit, seed, threads)
    if cp is not None and cp.status in (Status.OPTIMAL, Status.INFEASIBLE):
        cp.method, cp.info = "look-ahead", {**cp.info, "method": f"cpsat ({cp.status.value}, energy budgets)"}
        cp.runtime = time.perf_counter() - t0
        return cp
    cands = []
    if cp is not None and cp.status.has_solution:
        cands.append((cp.objective, "cpsat incumbent (energy budgets)",
                      [np.array([OC.index(c) for c in row], dtype=np.int8) for row in cp.decisions["outcomes"]]))
    try:
        from .time_heuristic import energy_heuristic

        eh = energy_heuristic(inst, seed=seed)
        plan = [np.array([OC.index(c) for c in row], dtype=np.int8) for row in eh.decisions["outcomes"]]
        res = simulate_plan(inst, plan)
        if res.energy_ok and res.processed == inst.n_images:
            cands.append((res.makespan, "energy-heuristic plan", plan))
    except Exception:  # noqa: BLE001 - an optional candidate
        pass
    bound = cp.bound if cp is not None else None
    if not cands:
        return Solution(family="picsys", instance=inst.name, method="look-ahead", status=Status.UNKNOWN,
                        objective=None, bound=bound, runtime=time.perf_counter() - t0,
                        info={"method": "no budget-feasible plan found within the limit"})
    ms, how, plan = min(cands, key=lambda c: c[0])
    return _solution(inst, plan, Status.FEASIBLE, ms, time.perf_counter() - t0, {"method": how},
                     bound=None if bound is None else min(bound, ms))


def _enumerate(inst, info):
    """Issue #3's vectorised brute force (all outcomes) when present, else our 2^n enumeration."""
    try:
        from optoffload.picsys.bruteforce import brute_force
    except ImportError:
        brute_force = None
    if brute_force is not None and inst.n_images <= 13:
        ms, dec = brute_force(inst)
        info["method"] = "brute force (all outcomes)"
        return ms, [np.array([OUTCOMES.index(c) for c in row], dtype=np.int8) for row in dec["outcomes"]]
    info["method"] = "enumeration (dominant outcomes)"
    return enumerate_optimum(inst)


def _try_cpsat(inst, time_limit, seed, threads):
    import optoffload as oo

    if "cpsat" not in oo.methods("picsys"):
        return None
    try:
        return oo.solve(inst, "cpsat", time_limit=time_limit, seed=seed, threads=threads)
    except Exception:  # noqa: BLE001 - the oracle falls back to its own search
        return None


def _solution(inst, plan, status, ms, runtime, info, bound=None):
    if status == Status.OPTIMAL and bound is None:
        bound = ms
    return Solution(family="picsys", instance=inst.name, method="look-ahead", status=status, objective=ms,
                    bound=bound, runtime=runtime, decisions=plan_to_decisions(plan), info=info)

