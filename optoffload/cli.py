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
from .errors import InvalidInstance, VerificationError


class _ArgError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        raise _ArgError(f"{self.prog}: {message}")


def _json_default(o: Any) -> Any:
    try:
        import numpy as np

        if isinstance(o, np.integer):
            return int(o)
        if isinstance(o, np.floating):
            return float(o)
        if isinstance(o, np.ndarray):
            return o.tolist()
    except ImportError:  # pragma: no cover
        pass
    if hasattr(o, "value"):
        return o.value
    raise TypeError(f"not JSON serializable: {type(o).__name__}")


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
    return json.dumps(_clean(o), default=_json_default)


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
    if args.family:
        fam = registry.get_family(args.family)
        for name, spec in fam.methods.items():
            print(f"{name}\t{spec.kind}\t{spec.summary}")
    else:
        for name in registry.methods():
            print(name)
    return 0


def _cmd_solve(args) -> int:
    options = _parse_options(args.option)
    sol = api.solve(args.instance, args.method, time_limit=args.time_limit, seed=args.seed,
                    threads=args.threads, **options)
    _print_solution(sol, args.json)
    return 0


def _cmd_simulate(args) -> int:
    options = _parse_options(args.option)
    sol = api.simulate(args.instance, args.policy, seed=args.seed, **options)
    _print_solution(sol, args.json)
    return 0


def _cmd_verify(args) -> int:
    try:
        with open(args.solution, encoding="utf-8") as fh:
            d = json.load(fh)
    except (OSError, json.JSONDecodeError) as exc:
        raise InvalidInstance("solution", f"cannot read {args.solution!r}: {exc}") from None
    value = api.verify(args.instance, d)
    print(dumps({"verified": True, "objective": value}) if args.json else f"verified: objective {value:.9g}")
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
        kw: dict[str, Any] = {"default": opt.default, "help": opt.help}
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
    opts = {o.name: getattr(ns, o.name) for o in fam.generate_options}
    inst = api.generate(args.family, seed=ns.seed, **opts)
    api.save(inst, ns.output)
    print(f"wrote {ns.output}")
    return 0


def _cmd_compare(args) -> int:
    inst = api.load(args.instance)
    names = args.methods.split(",") if args.methods else None
    rows = api.compare(inst, names, time_limit=args.time_limit, seed=args.seed, progress=not args.json)
    if args.json:
        print(dumps({"family": inst.family, "instance": inst.name, "rows": rows}))
        return 0
    sense = registry.get_family(inst.family).sense
    ok = sorted((r for r in rows if r.get("objective") is not None),
                key=lambda r: r["objective"] if sense == "min" else -r["objective"])
    bad = [r for r in rows if r.get("objective") is None]
    print(f"{inst.family}/{inst.name}: {len(rows)} methods ({'lower' if sense == 'min' else 'higher'} is better)")
    print(f"{'method':<22}{'kind':<11}{'status':<11}{'objective':>14}{'bound':>14}{'gap':>9}{'time s':>10}")
    for r in ok + bad:
        def f(v, w, p=".6g"):
            return f"{v:>{w}{p}}" if isinstance(v, (int, float)) else f"{'-':>{w}}"
        gap = f"{100 * r['gap']:.2f}%" if isinstance(r.get("gap"), float) else "-"
        line = (f"{r['method']:<22}{r['kind']:<11}{r['status']:<11}{f(r.get('objective'), 14)}"
                f"{f(r.get('bound'), 14)}{gap:>9}{f(r.get('runtime_s'), 10, '.3f')}")
        if r.get("error"):
            line += f"  {r['error']}"
        print(line)
    return 0


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

    return run_suite(args.suite, out=args.out, executor=args.executor, workers=args.workers,
                     resume=args.resume, quick=args.quick, scheduler=args.scheduler)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="optoffload", description="Exact and heuristic optimization for computation offloading.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    s = sub.add_parser("instances", help="list the shipped named instances")
    s.set_defaults(fn=_cmd_instances)

    s = sub.add_parser("methods", help="list method names (of one family)")
    s.add_argument("family", nargs="?")
    s.set_defaults(fn=_cmd_methods)

    s = sub.add_parser("solve", help="solve an instance with a method")
    s.add_argument("instance", help="a shipped instance name (see `instances`) or a JSON file")
    s.add_argument("--method", required=True)
    s.add_argument("--time-limit", type=float, default=None)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--threads", type=int, default=None)
    s.add_argument("--option", action="append", metavar="KEY=VALUE", help="method option (JSON value)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(fn=_cmd_solve)

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
    s.add_argument("--json", action="store_true")
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
    s.set_defaults(fn=_cmd_bench)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = os.environ.get("OPTOFFLOAD_DEBUG")
    try:
        args = build_parser().parse_args(argv)
        return int(args.fn(args) or 0)
    except _ArgError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except InvalidInstance as exc:
        if debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except VerificationError as exc:
        if debug:
            raise
        print(f"verification failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # pragma: no cover
        return 0
    except Exception as exc:  # noqa: BLE001 - the CLI never shows a traceback
        if debug:
            raise
        msg = str(exc).splitlines()[0] if str(exc) else ""
        print(f"error: {type(exc).__name__}: {msg}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
