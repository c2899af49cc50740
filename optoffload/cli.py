"""The ``optoffload`` command line (contract: docs/ARCHITECTURE in shared/design).

Errors print one line on stderr: exit status 2 for bad input
(:class:`~optoffload.errors.InvalidInstance`, unknown names, bad options),
1 for anything else. Never a traceback (set ``OPTOFFLOAD_DEBUG=1`` to get one).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from typing import Any, Sequence

from . import api, registry
from .validate import json_default
from .errors import InvalidInstance, VerificationError


class _ArgError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        raise _ArgError(f"{self.prog}: {message}")


def _clean(o: Any) -> Any:
    """Replace non-finite floats by None so that the output is strict JSON."""
    if isinstance(o, float) and not math.isfinite(o):
        return None
    if isinstance(o, dict):
        return {k: _clean(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_clean(v) for v in o]
    return o


def dumps(o: Any) -> str:
    return json.dumps(_clean(o), default=json_default)


def _print_solution(sol, as_json: bool) -> None:
    if as_json:
        print(dumps(sol.to_dict()))
    else:
        print(sol)


def _cmd_instances(args) -> int:
    for name in registry.instances():
        print(name)
    return 0


def _cmd_methods(args) -> int:
    for line in registry.plugin_errors():
        print(f"warning: {line}", file=sys.stderr)
    if args.options and not args.family:
        raise InvalidInstance("--options", "needs a FAMILY: optoffload methods FAMILY --options")
    if args.family and args.options:
        from .options import method_options

        for name, spec in registry.family_methods(args.family).items():
            print(f"{name} ({spec.kind}): {spec.summary}")
            opts = method_options(args.family, name)
            if not opts:
                print("    (no options beyond --time-limit, --seed, --threads)")
            for o in opts:
                print(f"    {o['name']}: {o['type']} = {o['default']!r}  {o['meaning']}")
        return 0
    if args.family:
        for name, spec in registry.family_methods(args.family).items():
            summary = spec.summary if spec.source == "built-in" else f"[{spec.source}] {spec.summary}".rstrip()
            print(f"{name}\t{spec.kind}\t{summary}")
    else:
        for name in registry.methods():
            print(name)
    return 0


def _cmd_solve(args) -> int:
    options = _parse_options(args.option)
    if args.log:
        return _solve_logged(args, options)
    sol = api.solve(args.instance, args.method, time_limit=args.time_limit, seed=args.seed,
                    threads=args.threads, **options)
    _print_solution(sol, args.json)
    return 0


def _solve_logged(args, options: dict) -> int:
    """``solve --log``: the solver's own progress log (CP-SAT ``log_search_progress``, HiGHS
    ``output_flag``, CBC ``msg``) on stderr, via the method's ``log`` option; stdout keeps only the
    result. A method without a ``log`` option is solved as usual, with a note on stderr."""
    import inspect

    inst = api.load(args.instance)
    fn = registry.get_method(inst.family, args.method).load()
    try:
        takes_log = "log" in inspect.signature(fn).parameters
    except (TypeError, ValueError):  # pragma: no cover
        takes_log = False
    if takes_log:
        options.setdefault("log", True)
    else:
        print(f"note: method {args.method!r} has no solver log (no 'log' option); solving without one",
              file=sys.stderr)
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)  # native solvers write their logs to fd 1: send them to stderr
        sol = api.solve(inst, args.method, time_limit=args.time_limit, seed=args.seed, threads=args.threads,
                        **options)
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
    _print_solution(sol, args.json)
    return 0


def _cmd_plot(args) -> int:
    from . import plot

    try:
        with open(args.solution, encoding="utf-8") as fh:
            d = json.load(fh)
    except (OSError, json.JSONDecodeError) as exc:
        raise InvalidInstance("solution", f"cannot read {args.solution!r}: {exc}") from None
    path = plot.plot(args.instance, d, args.output)
    print(f"wrote {path}")
    return 0


def _cmd_simulate(args) -> int:
    options = _parse_options(args.option)
    sol = api.simulate(args.instance, args.policy, seed=args.seed, **options)
    _print_solution(sol, args.json)
    return 0


def _cmd_verify(args) -> int:
    from .validate import parse_json, read_text

    d = parse_json(read_text(args.solution, "solution"), args.solution, "solution")
    value = api.verify(args.instance, d)
    extra = api.plan_info(args.instance, d)
    if args.json:
        print(dumps({"verified": True, "objective": value, **extra}))
    else:
        note = ""
        if "processed" in extra:
            note = (f" (mode max-processed: {extra['processed']} of {extra['images']} images processed, "
                    f"at most {extra['max_processed']} within the budgets; plans rank by images processed first)")
        print(f"verified: objective {value:.9g}{note}")
    return 0


def _parse_options(items: Sequence[str] | None) -> dict:
    out: dict[str, Any] = {}
    for item in items or ():
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise InvalidInstance("--option", f"expected KEY=VALUE, got {item!r}")
        try:
            out[key.replace("-", "_")] = json.loads(raw)
        except json.JSONDecodeError:
            out[key.replace("-", "_")] = raw
    return out


def _cmd_generate(args) -> int:
    fam = registry.get_family(args.family)
    p = _Parser(prog=f"optoffload generate {args.family}")
    for opt in fam.generate_options:
        kw: dict[str, Any] = {"default": opt.default, "help": opt.help.replace("%", "%%")}
        if opt.type is bool:
            kw["action"] = argparse.BooleanOptionalAction
        else:
            kw["type"] = opt.type
            if opt.choices:
                kw["choices"] = opt.choices
        p.add_argument("--" + opt.name.replace("_", "-"), dest=opt.name, **kw)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--output", required=True)
    ns = p.parse_args(args.rest)
    from pathlib import Path

    if not Path(ns.output).parent.is_dir():  # before generating (which may take a while)
        raise InvalidInstance("output", f"directory {str(Path(ns.output).parent)!r} does not exist")
    opts = {o.name: getattr(ns, o.name) for o in fam.generate_options}
    inst = api.generate(args.family, seed=ns.seed, **opts)
    api.save(inst, ns.output)
    print(f"wrote {ns.output}")
    return 0


def _cmd_compare(args) -> int:
    inst = api.load(args.instance)
    names = [m.strip() for m in args.methods.split(",") if m.strip()] if args.methods else None
    if names == []:
        raise InvalidInstance("--methods", f"no method named in {args.methods!r}")
    rows = api.compare(inst, names, time_limit=args.time_limit, seed=args.seed, progress=args.progress,
                       options=_parse_options(args.option))
    status = 1 if any(r["status"] == "error" for r in rows) else 0
    if args.json:
        print(dumps({"family": inst.family, "instance": inst.name, "rows": rows}))
        return status
    sense = registry.get_family(inst.family).sense
    ok = sorted((r for r in rows if r.get("objective") is not None and not r.get("instance")),
                key=lambda r: r["objective"] if sense == "min" else -r["objective"])
    other = [r for r in rows if r.get("objective") is not None and r.get("instance")]  # another system's plans
    bad = [r for r in rows if r.get("objective") is None]
    print(f"{inst.family}/{inst.name}: {len(rows)} methods ({'lower' if sense == 'min' else 'higher'} is better)")
    print(f"{'method':<22}{'kind':<11}{'status':<11}{'objective':>14}{'bound':>14}{'gap':>9}{'to best':>9}"
          f"{'time s':>10}")
    for r in ok + other + bad:
        def f(v, w, p=".6g"):
            return f"{v:>{w}{p}}" if isinstance(v, (int, float)) else f"{'-':>{w}}"
        gap = f"{100 * r['gap']:.2f}%" if isinstance(r.get("gap"), float) else "-"
        to_best = f"{100 * r['gap_to_best']:.2f}%" if isinstance(r.get("gap_to_best"), float) else "-"
        line = (f"{r['method']:<22}{r['kind']:<11}{r['status']:<11}{f(r.get('objective'), 14)}"
                f"{f(r.get('bound'), 14)}{gap:>9}{to_best:>9}{f(r.get('runtime_s'), 10, '.3f')}")
        if r.get("instance"):
            line += f"  (plan of {r['instance']}, another system: not ranked)"
        if r.get("error"):
            line += f"  {r['error'].splitlines()[0] if r['error'] else ''}"
        print(line)
    if status:
        n = sum(r["status"] == "error" for r in rows)
        print(f"error: {n} of {len(rows)} methods failed (see their rows)", file=sys.stderr)
    return status


def _cmd_export(args) -> int:
    from .models import build_model

    options = _parse_options(args.option)
    model = build_model(args.instance, args.layer, **options)
    path = model.write(args.output)
    print(dumps({"written": str(path), "layer": args.layer, "variables": len(model.variables())}) if args.json
          else f"wrote {path} ({args.layer} model, {len(model.variables())} variables)")
    return 0


def _cmd_read_solution(args) -> int:
    from .models import read_solution

    options = _parse_options(args.option)
    sol = read_solution(args.instance, args.layer, args.solution, **options)
    _print_solution(sol, args.json)
    return 0


def _cmd_bench(args) -> int:
    from optoffload.benchmarks.runner import run_suite

    methods = None
    if args.methods is not None:
        from .gap import parse_methods

        methods = parse_methods(args.methods)
    seeds = None
    if args.seeds is not None:
        try:
            seeds = int(args.seeds)
        except ValueError:
            raise InvalidInstance("--seeds", f"must be a positive integer, got {args.seeds!r}") from None
    if args.suite is None and (methods is not None or seeds is not None):
        raise InvalidInstance("--methods" if methods is not None else "--seeds", "needs a SUITE")
    return run_suite(args.suite, out=args.out, executor=args.executor, workers=args.workers,
                     resume=args.resume, quick=args.quick, scheduler=args.scheduler, progress=args.progress,
                     methods=methods, seeds=seeds)


def _progress_flag(s) -> None:
    s.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True,
                   help="progress on stderr: a bar on a terminal, else one line per few tasks or 30 s "
                        "with done/total and time left (default: on)")


def _cmd_gap(args) -> int:
    from . import gap as G

    max_mean = G.check_threshold("--max-mean-gap", args.max_mean_gap)
    max_worst = G.check_threshold("--max-worst-gap", args.max_worst_gap)
    max_reg = G.check_threshold("--max-regression", args.max_regression)
    baseline = None
    if max_reg is not None and args.baseline is None:
        raise InvalidInstance("--max-regression", "needs --baseline FILE (an earlier summary.json)")
    G.check_family(args.family)
    if args.baseline is not None:
        baseline = G.load_baseline(args.baseline, args.family)
        max_reg = 0.0 if max_reg is None else max_reg
    if args.methods is None:
        raise InvalidInstance("--methods", "required: a comma-separated list of methods")
    methods = G.parse_methods(args.methods)
    out = args.out if args.out is not None else os.path.join("gap-out", args.family)
    res = G.run_gap(args.family, methods, reference=args.reference, instances=args.instances,
                    generate=args.generate, seeds=args.seeds, time_limit=args.time_limit, workers=args.workers,
                    executor=args.executor, scheduler=args.scheduler, out=out, resume=args.resume,
                    cache=args.cache, plot_figure=not args.no_plot, echo=True, plugins=args.plugin)
    results = G.gates(res.summary, max_mean_gap=max_mean, max_worst_gap=max_worst, baseline=baseline,
                      max_regression=max_reg, reference_errors=res.reference_errors)
    if args.junit:
        with open(args.junit, "w", encoding="utf-8") as fh:
            fh.write(G.junit_xml(res.summary, results, res.timing["wall_s"]))
    if args.json:
        print(dumps({**res.summary, "gates": [vars(g) for g in results]}))
    else:
        print(G.summary_markdown(res.summary, reference_errors=res.reference_errors))
        c = res.summary["cache"]
        print(f"\nrows: {os.path.join(out, 'rows.jsonl')}  summary: {os.path.join(out, 'summary.md')}  "
              f"reference cache: {c['file']} ({c['hits']} hits, {c['misses']} solved)", file=sys.stderr)
    return G.report_exit(res, results)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="optoffload", description="Exact and heuristic optimization for computation offloading.")
    p.add_argument("--plugin", action="append", default=[], metavar="MODULE",
                   help="import MODULE (a module name importable from the working directory, or a .py file) "
                        "before the command, so that its register_method calls add methods; repeatable")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    s = sub.add_parser("instances", help="list the shipped named instances")
    s.set_defaults(fn=_cmd_instances)

    s = sub.add_parser("methods", help="list method names (of one family)")
    s.add_argument("family", nargs="?")
    s.add_argument("--options", action="store_true",
                   help="with FAMILY: each method's options (name: type = default, meaning)")
    s.set_defaults(fn=_cmd_methods)

    s = sub.add_parser("solve", help="solve an instance with a method")
    s.add_argument("instance", help="a shipped instance name (see `instances`) or a JSON file")
    s.add_argument("--method", required=True)
    s.add_argument("--time-limit", type=float, default=None)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--threads", type=int, default=None)
    s.add_argument("--option", action="append", metavar="KEY=VALUE", help="method option (JSON value)")
    s.add_argument("--json", action="store_true")
    s.add_argument("--log", action="store_true",
                   help="show the solver's progress log on stderr (exact methods with a 'log' option)")
    s.set_defaults(fn=_cmd_solve)

    s = sub.add_parser("plot", help="draw a solution: plot INSTANCE SOLUTION.json -o FILE.png|pdf|svg")
    s.add_argument("instance")
    s.add_argument("solution", help="a solution JSON, as written by `solve --json`")
    s.add_argument("-o", "--output", required=True, help="FILE.png, FILE.pdf or FILE.svg")
    s.set_defaults(fn=_cmd_plot)

    s = sub.add_parser("simulate", help="run an online policy in the simulator")
    s.add_argument("instance")
    s.add_argument("--policy", required=True)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--option", action="append", metavar="KEY=VALUE")
    s.add_argument("--json", action="store_true")
    s.set_defaults(fn=_cmd_simulate)

    s = sub.add_parser("verify", help="replay a solution JSON (from solve --json) in the simulator")
    s.add_argument("instance")
    s.add_argument("solution")
    s.add_argument("--json", action="store_true")
    s.set_defaults(fn=_cmd_verify)

    s = sub.add_parser("generate", help="generate a random instance: generate FAMILY [options] -o FILE")
    s.add_argument("family")
    s.add_argument("rest", nargs=argparse.REMAINDER)
    s.set_defaults(fn=_cmd_generate)

    s = sub.add_parser("compare", help="solve an instance with every method and print the comparison")
    s.add_argument("instance")
    s.add_argument("--methods", default=None, help="comma-separated subset of methods")
    s.add_argument("--time-limit", type=float, default=10.0, help="per exact method (default 10 s)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--option", action="append", metavar="KEY=VALUE",
                   help="method option (JSON value), given to every compared method that takes it")
    s.add_argument("--json", action="store_true")
    _progress_flag(s)
    s.set_defaults(fn=_cmd_compare)

    s = sub.add_parser("export", help="write an instance's formal model to a file (no solve)")
    s.add_argument("instance")
    s.add_argument("--layer", required=True, help="pyomo, pulp or cpsat (docs/models.md)")
    s.add_argument("-o", "--output", required=True, help=".lp/.mps (MILP), .pb.txt/.pb (cpsat), .nl/.gms (erds pyomo)")
    s.add_argument("--option", action="append", metavar="KEY=VALUE", help="model option (JSON value)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(fn=_cmd_export)

    s = sub.add_parser("read-solution", help="decode and verify a solver's solution file of an exported model")
    s.add_argument("instance")
    s.add_argument("solution", help="HiGHS/CBC/Gurobi .sol or a CP-SAT response .pb.txt")
    s.add_argument("--layer", required=True)
    s.add_argument("--option", action="append", metavar="KEY=VALUE", help="the model options used for export")
    s.add_argument("--json", action="store_true")
    s.set_defaults(fn=_cmd_read_solution)

    s = sub.add_parser("bench", help="run a benchmark suite")
    s.add_argument("suite", nargs="?", default=None, help="suite name (omit to list suites)")
    s.add_argument("--out", default=None, help="output directory (default bench-out/SUITE)")
    s.add_argument("--executor", choices=("local", "dask"), default="local")
    s.add_argument("--workers", type=int, default=None)
    s.add_argument("--scheduler", default=None, help="dask scheduler address (default: a LocalCluster)")
    s.add_argument("--resume", action="store_true", help="skip rows already in the output")
    s.add_argument("--quick", action="store_true", help="a small smoke-sized version of the suite")
    _progress_flag(s)
    s.add_argument("--methods", default=None, help="methods to compare (suites that compare methods)")
    s.add_argument("--seeds", default=None, help="number of random instances (suites that compare methods)")
    s.set_defaults(fn=_cmd_bench)

    s = sub.add_parser("gap", help="gap of methods to an exact reference on many instances, with CI gates")
    s.add_argument("family")
    s.add_argument("--methods", default=None, help="comma-separated: names, or module:function")
    s.add_argument("--reference", default="auto", help="exact method (auto: cpsat, erds-exact, exact)")
    src = s.add_mutually_exclusive_group()
    src.add_argument("--instances", default=None, metavar="DIR", help="a folder of instance JSON files (or one file)")
    src.add_argument("--generate", default=None, metavar="PRESET|KEY=VALUE,...", help="generated instances")
    s.add_argument("--seeds", default=None, help="with --generate: instances with seeds 0..N-1")
    s.add_argument("--time-limit", type=float, default=None, help="per reference / exact solve, seconds")
    s.add_argument("--workers", type=int, default=None)
    s.add_argument("--executor", choices=("local", "dask"), default="local")
    s.add_argument("--scheduler", default=None, help="dask scheduler address (default: a LocalCluster)")
    s.add_argument("--out", default=None, help="output directory (default gap-out/FAMILY)")
    s.add_argument("--resume", action="store_true", help="keep the rows already in OUT/rows.jsonl that match")
    s.add_argument("--cache", default=None, metavar="FILE", help="reference cache (default OUT/reference-cache.json)")
    s.add_argument("--max-mean-gap", default=None, metavar="G", help="gate: mean gap <= G (0.01 = 1 %%)")
    s.add_argument("--max-worst-gap", default=None, metavar="G", help="gate: worst gap <= G")
    s.add_argument("--baseline", default=None, metavar="FILE", help="an earlier summary.json to compare with")
    s.add_argument("--max-regression", default=None, metavar="P",
                   help="gate: mean gap <= baseline mean + P (absolute; default 0 with --baseline)")
    s.add_argument("--junit", default=None, metavar="FILE", help="write JUnit XML (a testcase per method and gate)")
    s.add_argument("--no-plot", action="store_true")
    s.add_argument("--json", action="store_true", help="print the summary and gates as JSON")
    s.set_defaults(fn=_cmd_gap)
    return p


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings (e.g. implausible units) as one ``warning:`` line on stderr, no source line."""
    print(f"warning: {str(message).splitlines()[0] if str(message) else category.__name__}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    as_process = argv is None
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = os.environ.get("OPTOFFLOAD_DEBUG")
    import warnings

    warnings.simplefilter("ignore", registry.PluginWarning)  # `methods` prints them; one-line errors stay one line
    shown, warnings.showwarning = warnings.showwarning, _one_line_warning
    try:
        args = build_parser().parse_args(argv)
        for plugin in args.plugin:
            registry.load_plugin(plugin)
        if "" not in sys.path and os.getcwd() not in sys.path:
            sys.path.append(os.getcwd())  # "module:function" methods from the working directory
        return int(args.fn(args) or 0)
    except _ArgError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except InvalidInstance as exc:
        if debug:
            raise
        print("error: " + " ".join(str(exc).split("\n")), file=sys.stderr)  # one line, even for a plugin's message
        return 2
    except VerificationError as exc:
        if debug:
            raise
        print(f"verification failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        import signal

        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not interrupt the clean-up
        print("interrupted", file=sys.stderr)
        if as_process:
            # the process ends here with 130 rather than in the interpreter's finalization, where
            # worker or plotting threads may still hold the GIL (issue #14 item 12: "Fatal Python
            # error ... GIL is released"); the runner fsynced every finished row already
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(130)
        return 130
    except RecursionError:
        if debug:
            raise
        print("error: input: nested too deeply", file=sys.stderr)
        return 2
    except BrokenPipeError:  # pragma: no cover
        return 0
    except Exception as exc:  # noqa: BLE001 - the CLI never shows a traceback
        if debug:
            raise
        msg = str(exc).splitlines()[0] if str(exc) else ""
        print(f"error: {type(exc).__name__}: {msg}", file=sys.stderr)
        return 1
    finally:
        warnings.showwarning = shown  # main() called in-process leaves the caller's hook alone


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
