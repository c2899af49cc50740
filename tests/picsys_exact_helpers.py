"""Random tiny PicSys instances for the exact-method property tests (tests/test_picsys_exact*.py).

Built to exercise every part of the model: ties (identical devices and sizes,
as in Table 2), a cloud that is a bottleneck (``c_u`` comparable to transfer
times), two cloud servers, all truth-value patterns and energy budgets between
the least and the largest energy a device can spend.
"""

from __future__ import annotations

import numpy as np

from optoffload.picsys.bounds import image_energy_of, image_options
from optoffload.picsys.model import PicsysInstance


def tiny_instance(seed: int, *, max_devices: int = 3, max_images: int = 8, energy: bool | None = None) -> PicsysInstance:
    rng = np.random.default_rng(seed)
    M = int(rng.integers(1, max_devices + 1))
    total = int(rng.integers(M, max_images + 1))
    counts = np.ones(M, dtype=int)
    for _ in range(total - M):
        counts[rng.integers(M)] += 1
    ties = rng.random() < 0.3
    servers = 2 if rng.random() < 0.2 else 1
    c_u = float(rng.choice([0.01, 0.1, 0.3])) if not ties else 0.1
    with_energy = bool(rng.random() < 0.35) if energy is None else energy
    devices = []
    for m in range(M):
        n = int(counts[m])
        if ties:
            rate, alpha, beta = 20e6, 0.3, 0.6
            size = [800000.0] * n
            c_s = 0.05
        else:
            rate = float(rng.choice([5e6, 10e6, 20e6]))
            alpha, beta = float(rng.uniform(0.05, 0.4)), float(rng.uniform(0.1, 0.8))
            size = rng.integers(100_000, 1_500_000, n).astype(float).tolist()
            c_s = float(rng.uniform(0.0, 0.1))
        z1 = (rng.random(n) < 0.5).astype(int)
        z2 = (z1 & (rng.random(n) < 0.5)).astype(int)
        d = {"rate": rate, "alpha": alpha, "beta": beta,
             "images": {"count": n, "size": size, "c_s": c_s, "hit": z2.tolist(), "z1": z1.tolist(),
                        "z2": z2.tolist()}}
        if with_energy:
            d["energy"] = {"budget": 1.0, "e_s": 0.00016, "e_t": float(rng.choice([0.0006, 0.0032])),
                           "e_alpha": 0.0037, "e_beta": 0.0103}
        devices.append(d)
    inst = PicsysInstance.from_dict({"format": 1, "family": "picsys", "name": f"tiny-{seed}",
                                     "cloud": {"servers": servers, "c_u": c_u}, "devices": devices})
    if with_energy:
        # budgets between each device's least and largest possible energy (some below the least)
        data = inst.to_dict()
        for m, dev in enumerate(inst.devices):
            lo = sum(min(image_energy_of(dev, i, k) for k in image_options(dev, i)) for i in range(dev.n))
            hi = sum(max(image_energy_of(dev, i, k) for k in image_options(dev, i)) for i in range(dev.n))
            tight = rng.random() < 0.5
            data["devices"][m]["energy"]["budget"] = float(rng.uniform(0.6 * lo, 1.1 * lo) if tight
                                                           else rng.uniform(lo, hi))
        data["enforce_energy"] = True
        inst = PicsysInstance.from_dict(data)
    return inst
