"""The named instances ``dnn/<name>`` shipped in ``optoffload/data/dnn/`` and how they are made.

Regenerate with ``python -m optoffload.dnn.shipped`` (tests/test_dnn_networks.py checks that the
files equal what this module builds, so they never drift from ``optoffload.dnn.networks``).
"""

from __future__ import annotations

import json
from pathlib import Path

from . import networks as N

SHIPPED = {
    **{n: dict(net=n) for n in N.NAMES},
    # the DAG-beats-prefix setting of docs/dnn.md: int8 activations, float32 input, 6.3 Mbit/s
    "googlenet-int8": dict(net="googlenet", tensor_bytes=1.0, input_bytes=602112.0, edge_speed=5e9,
                           link_bps=6.3e6),
}


def build(name: str):
    kw = dict(SHIPPED[name])
    net = kw.pop("net")
    inst = N.instance(net, tasks=1, w_min=0.1, **kw)
    d = inst.to_dict()
    d["name"] = name
    d["description"] = (f"{net} with BranchyNet-style exits, one task (optoffload.dnn.networks; "
                        f"options {kw or 'default'})")
    return d


def main() -> None:
    out = Path(__file__).resolve().parent.parent / "data" / "dnn"
    out.mkdir(parents=True, exist_ok=True)
    for name in SHIPPED:
        (out / f"{name}.json").write_text(json.dumps(build(name), indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
