"""What the three PicSys backends share: preparation, warm starts, status mapping.

Every backend (:mod:`.cpsat`, :mod:`.pyomo_milp`, :mod:`.pulp_milp`) follows
the same steps:

1. :func:`prepare`: check the objective mode, decide infeasibility of the
   energy variant (eq. 15) without any solver (budgets are per device, so a
   plan processing every image exists iff each device's sum of per-image
   minimum energies fits its budget), compute the per-device targets of the
   ``max-processed`` mode, a valid lower bound and the best warm-start plan.
2. Build and solve the backend's model, with the warm plan as hint/incumbent
   and ``T >= lower bound`` as a cut.
3. :func:`finalize`: decode the outcomes, replay every candidate plan in the
   simulator (the single source of truth), keep the best feasible one, and
   map the native status. OPTIMAL is reported only when the simulator's
   makespan of the returned plan is within :data:`OPT_TOL` of a valid lower
   bound; a time limit with an incumbent gives FEASIBLE with bound and gap.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optoffload.errors import InvalidInstance
from optoffload.picsys import bounds as B
from optoffload.picsys.devicedp import Decomposition, decompose
from optoffload.picsys.model import (
    F_DISC,
    F_OFF,
    I_OFF,
    S_DISC,
    S_UP,
    SKIPPED,
    PicsysInstance,
    plan_to_decisions,
)
from optoffload.picsys.simulator import simulate_plan
from optoffload.solution import Solution
from optoffload.status import Status

OPT_TOL = 1e-6
"""OPTIMAL when ``objective - bound <= OPT_TOL * max(1, objective)`` (seconds)."""

OBJECTIVES = ("makespan", "max-processed")

BOUND_SAFETY = 1e-7
"""Relative margin subtracted from a MILP solver's dual bound (tolerances of big-M rows)."""


def safe_bound(bound) -> float | None:
    """A MILP dual bound lowered by :data:`BOUND_SAFETY` (None if missing or not finite)."""
    if bound is None or not math.isfinite(bound):
        return None
    return bound - BOUND_SAFETY * max(1.0, abs(bound))


@dataclass
class Prepared:
    """Everything a backend needs besides the instance."""

    inst: PicsysInstance
    mode: str
    t0: float
    deadline: float | None
    targets: list[int]
    """Per device: the number of images to process (all of them in mode makespan)."""
    skip: bool
    """Whether ``skip`` outcomes exist in the model (mode max-processed)."""
    lower: float
    """A valid lower bound on the optimum (real seconds)."""
    device_lb: list[float]
    """Per device DP bounds (0 for devices whose images may be skipped)."""
    warm_plan: list[np.ndarray] | None
    warm_value: float | None
    info: dict = field(default_factory=dict)
    infeasible: str | None = None
    dominance: bool = True
    """Drop ``f-off`` from the models (dominated by ``i-off``, see :func:`prepare`)."""
    cuts: bool = True
    """Whether :attr:`lower` holds the presolve bounds (False: it is 0)."""
    reserve: float = 0.0
    """Seconds kept back from the time limit for :func:`finalize` (``deadline`` is already earlier by it)."""

    def remaining(self, floor: float = 0.05) -> float | None:
        """Seconds left before the time limit (at least ``floor``), None without a limit."""
        if self.deadline is None:
            return None
        return max(floor, self.deadline - time.perf_counter())

    def options(self, m: int, i: int) -> tuple[int, ...]:
        """Outcome codes of image ``i`` on device ``m`` in the model (with skip if it may be skipped)."""
        dev = self.inst.devices[m]
        opts = B.image_options(dev, i, skip=self.skip and self.targets[m] < dev.n)
        if self.dominance:
            opts = tuple(k for k in opts if k != F_OFF)
        return opts


def _check_objective(objective: Any) -> str:
    if objective not in OBJECTIVES:
        raise InvalidInstance("objective", f"must be one of {', '.join(OBJECTIVES)}, got {objective!r}")
    return objective


def plan_feasible(inst: PicsysInstance, plan: list[np.ndarray], prep: Prepared) -> tuple[bool, float]:
    """Replay ``plan``: (feasible for the mode and budgets, simulator makespan)."""
    res = simulate_plan(inst, plan)
    if inst.enforce_energy and not res.energy_ok:
        return False, res.makespan
    for m, codes in enumerate(plan):
        if int(np.sum(codes != SKIPPED)) != prep.targets[m]:
            return False, res.makespan
    return True, res.makespan


def _repair_energy(inst: PicsysInstance, plan: list[np.ndarray], targets: list[int]) -> list[np.ndarray]:
    """Make a plan respect the budgets and targets: cheapest outcomes first, then skips.

    Images to process: those already processed, topped up / trimmed by least
    minimum energy to the target; then, while over budget, switch the image
    whose switch to its least-energy outcome saves the most.
    """
    out = []
    for m, (dev, codes) in enumerate(zip(inst.devices, plan)):
        codes = codes.copy()
        emin = B.min_energy(dev) if dev.energy is not None else np.zeros(dev.n)
        order = np.argsort(emin, kind="stable")
        keep = set(order[:targets[m]].tolist())
        argmin = [min(B.image_options(dev, i), key=lambda k, i=i: B.image_energy_of(dev, i, k)) for i in range(dev.n)]
        for i in range(dev.n):
            if i not in keep:
                codes[i] = SKIPPED
            elif codes[i] == SKIPPED:
                codes[i] = argmin[i]
        if inst.enforce_energy:
            thr = B.energy_threshold(dev.energy.budget)
            cur = np.array([B.image_energy_of(dev, i, int(k)) for i, k in enumerate(codes)])
            while cur.sum() > thr:
                save = np.array([cur[i] - B.image_energy_of(dev, i, argmin[i]) for i in range(dev.n)])
                i = int(np.argmax(save))
                if save[i] <= 0:
                    break
                codes[i] = argmin[i]
                cur[i] = B.image_energy_of(dev, i, argmin[i])
        out.append(codes)
    return out


PREP_SHARE = 0.5
"""Under a time limit, :func:`prepare` stops adding optional work (DP bounds, the LP bound, the
device-DP warm plan) once this share of the limit is spent; the rest is the model's."""
PREP_ALLOWANCE = 0.05
"""Seconds of bounds (DP, LP) :func:`prepare` computes even past its share of a tiny limit: the
stated overhead of a PicSys exact method beyond its limit, so that small instances keep their
presolve bound whatever the limit."""
SIM_SEC_PER_IMAGE = 1e-6
"""Estimated seconds per image of one replay in the simulator (0.9 us measured at 2.5 M images);
replaced by the measured time of the first warm plan's replay."""
FINALIZE_SIMS = 2.5
"""Replays' worth of time :func:`prepare` keeps back from the limit for :func:`finalize` (a replay of
the solver's plan, one of the best plan, and the decisions)."""
SCIPY_IMPORT_S = 1.5
"""Seconds charged for the first ``import scipy.optimize`` of a process (0.8 s measured under load, issue #15)."""
LP_SEC_PER_IMAGE = 2e-4
"""Estimated seconds per image of :func:`optoffload.picsys.bounds.lp_bound` (0.1 ms measured at
20 x 20,000 images on a loaded 2-core machine; doubled). It is started only if it fits."""


def warm_candidates(inst: PicsysInstance, targets: list[int], dec: "Decomposition | None" = None
                    ) -> list[tuple[str, list[np.ndarray]]]:
    """Simple plans: all-cloud, all-device, the device decomposition's plan; repaired for budgets/targets.

    ``dec``: the decomposition computed by :func:`prepare` (its plan is left out when it ran out of time)."""
    all_cloud = [np.full(d.n, I_OFF, dtype=np.int8) for d in inst.devices]
    all_dev = [np.where(d.z1 == 0, F_DISC, np.where(d.z2 == 1, S_UP, S_DISC)).astype(np.int8) for d in inst.devices]
    cands = [("all-cloud", all_cloud), ("all-device", all_dev)]
    if dec is None:
        dec = decompose(inst)
    if not any(p is None for p in dec.plan):
        cands.append(("device-dp", dec.plan))
    if inst.enforce_energy or any(t < d.n for t, d in zip(targets, inst.devices)):
        cands = [(name + "+repair", _repair_energy(inst, p, targets)) for name, p in cands]
    return cands


def prepare(inst: PicsysInstance, *, objective: str, time_limit: float | None, warm: bool = True,
            cuts: bool = True, dominance: bool = True) -> Prepared:
    """Steps shared by every backend before modelling (module docstring, step 1).

    ``dominance``: leave ``f-off`` out of the models. Replacing an ``f-off``
    by ``i-off`` removes CPU time (later CPU ends no later), joins the uplink
    earlier and spends less energy (eq. 16: ``e_t`` versus
    ``e_s + e_alpha + e_t``); every completion time of the simulator is
    non-decreasing in join times and durations (FIFO uplink, FIFO cloud with
    identical service), so some optimal plan has no ``f-off``, and the
    optimum and every bound are unchanged. The property tests check this
    against enumeration of all outcomes.
    """
    t0 = time.perf_counter()
    mode = _check_objective(objective)
    if mode == "max-processed" and not inst.enforce_energy:
        # without enforced budgets every image can be processed (P_m = n_m): the lexicographic
        # problem is the makespan problem, and its plans carry no mode (docs/validation.md)
        mode = "makespan"
    deadline = None if time_limit is None else t0 + float(time_limit)
    reason = B.infeasibility_reason(inst) if mode == "makespan" else None
    targets = B.max_processed(inst) if mode == "max-processed" else [d.n for d in inst.devices]
    prep = Prepared(inst=inst, mode=mode, t0=t0, deadline=deadline, targets=targets, skip=mode == "max-processed",
                    lower=0.0, device_lb=[0.0] * inst.n_devices, warm_plan=None, warm_value=None,
                    infeasible=reason, dominance=bool(dominance), cuts=bool(cuts))
    if reason is not None:
        return prep
    # under a limit, optional work stops at PREP_SHARE of it (issue #14, item 3); bounds stay valid
    budget = None if deadline is None else t0 + PREP_SHARE * float(time_limit)
    dec = None
    if cuts or warm:
        full = [m for m, d in enumerate(inst.devices) if targets[m] == d.n and d.n] if cuts else []
        dl = None if budget is None else max(budget, t0 + PREP_ALLOWANCE)
        dec = decompose(inst, devices=full, deadline=dl)
        if not dec.complete:
            prep.info["time_limit_preparation"] = "device decomposition stopped at the preparation share of the limit"
        prep.device_lb = list(dec.device_bounds)
        prep.lower = dec.bound
        prep.info["decomposition"] = {"bound": dec.bound, "exact": dec.exact, "devices_solved": dec.solved,
                                      "complete": dec.complete}
    if cuts and mode == "makespan" and inst.n_images <= 20_000:
        need = LP_SEC_PER_IMAGE * inst.n_images
        if "scipy.optimize" not in sys.modules:
            need += SCIPY_IMPORT_S  # lp_bound imports SciPy on first use, inside the limit
        if budget is None or time.perf_counter() + need <= budget or need <= PREP_ALLOWANCE:
            prep.lower = max(prep.lower, B.lp_bound(inst))
        else:
            prep.info["lp_bound_skipped"] = "not expected to fit in the preparation share of the time limit"
    sim_s = SIM_SEC_PER_IMAGE * inst.n_images
    if warm:
        best = None
        for name, plan in warm_candidates(inst, targets, dec):
            if best is not None and deadline is not None and \
                    time.perf_counter() + (1 + FINALIZE_SIMS) * sim_s > deadline:
                prep.info["warm_candidates_skipped"] = "no time left to replay more warm plans"
                break
            if dominance:
                plan = [np.where(p == F_OFF, I_OFF, p).astype(np.int8) for p in plan]
            ts = time.perf_counter()
            ok, val = plan_feasible(inst, plan, prep)
            sim_s = time.perf_counter() - ts if best is None else max(sim_s, time.perf_counter() - ts)
            if ok and (best is None or val < best[1]):
                best = (name, val, plan)
        if best is not None:
            prep.warm_plan, prep.warm_value = best[2], best[1]
            prep.info["warm_start"] = {"plan": best[0], "objective": best[1]}
    if deadline is not None:
        # keep time to decode, replay and return the answer (finalize): the backends see an earlier deadline
        prep.reserve = FINALIZE_SIMS * sim_s
        prep.deadline = deadline - prep.reserve
    prep.info["lower_bound_presolve"] = prep.lower
    return prep


def infeasible_solution(prep: Prepared, method: str) -> Solution:
    return Solution(family="picsys", instance=prep.inst.name, method=method, status=Status.INFEASIBLE,
                    objective=None, runtime=time.perf_counter() - prep.t0,
                    info={"reason": prep.infeasible, "objective_mode": prep.mode})


def finalize(prep: Prepared, method: str, *, native: str, proven: bool, plan: list[np.ndarray] | None,
             bound: float | None, info: dict | None = None) -> Solution:
    """Build the Solution (module docstring, step 3).

    ``native``: the backend's own status string (kept in ``info``);
    ``proven``: the backend proved optimality of its model; ``plan``: its
    decoded incumbent (None if none); ``bound``: its valid lower bound (real
    seconds) or None.
    """
    inst = prep.inst
    info = {**prep.info, **(info or {}), "native_status": native, "objective_mode": prep.mode}
    cands = []
    if plan is not None:
        ok, val = plan_feasible(inst, plan, prep)
        if ok:
            cands.append((val, 0, plan))
        else:
            info["solver_plan_rejected"] = "the decoded plan fails the simulator's checks (budgets or targets)"
    if prep.warm_plan is not None:
        cands.append((prep.warm_value, 1, prep.warm_plan))
    bnd = prep.lower if bound is None else max(bound, prep.lower)
    if not cands:
        return Solution(family="picsys", instance=inst.name, method=method, status=Status.UNKNOWN, objective=None,
                        bound=bnd if bound is not None else None, runtime=time.perf_counter() - prep.t0, info=info)
    if native.lower().startswith("infeasible") and prep.warm_plan is not None:
        info["warning"] = "the backend reported its model infeasible although the warm plan satisfies it"
    val, src, best = min(cands, key=lambda c: (c[0], c[1]))
    info["incumbent_from"] = "solver" if src == 0 else "warm start"
    res = simulate_plan(inst, best)
    info["processed"] = res.processed
    info["outcome_counts"] = res.counts()
    closed = val - bnd <= OPT_TOL * max(1.0, val)
    if closed:
        status = Status.OPTIMAL
    else:
        status = Status.FEASIBLE
        if proven:
            info["note"] = "the backend proved its model optimal, but its scaled/toleranced bound leaves a gap"
    return Solution(family="picsys", instance=inst.name, method=method, status=status, objective=val, bound=bnd,
                    runtime=time.perf_counter() - prep.t0,
                    decisions=plan_to_decisions(best, prep.mode), info=info)


def skipped_solution(prep: Prepared, method: str, *, native: str, note: str, info: dict | None = None) -> Solution:
    """The solver was not run (the model could not be built/loaded in time): warm start + best bound.

    With a warm start the status is FEASIBLE (or OPTIMAL when the warm plan meets
    the bound), else UNKNOWN. The bound is the presolve bound
    (:func:`optoffload.picsys.bounds.lower_bound`'s two bounds, computed by
    :func:`prepare`); with ``cuts=False`` it is computed here, as the limit has
    passed or is about to and no solver bound exists.
    """
    if not prep.cuts and prep.inst.n_images:
        prep.lower = max(prep.lower, B.lower_bound(prep.inst, mode=prep.mode, cap=512,
                                                   lp=prep.inst.n_images <= 20_000))
    bound = prep.lower if prep.warm_plan is None else None
    return finalize(prep, method, native=native, proven=False, plan=None, bound=bound,
                    info={**(info or {}), "note": note})


def presolved(prep: Prepared, method: str, backend: str, log: bool = False) -> Solution | None:
    """The answer when the preparation already proves its warm plan optimal, else None.

    The device decomposition (:mod:`optoffload.picsys.devicedp`) gives a valid lower bound and
    a plan; when the plan's simulator makespan is within :data:`OPT_TOL` of the bound (the
    paper's instances, whose cloud is far from saturated: issue #15), no model is built. The
    status is OPTIMAL with ``info.native_status`` ``presolve`` and ``info.proved_by``
    ``decomposition``; pass ``warm=False`` or ``cuts=False`` to make the backend prove it itself."""
    if prep.warm_plan is None or prep.warm_value is None or not prep.cuts:
        return None
    if prep.warm_value - prep.lower > OPT_TOL * max(1.0, prep.warm_value):
        return None
    if log:  # the user asked for the solver's log: say why there is none
        print(f"{method}: the device decomposition proved the warm plan optimal (bound {prep.lower:.9g}); "
              "no model was built (option cuts=false makes the solver prove it)", file=sys.stderr, flush=True)
    return finalize(prep, method, native="presolve", proven=True, plan=None, bound=None,
                    info={"backend": backend, "proved_by": "decomposition"})


def no_unknown_options(method: str, options: dict) -> None:
    if options:
        k = next(iter(options))
        raise InvalidInstance(k, f"unknown option for method {method!r}")
