"""Single-task splits of the dnn family: min cut (per exit prefix) equals brute force over every
predecessor-closed edge set, on random DAGs; the envelope; hand-computed cases."""

import numpy as np
import pytest

from optoffload.dnn import best_split, brute_force, envelope, split_table
from optoffload.dnn.cut import ideals, tables
from optoffload.dnn.generate import random_task
from optoffload.dnn.model import DnnTask


def _random_tasks(count):
    """Random DAGs of 2..11 layers with 1..4 exits, 1..3 inputs per layer (tensors that feed several
    successors), links from slow to fast, with and without raw input offload."""
    rng = np.random.default_rng(12)
    out = []
    for i in range(count):
        d = random_task(rng, nodes=int(rng.integers(2, 12)), exits=int(rng.integers(1, 5)),
                        max_inputs=int(rng.integers(1, 4)), edge_slowdown=float(rng.uniform(0.5, 4)),
                        link_bps=float(10 ** rng.uniform(5.5, 8.5)), input_offload=bool(i % 2),
                        name=f"r{i}")
        if i % 5 == 0:
            d["link_latency_s"] = 0.05
        out.append(DnnTask.from_dict(d))
    return out


@pytest.mark.parametrize("solver", ["networkx", "lp"])
def test_min_cut_equals_brute_force_on_320_random_dags(solver):
    # expected value: brute force, the minimum of sum_k pi_k T_k over every closed edge set
    tasks = _random_tasks(320)
    shared = sum(any(len(s) > 1 for s in t.succs) for t in tasks)
    multi_exit = sum(t.K > 1 for t in tasks)
    no_offload = sum(not t.input_offload for t in tasks)
    assert shared > 200 and multi_exit > 200 and no_offload == 160
    sent_raw = 0
    for t in tasks:
        for w in (0.15, 1.0):
            m, v = best_split(t, w, solver=solver)
            mb, vb = brute_force(t, w)
            assert v == pytest.approx(vb, rel=1e-9, abs=1e-12), (t.name, w)
            # the returned split is closed and its replayed time is the reported value
            assert t.closed(m)
            A, B = split_table(t, m)
            assert float(t.exit_probs @ (A / w + B)) == pytest.approx(v, rel=1e-12)
            sent_raw += int(m.sum() == 1)
    assert sent_raw > 0  # some optima send the raw input


def test_brute_force_with_other_exit_weights():
    # DADS-style weights (all mass on the final exit) and uniform weights: brute force again
    for t in _random_tasks(40):
        for p in (np.eye(t.K)[-1], np.full(t.K, 1.0 / t.K)):
            assert best_split(t, 0.5, p)[1] == pytest.approx(brute_force(t, 0.5, p)[1], rel=1e-9, abs=1e-12)


def test_envelope_contains_an_optimal_split_for_every_share():
    # brute force at 25 shares in the range: some envelope piece attains the optimum
    for t in _random_tasks(40):
        env = np.array(envelope(t, 1.0, 10.0))
        A, B = tables(t, env)
        for y in np.linspace(1.0, 10.0, 25):
            best = float(np.min((A * y + B) @ t.exit_probs))
            assert best == pytest.approx(brute_force(t, 1.0 / y)[1], rel=1e-9, abs=1e-12)


def _diamond(**kw):
    # in -> a -> {b, c} -> d (exit 2); exit 1 at b.  a's tensor feeds two successors.
    d = {"name": "diamond", "link_bps": 8e6, "nodes": [
        {"name": "in", "edge_s": 0, "cloud_s": 0, "out_bytes": 4e6},
        {"name": "a", "inputs": ["in"], "edge_s": 0.1, "cloud_s": 0.05, "out_bytes": 1e6},
        {"name": "b", "inputs": ["a"], "edge_s": 0.2, "cloud_s": 0.1, "out_bytes": 2e6},
        {"name": "c", "inputs": ["a"], "edge_s": 0.4, "cloud_s": 0.1, "out_bytes": 2e6},
        {"name": "d", "inputs": ["b", "c"], "edge_s": 0.2, "cloud_s": 0.1, "out_bytes": 1e3}],
        "exits": [{"node": "b", "prob": 0.5}, {"node": "d", "prob": 0.5}]}
    d.update(kw)
    return DnnTask.from_dict(d)


def test_hand_computed_times_on_a_diamond():
    t = _diamond()
    m = np.array([n in ("in", "a", "b") for n in t.names])
    # E = {in, a, b}: exit 1 (b) on the edge: T1 = (0 + .1 + .2)/w.  Crossing tensors: a (feeds c)
    # and b (feeds d), sent once each: 8 (1e6 + 2e6) / 8e6 = 3 s; T2 = .3/w + 3 + c_c + c_d = .3/w + 3.2
    A, B = split_table(t, m)
    assert A.tolist() == pytest.approx([0.3, 0.3])
    assert B.tolist() == pytest.approx([0.0, 3.2])
    # E = {in, a}: a feeds b and c but is sent once: 8e6/8e6 = 1 s
    m2 = np.array([n in ("in", "a") for n in t.names])
    A, B = split_table(t, m2)
    assert A.tolist() == pytest.approx([0.1, 0.1])
    assert B.tolist() == pytest.approx([1.0 + 0.1, 1.0 + 0.3])
    # closed sets of the diamond: {in}, +a, +a+b, +a+c, +a+b+c, all -> 6
    assert len(ideals(t)) == 6
    # no raw input offload: 'a' is forced, {in} is not a split any more
    assert len(ideals(_diamond(input_offload=False))) == 5


def test_min_cut_on_a_1000_node_dag_runs():
    rng = np.random.default_rng(3)
    t = DnnTask.from_dict(random_task(rng, nodes=1000, exits=4, max_inputs=3))
    m, v = best_split(t, 0.5)  # "auto": the LP above NX_MAX_NODES layers
    assert t.closed(m)
    assert v == pytest.approx(best_split(t, 0.5, solver="networkx")[1], rel=1e-9)
    # no split beats it among the prefixes of the layer order (a weak but independent check)
    M = np.tril(np.ones((t.n, t.n), dtype=bool))
    A, B = tables(t, M)
    assert v <= float(np.min((A / 0.5 + B) @ t.exit_probs)) + 1e-9
