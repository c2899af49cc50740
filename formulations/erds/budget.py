"""Time and memory budget of the ERDS formal-model methods (``erds-pyomo``, ``erds-cpsat``; issue #14).

The rule (docs/models.md "Time limits at every size"): a method that takes ``time_limit`` returns
within the limit plus a small stated overhead, with its incumbent (FEASIBLE) or UNKNOWN, at every
size the validator accepts (ERDS: U <= 1,000, K <= 1,000), never an exception. Building and
loading a Pyomo / CP-SAT model is not interruptible inside the modelling library, so:

1. **Estimate before building.** :func:`model_units` counts the model's rows and terms
   (joint outcomes x (U + 1) for the epigraph rows ``outcome_max_ge``, U K (K + 1) for the
   ``task_time_def`` terms, 3 U (K + 1) for the split rows); the build + load time is estimated as
   units x ``S_PER_UNIT`` (measured 2-4e-5 s/unit for Pyomo build + appsi-HiGHS load at U = 5, 6
   on the shared 2-core machine; the constant is about 3x that), and a build is started only if
   that fits the remaining time minus ``RESERVE_S``.
2. **Memory.** A model beyond ``MAX_MODEL_UNITS`` units (about 1.5 GB at the measured
   1.5-3 KB/unit) is never built, time limit or not.
3. **Check inside the build loops.** The builders call :meth:`Budget.check` once per outcome
   block (``CHECK_EVERY`` rows); past the deadline it raises :class:`BuildAborted`, which the
   methods catch.
4. **Fallback.** Instead of the model, :func:`heuristic_plan`: ERDS-HSA splits (erds.md 3.3) at
   equal shares, then the optimal shares for those splits by the share LP
   (:func:`optoffload.erds.shares.solve_shares`, with the remaining time) when its tables fit
   memory; the plan is scored by the exact evaluator (eq. (7), product of CDFs). Status FEASIBLE,
   no bound; ``info["fallback"]`` says why.
5. **Charge build + load to the limit.** The solvers get only the remaining seconds minus the
   estimated load/update time.

``clock`` is the time source (tests monkeypatch it).
"""

from __future__ import annotations

import math
import time

import numpy as np

clock = time.perf_counter
"""Time source of every deadline here (monkeypatched by the tests)."""

S_PER_UNIT = 1e-4
"""Estimated seconds per model unit to build the model and load it into the solver."""
CPSAT_S_PER_UNIT = 5e-5
"""The same for the CP-SAT model (measured 2.2e-5 s/unit at U = 5; about 2x that)."""
MAX_MODEL_UNITS = 500_000
"""Largest model (units of :func:`model_units`) ever built: about 1.5 GB of Python objects."""
RESERVE_S = 0.25
"""Seconds kept back from every estimate for the fallback and the final scoring."""
CHECK_EVERY = 2048
"""Rows between two deadline checks in the build loops (one outcome block)."""
MAX_TABLE_ENTRIES = 20_000_000
"""Largest U (K+1) K for which the full time tables (two float arrays) are built by the fallback."""


class BuildAborted(Exception):
    """The deadline passed while a model was being built."""


class Budget:
    """A deadline (None: no limit) on :data:`clock`."""

    def __init__(self, time_limit: float | None):
        self.t0 = clock()
        self.deadline = None if time_limit is None else self.t0 + float(time_limit)
        self._n = 0

    def remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - clock()

    def elapsed(self) -> float:
        return clock() - self.t0

    def fits(self, seconds: float) -> bool:
        rem = self.remaining()
        return rem is None or seconds <= rem - RESERVE_S

    def expired(self) -> bool:
        rem = self.remaining()
        return rem is not None and rem <= 0

    def check(self, where: str = "build") -> None:
        """Raise :class:`BuildAborted` past the deadline (called once per block of rows)."""
        if self.expired():
            raise BuildAborted(where)

    def tick(self, where: str = "build") -> None:
        """Count a row; every ``CHECK_EVERY`` rows, :meth:`check`."""
        self._n += 1
        if self._n % CHECK_EVERY == 0:
            self.check(where)


def n_joint_exact(P: np.ndarray) -> int:
    """Number of joint exit outcomes with nonzero probability, as a Python int (K^U overflows int64)."""
    return math.prod(int((P[u] > 0).sum()) for u in range(P.shape[0]))


def model_units(n_outcomes: int, U: int, K: int) -> int:
    """Size of the outcome model in units (rows and terms; module docstring, step 1)."""
    return int(n_outcomes) * (U + 1) + U * K * (K + 1) + 3 * U * (K + 1)


def build_seconds(units: int, per_unit: float | None = None) -> float:
    """Estimated build (or load) seconds of a model of ``units`` units."""
    return units * (S_PER_UNIT if per_unit is None else per_unit)


def task_tables(inst, u: int) -> tuple[np.ndarray, np.ndarray]:
    """(K+1) x K tables A_u, B_u of one task: ``time_tables(inst)[.][u]`` without the U x (K+1) x K arrays."""
    K = inst.K
    cum = np.cumsum(inst.loads[u])
    s = np.arange(K + 1)[:, None]
    k = np.arange(1, K + 1)[None, :]
    A = inst.edge_factor * cum[np.minimum(s, k)]
    tr = inst.tr_factor * inst.transmission[u][:, None]
    cloud = inst.cloud_factor * (cum[None, 1:] - cum[:, None])
    B = np.where(k <= s, 0.0, tr + cloud)
    return A, B


def heuristic_plan(inst, *, early_exit: bool, budget: Budget, reason: str):
    """Fallback incumbent (module docstring, step 4): (splits, shares, value, info) or None if out of time."""
    from optoffload.erds.evaluate import exit_matrix, expected_max, objective
    from optoffload.erds.inner import hsa
    from optoffload.erds.shares import _bounds, _Timeout, feasible_shares, solve_shares

    U, K = inst.U, inst.K
    info = {"fallback": reason, "fallback_method": "hsa at equal shares"}
    lo, hi = _bounds(inst)
    w = feasible_shares(np.full(U, float(inst.capacity) / U), lo, hi, float(inst.capacity))
    P = exit_matrix(inst, early_exit)
    small = U * (K + 1) * K <= MAX_TABLE_ENTRIES
    try:
        if small:
            splits = [int(s) for s in hsa(inst, w, early_exit=early_exit)]
            val = objective(inst, splits, w, early_exit=early_exit)
        else:  # per task: never the U x (K+1) x K tables
            T = np.empty((U, K))
            splits = []
            for u in range(U):
                if u % 16 == 0:
                    budget.check("fallback")
                A, B = task_tables(inst, u)
                Tu = A / w[u] + B
                s = int(np.argmin(Tu @ P[u]))
                splits.append(s)
                T[u] = Tu[s]
            val = expected_max(T, P)
    except BuildAborted:
        return None
    if small:
        rem = budget.remaining()
        if rem is None or rem > RESERVE_S:
            try:
                w2, v2, _ = solve_shares(inst, splits, early_exit=early_exit, gap=1e-8,
                                         time_limit=None if rem is None else rem - RESERVE_S / 2)
                v2 = objective(inst, splits, w2, early_exit=early_exit)
                if v2 < val:
                    w, val = w2, v2
                    info["fallback_method"] = "hsa at equal shares + optimal shares (share LP)"
            except _Timeout:
                pass
    return splits, np.asarray(w, dtype=float), float(val), info


def score(inst, splits, shares, early_exit: bool) -> float:
    """Exact F (eq. (7)) by the core evaluator (its ``task_times`` needs no full tables at large U K)."""
    from optoffload.erds.evaluate import objective

    return float(objective(inst, splits, shares, early_exit=early_exit))


def fmt_count(n: int) -> str:
    """A count for a message: digits up to 12 of them, else about 10^e (K^U is astronomically large)."""
    s = str(n)
    return s if len(s) <= 12 else f"about 10^{len(s) - 1}"


def as_budget(deadline) -> Budget:
    """A :class:`Budget` from a Budget, None (no limit) or an absolute ``time.perf_counter`` deadline
    (the form ``oo.build_model(...).solve(time_limit=...)`` passes)."""
    if isinstance(deadline, Budget):
        return deadline
    b = Budget(None)
    if deadline is not None:
        b.deadline = float(deadline) - time.perf_counter() + clock()
    return b
