"""Tables and pictures of a PicSys plan, from the simulator's own event times.

:func:`frame` is the family's ``frame`` hook (one row per image; columns in :data:`FRAME_COLUMNS`),
:func:`plot` its ``plot`` hook (a Gantt chart of every device's CPU and uplink and of the cloud
servers, outcomes coloured). Both replay the decisions through
:func:`optoffload.picsys.simulator.schedule`, the same recursions as ``verify`` (paper section 5.1,
eq. 9 for the CPU queue).
"""

from __future__ import annotations

import math
from typing import Any

from .model import OUTCOMES, SKIP

FRAME_COLUMNS: dict[str, str] = {
    "device": "device index m (0-based)",
    "image": "position i in the device's queue (0-based)",
    "outcome": "i-off, f-off, f-disc, s-up, s-disc or skip (paper x1..x5, section 5.1.2)",
    "size_B": "image size B in bytes",
    "cpu_start_s": "start of the image's CPU work t_i (eq. 9); NaN if none (i-off, skip)",
    "cpu_end_s": "end of its CPU work (scaling + CNNs)",
    "up_start_s": "start of its upload on the device's FIFO uplink; NaN if not uploaded",
    "up_end_s": "end of its upload (8 B / r seconds later)",
    "server": "cloud server index, -1 if the image never reaches the cloud",
    "cloud_start_s": "start of its cloud processing; NaN if none",
    "cloud_end_s": "end of its cloud processing (c_u later)",
    "completion_s": "completion time (cloud end, upload end or CPU end by outcome; NaN if skipped)",
    "energy_pct": "energy used by the image, % of battery (eq. 16; 0 without energy data)",
}

#: Colours of the outcomes in :func:`plot` (colour-blind safe Okabe-Ito palette).
COLORS = {"i-off": "#0072B2", "f-off": "#56B4E9", "f-disc": "#999999", "s-up": "#E69F00",
          "s-disc": "#D55E00", "skip": "#FFFFFF"}


def _f(x: Any) -> float:
    return float(x)


def frame(inst, decisions: Any) -> list[dict]:
    """One row per image with the columns of :data:`FRAME_COLUMNS`."""
    from .simulator import schedule

    sc = schedule(inst, decisions)
    names = OUTCOMES + (SKIP,)
    rows = []
    for m, dev in enumerate(inst.devices):
        for i in range(dev.n):
            rows.append({
                "device": m, "image": i, "outcome": names[int(sc.outcomes[m][i])], "size_B": _f(dev.size[i]),
                "cpu_start_s": _f(sc.cpu_start[m][i]), "cpu_end_s": _f(sc.cpu_end[m][i]),
                "up_start_s": _f(sc.up_start[m][i]), "up_end_s": _f(sc.up_end[m][i]),
                "server": int(sc.server[m][i]), "cloud_start_s": _f(sc.cloud_start[m][i]),
                "cloud_end_s": _f(sc.cloud_end[m][i]), "completion_s": _f(sc.completion[m][i]),
                "energy_pct": _f(sc.energy[m][i]),
            })
    return rows


def plot(inst, decisions: Any, ax=None, *, title: str | None = None):
    """Gantt chart: per device a CPU lane and an uplink lane, then one lane per cloud server.

    Every bar is an image's busy interval in the simulator's replay, coloured by outcome; a dashed
    line marks the makespan (eq. 1). Returns the matplotlib Figure.
    """
    from ..plot import new_axes
    from .simulator import schedule

    sc = schedule(inst, decisions)
    fig, ax = new_axes(ax, height=max(1.8, 0.2 * (2 * inst.n_devices + inst.servers) + 1.0))
    names = OUTCOMES + (SKIP,)
    lanes = []
    y = 0
    bars: dict[str, list] = {}

    def add(lane_y, start, end, code):
        for s, e, c in zip(start, end, code):
            if math.isnan(s):
                continue
            bars.setdefault(names[int(c)], []).append((lane_y, s, e - s))

    for m in range(inst.n_devices):
        add(y, sc.cpu_start[m], sc.cpu_end[m], sc.outcomes[m])
        lanes.append((y, f"dev {m} CPU"))
        y += 1
        add(y, sc.up_start[m], sc.up_end[m], sc.outcomes[m])
        lanes.append((y, f"dev {m} uplink"))
        y += 1
    for srv in range(inst.servers):
        for m in range(inst.n_devices):
            sel = sc.server[m] == srv
            add(y, sc.cloud_start[m][sel], sc.cloud_end[m][sel], sc.outcomes[m][sel])
        lanes.append((y, f"cloud {srv}" if inst.servers > 1 else "cloud"))
        y += 1
    for name in names:
        items = bars.get(name)
        if not items:
            continue
        # one broken_barh call per (lane, outcome): thousands of images stay one artist per lane
        by_lane: dict[int, list] = {}
        for ly, s, w in items:
            by_lane.setdefault(ly, []).append((s, w))
        for k, (ly, segs) in enumerate(sorted(by_lane.items())):
            ax.broken_barh(segs, (ly - 0.38, 0.76), facecolors=COLORS[name], edgecolors="black",
                           linewidth=0.2 if len(segs) < 200 else 0.0, label=name if k == 0 else None)
    ax.axvline(sc.makespan, color="black", linestyle="--", linewidth=0.8, label=f"makespan {sc.makespan:.3g} s")
    ax.set_yticks([ly for ly, _ in lanes], [lab for _, lab in lanes])
    ax.set_ylim(y - 0.5, -0.5)
    ax.set_xlim(0, max(sc.makespan, 1e-9) * 1.02)
    ax.set_xlabel("time (s)")
    ax.legend(ncol=7, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False, handlelength=1.2,
              columnspacing=1.0)
    ax.set_title(title or f"PicSys {inst.name}: {inst.n_images} images, {inst.n_devices} devices, "
                          f"{inst.servers} cloud server(s); bars = busy intervals in the simulator's replay", pad=14)
    return fig
