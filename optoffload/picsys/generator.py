"""Random PicSys instances from the paper's distributions (PicSys seed, section 6.2).

Presets (every parameter can be overridden):

``large`` (6.2.3)
    ``|M| = 20``, hit rate ``h = 0.25``, sizes ``N(1 MB, 800 kB)`` truncated
    below at 10 kB, ``r = 10 Mbps``, ``alpha = 0.2``, ``beta = 0.4``,
    ``c_u = 0.01``, each drawn uniformly in ``[gamma x, x]`` with
    ``gamma = 0.6`` (rates and CNN times per device, ``c_u`` once for the
    cloud), ``TPR_alpha = 0.81``, ``TPR_beta = 0.82``, ``FPR_alpha = 0.0035``,
    ``FPR_beta = 0.0017``; scaling time by the paper's fit
    ``c_s = 0.033 B[MB] + 0.031``. 1,000 images in total unless given.
``testbed`` (6.2.2)
    3 devices x 112 images, ``h = 0.25``, ``FPR_alpha = 0.166``, 8 Mbps,
    ``gamma = 1`` (three identical phones). The paper does not give the image
    sizes nor the phones' CNN times, so they are calibrated on its two
    state-independent measurements: all-cloud 51.0 s means a mean upload of
    51.0 / 112 = 0.455 s, i.e. a mean size of 455 kB at 8 Mbps (std 364 kB,
    the large system's ratio 0.8); all-device 35.7 s means 0.319 s per image
    = c_s + alpha + P(z1) beta with P(z1) = 0.25 * 0.81 + 0.75 * 0.166 = 0.327
    and beta = 2 alpha (the large system's ratio), so alpha = 0.165 s and
    beta = 0.33 s.
``hetero`` (6.2.4, Table 4)
    20 devices in four groups of five: (high rate, high speed), (high, low),
    (low, high), (low, low) with ``alpha_low = 2 alpha``, ``beta_low = 2 beta``,
    ``r_low = r / 2``; 100 images per device.
``tokens`` (end of 6.2.3)
    100 devices x 4 images.
``energy`` (6.2.6)
    10 devices, 10,000 images, ``e_s = 0.00016``, ``e_t = 0.0006`` (WiFi,
    ``energy="wifi"``) or ``0.0032`` (LTE), ``e_alpha = 0.0037``,
    ``e_beta = 0.0103`` % per image, budget 1 % per device.

Truth values: ``hit ~ Bernoulli(h)``; ``z1 ~ Bernoulli(TPR_alpha)`` on a hit
and ``Bernoulli(FPR_alpha)`` otherwise; given ``z1 = 1``, ``z2`` likewise with
the beta rates; ``z2 = 0`` when ``z1 = 0``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InvalidInstance
from ..family import Option
from .model import PicsysInstance

PRESETS: dict[str, dict[str, Any]] = {
    "large": dict(devices=20, images=1000, hit_rate=0.25, size_mean=1e6, size_std=8e5, rate=10e6, alpha=0.2,
                  beta=0.4, c_u=0.01, gamma=0.6, tpr_alpha=0.81, tpr_beta=0.82, fpr_alpha=0.0035, fpr_beta=0.0017,
                  servers=1, energy="none", budget=1.0, hetero=False),
    "testbed": dict(devices=3, images=336, hit_rate=0.25, size_mean=4.55e5, size_std=3.64e5, rate=8e6, alpha=0.165,
                    beta=0.33, c_u=0.01, gamma=1.0, tpr_alpha=0.81, tpr_beta=0.82, fpr_alpha=0.166,
                    fpr_beta=0.0017, servers=1, energy="none", budget=1.0, hetero=False),
    "hetero": dict(devices=20, images=2000, hit_rate=0.25, size_mean=1e6, size_std=8e5, rate=10e6, alpha=0.2,
                   beta=0.4, c_u=0.01, gamma=1.0, tpr_alpha=0.81, tpr_beta=0.82, fpr_alpha=0.0035,
                   fpr_beta=0.0017, servers=1, energy="none", budget=1.0, hetero=True),
    "tokens": dict(devices=100, images=400, hit_rate=0.25, size_mean=1e6, size_std=8e5, rate=10e6, alpha=0.2,
                   beta=0.4, c_u=0.01, gamma=0.6, tpr_alpha=0.81, tpr_beta=0.82, fpr_alpha=0.0035,
                   fpr_beta=0.0017, servers=1, energy="none", budget=1.0, hetero=False),
    "energy": dict(devices=10, images=10000, hit_rate=0.25, size_mean=1e6, size_std=8e5, rate=10e6, alpha=0.2,
                   beta=0.4, c_u=0.01, gamma=0.6, tpr_alpha=0.81, tpr_beta=0.82, fpr_alpha=0.0035,
                   fpr_beta=0.0017, servers=1, energy="wifi", budget=1.0, hetero=False),
}

ENERGY = {"e_s": 0.00016, "e_alpha": 0.0037, "e_beta": 0.0103, "e_t": {"wifi": 0.0006, "lte": 0.0032}}
MIN_SIZE = 10_000.0

OPTIONS: tuple[Option, ...] = (
    Option("preset", str, "large", "parameter set of the paper", tuple(PRESETS)),
    Option("devices", int, None, "number of devices |M|"),
    Option("images", int, None, "total number of images |I| (spread evenly over devices)"),
    Option("hit_rate", float, None, "hit rate h"),
    Option("size_mean", float, None, "mean image size, bytes"),
    Option("size_std", float, None, "std of image size, bytes"),
    Option("rate", float, None, "uplink rate r_m, bit/s (drawn in [gamma r, r])"),
    Option("alpha", float, None, "accelerated CNN time, s/img (drawn in [gamma a, a])"),
    Option("beta", float, None, "expensive CNN time, s/img (drawn in [gamma b, b])"),
    Option("c_u", float, None, "cloud time per image, s (drawn in [gamma c, c])"),
    Option("gamma", float, None, "heterogeneity factor gamma in (0, 1]"),
    Option("tpr_alpha", float, None, "true positive rate of the accelerated CNN"),
    Option("tpr_beta", float, None, "true positive rate of the expensive CNN"),
    Option("fpr_alpha", float, None, "false positive rate of the accelerated CNN"),
    Option("fpr_beta", float, None, "false positive rate of the expensive CNN"),
    Option("servers", int, None, "cloud servers S"),
    Option("energy", str, None, "energy data: none, wifi or lte (section 6.2.6)", ("none", "wifi", "lte")),
    Option("budget", float, None, "energy budget a_m, % of battery"),
    Option("hetero", bool, None, "Table 4 groups (high/low rate x high/low speed)"),
    Option("name", str, None, "instance name"),
)


def _check(params: dict) -> None:
    def prob(k):
        if not (0.0 <= params[k] <= 1.0):
            raise InvalidInstance(k, f"must lie in [0, 1], got {params[k]!r}")

    for k in ("hit_rate", "tpr_alpha", "tpr_beta", "fpr_alpha", "fpr_beta"):
        prob(k)
    for k in ("size_mean", "rate", "c_u"):
        if not (params[k] > 0 and np.isfinite(params[k])):
            raise InvalidInstance(k, f"must be a finite number > 0, got {params[k]!r}")
    for k in ("size_std", "alpha", "beta", "budget"):
        if not (params[k] >= 0 and np.isfinite(params[k])):
            raise InvalidInstance(k, f"must be a finite number >= 0, got {params[k]!r}")
    if not (0 < params["gamma"] <= 1):
        raise InvalidInstance("gamma", f"must lie in (0, 1], got {params['gamma']!r}")
    if params["devices"] < 1:
        raise InvalidInstance("devices", f"must be >= 1, got {params['devices']!r}")
    if params["images"] < 0:
        raise InvalidInstance("images", f"must be >= 0, got {params['images']!r}")
    if params["servers"] < 1:
        raise InvalidInstance("servers", f"must be >= 1, got {params['servers']!r}")


def generate(*, seed: int = 0, preset: str = "large", name: str | None = None, **overrides: Any) -> PicsysInstance:
    """A random instance (see the module docstring for the presets and distributions)."""
    if preset not in PRESETS:
        raise InvalidInstance("preset", f"unknown preset {preset!r} (known: {', '.join(PRESETS)})")
    params = dict(PRESETS[preset])
    for k, v in overrides.items():
        if k not in params:
            raise InvalidInstance(k, f"unknown generator option (known: {', '.join(sorted(params))})")
        if v is not None:
            params[k] = v
    _check(params)
    from ..limits import check as check_limit, limits
    from ..validate import as_float, as_int, as_seed

    seed = as_seed(seed)
    as_int(params["devices"], "devices", min=1, limit="max_devices")
    as_int(params["images"], "images", min=0, limit="max_images")
    as_int(params["servers"], "servers", min=1, limit="max_servers")
    for k, hi in (("size_mean", 1e10), ("size_std", 1e10), ("rate", 1e12), ("alpha", 1e6), ("beta", 1e6),
                  ("c_u", 1e6), ("budget", 1e6)):
        as_float(params[k], k, min=0.0, max=hi)
    rng = np.random.default_rng(seed)
    M, total, g = int(params["devices"]), int(params["images"]), float(params["gamma"])
    counts = [total // M + (1 if m < total % M else 0) for m in range(M)]
    c_u = float(rng.uniform(g * params["c_u"], params["c_u"]))
    devices = []
    for m in range(M):
        if params["hetero"]:
            group = (m * 4) // M                  # four equal groups, Table 4 order
            fast_net, fast_cpu = group in (0, 1), group in (0, 2)
            rate = params["rate"] * (1.0 if fast_net else 0.5)
            alpha = params["alpha"] * (1.0 if fast_cpu else 2.0)
            beta = params["beta"] * (1.0 if fast_cpu else 2.0)
        else:
            rate = float(rng.uniform(g * params["rate"], params["rate"]))
            alpha = float(rng.uniform(g * params["alpha"], params["alpha"]))
            beta = float(rng.uniform(g * params["beta"], params["beta"]))
        n = counts[m]
        size = np.maximum(rng.normal(params["size_mean"], params["size_std"], n), MIN_SIZE).round()
        hit = (rng.random(n) < params["hit_rate"]).astype(int)
        z1 = np.where(hit == 1, rng.random(n) < params["tpr_alpha"], rng.random(n) < params["fpr_alpha"]).astype(int)
        z2 = (z1 & np.where(hit == 1, rng.random(n) < params["tpr_beta"],
                            rng.random(n) < params["fpr_beta"])).astype(int)
        d: dict[str, Any] = {"rate": rate, "alpha": alpha, "beta": beta,
                             "images": {"count": n, "size": size.tolist(), "c_s": "fit", "hit": hit.tolist(),
                                        "z1": z1.tolist(), "z2": z2.tolist()}}
        if params["energy"] != "none":
            d["energy"] = {"budget": params["budget"], "e_s": ENERGY["e_s"], "e_t": ENERGY["e_t"][params["energy"]],
                           "e_alpha": ENERGY["e_alpha"], "e_beta": ENERGY["e_beta"]}
        devices.append(d)
    inst = {"format": 1, "family": "picsys", "name": name or f"{preset}-s{seed}",
            "description": f"generated: preset {preset}, seed {seed}",
            "meta": {"generator": {"preset": preset, "seed": seed,
                                   **{k: (v if not isinstance(v, np.generic) else v.item())
                                      for k, v in params.items()}}},
            "cloud": {"servers": int(params["servers"]), "c_u": c_u}, "devices": devices}
    return PicsysInstance.from_dict(inst)
