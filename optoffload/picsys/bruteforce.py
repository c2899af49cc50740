"""Enumerate every outcome plan of a tiny PicSys instance (the tests' ground truth).

Each image has at most three outcomes allowed by its truth values (paper
constraints (2)-(8)), plus ``skip`` in the ``max-processed`` mode of the
energy variant, so an instance with ``N`` images has at most ``3^N`` (``4^N``)
plans. They are evaluated in vectorised batches with the simulator's semantics
(``shared/design/picsys.md``): CPU chain without idling (eq. 9), per-device FIFO
uplink, FIFO cloud on ``S`` servers, whose last completion is
``max_j (a_j + (c_u + c_step) ceil(n_j / S))`` over arrivals ``a_j`` with ``n_j`` the
number of arrivals at or after ``a_j`` (the closed form of FIFO with identical
service times). The winner is replayed in :func:`~optoffload.picsys.simulator.simulate_plan`,
so the makespan returned is the simulator's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .bounds import OFFLOADS, UPLOADS, cpu_time, energy_threshold, image_energy_of, image_options
from .model import SKIPPED, PicsysInstance, plan_to_decisions


@dataclass
class Enumeration:
    """All plans of an instance with what the simulator measures for each."""

    plans: np.ndarray
    """``(P, N)`` int8 outcome codes, images in device order then queue order."""
    makespan: np.ndarray
    processed: np.ndarray
    energy_ok: np.ndarray
    """True where every enforced budget holds (always True when budgets are not enforced)."""

    def split(self, inst: PicsysInstance, row: int) -> list[np.ndarray]:
        """Plan ``row`` as one code array per device."""
        out, k = [], 0
        for dev in inst.devices:
            out.append(self.plans[row, k:k + dev.n].copy())
            k += dev.n
        return out


def count_plans(inst: PicsysInstance, *, mode: str = "makespan") -> int:
    skip = mode == "max-processed"
    return math.prod(len(image_options(d, i, skip=skip)) for d in inst.devices for i in range(d.n))


def _evaluate_batch(inst: PicsysInstance, P: np.ndarray):
    """Makespan, processed count and energy feasibility of each row of ``P``."""
    n_plans = P.shape[0]
    span = np.zeros(n_plans)
    arrivals = []
    energy_ok = np.ones(n_plans, dtype=bool)
    col = 0
    for dev in inst.devices:
        E = np.zeros(n_plans)
        W = np.zeros(n_plans)
        en = np.zeros(n_plans)
        for i in range(dev.n):
            c = P[:, col + i]
            cpu_tab = np.array([cpu_time(dev, i, k) for k in range(6)])
            E = E + cpu_tab[c]
            up = UPLOADS[c]
            done = np.maximum(W, E) + dev.tx[i]
            W = np.where(up, done, W)
            arrivals.append(np.where(OFFLOADS[c], done, -np.inf))
            if inst.enforce_energy:
                en = en + np.array([image_energy_of(dev, i, k) for k in range(6)])[c]
        span = np.maximum(span, np.maximum(E, W))
        if inst.enforce_energy:
            energy_ok &= en <= energy_threshold(dev.energy.budget)
        col += dev.n
    if arrivals:
        A = np.sort(np.stack(arrivals, axis=1), axis=1)
        N = A.shape[1]
        rounds = np.ceil((N - np.arange(N)) / inst.servers)
        cloud = np.where(np.isfinite(A), A + inst.cloud_time * rounds, -np.inf).max(axis=1)
        span = np.maximum(span, cloud)
    processed = (P != SKIPPED).sum(axis=1)
    return span, processed, energy_ok


def enumerate_plans(inst: PicsysInstance, *, mode: str = "makespan", max_plans: int = 1_000_000) -> Enumeration:
    """Every plan of ``inst`` (``skip`` included in mode ``max-processed``) and its measures.

    Raises ``ValueError`` when there are more than ``max_plans`` plans.
    """
    if mode not in ("makespan", "max-processed"):
        raise ValueError(f"mode must be 'makespan' or 'max-processed', got {mode!r}")
    skip = mode == "max-processed"
    opts = [np.array(image_options(d, i, skip=skip), dtype=np.int8) for d in inst.devices for i in range(d.n)]
    total = math.prod(len(o) for o in opts)
    if total > max_plans:
        raise ValueError(f"{total} plans to enumerate, more than max_plans={max_plans}")
    idx = np.arange(total, dtype=np.int64)
    P = np.empty((total, len(opts)), dtype=np.int8)
    for j in range(len(opts) - 1, -1, -1):
        idx, digit = np.divmod(idx, len(opts[j]))
        P[:, j] = opts[j][digit]
    span, processed, ok = _evaluate_batch(inst, P)
    return Enumeration(plans=P, makespan=span, processed=processed, energy_ok=ok)


def brute_force(inst: PicsysInstance, *, mode: str = "makespan", max_plans: int = 1_000_000):
    """The optimum of a tiny instance by enumeration: ``(best_makespan, best_decisions)``.

    ``mode="makespan"``: least makespan over plans processing every image
    within the enforced budgets (eq. 15). ``mode="max-processed"``: most
    images processed within the budgets, then least makespan (plans may use
    ``skip``). Returns ``(None, None)`` when no plan is feasible. The decisions
    are the JSON form accepted by :func:`~optoffload.picsys.simulator.evaluate`;
    the makespan is the simulator's replay of that plan.
    """
    from .simulator import simulate_plan

    if mode == "max-processed" and not inst.enforce_energy:
        mode = "makespan"  # every image can be processed: the same problem (docs/validation.md)
    en = enumerate_plans(inst, mode=mode, max_plans=max_plans)
    ok = en.energy_ok.copy()
    if not ok.any():
        return None, None
    if mode == "max-processed":
        ok &= en.processed == en.processed[ok].max()
    cand = np.flatnonzero(ok)
    row = int(cand[np.argmin(en.makespan[cand])])
    plan = en.split(inst, row)
    return simulate_plan(inst, plan).makespan, plan_to_decisions(plan, mode)
