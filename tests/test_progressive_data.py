"""Profiles and traces of the progressive family (step 1: data)."""

import json

import numpy as np
import pytest

from optoffload import InvalidInstance
from optoffload.progressive import profiles as P
from optoffload.progressive import traces as T

# The exact PNC notebook table (anchors-and-data.md A.5), budgets 0.5..6.0 KB step 0.25.
PNC_TABLE = [0.000, 0.3815, 0.4505, 0.4515, 0.6835, 0.6900, 0.7465, 0.7670, 0.7900, 0.8065, 0.8200, 0.8290,
             0.8335, 0.8405, 0.8495, 0.8550, 0.8595, 0.8640, 0.8630, 0.8625, 0.8625, 0.8625, 0.8625]


def test_catalog_has_every_codec_with_source_and_metric():
    """The shipped catalog holds PNC (exact table + feature model), WebP, JPEG, pJPEG, fixed-K, LimitNet."""
    cat = P.catalog()
    for name in ("pnc-budget", "pnc", "webp-m6-q0", "webp-m6-q20", "jpeg-q10", "pjpeg-q30", "fixed-k2",
                 "fixed-k8", "limitnet-imagenet", "limitnet-cifar100", "rnn"):
        assert name in cat
    for p in cat.values():
        assert p.source and p.metric in ("top1", "top5")
    assert cat["limitnet-imagenet"].metric == "top1" and cat["pnc"].metric == "top5"
    assert cat["pnc-budget"].exact


def test_pnc_budget_table_reproduced_exactly():
    """The exact table, read back through the step rule without framing, is the notebook's output verbatim."""
    p = P.get_profile("pnc-budget")
    got = p.expected_accuracy(np.arange(500, 6001, 250), framing=False)
    np.testing.assert_allclose(got, PNC_TABLE, atol=1e-12)


def test_pnc_feature_model_close_to_exact_table():
    """The derived feature profile (fit to the table) stays within 1.5 pp of every table entry."""
    got = P.get_profile("pnc").expected_accuracy(np.arange(500, 6001, 250), framing=False)
    assert np.max(np.abs(got - np.asarray(PNC_TABLE))) < 0.015


def test_mixing_top1_and_top5_is_refused():
    cat = P.catalog()
    with pytest.raises(InvalidInstance, match="mix metrics"):
        P.check_same_metric([cat["pnc"], cat["limitnet-imagenet"]])
    assert P.check_same_metric([cat["pnc"], cat["webp-m6-q0"]]) == "top5"


def test_framing_thresholds_by_hand():
    """Feature k is usable once data bytes reach cum payload + 11 k; 64-byte blocks carry 63 data bytes."""
    p = P.Profile.from_dict({"name": "x", "kind": "features", "metric": "top5", "accuracy": [0, 0.5, 0.9],
                             "unit_bytes": [100, 200]})
    np.testing.assert_allclose(p.thresholds(1.0), [[111, 322]])
    np.testing.assert_allclose(P.data_bytes([63, 64, 127, 128, 6400]), [0, 63, 63, 126, 6300])
    # 111 data bytes need 2 blocks (126 >= 111): budget 128 -> 1 feature; 322 needs 6 blocks (378) -> budget 384
    acc = p.accuracy_at(P.data_bytes([127, 128, 383, 384]), 1.0)
    np.testing.assert_allclose(acc, [0, 0.5, 0.5, 0.9])


def test_all_or_nothing_cliff():
    p = P.get_profile("webp-m6-q0").with_(size_sigma=0.0)
    need = 980 + 11
    assert p.accuracy_at(need, 1.0)[0] == 0.63
    assert p.accuracy_at(need - 1, 1.0)[0] == p.fallback == 0.005


def test_from_measurements():
    fb = np.array([[100.0, 50.0], [300.0, 150.0]])
    correct = np.array([[0, 1, 1], [0, 0, 1]])
    p = P.Profile.from_measurements("m", "top5", fb, correct)
    assert p.unit_bytes == (200.0, 100.0) and p.accuracy == (0.0, 0.5, 1.0)
    assert p.size_sigma == pytest.approx(np.std(np.log([150, 450])))


@pytest.mark.parametrize("patch, field", [
    ({"kind": "lossy"}, "profile.kind"),
    ({"metric": "top3"}, "profile.metric"),
    ({"accuracy": [0, 1.2, 0.9]}, "profile.accuracy[1]"),
    ({"unit_bytes": [100, -5]}, "profile.unit_bytes[1]"),
    ({"unit_bytes": [100]}, "profile.unit_bytes"),
    ({"size_sigma": float("nan")}, "profile.size_sigma"),
    ({"colour": 1}, "profile.colour"),
])
def test_bad_profile_names_field(patch, field):
    d = {"name": "x", "kind": "features", "metric": "top5", "accuracy": [0, 0.5, 0.9], "unit_bytes": [100, 200]}
    d.update(patch)
    with pytest.raises(InvalidInstance) as e:
        P.Profile.from_dict(d)
    assert e.value.field == field


def test_profile_csv_and_json_roundtrip(tmp_path):
    f = tmp_path / "p.csv"
    f.write_text("bytes,accuracy\n1000,0.4\n2000,0.7\n")
    p = P.load_profile(f, name="mine", kind="bytes", metric="top1")
    assert p.unit_bytes == (1000.0, 2000.0) and p.accuracy == (0.4, 0.7)
    j = tmp_path / "p.json"
    j.write_text(json.dumps(P.get_profile("pnc").to_dict()))
    assert P.load_profile(j) == P.get_profile("pnc")
    f.write_text("bytes,accuracy\n1000,abc\n")
    with pytest.raises(InvalidInstance, match="accuracy"):
        P.load_profile(f, name="mine", kind="bytes", metric="top1")


def test_trace_integral_by_hand():
    """Rate 1000 B/s on [0,2), 0 on [2,3), 500 from 3 on: S over [1, 4] = 1000 + 0 + 500."""
    tr = T.Trace((0.0, 2.0, 3.0), (1000.0, 0.0, 500.0))
    np.testing.assert_allclose(tr.integral([1.0, 0.0, 2.5], [4.0, 2.0, 10.0]), [1500.0, 2000.0, 3500.0])


def test_generators_are_seeded_and_scenarios_ordered():
    a = T.scenario("heavy", duration=60, seed=3)
    assert a == T.scenario("heavy", duration=60, seed=3)
    assert a != T.scenario("heavy", duration=60, seed=4)
    means = [T.scenario(s, duration=300, seed=0).mean_rate(300) for s in ("none", "light", "heavy")]
    assert means[0] > means[1] > means[2]
    m = T.markov(8000, 1000, 0.0, 1.0, duration=5)  # never leaves the good state
    assert set(m.rates) == {8000.0}
    s = T.step([100, 200], [1, 2], repeat=2)
    assert s.times == (0.0, 1.0, 3.0, 4.0) and s.rates == (100.0, 200.0, 100.0, 200.0)
    sw = T.scenario("switching", duration=40, seed=0)
    r = np.asarray(sw.rates)
    assert r[:100].mean() > r[100:200].mean()  # no jamming first, heavy jamming for the next 10 s


def test_trace_loading_csv_json_and_errors(tmp_path):
    f = tmp_path / "t.csv"
    f.write_text("time_s,rate\n5,100\n6,200\n")
    tr = T.load_trace(f)
    assert tr.times == (0.0, 1.0) and tr.rates == (100.0, 200.0)
    g = tmp_path / "hsdpa.log"
    g.write_text("0.0 2.0\n1.0 1.0\n")
    assert T.load_trace(g, unit="Mbit/s").rates == (250000.0, 125000.0)
    j = T.save_trace(T.constant(10.0), tmp_path / "c.json")
    assert T.load_trace(j).rates == (10.0,)
    f.write_text("time_s,rate\n0,100\n0,200\n")
    with pytest.raises(InvalidInstance, match=r"times\[1\]"):
        T.load_trace(f)
    f.write_text("time_s,rate\n0,-1\n")
    with pytest.raises(InvalidInstance, match=r"rates\[0\]"):
        T.load_trace(f)
    with pytest.raises(InvalidInstance, match="trace.generator"):
        T.Trace.from_dict({"generator": "fractal"})
    with pytest.raises(InvalidInstance, match="trace.sigma"):
        T.Trace.from_dict({"generator": "lognormal_walk", "mean_rate": 1, "sigma": -1})
