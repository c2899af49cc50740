"""Method plugins (issue #10): register_method, callables, "module:function", --plugin, entry points.

Expected values are never copied from our own output: a plugin that returns the decisions of a
built-in method must score exactly what the built-in scores (both are replayed by the family's
simulator, the single source of truth); ``gap_to`` figures are worked by hand from its definition
(objective / best - 1 for minimization, best / objective - 1 for maximization).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import optoffload as oo
from optoffload.api import gap_to
from optoffload.registry import resolve_method
from plugin_helpers import build_wheel as _wheel

PLUGIN = textwrap.dedent('''
    import optoffload as oo

    @oo.register_method("picsys", "cloud-first", summary="offload every image at the initial stage")
    def cloud_first(inst, *, time_limit=None, seed=0, threads=None, beam: int = 1):
        return oo.solve(inst, "all-cloud").decisions        # plain decisions: scored by oo.evaluate

    def as_solution(inst, *, time_limit=None, seed=0, threads=None):
        return oo.solve(inst, "all-device")                  # a Solution

    def wrong(inst, **kw):
        return 42

    def infeasible(inst, **kw):
        d = oo.solve(inst, "all-cloud").decisions
        d["outcomes"][0][0] = "bogus"
        return d

    def lying(inst, **kw):
        sol = oo.solve(inst, "all-cloud")
        sol.objective = sol.objective / 2
        return sol

    def boom(inst, **kw):
        return [][1]

    notcallable = 3
''')


def cli(*args: str, cwd: Path | None = None, env_path: Path | None = None) -> subprocess.CompletedProcess:
    import os

    env = dict(os.environ)
    if env_path is not None:
        env["PYTHONPATH"] = str(env_path) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "optoffload", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=300)


def one_line_error(r: subprocess.CompletedProcess, code: int, *needles: str) -> None:
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    for n in needles:
        assert n in lines[0], (n, lines[0])


@pytest.fixture
def plugin_dir(tmp_path, monkeypatch):
    (tmp_path / "mymod.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop("mymod", None)
    oo.unregister_method("picsys", "cloud-first")


@pytest.fixture
def registered():
    names: list[tuple[str, str]] = []
    yield names
    for fam, n in names:
        oo.unregister_method(fam, n)


# ------------------------------------------------------------------------------ the API

def test_decorator_registration_solve_and_methods(registered):
    inst = oo.load("picsys/table2")

    @oo.register_method("picsys", "t-cloud", summary="all-cloud decisions")
    def t_cloud(inst, *, time_limit=None, seed=0, threads=None):
        return oo.solve(inst, "all-cloud").decisions

    registered.append(("picsys", "t-cloud"))
    assert "t-cloud" in oo.methods("picsys") and "picsys:t-cloud" in oo.methods()
    sol = oo.solve(inst, "t-cloud")
    # the same plan as the built-in baseline, replayed by the same simulator
    assert sol.objective == oo.solve(inst, "all-cloud").objective
    assert sol.method == "t-cloud" and sol.status is oo.Status.FEASIBLE
    assert oo.solve(inst, t_cloud).method == "t-cloud"  # a registered callable keeps its name


def test_register_method_call_form_and_module_string(plugin_dir, registered):
    fn = oo.register_method("picsys", "t-dev", lambda inst, **kw: oo.solve(inst, "all-device"), kind="baseline")
    registered.append(("picsys", "t-dev"))
    assert callable(fn)
    oo.register_method("picsys", "t-str", "mymod:as_solution")
    registered.append(("picsys", "t-str"))
    inst = oo.load("picsys/table2")
    ref = oo.solve(inst, "all-device").objective
    assert oo.solve(inst, "t-dev").objective == ref
    assert oo.solve(inst, "t-str").objective == ref


def test_register_method_rejects_bad_input(registered):
    f = lambda inst, **kw: None  # noqa: E731
    with pytest.raises(oo.UnknownName, match="family"):
        oo.register_method("nofamily", "x", f)
    with pytest.raises(oo.InvalidInstance, match="built-in"):
        oo.register_method("picsys", "cpsat", f)
    with pytest.raises(oo.InvalidInstance, match="kind"):
        oo.register_method("picsys", "x", f, kind="magic")
    with pytest.raises(oo.InvalidInstance, match="not callable"):
        oo.register_method("picsys", "x", 3)  # type: ignore[call-overload]
    with pytest.raises(oo.InvalidInstance, match="name"):
        oo.register_method("picsys", "a:b", f)
    oo.register_method("picsys", "t-dup", f)
    registered.append(("picsys", "t-dup"))
    with pytest.raises(oo.InvalidInstance, match="already registered"):
        oo.register_method("picsys", "t-dup", lambda inst, **kw: None)
    oo.register_method("picsys", "t-dup", f, replace=True)


def test_callable_and_module_function_string(plugin_dir):
    import mymod

    inst = oo.load("picsys/table2")
    ref = oo.solve(inst, "all-device").objective
    assert oo.solve(inst, mymod.as_solution).objective == ref
    sol = oo.solve(inst, "mymod:as_solution")
    assert sol.objective == ref and sol.method == "mymod:as_solution"


def test_options_checked_by_signature(plugin_dir):
    inst = oo.load("picsys/table2")
    assert oo.solve(inst, "mymod:cloud_first", beam=3).status.has_solution
    with pytest.raises(oo.InvalidInstance, match="colour.*unknown option.*known: beam"):
        oo.solve(inst, "mymod:cloud_first", colour=1)


def test_wrong_return_type_infeasible_plan_and_lying_objective(plugin_dir):
    inst = oo.load("picsys/table2")
    with pytest.raises(oo.InvalidInstance, match="mymod:wrong.*returned int"):
        oo.solve(inst, "mymod:wrong")
    with pytest.raises(oo.InvalidInstance, match="mymod:infeasible.*infeasible or malformed plan.*bogus"):
        oo.solve(inst, "mymod:infeasible")
    with pytest.raises(oo.VerificationError, match="simulator gives"):
        oo.solve(inst, "mymod:lying")


def test_unknown_and_not_callable_targets_name_the_method(plugin_dir):
    with pytest.raises(oo.UnknownName, match="'nope'"):
        resolve_method("picsys", "nope")
    with pytest.raises(oo.UnknownName, match="'nomod:f'.*cannot import module 'nomod'"):
        resolve_method("picsys", "nomod:f")
    with pytest.raises(oo.UnknownName, match="'mymod:nothere'.*no attribute"):
        resolve_method("picsys", "mymod:nothere")
    with pytest.raises(oo.InvalidInstance, match="'mymod:notcallable'.*not callable"):
        resolve_method("picsys", "mymod:notcallable")


def test_compare_keeps_every_row_and_reports_gap_to_best(plugin_dir):
    import mymod

    rows = oo.compare("picsys/table2", ["all-cloud", mymod.boom, "mymod:wrong", "all-device", "cloud-first"])
    by = {r["method"]: r for r in rows}
    assert [r["method"] for r in rows] == ["all-cloud", "boom", "mymod:wrong", "all-device", "cloud-first"]
    assert by["boom"]["status"] == "error" and by["boom"]["error"].startswith("IndexError")
    assert by["mymod:wrong"]["status"] == "error" and "returned int" in by["mymod:wrong"]["error"]
    ok = [r for r in rows if r["status"] != "error"]
    best = min(r["objective"] for r in ok)
    for r in ok:  # the definition, applied to the rows' own objectives
        assert r["gap_to_best"] == pytest.approx(r["objective"] / best - 1, abs=1e-12)
    assert min(r["gap_to_best"] for r in ok) == 0.0
    assert by["boom"]["gap_to_best"] is None


def test_compare_options_are_routed_by_signature(plugin_dir):
    import mymod  # noqa: F401 - registers cloud-first

    rows = oo.compare("picsys/table2", ["all-cloud", "cloud-first"], options={"beam": 2})
    assert all(r["status"] == "feasible" for r in rows)  # beam goes to cloud-first only (it names it)
    rows = oo.compare("picsys/table2", ["all-cloud", "time-heuristic"], options={"time-heuristic.tokens": True})
    assert all(r["status"] == "feasible" for r in rows)
    with pytest.raises(oo.InvalidInstance, match="no compared method named 'nope'"):
        oo.compare("picsys/table2", ["all-cloud"], options={"nope.x": 1})
    with pytest.raises(oo.UnknownName, match="unknown method 'nope'"):
        oo.compare("picsys/table2", ["all-cloud", "nope"])


def test_gap_to_by_hand():
    assert gap_to(3.0, 2.0, "min") == pytest.approx(0.5)   # 3/2 - 1
    assert gap_to(2.0, 3.0, "max") == pytest.approx(0.5)   # 3/2 - 1
    assert gap_to(2.0, 2.0, "min") == 0.0
    assert gap_to(0.0, 0.0, "min") == 0.0
    assert gap_to(1.0, 0.0, "min") is None                 # ratio undefined
    assert gap_to(None, 2.0) is None and gap_to(2.0, None) is None


def test_evaluate_scores_any_family():
    inst = oo.load("picsys/table2")
    sol = oo.solve(inst, "all-device")
    assert oo.evaluate(inst, sol.decisions) == sol.objective
    with pytest.raises(oo.InvalidInstance, match="decisions"):
        oo.evaluate(inst, {"outcomes": []})
    import optoffload.erds as erds

    e = oo.load("erds/paper-u2")
    splits = [e.K] * e.U
    w, value = erds.optimal_shares(e, splits)
    # the share LP's value is the exact evaluator's value of the plan it returns
    assert oo.evaluate(e, erds.decisions(splits, w)) == pytest.approx(value, rel=1e-9)
    # and no worse than equal shares (a feasible point of the same convex problem)
    eq = [e.capacity / e.U] * e.U
    assert value <= oo.evaluate(e, erds.decisions(splits, eq)) * (1 + 1e-9)
    with pytest.raises(oo.InvalidInstance, match=r"splits\[0\]"):
        erds.optimal_shares(e, [e.K + 1] * e.U)


def test_policy_solution_of_a_user_policy():
    from optoffload.picsys import OFFLOAD, DeviceView, Policy, policy_solution

    class Offload(Policy):
        name = "offload"

        def initial(self, dev: DeviceView) -> int:
            return OFFLOAD

        def filtering(self, dev: DeviceView) -> int:
            return OFFLOAD

    inst = oo.load("picsys/table2")
    sol = policy_solution(inst, Offload())
    # offloading every image at the initial stage is exactly the all-cloud baseline (paper 6.1)
    assert sol.objective == pytest.approx(oo.solve(inst, "all-cloud").objective, rel=1e-12)
    assert oo.verify(inst, sol) == pytest.approx(sol.objective, rel=1e-12)


# ------------------------------------------------------------------------------ the CLI (subprocesses)

def test_cli_plugin_module_methods_solve_compare(plugin_dir):
    r = cli("--plugin", "mymod", "methods", "picsys", cwd=plugin_dir)
    assert r.returncode == 0, r.stderr
    rows = {line.split("\t")[0]: line.split("\t") for line in r.stdout.splitlines()}
    assert "cpsat" in rows and rows["cloud-first"][1] == "heuristic" and "[registered]" in rows["cloud-first"][2]
    r = cli("--plugin", "mymod", "methods", cwd=plugin_dir)
    assert r.returncode == 0 and "picsys:cloud-first" in r.stdout.split() and "erds:erds-osa" in r.stdout.split()
    r = cli("--plugin", "mymod", "solve", "picsys/table2", "--method", "cloud-first", "--json", cwd=plugin_dir)
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["method"] == "cloud-first" and d["objective"] == oo.evaluate("picsys/table2", d["decisions"])
    r = cli("--plugin", str(plugin_dir / "mymod.py"), "compare", "picsys/table2", "--methods",
            "cloud-first,mymod:boom,all-device", "--option", "beam=2", "--json", cwd=plugin_dir)
    assert r.returncode == 1, r.stderr  # one error row
    rows = {x["method"]: x for x in json.loads(r.stdout)["rows"]}
    assert rows["mymod:boom"]["status"] == "error" and "IndexError" in rows["mymod:boom"]["error"]
    assert rows["cloud-first"]["status"] == rows["all-device"]["status"] == "feasible"
    r = cli("compare", "picsys/table2", "--methods", "all-cloud,all-device", cwd=plugin_dir)
    assert r.returncode == 0 and "to best" in r.stdout


def test_cli_methods_without_family():
    r = cli("methods")
    assert r.returncode == 0, r.stderr
    names = r.stdout.split()
    assert {"picsys:cpsat", "erds:erds-osa", "progressive:greedy"} <= set(names)


@pytest.mark.parametrize("args,needles", [
    (["solve", "picsys/table2", "--method", "nope"], ["unknown method 'nope'"]),
    (["--plugin", "nosuchplugin", "methods"], ["--plugin", "nosuchplugin"]),
    (["--plugin", "nofile.py", "methods"], ["--plugin", "nofile.py"]),
    (["--plugin", "broken", "methods"], ["--plugin", "broken", "ZeroDivisionError"]),
    (["--plugin", "badreg", "methods"], ["--plugin", "badreg", "'x'", "not callable"]),
    (["--plugin", "multiline", "methods"], ["--plugin", "multiline", "first second"]),
    (["solve", "picsys/table2", "--method", "mymod:notcallable"], ["mymod:notcallable", "not callable"]),
    (["solve", "picsys/table2", "--method", "nomod:f"], ["nomod:f", "cannot import"]),
    (["solve", "picsys/table2", "--method", "mymod:wrong"], ["mymod:wrong", "returned int"]),
    (["solve", "picsys/table2", "--method", "mymod:infeasible"], ["mymod:infeasible", "infeasible"]),
    (["compare", "picsys/table2", "--methods", "all-cloud,nope"], ["unknown method 'nope'"]),
    (["compare", "picsys/table2", "--methods", "mymod:as_solution", "--option", "beam=2"], ["beam"]),
    (["compare", "picsys/table2", "--option", "noequals"], ["--option"]),
])
def test_cli_bad_input_exits_2_with_one_line(plugin_dir, args, needles):
    (plugin_dir / "broken.py").write_text("x = 1 / 0\n")
    (plugin_dir / "badreg.py").write_text("import optoffload as oo\noo.register_method('picsys', 'x', 3)\n")
    (plugin_dir / "multiline.py").write_text("raise ValueError('first\\nsecond')\n")
    one_line_error(cli(*args, cwd=plugin_dir), 2, *needles)


def test_cli_compare_raising_method_exit_1_keeps_rows(plugin_dir):
    r = cli("compare", "picsys/table2", "--methods", "all-cloud,mymod:boom", cwd=plugin_dir)
    assert r.returncode == 1
    assert "all-cloud" in r.stdout and "IndexError" in r.stdout and "1 of 2 methods failed" in r.stderr


# ------------------------------------------------------------------------------ entry points

def _dist(root: Path, name: str, entry_points: str, code: str) -> Path:
    """A minimal installed distribution: a module plus ``NAME.dist-info`` with ``entry_points.txt``
    (what pip writes; importlib.metadata finds it on sys.path)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{name}.py").write_text(code)
    info = root / f"{name}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(entry_points)
    return root


EP_CODE = textwrap.dedent('''
    import optoffload as oo
    import optoffload.erds as erds

    def picsys_cloud(inst, *, time_limit=None, seed=0, threads=None):
        return oo.solve(inst, "all-cloud").decisions

    def erds_full_local(inst, *, time_limit=None, seed=0, threads=None):
        splits = [inst.K] * inst.U
        w, _ = erds.optimal_shares(inst, splits)
        return erds.decisions(splits, w)
''')


def test_entry_point_methods_from_an_installed_distribution(tmp_path):
    root = _dist(tmp_path / "site", "eppkg", textwrap.dedent('''
        [optoffload.methods]
        picsys.ep-cloud = eppkg:picsys_cloud
        erds:ep-local = eppkg:erds_full_local
        nodot = eppkg:picsys_cloud
        picsys.cpsat = eppkg:picsys_cloud
        picsys.ep-missing = eppkg_nothere:f
    '''), EP_CODE)
    r = cli("methods", "picsys", env_path=root, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    names = [line.split("\t")[0] for line in r.stdout.splitlines()]
    assert "cpsat" in names and "ep-cloud" in names and names.count("cpsat") == 1
    # broken entry points are reported by name, built-ins stay
    assert "'nodot'" in r.stderr and "'picsys.cpsat'" in r.stderr and "Traceback" not in r.stderr
    r = cli("solve", "picsys/table2", "--method", "ep-cloud", "--json", env_path=root, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["objective"] == oo.solve("picsys/table2", "all-cloud").objective
    r = cli("solve", "erds/paper-u2", "--method", "ep-local", "--json", env_path=root, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    e = oo.load("erds/paper-u2")
    import optoffload.erds as erds

    assert json.loads(r.stdout)["objective"] == pytest.approx(erds.optimal_shares(e, [e.K] * e.U)[1], rel=1e-9)
    r = cli("solve", "picsys/table2", "--method", "ep-missing", env_path=root, cwd=tmp_path)
    one_line_error(r, 2, "ep-missing", "eppkg_nothere")


def test_entry_point_from_a_pip_installed_wheel(tmp_path):
    whl = _wheel(tmp_path, "mywheelpkg", "[optoffload.methods]\npicsys.wheel-cloud = mywheelpkg:picsys_cloud\n",
                 EP_CODE)
    site = tmp_path / "site"
    r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target",
                        str(site), str(whl)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    r = cli("methods", "picsys", env_path=site, cwd=tmp_path)
    assert r.returncode == 0 and "wheel-cloud\theuristic\t[entry point picsys.wheel-cloud (mywheelpkg)]" in r.stdout
    r = cli("solve", "picsys/table2", "--method", "wheel-cloud", "--json", env_path=site, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["objective"] == oo.solve("picsys/table2", "all-cloud").objective
