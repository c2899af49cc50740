"""The paper's data (erds.md sections 1.2, 1.3 and 5.1) and its scenario sweeps.

Everything here is transcribed from erds.md (which took it from the authors' code):
block loads ``base`` and transmission tables ``TR`` of the three tasks (1.3), the ResNet and
DenseNet exit probabilities and the first 30 entries of the re-sampled exit sequence (1.2),
and the scenario multipliers of ``run.py`` (5.1).
"""

from __future__ import annotations

from .model import ErdsInstance

BASE = ((1, 2, 4, 6, 8, 10), (2, 4, 6, 8, 10, 12), (3, 5, 7, 9, 11, 13))
"""base_{u,b}: compute load of block b = 0..5 of task u = 1..3 (erds.md 1.3)."""

TR = ((40, 13, 8, 6, 4, 2), (55, 18, 9, 7, 5, 3), (70, 23, 16, 8, 6, 4))
"""TR_{u,b}: transmission time of block b's output (erds.md 1.3)."""

PI_RESNET = (0.1618, 0.3854, 0.1834, 0.0713, 0.1981)
"""Exit probabilities of the ResNet DDNN on the CIFAR-10 test set (erds.md 1.2)."""

PI_DENSENET = (0.4778, 0.2749, 0.1153, 0.0420, 0.0900)
"""Exit probabilities of DDNN_DenseNet (supplementary material; erds.md 1.2)."""

EXIT_SEQUENCE = (2, 4, 5, 2, 2, 3, 2, 5, 5, 2, 2, 2, 2, 2, 2, 2, 3, 3, 1, 2,
                 5, 5, 1, 5, 2, 5, 2, 5, 2, 3)
"""First 30 entries of ``exit_place_final_2.pkl``: the paper's sampled evaluator uses
``seq[r*U]`` for round r = 0..9 (erds.md 3.4, 5.4)."""

SCENARIOS = {
    "original": ("none", (None,)),
    "dynamic_tr": ("tr_factor", (0.5, 1.0, 1.5, 2.0, 3.0)),
    "dynamic_cloud": ("cloud_factor", (1.5, 1.0, 2 / 3, 0.5, 1 / 3)),
    "dynamic_edge": ("edge_factor", (3.0, 2.0, 4 / 3, 1.0, "cloud")),
}
"""Scenario -> (varied parameter, values for levels 0..4) (erds.md 5.1). Edge level 4 ("Cloud")
is nu_E = 1 with w_u = 1 for every task (no sharing)."""

LEVEL_LABELS = {
    "original": ("1x",),
    "dynamic_tr": ("0.5x", "1x", "1.5x", "2x", "3x"),
    "dynamic_cloud": ("2/3x", "1x", "1.5x", "2x", "3x"),
    "dynamic_edge": ("2/3x", "1x", "1.5x", "2x", "Cloud"),
}


def paper_instance(U: int = 3, scenario: str = "original", level: int = 0, *, model: str = "resnet",
                   name: str | None = None) -> ErdsInstance:
    """The instance of ``run.py --scenario S --scenario2 L --digital_twin U`` (erds.md 5.1).

    ``model``: ``"resnet"`` (main text) or ``"densenet"`` (supplementary material; no exit
    sequence is known for it, so it has no sampled evaluator).
    """
    if U not in (1, 2, 3):
        raise ValueError("the paper defines tasks 1..3 only (erds.md 6.7)")
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}")
    param, values = SCENARIOS[scenario]
    level = 0 if scenario == "original" else level
    kw: dict = {"edge_factor": 2.0, "cloud_factor": 1.0, "tr_factor": 1.0, "capacity": 1.0, "w_min": 0.1}
    v = values[level]
    if v == "cloud":
        kw.update(edge_factor=1.0, capacity=float(U), w_min=1.0, w_max=1.0)
    elif param != "none":
        kw[param] = float(v)
    pi = PI_RESNET if model == "resnet" else PI_DENSENET
    seq = list(EXIT_SEQUENCE) if model == "resnet" else None
    if name is None:
        name = f"paper-u{U}" + ("" if model == "resnet" else "-densenet")
        if scenario != "original":
            name += f"-{scenario}-{level}"
    desc = (f"Kim & Lee ERDS paper setup: tasks 1..{U} of erds.md 1.3, {model} exit statistics, "
            f"scenario {scenario} level {level} ({LEVEL_LABELS[scenario][level]})")
    return ErdsInstance.build(
        name=name, loads=[list(b) for b in BASE[:U]], transmission=[list(t) for t in TR[:U]],
        exit_probs=list(pi), exit_sequence=seq, sample_rounds=10, sample_mode="shared", description=desc,
        meta={"source": "erds.md 1.2-1.3, 5.1", "scenario": scenario, "level": level, "model": model}, **kw)
