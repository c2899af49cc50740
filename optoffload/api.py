"""The common API: load, save, solve, verify, simulate, generate."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any, Callable

from .errors import InvalidInstance, UnknownName, VerificationError
from .registry import family_methods, get_family, instance_path, resolve_method
from .solution import Solution
from .status import Status
from .validate import FORMAT_VERSION, as_seed, parse_json, read_text, require


def _family_of_dict(d: Any, where: str) -> str:
    if not isinstance(d, dict):
        raise InvalidInstance(where, f"instance JSON must be an object, got {type(d).__name__}")
    fam = require(d, "family")
    if not isinstance(fam, str):
        raise InvalidInstance("family", f"must be a string, got {fam!r}")
    get_family(fam)  # raises UnknownName for an unknown family
    return fam


def from_dict(d: dict, *, where: str = "instance") -> Any:
    """Build and validate an instance from a plain dict (the JSON object)."""
    fam = _family_of_dict(d, where)
    return get_family(fam).instance_class().from_dict(d)


def load(source: Any) -> Any:
    """Load an instance.

    ``source`` is an instance object (returned as is), a dict, a shipped
    instance name such as ``"picsys/table2"`` (see :func:`optoffload.instances`),
    or a path to a JSON file. Raises :class:`InvalidInstance` on any problem.
    """
    if isinstance(source, dict):
        return from_dict(source)
    if not isinstance(source, (str, Path)):
        if hasattr(source, "to_dict") and hasattr(source, "family"):
            return source
        raise InvalidInstance("instance", f"cannot load from {type(source).__name__}")
    path = instance_path(str(source)) if isinstance(source, str) else None
    if path is None:
        path = Path(source)
        if not path.is_file():
            raise UnknownName("instance", f"no shipped instance or file named {str(source)!r}")
    d = parse_json(read_text(path, "instance"), path, "instance")
    inst = from_dict(d, where=str(path))
    return inst


def save(instance: Any, path: str | Path) -> Path:
    """Write an instance to a JSON file (with its ``format`` version).

    Raises ``InvalidInstance("output")`` when the file cannot be written (e.g. a missing directory).
    """
    d = instance.to_dict()
    d.setdefault("format", FORMAT_VERSION)
    path = Path(path)
    if not path.parent.is_dir():
        raise InvalidInstance("output", f"directory {str(path.parent)!r} does not exist")
    try:
        path.write_text(json.dumps(d, indent=1) + "\n", encoding="utf-8")
    except OSError as exc:
        raise InvalidInstance("output", f"cannot write {str(path)!r}: {exc.strerror or exc}") from None
    return path


def _check_time_limit(time_limit: Any) -> float | None:
    if time_limit is None:
        return None
    if isinstance(time_limit, bool) or not isinstance(time_limit, (int, float)) or not math.isfinite(time_limit) \
            or time_limit <= 0:
        raise InvalidInstance("time_limit", f"must be a finite number > 0, got {time_limit!r}")
    return float(time_limit)


def _check_options(fn: Any, method: str, options: dict) -> None:
    """Reject options the method does not take (by its signature), naming the option."""
    import inspect

    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins
        return
    open_ended = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    known = {n for n, p in params.items() if p.kind in (inspect.Parameter.KEYWORD_ONLY,
                                                        inspect.Parameter.POSITIONAL_OR_KEYWORD)}
    known -= {"instance", "inst", "time_limit", "seed", "threads"}
    from .option_ranges import check_option, check_structured

    check_structured(options)
    for k, v in options.items():
        check_option(k, v)
        if k not in known:
            if open_ended:
                continue  # **options: the method validates the rest itself
            raise InvalidInstance(k, f"unknown option for method {method!r} (known: {', '.join(sorted(known)) or 'none'})")
        if isinstance(params[k].default, bool) and not isinstance(v, bool):
            raise InvalidInstance(k, f"must be true or false, got {v!r}")


def solve(instance: Any, method: str | Callable[..., Any], *, time_limit: float | None = None, seed: int = 0,
          threads: int | None = None, verify: bool = True, **options: Any) -> Solution:
    """Solve ``instance`` with ``method`` (see :func:`methods`).

    ``method`` is a method name (built-in, from an ``optoffload.methods`` entry point, or added by
    :func:`optoffload.register_method`), a ``"module:function"`` string, or a callable
    ``fn(instance, *, time_limit=None, seed=0, threads=None, **options)`` returning a
    :class:`Solution` or the family's plain decisions dict (scored by :func:`evaluate`; status
    FEASIBLE). Options are checked against the method's signature.

    Every exact method honours ``time_limit`` (returning its incumbent with
    status FEASIBLE, or UNKNOWN without one). ``seed`` fixes all randomness.
    With ``verify=True`` (default) the returned objective is recomputed by the
    family's simulator and a mismatch raises :class:`VerificationError`; an
    infeasible or malformed plan raises :class:`InvalidInstance` naming the method.
    """
    inst = load(instance)
    time_limit = _check_time_limit(time_limit)
    seed = as_seed(seed)
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or not 1 <= threads <= 1024):
        raise InvalidInstance("threads", f"must be an integer in 1..1024, got {threads!r}")
    name, _spec, fn = resolve_method(inst.family, method)
    return _run(inst, name, fn, time_limit=time_limit, seed=seed, threads=threads, verify=verify, options=options)


def _run(inst: Any, name: str, fn: Callable[..., Any], *, time_limit: float | None, seed: int,
         threads: int | None, verify: bool, options: dict[str, Any]) -> Solution:
    """Run a resolved method: option check, call, return-type check, replay (``solve``'s body)."""
    _check_options(fn, name, options)
    t0 = time.perf_counter()
    out = fn(inst, time_limit=time_limit, seed=seed, threads=threads, **options)
    elapsed = time.perf_counter() - t0
    if isinstance(out, Solution):
        sol = out
    elif isinstance(out, dict):
        # plain decisions: scored by the family's evaluator (the single source of truth)
        try:
            value = evaluate(inst, out)
        except InvalidInstance as exc:
            raise InvalidInstance(f"method {name!r}", f"returned an infeasible or malformed plan: {exc}") from None
        sol = Solution(family=inst.family, instance=inst.name, method=name, status=Status.FEASIBLE,
                       objective=value, decisions=out, runtime=elapsed)
        verify = False  # just replayed
    else:
        raise InvalidInstance(f"method {name!r}", f"returned {type(out).__name__}, expected a Solution or a "
                                                  f"decisions dict")
    sol.family = inst.family
    if sol.instance != inst.name and _counterpart(inst, sol.instance) is None:
        sol.instance = inst.name
    sol.method = name
    if not sol.runtime:
        sol.runtime = elapsed
    sol._instance = inst  # not a field: lets sol.to_frame() replay without the caller passing it again
    if verify and sol.status.has_solution:
        try:
            globals()["verify"](inst, sol)
        except InvalidInstance as exc:
            raise InvalidInstance(f"method {name!r}", f"returned an infeasible or malformed plan: {exc}") from None
    return sol


def evaluate(instance: Any, decisions: Any) -> float:
    """Score a decision plan of any family with the family's evaluator (no reported objective needed).

    ``decisions`` is the family's plain decisions object (PicSys:
    :func:`optoffload.picsys.plan_to_decisions`; ERDS: :func:`optoffload.erds.decisions`; progressive:
    see docs/progressive.md). Returns the objective (PicSys/ERDS: seconds). Raises
    :class:`InvalidInstance` for a malformed or infeasible plan.
    """
    inst = load(instance)
    fam = get_family(inst.family)
    from .family import resolve

    return float(resolve(fam.evaluate)(inst, decisions))


def verify(instance: Any, solution: Solution | dict, *, rtol: float = 1e-7, atol: float = 1e-9) -> float:
    """Replay ``solution.decisions`` in the family's simulator.

    Returns the recomputed objective. Raises :class:`InvalidInstance` if the
    decisions are malformed or infeasible, and :class:`VerificationError` if the
    reported objective differs from the simulator's, or the bound is on the
    wrong side of the objective.
    """
    inst = load(instance)
    if isinstance(solution, dict):
        solution = _solution_from_dict(solution, inst)
    elif not isinstance(solution, Solution):
        raise InvalidInstance("solution", f"must be a Solution or a JSON object, got {type(solution).__name__}")
    fam = get_family(inst.family)
    if solution.family != inst.family:
        raise InvalidInstance("solution.family", f"is {solution.family!r} but the instance is a {inst.family!r} "
                                                 "instance")
    if solution.instance != inst.name:
        other = _counterpart(inst, solution.instance)
        if other is None:
            raise InvalidInstance("solution.instance", f"is {solution.instance!r} but the instance is named "
                                                       f"{inst.name!r}: a plan of another instance")
        inst = other
    if not solution.status.has_solution:
        raise VerificationError(f"solution has status {solution.status.value}: nothing to verify")
    from .family import resolve

    value = float(resolve(fam.evaluate)(inst, solution.decisions))
    if not math.isfinite(value):
        raise InvalidInstance("decisions", f"the simulator gives a non-finite objective {value!r}")
    rep = solution.objective
    if rep is None or not math.isclose(value, rep, rel_tol=rtol, abs_tol=atol):
        raise VerificationError(
            f"{inst.family}/{inst.name} {solution.method}: reported objective {rep!r} but the simulator gives {value!r}")
    b = solution.bound
    if b is not None:
        tol = atol + rtol * max(abs(value), 1.0) + 1e-6 * max(abs(value), 1.0)
        bad = b > value + tol if fam.sense == "min" else b < value - tol
        if bad:
            raise VerificationError(
                f"{inst.family}/{inst.name} {solution.method}: bound {b!r} is on the wrong side of objective {value!r}")
    return value


def plan_info(instance: Any, solution: Solution | dict) -> dict:
    """What the verified objective alone does not say about a plan (``Family.plan_info``), e.g.
    PicSys's images processed in mode ``max-processed``; ``{}`` for most plans."""
    inst = load(instance)
    fam = get_family(inst.family)
    if fam.plan_info is None:
        return {}
    d = solution.to_dict() if isinstance(solution, Solution) else solution
    name = d.get("instance", inst.name) if isinstance(d, dict) else inst.name
    if name != inst.name:
        inst = _counterpart(inst, name) or inst
    from .family import resolve

    info: dict = resolve(fam.plan_info)(inst, d.get("decisions") if isinstance(d, dict) else None)
    return info


def _counterpart(inst: Any, name: Any) -> Any:
    """The related system named ``name`` (see ``Family.counterpart``), or None."""
    fam = get_family(inst.family)
    if fam.counterpart is None or not isinstance(name, str):
        return None
    from .family import resolve

    return resolve(fam.counterpart)(inst, name)


def _solution_from_dict(d: Any, inst: Any) -> Solution:
    """A Solution from its JSON object (``solve --json``), every field checked and named."""
    from .status import Status as _S
    from .validate import as_float, as_str

    if not isinstance(d, dict):
        raise InvalidInstance("solution", f"must be a JSON object (the output of solve --json), got "
                                          f"{type(d).__name__}")
    known = {"family", "instance", "method", "status", "objective", "bound", "gap", "runtime_s", "decisions", "info"}
    unknown = sorted(k for k in d if k not in known)
    if unknown:
        raise InvalidInstance(f"solution.{unknown[0]}", f"unknown field (allowed: {', '.join(sorted(known))})")
    fam = as_str(d.get("family", inst.family), "solution.family")
    name = as_str(d.get("instance", inst.name), "solution.instance")
    method = as_str(d.get("method", "?"), "solution.method")
    st = d.get("status", "feasible")
    values = [s.value for s in _S]
    if not isinstance(st, str) or st not in values:
        raise InvalidInstance("solution.status", f"must be one of {', '.join(values)}, got {st!r}")
    obj = d.get("objective")
    obj = None if obj is None else as_float(obj, "solution.objective")
    bound = d.get("bound")
    bound = None if bound is None else as_float(bound, "solution.bound")
    if "decisions" not in d:
        raise InvalidInstance("solution.decisions", "missing required field")
    return Solution(family=fam, instance=name, method=method, status=_S(st), objective=obj, bound=bound,
                    decisions=d["decisions"])


def simulate(instance: Any, policy: str, *, seed: int = 0, **options: Any) -> Solution:
    """Run an online ``policy`` in the family's simulator and return its Solution."""
    inst = load(instance)
    seed = as_seed(seed)
    fam = get_family(inst.family)
    if fam.simulate is None:
        return solve(inst, policy, seed=seed, **options)
    from .family import resolve

    t0 = time.perf_counter()
    sol: Solution = resolve(fam.simulate)(inst, policy, seed=seed, **options)
    sol.family, sol.instance = inst.family, inst.name
    if not sol.runtime:
        sol.runtime = time.perf_counter() - t0
    sol._instance = inst
    return sol


def generate(family: str, *, seed: int = 0, **options: Any) -> Any:
    """Generate a random instance of ``family`` (options: the family's ``generate_options``)."""
    fam = get_family(family)
    seed = as_seed(seed)
    if fam.generate is None:
        raise UnknownName("family", f"family {family!r} has no generator")
    known = {o.name for o in fam.generate_options}
    for k in options:
        if k not in known:
            raise InvalidInstance(k, f"unknown generator option for {family!r} (known: {', '.join(sorted(known))})")
    from .family import resolve

    return resolve(fam.generate)(seed=seed, **options)


def gap_to(objective: float | None, reference: float | None, sense: str = "min") -> float | None:
    """Relative gap of ``objective`` to a ``reference`` value: ``objective / reference - 1`` for a
    minimization family, ``reference / objective - 1`` for maximization (>= 0 when the reference is
    at least as good). None when either is missing, not finite, or the ratio is undefined (a
    reference of 0 with a different objective, or a value <= 0 in the denominator)."""
    if objective is None or reference is None:
        return None
    if not (math.isfinite(objective) and math.isfinite(reference)):
        return None
    if objective == reference:
        return 0.0
    num, den = (objective, reference) if sense == "min" else (reference, objective)
    if den <= 0:
        return None
    return num / den - 1.0


def compare(instance: Any, methods: list[str | Callable[..., Any]] | None = None, *,
            time_limit: float | None = 10.0, seed: int = 0, threads: int | None = None,
            progress: bool | None = False, options: dict[str, Any] | None = None,
            frame: bool = False) -> Any:
    """Solve ``instance`` with every method of its family (or ``methods``).

    ``methods`` holds names, ``"module:function"`` strings or callables (as :func:`solve`); all
    are resolved first (an unknown one raises :class:`UnknownName`). ``time_limit`` goes to
    ``exact`` methods only. ``options``: a key ``"METHOD.KEY"`` goes to that method only; a plain
    ``"KEY"`` goes to every compared method that names ``KEY`` in its signature, or, when none
    does, to every method taking ``**options`` (which validates it itself; a refusal is that
    method's error row); an option no method can take raises :class:`InvalidInstance`.

    Returns one row per method: ``method``, ``kind``, ``status``, ``objective``,
    ``bound``, ``gap`` (the method's own MIP gap), ``gap_to_best`` (:func:`gap_to` the best
    objective of the rows), ``runtime_s`` and ``verified`` (the objective replayed by the
    simulator), or status ``error`` with ``error`` when a method raised (any exception):
    a failing method never hides the others' results. ``frame=True`` returns the rows as a
    pandas DataFrame (see :func:`optoffload.frames.to_frame`). ``progress``: True shows
    progress on stderr (a bar on a terminal, one line per method otherwise), None decides by
    whether stderr is a terminal.
    """
    inst = load(instance)
    time_limit = _check_time_limit(time_limit)
    seed = as_seed(seed)
    fam = get_family(inst.family)
    wanted = list(family_methods(inst.family)) if methods is None else list(methods)
    resolved = [resolve_method(inst.family, m) for m in wanted]  # every name checked before anything runs
    per_method = _spread_options(resolved, dict(options or {}))
    rows: list[dict[str, Any]] = []
    from .progress import Progress

    prog = Progress(len(resolved), desc=f"compare {inst.family}/{inst.name}", unit="method", enabled=progress,
                    every=1)
    for i in range(len(resolved)):
        name, spec, fn = resolved[i]
        row: dict[str, Any] = {"method": name, "kind": spec.kind}
        try:
            sol = _run(inst, name, fn, time_limit=time_limit if spec.kind == "exact" else None, seed=seed,
                       threads=threads, verify=True, options=per_method[i])
            row.update(status=sol.status.value, objective=sol.objective, bound=sol.bound, gap=sol.gap,
                       runtime_s=sol.runtime, verified=sol.status.has_solution)
            if sol.instance != inst.name:  # a related system (e.g. PicSys's two-stage counterpart)
                row["instance"] = sol.instance
        except Exception as exc:  # noqa: BLE001 - every failure stays in its own row
            row.update(status="error", objective=None, error=f"{type(exc).__name__}: {exc}")
        rows.append(row)
        prog.update(1, note=name)
    prog.close()
    # best and gap_to_best over plans of this instance only (a counterpart's makespan is another system's)
    same = [r for r in rows if r["status"] != "error" and "instance" not in r]
    objs = [r["objective"] for r in same if r.get("objective") is not None and math.isfinite(r["objective"])]
    best = (min(objs) if fam.sense == "min" else max(objs)) if objs else None
    for r in rows:
        r["gap_to_best"] = gap_to(r.get("objective"), best, fam.sense) if r in same else None
    if frame:
        from .frames import to_frame

        return to_frame(rows)
    return rows


def _spread_options(resolved: list[tuple[str, Any, Callable[..., Any]]],
                    options: dict[str, Any]) -> list[dict[str, Any]]:
    """The options of each compared method (rules in :func:`compare`)."""
    sigs = [_option_names(fn) for _, _, fn in resolved]
    names = [n for n, _, _ in resolved]
    out: list[dict[str, Any]] = [{} for _ in resolved]
    for key, value in options.items():
        prefix, dot, k = key.rpartition(".")
        if dot:
            hits = [i for i, n in enumerate(names) if prefix in (n, n.replace("-", "_"))]
            if not hits:
                raise InvalidInstance(key, f"no compared method named {prefix!r} (compared: {', '.join(names)})")
            for i in hits:
                out[i][k] = value
            continue
        hits = [i for i, (takes, _) in enumerate(sigs) if key in takes]
        if not hits:
            hits = [i for i, (_, open_ended) in enumerate(sigs) if open_ended]
        if not hits:
            raise InvalidInstance(key, f"option taken by none of the compared methods ({', '.join(names)})")
        for i in hits:
            out[i][key] = value
    return out


def _option_names(fn: Any) -> tuple[set[str], bool]:
    """Keyword options ``fn`` takes (beyond the common ones) and whether it has ``**options``."""
    import inspect

    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins
        return set(), True
    open_ended = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    known = {n for n, p in params.items() if p.kind in (inspect.Parameter.KEYWORD_ONLY,
                                                        inspect.Parameter.POSITIONAL_OR_KEYWORD)}
    return known - {"instance", "inst", "time_limit", "seed", "threads"}, open_ended


def methods(family: str | None = None) -> list[str]:
    """Method names available for ``family`` (or ``family:method`` for all)."""
    from .registry import methods as _m

    return _m(family)


__all__ = ["load", "save", "from_dict", "solve", "verify", "evaluate", "simulate", "generate", "compare", "gap_to",
           "methods", "Status"]
