"""Issue #15: what the speed work must not change, and the import budget of the CLI.

No wall-clock assertions: speed figures live in the ``erds-perf`` suite.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import optoffload as oo
from optoffload.heuristics.erds.brb import STALL_WORK, stall_patience
from optoffload.picsys.bounds import lp_bound

HEAVY = ("ortools", "pyomo", "pulp", "highspy", "scipy", "matplotlib", "pandas", "dask", "tqdm")


def test_import_and_cli_parsing_load_no_solver_layer():
    code = ("import sys, json, optoffload, optoffload.cli as c;"
            "c.build_parser().parse_args(['solve', 'picsys/table2', '--method', 'cpsat']);"
            f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == []


def test_cpsat_path_does_not_import_scipy():
    """The LP bound runs on highspy (a dependency already); SciPy's linprog cost a cold 0.4-0.8 s."""
    code = ("import sys, optoffload as oo; s = oo.solve('picsys/table2', 'cpsat');"
            "print(s.objective, 'scipy' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    obj, scipy_loaded = r.stdout.split()
    assert float(obj) == pytest.approx(1.75)  # the proven optimum of Table 2 (docs/picsys.md)
    assert scipy_loaded == "False"


def _scipy_lp_bound(inst) -> float:
    """The former implementation (SciPy linprog + sparse), kept here as an independent reference."""
    import math

    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix

    from optoffload.picsys.bounds import OFFLOADS, UPLOADS, cpu_time, image_options

    M, S, c_u = inst.n_devices, inst.servers, inst.cloud_time if hasattr(inst, "cloud_time") else inst.c_u
    dev, img, cpu, up, off = [], [], [], [], []
    tx_min, n = math.inf, 0
    for m, d in enumerate(inst.devices):
        if d.n:
            tx_min = min(tx_min, float(d.tx.min()))
        for i in range(d.n):
            for k in image_options(d, i):
                dev.append(m), img.append(n), cpu.append(cpu_time(d, i, k))
                up.append(float(d.tx[i]) if UPLOADS[k] else 0.0), off.append(1.0 if OFFLOADS[k] else 0.0)
            n += 1
    off = np.array(off) * (c_u / S + tx_min / n)
    nx = len(dev)
    cpu, up, dev, img = np.array(cpu), np.array(up), np.array(dev), np.array(img)
    r = np.concatenate([dev, M + dev, np.full(nx, 2 * M)])
    c = np.concatenate([np.arange(nx)] * 3)
    v = np.concatenate([cpu, up, off])
    nz = v != 0
    A = coo_matrix((np.concatenate([v[nz], -np.ones(2 * M + 1)]),
                    (np.concatenate([r[nz], np.arange(2 * M + 1)]), np.concatenate([c[nz], np.full(2 * M + 1, nx)]))),
                   shape=(2 * M + 1, nx + 1)).tocsr()
    Aeq = coo_matrix((np.ones(nx), (img, np.arange(nx))), shape=(n, nx + 1)).tocsr()
    cost = np.zeros(nx + 1)
    cost[nx] = 1.0
    res = linprog(cost, A_ub=A, b_ub=np.zeros(2 * M + 1), A_eq=Aeq, b_eq=np.ones(n), bounds=(0, None), method="highs")
    lam = np.maximum(-np.asarray(res.ineqlin.marginals), 0.0)
    lam = lam / lam.sum()
    w = lam[dev] * cpu + lam[M + dev] * up + lam[2 * M] * off
    per = np.full(n, np.inf)
    np.minimum.at(per, img, w)
    return float(per.sum())


@pytest.mark.parametrize("seed", range(12))
def test_lp_bound_on_highspy_equals_the_scipy_formulation(seed):
    """Two LP front ends of the same HiGHS LP give the same Lagrangian bound."""
    inst = oo.generate("picsys", seed=seed, **({"preset": "large", "devices": 4, "images": 30} if seed % 2 else {}))
    assert lp_bound(inst) == pytest.approx(_scipy_lp_bound(inst), rel=1e-7, abs=1e-9)


def test_stall_patience_keeps_the_paper_rule_for_small_u():
    """ceil(100,000 / U) >= 4000 (the paper's iteration count) for every U <= 25 (by hand)."""
    assert STALL_WORK == 100_000
    assert all(stall_patience(U, STALL_WORK) >= 4000 for U in range(1, 26))
    assert stall_patience(1000, STALL_WORK) == 100 and stall_patience(10_000, STALL_WORK) == 10
    assert stall_patience(10**7, STALL_WORK) == 2 and stall_patience(8, None) is None


@pytest.mark.parametrize("U,seed", [(2, 0), (3, 1), (4, 2), (8, 3)])
def test_stall_rule_changes_nothing_where_the_patience_exceeds_max_iter(U, seed):
    inst = oo.generate("erds", tasks=U, seed=seed)
    a = oo.solve(inst, "erds-hsa", stall_work=None)
    b = oo.solve(inst, "erds-hsa")
    assert b.objective == a.objective and b.decisions == a.decisions


def test_stall_rule_stops_large_u_early_with_a_valid_bound():
    inst = oo.generate("erds", tasks=300, seed=2)
    sol = oo.solve(inst, "erds-hsa")
    assert sol.info["stop"] == "stalled" and sol.info["iterations"] < 4000
    assert sol.info["patience"] == stall_patience(300, STALL_WORK)


def test_stall_work_option_is_checked():
    with pytest.raises(oo.InvalidInstance, match="stall_work"):
        oo.solve("erds/paper-u3", "erds-hsa", stall_work=0)
