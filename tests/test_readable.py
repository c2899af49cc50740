"""Results a person can read (issue #16): short reprs, notebook HTML, DataFrames, plots, progress,
method options. Expected values are derived by hand (the tiny PicSys plan below) or from the
family's own objective definition (sums and means that ``evaluate`` must equal)."""

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import optoffload as oo
from optoffload.solution import frame_columns

CASES = [("picsys/table2", "two-stage"), ("erds/paper-u2", "erds-osa"),
         ("progressive/config-fixedk-switching", "greedy"), ("progressive/airtime-concave", "greedy"),
         ("progressive/ordering-small", "greedy")]


def _cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "optoffload", *args], capture_output=True, text=True, **kw)


@pytest.fixture(scope="module")
def big_picsys():
    return oo.generate("picsys", seed=1, devices=20, images=20_000)


def test_reprs_are_short_for_a_large_instance(big_picsys):
    """Issue #16 measured 10,584 and 38,686 characters for a 20 x 1,000 solution and instance."""
    sol = oo.solve(big_picsys, "all-device")
    assert len(repr(sol)) < 300 and "list[20 x list[1000 x str]]" in repr(sol)
    assert len(repr(big_picsys)) < 300 and "20 devices" in repr(big_picsys)
    html = sol._repr_html_()
    ET.fromstring(html)  # well-formed (XML-strict, hence HTML-safe)
    assert len(html.encode()) < 10_000


@pytest.mark.parametrize("name,method", CASES)
def test_notebook_html_and_frame_per_family(name, method):
    inst = oo.load(name)
    sol = oo.solve(inst, method)
    html = sol._repr_html_()
    root = ET.fromstring(html)
    assert root.tag == "table" and len(html.encode()) < 10_000
    assert sol.method in html and sol.status.value in html
    assert len(repr(inst)) < 300 and inst.name in repr(inst)
    df = sol.to_frame()
    assert list(df.columns) == list(frame_columns(inst))  # the documented columns, in order
    assert len(df) > 0


def test_picsys_frame_times_by_hand():
    """One device, rate 8e6 bit/s, sizes 1e6 B (tx = 8 B / r = 1 s), c_s = 0.1, alpha = 0.2,
    beta = 0.3, c_u = 0.5, one server. Plan: i-off, f-off, s-up.
    CPU (eq. 9): image 0 none; image 1 [0, 0.3]; image 2 [0.3, 0.9] (c_s + alpha + beta = 0.6).
    Uplink FIFO: image 0 [0, 1]; image 1 joins at 0.3, starts 1 -> [1, 2]; image 2 joins 0.9 -> [2, 3].
    Cloud: image 0 [1, 1.5]; image 1 [2, 2.5]; s-up completes at upload end 3 = makespan."""
    inst = oo.from_dict({"format": 1, "family": "picsys", "name": "hand", "cloud": {"servers": 1, "c_u": 0.5},
                         "devices": [{"rate": 8e6, "alpha": 0.2, "beta": 0.3,
                                      "images": {"size": [1e6] * 3, "c_s": 0.1, "hit": [1, 1, 1]}}]})
    sol = oo.Solution("picsys", "hand", "manual", "feasible", 3.0, decisions={"outcomes": [["i-off", "f-off", "s-up"]]})
    oo.verify(inst, sol)
    df = sol.to_frame(inst)
    nan = float("nan")
    exp = {"cpu_start_s": [nan, 0.0, 0.3], "cpu_end_s": [nan, 0.3, 0.9], "up_start_s": [0.0, 1.0, 2.0],
           "up_end_s": [1.0, 2.0, 3.0], "cloud_start_s": [1.0, 2.0, nan], "cloud_end_s": [1.5, 2.5, nan],
           "completion_s": [1.5, 2.5, 3.0]}
    for col, want in exp.items():
        np.testing.assert_allclose(df[col].to_numpy(float), want, err_msg=col)
    assert df["server"].tolist() == [0, 0, -1]


def test_picsys_schedule_agrees_with_the_simulator_and_servers_never_overlap():
    from optoffload.picsys.model import parse_plan
    from optoffload.picsys.simulator import schedule, simulate_plan

    inst = oo.generate("picsys", seed=3, devices=4, images=30, servers=3)
    sol = oo.solve(inst, "time-heuristic")
    sc = schedule(inst, sol.decisions)
    res = simulate_plan(inst, parse_plan(inst, sol.decisions))
    assert sc.makespan == res.makespan
    for a, b in zip(sc.completion, res.completion):
        np.testing.assert_array_equal(a, b)
    df = sol.to_frame()
    for srv, g in df[df.server >= 0].groupby("server"):
        g = g.sort_values("cloud_start_s")
        assert (g.cloud_start_s.to_numpy()[1:] >= g.cloud_end_s.to_numpy()[:-1] - 1e-12).all()
    for m, g in df.groupby("device"):  # one uplink per device: FIFO intervals never overlap
        g = g.dropna(subset=["up_start_s"]).sort_values("up_start_s")
        assert (g.up_start_s.to_numpy()[1:] >= g.up_end_s.to_numpy()[:-1] - 1e-12).all()


def test_frames_add_up_to_the_objective():
    """Each family's objective from its definition: progressive ordering = sum importance x P(S >= C_i);
    airtime = sum of the devices' weighted accuracies; config = weighted mean over traces of the
    mean accuracy; ERDS: the bottleneck probabilities of the U tasks sum to 1."""
    for name in ("progressive/ordering-small", "progressive/airtime-concave"):
        sol = oo.solve(name, "exact")
        col = "expected_value" if "ordering" in name else "weighted_accuracy"
        assert sol.to_frame()[col].sum() == pytest.approx(sol.objective, rel=1e-12)
    inst = oo.load("progressive/config-fixedk-switching")
    sol = oo.solve(inst, "exact")
    df = sol.to_frame()
    w = np.array([t.weight for t in inst.spec.traces])
    means = df.groupby("trace").accuracy.mean().to_numpy()
    assert float(np.dot(w, means) / w.sum()) == pytest.approx(sol.objective, rel=1e-12)
    sol = oo.solve("erds/paper-u3", "erds-osa")
    df = sol.to_frame()
    assert df.p_bottleneck.sum() == pytest.approx(1.0, abs=1e-9)
    assert df.split.tolist() == sol.decisions["splits"]


def test_compare_frame_and_rows_jsonl(tmp_path):
    from optoffload.frames import to_frame

    df = oo.compare("progressive/ordering-small", frame=True)
    assert set(df.method) == set(oo.methods("progressive")) and "objective" in df.columns
    p = tmp_path / "rows.jsonl"
    p.write_text('{"id": "a", "x": 1}\n{"id": "b", "y": 2, "traceback": "t"}\n{"id": "c", "x"', encoding="utf-8")
    df = to_frame(tmp_path)
    assert df.id.tolist() == ["a", "b"] and list(df.columns) == ["id", "x", "y"]


@pytest.mark.parametrize("name,method", CASES[:3])
def test_cli_plot_png_pdf_svg(tmp_path, name, method):
    sol = tmp_path / "sol.json"
    r = _cli("solve", name, "--method", method, "--json")
    assert r.returncode == 0, r.stderr
    sol.write_text(r.stdout, encoding="utf-8")
    magic = {"png": b"\x89PNG", "pdf": b"%PDF", "svg": b"<?xml"}
    for ext, head in magic.items():
        out = tmp_path / f"fig.{ext}"
        r = _cli("plot", name, str(sol), "-o", str(out))
        assert r.returncode == 0, r.stderr
        assert out.read_bytes()[:len(head)] == head
    r = _cli("plot", name, str(sol), "-o", str(tmp_path / "fig.gif"))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "output" in r.stderr


def test_cli_plot_rejects_a_solution_of_another_instance(tmp_path):
    sol = tmp_path / "sol.json"
    sol.write_text(_cli("solve", "picsys/table2", "--method", "all-device", "--json").stdout, encoding="utf-8")
    r = _cli("plot", "picsys/testbed", str(sol), "-o", str(tmp_path / "x.png"))
    assert r.returncode == 2 and "decisions.outcomes" in r.stderr and "Traceback" not in r.stderr


def test_methods_options_lists_type_default_meaning():
    r = _cli("methods", "picsys", "--options")
    assert r.returncode == 0, r.stderr
    assert "    log: bool = False  solver log" in r.stdout
    assert "    warm: bool = True  hint the best simple plan" in r.stdout
    r = _cli("methods", "--options")
    assert r.returncode == 2 and "FAMILY" in r.stderr


def test_solve_log_goes_to_stderr_and_json_stays_clean():
    r = _cli("solve", "picsys/table2", "--method", "cpsat", "--log", "--json", "--time-limit", "20",
             "--option", "cuts=false")  # the model path: the decomposition would prove Table 2 without CP-SAT
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["status"] == "optimal"
    assert "CP-SAT" in r.stderr or "Starting" in r.stderr  # CP-SAT's own search log
    r = _cli("solve", "picsys/table2", "--method", "cpsat", "--log", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["status"] == "optimal"
    assert "device decomposition proved" in r.stderr and "cuts=false" in r.stderr
    r = _cli("solve", "erds/paper-u1", "--method", "erds-osa", "--log")
    assert r.returncode == 0 and "no solver log" in r.stderr


def test_progress_lines_when_not_a_terminal(tmp_path, monkeypatch, capsys):
    import optoffload.benchmarks.runner as runner
    from optoffload.benchmarks.suite import Suite

    def tasks(quick):
        return [{"id": f"t{i}", "x": i} for i in range(40)]

    monkeypatch.setattr(runner, "discover", lambda: {"toy": Suite("toy", "", tasks, _square, None)})
    assert runner.run_suite("toy", out=tmp_path, echo=True) == 0
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.startswith("toy: ")]
    # one line per 5 % (40 tasks: every 2), the last one says done
    assert len(lines) == 20 and lines[0].startswith("toy: 2/40 tasks (5%)") and "left" in lines[0]
    assert lines[-1].startswith("toy: 40/40 tasks (100%)") and lines[-1].endswith("done")
    assert runner.run_suite("toy", out=tmp_path, echo=True, progress=False) == 0
    assert "toy: " not in capsys.readouterr().err


def _square(task):
    return {"y": task["x"] ** 2}


def test_readable_md_documents_every_frame_column():
    from pathlib import Path

    from optoffload.erds.view import FRAME_COLUMNS as E
    from optoffload.picsys.view import FRAME_COLUMNS as P
    from optoffload.progressive.view import FRAME_COLUMNS as G

    doc = (Path(__file__).resolve().parent.parent / "docs" / "readable.md").read_text(encoding="utf-8")
    for cols in (P, E, *G.values()):
        for name, meaning in cols.items():
            assert f"| `{name}` | {meaning.replace('|', '/')} |" in doc, name
