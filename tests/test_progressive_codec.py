"""PNC codec: 6-bit quantization, canonical Huffman, 64-byte framing, truncation (step 2).

Expected values are derived by hand (quantization bins, CRC check value) or by
an independent reference (a per-bit Python encoder, a direct count of the
records that fit in the received blocks).
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optoffload import InvalidInstance
from optoffload.progressive import codec as C
from optoffload.progressive.profiles import UNIT_OVERHEAD, Profile, data_bytes


def test_quantize_bins_by_hand():
    """digitize(x, linspace(0, 256, 64), right=True): bin edges 256/63 apart; dequantize is q * 4."""
    edges = np.linspace(0, 256, 64)
    assert C.quantize(np.array([0, 1, 4, 5, 251, 252, 253, 255], dtype=np.uint8)).tolist() == \
        [0, 1, 1, 2, 62, 63, 63, 63]
    assert edges[1] == pytest.approx(4.0635, abs=1e-4)  # so 4 -> 1 and 5 -> 2
    assert edges[62] == pytest.approx(251.937, abs=1e-3)  # so 251 -> 62 and 252 -> 63
    assert C.dequantize([0, 1, 63]).tolist() == [0, 4, 252]
    assert C.quantize(np.arange(256)).max() == 63
    with pytest.raises(InvalidInstance):
        C.quantize(np.array([300]))


def test_crc_check_value():
    """CRC-16/XMODEM check value of b"123456789" is 0x31C3 (catalogue of parametrised CRCs)."""
    assert C.crc16(b"123456789") == 0x31C3


def test_huffman_lengths_by_hand():
    """Counts 5,2,1,1 (+1 smoothing: 6,3,2,2): merge 2+2=4, 3+4=7, 6+7 -> lengths 1,2,3,3; canonical codes 0,10,110,111."""
    t = C.HuffmanTable.from_counts([5, 2, 1, 1])
    assert t.lengths.tolist() == [1, 2, 3, 3]
    assert t.codes.tolist() == [0b0, 0b10, 0b110, 0b111]
    # symbols 0,1,2,3,0 -> bits 0 10 110 111 0 = 01011011 10(000000)
    assert t.encode([0, 1, 2, 3, 0]) == bytes([0b01011011, 0b10000000])
    assert t.decode(bytes([0b01011011, 0b10000000]), 5).tolist() == [0, 1, 2, 3, 0]


def _reference_bits(table, symbols):
    """Independent per-bit encoder (string of '0'/'1') for cross-checking the vectorized packer."""
    s = "".join(format(int(table.codes[x]), f"0{int(table.lengths[x])}b") for x in symbols)
    s += "0" * (-len(s) % 8)
    return bytes(int(s[i:i + 8], 2) for i in range(0, len(s), 8))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 10_000), min_size=64, max_size=64), st.lists(st.integers(0, 63), max_size=300))
def test_huffman_roundtrip_and_matches_reference(counts, symbols):
    """Any trained table: vectorized encode == per-bit reference, decode inverts it, lengths <= 16."""
    t = C.HuffmanTable.from_counts(counts)
    assert t.lengths.max() <= C.MAX_CODE_LEN and np.sum(2.0 ** -t.lengths) == pytest.approx(1.0)
    enc = t.encode(np.asarray(symbols, dtype=np.int64))
    assert enc == _reference_bits(t, symbols)
    assert t.decode(enc, len(symbols)).tolist() == symbols


def test_length_limit_with_skewed_counts():
    """Fibonacci-like counts force a > 16-bit optimal code; the limited code is still a complete prefix code."""
    fib = [1, 1]
    while len(fib) < 64:
        fib.append(fib[-1] + fib[-2])
    t = C.HuffmanTable.from_counts(fib)
    assert t.lengths.max() <= 16
    assert np.sum(2.0 ** -t.lengths) == pytest.approx(1.0)


@pytest.fixture(scope="module")
def codec():
    return C.default_codec()


@pytest.mark.parametrize("k", range(11))
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), seq=st.integers(0, 65535))
def test_codec_and_framing_roundtrip_every_size(codec, k, seed, seq):
    """Random maps with 0..10 features: encode -> frame -> parse -> decode gives the quantized map back."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, size=(32, 32, k), dtype=np.uint8)
    q = C.quantize(x)
    payloads = codec.encode(q)
    assert len(payloads) == k
    stream = C.frame_image(seq, payloads)
    assert len(stream) == C.wire_size([len(p) for p in payloads]) and len(stream) % 64 == 0
    [img] = C.parse_stream(stream)
    assert img.complete and img.n_features == k and (img.seq == seq or k == 0)
    assert [img.features[j] for j in range(k)] == payloads
    rec = codec.reconstruct(img.features)
    np.testing.assert_array_equal(rec[:, :, :k], C.dequantize(q))
    assert not rec[:, :, k:].any()  # zero fill


@settings(max_examples=25, deadline=None)
@given(st.lists(st.binary(min_size=0, max_size=200), min_size=0, max_size=10), st.integers(0, 65535))
def test_truncation_at_every_budget_yields_exactly_the_whole_features_that_fit(payloads, seq):
    """For every budget 0..len(stream): the received features are exactly the first k whose records
    end inside the received blocks, k = features_within (by a direct count), payloads intact."""
    stream = C.frame_image(seq, payloads)
    sizes = [len(p) for p in payloads]
    cum = np.cumsum([s + UNIT_OVERHEAD for s in sizes])
    for budget in range(0, len(stream) + 1):
        got = C.parse_stream(C.truncate(stream, budget))
        cap = 63 * (budget // 64)
        k_ref = int(np.sum(cum <= cap))  # records are consecutive, so this is a prefix
        assert C.features_within(sizes, budget) == k_ref
        if budget < 64 and len(stream) > 0:
            # nothing but the stop signal arrived
            assert got == [] or (got[0].features == {} and not got[0].complete)
            assert k_ref == 0 or budget >= 64
            continue
        [img] = got
        assert img.complete == (budget >= len(stream))
        assert sorted(img.features) == list(range(k_ref))
        assert all(img.features[j] == payloads[j] for j in range(k_ref))


def test_truncation_agrees_with_profile_threshold_model(codec):
    """The profile's whole-feature rule (data_bytes + 11 B per feature) counts the same features as the real codec."""
    x = C.synthetic_corpus(3, seed=11)
    for img in x:
        payloads = codec.encode_image(img)
        sizes = [len(p) for p in payloads]
        prof = Profile.from_dict({"name": "p", "kind": "features", "metric": "top5",
                                  "accuracy": [0.0] + [0.1 * (j + 1) for j in range(10)], "unit_bytes": sizes})
        stream = C.frame_image(0, payloads)
        for budget in range(0, len(stream) + 1, 37):
            [got] = C.parse_stream(C.truncate(stream, budget)) or [C.ReceivedImage(None, {}, False)]
            assert got.n_features == int(prof.levels_received(data_bytes(budget), 1.0)[0])


def test_multi_image_stream_with_abort():
    """Image 1 aborted after 2 blocks (stop signal), image 2 complete: the receiver separates them."""
    a = C.frame_image(1, [b"a" * 100, b"b" * 100])
    b = C.frame_image(2, [b"c" * 10])
    imgs = C.parse_stream(C.truncate(a, 128) + b)
    assert len(imgs) == 2
    assert imgs[0].seq == 1 and sorted(imgs[0].features) == [0] and not imgs[0].complete
    assert imgs[1].seq == 2 and imgs[1].features == {0: b"c" * 10} and imgs[1].complete


def test_corrupt_feature_is_dropped_and_bad_control_byte_raises():
    s = bytearray(C.frame_image(5, [b"x" * 20, b"y" * 20]))
    s[1 + 11] ^= 0xFF  # flip a payload byte of feature 0 -> CRC fails
    [img] = C.parse_stream(bytes(s))
    assert 0 not in img.features and img.features[1] == b"y" * 20
    s[0] = ord("9")
    with pytest.raises(C.CodecError, match="control byte"):
        C.parse_stream(bytes(s))
    t = C.HuffmanTable.from_counts([1] * 64)
    with pytest.raises(C.CodecError):
        t.decode(b"\x00", 10)  # 6-bit codes: 8 bits cannot hold 10 symbols


def test_bad_budgets_and_streams_name_the_field():
    import optoffload as oo
    from optoffload.progressive.codec import features_within, truncate

    for bad in (-1, float("nan"), "10", True):
        with pytest.raises(oo.InvalidInstance, match="budget"):
            truncate(b"\x00" * 64, bad)
        with pytest.raises(oo.InvalidInstance, match="budget"):
            features_within([10], bad)
    with pytest.raises(oo.InvalidInstance, match="stream"):
        truncate("not bytes", 64)
    with pytest.raises(oo.InvalidInstance, match=r"payload_sizes\[1\]"):
        features_within([10, -5], 640)
    # by hand: 64 bytes of airtime carry 63 data bytes; one feature of 52 bytes + 11 header fits
    assert features_within([52], 64) == 1 and features_within([53], 64) == 0
