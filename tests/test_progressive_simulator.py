"""The deadline simulator of PNC section IV (step 3). Expected values by hand."""

import numpy as np
import pytest

from optoffload import InvalidInstance
from optoffload.progressive import codec as C
from optoffload.progressive import profiles as P
from optoffload.progressive import simulator as S
from optoffload.progressive import traces as T

TWO = P.Profile.from_dict({"name": "two", "kind": "features", "metric": "top5", "accuracy": [0.0, 0.5, 0.8],
                           "unit_bytes": [200, 300], "encode_ms": 100})


def test_windows_and_budgets_by_hand():
    """T = 0.5 s, t_f = 0.1 s, rate 1000 B/s: windows [0.1, 0.6], [0.6, 1.1]; S_i = 500 B -> 7 blocks -> 441 data B.
    Feature 1 needs 211 B, feature 2 needs 211 + 311 = 522 B: one feature per image, never complete."""
    r = S.simulate(TWO, T.constant(1000.0), 0.5, 2)
    np.testing.assert_allclose(r.start, [0.1, 0.6])
    np.testing.assert_allclose(r.end, [0.6, 1.1])
    np.testing.assert_allclose(r.budget, [500.0, 500.0])
    np.testing.assert_allclose(r.data, [441.0, 441.0])
    assert r.levels.tolist() == [1, 1] and r.accuracy.tolist() == [0.5, 0.5] and not r.complete.any()
    s = r.summary()
    assert s["throughput_Bps"] == pytest.approx(7 * 64 / 0.5)  # 7 whole blocks per 0.5 s window


def test_step_trace_changes_features_and_idle_link_lowers_throughput():
    """Rate 2000 B/s for 1 s then 200 B/s: image 1 (window [0.1, 0.6], 1000 B -> 15 blocks = 945 B) completes
    with 9 blocks (522 B of data); image 3 (window [1.1, 1.6], 100 B -> 1 block) gets nothing."""
    tr = T.step([2000.0, 200.0], [1.0, 1.0])
    r = S.simulate(TWO, tr, 0.5, 3)
    np.testing.assert_allclose(r.budget, [1000.0, 2000 * 0.4 + 200 * 0.1, 100.0])
    assert r.levels.tolist() == [2, 2, 0] and r.complete.tolist() == [True, True, False]
    assert r.wire.tolist() == [9 * 64, 9 * 64, 64.0]


def test_non_progressive_cliff_and_fallback():
    """All-or-nothing: below its size the image scores the fallback (chance)."""
    aon = P.Profile.from_dict({"name": "a", "kind": "all_or_nothing", "metric": "top5", "total_bytes": 500,
                               "accuracy": 0.9, "fallback": 0.005})
    r = S.simulate(aon, T.step([2000.0, 200.0], [1.0, 1.0]), 0.5, 3)
    assert r.accuracy.tolist() == [0.9, 0.9, 0.005]


def test_progressive_never_worse_than_its_own_all_or_nothing_version():
    """Same sizes and full accuracy: the progressive codec scores at least the cliff version on any trace."""
    prog = P.get_profile("pnc")
    aon = P.Profile.from_dict({"name": "aon", "kind": "all_or_nothing", "metric": "top5",
                               "total_bytes": prog.total_bytes, "accuracy": prog.full_accuracy, "fallback": 0.0,
                               "units": prog.units, "size_sigma": prog.size_sigma, "encode_ms": prog.encode_ms})
    for sc in ("none", "heavy", "switching"):
        tr = T.scenario(sc, duration=120, seed=2)
        a = S.simulate(prog, tr, 0.5, 200, seed=4)
        b = S.simulate(aon, tr, 0.5, 200, seed=4)
        assert np.all(a.accuracy >= b.accuracy - 1e-12)
        assert a.complete.tolist() == b.complete.tolist()


def test_seeded_and_validated():
    tr = T.scenario("light", duration=60, seed=0)
    a = S.simulate("webp-m6-q10", tr, 0.3, 100, seed=5).summary()
    assert a == S.simulate("webp-m6-q10", tr, 0.3, 100, seed=5).summary()
    with pytest.raises(InvalidInstance, match="period_s"):
        S.simulate("rnn", tr, 0.5, 10)  # RNN encodes in 1.9 s > T
    with pytest.raises(InvalidInstance, match="n_images"):
        S.simulate("pnc", tr, 0.5, 0)


def test_stream_simulation_matches_feature_count_rule():
    """End-to-end with the real codec: features received equal features_within(payload sizes, S_i)."""
    codec = C.default_codec()
    imgs = C.synthetic_corpus(12, seed=3)
    tr = T.scenario("decreasing", duration=10, seed=1, switch_s=2.0)
    acc = P.get_profile("pnc").accuracy
    out = S.simulate_stream(codec, imgs, tr, 0.5, acc)
    for i in range(12):
        sizes = [len(p) for p in codec.encode_image(imgs[i])]
        assert out["features"][i] == C.features_within(sizes, int(out["budget"][i]))
    assert out["accuracy"].tolist() == [acc[k] for k in out["features"]]
