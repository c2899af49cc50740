"""Small builders for hand-made PicSys instances used by the tests."""


def device(sizes, hit, z1=None, z2=None, rate=8e6, alpha=0.2, beta=0.4, c_s=0.1, energy=None):
    imgs = {"size": sizes, "c_s": c_s, "hit": hit}
    if z1 is not None:
        imgs["z1"] = z1
    if z2 is not None:
        imgs["z2"] = z2
    d = {"rate": rate, "alpha": alpha, "beta": beta, "images": imgs}
    if energy is not None:
        d["energy"] = energy
    return d


def instance(devices, c_u=0.05, servers=1, name="t", **extra):
    return {"format": 1, "family": "picsys", "name": name, "cloud": {"servers": servers, "c_u": c_u},
            "devices": devices, **extra}
