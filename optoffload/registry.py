"""Where the common API finds families, methods and named instances.

Families are listed here by module path and imported on first use. Named
instances are JSON files shipped in ``optoffload/data/<family>/<name>.json``
and are addressed as ``"<family>/<name>"``.
"""

from __future__ import annotations

import importlib
import importlib.util
from functools import lru_cache
from pathlib import Path

from .errors import UnknownName
from .family import Family, MethodSpec

FAMILY_MODULES: dict[str, str] = {
    "picsys": "optoffload.picsys.family",
    "erds": "optoffload.erds.family",
    "progressive": "optoffload.progressive.family",
}

DATA_DIR = Path(__file__).resolve().parent / "data"


def available_families() -> list[str]:
    """Family names whose package is installed."""
    out = []
    for name, mod in FAMILY_MODULES.items():
        try:
            importlib.util.find_spec(mod)
        except ModuleNotFoundError:
            continue
        if importlib.util.find_spec(mod) is not None:
            out.append(name)
    return out


@lru_cache(maxsize=None)
def get_family(name: str) -> Family:
    if name not in FAMILY_MODULES:
        raise UnknownName("family", f"unknown family {name!r} (known: {', '.join(FAMILY_MODULES)})")
    try:
        mod = importlib.import_module(FAMILY_MODULES[name])
    except ModuleNotFoundError as exc:
        if exc.name and FAMILY_MODULES[name].startswith(exc.name):
            raise UnknownName("family", f"family {name!r} is not available in this installation") from None
        raise
    return mod.FAMILY


def get_method(family: str, method: str) -> MethodSpec:
    fam = get_family(family)
    try:
        return fam.methods[method]
    except KeyError:
        raise UnknownName(
            "method", f"unknown method {method!r} for family {family!r} (known: {', '.join(fam.methods)})"
        ) from None


def methods(family: str | None = None) -> list[str]:
    """Method names of one family, or ``family:method`` for every family."""
    if family is not None:
        return list(get_family(family).methods)
    return [f"{f}:{m}" for f in available_families() for m in get_family(f).methods]


def instances() -> list[str]:
    """Names ``family/name`` of the shipped instances, sorted."""
    out = []
    if DATA_DIR.is_dir():
        for fam_dir in sorted(p for p in DATA_DIR.iterdir() if p.is_dir()):
            for f in sorted(fam_dir.glob("*.json")):
                out.append(f"{fam_dir.name}/{f.stem}")
    return out


def instance_path(name: str) -> Path | None:
    """Path of a shipped instance, or None if ``name`` is not one."""
    if "/" not in name:
        return None
    fam, _, stem = name.partition("/")
    if not fam.replace("-", "").replace("_", "").isalnum() or "/" in stem or ".." in stem:
        return None
    p = DATA_DIR / fam / f"{stem}.json"
    return p if p.is_file() else None
