"""``optoffload gap``: gap benchmarks for any methods, reference cache, CI gates (issue #10).

Every CLI command runs in a subprocess from a folder outside the repository, so that the test
runner's own imports cannot hide a missing import. Expected gaps are derived independently of the
code under test: by hand on PicSys Table 2, and by issue #3's brute force (enumeration of every
plan, not CP-SAT) on tiny generated instances.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

import optoffload as oo
from optoffload import gap as G

ROOT = Path(__file__).resolve().parent.parent
TABLE2 = ROOT / "optoffload" / "data" / "picsys" / "table2.json"

# Table 2 by hand (docs/picsys.md, docs/picsys-heuristics.md): all-cloud uploads device 1's ten
# 800 kB images at 20 Mbps one after another (10 x 0.32 s) and the cloud needs c_u = 0.01 s for the
# last one: 3.21 s. The optimum is 1.75 s (docs/picsys-exact.md, CP-SAT proven, tests/test_layout.py).
TABLE2_ALL_CLOUD, TABLE2_OPT = 3.21, 1.75
TABLE2_ALL_CLOUD_GAP = TABLE2_ALL_CLOUD / TABLE2_OPT - 1  # 0.8343


def _cli(*args: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "OPTOFFLOAD_DEBUG")}
    return subprocess.run([sys.executable, "-m", "optoffload", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def _gate_lines(r: subprocess.CompletedProcess) -> list[str]:
    return [ln for ln in r.stderr.splitlines() if ln.startswith("gate failed:")]


def _table2_dir(tmp_path: Path) -> Path:
    d = tmp_path / "insts"
    d.mkdir()
    shutil.copy(TABLE2, d / "table2.json")
    return d


# ----------------------------------------------------------------------------- the definition
def test_one_gap_definition_by_hand():
    # minimization: objective / reference - 1; maximization: reference / objective - 1
    assert G.gap(3.0, 2.0, "min") == pytest.approx(0.5)
    assert G.gap(2.0, 3.0, "max") == pytest.approx(0.5)
    assert G.gap(2.0, 2.0, "min") == 0.0 and G.gap(0.0, 0.0, "max") == 0.0
    assert G.gap(0.0, 0.8, "max") == math.inf  # a method scoring 0 where 0.8 is possible
    assert G.gap(None, 1.0) is None and G.gap(1.0, None) is None
    # the same function as compare's gap_to_best
    assert G.gap(3.0, 2.0, "min") == oo.api.gap_to(3.0, 2.0, "min")
    # reference kinds
    assert G.reference_kind("optimal", 1.0, 1.0) == ("optimum", 1.0)
    assert G.reference_kind("feasible", 1.2, 0.9) == ("bound", 0.9)
    assert G.reference_kind("feasible", 1.2, None) == ("incumbent", 1.2)
    assert G.reference_kind("unknown", None, None) == (None, None)


def test_instance_hash_is_by_content():
    a = oo.generate("picsys", seed=1, devices=1, images=4)
    b = oo.generate("picsys", seed=1, devices=1, images=4)
    c = oo.generate("picsys", seed=2, devices=1, images=4)
    assert G.instance_hash(a) == G.instance_hash(b) != G.instance_hash(c)


def test_generate_spec_parsing():
    assert G.parse_generate("picsys", "small") == {"devices": 2, "images": 6}
    assert G.parse_generate("picsys", "small,images=8") == {"devices": 2, "images": 8}
    assert G.parse_generate("picsys", "testbed") == {"preset": "testbed"}  # a generator preset
    assert G.parse_generate("erds", "tasks=2,per_task_probs=true") == {"tasks": 2, "per_task_probs": True}
    for bad, field in [("nosuch", "--generate"), ("images=abc", "--generate images"), ("colour=3", "--generate colour"),
                       ("devices=2,small", "--generate")]:
        with pytest.raises(oo.InvalidInstance) as e:
            G.parse_generate("picsys", bad)
        assert e.value.field == field


# ----------------------------------------------------------------------------- gates on Table 2 (by hand)
def test_gates_fail_and_pass_table2_by_hand(tmp_path):
    d = _table2_dir(tmp_path)
    out = tmp_path / "out"
    junit = tmp_path / "junit.xml"
    # all-cloud's gap 0.834 (by hand) fails a 0.5 gate; the optimal reference itself passes
    r = _cli("gap", "picsys", "--methods", "all-cloud,cpsat", "--reference", "cpsat", "--instances", str(d),
             "--out", str(out), "--max-mean-gap", "0.5", "--max-worst-gap", "0.5", "--junit", str(junit), cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    lines = _gate_lines(r)
    assert len(lines) == 2 and all("all-cloud" in ln for ln in lines), r.stderr
    assert any("max-mean-gap" in ln for ln in lines) and any("max-worst-gap" in ln for ln in lines)
    rows = [json.loads(x) for x in (out / "rows.jsonl").read_text().splitlines()]
    ac = next(x for x in rows if x["method"] == "all-cloud")
    assert ac["reference_kind"] == "optimum" and ac["reference_value"] == pytest.approx(TABLE2_OPT, abs=1e-6)
    assert ac["gap"] == pytest.approx(TABLE2_ALL_CLOUD_GAP, abs=1e-6)
    summ = json.loads((out / "summary.json").read_text())
    assert summ["methods"]["cpsat"]["share_optimal"] == 1.0 and summ["methods"]["all-cloud"]["share_optimal"] == 0.0
    # JUnit: well-formed, one testcase per method and gate (errors, max-mean-gap, max-worst-gap)
    root = ET.parse(junit).getroot()
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == 2 * 3
    assert {(c.get("classname"), c.get("name")) for c in cases} == {
        (f"gap.picsys.{m}", g) for m in ("all-cloud", "cpsat") for g in ("errors", "max-mean-gap", "max-worst-gap")}
    failed = [(c.get("classname"), c.get("name")) for c in cases if c.find("failure") is not None]
    assert sorted(failed) == [("gap.picsys.all-cloud", "max-mean-gap"), ("gap.picsys.all-cloud", "max-worst-gap")]
    assert root.find("testsuite").get("failures") == "2"
    # a generous threshold passes (and reuses the cached optimum)
    r = _cli("gap", "picsys", "--methods", "all-cloud,cpsat", "--instances", str(d), "--out", str(out),
             "--max-mean-gap", "0.9", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "1 hits, 0 solved" in r.stderr
    assert not _gate_lines(r)


# ----------------------------------------------------------------------------- generated, brute force
def test_gates_on_generated_instances_against_brute_force(tmp_path):
    """--generate tiny (1 device, 4 images) x 6 seeds: the expected gaps of all-cloud come from
    brute force (every plan enumerated), independent of CP-SAT, the reference of the run."""
    from optoffload.picsys.bruteforce import brute_force

    seeds = 6
    exp = []
    for s in range(seeds):
        inst = oo.generate("picsys", seed=s, devices=1, images=4)
        opt, _ = brute_force(inst)
        exp.append(oo.solve(inst, "all-cloud").objective / opt - 1)
    mean = statistics.fmean(exp)
    assert mean > 0.05  # the thresholds below sit on either side of a real gap
    out = tmp_path / "out"
    r = _cli("gap", "picsys", "--methods", "all-cloud", "--generate", "tiny", "--seeds", str(seeds), "--out", str(out),
             "--max-mean-gap", repr(mean * 0.99), cwd=tmp_path)
    assert r.returncode == 1 and len(_gate_lines(r)) == 1 and "all-cloud: mean gap" in r.stderr, r.stderr
    rows = [json.loads(x) for x in (out / "rows.jsonl").read_text().splitlines()]
    assert [x["seed"] for x in rows] == list(range(seeds))
    assert [x["gap"] for x in rows] == pytest.approx(exp, abs=1e-7)
    summ = json.loads((out / "summary.json").read_text())["methods"]["all-cloud"]
    assert summ["n"] == seeds and summ["mean"] == pytest.approx(mean, abs=1e-9)
    assert summ["median"] == pytest.approx(statistics.median(exp)) and summ["worst"] == pytest.approx(max(exp))
    r = _cli("gap", "picsys", "--methods", "all-cloud", "--generate", "tiny", "--seeds", str(seeds), "--out", str(out),
             "--max-mean-gap", repr(mean * 1.01), "--max-worst-gap", repr(max(exp) * 1.01), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    for f in ("summary.md", "gap.png", "gap.pdf"):
        assert (out / f).stat().st_size > 0


def test_maximization_family_reverses_the_gap(tmp_path):
    """progressive (maximize accuracy): gap = reference / objective - 1. On concave airtime profiles
    greedy is provably optimal (docs/progressive.md), so every gap is 0."""
    out = tmp_path / "out"
    r = _cli("gap", "progressive", "--methods", "greedy", "--generate", "small,concave=true", "--seeds", "3",
             "--out", str(out), "--max-worst-gap", "1e-9", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    s = json.loads((out / "summary.json").read_text())
    assert s["reference"] == "exact" and s["methods"]["greedy"]["share_optimal"] == 1.0


# ----------------------------------------------------------------------------- resume and cache
def test_resume_matches_full_task_parameters_and_cache_hits(tmp_path):
    out = tmp_path / "out"
    args = ["gap", "picsys", "--methods", "time-heuristic,all-cloud", "--generate", "tiny", "--seeds", "3",
            "--out", str(out)]
    r = _cli(*args, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "0 hits, 3 solved" in r.stderr
    rows = (out / "rows.jsonl").read_text().splitlines()
    assert len(rows) == 6
    # a torn last line (killed mid-write) and a resumed run: the 5 intact rows are kept, 1 rerun
    (out / "rows.jsonl").write_text("\n".join(rows[:5]) + "\n" + rows[5][: len(rows[5]) // 2])
    r = _cli(*args, "--resume", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "resume: 5 of 6 rows already done" in r.stderr and "3 hits, 0 solved" in r.stderr
    again = [json.loads(x) for x in (out / "rows.jsonl").read_text().splitlines()]
    assert len(again) == 6 and {(x["seed"], x["method"]) for x in again} == {
        (s, m) for s in range(3) for m in ("time-heuristic", "all-cloud")}
    # other task parameters (more seeds; another reference time limit) are not taken for done
    r = _cli(*args[:-4], "--seeds", "4", "--out", str(out), "--resume", cwd=tmp_path)
    assert "resume: 6 of 8 rows already done" in r.stderr and "3 hits, 1 solved" in r.stderr, r.stderr
    r = _cli(*args[:-4], "--seeds", "4", "--out", str(out), "--resume", "--time-limit", "30", cwd=tmp_path)
    assert "resume: 0 of 8 rows already done" in r.stderr
    assert "4 hits, 0 solved" in r.stderr  # proven optima are reused whatever the time limit
    # a committed cache file shared by another output folder: nothing is re-solved
    cache = tmp_path / "ref.json"
    shutil.copy(out / "reference-cache.json", cache)
    r = _cli(*args[:-2], "--out", str(tmp_path / "out2"), "--cache", str(cache), cwd=tmp_path)
    assert r.returncode == 0 and "3 hits, 0 solved" in r.stderr, r.stderr
    entries = json.loads(cache.read_text())["entries"]
    assert all(e["kind"] == "optimum" and e["method"] == "cpsat" for e in entries.values())


# ----------------------------------------------------------------------------- errors
PLUGIN = '''
import optoffload as oo

def boom(inst, *, time_limit=None, seed=0, threads=None):
    raise IndexError("list index out of range")

def fine(inst, *, time_limit=None, seed=0, threads=None):
    return oo.solve(inst, "all-cloud")

NOT_CALLABLE = 3
'''


def test_a_raising_method_gives_error_rows_and_hides_nothing(tmp_path):
    (tmp_path / "mymod.py").write_text(PLUGIN)
    out = tmp_path / "out"
    junit = tmp_path / "j.xml"
    r = _cli("gap", "picsys", "--methods", "mymod:boom,mymod:fine,time-heuristic", "--generate", "tiny", "--seeds", "2",
             "--out", str(out), "--junit", str(junit), cwd=tmp_path)
    assert r.returncode == 1
    assert _gate_lines(r) == ["gate failed: errors: mymod:boom: 2 error row(s) (see rows.jsonl)"], r.stderr
    assert "Traceback" not in r.stderr
    rows = [json.loads(x) for x in (out / "rows.jsonl").read_text().splitlines()]
    boom = [x for x in rows if x["method"] == "mymod:boom"]
    assert len(rows) == 6 and len(boom) == 2 and all("IndexError" in x["error"] for x in boom)
    fine = [x for x in rows if x["method"] == "mymod:fine"]
    assert all(x["gap"] is not None and not x.get("error") for x in fine)
    s = json.loads((out / "summary.json").read_text())["methods"]
    assert s["mymod:boom"]["errors"] == 2 and s["mymod:boom"]["n"] == 0 and s["mymod:fine"]["n"] == 2
    root = ET.parse(junit).getroot()
    failed = [c.get("classname") for c in root.iter("testcase") if c.find("failure") is not None]
    assert failed == ["gap.picsys.mymod:boom"]


@pytest.mark.parametrize("args, needle", [
    (["--max-mean-gap", "abc"], "--max-mean-gap: must be a number, got 'abc'"),
    (["--max-worst-gap", "-1"], "--max-worst-gap: must be a finite number >= 0"),
    (["--max-regression", "0.1"], "--max-regression: needs --baseline"),
    (["--baseline", "BASE_ERDS", "--max-regression", "0.1"], "is a summary of family 'erds', not 'picsys'"),
    (["--baseline", "BASE_BAD"], "is not JSON"),
    (["--baseline", "BASE_OTHER"], "is not a gap summary.json"),
    (["--baseline", "nosuch.json"], "--baseline: cannot read"),
    (["--methods", "nosuch"], "unknown method 'nosuch'"),
    (["--methods", "nosuchmod:fn"], "cannot import module 'nosuchmod'"),
    (["--methods", "mymod:NOT_CALLABLE"], "not callable"),
    (["--methods", "mymod:missing"], "has no attribute 'missing'"),
    (["--methods", "time-heuristic,time-heuristic"], "listed twice"),
    (["--reference", "time-heuristic"], "reference: 'time-heuristic' is a policy, not an exact method"),
    (["--seeds", "x"], "--seeds: must be a positive integer, got 'x'"),
    (["--seeds", "0"], "--seeds: must be a positive integer, got 0"),
    (["--generate", "nosuch"], "unknown preset 'nosuch'"),
    (["--generate", "images=many"], "--generate images: expected int, got 'many'"),
])
def test_bad_input_exits_2_with_one_line(tmp_path, args, needle):
    (tmp_path / "mymod.py").write_text(PLUGIN)
    (tmp_path / "BASE_ERDS").write_text(json.dumps({"format": 1, "family": "erds", "methods": {}}))
    (tmp_path / "BASE_BAD").write_text("{not json")
    (tmp_path / "BASE_OTHER").write_text(json.dumps({"rows": []}))
    base = {"--methods": "all-cloud", "--generate": "tiny", "--seeds": "1"}
    for k in list(base):
        if k in args:
            del base[k]
    argv = ["gap", "picsys", *[x for kv in base.items() for x in kv], *args, "--out", str(tmp_path / "o")]
    r = _cli(*argv, cwd=tmp_path)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert len(r.stderr.strip().splitlines()) == 1 and needle in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


def test_bad_family_and_sources_exit_2(tmp_path):
    for argv, needle in [(["gap", "nosuch", "--methods", "x", "--generate", "tiny", "--seeds", "1"], "unknown family"),
                         (["gap", "picsys", "--methods", "all-cloud"], "give exactly one of --instances"),
                         (["gap", "picsys", "--methods", "all-cloud", "--instances", str(tmp_path), "--seeds", "2"],
                          "--seeds: only with --generate"),
                         (["gap", "erds", "--methods", "cloud-only", "--instances", str(TABLE2)],
                          "is a 'picsys' instance, not 'erds'"),
                         (["gap", "picsys", "--generate", "tiny", "--seeds", "1"], "--methods: required")]:
        r = _cli(*argv, "--out", str(tmp_path / "o"), cwd=tmp_path)
        assert r.returncode == 2 and needle in r.stderr and len(r.stderr.strip().splitlines()) == 1, (argv, r.stderr)


# ----------------------------------------------------------------------------- baseline regression
def test_baseline_regression_gate(tmp_path):
    d = _table2_dir(tmp_path)
    out = tmp_path / "out"
    r = _cli("gap", "picsys", "--methods", "all-cloud,time-heuristic", "--instances", str(d), "--out", str(out),
             cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    base = tmp_path / "baseline.json"
    shutil.copy(out / "summary.json", base)
    # the same code against its own summary: no regression
    r = _cli("gap", "picsys", "--methods", "all-cloud,time-heuristic", "--instances", str(d), "--out", str(out),
             "--baseline", str(base), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    # a baseline where all-cloud was 0.1 better (by hand: 0.834 - 0.1): 0.05 allowed, fails
    b = json.loads(base.read_text())
    b["methods"]["all-cloud"]["mean"] = TABLE2_ALL_CLOUD_GAP - 0.1
    del b["methods"]["time-heuristic"]  # a method new since the baseline is skipped, not failed
    base.write_text(json.dumps(b))
    junit = tmp_path / "j.xml"
    r = _cli("gap", "picsys", "--methods", "all-cloud,time-heuristic", "--instances", str(d), "--out", str(out),
             "--baseline", str(base), "--max-regression", "0.05", "--junit", str(junit), cwd=tmp_path)
    assert r.returncode == 1
    assert len(_gate_lines(r)) == 1 and "max-regression: all-cloud" in r.stderr, r.stderr
    skipped = [c for c in ET.parse(junit).getroot().iter("testcase") if c.find("skipped") is not None]
    assert [(c.get("classname"), c.get("name")) for c in skipped] == [("gap.picsys.time-heuristic", "max-regression")]
    r = _cli("gap", "picsys", "--methods", "all-cloud,time-heuristic", "--instances", str(d), "--out", str(out),
             "--baseline", str(base), "--max-regression", "0.15", cwd=tmp_path)
    assert r.returncode == 0, r.stderr


# ----------------------------------------------------------------------------- python API
def test_assert_gap_helper(tmp_path):
    from optoffload.testing import assert_gap

    d = _table2_dir(tmp_path)
    s = assert_gap("picsys", "all-cloud", reference="cpsat", instances=d, max_mean=0.9,
                   cache=tmp_path / "c.json")
    assert s["mean"] == pytest.approx(TABLE2_ALL_CLOUD_GAP, abs=1e-6) and s["n"] == 1
    with pytest.raises(AssertionError, match="all-cloud: mean gap 0.834"):
        assert_gap("picsys", "all-cloud", instances=d, max_mean=0.5, cache=tmp_path / "c.json")

    def broken(inst, *, time_limit=None, seed=0, threads=None):
        raise IndexError("nope")

    with pytest.raises(AssertionError, match="error row.*IndexError: nope"):
        assert_gap("picsys", broken, instances=d, max_mean=1.0, cache=tmp_path / "c.json")
    with pytest.raises(oo.InvalidInstance, match="max_mean"):
        assert_gap("picsys", "all-cloud", instances=d, max_mean="lots")


def test_run_gap_with_a_callable_and_workers(tmp_path):
    """A callable (in-process) and a process pool (workers=2) give the same rows as serial."""
    def mine(inst, *, time_limit=None, seed=0, threads=None):
        return oo.solve(inst, "all-cloud")

    a = G.run_gap("picsys", [mine, "all-cloud"], generate="tiny", seeds=3, out=tmp_path / "a")
    b = G.run_gap("picsys", ["all-cloud"], generate="tiny", seeds=3, out=tmp_path / "b", workers=2)
    ga = [r["gap"] for r in a.rows if r["method"] == "all-cloud"]
    gm = [r["gap"] for r in a.rows if r["method"] != "all-cloud"]
    gb = [r["gap"] for r in b.rows]
    assert ga == pytest.approx(gb) and gm == pytest.approx(ga)


@pytest.mark.slow
def test_dask_executor(tmp_path):
    r = _cli("gap", "erds", "--methods", "cloud-only,edge-only", "--generate", "tiny", "--seeds", "2",
             "--executor", "dask", "--workers", "2", "--out", str(tmp_path / "o"), "--no-plot", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    rows = [json.loads(x) for x in (tmp_path / "o" / "rows.jsonl").read_text().splitlines()]
    assert len(rows) == 4 and all(x["reference_kind"] == "optimum" and x["gap"] >= -1e-9 for x in rows)


# ----------------------------------------------------------------------------- bench --methods
def test_bench_methods_only_for_suites_that_compare(tmp_path):
    r = _cli("bench", "picsys-table2", "--methods", "greedy", cwd=tmp_path)
    assert r.returncode == 2 and "suite 'picsys-table2' does not compare methods" in r.stderr, r.stderr
    r = _cli("bench", "picsys-gap", "--methods", "nosuch", "--quick", cwd=tmp_path)
    assert r.returncode == 2 and "unknown method 'nosuch'" in r.stderr, r.stderr
    (tmp_path / "mymod.py").write_text(PLUGIN)
    r = _cli("bench", "progressive-gap", "--quick", "--methods", "greedy,mymod:boom", "--seeds", "1",
             "--out", str(tmp_path / "b"), cwd=tmp_path)
    assert r.returncode == 1  # the raising method's rows are errors; greedy's are kept
    rows = [json.loads(x) for x in (tmp_path / "b" / "rows.jsonl").read_text().splitlines()]
    assert {x["method"] for x in rows} == {"greedy", "mymod:boom"}
    assert all(x.get("error") for x in rows if x["method"] == "mymod:boom")
    assert all(not x.get("error") for x in rows if x["method"] == "greedy")
    assert len({x["seed"] for x in rows}) == 1


REGISTERING_PLUGIN = '''
import optoffload as oo

@oo.register_method("picsys", "cloud-copy", kind="baseline", summary="all-cloud under another name")
def cloud_copy(inst, *, time_limit=None, seed=0, threads=None):
    return oo.solve(inst, "all-cloud", seed=seed)
'''


def test_plugin_method_by_name_with_workers(tmp_path):
    """--plugin MODULE adds a registered name; a process pool (workers=2) sees it too. Its gap equals
    all-cloud's (the same plan), which Table 2 gives by hand."""
    (tmp_path / "myplug.py").write_text(REGISTERING_PLUGIN)
    d = _table2_dir(tmp_path)
    out = tmp_path / "out"
    r = _cli("--plugin", "myplug", "gap", "picsys", "--methods", "cloud-copy,all-cloud", "--instances", str(d),
             "--workers", "2", "--out", str(out), "--max-mean-gap", "0.9", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    s = json.loads((out / "summary.json").read_text())["methods"]
    assert s["cloud-copy"]["kind"] == "baseline"
    assert s["cloud-copy"]["mean"] == pytest.approx(TABLE2_ALL_CLOUD_GAP, abs=1e-6) == s["all-cloud"]["mean"]
    r = _cli("gap", "picsys", "--methods", "cloud-copy", "--instances", str(d), "--out", str(out), cwd=tmp_path)
    assert r.returncode == 2 and "unknown method 'cloud-copy'" in r.stderr, r.stderr


def test_entry_point_methods_gate(tmp_path):
    """Issue #10 acceptance: a pip-installed package declares one PicSys and one ERDS method by entry
    point; `gap` with a tiny threshold exits 1 naming the gate, a generous one exits 0. The PicSys
    method replays all-cloud, so its gaps are all-cloud's: on Table 2 0.834 by hand."""
    from plugin_helpers import build_wheel

    code = '''
import optoffload as oo

def cloud(inst, *, time_limit=None, seed=0, threads=None):
    return oo.solve(inst, "all-cloud", seed=seed).decisions

def cloud_erds(inst, *, time_limit=None, seed=0, threads=None):
    return oo.solve(inst, "cloud-only", seed=seed)
'''
    eps = "[optoffload.methods]\npicsys.ep-cloud = gap_ep_pkg:cloud\nerds.ep-cloud = gap_ep_pkg:cloud_erds\n"
    whl = build_wheel(tmp_path, "gap-ep-pkg", eps, code)
    site = tmp_path / "site"
    r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target",
                        str(site), str(whl)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    env = {**{k: v for k, v in os.environ.items() if k != "OPTOFFLOAD_DEBUG"}, "PYTHONPATH": str(site)}
    work = tmp_path / "work"
    work.mkdir()
    d = _table2_dir(work)

    def run(*args):
        return subprocess.run([sys.executable, "-m", "optoffload", *args], cwd=work, env=env, capture_output=True,
                              text=True, timeout=600)

    r = run("gap", "picsys", "--methods", "ep-cloud,time-heuristic", "--instances", str(d), "--out", "o",
            "--max-mean-gap", "0.0001")
    assert r.returncode == 1, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("gate failed:")]
    assert len(lines) == 2 and any("ep-cloud: mean gap 0.834" in ln for ln in lines), r.stderr
    r = run("gap", "picsys", "--methods", "ep-cloud,time-heuristic", "--instances", str(d), "--out", "o",
            "--max-mean-gap", "0.9")
    assert r.returncode == 0, r.stderr
    r = run("gap", "erds", "--methods", "ep-cloud,cloud-only", "--generate", "tiny", "--seeds", "2", "--out", "e",
            "--max-mean-gap", "10")
    assert r.returncode == 0, r.stderr
    s = json.loads((work / "e" / "summary.json").read_text())["methods"]
    assert s["ep-cloud"]["mean"] == pytest.approx(s["cloud-only"]["mean"])  # the same plans
