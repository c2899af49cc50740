"""Where the common API finds families, methods and named instances.

Families are listed here by module path and imported on first use. Named
instances are JSON files shipped in ``optoffload/data/<family>/<name>.json``
and are addressed as ``"<family>/<name>"``.
"""

from __future__ import annotations

import importlib
import importlib.util
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, TypeVar, overload

from .errors import InvalidInstance, UnknownName
from .family import KINDS, Family, MethodSpec

FAMILY_MODULES: dict[str, str] = {
    "picsys": "optoffload.picsys.family",
    "erds": "optoffload.erds.family",
    "progressive": "optoffload.progressive.family",
    "dnn": "optoffload.dnn.family",
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
    fam: Family = mod.FAMILY
    return fam


# ------------------------------------------------------------------------------ plugin methods
ENTRY_POINT_GROUP = "optoffload.methods"
"""Entry-point group of plugin methods: name ``"family.method"`` (``"family:method"`` is accepted too),
value ``"module:function"`` (docs/own-method.md)."""

_REGISTERED: dict[str, dict[str, MethodSpec]] = {}
"""Methods added by :func:`register_method`, by family (insertion order)."""
_ENTRY_POINTS: dict[str, dict[str, MethodSpec]] = {}
"""Methods declared by installed distributions, by family; filled by :func:`_discover` once."""
_EP_ERRORS: list[str] = []
"""One line per broken entry point (bad name, unknown family, clash); see :func:`plugin_errors`."""
_discovered = False

F = TypeVar("F", bound=Callable[..., Any])


class PluginWarning(RuntimeWarning):
    """A broken ``optoffload.methods`` entry point (ignored; built-ins and the other plugins stay)."""


def _discover() -> None:
    """Read the ``optoffload.methods`` entry points once (metadata only: nothing is imported)."""
    global _discovered
    if _discovered:
        return
    _discovered = True
    from importlib.metadata import entry_points

    try:
        eps = list(entry_points(group=ENTRY_POINT_GROUP))
    except Exception as exc:  # noqa: BLE001 - broken metadata must never hide built-ins
        _EP_ERRORS.append(f"entry points {ENTRY_POINT_GROUP!r}: cannot read installed metadata: {exc}")
        return
    seen: set[tuple[str, str]] = set()
    for ep in eps:
        dist = getattr(getattr(ep, "dist", None), "name", None) or "?"
        where = f"entry point {ep.name!r} = {ep.value!r} (distribution {dist})"
        fam_name, sep, name = ep.name.partition(".")
        if not sep:
            fam_name, sep, name = ep.name.partition(":")
        fam_name, name = fam_name.strip(), name.strip()
        if not sep or not fam_name or not name:
            _EP_ERRORS.append(f"{where}: name must be 'family.method'")
            continue
        if fam_name not in FAMILY_MODULES:
            _EP_ERRORS.append(f"{where}: unknown family {fam_name!r} (known: {', '.join(FAMILY_MODULES)})")
            continue
        if ":" not in ep.value or ep.value.startswith(":") or ep.value.endswith(":"):
            _EP_ERRORS.append(f"{where}: value must be 'module:function'")
            continue
        if (fam_name, name) in seen:  # the same distribution seen twice on sys.path: first one wins
            continue
        seen.add((fam_name, name))
        try:
            builtin = get_family(fam_name).methods
        except InvalidInstance:
            continue
        if name in builtin:
            _EP_ERRORS.append(f"{where}: method {name!r} is a built-in {fam_name} method; ignored")
            continue
        _ENTRY_POINTS.setdefault(fam_name, {})[name] = MethodSpec(
            ep.value, "heuristic", "", source=f"entry point {ep.name} ({dist})")
    for line in _EP_ERRORS:
        warnings.warn(f"optoffload: {line}", PluginWarning, stacklevel=3)


def plugin_errors() -> list[str]:
    """Lines describing broken ``optoffload.methods`` entry points (empty when all are fine)."""
    _discover()
    return list(_EP_ERRORS)


def family_methods(family: str) -> dict[str, MethodSpec]:
    """Every method of ``family``: built-in first, then entry points, then :func:`register_method`."""
    fam = get_family(family)
    _discover()
    return {**fam.methods, **_ENTRY_POINTS.get(family, {}), **_REGISTERED.get(family, {})}


@overload
def register_method(family: str, name: str, fn: None = None, *, kind: str = "heuristic", summary: str = "",
                    replace: bool = False) -> Callable[[F], F]: ...
@overload
def register_method(family: str, name: str, fn: F, *, kind: str = "heuristic", summary: str = "",
                    replace: bool = False) -> F: ...
def register_method(family: str, name: str, fn: Callable[..., Any] | str | None = None, *,
                    kind: str = "heuristic", summary: str = "", replace: bool = False) -> Any:
    """Add a method ``name`` to ``family`` (``oo.solve``, ``compare``, ``methods``, the CLI, ``bench``).

    ``fn(instance, *, time_limit=None, seed=0, threads=None, **options)`` returns a
    :class:`~optoffload.Solution` or the family's plain decisions dict (then scored by
    :func:`optoffload.evaluate`). ``fn`` may be a callable or a ``"module:function"`` string
    (imported on first use). Without ``fn`` this returns a decorator::

        @oo.register_method("picsys", "my-heuristic", summary="...")
        def my_heuristic(inst, *, time_limit=None, seed=0, threads=None): ...

    ``kind`` is one of ``exact``, ``heuristic``, ``policy``, ``baseline`` (``compare`` passes its
    time limit to ``exact`` methods only). A built-in name cannot be taken; an already registered
    one only with ``replace=True``. Raises :class:`~optoffload.InvalidInstance` naming the bad field.
    """
    get_family(family)  # UnknownName for an unknown family
    if not isinstance(name, str) or not name.strip() or name != name.strip() or ":" in name or "," in name:
        raise InvalidInstance("name", f"method name must be a non-empty string without ':', ',' or surrounding"
                                      f" spaces, got {name!r}")
    if kind not in KINDS:
        raise InvalidInstance("kind", f"must be one of {', '.join(KINDS)}, got {kind!r}")
    if not isinstance(summary, str):
        raise InvalidInstance("summary", f"must be a string, got {summary!r}")

    def add(f: Any) -> Any:
        if isinstance(f, str):
            if f.count(":") != 1 or f.startswith(":") or f.endswith(":"):
                raise InvalidInstance("fn", f"method {name!r}: expected a callable or 'module:function', got {f!r}")
            spec = MethodSpec(f, kind, summary, source="registered")
        elif callable(f):
            target = f"{getattr(f, '__module__', '?')}:{getattr(f, '__qualname__', type(f).__name__)}"
            spec = MethodSpec(target, kind, summary or _first_line(getattr(f, "__doc__", None)), fn=f,
                              source="registered")
        else:
            raise InvalidInstance("fn", f"method {name!r}: {type(f).__name__} object is not callable")
        if name in get_family(family).methods:
            raise InvalidInstance("name", f"{name!r} is a built-in {family} method; choose another name")
        _discover()
        old = _REGISTERED.get(family, {}).get(name)
        ep = _ENTRY_POINTS.get(family, {}).get(name)
        # the module of an entry point may decorate the same function (giving its kind and summary)
        same_ep = ep is not None and ep.target == spec.target
        if not replace and (old is not None and not _same_function(old.fn, spec.fn) or ep is not None and not same_ep):
            where = "registered" if old is not None else f"declared by {ep.source if ep else '?'}"
            raise InvalidInstance("name", f"{family} method {name!r} is already {where} (pass replace=True)")
        _REGISTERED.setdefault(family, {})[name] = spec
        return f

    if fn is None:
        return add
    return add(fn)


def _same_function(a: Any, b: Any) -> bool:
    """The same source function imported twice (e.g. a ``--plugin`` file also imported by name):
    same qualified name, defined in the same file at the same line."""
    if a is None or b is None:
        return False
    ca, cb = getattr(a, "__code__", None), getattr(b, "__code__", None)
    return (a is b) or (ca is not None and cb is not None and a.__qualname__ == b.__qualname__
                        and ca.co_filename == cb.co_filename and ca.co_firstlineno == cb.co_firstlineno)


def unregister_method(family: str, name: str) -> None:
    """Remove a method added by :func:`register_method` (KeyError-free: unknown names are ignored)."""
    _REGISTERED.get(family, {}).pop(name, None)


def _first_line(doc: str | None) -> str:
    return doc.strip().splitlines()[0].strip() if doc and doc.strip() else ""


def get_method(family: str, method: str) -> MethodSpec:
    """The spec of a method by name (built-in, entry point or registered)."""
    builtin = get_family(family).methods
    if method in builtin:  # built-in names cannot be taken: no need to read the entry points
        return builtin[method]
    known = family_methods(family)
    try:
        return known[method]
    except KeyError:
        broken = [e for e in _EP_ERRORS if method in e]
        raise UnknownName(
            "method", f"unknown method {method!r} for family {family!r} (known: {', '.join(known)})"
                      + (f"; broken: {broken[0]}" if broken else "")
        ) from None


def methods(family: str | None = None) -> list[str]:
    """Method names of one family, or ``family:method`` for every family."""
    if family is not None:
        return list(family_methods(family))
    return [f"{f}:{m}" for f in available_families() for m in family_methods(f)]


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


def method_name(method: Any) -> str:
    """The display name of a method given as a name, a ``"module:function"`` string or a callable."""
    if isinstance(method, str):
        return method
    for fam_methods in _REGISTERED.values():
        for n, spec in fam_methods.items():
            if spec.fn is method:
                return n
    return getattr(method, "__qualname__", None) or getattr(method, "__name__", None) or type(method).__name__


def resolve_method(family: str, method: Any) -> tuple[str, MethodSpec, Callable[..., Any]]:
    """Find a method: a registered name, a ``"module:function"`` string, or a callable.

    Returns ``(display name, spec, callable)``. Raises :class:`UnknownName` for an unknown name or
    an unimportable module/attribute, :class:`InvalidInstance` for a target that is not callable,
    each naming the method.
    """
    if callable(method) and not isinstance(method, str):
        name = method_name(method)
        fn_: Callable[..., Any] = method
        for spec in _REGISTERED.get(family, {}).values():
            if spec.fn is fn_:
                return name, spec, fn_
        return name, MethodSpec(f"{getattr(method, '__module__', '?')}:{name}", "heuristic", source="callable",
                                fn=method), method
    if not isinstance(method, str):
        raise InvalidInstance("method", f"expected a method name, 'module:function' or a callable, got "
                                        f"{type(method).__name__} {method!r}")
    if method in get_family(family).methods or ":" not in method or method in family_methods(family):
        spec = get_method(family, method)
        what = f"method {method!r}" if spec.source == "built-in" else f"method {method!r} ({spec.source}: {spec.target})"
        fn = _load_target(spec, what) if spec.fn is None else spec.fn
        return method, spec, fn
    spec = MethodSpec(method, "heuristic", source="module:function")
    return method, spec, _load_target(spec, f"method {method!r}")


def _load_target(spec: MethodSpec, what: str) -> Callable[..., Any]:
    module, _, attr = spec.target.partition(":")
    if not module or not attr:
        raise UnknownName(what, "expected 'module:function'")
    try:
        obj: Any = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if spec.source == "built-in":
            raise  # a missing optional solver library: the caller reports it
        raise UnknownName(what, f"cannot import module {module!r}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - a plugin module that fails on import
        if spec.source == "built-in":
            raise
        raise InvalidInstance(what, f"importing {module!r} failed: {type(exc).__name__}: {exc}") from None
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise UnknownName(what, f"module {module!r} has no attribute {attr!r}") from None
    if not callable(obj):
        raise InvalidInstance(what, f"{spec.target} is a {type(obj).__name__}, not callable")
    return obj  # type: ignore[no-any-return]


def load_plugin(module: str) -> Any:
    """Import a plugin module (CLI ``--plugin``): a module name importable from the current
    directory or ``sys.path``, or a path to a ``.py`` file. Its import side effects (usually
    :func:`register_method` calls) add its methods. Raises :class:`UnknownName` naming the module
    when it cannot be found, :class:`InvalidInstance` when importing it fails."""
    import os
    import sys

    if not isinstance(module, str) or not module.strip():
        raise InvalidInstance("--plugin", f"expected a module name or a .py file, got {module!r}")
    path = Path(module)
    if module.endswith(".py") or os.sep in module or (os.altsep and os.altsep in module):
        if not path.is_file():
            raise UnknownName("--plugin", f"no plugin file {module!r}")
        name = f"optoffload_plugin_{path.stem}"
        if name in sys.modules:
            return sys.modules[name]
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:  # pragma: no cover - a .py path always has a loader
            raise InvalidInstance("--plugin", f"cannot load plugin file {module!r}")
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        try:
            spec.loader.exec_module(mod)
        except InvalidInstance as exc:
            sys.modules.pop(name, None)
            raise InvalidInstance("--plugin", f"plugin {module!r}: {exc}") from None
        except Exception as exc:  # noqa: BLE001
            sys.modules.pop(name, None)
            raise InvalidInstance("--plugin", f"importing plugin {module!r} failed: {type(exc).__name__}: {exc}") \
                from None
        return mod
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.append(cwd)  # the console script does not put the working directory on sys.path
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and (module == exc.name or module.startswith(exc.name + ".")):
            raise UnknownName("--plugin", f"cannot import plugin module {module!r}: {exc}") from None
        raise InvalidInstance("--plugin", f"importing plugin {module!r} failed: {exc}") from None
    except InvalidInstance as exc:
        raise InvalidInstance("--plugin", f"plugin {module!r}: {exc}") from None
    except Exception as exc:  # noqa: BLE001
        raise InvalidInstance("--plugin", f"importing plugin {module!r} failed: {type(exc).__name__}: {exc}") \
            from None
