"""ERDS objective: product-of-CDFs E[max] against brute force, the cost model by hand, and the
paper's sampled figures (erds.md 5.2/5.4)."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import optoffload as oo
from optoffload.erds import objective, paper_instance, sampled, task_times
from optoffload.erds.evaluate import expected_max, expected_max_sel


def _brute(T, P):
    U, K = T.shape
    return sum(np.prod([P[u, k[u]] for u in range(U)]) * max(T[u, k[u]] for u in range(U))
               for k in itertools.product(range(K), repeat=U))


@st.composite
def _dists(draw):
    U = draw(st.integers(1, 4))
    K = draw(st.integers(1, 4))
    vals = st.one_of(st.integers(0, 5).map(float), st.floats(0, 100, allow_nan=False))
    T = np.array([[draw(vals) for _ in range(K)] for _ in range(U)])
    W = np.array([[draw(st.integers(0, 3)) for _ in range(K)] for _ in range(U)], dtype=float)
    W[:, 0] += 1  # every task has some mass
    return T, W / W.sum(axis=1, keepdims=True)


@settings(max_examples=200, deadline=None)
@given(_dists())
def test_expected_max_equals_enumeration(d):
    """Product of CDFs (no K^U enumeration) equals the K^U sum of eq. (7), ties and zeros included."""
    T, P = d
    bf = _brute(T, P)
    assert expected_max(T, P) == pytest.approx(bf, rel=1e-10, abs=1e-10)
    val, sel = expected_max_sel(T, P)
    assert val == pytest.approx(bf, rel=1e-10, abs=1e-10)
    assert sel.sum() == pytest.approx(1.0)


def test_expected_max_large_U_is_fast_and_bounded():
    """U = 1000 tasks: the max of i.i.d. copies lies between the mean and the largest value."""
    rng = np.random.default_rng(0)
    T = rng.uniform(0, 10, size=(1000, 5))
    P = rng.dirichlet(np.ones(5), size=1000)
    v = expected_max(T, P)
    assert T.max(axis=1).min() <= v <= T.max()


def test_task_times_by_hand():
    """T_u(s, k, w) of erds.md 2.1 on the paper tables, computed by hand.

    Task 1, s = 1, w = 1/3: edge 2*(1+2)*3 = 18; exit 2 adds TR 13 + cloud 4 -> 35;
    exit 5 adds 13 + (4+6+8+10) -> 59. Task 3, s = 0, w = 0.1: edge 2*3/0.1 = 60, exit 5 adds
    70 + (5+7+9+11+13) = 115 -> 175.
    """
    inst = paper_instance(3)
    T = task_times(inst, [1, 1, 0], [1 / 3, 1 / 3, 0.1])
    assert T[0, 0] == pytest.approx(18) and T[0, 1] == pytest.approx(35) and T[0, 4] == pytest.approx(59)
    assert T[2, 4] == pytest.approx(175)
    T5 = task_times(inst, [5, 5, 5], [1.0, 1.0, 1.0])
    assert T5[1].tolist() == pytest.approx([12, 24, 40, 60, 84])  # 2*cumsum(2,4,6,8,10,12)


def test_exact_u1_by_hand():
    """U = 1, w = 1, s = 2: times (6, 14, 28, 36, 46) -> E = sum pi_k t_k = 23.181 (by hand)."""
    inst = oo.load("erds/paper-u1")
    assert objective(inst, [2], [1.0]) == pytest.approx(
        0.1618 * 6 + 0.3854 * 14 + 0.1834 * 28 + 0.0713 * 36 + 0.1981 * 46)


def test_sampled_paper_fixed_allocations():
    """erds.md 5.4 (paper's Edgent-E and Edgent-M): w = 1/3 each, s = (1,1,1) -> 81.60 with
    bars 48.0 / 20.7 / 12.9; w = 0.1 each, s = (0,0,0) -> 147.9 with 60 / 70 / 17.9."""
    inst = oo.load("erds/paper-u3")
    v, parts = sampled(inst, [1, 1, 1], [1 / 3] * 3)
    assert v == pytest.approx(81.60, abs=1e-9)
    assert (parts["edge"], parts["tr"], parts["cloud"]) == pytest.approx((48.0, 20.7, 12.9))
    v, parts = sampled(inst, [0, 0, 0], [0.1] * 3)
    assert v == pytest.approx(147.9, abs=1e-9)
    assert (parts["edge"], parts["tr"], parts["cloud"]) == pytest.approx((60.0, 70.0, 17.9))


def test_sampled_round_exits_shared_mode():
    """Paper evaluator: round r uses seq[3r] for all tasks -> 2,2,2,2,2,2,1,5,2,5 (erds.md 3.4)."""
    from optoffload.erds.evaluate import round_exits

    X = round_exits(oo.load("erds/paper-u3"))
    assert X[:, 0].tolist() == [2, 2, 2, 2, 2, 2, 1, 5, 2, 5]
    assert (X == X[:, :1]).all()


def test_no_early_exit_is_never_faster():
    """Forcing exit K (IAO's DNN) can only lengthen every task (times grow with the exit)."""
    inst = oo.load("erds/paper-u3")
    for s in itertools.product(range(6), repeat=3):
        w = [0.2, 0.3, 0.5]
        assert objective(inst, s, w, early_exit=False) >= objective(inst, s, w) - 1e-12
