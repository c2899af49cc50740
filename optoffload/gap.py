"""Gap benchmarks for any methods, with CI gates (issue #10; user guide: docs/gap.md).

One definition of the gap everywhere in this module, the ``gap`` command and
:func:`optoffload.testing.assert_gap`::

    minimization (PicSys, ERDS):   gap = objective / reference - 1
    maximization (progressive):    gap = reference / objective - 1

so a gap is always >= 0 when the reference is the optimum or a valid bound, and 0.05 means
"5 % worse than the reference". The reference of an instance is what the reference method (an
exact method: ``cpsat``, ``erds-exact``, ``exact``) proves: its optimum when it proves
optimality (``reference_kind = "optimum"``), else its best bound (``"bound"``: then the gap is
an upper estimate of the true gap), else its incumbent (``"incumbent"``: a gap relative to a
feasible plan, possibly negative). Every row carries its ``reference_kind``.

This is *not* :attr:`optoffload.Solution.gap`, which stays the solver's own MIP gap
``|objective - bound| / |objective|`` between a method's own objective and its own bound.

Reference results are cached by the instance's content hash (SHA-256 of its canonical JSON) in a
JSON file (``reference-cache.json`` in the output folder, or any file the user commits), so a CI
run re-solves no optimum it already has.

Layout of ``out``::

    rows.jsonl          one row per (instance, method), appended and fsynced as each finishes
    reference-cache.json the reference results by instance hash (unless --cache FILE)
    summary.json        per method: n, mean, median, worst gap, share optimal, errors
    summary.md          the same as a markdown table
    gap.png, gap.pdf    the distribution of the gap per method
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from .errors import InvalidInstance, UnknownName
from .validate import json_default

SUMMARY_FORMAT = 1
CACHE_FORMAT = 1
OPTIMAL_TOL = 1e-9
"""A row counts as optimal when its gap is at most this (relative) tolerance."""

AUTO_REFERENCE = {"picsys": "cpsat", "erds": "erds-exact", "progressive": "exact"}
"""``--reference auto``: the family's strongest exact method."""

PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    # small enough that the reference proves optimality in well under a second on one core
    "picsys": {"tiny": {"devices": 1, "images": 4}, "small": {"devices": 2, "images": 6},
               "medium": {"devices": 3, "images": 9}},
    "erds": {"tiny": {"tasks": 2}, "small": {"tasks": 3}, "medium": {"tasks": 4, "per_task_probs": True}},
    "progressive": {"small": {"problem": "airtime", "size": 3, "slots": 30},
                    "airtime": {"problem": "airtime", "size": 4, "slots": 40},
                    "ordering": {"problem": "ordering", "size": 8}},
}
"""``--generate NAME``: named option sets per family (a PicSys generator preset such as
``large`` or ``testbed`` is accepted too)."""


# ----------------------------------------------------------------------------- the gap itself
def gap(objective: float | None, reference: float | None, sense: str = "min") -> float | None:
    """The gap of ``objective`` to ``reference`` (module docstring): ``objective / reference - 1``
    when minimizing, ``reference / objective - 1`` when maximizing.

    This is :func:`optoffload.api.gap_to` (the one definition, also behind ``compare``'s
    ``gap_to_best``), except that a zero denominator with a positive numerator (e.g. a
    maximization method scoring 0 where the optimum is positive) is ``inf`` rather than
    undefined, so that such a row counts, as the worst gap, instead of vanishing from the summary.
    """
    from .api import gap_to

    g = gap_to(objective, reference, sense)
    if g is None and objective is not None and reference is not None \
            and math.isfinite(objective) and math.isfinite(reference):
        num, den = (objective, reference) if sense == "min" else (reference, objective)
        if den == 0 and num > 0:
            return math.inf
    return g


def reference_kind(status: str, objective: float | None, bound: float | None) -> tuple[str | None, float | None]:
    """``(kind, value)`` of a reference solve: optimum, bound or incumbent (or (None, None))."""
    if status == "optimal" and objective is not None:
        return "optimum", objective
    if bound is not None and math.isfinite(bound):
        return "bound", bound
    if objective is not None:
        return "incumbent", objective
    return None, None


def instance_hash(instance: Any) -> str:
    """SHA-256 of the instance's canonical JSON (sorted keys, no whitespace): its content hash."""
    d = instance.to_dict()
    blob = json.dumps(d, sort_keys=True, separators=(",", ":"), default=json_default)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _enc(x: Any) -> Any:
    """Strict JSON: an infinite gap is written as the string "inf" (read back by :func:`_dec`)."""
    if isinstance(x, float) and not math.isfinite(x):
        return "inf" if x > 0 else ("-inf" if x < 0 else None)
    return x


def _dec(x: Any) -> Any:
    if x == "inf":
        return math.inf
    if x == "-inf":
        return -math.inf
    return x


def _dumps(o: Any) -> str:
    def clean(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: clean(w) for k, w in v.items()}
        if isinstance(v, (list, tuple)):
            return [clean(w) for w in v]
        return _enc(v)

    return json.dumps(clean(o), default=json_default)


# ----------------------------------------------------------------------------- inputs
def check_family(family: Any) -> str:
    from .registry import get_family

    if not isinstance(family, str):
        raise InvalidInstance("family", f"must be a family name, got {family!r}")
    get_family(family)
    return family


def resolve_reference(family: str, reference: str) -> str:
    """The reference method's name (``auto``: :data:`AUTO_REFERENCE`); must be an exact method."""
    from .registry import get_method

    name = AUTO_REFERENCE.get(family) if reference == "auto" else reference
    if name is None:
        raise InvalidInstance("reference", f"no automatic reference for family {family!r}")
    spec = get_method(family, name)
    if spec.kind != "exact":
        raise InvalidInstance("reference", f"{name!r} is a {spec.kind}, not an exact method of {family!r}")
    return name


def method_label(family: str, method: Any) -> str:
    """The display name of a method (its registered name, the string, or the callable's name)."""
    from .registry import resolve_method

    return resolve_method(family, method)[0]


def method_kind(family: str, method: Any) -> str:
    """The kind of a method (``exact``, ``heuristic``, ...; plugins without one: ``heuristic``)."""
    from .registry import resolve_method

    return resolve_method(family, method)[1].kind


def check_method(family: str, method: Any) -> None:
    """Fail early on a method that cannot run: :class:`UnknownName` / :class:`InvalidInstance`
    naming the method (unknown name, unimportable module, missing attribute, not callable)."""
    from .registry import resolve_method

    if not callable(method) and (not isinstance(method, str) or not method):
        raise InvalidInstance("methods", f"a method is a name, a 'module:function' string or a callable, got {method!r}")
    resolve_method(family, method)


def parse_methods(text: str) -> list[str]:
    names = [m.strip() for m in text.split(",")]
    if not text.strip() or any(not m for m in names):
        raise InvalidInstance("--methods", f"expected a comma-separated list of methods, got {text!r}")
    if len(set(names)) != len(names):
        raise InvalidInstance("--methods", f"a method is listed twice in {text!r}")
    return names


def parse_generate(family: str, spec: str | dict) -> dict:
    """Generator options from ``--generate``: a preset name, ``KEY=VALUE,...``, or both
    (``small,images=8``). Values are converted to the option's type; unknown keys are errors."""
    from .registry import get_family

    fam = get_family(family)
    if isinstance(spec, dict):
        opts = dict(spec)
    else:
        if not isinstance(spec, str) or not spec.strip():
            raise InvalidInstance("--generate", f"expected a preset name or KEY=VALUE list, got {spec!r}")
        opts = {}
        items = [s.strip() for s in spec.split(",")]
        for k, item in enumerate(items):
            key, sep, raw = item.partition("=")
            if not sep:
                if k != 0:
                    raise InvalidInstance("--generate", f"a preset name comes first, got {item!r} in {spec!r}")
                opts.update(_preset(family, item))
                continue
            key = key.strip().replace("-", "_")
            opt = next((o for o in fam.generate_options if o.name == key), None)
            if opt is None:
                known = ", ".join(o.name for o in fam.generate_options)
                raise InvalidInstance(f"--generate {key}", f"unknown generator option for {family!r} (known: {known})")
            opts[key] = _convert(opt, raw.strip())
    for k in opts:
        if k not in {o.name for o in fam.generate_options}:
            raise InvalidInstance(f"generate.{k}", f"unknown generator option for {family!r}")
    return opts


def _preset(family: str, name: str) -> dict:
    from .registry import get_family

    fam = get_family(family)
    if name in PRESETS.get(family, {}):
        return dict(PRESETS[family][name])
    pre = next((o for o in fam.generate_options if o.name == "preset"), None)
    if pre is not None and pre.choices and name in pre.choices:
        return {"preset": name}
    known = sorted(set(PRESETS.get(family, {})) | set(pre.choices if pre is not None and pre.choices else ()))
    raise UnknownName("--generate", f"unknown preset {name!r} for {family!r} (known: {', '.join(known)}; "
                                    "or KEY=VALUE options)")


def _convert(opt: Any, raw: str) -> Any:
    field = f"--generate {opt.name}"
    try:
        if opt.type is bool:
            if raw.lower() in ("true", "1", "yes"):
                return True
            if raw.lower() in ("false", "0", "no"):
                return False
            raise ValueError
        if opt.type is int:
            return int(raw)
        if opt.type is float:
            v = float(raw)
            if not math.isfinite(v):
                raise ValueError
            return v
    except ValueError:
        raise InvalidInstance(field, f"expected {opt.type.__name__}, got {raw!r}") from None
    if opt.choices and raw not in opt.choices:
        raise InvalidInstance(field, f"expected one of {', '.join(map(str, opt.choices))}, got {raw!r}")
    return raw


@dataclass
class Item:
    """One instance of a gap run."""

    key: str
    """Stable label: ``seed=N`` for a generated instance, the file name for a file."""
    instance: Any
    hash: str
    seed: int = 0
    source: dict = field(default_factory=dict)


def instances_from(family: str, *, instances: Any = None, generate: Any = None, seeds: Any = None) -> list[Item]:
    """The instances of a gap run: files of a folder (``*.json``, sorted), a list of instances or
    paths, or ``generate`` options (see :func:`parse_generate`) with ``seeds`` seeds 0..N-1."""
    from . import api

    if (instances is None) == (generate is None):
        raise InvalidInstance("instances", "give exactly one of --instances DIR and --generate PRESET|OPTIONS")
    items: list[Item] = []
    if generate is not None:
        n = _check_seeds(seeds)
        opts = parse_generate(family, generate)
        for s in range(n):
            inst = api.generate(family, seed=s, **opts)
            items.append(Item(key=f"seed={s}", instance=inst, hash=instance_hash(inst), seed=s,
                              source={"generate": opts, "seed": s}))
        return items
    if seeds is not None:
        raise InvalidInstance("--seeds", "only with --generate (the number of generated instances)")
    if isinstance(instances, (str, Path)):
        p = Path(instances)
        if p.is_dir():
            files = sorted(p.glob("*.json"))
            if not files:
                raise InvalidInstance("--instances", f"no *.json instance files in {str(p)!r}")
            srcs: list[Any] = files
        elif p.is_file():
            srcs = [p]
        else:
            from .registry import instance_path

            if isinstance(instances, str) and instance_path(instances) is not None:
                srcs = [instances]  # a shipped instance name such as "picsys/table2"
            else:
                raise InvalidInstance("--instances", f"no folder, file or shipped instance {str(p)!r}")
    else:
        srcs = list(instances)
        if not srcs:
            raise InvalidInstance("instances", "empty list of instances")
    for k, src in enumerate(srcs):
        inst = api.load(src)
        if inst.family != family:
            where = str(src) if isinstance(src, (str, Path)) else f"instances[{k}]"
            raise InvalidInstance("--instances", f"{where} is a {inst.family!r} instance, not {family!r}")
        key = (Path(src).name if isinstance(src, Path) or Path(src).exists() else str(src)) \
            if isinstance(src, (str, Path)) else f"{k}:{inst.name}"
        items.append(Item(key=key, instance=inst, hash=instance_hash(inst), seed=0,
                          source={"file": str(src)} if isinstance(src, (str, Path)) else {}))
    return items


def _check_seeds(seeds: Any) -> int:
    if seeds is None:
        raise InvalidInstance("--seeds", "required with --generate (the number of instances)")
    if isinstance(seeds, str):
        try:
            seeds = int(seeds)
        except ValueError:
            raise InvalidInstance("--seeds", f"must be a positive integer, got {seeds!r}") from None
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise InvalidInstance("--seeds", f"must be a positive integer, got {seeds!r}")
    return seeds


def check_threshold(name: str, value: Any) -> float | None:
    """A gate threshold: a finite number >= 0 (strings are parsed), or None."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise InvalidInstance(name, f"must be a number, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise InvalidInstance(name, f"must be a finite number >= 0, got {value!r}")
    return float(value)


# ----------------------------------------------------------------------------- reference cache
class ReferenceCache:
    """Reference results by ``"<instance hash>|<reference method>"`` in a JSON file.

    An entry is reused when it is a proven optimum (whatever the time limit) or was solved with the
    same time limit; otherwise the reference is solved again and the entry replaced. The file is
    rewritten atomically after every new entry, so a killed run keeps what it solved.
    """

    def __init__(self, path: Path | None):
        self.path = path
        self.entries: dict[str, dict] = {}
        self.hits = 0
        self.misses = 0
        if path is not None and path.is_file():
            try:
                d = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise InvalidInstance("--cache", f"cannot read {str(path)!r}: {exc}") from None
            if not isinstance(d, dict) or d.get("format") != CACHE_FORMAT or not isinstance(d.get("entries"), dict):
                raise InvalidInstance("--cache", f"{str(path)!r} is not a reference cache (format {CACHE_FORMAT})")
            self.entries = d["entries"]

    @staticmethod
    def key(h: str, method: str) -> str:
        return f"{h}|{method}"

    def get(self, h: str, method: str, time_limit: float | None) -> dict | None:
        e = self.entries.get(self.key(h, method))
        if e is None or e.get("error") or e.get("kind") is None:
            return None
        if e.get("kind") == "optimum" or e.get("time_limit") == time_limit:
            return e
        return None

    def put(self, h: str, method: str, entry: dict) -> None:
        self.entries[self.key(h, method)] = entry
        self.save()

    def save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps({"format": CACHE_FORMAT, "entries": dict(sorted(self.entries.items()))},
                                  indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, self.path)


# ----------------------------------------------------------------------------- tasks (run in workers)
def _solve_task(task: dict) -> dict:
    """Solve one (instance, method) task; never raises (an exception becomes an ``error`` field).

    Top-level so that process pools and Dask can ship it. The instance travels as its JSON dict.
    """
    from . import api

    t0 = time.perf_counter()
    out: dict[str, Any] = {}
    try:
        _prepare_worker(task.get("plugins") or (), task.get("cwd"))
        inst = task["instance"]
        if isinstance(inst, dict):  # shipped to a worker process as its JSON dict
            inst = api.from_dict(inst)
        sol = api.solve(inst, task["method"], time_limit=task.get("time_limit"), seed=task.get("seed", 0),
                        threads=task.get("threads"))
        out.update(status=sol.status.value, objective=sol.objective, bound=sol.bound,
                   runtime_s=sol.runtime)
    except BaseException as exc:  # noqa: BLE001 - a failing method never hides the other rows
        if isinstance(exc, KeyboardInterrupt):
            raise
        msg = str(exc).splitlines()[0] if str(exc) else ""
        out.update(status="error", error=f"{type(exc).__name__}: {msg}")
    out["solve_wall_s"] = time.perf_counter() - t0
    return out


def _progress(total: int, desc: str) -> Any:
    """A tqdm bar on stderr (off when stderr is not a terminal), or None without tqdm."""
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover
        return None
    return tqdm(total=total, desc=desc, unit="solve", file=sys.stderr, disable=None, leave=False)


_PREPARED: set = set()


def _prepare_worker(plugins: Sequence[str], cwd: str | None) -> None:
    """In a worker process (Dask, process pool): the caller's working directory on ``sys.path``
    (``module:function`` methods) and its ``--plugin`` modules loaded, once per process."""
    key = (tuple(plugins), cwd)
    if key in _PREPARED:
        return
    if cwd and cwd not in sys.path:
        sys.path.append(cwd)
    from .registry import load_plugin

    for p in plugins:
        load_plugin(p)
    _PREPARED.add(key)


def _execute(fn: Callable[[dict], dict], tasks: list[dict], executor: str, workers: int | None,
             scheduler: str | None = None) -> Iterable[tuple[dict, dict]]:
    """Yield ``(task, result)`` as tasks finish."""
    if not tasks:
        return
    if executor == "dask":
        from dask.distributed import Client, LocalCluster
        from dask.distributed import as_completed as das_completed

        cluster = None
        if scheduler:
            client = Client(scheduler)
        else:
            cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                                   processes=True, dashboard_address=":0")
            client = Client(cluster)
        try:
            futs = {client.submit(fn, t, pure=False): t for t in tasks}
            for fut in das_completed(list(futs)):
                yield futs[fut], fut.result()
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    elif (workers or 1) == 1:
        for t in tasks:
            yield t, fn(t)
    else:
        pool = ProcessPoolExecutor(max_workers=workers)
        try:
            pfuts = {pool.submit(fn, t): t for t in tasks}
            for pfut in as_completed(pfuts):
                yield pfuts[pfut], pfut.result()
        finally:
            pool.shutdown(wait=False, cancel_futures=True)


# ----------------------------------------------------------------------------- rows
ROW_KEY_FIELDS = ("family", "instance", "instance_hash", "method", "seed", "time_limit", "reference", "reference_time_limit")
"""The full task parameters a resumed row must match (not only its instance label)."""


def row_key(row: dict) -> str:
    return json.dumps([row.get(k) for k in ROW_KEY_FIELDS], default=str)


def read_rows(path: Path) -> list[dict]:
    """Rows of a ``rows.jsonl``; a torn last line (killed mid-write) is ignored."""
    rows = []
    if path.is_file():
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                line = line.strip()
                if not line:
                    continue
                try:
                    r = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(r, dict):
                    r["gap"] = _dec(r.get("gap"))
                    rows.append(r)
    return rows


# ----------------------------------------------------------------------------- summary
def summarize(rows: list[dict], *, family: str, reference: str, methods: Sequence[str]) -> dict:
    """Per method: n (rows with a gap), mean, median, worst gap, share optimal, errors."""
    per: dict[str, dict] = {}
    for m in methods:
        rs = [r for r in rows if r.get("method") == m]
        err = [r for r in rs if r.get("error")]
        gaps = [r["gap"] for r in rs if not r.get("error") and isinstance(r.get("gap"), (int, float))]
        kinds: dict[str, int] = {}
        for r in rs:
            if not r.get("error") and r.get("reference_kind"):
                kinds[r["reference_kind"]] = kinds.get(r["reference_kind"], 0) + 1
        per[m] = {
            "n": len(gaps),
            "mean": statistics.fmean(gaps) if gaps else None,
            "median": statistics.median(gaps) if gaps else None,
            "worst": max(gaps) if gaps else None,
            "share_optimal": sum(g <= OPTIMAL_TOL for g in gaps) / len(gaps) if gaps else None,
            "errors": len(err),
            "no_reference": sum(1 for r in rs if not r.get("error") and r.get("gap") is None),
            "reference_kinds": kinds,
            "mean_runtime_s": statistics.fmean([r["runtime_s"] for r in rs if isinstance(r.get("runtime_s"), (int, float))])
            if any(isinstance(r.get("runtime_s"), (int, float)) for r in rs) else None,
            "kind": next((r.get("kind") for r in rs if r.get("kind")), None),
        }
    return {"format": SUMMARY_FORMAT, "family": family, "reference": reference,
            "gap_definition": "objective/reference - 1 (min) | reference/objective - 1 (max)",
            "instances": len({r.get("instance_hash") for r in rows}), "methods": per}


def summary_markdown(summary: dict, *, reference_errors: int = 0) -> str:
    fam, ref = summary["family"], summary["reference"]
    lines = [f"# Gap to the reference: {fam}, reference {ref}, {summary['instances']} instances", "",
             "gap = objective / reference - 1" if _sense(fam) == "min" else "gap = reference / objective - 1",
             "(reference: the optimum where proven, else the best bound; kinds per method below).", "",
             "| method | kind | n | mean gap | median gap | worst gap | optimal | errors | references |",
             "|---|---|---|---|---|---|---|---|---|"]

    def pct(x: float | None) -> str:
        if x is None:
            return "-"
        return "inf" if x == math.inf else f"{100 * x:.3f} %"

    for m, s in summary["methods"].items():
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(s["reference_kinds"].items())) or "-"
        share = "-" if s["share_optimal"] is None else f"{100 * s['share_optimal']:.1f} %"
        lines.append(f"| {m} | {s.get('kind') or '-'} | {s['n']} | {pct(s['mean'])} | {pct(s['median'])} | "
                     f"{pct(s['worst'])} | {share} | {s['errors']} | {kinds} |")
    if reference_errors:
        lines += ["", f"{reference_errors} instance(s) without a reference (the reference method failed)."]
    return "\n".join(lines)


def _sense(family: str) -> str:
    from .registry import get_family

    return get_family(family).sense


def plot(rows: list[dict], summary: dict, outdir: Path) -> list[Path]:
    """Gap distribution per method (box plot with the points), PNG and PDF."""
    from matplotlib.figure import Figure  # no pyplot: nothing global, and a second faster to import

    methods = list(summary["methods"])
    data = [[100 * r["gap"] for r in rows if r.get("method") == m and not r.get("error")
             and isinstance(r.get("gap"), (int, float)) and math.isfinite(r["gap"])] for m in methods]
    fig = Figure(figsize=(max(4.5, 1.1 * len(methods) + 2), 3.8))
    ax = fig.subplots()
    pos = list(range(1, len(methods) + 1))
    nonempty = [(p, d) for p, d in zip(pos, data) if d]
    if nonempty:
        ax.boxplot([d for _, d in nonempty], positions=[p for p, _ in nonempty], widths=0.5, showfliers=False)
        import numpy as np

        rng = np.random.default_rng(0)
        for p, d in nonempty:
            ax.scatter(p + rng.uniform(-0.15, 0.15, len(d)), d, s=8, alpha=0.5, color="tab:blue", zorder=3)
    ax.set_xticks(pos)
    ax.set_xticklabels([f"{m}\n(n={len(d)})" for m, d in zip(methods, data)], fontsize=8,
                       rotation=20 if len(methods) > 4 else 0)
    ax.set_xlabel("method")
    ax.set_ylabel("gap to reference [%]")
    kinds: dict[str, int] = {}
    for s in summary["methods"].values():
        for k, v in s["reference_kinds"].items():
            kinds[k] = kinds.get(k, 0) + v
    ax.set_title(f"{summary['family']}: gap to {summary['reference']} on {summary['instances']} instances",
                 fontsize=9)
    definition = "gap = objective/reference - 1" if _sense(summary["family"]) == "min" \
        else "gap = reference/objective - 1"
    refs = ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())) or "none"
    fig.text(0.01, 0.01, f"{definition}; rows by reference kind: {refs}; n = rows with a gap", fontsize=7,
             color="0.4")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    paths = [outdir / "gap.png", outdir / "gap.pdf"]
    fig.savefig(paths[0], dpi=120)
    fig.savefig(paths[1])
    return paths


# ----------------------------------------------------------------------------- gates
@dataclass
class Gate:
    method: str
    gate: str
    passed: bool
    message: str = ""
    skipped: bool = False


def load_baseline(path: Any, family: str) -> dict:
    """A baseline summary (an earlier ``summary.json``) of the same family."""
    p = Path(path)
    try:
        d = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInstance("--baseline", f"cannot read {str(p)!r}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInstance("--baseline", f"{str(p)!r} is not JSON: {exc}") from None
    if not isinstance(d, dict) or d.get("format") != SUMMARY_FORMAT or not isinstance(d.get("methods"), dict) \
            or not isinstance(d.get("family"), str):
        raise InvalidInstance("--baseline", f"{str(p)!r} is not a gap summary.json (format {SUMMARY_FORMAT})")
    if d["family"] != family:
        raise InvalidInstance("--baseline", f"{str(p)!r} is a summary of family {d['family']!r}, not {family!r}")
    for m, s in d["methods"].items():
        if not isinstance(s, dict) or not (s.get("mean") is None or isinstance(_dec(s.get("mean")), (int, float))):
            raise InvalidInstance("--baseline", f"{str(p)!r}: methods.{m}.mean is not a number")
        s["mean"] = _dec(s.get("mean"))
    return d


def gates(summary: dict, *, max_mean_gap: float | None = None, max_worst_gap: float | None = None,
          baseline: dict | None = None, max_regression: float | None = None,
          reference_errors: int = 0) -> list[Gate]:
    """Evaluate the gates on a summary: one :class:`Gate` per method and gate.

    ``errors`` (always): the method raised on no instance. ``max-mean-gap``: mean gap <=
    threshold. ``max-worst-gap``: worst gap <= threshold. ``max-regression``: mean gap <=
    baseline mean gap + threshold (absolute, in gap units: 0.01 = one percentage point); a method
    absent from the baseline is skipped.
    """
    out: list[Gate] = []
    if reference_errors:
        out.append(Gate("reference", "errors", False,
                        f"reference {summary['reference']}: failed on {reference_errors} instance(s)"))
    for m, s in summary["methods"].items():
        if s["errors"]:
            out.append(Gate(m, "errors", False, f"{m}: {s['errors']} error row(s) (see rows.jsonl)"))
        else:
            out.append(Gate(m, "errors", True))
        for name, thr, val in (("max-mean-gap", max_mean_gap, s["mean"]), ("max-worst-gap", max_worst_gap, s["worst"])):
            if thr is None:
                continue
            what = name.split("-")[1]
            if val is None:
                out.append(Gate(m, name, False, f"{m}: no {what} gap (no instance with a reference), --{name} {thr:g}"))
            elif val > thr:
                out.append(Gate(m, name, False, f"{m}: {what} gap {val:.6g} > --{name} {thr:g}"))
            else:
                out.append(Gate(m, name, True, f"{m}: {what} gap {val:.6g} <= {thr:g}"))
        if baseline is not None and max_regression is not None:
            b = baseline["methods"].get(m)
            if b is None or b.get("mean") is None:
                out.append(Gate(m, "max-regression", True, f"{m}: not in the baseline", skipped=True))
            elif s["mean"] is None:
                out.append(Gate(m, "max-regression", False, f"{m}: no mean gap to compare with the baseline"))
            elif s["mean"] > b["mean"] + max_regression:
                out.append(Gate(m, "max-regression", False,
                                f"{m}: mean gap {s['mean']:.6g} > baseline {b['mean']:.6g} + --max-regression "
                                f"{max_regression:g}"))
            else:
                out.append(Gate(m, "max-regression", True,
                                f"{m}: mean gap {s['mean']:.6g} <= baseline {b['mean']:.6g} + {max_regression:g}"))
    return out


def junit_xml(summary: dict, results: list[Gate], elapsed: float = 0.0) -> str:
    """JUnit XML: one ``testsuite`` (the run), one ``testcase`` per method and gate."""
    from xml.etree import ElementTree as ET

    fails = sum(1 for g in results if not g.passed)
    skips = sum(1 for g in results if g.skipped)
    ts = ET.Element("testsuite", name=f"optoffload-gap-{summary['family']}", tests=str(len(results)),
                    failures=str(fails), errors="0", skipped=str(skips), time=f"{elapsed:.3f}")
    for g in results:
        tc = ET.SubElement(ts, "testcase", classname=f"gap.{summary['family']}.{g.method}", name=g.gate)
        if g.skipped:
            ET.SubElement(tc, "skipped", message=g.message)
        elif not g.passed:
            f = ET.SubElement(tc, "failure", message=g.message, type="GateFailed")
            f.text = g.message
        elif g.message:
            ET.SubElement(tc, "system-out").text = g.message
    root = ET.Element("testsuites", name="optoffload gap", tests=str(len(results)), failures=str(fails))
    root.append(ts)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# ----------------------------------------------------------------------------- the run
@dataclass
class GapResult:
    """What :func:`run_gap` returns."""

    family: str
    reference: str
    rows: list[dict]
    summary: dict
    reference_errors: int
    outdir: Path | None
    timing: dict

    def method(self, name: str) -> dict:
        """The summary of one method (n, mean, median, worst, share_optimal, errors, ...)."""
        out: dict = self.summary["methods"][name]
        return out


def run_gap(family: str, methods: Sequence[Any], *, reference: str = "auto", instances: Any = None,
            generate: Any = None, seeds: Any = None, time_limit: float | None = None,
            workers: int | None = None, executor: str = "local", scheduler: str | None = None,
            out: str | Path | None = None, resume: bool = False, cache: str | Path | None = None,
            plot_figure: bool = True, echo: bool = False, plugins: Sequence[str] = ()) -> GapResult:
    """Solve the reference on every instance, run every method, write rows/summary/plot.

    ``methods``: registered names, ``"module:function"`` strings or callables (a callable runs
    in this process unless ``workers > 1`` and it pickles). ``time_limit`` applies to the
    reference and to the methods of kind ``exact``. ``out=None`` writes nothing (unless
    ``cache`` is given). ``plugins``: modules (CLI ``--plugin``) that worker processes load
    before solving. See the module docstring for the files and the gap.
    """
    from .api import _check_time_limit
    from .registry import get_family

    t_start = time.perf_counter()
    family = check_family(family)
    ref = resolve_reference(family, reference)
    methods = list(methods)
    if not methods:
        raise InvalidInstance("methods", "no method given")
    for m in methods:
        check_method(family, m)
    labels = [method_label(family, m) for m in methods]
    if len(set(labels)) != len(labels):
        raise InvalidInstance("methods", f"a method is listed twice: {', '.join(labels)}")
    time_limit = _check_time_limit(time_limit)
    if executor not in ("local", "dask"):
        raise InvalidInstance("executor", f"unknown executor {executor!r} (local or dask)")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise InvalidInstance("workers", f"must be a positive integer, got {workers!r}")
    items = instances_from(family, instances=instances, generate=generate, seeds=seeds)
    sense = get_family(family).sense
    outdir = Path(out) if out is not None else None
    if outdir is not None:
        outdir.mkdir(parents=True, exist_ok=True)
    cache_path = Path(cache) if cache is not None else (outdir / "reference-cache.json" if outdir else None)
    rcache = ReferenceCache(cache_path)
    in_process = executor == "local" and (workers or 1) == 1

    def payload(inst: Any) -> Any:  # the instance itself in this process, its JSON dict for workers
        return inst if in_process else inst.to_dict()

    # ---- phase 1: the reference of every instance (cache first)
    refs: dict[str, dict] = {}
    todo = []
    queued: set[str] = set()
    for it in items:
        e = rcache.get(it.hash, ref, time_limit)
        if e is not None:
            refs[it.hash] = e
            rcache.hits += 1
        elif it.hash not in queued:
            queued.add(it.hash)
            todo.append({"hash": it.hash, "instance": payload(it.instance), "method": ref,
                         "time_limit": time_limit, "seed": 0, "plugins": list(plugins), "cwd": os.getcwd()})
    rcache.misses = len(todo)
    t_ref = 0.0
    bar = _progress(len(todo), f"reference {ref}") if echo and todo else None
    for task, res in _execute(_solve_task, todo, executor, workers, scheduler):
        if bar is not None:
            bar.update(1)
        kind, value = reference_kind(res.get("status", "error"), res.get("objective"), res.get("bound"))
        entry = {"method": ref, "status": res.get("status"), "objective": res.get("objective"),
                 "bound": res.get("bound"), "kind": kind, "value": value, "time_limit": time_limit,
                 "runtime_s": res.get("runtime_s"), "solve_wall_s": res.get("solve_wall_s")}
        if res.get("error"):
            entry["error"] = res["error"]
        t_ref += res.get("solve_wall_s", 0.0)
        refs[task["hash"]] = entry
        if entry.get("error") is None and kind is not None:
            rcache.put(task["hash"], ref, entry)
        if echo and (res.get("error") or kind is None):
            print(f"reference {ref} failed on an instance: {res.get('error') or res.get('status')}", file=sys.stderr)
    if bar is not None:
        bar.close()
    reference_errors = sum(1 for it in {i.hash: i for i in items}.values()
                           if refs.get(it.hash, {}).get("kind") is None)

    # ---- phase 2: every method on every instance
    rows_path = outdir / "rows.jsonl" if outdir is not None else None
    kept: dict[str, dict] = {}
    if resume and rows_path is not None:
        for r in read_rows(rows_path):
            if not r.get("error"):
                kept[row_key(r)] = r
    tasks = []
    for it in items:
        rentry = refs.get(it.hash, {})
        for m, label in zip(methods, labels):
            kind = method_kind(family, m)
            base = {"family": family, "instance": it.key, "instance_name": it.instance.name, "instance_hash": it.hash,
                    "method": label, "kind": kind, "seed": it.seed,
                    "time_limit": time_limit if kind == "exact" else None,
                    "reference": ref, "reference_time_limit": time_limit,
                    "reference_kind": rentry.get("kind"), "reference_value": rentry.get("value")}
            tasks.append((base, m, it))
    wanted = {row_key(b) for b, _, _ in tasks}
    kept = {k: r for k, r in kept.items() if k in wanted}
    done_keys = set(kept)
    rows_out: list[dict] = list(kept.values())
    fh = None
    if rows_path is not None:
        with rows_path.open("w", encoding="utf-8") as w:  # keep only the rows that still match
            for r in rows_out:
                w.write(_dumps(r) + "\n")
        fh = rows_path.open("a", encoding="utf-8")
    if echo and resume:
        print(f"resume: {len(done_keys)} of {len(tasks)} rows already done", file=sys.stderr)
    run_tasks = []
    for base, m, it in tasks:
        if row_key(base) in done_keys:
            continue
        run_tasks.append({**base, "_method": m, "instance_dict": payload(it.instance)})
    t_meth = 0.0
    errors = 0
    last_sync = time.perf_counter()
    try:
        def shipped(t: dict) -> dict:  # what a worker needs
            return {"instance": t["instance_dict"], "method": t["_method"], "time_limit": t["time_limit"],
                    "seed": t["seed"], "plugins": list(plugins), "cwd": os.getcwd()}

        ship = [shipped(t) for t in run_tasks]
        index = {id(s): t for s, t in zip(ship, run_tasks)}
        bar = _progress(len(ship), "methods") if echo and ship else None
        for s, res in _execute(_solve_task, ship, executor, workers, scheduler):
            if bar is not None:
                bar.update(1)
            t = index[id(s)]  # _execute yields the very task object that was submitted
            row = {k: v for k, v in t.items() if k not in ("_method", "instance_dict")}
            row.update(res)
            row["gap"] = None if row.get("error") else gap(row.get("objective"), row.get("reference_value"), sense)
            if row.get("error"):
                errors += 1
                if echo:
                    print(f"{row['method']} on {row['instance']}: {row['error']}", file=sys.stderr)
            t_meth += res.get("solve_wall_s", 0.0)
            rows_out.append(row)
            if fh is not None:
                fh.write(_dumps(row) + "\n")
                fh.flush()  # a killed process loses no finished row
                if time.perf_counter() - last_sync > 1.0:  # a crashed machine: at most a second's rows
                    os.fsync(fh.fileno())
                    last_sync = time.perf_counter()
    finally:
        if bar is not None:
            bar.close()
        if fh is not None:
            fh.flush()
            os.fsync(fh.fileno())
            fh.close()

    order = {(b["instance_hash"], b["method"]): k for k, (b, _, _) in enumerate(tasks)}
    rows_out.sort(key=lambda r: order.get((r.get("instance_hash"), r.get("method")), 0))
    summary = summarize(rows_out, family=family, reference=ref, methods=labels)
    summary["reference_errors"] = reference_errors
    summary["cache"] = {"file": str(cache_path) if cache_path else None, "hits": rcache.hits, "misses": rcache.misses}
    t_total = time.perf_counter() - t_start
    timing = {"wall_s": t_total, "reference_solve_s": t_ref, "method_solve_s": t_meth,
              "overhead_s": t_total - t_ref - t_meth, "resumed_rows": len(done_keys)}
    summary["timing"] = timing
    if outdir is not None:
        (outdir / "summary.json").write_text(_dumps(summary) + "\n", encoding="utf-8")
        (outdir / "summary.md").write_text(summary_markdown(summary, reference_errors=reference_errors) + "\n",
                                           encoding="utf-8")
        if plot_figure:
            plot(rows_out, summary, outdir)
    return GapResult(family=family, reference=ref, rows=rows_out, summary=summary,
                     reference_errors=reference_errors, outdir=outdir, timing=timing)


def report_exit(result: GapResult, results: list[Gate], *, stream: Any = None) -> int:
    """Print one line per failed gate (on ``stream``, default stderr); return 1 if any failed."""
    stream = sys.stderr if stream is None else stream
    failed = [g for g in results if not g.passed]
    for g in failed:
        print(f"gate failed: {g.gate}: {g.message}", file=stream)
    return 1 if failed else 0
