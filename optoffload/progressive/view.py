"""Tables and pictures of progressive-family decisions, from the deadline simulator.

:func:`frame` is the family's ``frame`` hook and :func:`plot` its ``plot`` hook. The unit of a
row depends on the instance's ``problem`` (columns in :data:`FRAME_COLUMNS`):

``config``    one row per image and trace: its transmission window ``[t_i + t_f, t_i + T + t_f]``,
              the bytes ``S_i`` the trace carries in it (PNC section IV, eq. 1), the data in whole
              64-byte blocks, the levels received and the accuracy (the replay of
              :func:`optoffload.progressive.simulator.simulate` that ``evaluate`` averages);
``airtime``   one row per device: its slots, bytes per image and weighted expected accuracy;
``ordering``  one row per chunk in sending order: cumulative bytes ``C_i``, ``P(S >= C_i)`` and
              the expected importance it contributes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

FRAME_COLUMNS: dict[str, dict[str, str]] = {
    "config": {
        "trace": "index of the weighted trace (0-based)",
        "image": "image index i (0-based)",
        "window_start_s": "t_i + t_f: start of the image's transmission window",
        "window_end_s": "t_i + T + t_f: its deadline (the next image is encoded)",
        "budget_B": "S_i: bytes the trace can carry in the window (eq. 1)",
        "data_B": "data bytes in the whole 64-byte blocks that arrive (63 per block)",
        "levels": "usable levels received (PNC: whole features)",
        "accuracy": "accuracy scored with the data received (eq. 2)",
        "complete": "True if the whole encoded image arrived",
    },
    "airtime": {
        "device": "device index d (0-based)",
        "name": "device name",
        "profile": "the device's codec profile",
        "slots": "airtime slots s_d given to the device",
        "bytes_per_image": "s_d / slots * link rate * deadline: bytes per image",
        "weighted_accuracy": "weight_d * E[acc_d] at those bytes (the objective's term)",
    },
    "ordering": {
        "position": "place in the sending order (0 = first)",
        "chunk": "chunk index i",
        "name": "chunk name",
        "bytes": "chunk size",
        "importance": "chunk importance",
        "cum_bytes": "C_i: bytes sent up to and including this chunk",
        "p_whole": "P(S >= C_i): probability that the chunk arrives whole",
        "expected_value": "importance * P(S >= C_i) (the objective's term)",
    },
}


def _config_runs(inst, decisions):
    from .simulator import simulate

    sp = inst.spec
    inst_eval(inst, decisions)
    prof = next(p for p in sp.candidates if p.name == decisions["config"])
    return prof, [(wt, simulate(prof, wt.trace, sp.period_s, sp.n_images, seed=sp.seed + k))
                  for k, wt in enumerate(sp.traces)]


def inst_eval(inst, decisions) -> float:
    """Validate the decisions the way ``verify`` does (raises InvalidInstance)."""
    from .model import evaluate

    return evaluate(inst, decisions)


def frame(inst, decisions: Any) -> list[dict]:
    """Rows of the problem's unit (see the module docstring) with :data:`FRAME_COLUMNS` columns."""
    inst_eval(inst, decisions)
    sp = inst.spec
    rows: list[dict] = []
    if inst.problem == "config":
        _, runs = _config_runs(inst, decisions)
        for k, (_, r) in enumerate(runs):
            for i in range(len(r.start)):
                rows.append({"trace": k, "image": i, "window_start_s": float(r.start[i]),
                             "window_end_s": float(r.end[i]), "budget_B": float(r.budget[i]),
                             "data_B": float(r.data[i]), "levels": int(r.levels[i]),
                             "accuracy": float(r.accuracy[i]), "complete": bool(r.complete[i])})
    elif inst.problem == "airtime":
        for d, (dev, s) in enumerate(zip(sp.devices, decisions["slots"])):
            rows.append({"device": d, "name": dev.name, "profile": dev.profile.name, "slots": int(s),
                         "bytes_per_image": float(sp.bytes_for(d, s)), "weighted_accuracy": float(sp.utility[d, s])})
    else:
        order = [int(x) for x in decisions["order"]]
        cum = np.cumsum(sp.sizes[order])
        surv = sp.survival(cum)
        for pos, (i, c, g) in enumerate(zip(order, cum, surv)):
            rows.append({"position": pos, "chunk": i, "name": sp.names[i], "bytes": float(sp.sizes[i]),
                         "importance": float(sp.importance[i]), "cum_bytes": float(c), "p_whole": float(g),
                         "expected_value": float(sp.importance[i] * g)})
    return rows


def plot(inst, decisions: Any, ax=None, *, title: str | None = None, max_images: int = 40):
    """``config``: the bandwidth trace and, per image window, the bytes it could carry and the
    bytes the codec needed (first ``max_images`` windows of the first trace); ``airtime``: bytes and
    accuracy per device; ``ordering``: cumulative bytes of the order against the budget's
    distribution. Returns the Figure."""
    from ..plot import TEXT_WIDTH_IN, new_axes, pyplot

    value = inst_eval(inst, decisions)
    sp = inst.spec
    if inst.problem == "config":
        prof, runs = _config_runs(inst, decisions)
        wt, r = runs[0]
        n = min(max_images, len(r.start))
        fig, ax = new_axes(ax, width=TEXT_WIDTH_IN, height=2.8)
        t_end = float(r.end[n - 1])
        tt = np.asarray(wt.trace.times)
        grid = np.unique(np.concatenate([tt[tt < t_end], np.linspace(0, t_end, 400)]))
        rate = wt.trace.rate_at(grid) / 1000.0
        ax.step(grid, rate, where="post", color="black", linewidth=0.8, label="trace rate (kB/s)")
        ax.set_xlabel("time (s)")
        ax.set_ylabel("link rate (kB/s)")
        ax.set_ylim(0, max(rate.max(), 1e-9) * 1.15)
        ax2 = ax.twinx()
        mid = (r.start[:n] + r.end[:n]) / 2
        width = (r.end[:n] - r.start[:n]) * 0.9
        ok = r.complete[:n]
        ax2.bar(mid, r.budget[:n] / 1000.0, width=width, color=np.where(ok, "#009E73", "#D55E00"), alpha=0.45,
                label="window budget S_i (kB)")
        ax2.bar(mid, r.wire[:n] / 1000.0, width=width * 0.5, color="#0072B2", alpha=0.9, label="bytes sent (kB)")
        ax2.set_ylabel("bytes per window (kB)")
        from matplotlib.patches import Patch

        h1, l1 = ax.get_legend_handles_labels()
        extra = [Patch(color="#009E73", alpha=0.45, label="budget, image complete"),
                 Patch(color="#D55E00", alpha=0.45, label="budget, image truncated"),
                 Patch(color="#0072B2", label="bytes sent")]
        ax.legend(handles=h1 + extra, fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=4,
                  frameon=False)
        ax.set_zorder(ax2.get_zorder() + 1)
        ax.patch.set_visible(False)
        ax.set_title(title or f"progressive {inst.name}: codec {prof.name}, period {sp.period_s:g} s, first {n} of "
                     f"{sp.n_images} images of trace 0; mean accuracy (all traces) {value:.3f}", fontsize=7)
        return fig
    fig, ax = new_axes(ax, width=TEXT_WIDTH_IN / 2 if inst.problem == "airtime" else TEXT_WIDTH_IN, height=2.6)
    if inst.problem == "airtime":
        s = [int(x) for x in decisions["slots"]]
        y = np.arange(len(sp.devices))
        ax.barh(y, s, color="#0072B2")
        for d, x in enumerate(s):
            ax.text(x, d, f" {x} ({float(sp.utility[d, x]):.3f})", va="center", fontsize=6)
        ax.set_yticks(y, [dev.name for dev in sp.devices], fontsize=7)
        ax.set_ylim(len(s) - 0.5, -0.5)
        ax.set_xlim(0, max(max(s), 1) * 1.45)
        ax.set_xlabel(f"airtime slots (of {sp.slots}); label: weighted E[accuracy]")
        ax.set_title(title or f"progressive {inst.name}: objective {value:.4f}", fontsize=8)
        return fig
    order = [int(x) for x in decisions["order"]]
    cum = np.concatenate([[0.0], np.cumsum(sp.sizes[order])])
    surv = sp.survival(cum[1:])
    imp = sp.importance[order]
    cmap = pyplot().get_cmap("viridis")
    for k, i in enumerate(order):
        ax.bar(cum[k] / 1000.0, imp[k], width=sp.sizes[i] / 1000.0, align="edge", color=cmap(surv[k]),
               edgecolor="black", linewidth=0.3)
        ax.text((cum[k] + cum[k + 1]) / 2000.0, imp[k], f" {sp.names[i]}", rotation=90, fontsize=5, ha="center",
                va="bottom")
    ax.set_xlabel("bytes sent (kB); chunk i occupies [C_(i-1), C_i] in sending order")
    ax.set_ylabel("chunk importance")
    ax.set_ylim(0, float(imp.max()) * 1.9)
    ax2 = ax.twinx()
    grid = np.linspace(0, max(cum[-1], float(sp.budget_values.max())) * 1.02, 600)
    ax2.plot(grid / 1000.0, sp.survival(grid), color="#D55E00", linewidth=1.0, label="P(budget S >= c)")
    ax2.set_ylim(0, 1.05)
    ax2.set_ylabel("P(S >= c)")
    sm = pyplot().cm.ScalarMappable(cmap=cmap, norm=pyplot().Normalize(0, 1))
    fig.colorbar(sm, ax=ax2, pad=0.01, label="P(chunk arrives whole)", fraction=0.04)
    ax2.legend(loc="upper right", frameon=False)
    ax.set_title(title or f"progressive {inst.name}: expected importance {value:.4f}", fontsize=8)
    return fig
