"""PNC reproduction suites: ``pnc-fig2``, ``pnc-testbed``, ``pnc-switching``, ``pnc-codec``.

* ``pnc-fig2``: accuracy under a byte cap (raw payload, as the paper's Fig. 2)
  of PNC and the fixed-rate autoencoders K = 2..10, from the shipped profiles.
* ``pnc-testbed``: the deadline simulator (section IV) for T = 300/500/700 ms
  x no/light/heavy jamming (synthetic traces, ``traces.SCENARIOS``): accuracy,
  fraction fully offloaded and throughput (Figs. 6-8) of PNC, WebP q0/10/20
  (method 6), progressive JPEG q30 and fixed-K autoencoders.
* ``pnc-switching``: the 10 s switching scenarios (Fig. 10: none/heavy
  alternating; Fig. 9: none -> light -> heavy, 60 images through the real codec).
* ``pnc-codec``: speed of quantization + per-feature Huffman encoding of one
  32 x 32 x 10 feature map (paper: 2.0 ms on a Raspberry Pi 4, section VII-B),
  against a per-symbol pure-Python canonical Huffman encoder and, when it is
  importable, ``dahuffman`` (optional: not a dependency).

Seeds are in every task; reports put the paper's numbers beside ours.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..suite import Suite, markdown_table

SCEN = ("none", "light", "heavy")
PERIODS = (0.3, 0.5, 0.7)
TESTBED_CODECS = ("pnc", "webp-m6-q0", "webp-m6-q10", "webp-m6-q20", "pjpeg-q30", "fixed-k2", "fixed-k4",
                  "fixed-k6", "fixed-k8")
FIG2_CODECS = ("pnc", "pnc-budget", "fixed-k2", "fixed-k4", "fixed-k6", "fixed-k8", "fixed-k10")


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


# ------------------------------------------------------------------ fig2
def _fig2_tasks(quick: bool) -> list[dict]:
    step = 500 if quick else 125
    return [{"id": f"fig2-{c}", "codec": c, "cap_step_B": step, "seed": 0} for c in FIG2_CODECS]


def _fig2_run(task: dict) -> list[dict]:
    from optoffload.progressive.profiles import get_profile

    p = get_profile(task["codec"])
    caps = np.arange(500, 6001, task["cap_step_B"])
    acc = p.expected_accuracy(caps, n_quad=256, framing=False)
    return [{"cap_B": int(c), "accuracy": float(a)} for c, a in zip(caps, acc)]


FIG2_PAPER = [  # (cap bytes, codec, paper accuracy) from PNC section V-F text
    (1500, "fixed-k2", 0.6962), (1500, "pnc", 0.6751), (5500, "fixed-k8", 0.8679), (5500, "pnc", 0.8646)]


def _fig2_report(rows: list[dict], out: Path) -> str:
    by = {(r["codec"], r["cap_B"]): r["accuracy"] for r in rows}
    caps = sorted({r["cap_B"] for r in rows})
    lines = ["# pnc-fig2: accuracy (top-5) under a byte cap, PNC vs fixed-rate AEs (PNC Fig. 2)", "",
             "Raw payload caps (no framing), expected over the image-size distribution (256 quantile nodes).", "",
             "## Paper vs ours", ""]
    tab = []
    for cap, codec, paper in FIG2_PAPER:
        ours = by.get((codec, cap))
        tab.append({"cap_KB": cap / 1000, "codec": codec, "paper": paper, "ours": ours,
                    "diff_pp": None if ours is None else round(100 * (ours - paper), 2)})
    lines.append(markdown_table(tab, ["cap_KB", "codec", "paper", "ours", "diff_pp"]))
    lines += ["", "Differences: the paper's Fig. 2 is measured on 10,000 test images; our PNC curve is the "
              "feature model fitted to the notebook's exact 2,000-image table (`pnc-budget`, 86.25 % with all "
              "features, vs 86.46 % in Fig. 2), and our fixed-K curves are cliffs placed from the README figure "
              "(approximate, about +-0.01). The shape is the paper's: each fixed-K AE is slightly above PNC at its "
              "design size and collapses to chance below it, while PNC degrades gracefully.", "",
              "## Full curves", ""]
    codecs = [c for c in FIG2_CODECS if any(k[0] == c for k in by)]
    full = [{"cap_KB": c / 1000, **{k: by.get((k, c)) for k in codecs}} for c in caps]
    lines.append(markdown_table(full, ["cap_KB", *codecs], "{:.3f}"))
    try:
        from optoffload import figures as F

        with F.style():
            fig, ax = F.figure(width="column", height=2.5)
            for i, k in enumerate(codecs):
                ax.plot(np.array(caps) / 1000, [by.get((k, c)) for c in caps], label=k, color=F.color(i),
                        lw=1.8 if k.startswith("pnc") else 0.9)
            px = [(cap / 1000, paper) for cap, codec, paper in FIG2_PAPER]
            ax.plot([x for x, _ in px], [y for _, y in px], linestyle="none", marker="x", color="black",
                    markersize=4, label="paper (Fig. 2 points)")
            ax.set_xlabel("data size limit (kB)")
            ax.set_ylabel("top-5 accuracy")
            ax.set_title("PNC Fig. 2 under a byte cap")
            fig.legend(*ax.get_legend_handles_labels(), loc="outside right upper", frameon=False, fontsize=5.5)
            md = F.save(fig, out, "pnc_fig2", caption="Lines: ours (expected accuracy over the image-size "
                        "distribution); crosses: the paper's values.", n="256 quantile nodes per point")
        lines += ["", md]
    except Exception as exc:  # pragma: no cover - plotting is optional
        lines += ["", f"(plot failed: {exc})"]
    return "\n".join(lines)


# --------------------------------------------------------------- testbed
def _testbed_tasks(quick: bool) -> list[dict]:
    n = 200 if quick else 2000
    return [{"id": f"tb-{s}-{int(T * 1000)}-{c}", "scenario": s, "period_s": T, "codec": c, "n_images": n,
             "trace_seed": 0, "size_seed": 1} for s in SCEN for T in PERIODS for c in TESTBED_CODECS]


def _testbed_run(task: dict) -> dict:
    from optoffload.progressive.simulator import simulate
    from optoffload.progressive.traces import scenario

    n, T = task["n_images"], task["period_s"]
    tr = scenario(task["scenario"], duration=n * T + 5, seed=task["trace_seed"])
    return simulate(task["codec"], tr, T, n, seed=task["size_seed"]).summary()


def _cell(rows, s, T, c, key):
    for r in rows:
        if r["scenario"] == s and r["period_s"] == T and r["codec"] == c:
            return r.get(key)
    return None


def _testbed_report(rows: list[dict], out: Path) -> str:
    codecs = [c for c in TESTBED_CODECS if any(r["codec"] == c for r in rows)]
    nonprog = [c for c in codecs if c.startswith(("webp", "fixed"))]
    lines = ["# pnc-testbed: PNC section VII-C (Figs. 6-8) in the deadline simulator", "",
             "Synthetic jamming traces (log-normal walks, `optoffload.progressive.traces.SCENARIOS`), "
             f"{rows[0]['n_images'] if rows else '?'} images per cell, top-5 accuracy from the shipped profiles.", ""]
    # acceptance: PNC >= every non-progressive codec of the paper's testbed (WebP) in every scenario and period
    webp_all = [c for c in nonprog if c.startswith("webp")]
    fixed = [c for c in nonprog if c.startswith("fixed")]

    def compare(cs):
        n, bad = 0, []
        for s in SCEN:
            for T in PERIODS:
                p = _cell(rows, s, T, "pnc", "accuracy")
                for c in cs:
                    v = _cell(rows, s, T, c, "accuracy")
                    if p is None or v is None:
                        continue
                    n += 1
                    if p < v:
                        bad.append((s, T, c, v, p))
        return n, bad

    checks, fails = compare(webp_all)
    nfix, beat = compare(fixed)
    lines.append(f"**PNC accuracy >= every non-progressive codec of the paper's testbed (WebP q0/10/20, method 6) in "
                 f"every scenario and period: {'YES' if not fails else 'NO'} ({checks - len(fails)}/{checks} "
                 "comparisons).**")
    lines += [f"- {s}/T={T}: {c} {v:.4f} > PNC {p:.4f}" for s, T, c, v, p in fails]
    lines += ["", f"Fixed-K autoencoders (not in the paper's testbed; Fig. 2 only): PNC >= fixed-K in "
              f"{nfix - len(beat)}/{nfix} cells."]
    if beat:
        worst = max(v - p for _, _, _, v, p in beat)
        lines += [f"- {s}/T={T}: {c} {v:.4f} > PNC {p:.4f}" for s, T, c, v, p in beat]
        lines.append(f"  Where the budget always covers a fixed-K AE's design size, it beats PNC by up to "
                     f"{100 * worst:.2f} pp: exactly PNC Fig. 2 (a fixed-rate AE is optimized for its size, e.g. "
                     "K=8 86.79 % vs PNC 86.46 %); PNC's advantage is robustness when the budget varies.")
    for key, title, fmt in (("accuracy", "Accuracy (Fig. 6)", "{:.3f}"),
                            ("fraction_complete", "Fraction of images fully offloaded (Fig. 7)", "{:.2f}"),
                            ("throughput_Bps", "Throughput during offloading, B/s (Fig. 8)", "{:.0f}")):
        lines += ["", f"## {title}", ""]
        tab = [{"scenario": s, "T_ms": int(T * 1000), **{c: _cell(rows, s, T, c, key) for c in codecs}}
               for s in SCEN for T in PERIODS]
        lines.append(markdown_table(tab, ["scenario", "T_ms", *codecs], fmt))

    def g(s, T, c, k="accuracy"):
        v = _cell(rows, s, T, c, k)
        return float("nan") if v is None else v

    webp = ("webp-m6-q0", "webp-m6-q10", "webp-m6-q20")
    best_700 = max(webp, key=lambda c: g("none", 0.7, c))
    best_300 = max(webp, key=lambda c: g("heavy", 0.3, c))
    q20 = g("heavy", 0.3, "webp-m6-q20", "fraction_complete")
    q0min = min(g(s, T, "webp-m6-q0", "fraction_complete") for s in SCEN for T in PERIODS)
    pj = sum(g(s, T, "pnc") >= g(s, T, "pjpeg-q30") for s in SCEN for T in PERIODS)
    claims = [
        ("PNC outperforms all baselines in every scenario (Fig. 6)",
         f"PNC >= WebP: {'yes' if not fails else 'no'} ({checks} cells x codecs); PNC >= pJPEG q30 in {pj}/9 cells",
         "Agrees. It follows from the profiles: the non-progressive codecs score chance whenever their file misses "
         "the deadline, and PNC's curve is within ~0.02 of each codec's full-reception accuracy at its size."),
        ("Best WebP at T=700 ms, no jamming: q20 (Fig. 6c)", f"best: {best_700}",
         "Same ordering: with ~8 KB per window every WebP fits and q20 is the most accurate."),
        ("Best WebP at T=300 ms, heavy jamming: q0 (Fig. 6a)", f"best: {best_300}", "Same ordering."),
        ("WebP q20 fully offloads only ~10 % at T=300 ms, heavy (Fig. 7a)",
         f"{100 * q20:.0f} %",
         "Close (within 3 pp)." if abs(q20 - 0.10) <= 0.03 else
         "Differs: our heavy-jamming trace is a calibrated stand-in for the jammer, not a measurement, and the "
         "share of its windows above ~3.3 KB decides this fraction."),
        ("WebP q0 fully offloads almost all images in all scenarios (Fig. 7)",
         f"min over cells {100 * q0min:.0f} %",
         "Agrees (>= 90 % everywhere)." if q0min >= 0.9 else
         "Our synthetic heavy jamming has deeper fades than the paper's link; q0 misses the deadline in them."),
        ("pJPEG ~ PNC only at T=700 ms, no jamming (Fig. 6c)",
         f"gap PNC - pJPEG: 700/none {g('none', 0.7, 'pnc') - g('none', 0.7, 'pjpeg-q30'):+.3f}, "
         f"300/heavy {g('heavy', 0.3, 'pnc') - g('heavy', 0.3, 'pjpeg-q30'):+.3f}",
         "Same trend: the gap shrinks as the budget grows."),
        ("WebP has low throughput (Fig. 8)",
         f"none/700: WebP q0 {g('none', 0.7, 'webp-m6-q0', 'throughput_Bps'):.0f} B/s vs PNC "
         f"{g('none', 0.7, 'pnc', 'throughput_Bps'):.0f} B/s",
         "Same: a small file leaves the link idle for the rest of the window."),
    ]
    lines += ["", "## Paper's statements (section VII-C) beside ours", "",
              "The paper gives Figs. 6-8 as plots without printed values; we compare its stated findings.", ""]
    lines.append(markdown_table([{"paper": a, "ours": b, "why / difference": c} for a, b, c in claims],
                                ["paper", "ours", "why / difference"]))
    lines += ["", "Not modelled: Starfish and RNN-TFLite in the testbed (no rate-accuracy numbers are published "
              "for Starfish; RNN encodes in 1.9 s > T). Our numbers differ from the paper's testbed because the "
              "bandwidth is synthetic and accuracies are expected values from the profiles, not 0/1 rewards of "
              "2,000 real images."]
    try:
        from optoffload import figures as F

        with F.style():
            fig, axes = F.figure(1, 3, width="text", height=2.4, sharey=True)
            for ax, s in zip(axes, SCEN):
                xs = np.arange(len(PERIODS))
                w = 0.8 / len(codecs)
                for k, c in enumerate(codecs):
                    ax.bar(xs + k * w, [g(s, T, c) for T in PERIODS], w, label=c, color=F.color(k))
                ax.set_xticks(xs + 0.4 - w / 2, [f"{int(T * 1000)}" for T in PERIODS])
                ax.set_xlabel("period T (ms)")
                ax.set_title(f"{s} jamming")
            axes[0].set_ylabel("top-5 accuracy (ours)")
            fig.legend(*axes[0].get_legend_handles_labels(), loc="outside right upper", frameon=False, fontsize=5.5)
            md = F.save(fig, out, "pnc_testbed", caption="PNC Figs. 6-8 setting, ours (expected accuracy from the "
                        "profiles over synthetic jamming traces).")
        lines += ["", md]
    except Exception as exc:  # pragma: no cover
        lines += ["", f"(plot failed: {exc})"]
    return "\n".join(lines)


# ------------------------------------------------------------- switching
SWITCH_CODECS = ("pnc", "pjpeg-q30", "webp-m6-q0", "webp-m6-q10", "webp-m6-q20", "fixed-k4")


def _switch_tasks(quick: bool) -> list[dict]:
    n = 200 if quick else 1200
    out = [{"id": f"sw-{c}", "kind": "fig10", "codec": c, "period_s": 0.5, "n_images": n, "trace_seed": 0,
            "size_seed": 1} for c in SWITCH_CODECS]
    out.append({"id": "sw-fig9-stream", "kind": "fig9", "codec": "pnc", "period_s": 0.5, "n_images": 60,
                "trace_seed": 0, "size_seed": 3})
    return out


def _switch_run(task: dict):
    from optoffload.progressive.simulator import simulate, simulate_stream
    from optoffload.progressive.traces import scenario

    n, T = task["n_images"], task["period_s"]
    if task["kind"] == "fig10":
        tr = scenario("switching", duration=n * T + 5, seed=task["trace_seed"])
        return simulate(task["codec"], tr, T, n, seed=task["size_seed"]).summary()
    from optoffload.progressive.codec import default_codec, synthetic_corpus
    from optoffload.progressive.profiles import get_profile

    tr = scenario("decreasing", duration=n * T + 5, seed=task["trace_seed"])
    imgs = synthetic_corpus(n, seed=task["size_seed"])
    r = simulate_stream(default_codec(), imgs, tr, T, get_profile("pnc").accuracy)
    return [{"image": i, "budget_B": float(r["budget"][i]), "features": int(r["features"][i]),
             "payload_B": int(r["payload"][i]), "accuracy": float(r["accuracy"][i])} for i in range(n)]


def _switch_report(rows: list[dict], out: Path) -> str:
    f10 = [r for r in rows if r.get("kind") == "fig10"]
    f9 = sorted((r for r in rows if r.get("kind") == "fig9"), key=lambda r: r["image"])
    lines = ["# pnc-switching: changing scenarios (PNC section VII-D)", "",
             "## Fig. 10: no / heavy jamming alternating every 10 s, T = 500 ms", ""]
    f10.sort(key=lambda r: -r["accuracy"])
    lines.append(markdown_table(f10, ["codec", "accuracy", "fraction_complete", "throughput_Bps", "mean_levels"],
                                "{:.3f}"))
    order = [r["codec"] for r in f10]
    lines += ["", f"Ranking by accuracy: {' > '.join(order)}.", "",
              "Paper (Fig. 10, stated in VII-D): PNC best, then Starfish, then progressive JPEG; WebP worst. "
              "Ours: " + ("PNC best" if order and order[0] == "pnc" else "PNC NOT best") +
              (", pJPEG above every WebP" if all(order.index("pjpeg-q30") < order.index(c) for c in order
                                                  if c.startswith("webp")) else "") +
              ". Starfish is not modelled (no published rate-accuracy points)."]
    if f9:
        third = len(f9) // 3
        lines += ["", "## Fig. 9: 60 images through the real codec, none -> light -> heavy jamming (10 s each)", "",
                  "Synthetic feature maps (our codec's tables; about 0.37 KB per feature, PNC's are ~0.5 KB).", ""]
        seg = []
        for k, name in enumerate(("none", "light", "heavy")):
            part = f9[k * 20:(k + 1) * 20] if len(f9) >= 60 else f9[k * third:(k + 1) * third]
            if part:
                seg.append({"segment": name, "mean_features": np.mean([r["features"] for r in part]),
                            "mean_payload_B": np.mean([r["payload_B"] for r in part]),
                            "mean_accuracy": np.mean([r["accuracy"] for r in part])})
        lines.append(markdown_table(seg, ["segment", "mean_features", "mean_payload_B", "mean_accuracy"], "{:.2f}"))
        dec = all(a["mean_features"] >= b["mean_features"] for a, b in zip(seg, seg[1:]))
        lines += ["", "Paper (Fig. 9): as interference increases, the throughput, the data size and the number of "
                  "features offloaded drop. Ours: " + ("the same decrease per segment." if dec else
                                                        "NOT monotone over the segments (trace variability).")]
        try:
            from optoffload import figures as F

            with F.style():
                fig, ax = F.figure(width="text", height=2.2)
                ax.bar([r["image"] for r in f9], [r["payload_B"] / 1000 for r in f9], color="0.6")
                for r in f9:
                    ax.text(r["image"], r["payload_B"] / 1000 + 0.05, str(r["features"]), ha="center", fontsize=5)
                ax.set_xlabel("image index")
                ax.set_ylabel("whole features received (kB)")
                ax.set_title("PNC Fig. 9 (ours): data received per image; label: features")
                md = F.save(fig, out, "pnc_fig9", caption="Real codec end to end over the switching trace.",
                            n=f"{len(f9)} images")
            lines += ["", md]
        except Exception as exc:  # pragma: no cover
            lines += ["", f"(plot failed: {exc})"]
    return "\n".join(lines)


# ----------------------------------------------------------------- codec
PAPER_MS = 2.0


def _codec_tasks(quick: bool) -> list[dict]:
    reps = 50 if quick else 500
    return [{"id": f"codec-{impl}", "impl": impl, "images": 20, "repeats": reps, "seed": 5}
            for impl in ("numpy-canonical", "python-canonical", "dahuffman")]


def _python_encode(codec, q):
    """Per-symbol pure-Python canonical Huffman (same codes): the straightforward implementation."""
    out = []
    for j in range(q.shape[2]):
        t = codec.tables[j]
        codes, lens = t.codes.tolist(), t.lengths.tolist()
        acc, nbits = 0, 0
        for s in q[:, :, j].ravel().tolist():
            acc = (acc << lens[s]) | codes[s]
            nbits += lens[s]
        pad = -nbits % 8
        out.append((acc << pad).to_bytes((nbits + pad) // 8, "big"))
    return out


def _codec_run(task: dict) -> dict:
    from optoffload.progressive.codec import default_codec, quantize, synthetic_corpus

    codec = default_codec()
    imgs = synthetic_corpus(task["images"], seed=task["seed"])
    if task["impl"] == "numpy-canonical":
        fn = codec.encode_image
    elif task["impl"] == "python-canonical":
        def fn(x):
            return _python_encode(codec, quantize(x))
    else:
        try:
            from dahuffman import HuffmanCodec
        except ImportError:
            return {"skipped": "dahuffman not installed (optional; not a dependency)"}
        train = quantize(synthetic_corpus(200, seed=0))
        tabs = [HuffmanCodec.from_data(np.concatenate([train[..., j].ravel(), np.arange(64)]).tolist())
                for j in range(train.shape[3])]

        def fn(x):
            q = quantize(x)
            return [tabs[j].encode(q[:, :, j].ravel().tolist()) for j in range(q.shape[2])]
    # check once that the numpy and python encoders agree bit for bit
    if task["impl"] != "dahuffman":
        assert codec.encode_image(imgs[0]) == _python_encode(codec, quantize(imgs[0]))
    reps = task["repeats"] if task["impl"] == "numpy-canonical" else max(5, task["repeats"] // 20)
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for r in range(reps):
            fn(imgs[r % len(imgs)])
        best = min(best, (time.perf_counter() - t0) / reps)
    size = float(np.mean([sum(map(len, fn(x))) for x in imgs]))
    return {"us_per_image": best * 1e6, "bytes_per_image": size, "paper_ms_rpi4": PAPER_MS,
            "ratio_paper_over_ours": PAPER_MS * 1e3 / (best * 1e6), "timed_images": reps}


def _codec_report(rows: list[dict], out: Path) -> str:
    import platform

    ok = [r for r in rows if "us_per_image" in r]
    base = next((r["us_per_image"] for r in ok if r["impl"] == "numpy-canonical"), None)
    for r in ok:
        r["x_slower_than_numpy"] = r["us_per_image"] / base if base else None
    lines = ["# pnc-codec: quantization + per-feature Huffman encoding of one 32x32x10 feature map", "",
             f"Machine: {platform.machine()} / {platform.processor() or platform.platform()}; best of 3 timing "
             "loops; synthetic feature maps (seeded).", ""]
    lines.append(markdown_table(ok, ["impl", "us_per_image", "bytes_per_image", "x_slower_than_numpy",
                                     "paper_ms_rpi4", "ratio_paper_over_ours"], "{:.3g}"))
    for r in rows:
        if "skipped" in r:
            lines.append(f"\n- {r['impl']}: skipped ({r['skipped']})")
    lines += ["", "Paper (section VII-B): feature quantization + Huffman encoding take 2.0 ms per image on a "
              "Raspberry Pi 4 (Cortex-A72 @ 1.5 GHz) with dahuffman. Our figure is on this machine, not on a Pi; "
              "the ratio to the paper therefore mixes hardware and implementation. The same-run ratio to the "
              "per-symbol Python encoder (the loop dahuffman-style coders run) isolates the implementation."]
    return "\n".join(lines)


SUITES = {
    "pnc-fig2": Suite("pnc-fig2", "PNC Fig. 2: progressive vs fixed-rate AEs under byte caps",
                      _fig2_tasks, _fig2_run, _fig2_report),
    "pnc-testbed": Suite("pnc-testbed", "PNC Figs. 6-8: T x jamming scenario, accuracy/completion/throughput",
                         _testbed_tasks, _testbed_run, _testbed_report),
    "pnc-switching": Suite("pnc-switching", "PNC Figs. 9-10: switching bandwidth scenarios",
                           _switch_tasks, _switch_run, _switch_report),
    "pnc-codec": Suite("pnc-codec", "PNC codec speed: 6-bit quantization + per-feature Huffman per image",
                       _codec_tasks, _codec_run, _codec_report),
}
