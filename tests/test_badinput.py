"""Bad-input corpus (issue #14, items 5-8): every case exits 2 with one stderr line naming the field.

Each case is an instance file, a solution file, a method option or a CLI argument. Expected
values are by construction: every case breaks exactly one documented rule of
docs/validation.md, and ``field`` is the name that rule's message must carry. The cases run in
``tests/badinput/driver.py``: one interpreter imports optoffload once and forks a separate child
process per case (its own exit status and stderr). Cases marked ``mem`` run under an
address-space limit of the parent's size + ``MEM_MB`` MiB (``RLIMIT_AS``), so an input that
allocates before it is rejected (a 1.7 KB file with ``count: 1e9`` once took 15.6 GB) dies with
exit 1 instead of passing.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "optoffload" / "data"
DRIVER = Path(__file__).resolve().parent / "badinput" / "driver.py"
MEM_MB = 512
"""Extra address space a memory case may use beyond the already-loaded interpreter (MiB)."""


def _load(rel: str) -> dict:
    return json.loads((DATA / rel).read_text(encoding="utf-8"))


def _set(d: dict, path: str, value) -> dict:
    """A deep copy of ``d`` with ``path`` (dots; integers index lists) set to ``value``."""
    d = copy.deepcopy(d)
    keys = [int(k) if k.isdigit() else k for k in path.split(".")]
    cur = d
    for k in keys[:-1]:
        cur = cur[k]
    cur[keys[-1]] = value
    return d


def _drop(d: dict, path: str) -> dict:
    d = copy.deepcopy(d)
    keys = [int(k) if k.isdigit() else k for k in path.split(".")]
    cur = d
    for k in keys[:-1]:
        cur = cur[k]
    del cur[keys[-1]]
    return d


RAW = "raw:"  # a file given as raw text (for duplicate keys, huge literals, bad bytes)

# ------------------------------------------------------------------------------------ picsys
PB = {"format": 1, "family": "picsys", "name": "b", "cloud": {"servers": 1, "c_u": 0.05},
      "devices": [{"rate": 8e6, "alpha": 0.2, "beta": 0.4,
                   "images": {"count": 3, "size": 800000, "c_s": 0.1, "hit": "010"}}]}
PE = _set(PB, "devices.0.energy", {"budget": 1.0, "e_s": 0.1, "e_t": 0.1, "e_alpha": 0.1, "e_beta": 0.1})
T2 = _load("picsys/table2.json")
DEEP = "[" * 5000 + "]" * 5000


def _pb_text(replace_from: str, replace_to: str) -> str:
    text = json.dumps(PB)
    assert replace_from in text
    return RAW + text.replace(replace_from, replace_to, 1)


def _sol(decisions, **kw) -> dict:
    return {"status": "feasible", "objective": 1.0, "decisions": decisions, **kw}


T2_N = [len(dev["images"]["hit"]) if isinstance(dev["images"].get("hit"), (str, list)) else dev["images"]["count"]
        for dev in T2["devices"]]
ALL_SKIP = {"mode": "max-processed", "outcomes": [["skip"] * n for n in T2_N]}
ALL_IOFF = {"outcomes": [["i-off"] * n for n in T2_N]}

PICSYS = [
    # (id, files {name: content}, argv, field, mem)
    ("devices-empty", {"i.json": _set(PB, "devices", [])}, ["solve", "{i.json}", "--method", "greedy"], "devices"),
    ("c_u-string", {"i.json": _set(PB, "cloud.c_u", "fast")}, ["solve", "{i.json}", "--method", "greedy"],
     "cloud.c_u"),
    ("c_u-1e308", {"i.json": _set(PB, "cloud.c_u", 1e308)}, ["solve", "{i.json}", "--method", "cpsat"], "cloud.c_u"),
    ("c_u-negative", {"i.json": _set(PB, "cloud.c_u", -1)}, ["solve", "{i.json}", "--method", "greedy"],
     "cloud.c_u"),
    ("c_u-zero", {"i.json": _set(PB, "cloud.c_u", 0)}, ["solve", "{i.json}", "--method", "pulp"], "cloud.c_u"),
    ("servers-10**30", {"i.json": _pb_text('"servers": 1', '"servers": ' + "1" + "0" * 30)},
     ["solve", "{i.json}", "--method", "cpsat"], "cloud.servers"),
    ("servers-zero", {"i.json": _set(PB, "cloud.servers", 0)}, ["solve", "{i.json}", "--method", "greedy"],
     "cloud.servers"),
    ("servers-fraction", {"i.json": _set(PB, "cloud.servers", 1.5)}, ["solve", "{i.json}", "--method", "greedy"],
     "cloud.servers"),
    ("alpha-1e308", {"i.json": _set(PB, "devices.0.alpha", 1e308)}, ["solve", "{i.json}", "--method", "pulp"],
     "devices[0].alpha"),
    ("rate-zero", {"i.json": _set(PB, "devices.0.rate", 0)}, ["solve", "{i.json}", "--method", "greedy"],
     "devices[0].rate"),
    ("rate-unknown-unit", {"i.json": _set(PB, "devices.0.rate", "20 furlongs/s")},
     ["solve", "{i.json}", "--method", "greedy"], "devices[0].rate"),
    ("rate-ambiguous-unit", {"i.json": _set(PB, "devices.0.rate", "20 Mb/s")},
     ["solve", "{i.json}", "--method", "greedy"], "devices[0].rate"),
    ("count-1e9", {"i.json": _set(PB, "devices.0.images.count", 1e9)}, ["solve", "{i.json}", "--method", "greedy"],
     "devices[0].images.count", True),
    ("count-negative", {"i.json": _set(PB, "devices.0.images.count", -1)},
     ["solve", "{i.json}", "--method", "greedy"], "devices[0].images.count"),
    ("size-length", {"i.json": _set(PB, "devices.0.images.size", [1e5, 1e5])},
     ["solve", "{i.json}", "--method", "greedy"], "devices[0].images.size"),
    ("hit-bad-char", {"i.json": _set(PB, "devices.0.images.hit", "01x")},
     ["solve", "{i.json}", "--method", "greedy"], "devices[0].images.hit"),
    ("z2-without-z1", {"i.json": _set(_set(PB, "devices.0.images.z1", "000"), "devices.0.images.z2", "010")},
     ["solve", "{i.json}", "--method", "greedy"], "devices[0].images.z2[1]"),
    ("duplicate-key", {"i.json": _pb_text('"rate": 8000000.0', '"rate": -5, "rate": 8000000.0')},
     ["solve", "{i.json}", "--method", "greedy"], "'rate' appears twice"),
    ("deep-nesting", {"i.json": RAW + '{"format": 1, "family": "picsys", "meta": ' + DEEP + "}"},
     ["solve", "{i.json}", "--method", "greedy"], "nested deeper"),
    ("int-10**400", {"i.json": _pb_text('"c_u": 0.05', '"c_u": 1' + "0" * 400)},
     ["solve", "{i.json}", "--method", "greedy"], "cloud.c_u"),
    ("float-1e400", {"i.json": _pb_text('"c_u": 0.05', '"c_u": 1e400')}, ["solve", "{i.json}", "--method", "greedy"],
     "cloud.c_u"),
    ("nan-literal", {"i.json": _pb_text('"c_u": 0.05', '"c_u": NaN')}, ["solve", "{i.json}", "--method", "greedy"],
     "cloud.c_u"),
    ("format-2", {"i.json": _set(PB, "format", 2)}, ["solve", "{i.json}", "--method", "greedy"], "format"),
    ("family-typo", {"i.json": _set(PB, "family", "picsis")}, ["solve", "{i.json}", "--method", "greedy"], "family"),
    ("unknown-field", {"i.json": _set(PB, "devices.0.rat", 1)}, ["solve", "{i.json}", "--method", "greedy"],
     "devices[0].rat"),
    ("enforce-energy-string", {"i.json": _set(PE, "enforce_energy", "yes")},
     ["solve", "{i.json}", "--method", "greedy"], "enforce_energy"),
    ("budget-negative", {"i.json": _set(PE, "devices.0.energy.budget", -1)},
     ["solve", "{i.json}", "--method", "greedy"], "devices[0].energy.budget"),
    ("e_t-1e300", {"i.json": _set(PE, "devices.0.energy.e_t", 1e300)}, ["solve", "{i.json}", "--method", "cpsat"],
     "devices[0].energy.e_t"),
    ("stages-4", {"i.json": _set(PB, "stages", 4)}, ["solve", "{i.json}", "--method", "greedy"], "stages"),
    ("not-json", {"i.json": RAW + "{not json"}, ["solve", "{i.json}", "--method", "greedy"], "instance"),
    ("top-level-array", {"i.json": [PB]}, ["solve", "{i.json}", "--method", "greedy"], "instance"),
    ("non-utf8-instance", {"i.json": b"\xff\xfe{}"}, ["solve", "{i.json}", "--method", "greedy"], "instance"),
    ("name-number", {"i.json": _set(PB, "name", 5)}, ["solve", "{i.json}", "--method", "greedy"], "name"),
    ("missing-file", {}, ["solve", "{dir}/nosuch.json", "--method", "greedy"], "instance"),
    # solutions (verify picsys/table2 SOLUTION)
    ("sol-array", {"s.json": [1]}, ["verify", "picsys/table2", "{s.json}"], "solution"),
    ("sol-bad-status", {"s.json": _sol(ALL_IOFF, status="great")}, ["verify", "picsys/table2", "{s.json}"],
     "solution.status"),
    ("sol-bad-bound", {"s.json": _sol(ALL_IOFF, bound="low")}, ["verify", "picsys/table2", "{s.json}"],
     "solution.bound"),
    ("sol-objective-string", {"s.json": _sol(ALL_IOFF, objective="1.75")}, ["verify", "picsys/table2", "{s.json}"],
     "solution.objective"),
    ("sol-non-utf8", {"s.json": b'{"status": "\xff"}'}, ["verify", "picsys/table2", "{s.json}"], "solution"),
    ("sol-no-decisions", {"s.json": {"status": "feasible", "objective": 1.0}}, ["verify", "picsys/table2", "{s.json}"],
     "solution.decisions"),
    ("sol-all-skip", {"s.json": _sol(ALL_SKIP, objective=0.0)}, ["verify", "picsys/table2", "{s.json}"],
     "decisions.mode"),
    ("sol-two-stage-as-three", {"s.json": _sol({**ALL_IOFF, "stages": 2}, instance="table2")},
     ["verify", "picsys/table2", "{s.json}"], "decisions.stages"),
    ("sol-wrong-family", {"s.json": _sol(ALL_IOFF, family="erds")}, ["verify", "picsys/table2", "{s.json}"],
     "solution.family"),
    ("sol-wrong-instance", {"s.json": _sol(ALL_IOFF, instance="testbed")}, ["verify", "picsys/table2", "{s.json}"],
     "solution.instance"),
    ("sol-unknown-outcome", {"s.json": _sol({"outcomes": [["teleport"] * n for n in T2_N]})},
     ["verify", "picsys/table2", "{s.json}"], "decisions.outcomes[0][0]"),
    ("sol-outcome-rows", {"s.json": _sol({"outcomes": [["i-off"]]})}, ["verify", "picsys/table2", "{s.json}"],
     "decisions.outcomes"),
    ("sol-unknown-key", {"s.json": _sol({**ALL_IOFF, "speed": "fast"})}, ["verify", "picsys/table2", "{s.json}"],
     "decisions.speed"),
    ("sol-bad-mode", {"s.json": _sol({**ALL_IOFF, "mode": "fastest"})}, ["verify", "picsys/table2", "{s.json}"],
     "decisions.mode"),
    # options and CLI arguments
    ("opt-search_evals", {}, ["solve", "picsys/table2", "--method", "look-ahead", "--option", "search_evals=-3"],
     "search_evals"),
    ("opt-scale", {}, ["solve", "picsys/table2", "--method", "cpsat", "--option", "scale=0"], "scale"),
    ("opt-enumerate_max", {}, ["solve", "picsys/table2", "--method", "look-ahead", "--option", "enumerate_max=1000"],
     "enumerate_max"),
    ("opt-prior", {}, ["solve", "picsys/table2", "--method", "time-heuristic", "--option", "prior=2"], "prior"),
    ("opt-unknown", {}, ["solve", "picsys/table2", "--method", "cpsat", "--option", "nosuch=1"], "nosuch"),
    ("opt-objective", {}, ["solve", "picsys/table2", "--method", "cpsat", "--option", "objective=fastest"],
     "objective"),
    ("seed-negative", {}, ["solve", "picsys/table2", "--method", "look-ahead", "--seed", "-1"], "seed"),
    ("seed-huge", {}, ["solve", "picsys/table2", "--method", "cpsat", "--seed", str(2**40)], "seed"),
    ("time-limit-negative", {}, ["solve", "picsys/table2", "--method", "cpsat", "--time-limit", "-1"], "time_limit"),
    ("compare-time-limit", {}, ["compare", "picsys/table2", "--methods", "greedy", "--time-limit", "-1"],
     "time_limit"),
    ("compare-time-limit-nan", {}, ["compare", "picsys/table2", "--time-limit", "nan"], "time_limit"),
    ("threads-zero", {}, ["solve", "picsys/table2", "--method", "cpsat", "--threads", "0"], "threads"),
    ("unknown-method", {}, ["solve", "picsys/table2", "--method", "nosuch"], "method"),
    ("gen-devices-zero", {}, ["generate", "picsys", "--devices", "0", "-o", "{dir}/g.json"], "devices"),
    ("gen-images-1e9", {}, ["generate", "picsys", "--images", "1000000000", "-o", "{dir}/g.json"], "images", True),
    ("gen-missing-dir", {}, ["generate", "picsys", "-o", "{dir}/no/such/g.json"], "output"),
    ("gen-seed-negative", {}, ["generate", "picsys", "--seed", "-5", "-o", "{dir}/g.json"], "seed"),
    ("gen-rate-huge", {}, ["generate", "picsys", "--rate", "1e300", "-o", "{dir}/g.json"], "rate"),
    ("bench-out-is-file", {"f.json": {}}, ["bench", "picsys-sim", "--quick", "--out", "{f.json}"], "out"),
    ("bench-workers-zero", {}, ["bench", "picsys-sim", "--quick", "--workers", "0", "--out", "{dir}/o"], "workers"),
    ("bench-unknown-suite", {}, ["bench", "nosuch"], "suite"),
    ("simulate-seed", {}, ["simulate", "picsys/table2", "--policy", "greedy", "--seed", "-2"], "seed"),
    ("threads-huge", {}, ["solve", "picsys/table2", "--method", "cpsat", "--threads", "100000"], "threads"),
    ("opt-cpsat-params-name", {}, ["solve", "picsys/table2", "--method", "cpsat", "--option", 'params={"bogus": 1}'],
     "params.bogus"),
    ("opt-cpsat-params-value", {}, ["solve", "picsys/table2", "--method", "cpsat", "--option",
                                    'params={"max_time_in_seconds": -1}'], "params"),
    ("opt-highs-option", {}, ["solve", "picsys/table2", "--method", "pyomo", "--option",
                              'solver_options={"mip_rel_gap": -1}'], "solver_options.mip_rel_gap"),
    ("opt-cbc-options", {}, ["solve", "picsys/table2", "--method", "pulp", "--option", "cbc_options=5"],
     "cbc_options"),
    ("opt-executable", {}, ["solve", "picsys/table2", "--method", "pyomo", "--option", "executable=/no/cbc"],
     "executable"),
    ("opt-lookahead-bound", {}, ["solve", "picsys/table2", "--method", "look-ahead", "--option", "bound=nope"],
     "bound"),
]

# -------------------------------------------------------------------------------------- erds
EB = _load("erds/paper-u1.json")
EB2 = _load("erds/paper-u2.json")
E_OK = {"splits": [0], "shares": [1.0]}


def _eb_text(key: str, literal: str) -> str:
    d = copy.deepcopy(EB)
    d[key] = "@@"
    return RAW + json.dumps(d).replace('"@@"', literal)


ERDS = [
    ("loads-empty", {"i.json": _set(EB, "loads", [])}, ["solve", "{i.json}", "--method", "erds-osa"], "loads"),
    ("loads-1e308", {"i.json": _set(EB, "loads.0.0", 1e308)}, ["solve", "{i.json}", "--method", "erds-exact"],
     "loads[0][0]"),
    ("loads-negative", {"i.json": _set(EB, "loads.0.1", -1)}, ["solve", "{i.json}", "--method", "erds-osa"],
     "loads[0][1]"),
    ("loads-ragged", {"i.json": _set(EB2, "loads.1", [1.0, 2.0])}, ["solve", "{i.json}", "--method", "erds-osa"],
     "loads[1]"),
    ("transmission-shape", {"i.json": _set(EB, "transmission", [[1.0, 2.0]])},
     ["solve", "{i.json}", "--method", "erds-osa"], "transmission[0]"),
    ("exit-probs-sum", {"i.json": _set(EB, "exit_probs", [0.1, 0.1, 0.1, 0.1, 0.1])},
     ["solve", "{i.json}", "--method", "erds-osa"], "exit_probs"),
    ("exit-probs-entry", {"i.json": _set(EB, "exit_probs", [2.0, -1.0, 0.0, 0.0, 0.0])},
     ["solve", "{i.json}", "--method", "erds-osa"], "exit_probs[0]"),
    ("edge-factor-zero", {"i.json": _set(EB, "edge_factor", 0)}, ["solve", "{i.json}", "--method", "erds-osa"],
     "edge_factor"),
    ("edge-factor-1e300", {"i.json": _set(EB, "edge_factor", 1e300)}, ["solve", "{i.json}", "--method", "erds-exact"],
     "edge_factor"),
    ("cloud-factor-string", {"i.json": _set(EB, "cloud_factor", "x")}, ["solve", "{i.json}", "--method", "erds-osa"],
     "cloud_factor"),
    ("capacity-negative", {"i.json": _set(EB, "capacity", -1)}, ["solve", "{i.json}", "--method", "erds-osa"],
     "capacity"),
    ("w_min-zero", {"i.json": _set(EB, "w_min", 0)}, ["solve", "{i.json}", "--method", "erds-osa"], "w_min"),
    ("w_min-over-capacity", {"i.json": _set(EB, "w_min", 2.0)}, ["solve", "{i.json}", "--method", "erds-osa"],
     "w_min"),
    ("w_max-below-w_min", {"i.json": _set(EB, "w_max", 0.05)}, ["solve", "{i.json}", "--method", "erds-osa"],
     "w_max"),
    ("sample-rounds-zero", {"i.json": _set(EB, "sample_rounds", 0)}, ["solve", "{i.json}", "--method", "erds-osa"],
     "sample_rounds"),
    ("sample-rounds-1e12", {"i.json": _set(EB, "sample_rounds", 10**12)},
     ["solve", "{i.json}", "--method", "erds-osa"], "sample_rounds", True),
    ("exit-sequence-entry", {"i.json": _set(EB, "exit_sequence.0", 99)}, ["solve", "{i.json}", "--method", "erds-osa"],
     "exit_sequence[0]"),
    ("exit-sequence-short", {"i.json": _set(EB, "exit_sequence", [1, 2])},
     ["solve", "{i.json}", "--method", "erds-osa"], "exit_sequence"),
    ("sample-mode", {"i.json": _set(EB, "sample_mode", "x")}, ["solve", "{i.json}", "--method", "erds-osa"],
     "sample_mode"),
    ("duplicate-key", {"i.json": RAW + json.dumps(EB).replace('"capacity": 1.0', '"capacity": -3, "capacity": 1.0')},
     ["solve", "{i.json}", "--method", "erds-osa"], "'capacity' appears twice"),
    ("int-10**400", {"i.json": _eb_text("tr_factor", "1" + "0" * 400)}, ["solve", "{i.json}", "--method", "erds-osa"],
     "tr_factor"),
    ("unknown-field", {"i.json": _set(EB, "foo", 1)}, ["solve", "{i.json}", "--method", "erds-osa"], "foo"),
    ("too-many-tasks", {"i.json": _set(_set(_set(_drop(EB, "exit_sequence"), "loads", [[1.0, 2.0]] * 1001),
                                            "transmission", [[1.0, 1.0]] * 1001), "exit_probs", [1.0])},
     ["solve", "{i.json}", "--method", "erds-osa"], "loads"),
    ("deep-nesting", {"i.json": RAW + '{"format": 1, "family": "erds", "loads": ' + DEEP + "}"},
     ["solve", "{i.json}", "--method", "erds-osa"], "nested deeper"),
    # solutions (verify erds/paper-u1)
    ("sol-split-range", {"s.json": _sol({"splits": [9], "shares": [1.0]})}, ["verify", "erds/paper-u1", "{s.json}"],
     "decisions.splits[0]"),
    ("sol-shares-capacity", {"s.json": _sol({"splits": [0], "shares": [1.5]})},
     ["verify", "erds/paper-u1", "{s.json}"], "decisions.shares[0]"),
    ("sol-share-below-min", {"s.json": _sol({"splits": [0], "shares": [0.01]})},
     ["verify", "erds/paper-u1", "{s.json}"], "decisions.shares[0]"),
    ("sol-evaluator", {"s.json": _sol({**E_OK, "evaluator": "magic"})}, ["verify", "erds/paper-u1", "{s.json}"],
     "decisions.evaluator"),
    ("sol-early-exit", {"s.json": _sol({**E_OK, "early_exit": "no"})}, ["verify", "erds/paper-u1", "{s.json}"],
     "decisions.early_exit"),
    ("sol-splits-length", {"s.json": _sol({"splits": [0, 0], "shares": [0.5, 0.5]})},
     ["verify", "erds/paper-u1", "{s.json}"], "decisions.splits"),
    ("sol-array", {"s.json": []}, ["verify", "erds/paper-u1", "{s.json}"], "solution"),
    ("sol-bad-status", {"s.json": _sol(E_OK, status="done")}, ["verify", "erds/paper-u1", "{s.json}"],
     "solution.status"),
    ("sol-wrong-family", {"s.json": _sol(E_OK, family="picsys")}, ["verify", "erds/paper-u1", "{s.json}"],
     "solution.family"),
    ("sol-extra-key", {"s.json": _sol({**E_OK, "x": 1})}, ["verify", "erds/paper-u1", "{s.json}"], "decisions.x"),
    ("sol-objective-string", {"s.json": _sol(E_OK, objective="fast")}, ["verify", "erds/paper-u1", "{s.json}"],
     "solution.objective"),
    ("sol-unknown-field", {"s.json": _sol(E_OK, runtime=3)}, ["verify", "erds/paper-u1", "{s.json}"],
     "solution.runtime"),
    # options and CLI arguments
    ("opt-max_iter", {}, ["solve", "erds/paper-u1", "--method", "erds-brb", "--option", "max_iter=-1"], "max_iter"),
    ("opt-tol-zero", {}, ["solve", "erds/paper-u1", "--method", "erds-osa", "--option", "tol=0"], "tol"),
    ("opt-tol-nan", {}, ["solve", "erds/paper-u1", "--method", "iao", "--option", "tol=NaN"], "tol"),
    ("opt-gap", {}, ["solve", "erds/paper-u1", "--method", "erds-exact", "--option", "gap=2"], "gap"),
    ("opt-node_limit", {}, ["solve", "erds/paper-u1", "--method", "erds-exact", "--option", "node_limit=-1"],
     "node_limit"),
    ("opt-decimals", {}, ["solve", "erds/paper-u1", "--method", "erds-brb", "--option", "decimals=-1"], "decimals"),
    ("opt-evaluator", {}, ["solve", "erds/paper-u1", "--method", "erds-osa", "--option", "evaluator=magic"],
     "evaluator"),
    ("seed-negative", {}, ["solve", "erds/paper-u1", "--method", "random", "--seed", "-1"], "seed"),
    ("time-limit-zero", {}, ["solve", "erds/paper-u1", "--method", "erds-exact", "--time-limit", "0"], "time_limit"),
    ("gen-tasks-zero", {}, ["generate", "erds", "--tasks", "0", "-o", "{dir}/g.json"], "tasks"),
    ("gen-exits-zero", {}, ["generate", "erds", "--exits", "0", "-o", "{dir}/g.json"], "exits"),
    ("gen-tasks-huge", {}, ["generate", "erds", "--tasks", "100000", "-o", "{dir}/g.json"], "tasks", True),
    ("gen-seed-huge", {}, ["generate", "erds", "--seed", "99999999999", "-o", "{dir}/g.json"], "seed"),
    ("gen-missing-dir", {}, ["generate", "erds", "-o", "{dir}/no/such/g.json"], "output"),
    ("gen-w-min", {}, ["generate", "erds", "--w-min", "-1", "-o", "{dir}/g.json"], "w_min"),
]

# ------------------------------------------------------------------------------- progressive
OB = _load("progressive/ordering-small.json")
AB = _load("progressive/airtime-cameras.json")
CB = _load("progressive/config-webp-heavy.json")
A_N = len(AB["devices"])

PROGRESSIVE = [
    ("problem-unknown", {"i.json": _set(OB, "problem", "sorting")}, ["solve", "{i.json}", "--method", "exact"],
     "problem"),
    ("chunks-empty", {"i.json": _set(OB, "chunks", [])}, ["solve", "{i.json}", "--method", "exact"], "chunks"),
    ("chunk-bytes-zero", {"i.json": _set(OB, "chunks.0.bytes", 0)}, ["solve", "{i.json}", "--method", "exact"],
     "chunks[0].bytes"),
    ("chunk-bytes-1e300", {"i.json": _set(OB, "chunks.0.bytes", 1e300)}, ["solve", "{i.json}", "--method", "milp"],
     "chunks[0].bytes"),
    ("importance-negative", {"i.json": _set(OB, "chunks.0.importance", -1)},
     ["solve", "{i.json}", "--method", "exact"], "chunks[0].importance"),
    ("budget-probs-sum", {"i.json": _set(OB, "budget.probs", [0.25, 0.25])}, ["solve", "{i.json}", "--method", "exact"],
     "budget.probs"),
    ("budget-bytes-negative", {"i.json": _set(OB, "budget.bytes.0", -5)}, ["solve", "{i.json}", "--method", "exact"],
     "budget.bytes[0]"),
    ("budget-probs-length", {"i.json": _set(OB, "budget.probs", [1.0])}, ["solve", "{i.json}", "--method", "exact"],
     "budget.probs"),
    ("too-many-chunks", {"i.json": _set(OB, "chunks", [{"bytes": 1.0, "importance": 1.0}] * 100_001)},
     ["solve", "{i.json}", "--method", "greedy"], "chunks"),
    ("slots-zero", {"i.json": _set(AB, "slots", 0)}, ["solve", "{i.json}", "--method", "exact"], "slots"),
    ("slots-1e9", {"i.json": _set(AB, "slots", 10**9)}, ["solve", "{i.json}", "--method", "exact"], "slots", True),
    ("link-rate-negative", {"i.json": _set(AB, "link_rate_Bps", -1)}, ["solve", "{i.json}", "--method", "exact"],
     "link_rate_Bps"),
    ("link-rate-unit", {"i.json": _set(AB, "link_rate_Bps", "5 furlongs")}, ["solve", "{i.json}", "--method", "exact"],
     "link_rate_Bps"),
    ("weight-1e308", {"i.json": _set(AB, "devices.0.weight", 1e308)}, ["solve", "{i.json}", "--method", "exact"],
     "devices[0].weight"),
    ("deadline-zero", {"i.json": _set(AB, "devices.0.deadline_s", 0)}, ["solve", "{i.json}", "--method", "exact"],
     "devices[0].deadline_s"),
    ("devices-empty", {"i.json": _set(AB, "devices", [])}, ["solve", "{i.json}", "--method", "exact"], "devices"),
    ("profile-unknown", {"i.json": _set(AB, "devices.0.profile", "nosuch-codec")},
     ["solve", "{i.json}", "--method", "exact"], "devices[0].profile"),
    ("period-zero", {"i.json": _set(CB, "period_s", 0)}, ["solve", "{i.json}", "--method", "exact"], "period_s"),
    ("n-images-zero", {"i.json": _set(CB, "n_images", 0)}, ["solve", "{i.json}", "--method", "exact"], "n_images"),
    ("n-images-1e9", {"i.json": _set(CB, "n_images", 10**9)}, ["solve", "{i.json}", "--method", "exact"], "n_images",
     True),
    ("trace-duration-1e9", {"i.json": _set(CB, "traces.0.trace.duration", 1e9)},
     ["solve", "{i.json}", "--method", "exact"], "traces[0].trace.duration", True),
    ("trace-dt-zero", {"i.json": _set(CB, "traces.0.trace", {"generator": "markov", "good_rate": 1e4, "bad_rate": 0,
                                                             "p_good_bad": 0.1, "p_bad_good": 0.1, "dt": 0})},
     ["solve", "{i.json}", "--method", "exact"], "traces[0].trace.dt"),
    ("trace-times-order", {"i.json": _set(CB, "traces.0.trace", {"times": [0, 2, 1], "rates": [1e4, 1e4, 1e4]})},
     ["solve", "{i.json}", "--method", "exact"], "traces[0].trace.times[2]"),
    ("candidates-empty", {"i.json": _set(CB, "candidates", [])}, ["solve", "{i.json}", "--method", "exact"],
     "candidates"),
    ("config-seed-negative", {"i.json": _set(CB, "seed", -1)}, ["solve", "{i.json}", "--method", "exact"], "seed"),
    ("trace-seed-negative", {"i.json": _set(CB, "traces.0.trace.seed", -1)}, ["solve", "{i.json}", "--method", "exact"],
     "traces[0].trace.seed"),
    ("duplicate-key", {"i.json": RAW + json.dumps(OB).replace('"problem": "ordering"',
                                                              '"problem": "x", "problem": "ordering"')},
     ["solve", "{i.json}", "--method", "exact"], "'problem' appears twice"),
    ("deep-nesting", {"i.json": RAW + '{"format": 1, "family": "progressive", "chunks": ' + DEEP + "}"},
     ["solve", "{i.json}", "--method", "exact"], "nested deeper"),
    ("unknown-field", {"i.json": _set(OB, "foo", 1)}, ["solve", "{i.json}", "--method", "exact"], "foo"),
    ("int-10**400", {"i.json": RAW + json.dumps(OB).replace('"importance": 4.0', '"importance": 1' + "0" * 400)},
     ["solve", "{i.json}", "--method", "exact"], "chunks[0].importance"),
    # solutions
    ("sol-order-not-permutation", {"s.json": _sol({"order": [0, 0, 1, 2]})},
     ["verify", "progressive/ordering-small", "{s.json}"], "decisions.order"),
    ("sol-other-problem", {"s.json": _sol({"order": [0, 1, 2, 3], "slots": [1]})},
     ["verify", "progressive/ordering-small", "{s.json}"], "decisions.slots"),
    ("sol-slots-sum", {"s.json": _sol({"slots": [AB["slots"]] * A_N})},
     ["verify", "progressive/airtime-cameras", "{s.json}"], "decisions.slots"),
    ("sol-slots-negative", {"s.json": _sol({"slots": [-1] + [0] * (A_N - 1)})},
     ["verify", "progressive/airtime-cameras", "{s.json}"], "decisions.slots[0]"),
    ("sol-unknown-config", {"s.json": _sol({"config": "jpeg-2000"})},
     ["verify", "progressive/config-webp-heavy", "{s.json}"], "decisions.config"),
    ("sol-array", {"s.json": [0, 1]}, ["verify", "progressive/ordering-small", "{s.json}"], "solution"),
    ("sol-bad-status", {"s.json": _sol({"order": [0, 1, 2, 3]}, status="OK")},
     ["verify", "progressive/ordering-small", "{s.json}"], "solution.status"),
    ("sol-wrong-family", {"s.json": _sol({"order": [0, 1, 2, 3]}, family="picsys")},
     ["verify", "progressive/ordering-small", "{s.json}"], "solution.family"),
    ("sol-bad-bound", {"s.json": _sol({"order": [0, 1, 2, 3]}, bound=[1])},
     ["verify", "progressive/ordering-small", "{s.json}"], "solution.bound"),
    ("sol-wrong-instance", {"s.json": _sol({"order": [0, 1, 2, 3]}, instance="ordering-limitnet12")},
     ["verify", "progressive/ordering-small", "{s.json}"], "solution.instance"),
    # options and CLI arguments
    ("opt-unknown", {}, ["solve", "progressive/ordering-small", "--method", "exact", "--option", "foo=1"], "foo"),
    ("seed-negative", {}, ["solve", "progressive/ordering-small", "--method", "greedy", "--seed", "-1"], "seed"),
    ("time-limit-negative", {}, ["solve", "progressive/ordering-small", "--method", "milp", "--time-limit", "-1"],
     "time_limit"),
    ("gen-size-zero", {}, ["generate", "progressive", "--size", "0", "-o", "{dir}/g.json"], "size"),
    ("gen-slots-zero", {}, ["generate", "progressive", "--slots", "0", "-o", "{dir}/g.json"], "slots"),
    ("gen-period-negative", {}, ["generate", "progressive", "--period-s", "-1", "-o", "{dir}/g.json"], "period_s"),
    ("gen-seed-negative", {}, ["generate", "progressive", "--seed", "-1", "-o", "{dir}/g.json"], "seed"),
    ("gen-missing-dir", {}, ["generate", "progressive", "-o", "{dir}/no/such/g.json"], "output"),
    ("gen-problem", {}, ["generate", "progressive", "--problem", "nope", "-o", "{dir}/g.json"], "--problem"),
]

FAMILIES = {"picsys": PICSYS, "erds": ERDS, "progressive": PROGRESSIVE}
CASES = [(fam, c) for fam, cases in FAMILIES.items() for c in cases]


def _write(dirpath: Path, name: str, content) -> Path:
    p = dirpath / name
    if isinstance(content, bytes):
        p.write_bytes(content)
    elif isinstance(content, str) and content.startswith(RAW):
        p.write_text(content[len(RAW):], encoding="utf-8")
    else:
        p.write_text(json.dumps(content), encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Run every case once (forked children of one driver process); results by (family, id)."""
    payload, keys = [], []
    for fam, case in CASES:
        cid, files, argv, field = case[:4]
        mem = len(case) > 4 and case[4]
        d = tmp_path_factory.mktemp(f"{fam}-{cid}".replace("*", "x"))
        paths = {name: str(_write(d, name, content)) for name, content in files.items()}
        args = []
        for a in argv:
            for name, path in paths.items():
                a = a.replace("{" + name + "}", path)
            args.append(a.replace("{dir}", str(d)))
        payload.append({"id": f"{fam}/{cid}", "argv": args, "mem_mb": MEM_MB if mem else 0})
        keys.append(f"{fam}/{cid}")
    proc = subprocess.run([sys.executable, str(DRIVER)], input=json.dumps(payload), capture_output=True, text=True,
                          cwd=str(ROOT), timeout=900, env={**__import__("os").environ, "OPENBLAS_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = {r["id"]: r for r in json.loads(proc.stdout)}
    assert sorted(out) == sorted(keys)
    return out


@pytest.mark.parametrize("family", list(FAMILIES))
def test_corpus_has_at_least_40_cases_per_family(family):
    cases = FAMILIES[family]
    assert len(cases) >= 40
    assert len({c[0] for c in cases}) == len(cases)  # unique ids


@pytest.mark.parametrize("family,case", CASES, ids=[f"{f}/{c[0]}" for f, c in CASES])
def test_bad_input_exits_2_with_one_line_naming_the_field(results, family, case):
    cid, _, argv, field = case[:4]
    r = results[f"{family}/{cid}"]
    lines = [ln for ln in r["stderr"].splitlines() if ln.strip()]
    assert r["rc"] == 2, (argv, r)
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ") and "Traceback" not in r["stderr"]
    assert field in lines[0], (field, lines[0])


def test_memory_cases_are_marked():
    """The size-limit cases run under the RLIMIT_AS bound (MEM_MB beyond the loaded interpreter)."""
    marked = [f"{f}/{c[0]}" for f, c in CASES if len(c) > 4 and c[4]]
    assert {"picsys/count-1e9", "picsys/gen-images-1e9", "progressive/trace-duration-1e9",
            "erds/sample-rounds-1e12"} <= set(marked)


def test_memory_bound_has_teeth(tmp_path):
    """Negative control: with the image limit raised, ``count: 1e9`` allocates (7.45 GiB of sizes)
    and the case dies under the same RLIMIT_AS bound -- so a passing memory case really stayed
    under the bound."""
    import os

    f = _write(tmp_path, "c.json", _set(PB, "devices.0.images.count", 1e9))
    payload = [{"id": "neg", "argv": ["solve", str(f), "--method", "greedy"], "mem_mb": MEM_MB}]
    env = {**os.environ, "OPTOFFLOAD_MAX_IMAGES": str(10**10), "OPENBLAS_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, str(DRIVER)], input=json.dumps(payload), capture_output=True, text=True,
                          cwd=str(ROOT), timeout=300, env=env)
    r = json.loads(proc.stdout)[0]
    assert r["rc"] == 1 and "MemoryError" in r["stderr"], r
