"""Tables and pictures of an ERDS plan (splits and shares), from the family's own evaluator.

:func:`frame` is the family's ``frame`` hook (one row per task, columns in :data:`FRAME_COLUMNS`);
:func:`plot` its ``plot`` hook: where each task's DNN is cut, its edge share, and its execution
time ``T_u(s_u, k, w_u) = A[u, s_u, k] / w_u + B[u, s_u, k]`` at every exit ``k`` (erds.md 2.1)
with the exit probabilities, next to the objective E[max_u T_u] of eq. (7).
"""

from __future__ import annotations

from typing import Any

import numpy as np

FRAME_COLUMNS: dict[str, str] = {
    "task": "task (sub-DT) index u (0-based)",
    "split": "split s_u in 0..K: blocks 0..s_u run on the edge, the rest in the cloud (s_u = K: edge only)",
    "share": "edge share w_u",
    "p_edge_exit": "probability that the task leaves at an exit k <= s_u, i.e. on the edge",
    "expected_time_s": "E[T_u(s_u, X_u, w_u)] of this task alone",
    "worst_time_s": "largest T_u over the exits with positive probability",
    "p_bottleneck": "probability that this task is the slowest (sets max_u T_u), exact (eq. 7)",
}


def _tables(inst, decisions):
    from .evaluate import exit_matrix, expected_max_sel, task_times

    s, w, ev, ee = inst.check_decisions(decisions)
    T = task_times(inst, s, w)
    P = exit_matrix(inst, ee)
    value, sel = expected_max_sel(T, P)
    return s, w, T, P, sel, value, ev


def frame(inst, decisions: Any) -> list[dict]:
    """One row per task with the columns of :data:`FRAME_COLUMNS`."""
    s, w, T, P, sel, _, _ = _tables(inst, decisions)
    K = inst.K
    rows = []
    for u in range(inst.U):
        on_edge = np.arange(1, K + 1) <= s[u]
        rows.append({
            "task": u, "split": int(s[u]), "share": float(w[u]), "p_edge_exit": float(P[u][on_edge].sum()),
            "expected_time_s": float(np.dot(P[u], T[u])), "worst_time_s": float(T[u][P[u] > 0].max()),
            "p_bottleneck": float(sel[u].sum()),
        })
    return rows


def plot(inst, decisions: Any, ax=None, *, title: str | None = None):
    """Split diagram: one row per task, blocks 0..K as cells (edge or cloud), the share as a bar,
    and the task's time at every exit (marker area ~ exit probability). Returns the Figure."""
    from ..plot import TEXT_WIDTH_IN, pyplot

    s, w, T, P, sel, value, ev = _tables(inst, decisions)
    U, K = inst.U, inst.K
    if ax is not None:
        fig = ax.figure
        axes = [ax]
    else:
        plt = pyplot()
        fig, axes = plt.subplots(1, 3, figsize=(TEXT_WIDTH_IN, 0.3 * U + 1.5), layout="constrained",
                                 gridspec_kw={"width_ratios": [K + 1, 2, 4]}, sharey=True)
    a = axes[0]
    for u in range(U):
        for b in range(K + 1):
            edge = b <= s[u]
            a.add_patch(pyplot().Rectangle((b - 0.5, u - 0.4), 1, 0.8, facecolor="#E69F00" if edge else "#56B4E9",
                                           edgecolor="black", linewidth=0.4))
        a.axvline(s[u] + 0.5, ymin=0, ymax=1, color="none")
        a.plot([s[u] + 0.5] * 2, [u - 0.5, u + 0.5], color="black", linewidth=1.6)
    a.set_xlim(-0.5, K + 0.5)
    a.set_ylim(U - 0.5, -0.5)
    a.set_xticks(range(K + 1), ["stem"] + [str(k) for k in range(1, K + 1)], fontsize=6)
    a.set_yticks(range(U), [f"task {u}" for u in range(U)])
    a.set_xlabel("DNN block (exit k follows block k)")
    from matplotlib.patches import Patch

    a.legend(handles=[Patch(facecolor="#E69F00", label="edge"), Patch(facecolor="#56B4E9", label="cloud")],
             fontsize=6, loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2, frameon=False)
    if len(axes) == 1:
        a.set_title(title or f"ERDS {inst.name}: E[max T] = {value:.4g} s", fontsize=8)
        return fig
    b_ax, t_ax = axes[1], axes[2]
    b_ax.barh(range(U), w, color="#009E73", height=0.6)
    for u in range(U):
        b_ax.text(w[u], u, f" {w[u]:.3f}", va="center", fontsize=6)
    b_ax.set_xlim(0, max(inst.share_max, float(w.max())) * 1.6)
    b_ax.set_xlabel("edge share $w_u$")
    for u in range(U):
        ks = np.arange(1, K + 1)
        mask = P[u] > 0
        t_ax.plot(T[u][mask], np.full(mask.sum(), u), color="0.6", linewidth=0.6, zorder=1)
        t_ax.scatter(T[u][mask], np.full(mask.sum(), u), s=8 + 120 * P[u][mask],
                     c=np.where(ks[mask] <= s[u], "#E69F00", "#56B4E9"), edgecolors="black", linewidths=0.3, zorder=2)
        for k, t in zip(ks[mask], T[u][mask]):
            t_ax.annotate(str(k), (t, u), textcoords="offset points", xytext=(0, 6), fontsize=5, ha="center")
    t_ax.axvline(value, color="black", linestyle="--", linewidth=0.8)
    t_ax.text(value, U - 0.55, f" E[max] {value:.3g} s", fontsize=6, va="bottom")
    t_ax.set_xlabel("$T_u$ at exit k (s)")
    t_ax.set_title("marker area ~ P(exit k); label: k", fontsize=6)
    note = "" if ev == "exact" else " (exact; the objective used the sampled evaluator)"
    fig.suptitle(title or f"ERDS {inst.name}: U={U} tasks, K={K} exits, E[max_u T_u] = {value:.4g} s{note}")
    return fig
