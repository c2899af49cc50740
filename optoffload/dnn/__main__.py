"""``python -m optoffload.dnn``: turn a CSV profile or an ONNX model into a dnn instance JSON.

    python -m optoffload.dnn profile.csv --link-bps 1e7 -o inst.json
    python -m optoffload.dnn model.onnx --link-bps 1e7 --edge-speed 2e10 --cloud-speed 1e12 \\
        --exit head1=0.3 --exit logits=0.7 -o inst.json

The JSON then works with every ``optoffload`` command (``solve``, ``compare``, ``verify``).
Bad input: one line on stderr, exit status 2 (like the main CLI).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from ..errors import InvalidInstance


def _exit(s: str) -> tuple[str, float]:
    name, sep, p = s.rpartition("=")
    if not sep or not name:
        raise InvalidInstance("--exit", f"expected NAME=PROB, got {s!r}")
    try:
        return name, float(p)
    except ValueError:
        raise InvalidInstance("--exit", f"probability of {name!r} must be a number, got {p!r}") from None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m optoffload.dnn", description=__doc__.splitlines()[0])
    ap.add_argument("source", help="a .csv per-layer profile or a .onnx model")
    ap.add_argument("--link-bps", type=float, required=True, help="uplink rate (bit/s)")
    ap.add_argument("--latency-s", type=float, default=0.0, help="fixed latency per transfer (s)")
    ap.add_argument("--edge-speed", type=float, default=None, help="edge speed, work units per second")
    ap.add_argument("--cloud-speed", type=float, default=None, help="cloud speed, work units per second")
    ap.add_argument("--work-unit", choices=("MAC", "FLOP"), default="MAC")
    ap.add_argument("--exit", action="append", default=[], help="ONNX exit head NAME=PROB, in exit order")
    ap.add_argument("--no-input-offload", action="store_true", help="the raw input may not be sent")
    ap.add_argument("-o", "--output", default="-", help="output JSON (default stdout)")
    args = ap.parse_args(argv)
    try:
        kw = dict(link_bps=args.link_bps, link_latency_s=args.latency_s, input_offload=not args.no_input_offload)
        if args.source.lower().endswith(".onnx"):
            from .onnx_import import from_onnx

            if args.edge_speed is None or args.cloud_speed is None:
                raise InvalidInstance("--edge-speed", "ONNX import needs --edge-speed and --cloud-speed")
            if not args.exit:
                raise InvalidInstance("--exit", "name the exit heads (--exit NAME=PROB, final classifier last)")
            inst = from_onnx(args.source, exits=[_exit(e) for e in args.exit], edge_speed=args.edge_speed,
                             cloud_speed=args.cloud_speed, work_unit=args.work_unit, **kw)
        else:
            from .io import read_csv

            inst = read_csv(args.source, edge_speed=args.edge_speed, cloud_speed=args.cloud_speed,
                            work_unit=args.work_unit, **kw)
        text = json.dumps(inst.to_dict(), indent=1)
        if args.output == "-":
            print(text)
        else:
            with open(args.output, "w", encoding="utf-8") as fh:
                fh.write(text + "\n")
        return 0
    except InvalidInstance as exc:
        if os.environ.get("OPTOFFLOAD_DEBUG"):
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
