"""The deadline simulator of PNC section IV.

Image ``i`` (``i = 1..n``) is captured at ``t_i = t_1 + (i - 1) T`` and
encoded in ``t_f`` (the profile's ``encode_ms``). Its transmission runs from
``t_i + t_f`` until the next image is encoded, ``t_i + T + t_f`` (the deadline
of section IV), so the bytes that fit are ``S_i = int b(t) dt`` over that
window (eq. 1 truncates the encoded data to ``S_i``). Data travel in 64-byte
blocks; only whole blocks count, 63 data bytes each; the sender then sends
the stop signal and moves on (section V-G). The receiver scores the profile's
accuracy at the data received (eq. 2 averaged: the expected top-n reward).

Reported per run (PNC Figs. 6-8): mean accuracy, fraction of images fully
offloaded, throughput (bytes on the wire during offloading / total window
time: a codec that finishes early leaves the link idle and scores a low
throughput, as WebP does in Fig. 8), and mean whole features received.

The one-byte stop signal is neglected in the byte budget (it is sent once per
aborted image, at most 1/64 of a block).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InvalidInstance
from ..validate import as_int, nonneg, positive
from .profiles import BLOCK_BYTES, BLOCK_PAYLOAD, Profile, data_bytes, get_profile, size_factors
from .traces import Trace


@dataclass
class SimResult:
    """Per-image arrays of one simulated run and their :meth:`summary`."""

    profile: str
    period: float
    start: np.ndarray
    end: np.ndarray
    budget: np.ndarray
    """``S_i``: bytes the link could carry in image ``i``'s window."""
    data: np.ndarray
    """Data bytes in the whole blocks that arrived (``63 * floor(S_i / 64)``)."""
    levels: np.ndarray
    """Usable levels received (PNC: whole features)."""
    accuracy: np.ndarray
    complete: np.ndarray
    wire: np.ndarray
    """Bytes actually sent for image ``i`` (whole blocks, at most the image's stream)."""

    def summary(self) -> dict:
        win = float(np.sum(self.end - self.start))
        return {
            "profile": self.profile,
            "period_s": self.period,
            "n_images": int(len(self.accuracy)),
            "accuracy": float(np.mean(self.accuracy)),
            "fraction_complete": float(np.mean(self.complete)),
            "throughput_Bps": float(np.sum(self.wire) / win) if win > 0 else 0.0,
            "mean_levels": float(np.mean(self.levels)),
            "mean_budget_B": float(np.mean(self.budget)),
        }


def windows(period: float, n_images: int, encode_s: float, t1: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Transmission windows ``[t_i + t_f, t_i + T + t_f]`` of images ``1..n`` (section IV)."""
    t = t1 + period * np.arange(n_images)
    return t + encode_s, t + period + encode_s


def simulate(profile: Any, trace: Trace, period: float, n_images: int, *, t1: float = 0.0, seed: int = 0,
             encode_ms: float | None = None, size_sigma: float | None = None, framing: bool = True) -> SimResult:
    """Run ``n_images`` periodic images of codec ``profile`` over ``trace``.

    ``seed`` draws the per-image size factors (``size_sigma``, default the
    profile's). ``encode_ms`` overrides the profile's encoding latency.
    ``framing=False`` ignores blocks and per-unit overhead (raw payload budgets).
    """
    p: Profile = get_profile(profile)
    period = positive(period, "period_s")
    n = as_int(n_images, "n_images", min=1)
    enc = (p.encode_ms if encode_ms is None else nonneg(encode_ms, "encode_ms")) / 1000.0
    if enc >= period:
        raise InvalidInstance("period_s", f"must exceed the encoding latency {enc:g} s of {p.name!r}, got {period:g}")
    sigma = p.size_sigma if size_sigma is None else nonneg(size_sigma, "size_sigma")
    start, end = windows(period, n, enc, nonneg(t1, "t1"))
    budget = trace.integral(start, end)
    data = data_bytes(budget) if framing else np.floor(budget)
    f = size_factors(n, sigma, np.random.default_rng(seed))
    levels = p.levels_received(data, f, framing)
    _, _, acc = p.levels()
    table = np.concatenate([[p.fallback], acc])
    need = p.complete_bytes(f, framing)
    complete = data + 1e-9 >= need
    if framing:
        need_blocks = np.ceil(need / BLOCK_PAYLOAD - 1e-9)
        wire = BLOCK_BYTES * np.minimum(np.floor(budget / BLOCK_BYTES), need_blocks)
    else:
        wire = np.minimum(np.floor(budget), need)
    return SimResult(p.name, period, start, end, budget, data, levels, table[levels], complete, wire)


def simulate_stream(codec: Any, images: np.ndarray, trace: Trace, period: float, accuracy: Any, *,
                    encode_ms: float = 11.8, t1: float = 0.0) -> dict:
    """End-to-end run with the real codec: encode, frame, truncate, parse, score.

    ``images``: uint8 encoder outputs ``(n, H, W, M)``; ``accuracy[k]``: the
    reward with ``k`` whole features (e.g. the ``pnc`` profile's). Returns the
    per-image features received, payload bytes received and accuracy (PNC Fig. 9).
    """
    from . import codec as C

    acc = np.asarray(accuracy, dtype=float)
    n = len(images)
    start, end = windows(positive(period, "period_s"), n, nonneg(encode_ms, "encode_ms") / 1000.0, t1)
    budget = trace.integral(start, end)
    feats, payload = [], []
    stream = bytearray()
    for i in range(n):
        s = C.frame_image(i, codec.encode_image(images[i]))
        stream += C.truncate(s, int(budget[i]))
    received = C.parse_stream(bytes(stream))
    if len(received) != n:  # pragma: no cover - guarded by the codec tests
        raise RuntimeError(f"receiver saw {len(received)} images, sent {n}")
    for img in received:
        k = img.n_features
        feats.append(k)
        payload.append(sum(len(img.features[j]) for j in range(k)))
    feats_a = np.asarray(feats)
    return {"budget": budget, "features": feats_a, "payload": np.asarray(payload),
            "accuracy": acc[np.minimum(feats_a, len(acc) - 1)], "stream_bytes": len(stream)}


__all__ = ["simulate", "simulate_stream", "windows", "SimResult"]
