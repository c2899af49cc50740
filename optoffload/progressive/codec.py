"""The runtime algorithms of PNC's codec, bit-exact: quantization, Huffman, framing.

* Feature quantization (PNC section V-E): the encoder's uint8 outputs are
  mapped to 64 levels (6 bits) with ``digitize(x, linspace(0, 256, 64), right=True)``
  and dequantized as ``q * 4`` (the device code's ``q / 64 * 256``; anchors A.3).
* Feature-wise Huffman coding (section V-E): one static table per feature
  position, trained on a corpus of quantized features; every one of the 64
  symbols gets a code (counts are smoothed by +1, as PNC appends all symbols to
  the training data). We build **canonical** codes limited to 16 bits, so a
  table is just 64 code lengths, and encode with numpy (no per-symbol Python
  loop); see :class:`HuffmanTable`.
* Framing (section V-G, anchors A.4): each feature is a *record*
  ``b"xxxx" | seq (uint16) | feature index (uint8) | payload length (uint16) |
  payload | CRC16`` (CRC-16/CCITT, XMODEM variant, over everything before it,
  big-endian). An image's records are concatenated and cut into 64-byte blocks
  of one control byte plus 63 data bytes: ``b"0"`` continue, ``b"2"`` last
  block of the image (zero-padded). When the next image is ready the sender
  stops after the current block and sends the one-byte stop signal ``b"1"``.
* Reception: records are decoded in order; a record cut by the stop signal
  (or failing its CRC) is discarded; missing features are zero-filled
  (section V-D). So exactly the whole features inside the received blocks count.
"""

from __future__ import annotations

import binascii
import heapq
import struct
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Sequence

import numpy as np

from ..errors import InvalidInstance

LEVELS = 64
"""Quantization levels (6 bits)."""
MAX_CODE_LEN = 16
"""Longest Huffman code we emit (lets the decoder use one 2**16-entry lookup table)."""
MAGIC = b"xxxx"
HEADER = struct.Struct(">4sHBH")  # magic, seq, feature index, payload length
RECORD_OVERHEAD = HEADER.size + 2
"""Framing bytes per feature: 7 header + 2 length + 2 CRC = 11 (``profiles.UNIT_OVERHEAD``)."""
BLOCK = 64
BLOCK_DATA = 63
CONTINUE, LAST, STOP = 0x30, 0x32, 0x31  # b"0", b"2", b"1"

_BINS = np.linspace(0, 256, LEVELS)
_QLUT = np.digitize(np.arange(256), _BINS, right=True).astype(np.uint8)


class CodecError(ValueError):
    """A stream or payload that cannot be decoded (corrupt, or not ours)."""


# ------------------------------------------------------------ quantization
def quantize(x: Any) -> np.ndarray:
    """uint8 encoder output (0..255) -> 6-bit symbols 0..63 (PNC V-E; ``digitize(..., right=True)``)."""
    a = np.asarray(x)
    if a.dtype != np.uint8:
        if a.size and (not np.issubdtype(a.dtype, np.integer) or a.min() < 0 or a.max() > 255):
            raise InvalidInstance("features", "must be integers in 0..255 (the uint8 encoder output)")
        a = a.astype(np.uint8)
    return _QLUT[a]


def dequantize(q: Any) -> np.ndarray:
    """6-bit symbols -> uint8 values ``q * 4`` (the device codec's ``q / 64 * 256``)."""
    q = np.asarray(q, dtype=np.uint16)
    return (q * 4).astype(np.uint8)


# ----------------------------------------------------------------- Huffman
def _huffman_lengths(counts: np.ndarray) -> np.ndarray:
    """Code lengths of a Huffman code for ``counts`` (all > 0), ties broken by symbol index."""
    n = len(counts)
    if n == 1:
        return np.ones(1, dtype=np.int64)
    heap = [(int(c), i, (i,)) for i, c in enumerate(counts)]
    heapq.heapify(heap)
    depth = np.zeros(n, dtype=np.int64)
    uid = n
    while len(heap) > 1:
        c1, _, s1 = heapq.heappop(heap)
        c2, _, s2 = heapq.heappop(heap)
        for s in s1 + s2:
            depth[s] += 1
        heapq.heappush(heap, (c1 + c2, uid, s1 + s2))
        uid += 1
    return depth


@dataclass(frozen=True, eq=False)
class HuffmanTable:
    """A canonical Huffman code over the symbols ``0..n-1``, defined by its code lengths.

    Canonical assignment: symbols sorted by (length, symbol) get consecutive
    codes, the code shifted left whenever the length grows. The table is
    therefore fully described by ``lengths`` (what we store and ship).
    """

    lengths: np.ndarray
    codes: np.ndarray = field(init=False, repr=False)
    _dec_sym: np.ndarray = field(init=False, repr=False)
    _dec_len: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        lens = np.asarray(self.lengths, dtype=np.int64)
        if lens.ndim != 1 or len(lens) < 1 or lens.min() < 1 or lens.max() > MAX_CODE_LEN:
            raise InvalidInstance("lengths", f"code lengths must be 1..{MAX_CODE_LEN}, got {lens.tolist()}")
        kraft = np.sum(2.0 ** -lens)
        if kraft > 1 + 1e-12:
            raise InvalidInstance("lengths", f"not a prefix code (Kraft sum {kraft:g} > 1)")
        order = np.lexsort((np.arange(len(lens)), lens))
        codes = np.zeros(len(lens), dtype=np.int64)
        code, prev = 0, int(lens[order[0]])
        for k, s in enumerate(order):
            ln = int(lens[s])
            if k:
                code = (code + 1) << (ln - prev)
            codes[s] = code
            prev = ln
        L = MAX_CODE_LEN
        dec_sym = np.zeros(1 << L, dtype=np.int64)
        dec_len = np.zeros(1 << L, dtype=np.int64)  # 0: no code starts with these bits
        for s in range(len(lens)):
            ln = int(lens[s])
            lo = int(codes[s]) << (L - ln)
            hi = (int(codes[s]) + 1) << (L - ln)
            dec_sym[lo:hi] = s
            dec_len[lo:hi] = ln
        object.__setattr__(self, "lengths", lens)
        object.__setattr__(self, "codes", codes)
        object.__setattr__(self, "_dec_sym", dec_sym)
        object.__setattr__(self, "_dec_len", dec_len)

    @classmethod
    def from_counts(cls, counts: Any, max_len: int = MAX_CODE_LEN) -> "HuffmanTable":
        """Train from symbol counts; every symbol gets a code (counts + 1).

        If the optimal code is longer than ``max_len`` bits the counts are
        halved (keeping them >= 1) until it fits, as zlib does.
        """
        c = np.asarray(counts, dtype=np.int64) + 1
        if c.ndim != 1 or np.any(c < 1):
            raise InvalidInstance("counts", "must be a 1-D array of non-negative integers")
        while True:
            lens = _huffman_lengths(c)
            if lens.max() <= max_len:
                return cls(lens)
            c = (c >> 1) | 1

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HuffmanTable) and np.array_equal(self.lengths, other.lengths)

    def __hash__(self) -> int:
        return hash(self.lengths.tobytes())

    def encode(self, symbols: Any) -> bytes:
        """Pack the codes of ``symbols`` MSB-first, zero-padded to a whole byte."""
        return _pack(self.codes[np.asarray(symbols)], self.lengths[np.asarray(symbols)])[0]

    def decode(self, data: bytes, n: int) -> np.ndarray:
        """Decode exactly ``n`` symbols from ``data``; raises :class:`CodecError` if it runs short."""
        buf = np.frombuffer(bytes(data) + b"\0\0\0", dtype=np.uint8).astype(np.int64)
        nbits = 8 * len(data)
        if n == 0:
            return np.zeros(0, dtype=np.uint8)
        p = np.arange(nbits)
        byte = p >> 3
        w24 = (buf[byte] << 16) | (buf[byte + 1] << 8) | buf[byte + 2]
        win = (w24 >> (8 - (p & 7))) & 0xFFFF
        sym = self._dec_sym[win].tolist()
        ln = self._dec_len[win].tolist()
        out = [0] * n
        pos = 0
        try:
            for i in range(n):
                out[i] = sym[pos]
                step = ln[pos]
                if step == 0:
                    raise CodecError(f"invalid code at bit {pos}")
                pos += step
        except IndexError:
            raise CodecError(f"payload of {len(data)} bytes ends after {i} of {n} symbols") from None
        if pos > nbits:
            raise CodecError(f"payload of {len(data)} bytes ends inside symbol {n - 1}")
        return np.asarray(out, dtype=np.uint8)


def _pack(codes: np.ndarray, lens: np.ndarray) -> tuple[bytes, int]:
    """MSB-first bit packing of ``(codes, lens)`` (1-D), vectorized; returns (bytes, bit count)."""
    return _pack_rows(codes[None, :], lens[None, :])[0]


def _pack_rows(codes: np.ndarray, lens: np.ndarray) -> list[tuple[bytes, int]]:
    """Pack each row separately (each row padded to whole bytes) in one vectorized pass.

    Every code has at most 16 bits and starts at bit offset ``o < 8`` of its
    first byte, so it spans at most three bytes: we place ``code << (24 - len - o)``
    in a 24-bit window anchored at that byte, sum the windows per byte with one
    ``bincount`` and spread each sum over its three bytes. Codes never share
    bits, so adding equals OR-ing (and float64 sums of 24-bit integers are exact).
    """
    m, n = codes.shape
    if n == 0:
        return [(b"", 0)] * m
    lens = lens.astype(np.int64)
    end = np.cumsum(lens, axis=1)
    nbits = end[:, -1]
    nbytes = (nbits + 7) >> 3
    row_start = np.concatenate([[0], np.cumsum(nbytes)[:-1]]) * 8
    pos = (end - lens) + row_start[:, None]
    o = pos & 7
    v = codes.astype(np.int64) << (24 - lens - o)
    p = (pos >> 3).ravel()
    v = v.ravel()
    total = int(nbytes.sum()) + 3
    # w[b]: the sum (= OR, bits are disjoint) of the 24-bit windows of the codes starting in byte b;
    # byte b of the output collects the high byte of w[b], the middle of w[b-1] and the low of w[b-2].
    w = np.bincount(p, weights=v, minlength=total).astype(np.int64)
    out = (w >> 16) & 0xFF
    out[1:] |= (w[:-1] >> 8) & 0xFF
    out[2:] |= w[:-2] & 0xFF
    raw = out.astype(np.uint8).tobytes()
    res, off = [], 0
    for r in range(m):
        nb = int(nbytes[r])
        res.append((raw[off:off + nb], int(nbits[r])))
        off += nb
    return res


# ------------------------------------------------------------ the codec
@dataclass(frozen=True, eq=False)
class FeatureCodec:
    """PNC's per-feature Huffman codec for feature maps of shape ``(H, W, M)`` (PNC: 32 x 32 x 10).

    Feature ``j`` is channel ``j`` (in importance order), flattened row-major.
    """

    tables: tuple[HuffmanTable, ...]
    shape: tuple[int, int] = (32, 32)
    _codes: np.ndarray = field(init=False, repr=False)
    _lens: np.ndarray = field(init=False, repr=False)

    _flat: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_codes", np.stack([t.codes for t in self.tables]))
        object.__setattr__(self, "_lens", np.stack([t.lengths for t in self.tables]))
        # one flat lookup of (code << 5 | length) per (feature, symbol): a single gather per image
        object.__setattr__(self, "_flat", ((self._codes << 5) | self._lens).ravel())

    @property
    def n_features(self) -> int:
        return len(self.tables)

    @property
    def n_values(self) -> int:
        return self.shape[0] * self.shape[1]

    @classmethod
    def train(cls, corpus: Any, max_len: int = MAX_CODE_LEN) -> "FeatureCodec":
        """One table per feature from a corpus of *quantized* maps ``(n, H, W, M)`` (values 0..63)."""
        c = np.asarray(corpus)
        if c.ndim != 4 or c.size == 0:
            raise InvalidInstance("corpus", f"must have shape (n, H, W, M), got {c.shape}")
        if c.min() < 0 or c.max() >= LEVELS:
            raise InvalidInstance("corpus", "must hold quantized symbols 0..63")
        tables = tuple(HuffmanTable.from_counts(np.bincount(c[..., j].ravel(), minlength=LEVELS), max_len)
                       for j in range(c.shape[3]))
        return cls(tables, (c.shape[1], c.shape[2]))

    def to_dict(self) -> dict:
        return {"shape": list(self.shape), "lengths": [t.lengths.tolist() for t in self.tables]}

    @classmethod
    def from_dict(cls, d: dict) -> "FeatureCodec":
        return cls(tuple(HuffmanTable(np.asarray(x)) for x in d["lengths"]), tuple(d["shape"]))

    def _symbols(self, q: Any) -> np.ndarray:
        q = np.asarray(q)
        if q.shape[:2] != self.shape or q.ndim != 3 or q.shape[2] > self.n_features:
            raise InvalidInstance("features", f"must have shape {self.shape} + (<= {self.n_features},), got {q.shape}")
        return np.ascontiguousarray(np.moveaxis(q, 2, 0)).reshape(q.shape[2], self.n_values)

    def encode(self, q: Any) -> list[bytes]:
        """Huffman payload of each feature of a quantized map ``(H, W, k)``, ``k <= M``."""
        s = self._symbols(q)
        k = s.shape[0]
        if k == 0:
            return []
        cl = self._flat[s + (LEVELS * np.arange(k))[:, None]]
        return [b for b, _ in _pack_rows(cl >> 5, cl & 31)]

    def encode_image(self, x: Any) -> list[bytes]:
        """Quantize a uint8 encoder output and Huffman-code each feature (the 2.0 ms step of PNC VII-B)."""
        return self.encode(quantize(x))

    def decode_feature(self, j: int, payload: bytes) -> np.ndarray:
        return self.tables[j].decode(payload, self.n_values).reshape(self.shape)

    def reconstruct(self, received: dict[int, bytes]) -> np.ndarray:
        """Dequantized ``(H, W, M)`` uint8 map; features not received are zero-filled (PNC V-D)."""
        out = np.zeros((*self.shape, self.n_features), dtype=np.uint8)
        for j, payload in received.items():
            out[:, :, j] = dequantize(self.decode_feature(j, payload))
        return out

    def expected_bits(self, corpus_q: Any) -> np.ndarray:
        """Mean payload bytes per feature of a quantized corpus ``(n, H, W, M)``."""
        c = np.asarray(corpus_q)
        bits = np.stack([self._lens[j][c[..., j]].reshape(len(c), -1).sum(axis=1) for j in range(c.shape[3])], 1)
        return ((bits + 7) // 8).mean(axis=0)


def synthetic_corpus(n: int, shape: tuple[int, int, int] = (32, 32, 10), seed: int = 0) -> np.ndarray:
    """Synthetic uint8 encoder outputs ``(n, H, W, M)`` (we have no trained PNC encoder).

    Each channel is a spatially smoothed Gaussian field through a ReLU, scaled
    so that earlier channels carry more signal (wider value ranges, fewer
    zeros), like a tail-drop-trained encoder whose first features matter most.
    Only used to train and benchmark Huffman tables; accuracies come from profiles.
    """
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    h, w, m = shape
    z = gaussian_filter(rng.standard_normal((n, h, w, m)), sigma=(0, 1.2, 1.2, 0))
    z /= z.std(axis=(1, 2), keepdims=True) + 1e-12
    j = np.arange(m)
    scale = 130.0 * np.exp(-0.08 * j)
    bias = -0.1 - 0.06 * j
    x = np.maximum(0.0, z + bias) * scale
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


@lru_cache(maxsize=4)
def default_codec(shape: tuple[int, int, int] = (32, 32, 10), seed: int = 0, n_train: int = 200) -> FeatureCodec:
    """A codec trained on :func:`synthetic_corpus` (seeded, so always the same tables)."""
    return FeatureCodec.train(quantize(synthetic_corpus(n_train, shape, seed)))


# ------------------------------------------------------------------ framing
def crc16(data: bytes) -> int:
    """CRC-16/CCITT (XMODEM: poly 0x1021, init 0), as ``binascii.crc_hqx``; check("123456789") = 0x31C3."""
    return binascii.crc_hqx(data, 0)


def record(seq: int, index: int, payload: bytes) -> bytes:
    """One feature's record: header, length, payload, CRC16 (``len(payload) + 11`` bytes)."""
    if not 0 <= len(payload) <= 0xFFFF:
        raise InvalidInstance("payload", f"length must be 0..65535, got {len(payload)}")
    head = HEADER.pack(MAGIC, seq & 0xFFFF, index, len(payload))
    body = head + payload
    return body + struct.pack(">H", crc16(body))


def frame_image(seq: int, payloads: Sequence[bytes]) -> bytes:
    """An image's stream: its records cut into 64-byte blocks (``b"0"`` ... ``b"2"`` control bytes)."""
    data = b"".join(record(seq, j, p) for j, p in enumerate(payloads))
    nblocks = max(1, -(-len(data) // BLOCK_DATA))
    buf = np.zeros((nblocks, BLOCK), dtype=np.uint8)
    buf[:, 0] = CONTINUE
    buf[-1, 0] = LAST
    flat = np.zeros(nblocks * BLOCK_DATA, dtype=np.uint8)
    flat[: len(data)] = np.frombuffer(data, dtype=np.uint8)
    buf[:, 1:] = flat.reshape(nblocks, BLOCK_DATA)
    return buf.tobytes()


def truncate(stream: bytes, budget: int) -> bytes:
    """What arrives of one image's stream with ``budget`` bytes of airtime (PNC eq. 1 with blocks).

    Only whole 64-byte blocks count; if the image did not fit, the sender's
    stop signal ``b"1"`` follows the last whole block.
    """
    if not isinstance(stream, (bytes, bytearray)):
        raise InvalidInstance("stream", f"must be bytes, got {type(stream).__name__}")
    keep = BLOCK * (_budget(budget) // BLOCK)
    if keep >= len(stream):
        return stream
    return stream[:keep] + bytes([STOP])


@dataclass
class ReceivedImage:
    """One image as the receiver saw it."""

    seq: int | None
    features: dict[int, bytes]
    complete: bool

    @property
    def n_features(self) -> int:
        """Whole features received in order (what a progressive profile is evaluated at)."""
        k = 0
        while k in self.features:
            k += 1
        return k


def _parse_records(data: bytes) -> tuple[int | None, dict[int, bytes]]:
    seq, out, i = None, {}, 0
    while i + HEADER.size <= len(data):
        magic, s, j, ln = HEADER.unpack_from(data, i)
        if magic != MAGIC:
            break  # padding after the last record
        end = i + HEADER.size + ln + 2
        if end > len(data):
            break  # cut by the stop signal: discarded
        body = data[i:end - 2]
        if struct.unpack_from(">H", data, end - 2)[0] == crc16(body):
            out[j] = data[i + HEADER.size:end - 2]
            seq = s
        i = end
    return seq, out


def parse_stream(stream: bytes) -> list[ReceivedImage]:
    """Split a received byte stream into images and their whole, CRC-valid features.

    Raises :class:`CodecError` on a control byte that is none of ``0``, ``1``, ``2``.
    A trailing partial block (a link that died mid-block) is dropped.
    """
    images: list[ReceivedImage] = []
    cur = bytearray()
    open_image = False
    i = 0
    n = len(stream)
    while i < n:
        c = stream[i]
        if c == STOP:
            seq, feats = _parse_records(bytes(cur))
            images.append(ReceivedImage(seq, feats, False))
            cur, open_image = bytearray(), False
            i += 1
        elif c in (CONTINUE, LAST):
            if i + BLOCK > n:
                break
            cur += stream[i + 1:i + BLOCK]
            open_image = True
            i += BLOCK
            if c == LAST:
                seq, feats = _parse_records(bytes(cur))
                images.append(ReceivedImage(seq, feats, True))
                cur, open_image = bytearray(), False
        else:
            raise CodecError(f"bad control byte {c:#04x} at offset {i}")
    if open_image:
        seq, feats = _parse_records(bytes(cur))
        images.append(ReceivedImage(seq, feats, False))
    return images


def _budget(budget: Any) -> int:
    """A byte budget: an integer >= 0 (a float is floored; negative or non-finite values are errors)."""
    if isinstance(budget, bool) or not isinstance(budget, (int, float, np.integer, np.floating)) \
            or not np.isfinite(budget) or budget < 0:
        raise InvalidInstance("budget", f"must be a finite number of bytes >= 0, got {budget!r}")
    return int(budget)


def wire_size(payload_sizes: Sequence[int]) -> int:
    """Bytes of a complete image's stream: ``64 * ceil((sum + 11 k) / 63)`` (at least one block)."""
    data = sum(payload_sizes) + RECORD_OVERHEAD * len(payload_sizes)
    return BLOCK * max(1, -(-data // BLOCK_DATA))


def features_within(payload_sizes: Sequence[int], budget: int) -> int:
    """Whole features inside ``budget`` bytes of airtime: the largest ``k`` with
    ``sum_{j<k} (size_j + 11) <= 63 * floor(budget / 64)`` (the model of ``profiles``)."""
    cap = BLOCK_DATA * (_budget(budget) // BLOCK)
    k, used = 0, 0
    for j, s in enumerate(payload_sizes):
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0:
            raise InvalidInstance(f"payload_sizes[{j}]", f"must be an integer >= 0, got {s!r}")
        used += s + RECORD_OVERHEAD
        if used > cap:
            break
        k += 1
    return k


__all__ = ["quantize", "dequantize", "HuffmanTable", "FeatureCodec", "synthetic_corpus", "default_codec", "crc16",
           "record", "frame_image", "truncate", "parse_stream", "ReceivedImage", "wire_size", "features_within",
           "CodecError", "LEVELS", "BLOCK", "BLOCK_DATA", "RECORD_OVERHEAD"]
