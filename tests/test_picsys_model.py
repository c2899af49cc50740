"""PicSys instances: JSON round trip, shipped instances, generator, and malformed input.

Every malformed case must raise ``InvalidInstance`` naming the field, and the
CLI must print one line and exit with status 2.
"""

import copy
import json

import numpy as np
import pytest

import optoffload as oo
from optoffload.cli import main
from optoffload.picsys.generator import generate
from picsys_helpers import device, instance

MB = 1_000_000
GOOD = instance([device([MB, MB], [0, 1], z1=[0, 1], z2=[0, 1]), device([MB], "1")])


def mutate(fn):
    d = copy.deepcopy(GOOD)
    fn(d)
    return d


def _set(path, value):
    def f(d):
        obj = d
        for k in path[:-1]:
            obj = obj[k]
        obj[path[-1]] = value
    return f


def _del(path):
    def f(d):
        obj = d
        for k in path[:-1]:
            obj = obj[k]
        del obj[path[-1]]
    return f


BAD_INSTANCES = [
    ("negative rate", _set(["devices", 0, "rate"], -1.0), "devices[0].rate"),
    ("NaN rate", _set(["devices", 0, "rate"], float("nan")), "devices[0].rate"),
    ("zero rate", _set(["devices", 1, "rate"], 0), "devices[1].rate"),
    ("size 0", _set(["devices", 0, "images", "size"], [MB, 0]), "devices[0].images.size[1]"),
    ("size list too short", _set(["devices", 0, "images", "size"], [MB]), "devices[0].images"),
    ("hit pattern longer than the images", _set(["devices", 0, "images", "hit"], "011"), "devices[0].images.hit"),
    ("z2 without z1", _set(["devices", 0, "images", "z2"], [1, 1]), "devices[0].images.z2[0]"),
    ("hit not a bit", _set(["devices", 0, "images", "hit"], [0, 2]), "devices[0].images.hit[1]"),
    ("bad bit string", _set(["devices", 1, "images", "hit"], "x"), "devices[1].images.hit"),
    ("missing cloud", _del(["cloud"]), "cloud"),
    ("missing alpha", _del(["devices", 0, "alpha"]), "devices[0].alpha"),
    ("negative beta", _set(["devices", 0, "beta"], -0.1), "devices[0].beta"),
    ("c_u zero", _set(["cloud", "c_u"], 0), "cloud.c_u"),
    ("no servers", _set(["cloud", "servers"], 0), "cloud.servers"),
    ("fractional servers", _set(["cloud", "servers"], 1.5), "cloud.servers"),
    ("wrong format version", _set(["format"], 2), "format"),
    ("missing format", _del(["format"]), "format"),
    ("typo in a field", _set(["devices", 0, "rat"], 5), "devices[0].rat"),
    ("devices not a list", _set(["devices"], {"a": 1}), "devices"),
    ("string alpha", _set(["devices", 0, "alpha"], "fast"), "devices[0].alpha"),
    ("negative energy budget", _set(["devices", 0, "energy"], {"budget": -1, "e_s": 0, "e_t": 0, "e_alpha": 0,
                                                               "e_beta": 0}), "devices[0].energy.budget"),
    ("enforced budget without energy", _set(["enforce_energy"], True), "enforce_energy"),
    ("infinite c_s", _set(["devices", 0, "images", "c_s"], float("inf")), "devices[0].images.c_s"),
]


@pytest.mark.parametrize("label,fn,field", BAD_INSTANCES, ids=[b[0] for b in BAD_INSTANCES])
def test_malformed_instance_names_the_field(label, fn, field, tmp_path, capsys):
    bad = mutate(fn)
    with pytest.raises(oo.InvalidInstance) as exc:
        oo.from_dict(bad)
    assert exc.value.field.startswith(field) or field in str(exc.value), (label, str(exc.value))
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(bad))
    capsys.readouterr()
    assert main(["solve", str(p), "--method", "all-device"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and field.split("[")[0].split(".")[0] in err, err


BAD_PLANS = [
    ("unknown outcome code", [["f-disc", "x-off"], ["s-up"]], "decisions.outcomes[0][1]"),
    ("outcome infeasible for z1=0", [["f-off", "s-up"], ["s-up"]], "decisions.outcomes[0][0]"),
    ("s-disc on a z2=1 image", [["f-disc", "s-disc"], ["s-up"]], "decisions.outcomes[0][1]"),
    ("f-disc on a z1=1 image", [["f-disc", "s-up"], ["f-disc"]], "decisions.outcomes[1][0]"),
    ("too few devices", [["f-disc", "s-up"]], "decisions.outcomes"),
    ("row too long", [["f-disc", "s-up", "i-off"], ["s-up"]], "decisions.outcomes[0]"),
    ("skip without mode", [["skip", "s-up"], ["s-up"]], "decisions.outcomes[0][0]"),
]


@pytest.mark.parametrize("label,outcomes,field", BAD_PLANS, ids=[b[0] for b in BAD_PLANS])
def test_malformed_plan_names_the_field(label, outcomes, field, tmp_path, capsys):
    inst = oo.from_dict(GOOD)
    sol = {"family": "picsys", "status": "feasible", "objective": 1.0, "decisions": {"outcomes": outcomes}}
    with pytest.raises(oo.InvalidInstance) as exc:
        oo.verify(inst, sol)
    assert exc.value.field == field, str(exc.value)
    ip, sp = tmp_path / "i.json", tmp_path / "s.json"
    ip.write_text(json.dumps(GOOD))
    sp.write_text(json.dumps(sol))
    capsys.readouterr()
    assert main(["verify", str(ip), str(sp)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and field in err


def test_json_round_trip_and_defaults():
    inst = oo.from_dict(GOOD)
    assert inst.devices[1].z1.tolist() == [1] and inst.devices[1].z2.tolist() == [1]  # default z1 = z2 = hit
    # c_s defaults to the paper's fit 0.033 * B[MB] + 0.031 = 0.064 s for 1 MB (section 6.2.3)
    g = oo.from_dict(instance([device([MB], [0], c_s="fit")]))
    assert g.devices[0].c_s[0] == pytest.approx(0.064)
    again = oo.from_dict(json.loads(json.dumps(inst.to_dict())))
    assert again.to_dict() == inst.to_dict()


def test_shipped_instances_load():
    names = oo.instances()
    assert "picsys/table2" in names and "picsys/testbed" in names
    t2 = oo.load("picsys/table2")
    assert [d.n for d in t2.devices] == [10, 4, 6]                 # Table 2: {10, 4, 6} images
    assert ["".join(map(str, d.hit)) for d in t2.devices] == ["0000100010", "0000", "000111"]
    tb = oo.load("picsys/testbed")
    assert [d.n for d in tb.devices] == [112, 112, 112]            # 6.2.2: 3 x 112 images


def test_generator_is_seeded_and_follows_the_paper():
    a, b = generate(seed=5), generate(seed=5)
    assert a.to_dict() == b.to_dict()
    assert generate(seed=6).to_dict() != a.to_dict()
    big = generate(seed=1, devices=20, images=20000)
    hit = np.concatenate([d.hit for d in big.devices])
    z1 = np.concatenate([d.z1 for d in big.devices])
    assert hit.mean() == pytest.approx(0.25, abs=0.02)            # h = 0.25
    assert z1[hit == 1].mean() == pytest.approx(0.81, abs=0.03)   # TPR_alpha = 0.81
    rates = np.array([d.rate for d in big.devices])
    assert np.all((rates >= 6e6) & (rates <= 10e6))              # [gamma r, r], gamma = 0.6
    het = generate(seed=0, preset="hetero")
    assert sorted({(d.rate, d.alpha) for d in het.devices}) == [(5e6, 0.2), (5e6, 0.4), (10e6, 0.2), (10e6, 0.4)]
    with pytest.raises(oo.InvalidInstance, match="hit_rate"):
        generate(seed=0, hit_rate=1.5)


def test_cli_generate_and_solve(tmp_path, capsys):
    out = tmp_path / "g.json"
    assert main(["generate", "picsys", "--devices", "3", "--images", "12", "--seed", "4", "-o", str(out)]) == 0
    assert oo.load(str(out)).n_images == 12
    capsys.readouterr()
    assert main(["solve", str(out), "--method", "all-cloud", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    for k in ("family", "instance", "method", "status", "objective", "bound", "gap", "runtime_s", "decisions"):
        assert k in d
    assert d["status"] == "feasible"
    assert main(["generate", "picsys", "--hit-rate", "2", "-o", str(out)]) == 2
    assert main(["solve", "picsys/nope", "--method", "all-cloud"]) == 2
    assert main(["solve", "picsys/table2", "--method", "nope"]) == 2
    assert main(["solve", "picsys/table2", "--method", "all-cloud", "--time-limit", "-1"]) == 2
