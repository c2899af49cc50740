"""Ranges, size limits, units, seeds and option checks (issue #14 items 5-8, 10; docs/validation.md).

Expected values are derived by hand from the unit definitions (1 Mbit/s = 10**6 bit/s,
1 kB = 1000 B, 1 KiB = 1024 B, 1 ms = 10**-3 s) and from the documented ranges.
"""

from __future__ import annotations

import inspect
import json
import tracemalloc
import warnings

import numpy as np
import pytest

import optoffload as oo
from optoffload.errors import InvalidInstance
from optoffload.option_ranges import RANGES
from optoffload.registry import get_family
from optoffload.units import UnitWarning, parse_quantity
from optoffload.validate import SEED_MAX, parse_json

BASE = {"format": 1, "family": "picsys", "name": "u", "cloud": {"c_u": 0.05},
        "devices": [{"rate": 8e6, "alpha": 0.2, "beta": 0.4,
                     "images": {"count": 3, "size": 800000, "c_s": 0.1, "hit": "010"}}]}


def _with(**dev):
    d = json.loads(json.dumps(BASE))
    for k, v in dev.items():
        if k in ("size", "c_s"):
            d["devices"][0]["images"][k] = v
        elif k == "c_u":
            d["cloud"]["c_u"] = v
        else:
            d["devices"][0][k] = v
    return d


# ------------------------------------------------------------------------------------- units
@pytest.mark.parametrize("text,kind,expected", [
    ("20 Mbit/s", "bit/s", 20e6), ("20Mbps", "bit/s", 20e6), ("500 kbit/s", "bit/s", 5e5),
    ("2.5 MB/s", "bit/s", 2e7), ("1 Gbit/s", "bit/s", 1e9), ("8e6", "bit/s", 8e6),
    ("800 kB", "bytes", 8e5), ("1 KiB", "bytes", 1024.0), ("1.5 MB", "bytes", 1.5e6), ("8 bit", "bytes", 1.0),
    ("30 ms", "s", 0.03), ("2 min", "s", 120.0), ("250 us", "s", 2.5e-4),
    ("16 kB/s", "B/s", 16000.0), ("1 Mbit/s", "B/s", 125000.0),
])
def test_parse_quantity_by_hand(text, kind, expected):
    assert parse_quantity(text, "f", kind) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("text", ["20 Mb/s", "20 furlongs/s", "fast", "20 kB"])
def test_parse_quantity_rejects_unknown_or_ambiguous_units(text):
    with pytest.raises(InvalidInstance, match=r"^devices\[0\]\.rate"):
        parse_quantity(text, "devices[0].rate", "bit/s")


def test_picsys_units_give_the_same_instance_as_base_units():
    a = oo.from_dict(_with(rate="8 Mbit/s", alpha="200 ms", beta="0.4 s", size="800 kB", c_s="100 ms",
                           c_u="50 ms"))
    b = oo.from_dict(BASE)
    assert a.devices[0].rate == b.devices[0].rate == 8e6
    assert np.allclose(a.devices[0].size, b.devices[0].size) and a.c_u == pytest.approx(b.c_u)
    assert oo.solve(a, "all-device").objective == pytest.approx(oo.solve(b, "all-device").objective)


@pytest.mark.parametrize("field,value,fragment", [("rate", 20, "devices[0].rate: 20 bit/s"),
                                                  ("size", 50, "devices[0].images.size"),
                                                  ("alpha", 5000.0, "devices[0].alpha")])
def test_implausible_magnitudes_warn(field, value, fragment):
    with pytest.warns(UnitWarning, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        oo.from_dict(_with(**{field: value}))


def test_plausible_instances_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnitWarning)
        for name in oo.instances():
            oo.load(name)


def test_progressive_link_rate_units_and_warning():
    d = json.loads(json.dumps(oo.load("progressive/airtime-cameras").to_dict()))
    d["link_rate_Bps"] = "128 kbit/s"
    assert oo.from_dict(d).spec.link_rate_Bps == pytest.approx(16000.0)
    d["link_rate_Bps"] = 16
    with pytest.warns(UnitWarning, match="link_rate_Bps"):
        oo.from_dict(d)


# ------------------------------------------------------------------------------ CSV by name
def test_trace_csv_reads_columns_by_name_and_units(tmp_path):
    from optoffload.progressive.traces import load_trace

    f = tmp_path / "t.csv"
    f.write_text("rate_mbit_s,note,time_ms\n0.8,a,1000\n1.6,b,1500\n")
    tr = load_trace(f)
    # by hand: times 1.0 s and 1.5 s shifted to start at 0; 0.8 Mbit/s = 100000 B/s
    assert tr.times == (0.0, 0.5) and tr.rates == pytest.approx((1e5, 2e5))
    g = tmp_path / "g.csv"
    g.write_text("bandwidth,time\n1000,0\n2000,1\n")  # plain names: seconds and the unit= argument
    assert load_trace(g, unit="kbit/s").rates == pytest.approx((125000.0, 250000.0))


def test_trace_csv_missing_column_and_epoch_ms_warning(tmp_path):
    from optoffload.progressive.traces import load_trace

    f = tmp_path / "t.csv"
    f.write_text("when,speed\n0,1\n")
    with pytest.raises(InvalidInstance, match="header"):
        load_trace(f)
    g = tmp_path / "g.csv"
    g.write_text("time,rate\n1700000000000,1000\n1700000000500,1000\n")
    with pytest.warns(UnitWarning, match="epoch milliseconds"):
        load_trace(g)


# ----------------------------------------------------------------------------- size limits
def test_count_limit_is_checked_before_allocating():
    d = _with()
    d["devices"][0]["images"]["count"] = 10**8
    tracemalloc.start()
    try:
        with pytest.raises(InvalidInstance, match=r"devices\[0\]\.images\.count.*OPTOFFLOAD_MAX_IMAGES"):
            oo.from_dict(d)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5 * 2**20  # by construction: nothing of size count (800 MB of floats) was allocated


def test_limits_can_be_raised_in_python_and_by_environment(monkeypatch):
    d = _with()
    d["devices"][0]["images"]["count"] = 5
    d["devices"][0]["images"]["hit"] = "01010"
    with oo.limits.raised(max_images=4):
        with pytest.raises(InvalidInstance, match="max_images"):
            oo.from_dict(d)
    assert oo.from_dict(d).n_images == 5
    monkeypatch.setenv("OPTOFFLOAD_MAX_IMAGES", "4")
    with pytest.raises(InvalidInstance, match="max_images"):
        oo.from_dict(d)
    monkeypatch.setenv("OPTOFFLOAD_MAX_IMAGES", "lots")
    with pytest.raises(InvalidInstance, match="OPTOFFLOAD_MAX_IMAGES"):
        oo.from_dict(d)


def test_trace_generator_duration_is_checked_before_allocating():
    from optoffload.progressive.traces import lognormal_walk

    with pytest.raises(InvalidInstance, match="duration"):
        lognormal_walk(1e4, 0.5, duration=1e9)
    with pytest.raises(InvalidInstance, match="max_trace_samples"):
        lognormal_walk(1e4, 0.5, duration=1e6, dt=0.1)  # 10**7 samples > 10**6


# ------------------------------------------------------------------------------------ JSON
@pytest.mark.parametrize("text,fragment", [
    ('{"a": {"b": 1, "b": 2}}', "'b' appears twice"),
    ("[" * 100 + "]" * 100, "nested deeper"),
    ('{"a": 1' + "0" * 1200 + "}", "integer literal"),
    ("{", "not valid JSON"),
])
def test_strict_json(text, fragment):
    with pytest.raises(InvalidInstance, match=fragment):
        parse_json(text, "x.json", "instance")


def test_huge_and_non_finite_numbers_are_rejected_by_their_field():
    for v in (10**400, float("inf"), float("nan"), 1e16):
        with pytest.raises(InvalidInstance, match=r"^cloud\.c_u"):
            oo.from_dict(_with(c_u=v))


# ------------------------------------------------------------------------------------ seeds
def _fast_instance(family):
    return {"picsys": "picsys/table2", "erds": "erds/paper-u1", "progressive": "progressive/ordering-small"}[family]


@pytest.mark.parametrize("family", ["picsys", "erds", "progressive"])
def test_every_method_and_generator_treats_seeds_the_same(family):
    """Decided range 0..2**31-1 for every method (checked before the method runs) and generator."""
    inst = oo.load(_fast_instance(family))
    for m in get_family(family).methods:
        for bad in (-1, SEED_MAX + 1, 10**30, 1.5, "3"):
            with pytest.raises(InvalidInstance, match="^seed"):
                oo.solve(inst, m, seed=bad, time_limit=5)
    for bad in (-1, SEED_MAX + 1):
        with pytest.raises(InvalidInstance, match="^seed"):
            oo.generate(family, seed=bad)
    oo.generate(family, seed=SEED_MAX)  # the top of the range works
    quick = {"picsys": "greedy", "erds": "random", "progressive": "greedy"}[family]
    assert oo.solve(inst, quick, seed=SEED_MAX).status.has_solution


# ----------------------------------------------------------------------------- option ranges
NON_NUMERIC = {"objective", "solver", "executable", "write", "solver_options", "warm", "cuts", "dominance", "log",
               "direct", "cbc_options", "params", "exact", "bound", "stages", "event_loop", "early_exit",
               "relaxation", "evaluator", "inner", "split_rule", "allocation", "share_lp", "outcomes",
               "continuous_bound", "candidates", "swaps", "cloud", "formulation"}


def test_every_numeric_option_has_a_range():
    """The whole class: every keyword option of every method is either listed in RANGES or known
    to be non-numeric (a new numeric option must be given a range)."""
    missing = []
    for fam in ("picsys", "erds", "progressive", "dnn"):
        for name, spec in get_family(fam).methods.items():
            for p, par in inspect.signature(spec.load()).parameters.items():
                if p in ("inst", "instance", "time_limit", "seed", "threads") or par.kind is par.VAR_KEYWORD:
                    continue
                if p not in RANGES and p not in NON_NUMERIC:
                    missing.append(f"{fam}:{name}:{p}")
    assert not missing


@pytest.mark.parametrize("name", sorted(RANGES))
def test_option_ranges_reject_out_of_range_values(name):
    from optoffload.option_ranges import check_option

    typ, lo, hi, lo_incl = RANGES[name]
    for bad in ([lo - 1] if lo_incl else [lo]) + [hi * 10 + 1, float("nan"), "x", True]:
        with pytest.raises(InvalidInstance, match=f"^{name}"):
            check_option(name, bad)
    assert check_option(name, hi) == hi


def test_policy_options_pass_through_kwargs_are_checked():
    with pytest.raises(InvalidInstance, match="^prior_weight"):
        oo.solve("picsys/table2", "time-heuristic", prior_weight=-1)
    with pytest.raises(InvalidInstance, match="^risk"):
        oo.solve("picsys/table2", "balance", risk=float("inf"))
