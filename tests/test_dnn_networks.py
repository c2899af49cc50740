"""Shipped networks: MAC totals against the published figures, layer counts by hand, the
DAG-beats-prefix demonstration on GoogLeNet."""

import numpy as np
import pytest

import optoffload as oo
from optoffload.dnn import networks as N
from optoffload.dnn.cut import best_prefix, best_split, topological_orders
from optoffload.dnn.evaluate import crossing
from optoffload.dnn.model import DnnTask


@pytest.mark.parametrize("name", N.NAMES)
def test_backbone_macs_match_the_published_totals(name):
    # published figures: PUBLISHED_MACS (sources in networks.py); tolerance TOLERANCE = 5 %
    assert N.backbone_macs(name) == pytest.approx(N.PUBLISHED_MACS[name], rel=N.TOLERANCE)


@pytest.mark.parametrize("name", N.NAMES)
def test_networks_validate_with_exits(name):
    inst = N.instance(name, tasks=2)
    t = inst.tasks[0]
    assert t.K == len(N.EXITS[name]) + 1
    assert t.names[0] == "input" and t.out_bytes[0] == 3 * 224 * 224
    assert np.isclose(t.exit_probs.sum(), 1.0)
    # every layer is needed by some exit: A_K is the whole graph (validation rejects anything else)
    assert t.anc[-1].all()
    assert oo.load(inst.to_dict()).to_dict() == inst.to_dict()


def test_layer_macs_by_hand():
    t = DnnTask.from_dict(N.network("resnet18"))
    W = dict(zip(t.names, t.work))
    # conv1: 64 x 112 x 112 outputs x 3 x 7 x 7 = 118,013,952 MACs
    assert W["conv1"] == 64 * 112 * 112 * 3 * 49
    # layer2.0.downsample: 1x1 stride 2, 64 -> 128 at 28 x 28: 128 * 28 * 28 * 64
    assert W["layer2.0.downsample"] == 128 * 28 * 28 * 64
    # float32 output of layer1.0.add: 64 x 56 x 56 x 4 bytes
    assert t.out_bytes[t.index("layer1.0.add")] == 64 * 56 * 56 * 4
    # MobileNetV2 first depthwise 3x3 on 32 channels at 112 x 112: 32 * 112 * 112 * 9
    m = DnnTask.from_dict(N.network("mobilenet_v2"))
    assert dict(zip(m.names, m.work))["block0.0.dw"] == 32 * 112 * 112 * 9
    # DenseNet: a dense layer's input is the concatenation, read as separate tensors
    d = DnnTask.from_dict(N.network("densenet121"))
    assert len(d.preds[d.index("block1.5.conv1")]) == 6  # block input + 5 earlier layers


def test_googlenet_modules_match_table_1():
    # Szegedy et al. 2015, Table 1, "ops" column (M multiply-adds); 6 % covers the table's rounding
    table = {"inception3a": 128, "inception3b": 304, "inception4a": 73, "inception4b": 88, "inception4c": 100,
             "inception4d": 119, "inception4e": 170, "inception5a": 54, "inception5b": 71}
    n = N.googlenet()
    for mod, ops in table.items():
        ours = sum(d["work"] for d in n.nodes if d["name"].startswith(mod + "."))
        assert ours / 1e6 == pytest.approx(ops, rel=0.06), mod


def test_dag_optimum_beats_every_fixed_order_prefix_on_googlenet():
    """GoogLeNet, int8 activations, float32 input, edge 5e9 MAC/s, w = 1: at some uplink rate the
    min cut (exact; brute-force-checked in test_dnn_cut) is strictly faster than the best prefix of
    the layer order, of the breadth-first and of the depth-first topological order. The optimum
    computes inception4b's cheap 1x1 reductions on the edge and sends their outputs."""
    wins = []
    for bw in np.geomspace(2e6, 3e7, 8):
        t = DnnTask.from_dict(N.network("googlenet", tensor_bytes=1, input_bytes=602112, edge_speed=5e9,
                                        link_bps=float(bw)))
        m, v = best_split(t, 1.0)
        orders = topological_orders(t, 0)
        pre = min(best_prefix(t, 1.0, order=o)[1] for o in orders)
        if v < pre * (1 - 1e-3):
            wins.append((bw, v, pre, [t.names[i] for i in np.flatnonzero(crossing(t, m))]))
    assert wins, "no bandwidth where the DAG optimum beats the prefix cuts"
    bw, v, pre, X = wins[0]
    assert any(x.startswith("inception4b.") for x in X)


def test_shipped_instances_match_their_builder():
    import json

    from optoffload.dnn import shipped
    from optoffload.registry import instance_path

    for name in shipped.SHIPPED:
        p = instance_path(f"dnn/{name}")
        assert p is not None, name
        assert json.loads(p.read_text()) == json.loads(json.dumps(shipped.build(name)))
        assert oo.load(f"dnn/{name}").U == 1


def test_cli_solves_a_shipped_network():
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "optoffload", "solve", "dnn/googlenet-int8", "--method", "dnn-exact"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "optimal" in r.stdout
