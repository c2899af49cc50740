"""CP-SAT on several cloud servers (issue #15): the ``S > 1`` cloud model and the cloud cuts.

Ground truth is brute-force enumeration of every plan
(``optoffload/picsys/bruteforce.py``, itself checked against the simulator in
``tests/test_picsys_exact.py``). The hard cases in
``tests/picsys_cpsat_servers_cases.json`` are random cloud-bound instances
that the former model (``cloud="cumulative"``) left unproven after 5 s
(bounds 10-30 % below the optimum) while ``pyomo`` proved them; their
optimum is recomputed here by brute force, never copied from a solver.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import optoffload as oo
from optoffload.formulations.picsys.cloudcuts import earliest_arrivals, threshold_cuts
from optoffload.picsys import bounds as B
from optoffload.picsys.bruteforce import brute_force, enumerate_plans
from optoffload.picsys.model import PicsysInstance

TOL = 1e-6
CASES = json.loads((Path(__file__).parent / "picsys_cpsat_servers_cases.json").read_text())


def cloud_bound_instance(seed: int, *, max_images: int = 9, energy: bool = False) -> PicsysInstance:
    """A random tiny instance with 2-3 servers where the cloud is a bottleneck.

    Rates, sizes and CPU times are drawn log-uniformly so that transfer times,
    CPU times and ``c_u`` overlap (``c_u`` in [0.01, 1] s); this is the regime
    where the cumulative model failed (issue #15).
    """
    rng = np.random.default_rng(seed)
    S = int(rng.integers(2, 4))
    M = int(rng.integers(1, 4))
    N = int(rng.integers(max(M, 4), max_images + 1))
    counts = np.ones(M, dtype=int)
    for _ in range(N - M):
        counts[rng.integers(M)] += 1
    devs = []
    for m in range(M):
        n = int(counts[m])
        z1 = (rng.random(n) < 0.5).astype(int)
        z2 = (z1 & (rng.random(n) < 0.5)).astype(int)
        d = {"rate": float(10 ** rng.uniform(6.5, 8.5)), "alpha": float(10 ** rng.uniform(-2, -0.3)),
             "beta": float(10 ** rng.uniform(-2, 0)),
             "images": {"count": n, "size": (10 ** rng.uniform(4.5, 6.2, n)).tolist(),
                        "c_s": float(rng.uniform(0, 0.1)), "hit": z2.tolist(), "z1": z1.tolist(),
                        "z2": z2.tolist()}}
        if energy:
            d["energy"] = {"budget": 1.0, "e_s": 0.00016, "e_t": 0.0032, "e_alpha": 0.0037, "e_beta": 0.0103}
        devs.append(d)
    data = {"format": 1, "family": "picsys", "name": f"ms-{seed}",
            "cloud": {"servers": S, "c_u": float(10 ** rng.uniform(-2, 0))}, "devices": devs}
    inst = PicsysInstance.from_dict(data)
    if energy:
        # budgets between the least and the largest energy of each device, so some images are skipped
        for m, dev in enumerate(inst.devices):
            lo = sum(min(B.image_energy_of(dev, i, k) for k in B.image_options(dev, i)) for i in range(dev.n))
            data["devices"][m]["energy"]["budget"] = float(rng.uniform(0.5 * lo, 1.2 * lo))
        data["enforce_energy"] = True
        inst = PicsysInstance.from_dict(data)
    return inst


def _check(sol, best):
    assert sol.status == oo.Status.OPTIMAL, (sol.status, sol.info.get("native_status"))
    assert abs(sol.objective - best) <= TOL * max(1.0, best)
    assert sol.bound <= best + 1e-9


# ------------------------------------------------------------------------------ random tiny instances

@pytest.mark.parametrize("seed", range(24))
def test_cpsat_equals_bruteforce_on_random_multiserver(seed):
    """cpsat (defaults and cold: warm=False, cuts=False) proves the brute-force optimum; the bound is valid."""
    inst = cloud_bound_instance(seed)
    best, _ = brute_force(inst)
    for kw in ({}, {"warm": False, "cuts": False}):
        _check(oo.solve(inst, "cpsat", **kw), best)


@pytest.mark.parametrize("seed", range(100, 106))
def test_cpsat_and_pyomo_agree_with_bruteforce(seed):
    """On smaller instances (at most 6 images) pyomo (HiGHS) proves the same brute-force optimum."""
    inst = cloud_bound_instance(seed, max_images=6)
    best, _ = brute_force(inst)
    _check(oo.solve(inst, "cpsat", warm=False, cuts=False), best)
    _check(oo.solve(inst, "pyomo"), best)


@pytest.mark.parametrize("seed", range(200, 206))
def test_cpsat_max_processed_multiserver(seed):
    """Energy variant, mode max-processed (skips allowed, so the cuts see skip outcomes): brute force agrees."""
    inst = cloud_bound_instance(seed, max_images=7, energy=True)
    best, _ = brute_force(inst, mode="max-processed")
    sol = oo.solve(inst, "cpsat", objective="max-processed")
    if best is None:
        assert sol.status == oo.Status.INFEASIBLE
        return
    _check(sol, best)
    en = enumerate_plans(inst, mode="max-processed")
    assert sol.info["processed"] == int(en.processed[en.energy_ok].max())


@pytest.mark.parametrize("cloud", ["servers", "lag+cumulative", "cuts+cumulative", "servers+lag", "cumulative"])
def test_every_cloud_variant_is_exact(cloud):
    """Each part of the S > 1 model alone keeps the optimum (the module docstring's proof, part by part)."""
    for seed in range(300, 304):
        inst = cloud_bound_instance(seed, max_images=7)
        best, _ = brute_force(inst)
        _check(oo.solve(inst, "cpsat", warm=False, cuts=False, cloud=cloud), best)


# ------------------------------------------------------------------------------ the hard cases (issue #15)

@pytest.mark.parametrize("case", CASES, ids=[c["instance"]["name"] for c in CASES])
def test_hard_cloud_bound_cases_are_proven(case):
    """The reproduced hard instances: optimal, equal to brute force, with and without warm start and cuts."""
    inst = PicsysInstance.from_dict(case["instance"])
    assert inst.servers > 1
    best, _ = brute_force(inst)
    for kw in ({}, {"warm": False, "cuts": False}):
        _check(oo.solve(inst, "cpsat", time_limit=60, **kw), best)


# ------------------------------------------------------------------------------ the cloud cuts

def _arrivals_by_hand(inst, plan):
    """Arrival (upload end) of every offloaded image: eq. 9 CPU chain and the FIFO uplink, written out."""
    out = {}
    for m, (dev, codes) in enumerate(zip(inst.devices, plan)):
        E = W = 0.0
        for i, k in enumerate(codes):
            E += B.cpu_time(dev, i, int(k))
            if B.UPLOADS[k]:
                W = max(W, E) + float(dev.tx[i])
                if B.OFFLOADS[k]:
                    out[(m, i)] = W
    return out


@pytest.mark.parametrize("seed", range(10))
def test_earliest_arrivals_and_threshold_cuts_are_valid(seed):
    """Over every plan: each arrival is >= its earliest arrival (which some plan attains), and every plan's
    makespan is >= t + c * ceil(#offloaded in the group / S) for every threshold cut."""
    inst = cloud_bound_instance(seed, max_images=6)
    arr = earliest_arrivals(inst)
    cuts = threshold_cuts(arr)
    en = enumerate_plans(inst)
    attained = {}
    for row in range(len(en.plans)):
        plan = en.split(inst, row)
        a = _arrivals_by_hand(inst, plan)
        for (m, i), t in a.items():
            assert t >= arr[m][i] - 1e-12
            attained[(m, i)] = min(attained.get((m, i), math.inf), t)
        for t, grp in cuts:
            n = sum(1 for g in grp if g in a)
            assert en.makespan[row] >= (t if n else 0.0) + inst.cloud_time * math.ceil(n / inst.servers) - 1e-12
    for (m, i), t in attained.items():
        assert t == pytest.approx(arr[m][i], abs=1e-12)  # exact for tiny devices (front below the cap)


def test_threshold_cut_by_hand():
    """One device, 3 identical images, tx = 8 * 1e6 / 8e7 = 0.1 s, c_u = 1, S = 2, all z1 = 0.

    By hand: the earliest arrivals are 0.1, 0.2, 0.3 (i-off of every earlier image fills the
    uplink; processing one locally costs c_s + alpha = 0.5 s > 0.1 s). Thresholds 0.1, 0.2, 0.3
    group images {0,1,2}, {1,2}, {2}. Offloading all three: T >= 0.1 + 1 * ceil(3/2) = 2.1.
    The optimum is 1.1: offload image 0 (cloud end 0.1 + 1), process 1 and 2 locally (CPU end
    2 * 0.5); every plan offloading two or more images ends at >= 1.2 (second cloud end
    0.2 + 1), offloading none ends at 1.5, offloading only image 1 or 2 ends at >= 1.6.
    """
    d = {"rate": 8e7, "alpha": 0.4, "beta": 0.5,
         "images": {"count": 3, "size": 1e6, "c_s": 0.1, "hit": [0, 0, 0], "z1": [0, 0, 0], "z2": [0, 0, 0]}}
    inst = PicsysInstance.from_dict({"format": 1, "family": "picsys", "name": "cut",
                                     "cloud": {"servers": 2, "c_u": 1.0}, "devices": [d]})
    arr = earliest_arrivals(inst)
    assert arr[0] == pytest.approx([0.1, 0.2, 0.3])
    cuts = threshold_cuts(arr)
    assert [(round(t, 9), g) for t, g in cuts] == [(0.1, [(0, 0), (0, 1), (0, 2)]), (0.2, [(0, 1), (0, 2)]),
                                                   (0.3, [(0, 2)])]
    for kw in ({}, {"warm": False, "cuts": False}):
        sol = oo.solve(inst, "cpsat", **kw)
        assert sol.status == oo.Status.OPTIMAL and sol.objective == pytest.approx(1.1)
    assert brute_force(inst)[0] == pytest.approx(1.1)
    assert len(threshold_cuts(arr, max_cuts=2)) == 2 and threshold_cuts(arr, max_cuts=2)[0][0] == cuts[0][0]


# ------------------------------------------------------------------------------ the option

def test_cloud_option_rejects_bad_values():
    inst = cloud_bound_instance(0)
    for bad in ("bogus", "servers+bogus", "", 3):
        with pytest.raises(oo.InvalidInstance, match="cloud"):
            oo.solve(inst, "cpsat", cloud=bad)


def test_cli_cloud_option(tmp_path):
    """CLI: --option cloud=... reaches the model; a bad value exits 2 with one line on stderr."""
    p = tmp_path / "ms.json"
    p.write_text(json.dumps(CASES[0]["instance"]))
    ok = subprocess.run([sys.executable, "-m", "optoffload", "solve", str(p), "--method", "cpsat",
                         "--option", "cloud=servers+lag", "--json"], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["status"] == "optimal"
    bad = subprocess.run([sys.executable, "-m", "optoffload", "solve", str(p), "--method", "cpsat",
                          "--option", "cloud=bogus"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2
    assert len(bad.stderr.strip().splitlines()) == 1 and "cloud" in bad.stderr


def _constraint_kinds(inst, cloud="auto"):
    from optoffload.formulations.picsys.common import prepare
    from optoffload.formulations.picsys.cpsat import CpsatModel

    cm = CpsatModel(prepare(inst, objective="makespan", time_limit=None), cloud=cloud)
    cons = list(cm.model.Proto().constraints)

    def count(kind):  # the proto wrapper of OR-Tools >= 9.12 has has_<kind>(), protobuf has HasField
        return sum(bool(getattr(c, f"has_{kind}")() if hasattr(c, f"has_{kind}") else c.HasField(kind))
                   for c in cons)
    return count("cumulative"), count("no_overlap"), inst.n_devices


def test_auto_switches_model_by_size():
    """auto: S explicit servers (one NoOverlap each, plus one per device uplink) up to
    AUTO_SERVERS_MAX_JOBS cloud jobs, a Cumulative beyond; S = 1 keeps one NoOverlap for the cloud."""
    from optoffload.formulations.picsys.cpsat import AUTO_SERVERS_MAX_JOBS
    from optoffload.picsys.generator import generate

    small = generate(seed=0, preset="large", devices=4, images=40, servers=3)
    cum, nov, M = _constraint_kinds(small)
    assert (cum, nov) == (0, M + 3)
    assert _constraint_kinds(small, "cumulative")[:2] == (1, M)
    # cuts=False: the model path (the device decomposition may prove these without any model)
    assert oo.solve(small, "cpsat", time_limit=5, cuts=False).info["cloud_model"] == "servers+lag"
    big = generate(seed=0, preset="large", devices=4, images=AUTO_SERVERS_MAX_JOBS + 4, servers=3)
    assert oo.solve(big, "cpsat", time_limit=5, cuts=False).info["cloud_model"] == "cumulative+lag"
    cum, nov, M = _constraint_kinds(big)
    assert (cum, nov) == (1, M)
    cum, nov, M = _constraint_kinds(small.with_(servers=1))
    assert (cum, nov) == (0, M + 1)


def test_earliest_arrivals_honours_deadline():
    """Past its deadline the cut preparation stops with BuildTimeout (the model build is charged to the limit)."""
    import time

    from optoffload.formulations.picsys.milp import BuildTimeout

    with pytest.raises(BuildTimeout):
        earliest_arrivals(cloud_bound_instance(0), deadline=time.perf_counter() - 1.0)


def test_more_servers_than_jobs_needs_no_cloud_rows():
    """S >= number of offloadable images: each offload has its own server; brute force agrees."""
    inst = cloud_bound_instance(7, max_images=5).with_(servers=8)
    best, _ = brute_force(inst)
    _check(oo.solve(inst, "cpsat", warm=False, cuts=False), best)
    cum, nov, M = _constraint_kinds(inst)
    assert (cum, nov) == (0, sum(1 for d in inst.devices if d.n > 1))
