"""Methods, instances, evaluate and CLI of the progressive family (step 4).

Expected optima come from brute force (every slot vector, every permutation)
or by hand (ordering-small: see docs/progressive.md); every solution is
replayed by oo.verify inside oo.solve.
"""

import itertools
import json

import numpy as np
import pytest

import optoffload as oo
from optoffload import InvalidInstance
from optoffload.cli import main
from optoffload.progressive.model import evaluate

SHIPPED = [n for n in oo.instances() if n.startswith("progressive/")]


def test_family_registration():
    assert set(oo.methods("progressive")) == {"exact", "milp", "greedy"}
    kinds = {oo.load(n).problem for n in SHIPPED}
    assert kinds == {"config", "airtime", "ordering"}  # at least one shipped instance per problem kind


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_instances_solve_and_verify(name):
    """Every method on every shipped instance; exact >= greedy; JSON round trip keeps the objective."""
    inst = oo.load(name)
    ex = oo.solve(inst, "exact")
    gr = oo.solve(inst, "greedy")
    assert ex.status == oo.Status.OPTIMAL
    assert ex.objective >= gr.objective - 1e-12
    again = oo.from_dict(json.loads(json.dumps(inst.to_dict())))
    assert evaluate(again, ex.decisions) == pytest.approx(ex.objective)


def _brute_airtime(inst):
    sp = inst.spec
    U = sp.utility
    best = -1.0
    for s in itertools.product(range(sp.slots + 1), repeat=len(sp.devices)):
        if sum(s) <= sp.slots:
            best = max(best, float(sum(U[d, x] for d, x in enumerate(s))))
    return best


def _brute_ordering(inst):
    sp = inst.spec
    return max(sp.value(p) for p in itertools.permutations(range(len(sp.sizes))))


@pytest.mark.parametrize("seed", range(6))
def test_airtime_exact_and_milp_equal_brute_force(seed):
    """Tiny airtime instances (2-3 devices, <= 8 slots): DP and MILP reach the brute-force optimum."""
    inst = oo.generate("progressive", seed=seed, problem="airtime", size=2 + seed % 2, slots=5 + seed % 4)
    ref = _brute_airtime(inst)
    assert oo.solve(inst, "exact").objective == pytest.approx(ref, abs=1e-12)
    assert oo.solve(inst, "milp", time_limit=30).objective == pytest.approx(ref, abs=1e-6)
    g = oo.solve(inst, "greedy")
    assert g.objective <= ref + 1e-12 and g.bound >= ref - 1e-12  # the hull bound is an upper bound


@pytest.mark.parametrize("seed", range(6))
def test_ordering_exact_and_milp_equal_brute_force(seed):
    """Tiny ordering instances (<= 6 chunks): subset DP and the linear-ordering MILP reach the best permutation."""
    inst = oo.generate("progressive", seed=seed, problem="ordering", size=3 + seed % 4)
    ref = _brute_ordering(inst)
    assert oo.solve(inst, "exact").objective == pytest.approx(ref, abs=1e-12)
    assert oo.solve(inst, "milp", time_limit=30).objective == pytest.approx(ref, abs=1e-9)
    assert oo.solve(inst, "greedy").objective <= ref + 1e-12


@pytest.mark.parametrize("problem", ["airtime", "ordering", "config"])
def test_exact_never_worse_than_greedy(problem):
    """Twelve random instances per kind (general, non-concave profiles): exact >= greedy."""
    for seed in range(12):
        size = {"airtime": 5, "ordering": 10, "config": 2}[problem]
        inst = oo.generate("progressive", seed=100 + seed, problem=problem, size=size, slots=30)
        ex, gr = oo.solve(inst, "exact"), oo.solve(inst, "greedy")
        assert ex.objective >= gr.objective - 1e-12, (problem, seed)


def test_greedy_equals_exact_on_concave_profiles():
    """Concave per-slot profiles: greedy marginal allocation is optimal (and its bound is tight)."""
    for seed in range(10):
        inst = oo.generate("progressive", seed=seed, problem="airtime", size=2 + seed % 5, slots=10 + 3 * seed,
                           concave=True)
        U = inst.spec.utility
        assert np.all(np.diff(np.diff(U, axis=1), axis=1) <= 1e-12)  # the instance really is concave
        g, e = oo.solve(inst, "greedy"), oo.solve(inst, "exact")
        assert g.objective == pytest.approx(e.objective, abs=1e-12)
        assert g.bound == pytest.approx(e.objective, abs=1e-9)


def test_ordering_small_by_hand():
    """Chunks a(300 B, 4), b(100, 2), c(200, 2.5), d(300, 2); S = 300 or 600 w.p. 1/2.
    Ratio rule b, a, c, d: 2 + 4/2 + 2.5/2 = 5.25. Optimum b, c, a, d: 2 + 2.5 + 4/2 = 6.5."""
    inst = oo.load("progressive/ordering-small")
    g, e = oo.solve(inst, "greedy"), oo.solve(inst, "exact")
    assert g.decisions == {"order": [1, 0, 2, 3]} and g.objective == pytest.approx(5.25)
    assert e.objective == pytest.approx(6.5)
    assert e.decisions["order"][2:] == [0, 3]


def test_airtime_by_hand():
    """One slot = one 64-byte block (rate 64 * slots B/s, deadline 1 s). Device A: 0.5 with 1 block (52 + 11 = 63 B),
    0.6 with 2; device B: 0.3 with 1 block, 0.9 with 3 (178 + 11 = 189 B). 3 slots: B3 = A2 + B1 = 0.9 beat
    A1 + B2 = 0.8; 4 slots: A1 + B3 = 1.4."""
    def prof(name, pts):
        return {"name": name, "kind": "bytes", "metric": "top5", "points": pts}
    d = {"format": 1, "family": "progressive", "name": "hand", "problem": "airtime", "devices": [
             {"profile": prof("A", [[52, 0.5], [115, 0.6]]), "deadline_s": 1.0},
             {"profile": prof("B", [[52, 0.3], [178, 0.9]]), "deadline_s": 1.0}]}
    for cap, best in ((3, 0.9), (4, 1.4)):
        inst = oo.from_dict({**d, "link_rate_Bps": 64.0 * cap, "slots": cap})
        assert oo.solve(inst, "exact").objective == pytest.approx(best)
        assert oo.solve(inst, "milp").objective == pytest.approx(best)


def test_time_limits_return_incumbent_not_exception():
    inst = oo.load("progressive/ordering-limitnet12")
    s = oo.solve(inst, "exact", time_limit=1e-9)
    assert s.status == oo.Status.FEASIBLE and s.info.get("time_limit_reached")
    m = oo.solve(inst, "milp", time_limit=0.5)
    assert m.status in (oo.Status.FEASIBLE, oo.Status.UNKNOWN, oo.Status.OPTIMAL)


def test_evaluate_rejects_infeasible_plans():
    air = oo.load("progressive/airtime-cameras")
    with pytest.raises(InvalidInstance, match="decisions.slots"):
        evaluate(air, {"slots": [50, 1, 0, 0]})
    with pytest.raises(InvalidInstance, match=r"decisions.slots\[0\]"):
        evaluate(air, {"slots": [-1, 1, 0, 0]})
    order = oo.load("progressive/ordering-small")
    with pytest.raises(InvalidInstance, match="permutation"):
        evaluate(order, {"order": [0, 0, 1, 2]})
    cfg = oo.load("progressive/config-webp-heavy")
    with pytest.raises(InvalidInstance, match="decisions.config"):
        evaluate(cfg, {"config": "pnc"})


def _base(name):
    with open(oo.registry.instance_path(name)) as fh:
        return json.load(fh)


@pytest.mark.parametrize("name, mutate, field", [
    ("progressive/airtime-cameras", lambda d: d.update(link_rate_Bps=-5), "link_rate_Bps"),
    ("progressive/airtime-cameras", lambda d: d["devices"][1].update(deadline_s=0), "devices[1].deadline_s"),
    ("progressive/airtime-cameras", lambda d: d["devices"][2].update(profile="limitnet-imagenet"), "devices"),
    ("progressive/airtime-cameras", lambda d: d["devices"][0].update(profile="webp-q99"), "devices[0].profile"),
    ("progressive/ordering-small", lambda d: d["budget"].update(probs=[0.5, 0.6]), "budget.probs"),
    ("progressive/ordering-small", lambda d: d["chunks"][2].update(bytes=float("nan")), "chunks[2].bytes"),
    ("progressive/config-webp-heavy", lambda d: d.update(period_s=0.02), "candidates[0]"),
    ("progressive/config-webp-heavy", lambda d: d["traces"][1]["trace"].update(name="storm"), "traces[1].trace.scenario"),
    ("progressive/config-fixedk-switching", lambda d: d.update(trace={"times": [0, 1], "rates": [5, -1]}), "trace.rates[1]"),
    ("progressive/config-fixedk-switching", lambda d: d.update(problem="routing"), "problem"),
    ("progressive/config-fixedk-switching", lambda d: d.update(format=2), "format"),
    ("progressive/config-fixedk-switching", lambda d: d.update(candidtes=[]), "candidtes"),
])
def test_malformed_instances_name_the_field(name, mutate, field):
    d = _base(name)
    mutate(d)
    with pytest.raises(InvalidInstance) as e:
        oo.from_dict(d)
    assert e.value.field == field, str(e.value)


def test_cli_exit_codes(tmp_path, capsys):
    bad = _base("progressive/ordering-small")
    bad["budget"]["probs"] = [0.2, 0.2]
    f = tmp_path / "bad.json"
    f.write_text(json.dumps(bad))
    assert main(["solve", str(f), "--method", "exact"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: budget.probs") and "Traceback" not in err
    assert main(["solve", "progressive/ordering-small", "--method", "nope"]) == 2
    assert main(["solve", "progressive/ordering-small", "--method", "exact", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["family"] == "progressive" and out["status"] == "optimal" and out["objective"] == pytest.approx(6.5)
    sol = tmp_path / "sol.json"
    sol.write_text(json.dumps(out))
    assert main(["verify", "progressive/ordering-small", str(sol)]) == 0
    g = tmp_path / "g.json"
    assert main(["generate", "progressive", "--problem", "ordering", "--size", "5", "--seed", "3", "-o", str(g)]) == 0
    assert oo.load(str(g)).problem == "ordering"
    assert main(["generate", "progressive", "--problem", "routing", "-o", str(g)]) == 2


def test_generator_is_seeded():
    a = oo.generate("progressive", seed=4, problem="airtime").to_dict()
    assert a == oo.generate("progressive", seed=4, problem="airtime").to_dict()
    assert a != oo.generate("progressive", seed=5, problem="airtime").to_dict()
