"""docs/progressive-wire.md is enough to write a receiver: the decoder below uses only what that
page says (no import from optoffload.progressive.codec); the sender is the library's codec."""

import struct

import numpy as np

from optoffload.progressive import codec as C


def spec_crc16(data: bytes) -> int:
    """CRC-16/CCITT XMODEM from the page: poly 0x1021, init 0, no reflection, no final XOR."""
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def spec_parse_buffer(buf: bytes) -> tuple[int | None, dict[int, bytes]]:
    seq, feats, i = None, {}, 0
    while len(buf) - i >= 9:
        if buf[i:i + 4] != b"xxxx":
            break
        s, j, ln = struct.unpack(">HBH", buf[i + 4:i + 9])
        end = i + 11 + ln
        if end > len(buf):
            break
        if struct.unpack(">H", buf[end - 2:end])[0] == spec_crc16(buf[i:end - 2]):
            feats[j] = buf[i + 9:end - 2]
            seq = s
        i = end
    return seq, feats


def spec_receive(stream: bytes) -> list[tuple[int | None, dict[int, bytes], bool]]:
    out, buf, i, open_ = [], b"", 0, False
    while i < len(stream):
        c = stream[i:i + 1]
        if c == b"1":
            out.append((*spec_parse_buffer(buf), False))
            buf, open_ = b"", False
            i += 1
        elif c in (b"0", b"2"):
            if len(stream) - i < 64:
                break
            buf += stream[i + 1:i + 64]
            open_ = True
            i += 64
            if c == b"2":
                out.append((*spec_parse_buffer(buf), True))
                buf, open_ = b"", False
        else:
            raise ValueError(f"bad control byte {c!r}")
    if open_:
        out.append((*spec_parse_buffer(buf), False))
    return out


def usable(feats: dict) -> int:
    k = 0
    while k in feats:
        k += 1
    return k


def test_crc_check_value_from_the_spec():
    assert spec_crc16(b"123456789") == 0x31C3


def test_the_spec_example_by_hand():
    s = C.frame_image(7, [b"AB", b"C"])
    assert len(s) == 64 and s[0:1] == b"2"
    r0 = bytes.fromhex("78787878" "0007" "00" "0002") + b"AB"
    r1 = bytes.fromhex("78787878" "0007" "01" "0001") + b"C"
    want = r0 + struct.pack(">H", spec_crc16(r0)) + r1 + struct.pack(">H", spec_crc16(r1))
    assert s[1:1 + 25] == want and s[1 + 25:] == bytes(38)


def test_independent_receiver_decodes_a_truncated_multi_image_stream():
    rng = np.random.default_rng(5)
    images = [[bytes(rng.integers(0, 256, int(n), dtype=np.uint8)) for n in rng.integers(0, 120, 9)]
              for _ in range(12)]
    budgets = [int(b) for b in rng.integers(0, 900, 12)]
    budgets[3] = 0  # a zero window: just the stop byte
    budgets[4] = 10 ** 6  # everything fits
    stream = b"".join(C.truncate(C.frame_image(300 + k, p), b) for k, (p, b) in enumerate(zip(images, budgets)))
    got = spec_receive(stream)
    assert len(got) == len(images)
    for k, ((seq, feats, complete), payloads, budget) in enumerate(zip(got, images, budgets)):
        # the page's rule: feature k usable iff sum_{j<=k} (L_j + 11) <= 63 * floor(S / 64)
        cap = 63 * (budget // 64)
        sizes = np.cumsum([len(p) + 11 for p in payloads])
        k_expected = int(np.sum(sizes <= cap))
        assert usable(feats) == k_expected == C.features_within([len(p) for p in payloads], budget)
        assert all(feats[j] == payloads[j] for j in range(usable(feats)))
        if k_expected:
            assert seq == 300 + k
        assert complete == (len(C.frame_image(0, payloads)) <= budget)
    # and the library's own receiver agrees
    lib = C.parse_stream(stream)
    assert [im.n_features for im in lib] == [usable(f) for _, f, _ in got]


def test_a_corrupted_record_is_dropped_and_the_next_kept():
    s = bytearray(C.frame_image(1, [b"hello", b"world"]))
    s[1 + 9] ^= 0xFF  # first payload byte of record 0
    seq, feats, complete = spec_receive(bytes(s))[0]
    assert complete and 0 not in feats and feats[1] == b"world" and usable(feats) == 0
