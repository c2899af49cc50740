"""dnn ways in: networkx graphs, CSV profiles, ONNX models built with onnx.helper (work and bytes
computed by hand in the comments)."""

import json
import subprocess
import sys

import networkx as nx
import numpy as np
import pytest

import optoffload as oo
from optoffload.dnn import best_split, brute_force
from optoffload.dnn.io import from_graph, read_csv


def _residual_graph():
    G = nx.DiGraph()
    G.add_node("in", edge_s=0.0, cloud_s=0.0, out_bytes=6e5)
    G.add_node("a", edge_s=0.1, cloud_s=0.02, out_bytes=4e5)
    G.add_node("b", edge_s=0.2, cloud_s=0.04, out_bytes=4e5)
    G.add_node("add", edge_s=0.01, cloud_s=0.002, out_bytes=4e5)
    G.add_node("head1", edge_s=0.01, cloud_s=0.001, out_bytes=4e3)
    G.add_node("fc", edge_s=0.05, cloud_s=0.01, out_bytes=4e3)
    G.add_edges_from([("in", "a"), ("a", "b"), ("a", "add"), ("b", "add"), ("a", "head1"), ("add", "fc")])
    return G


def test_from_graph_round_trips_and_solves():
    inst = from_graph(_residual_graph(), exits=[("head1", 0.4), ("fc", 0.6)], link_bps=2e7)
    t = inst.tasks[0]
    assert t.names[0] == "in" and t.K == 2
    assert oo.load(inst.to_dict()).to_dict() == inst.to_dict()
    m, v = best_split(t, 1.0)
    assert v == pytest.approx(brute_force(t, 1.0)[1], rel=1e-12)
    sol = oo.solve(inst, "dnn-exact")
    assert sol.objective == pytest.approx(v, rel=1e-9)


def test_from_graph_rejects_a_cycle_and_a_bad_exit():
    G = _residual_graph()
    G.add_edge("fc", "a")
    with pytest.raises(oo.InvalidInstance, match="cycle"):
        from_graph(G, exits=[("head1", 0.4), ("fc", 0.6)], link_bps=2e7)
    with pytest.raises(oo.InvalidInstance) as e:
        from_graph(_residual_graph(), exits=[("nope", 0.4), ("fc", 0.6)], link_bps=2e7)
    assert e.value.field == "tasks[0].exits[0].node"


CSV = """layer,inputs,edge_s,cloud_s,out_bytes,exit_prob,comment
input,,0,0,150528,,raw image
conv1,input,0.02,0.002,802816,,
conv2,conv1,0.03,0.003,401408,,
skip,conv1,0.001,0.0001,401408,,
add,conv2;skip,0.001,0.0001,401408,,
head1,conv1,0.002,0.0002,4000,0.25,
fc,add,0.004,0.0004,4000,0.75,
"""


def test_csv_profile(tmp_path):
    p = tmp_path / "prof.csv"
    p.write_text(CSV)
    inst = read_csv(p, link_bps=1e8)
    t = inst.tasks[0]
    assert t.name == "prof" and t.n == 7
    assert [t.names[h] for h in t.exit_nodes] == ["head1", "fc"]
    assert t.exit_probs.tolist() == [0.25, 0.75]
    assert t.edge_s[t.index("conv2")] == 0.03 and t.out_bytes[0] == 150528
    assert sorted(t.names[q] for q in t.preds[t.index("add")]) == ["conv2", "skip"]


def test_csv_errors_name_row_and_column(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text(CSV.replace("conv2,conv1,0.03", "conv2,conv1,fast"))
    with pytest.raises(oo.InvalidInstance) as e:
        read_csv(p, link_bps=1e8)
    assert e.value.field == "bad.csv:4.edge_s"  # line 4 of the file
    p.write_text(CSV.replace("out_bytes", "bytes"))
    with pytest.raises(oo.InvalidInstance) as e:
        read_csv(p, link_bps=1e8)
    assert e.value.field == "bad.csv.out_bytes"


def _onnx_model():
    """X[1,3,8,8] -> conv1 (4x3x3x3, pad 1) -> relu1 -> conv2 (4x4x1x1) -> add(relu1, conv2) ->
    cast to float16 -> GAP -> flatten -> gemm_f (W 4x10 float16): final exit;
    relu1 -> GAP -> flatten -> gemm_e (W 10x4, transB): exit 1."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)

    def init(name, shape, dt=np.float32):
        return numpy_helper.from_array(rng.standard_normal(shape).astype(dt), name)

    nodes = [
        helper.make_node("Conv", ["X", "W1"], ["c1"], name="conv1", pads=[1, 1, 1, 1], kernel_shape=[3, 3]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "W2"], ["c2"], name="conv2", kernel_shape=[1, 1]),
        helper.make_node("Add", ["r1", "c2"], ["s"], name="add"),
        helper.make_node("GlobalAveragePool", ["r1"], ["pe"], name="gap_e"),
        helper.make_node("Flatten", ["pe"], ["fe"], name="flat_e"),
        helper.make_node("Gemm", ["fe", "We"], ["ye"], name="gemm_e", transB=1),
        helper.make_node("Cast", ["s"], ["s16"], name="cast", to=TensorProto.FLOAT16),
        helper.make_node("GlobalAveragePool", ["s16"], ["pf"], name="gap_f"),
        helper.make_node("Flatten", ["pf"], ["ff"], name="flat_f"),
        helper.make_node("Gemm", ["ff", "Wf"], ["yf"], name="gemm_f"),
    ]
    g = helper.make_graph(
        nodes, "tiny",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("ye", TensorProto.FLOAT, [1, 10]),
         helper.make_tensor_value_info("yf", TensorProto.FLOAT16, [1, 10])],
        [init("W1", (4, 3, 3, 3)), init("W2", (4, 4, 1, 1)), init("We", (10, 4)), init("Wf", (4, 10), np.float16)])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def test_onnx_work_and_bytes_by_hand(tmp_path):
    from optoffload.dnn import from_onnx

    model = _onnx_model()
    inst = from_onnx(model, exits=[("gemm_e", 0.4), ("yf", 0.6)], link_bps=1e6, edge_speed=1e6, cloud_speed=1e7)
    t = inst.tasks[0]
    W = dict(zip(t.names, t.work))
    Bt = dict(zip(t.names, t.out_bytes))
    # conv1: N*C_out*H*W*C_in*kh*kw = 1*4*8*8*3*3*3 = 6912 MACs; output 4*8*8 float32 = 1024 bytes
    assert W["conv1"] == 6912 and Bt["conv1"] == 1024
    # conv2 (1x1): 1*4*8*8*4*1*1 = 1024 MACs; relu1/add: 0 MACs, 1024 bytes each
    assert W["conv2"] == 1024 and W["relu1"] == 0 and W["add"] == 0 and Bt["add"] == 1024
    # gemm_e: M*N*K = 1*10*4 = 40 MACs, output 10 float32 = 40 bytes
    assert W["gemm_e"] == 40 and Bt["gemm_e"] == 40
    # cast to float16: 4*8*8*2 = 512 bytes; gemm_f 40 MACs, 10 float16 = 20 bytes
    assert Bt["cast"] == 512 and W["gemm_f"] == 40 and Bt["gemm_f"] == 20
    # source: the input, 3*8*8 float32 = 768 bytes; GAP outputs 4 floats = 16 bytes
    assert t.names[0] == "input" and Bt["input"] == 768 and Bt["gap_e"] == 16
    assert sum(t.work) == 6912 + 1024 + 40 + 40
    # times = work / speed
    assert t.edge_s[t.index("conv1")] == pytest.approx(6912 / 1e6)
    assert t.cloud_s[t.index("conv1")] == pytest.approx(6912 / 1e7)
    # exits by node name or output tensor name
    assert [t.names[h] for h in t.exit_nodes] == ["gemm_e", "gemm_f"]
    # the residual structure survives: add reads relu1 and conv2
    assert sorted(t.names[q] for q in t.preds[t.index("add")]) == ["conv2", "relu1"]
    # FLOP counting: 2 x MACs for conv/gemm, one per output element for Relu (4*8*8 = 256)
    from optoffload.dnn.onnx_import import task_from_onnx

    tf = oo.dnn.DnnInstance.build([task_from_onnx(model, exits=[("gemm_e", 0.4), ("gemm_f", 0.6)], link_bps=1e6,
                                                  edge_speed=1e6, cloud_speed=1e7, work_unit="FLOP")]).tasks[0]
    Wf = dict(zip(tf.names, tf.work))
    assert Wf["conv1"] == 2 * 6912 and Wf["relu1"] == 256 and Wf["flat_e"] == 0
    # a saved file loads too, and a bad exit name is rejected naming the field
    p = tmp_path / "m.onnx"
    import onnx

    onnx.save(model, str(p))
    assert from_onnx(str(p), exits=[("gemm_e", 0.4), ("gemm_f", 0.6)], link_bps=1e6, edge_speed=1e6,
                     cloud_speed=1e7).to_dict() == from_onnx(model, exits=[("gemm_e", 0.4), ("gemm_f", 0.6)],
                                                              link_bps=1e6, edge_speed=1e6, cloud_speed=1e7).to_dict()
    with pytest.raises(oo.InvalidInstance) as e:
        from_onnx(model, exits=[("zzz", 1.0)], link_bps=1e6, edge_speed=1e6, cloud_speed=1e7)
    assert e.value.field == "exits[0]"


def test_onnx_and_ortools_import_in_one_process():
    r = subprocess.run([sys.executable, "-c", "import ortools.sat.python.cp_model, highspy, onnx; print('ok')"],
                       capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr


def test_converter_cli_csv_and_onnx(tmp_path):
    import onnx

    p = tmp_path / "prof.csv"
    p.write_text(CSV)
    out = tmp_path / "inst.json"
    r = subprocess.run([sys.executable, "-m", "optoffload.dnn", str(p), "--link-bps", "1e8", "-o", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([sys.executable, "-m", "optoffload", "solve", str(out), "--method", "dnn-exact"],
                       capture_output=True, text=True)
    assert r.returncode == 0 and "optimal" in r.stdout, r.stderr
    m = tmp_path / "m.onnx"
    onnx.save(_onnx_model(), str(m))
    r = subprocess.run([sys.executable, "-m", "optoffload.dnn", str(m), "--link-bps", "1e6", "--edge-speed", "1e6",
                        "--cloud-speed", "1e7", "--exit", "gemm_e=0.4", "--exit", "gemm_f=0.6"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert sum(n["work"] for n in json.loads(r.stdout)["tasks"][0]["nodes"]) == 6912 + 1024 + 40 + 40
    # bad input: one line, exit 2, the field named
    bad = tmp_path / "bad.csv"
    bad.write_text(CSV.replace("conv2,conv1,0.03", "conv2,conv1,fast"))
    r = subprocess.run([sys.executable, "-m", "optoffload.dnn", str(bad), "--link-bps", "1e8"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0 and "bad.csv:4.edge_s" in r.stderr
