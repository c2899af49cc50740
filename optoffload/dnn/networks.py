"""Shipped networks, built in code from their published layer definitions (docs/dnn.md "Shipped networks").

``resnet18``, ``resnet50`` (He et al. 2016; torchvision's v1.5 bottleneck, stride on the 3x3),
``mobilenet_v2`` (Sandler et al. 2018, Table 2), ``googlenet`` (the Inception-v1 network of Szegedy
et al. 2015, Table 1, with its 5x5 branches) and ``densenet121`` (Huang et al. 2017, Table 1,
growth 32, bottleneck 4k, compression 0.5), all at 224 x 224 x 3.

Assumptions (stated once, used everywhere):

* Layer granularity: a convolution with its batch norm and ReLU is one layer; pooling, residual
  additions and exit heads are layers; concatenations are not layers: a consumer reads the
  concatenated tensors directly, so a cut through a concatenation sends each part once (the
  DenseNet and Inception joins are where DAG cuts differ from chain cuts).
* Work in multiply-accumulates (MACs) of convolutions and fully connected layers only; pooling,
  additions and activations count 0 (the convention of the published totals in
  :data:`PUBLISHED_MACS`). Exit heads are not counted in the backbone total.
* Tensors are float32 (4 bytes per element; ``tensor_bytes=1`` for int8-quantised activations);
  the raw input is an 8-bit RGB image, 150,528 bytes. With float32 activations every intermediate
  tensor of these networks up to the last stages is larger than the raw input, so the optimum is
  edge-only or raw offload at every bandwidth (docs/dnn.md shows it); int8 activations make
  intermediate splits pay.
* BranchyNet-style exit heads (Teerapittayanon et al. 2016): global average pooling + a 1000-way
  fully connected layer after the stages listed in :data:`EXITS` (GoogLeNet: its two auxiliary
  classifiers, avg-pool 5/3 + 1x1 conv 128 + FC 1024 + FC 1000, as in the paper), the final
  classifier last. Default exit probabilities :data:`DEFAULT_PROBS` are an assumption (a
  BranchyNet-like profile where about half the samples leave early); pass your own.
* Tier speeds default to an edge of 2e10 MAC/s (an embedded GPU) and a cloud of 1e12 MAC/s; the
  link to 10 Mbit/s. All are arguments.
"""

from __future__ import annotations

import math
from typing import Any

PUBLISHED_MACS = {
    "resnet18": 1.814e9,      # torchvision ResNet18_Weights: 1.81 GFLOPS (multiply-adds); He et al.: 1.8e9
    "resnet50": 4.089e9,      # torchvision ResNet50_Weights: 4.09 GFLOPS (v1.5)
    "mobilenet_v2": 3.00e8,   # Sandler et al. 2018, Table 4: 300M multiply-adds
    "googlenet": 1.586e9,     # Szegedy et al. 2015, Table 1: sum of the "ops" column (text: "1.5 billion")
    "densenet121": 2.834e9,   # torchvision DenseNet121_Weights: 2.83 GFLOPS (multiply-adds); Huang et al. Fig. 3: ~2.9e9
}
TOLERANCE = 0.05
"""Relative tolerance of the backbone MAC total against :data:`PUBLISHED_MACS` (tests)."""

EXITS = {
    "resnet18": ("layer1", "layer2", "layer3"),
    "resnet50": ("layer1", "layer2", "layer3"),
    "mobilenet_v2": ("stage2", "stage3", "stage5"),
    "googlenet": ("inception4a", "inception4d"),
    "densenet121": ("transition1", "transition2", "transition3"),
}
DEFAULT_PROBS = {3: (0.3, 0.2, 0.5), 4: (0.2, 0.15, 0.15, 0.5)}
INPUT_BYTES = 3 * 224 * 224
EDGE_SPEED = 2e10
CLOUD_SPEED = 1e12
LINK_BPS = 1e7


class _Net:
    """Shape-tracking builder: a value is (list of producer node names, C, H, W)."""

    def __init__(self, name: str, tensor_bytes: float = 4.0):
        self.name = name
        self.tb = float(tensor_bytes)
        self.nodes: list[dict[str, Any]] = [{"name": "input", "inputs": [], "work": 0.0,
                                             "out_bytes": float(INPUT_BYTES), "op": "Input"}]  # see network()
        self.heads: list[str] = []
        self.head_work = 0.0

    def _add(self, name, ins, work, c, h, w, op):
        assert name not in {n["name"] for n in self.nodes}, name
        self.nodes.append({"name": name, "inputs": list(dict.fromkeys(ins)), "work": float(work),
                           "out_bytes": self.tb * c * h * w, "op": op})
        return ([name], c, h, w)

    def conv(self, x, name, cout, k, s=1, p=None, groups=1):
        ins, c, h, w = x
        p = k // 2 if p is None else p
        ho, wo = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        return self._add(name, ins, cout * ho * wo * (c // groups) * k * k, cout, ho, wo, "Conv")

    def pool(self, x, name, k, s, p=0, ceil=False):
        ins, c, h, w = x
        f = math.ceil if ceil else math.floor
        ho, wo = int(f((h + 2 * p - k) / s)) + 1, int(f((w + 2 * p - k) / s)) + 1
        return self._add(name, ins, 0.0, c, ho, wo, "Pool")

    def add(self, xs, name):
        ins = [n for x in xs for n in x[0]]
        _, c, h, w = xs[0]
        return self._add(name, ins, 0.0, c, h, w, "Add")

    @staticmethod
    def cat(xs):
        return ([n for x in xs for n in x[0]], sum(x[1] for x in xs), xs[0][2], xs[0][3])

    def fc(self, x, name, cout, head=False):
        ins, c, h, w = x
        work = c * h * w * cout
        if head:
            self.head_work += work
        return self._add(name, ins, work, cout, 1, 1, "Gemm")

    def head(self, x, name):
        """BranchyNet-style exit: global average pooling + FC 1000 (one layer)."""
        ins, c, h, w = x
        self.head_work += c * 1000
        self.heads.append(name)
        return self._add(name, ins, c * 1000, 1000, 1, 1, "ExitHead")

    def final(self, x, name="fc"):
        ins, c, h, w = x
        self.heads.append(name)
        return self._add(name, ins, c * 1000, 1000, 1, 1, "Gemm")


def _resnet(name: str, blocks, bottleneck: bool, tb: float = 4.0) -> _Net:
    n = _Net(name, tb)
    x = (["input"], 3, 224, 224)
    x = n.conv(x, "conv1", 64, 7, 2, 3)
    x = n.pool(x, "maxpool", 3, 2, 1)
    cin = 64
    for li, (nb, width) in enumerate(zip(blocks, (64, 128, 256, 512)), start=1):
        for bi in range(nb):
            s = 2 if (bi == 0 and li > 1) else 1
            pre = f"layer{li}.{bi}"
            cout = width * 4 if bottleneck else width
            if bottleneck:
                y = n.conv(x, f"{pre}.conv1", width, 1)
                y = n.conv(y, f"{pre}.conv2", width, 3, s)
                y = n.conv(y, f"{pre}.conv3", cout, 1)
            else:
                y = n.conv(x, f"{pre}.conv1", width, 3, s)
                y = n.conv(y, f"{pre}.conv2", width, 3)
            sc = n.conv(x, f"{pre}.downsample", cout, 1, s, 0) if (s != 1 or cin != cout) else x
            x = n.add([y, sc], f"{pre}.add")
            cin = cout
        if f"layer{li}" in EXITS[name]:
            n.head(x, f"exit_layer{li}")
    x = n.pool(x, "avgpool", x[2], 1)
    n.final(x)
    return n


def resnet18(tb: float = 4.0) -> _Net:
    return _resnet("resnet18", (2, 2, 2, 2), False, tb)


def resnet50(tb: float = 4.0) -> _Net:
    return _resnet("resnet50", (3, 4, 6, 3), True, tb)


def mobilenet_v2(tb: float = 4.0) -> _Net:
    n = _Net("mobilenet_v2", tb)
    x = n.conv((["input"], 3, 224, 224), "conv0", 32, 3, 2, 1)
    cin = 32
    settings = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                (6, 320, 1, 1)]
    for si, (t, c, reps, s) in enumerate(settings):
        for r in range(reps):
            stride = s if r == 0 else 1
            pre = f"block{si}.{r}"
            hidden = cin * t
            y = n.conv(x, f"{pre}.expand", hidden, 1) if t != 1 else x
            y = n.conv(y, f"{pre}.dw", hidden, 3, stride, 1, groups=hidden)
            y = n.conv(y, f"{pre}.project", c, 1)
            x = n.add([y, x], f"{pre}.add") if (stride == 1 and cin == c) else y
            cin = c
        if f"stage{si}" in EXITS["mobilenet_v2"]:
            n.head(x, f"exit_stage{si}")
    x = n.conv(x, "conv_last", 1280, 1)
    x = n.pool(x, "avgpool", 7, 1)
    n.final(x)
    return n


def googlenet(tb: float = 4.0) -> _Net:
    n = _Net("googlenet", tb)
    x = n.conv((["input"], 3, 224, 224), "conv1", 64, 7, 2, 3)
    x = n.pool(x, "pool1", 3, 2, 1)
    x = n.conv(x, "conv2", 64, 1)
    x = n.conv(x, "conv3", 192, 3)
    x = n.pool(x, "pool2", 3, 2, 1)
    spec = {  # Table 1: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj
        "inception3a": (64, 96, 128, 16, 32, 32), "inception3b": (128, 128, 192, 32, 96, 64),
        "inception4a": (192, 96, 208, 16, 48, 64), "inception4b": (160, 112, 224, 24, 64, 64),
        "inception4c": (128, 128, 256, 24, 64, 64), "inception4d": (112, 144, 288, 32, 64, 64),
        "inception4e": (256, 160, 320, 32, 128, 128), "inception5a": (256, 160, 320, 32, 128, 128),
        "inception5b": (384, 192, 384, 48, 128, 128)}
    for m, (a, br, b, cr, c, pp) in spec.items():
        b1 = n.conv(x, f"{m}.1x1", a, 1)
        b2 = n.conv(n.conv(x, f"{m}.3x3red", br, 1), f"{m}.3x3", b, 3)
        b3 = n.conv(n.conv(x, f"{m}.5x5red", cr, 1), f"{m}.5x5", c, 5)
        b4 = n.conv(n.pool(x, f"{m}.pool", 3, 1, 1), f"{m}.poolproj", pp, 1)
        x = n.cat([b1, b2, b3, b4])
        if m in EXITS["googlenet"]:  # the paper's auxiliary classifier
            ax = n.pool(x, f"aux_{m}.pool", 5, 3)
            ax = n.conv(ax, f"aux_{m}.conv", 128, 1)
            n.head_work += n.nodes[-1]["work"]  # exit-head layers are not backbone work
            ax = n.fc(ax, f"aux_{m}.fc1", 1024, head=True)
            n.heads.append(f"aux_{m}.fc2")
            n.head_work += 1024 * 1000
            n._add(f"aux_{m}.fc2", ax[0], 1024 * 1000, 1000, 1, 1, "ExitHead")
        if m in ("inception3b", "inception4e"):
            x = n.pool(x, f"pool_{m}", 3, 2, 1)
    x = n.pool(x, "avgpool", 7, 1)
    n.final(x)
    return n


def densenet121(tb: float = 4.0) -> _Net:
    n = _Net("densenet121", tb)
    x = n.conv((["input"], 3, 224, 224), "conv0", 64, 7, 2, 3)
    x = n.pool(x, "pool0", 3, 2, 1)
    g = 32
    for bi, layers in enumerate((6, 12, 24, 16), start=1):
        feats = [x]
        for li in range(layers):
            inp = n.cat(feats)
            y = n.conv(inp, f"block{bi}.{li}.conv1", 4 * g, 1)
            y = n.conv(y, f"block{bi}.{li}.conv2", g, 3)
            feats.append(y)
        x = n.cat(feats)
        if bi < 4:
            t = n.conv(x, f"transition{bi}.conv", x[1] // 2, 1)
            x = n.pool(t, f"transition{bi}.pool", 2, 2)
            if f"transition{bi}" in EXITS["densenet121"]:
                n.head(x, f"exit_transition{bi}")
    x = n.pool(x, "avgpool", 7, 1)
    n.final(x)
    return n


BUILDERS = {"resnet18": resnet18, "resnet50": resnet50, "mobilenet_v2": mobilenet_v2, "googlenet": googlenet,
            "densenet121": densenet121}
NAMES = tuple(BUILDERS)


def backbone_macs(name: str) -> float:
    """Total MACs of the network without its early-exit heads (compare :data:`PUBLISHED_MACS`)."""
    n = BUILDERS[name]()
    return sum(d["work"] for d in n.nodes) - n.head_work


def network(name: str, *, probs=None, edge_speed: float = EDGE_SPEED, cloud_speed: float = CLOUD_SPEED,
            link_bps: float = LINK_BPS, link_latency_s: float = 0.0, task_name: str | None = None,
            tensor_bytes: float = 4.0, input_bytes: float = INPUT_BYTES) -> dict:
    """The task JSON of shipped network ``name`` (module docstring); ``tensor_bytes`` is the size of
    one activation element as sent (4: float32; 1: int8-quantised activations, as split-computing
    systems often send)."""
    if name not in BUILDERS:
        from ..errors import InvalidInstance

        raise InvalidInstance("network", f"unknown network {name!r} (known: {', '.join(BUILDERS)})")
    n = BUILDERS[name](tensor_bytes)
    n.nodes[0]["out_bytes"] = float(input_bytes)
    K = len(n.heads)
    p = DEFAULT_PROBS[K] if probs is None else tuple(probs)
    return {"name": task_name or name, "nodes": n.nodes,
            "exits": [{"node": h, "prob": float(q)} for h, q in zip(n.heads, p)],
            "link_bps": link_bps, "link_latency_s": link_latency_s, "work_unit": "MAC", "edge_speed": edge_speed,
            "cloud_speed": cloud_speed, "meta": {"network": name, "backbone_macs": backbone_macs(name), "tensor_bytes": tensor_bytes}}


def instance(name: str, *, tasks: int = 1, w_min: float | None = None, objective: str = "max", **kw):
    """A :class:`DnnInstance` of ``tasks`` copies of shipped network ``name`` (``**kw`` to :func:`network`)."""
    from .model import DnnInstance

    t = network(name, **kw)
    ts = [dict(t, name=f"{name}-{u}") for u in range(tasks)]
    return DnnInstance.build(ts, name=f"{name}-u{tasks}", w_min=w_min, objective=objective)
