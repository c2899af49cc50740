"""Run a benchmark suite: rows written as they finish, resumable, local or Dask.

Output layout (``out`` defaults to ``bench-out/<suite>``)::

    rows.jsonl   one JSON row per line, appended and flushed as each task finishes
    report.md    the suite's markdown report (also printed)
    *.png        plots, when the suite draws any

``resume=True`` keeps the rows already in ``rows.jsonl`` and runs only the
tasks whose ``id`` is missing; without it an existing ``rows.jsonl`` is
replaced. A killed sweep therefore loses at most the tasks that were running.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import sys
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Iterable

from .suite import Suite


def discover() -> dict[str, Suite]:
    """All suites defined by the modules of ``optoffload.benchmarks`` and its family subpackages.

    Every module (at any depth) may define ``SUITES``; a suite name defined twice is an error.
    """
    from optoffload import benchmarks

    found: dict[str, Suite] = {}
    for info in pkgutil.walk_packages(benchmarks.__path__, prefix="optoffload.benchmarks."):
        leaf = info.name.rsplit(".", 1)[-1]
        if info.name in ("optoffload.benchmarks.runner", "optoffload.benchmarks.suite") or leaf.startswith("_"):
            continue
        mod = importlib.import_module(info.name)
        for name, suite in getattr(mod, "SUITES", {}).items():
            if name in found:
                raise RuntimeError(f"benchmark suite {name!r} defined twice")
            found[name] = suite
    return dict(sorted(found.items()))


def _run_task(run, task: dict) -> list[dict]:
    """Run one task in a worker; never raises (an error becomes a row)."""
    t0 = time.perf_counter()
    try:
        out = run(task)
        rows = out if isinstance(out, list) else [out]
        err = None
    except Exception as exc:  # noqa: BLE001 - reported in the row
        rows = [{}]
        err = f"{type(exc).__name__}: {exc}"
        tb = traceback.format_exc(limit=4)
    elapsed = time.perf_counter() - t0
    result = []
    for r in rows:
        row = {"id": task["id"], **{k: v for k, v in task.items() if k != "id"}, **r}
        row["task_key"] = task_key(task)
        row.setdefault("task_elapsed_s", elapsed)
        if err is not None:
            row["error"] = err
            row["traceback"] = tb
        result.append(row)
    return result


def task_key(task: dict) -> str:
    """A task's full parameters as one canonical string: rows match tasks on it, not on the id
    alone (``--quick`` and full tasks share ids with different parameters, issue #14 item 2)."""
    return json.dumps(task, sort_keys=True, default=str, separators=(",", ":"))


def _row_matches(row: dict, task: dict) -> bool:
    if "task_key" in row:
        return row["task_key"] == task_key(task)
    # rows written before task_key existed carry the task's fields: all must agree
    return all(k in row and row[k] == v for k, v in task.items())


def read_rows(path: Path) -> list[dict]:
    """Rows of a ``rows.jsonl``; a torn last line (killed mid-write) is ignored; [] when absent."""
    from optoffload.frames import read_rows as _read

    return _read(path) if Path(path).is_file() else []


def _progress(total: int, desc: str, enabled: bool | None = True):
    """A bar on a terminal, otherwise one line per 5 % of the tasks or per 30 s (optoffload.progress)."""
    from optoffload.progress import Progress

    return Progress(total, desc, unit="task", enabled=enabled)


def _ignore_sigint() -> None:
    """Worker initializer: Ctrl-C is the parent's to handle (a terminal sends it to the whole
    process group); workers are stopped by the parent instead of printing tracebacks."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _execute(suite: Suite, tasks: list[dict], executor: str, workers: int | None,
             scheduler: str | None) -> Iterable[list[dict]]:
    if not tasks:
        return
    if executor == "dask":
        from dask.distributed import Client, LocalCluster, as_completed as das_completed

        cluster = None
        if scheduler:
            client = Client(scheduler)
        else:
            cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                                   processes=True, dashboard_address=":0")
            client = Client(cluster)
        try:
            futs = [client.submit(_run_task, suite.run, t, pure=False) for t in tasks]
            for fut in das_completed(futs):
                yield fut.result()
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    elif executor == "local":
        n = workers or 1
        if n == 1:
            for t in tasks:
                yield _run_task(suite.run, t)
        else:
            pool = ProcessPoolExecutor(max_workers=n, initializer=_ignore_sigint)
            try:
                futs = [pool.submit(_run_task, suite.run, t) for t in tasks]
                for fut in as_completed(futs):
                    yield fut.result()
            except BaseException:
                # Ctrl-C (or the consumer closing us): stop the workers now. Left running they
                # outlive the parent (which exits at once with 130) and block on each other's
                # pipes forever (issue #14 item 12); finished rows are on disk for --resume.
                procs = list((getattr(pool, "_processes", None) or {}).values())
                pool.shutdown(wait=False, cancel_futures=True)
                for proc in procs:
                    proc.terminate()
                raise
            finally:
                # on any error drop the queued tasks instead of running them all
                pool.shutdown(wait=False, cancel_futures=True)
    else:
        from optoffload.errors import InvalidInstance

        raise InvalidInstance("executor", f"unknown executor {executor!r} (local or dask)")


def run_suite(name: str | None, *, out: str | Path | None = None, executor: str = "local",
              workers: int | None = None, resume: bool = False, quick: bool = False,
              scheduler: str | None = None, echo: bool = True, progress: bool | None = True,
              methods: list[str] | None = None, seeds: int | None = None) -> int:
    """Run suite ``name`` (None: list the suites). Returns a process exit status.

    ``progress``: True reports on stderr (a bar on a terminal, else a line per 5 % of the tasks
    or per 30 s with done/total and the time left), False never, None only on a terminal.
    ``methods``/``seeds``: for suites that compare methods (``Suite.tasks_with``); others reject them.
    """
    from optoffload.errors import InvalidInstance, UnknownName

    suites = discover()
    if name is None:
        for n, s in suites.items():
            print(f"{n}\t{s.summary}")
        return 0
    if name not in suites:
        raise UnknownName("suite", f"unknown benchmark suite {name!r} (known: {', '.join(suites)})")
    if workers is not None and workers < 1:
        raise InvalidInstance("workers", f"must be >= 1, got {workers}")
    suite = suites[name]
    outdir = Path(out) if out else Path("bench-out") / name
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInstance("out", f"cannot create the output directory {str(outdir)!r}: {exc.strerror or exc}") \
            from None
    rows_path = outdir / "rows.jsonl"
    if methods is not None or seeds is not None:
        if suite.tasks_with is None:
            flag = "--methods" if methods is not None else "--seeds"
            takes = ", ".join(n for n, s in suites.items() if s.tasks_with is not None)
            raise InvalidInstance(flag, f"suite {name!r} does not compare methods (suites that do: {takes})")
        if seeds is not None and (isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1):
            raise InvalidInstance("--seeds", f"must be a positive integer, got {seeds!r}")
        if methods is not None:
            if not methods or any(not isinstance(m, str) or not m for m in methods):
                raise InvalidInstance("--methods", f"expected a comma-separated list of methods, got {methods!r}")
        tasks = suite.tasks_with(quick, methods, seeds)
    else:
        tasks = suite.tasks(quick)
    ids = [t["id"] for t in tasks]
    if len(set(ids)) != len(ids):
        raise RuntimeError(f"suite {name!r} has duplicate task ids")
    done_rows = read_rows(rows_path) if resume else []
    by_id = {t["id"]: t for t in tasks}
    # a task is done when a non-error row of it exists with the same full parameters
    done_ids = {r.get("id") for r in done_rows
                if "error" not in r and r.get("id") in by_id and _row_matches(r, by_id[r["id"]])}
    stale = {r.get("id") for r in done_rows if r.get("id") in by_id and r.get("id") not in done_ids
             and "error" not in r}
    if echo and stale:
        print(f"resume: {len(stale)} task(s) had rows with other parameters (rerun): {', '.join(sorted(stale)[:5])}",
              file=sys.stderr)
    done_rows = [r for r in done_rows if r.get("id") in done_ids]
    todo = [t for t in tasks if t["id"] not in done_ids]
    # rewrite the kept rows (drops torn lines and error rows that will be rerun)
    with rows_path.open("w", encoding="utf-8") as fh:
        for r in done_rows:
            fh.write(json.dumps(r) + "\n")
    if echo and resume:
        print(f"resume: {len(done_ids & set(ids))} of {len(tasks)} tasks already done", file=sys.stderr)
    bar = _progress(len(todo), name, progress if echo else False) if todo else None
    new_rows: list[dict] = []
    errors = 0
    results = _execute(suite, todo, executor, workers, scheduler)
    try:
        with rows_path.open("a", encoding="utf-8") as fh:
            for rows in results:
                for r in rows:
                    fh.write(json.dumps(r, default=float) + "\n")
                    if "error" in r:
                        errors += 1
                        print(f"task {r['id']} failed: {r['error']}", file=sys.stderr)
                fh.flush()
                os.fsync(fh.fileno())
                new_rows.extend(rows)
                if bar is not None:
                    bar.update(1)
    except BaseException:
        results.close()  # Ctrl-C between two rows: the executor's clean-up stops the workers
        raise
    if bar is not None:
        bar.close()
    all_rows = [r for r in read_rows(rows_path) if r.get("id") in set(ids)]
    order = {i: k for k, i in enumerate(ids)}
    all_rows.sort(key=lambda r: order.get(r.get("id"), 0))
    good = [r for r in all_rows if "error" not in r]
    if suite.report is not None:
        md = suite.report(good, outdir)
    else:
        from .suite import markdown_table

        cols = sorted({k for r in good for k in r if k not in ("traceback", "task_key")})
        md = markdown_table(good, cols)
    (outdir / "report.md").write_text(md + "\n", encoding="utf-8")
    if echo:
        print(md)
        print(f"\nrows: {rows_path}  report: {outdir / 'report.md'}", file=sys.stderr)
    return 1 if errors else 0
