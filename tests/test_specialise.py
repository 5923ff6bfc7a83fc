"""The compiled gradient is specialised to the ranks of its arguments.

`df(*args)` compiles `df.source` re-generated for arguments of those ranks
(which are numbers, which are arrays of how many dimensions): a value known to
be a number needs no `unbroadcast`, nor the saves that only `unbroadcast`
read; and when the value is not returned, what only the value needed is
gone. Each case is checked against central finite differences, compiled
(the specialised module) and as Python (the general one), and the specialised
source is checked to be what it should be.
"""

import numpy as np
import pytest

import adjit
from fd import assert_close, numeric_gradient

MODES = {"python": False, "numba": None}


def carried_sum(x, w):
    s = 0.0
    for i in range(x.shape[0]):
        s = s + w * np.sin(x[i]) * x[i]
    return s


def rows(m):
    s = m[0] * 0.0
    for i in range(m.shape[0]):
        s = s + m[i] * m[i]
    return np.sum(s)


def scale_either(x, k):
    s = x * 0.0
    for i in range(3):
        s = s + x * (i + k)
    return np.sum(s * s)


def pairs(pos, eps):
    n = pos.shape[0]
    e = 0.0
    for i in range(n):
        for j in range(i + 1, n):
            d = pos[i, 0] - pos[j, 0]
            r2 = d * d + (pos[i, 1] - pos[j, 1]) ** 2 + 1.0
            e = e + eps / r2
    return e


def shifted(x, w):
    d = x[1:] - x[:-1] ** 2
    e = (1.0 - x[:-1]) * w[2:]
    return np.sum(100.0 * d * d + e * e) + np.sum(x[1:-1] * w[1:-2])


def shifted_rows(m):
    d = m[1:] - m[:-1]
    return np.sum(d * d * m[2:].sum())


def shifted_in_loop(x, k):
    s = 0.0
    for t in range(3):
        d = x[1:] * (t + k) - x[:-1]
        s = s + np.sum(np.sin(d) * d)
    return s


def not_the_same_rows(x):
    return np.sum(x[1:3] * x[:2] + x[-2:] * x[:2])


GRADS = {}


def gradient(func, mode, wrt):
    key = (func, mode, wrt)
    if key not in GRADS:
        GRADS[key] = adjit.grad(func, wrt=wrt, jit=MODES[mode])
    return GRADS[key]


def check(func, args, wrt, mode):
    df = gradient(func, mode, wrt)
    grads = df(*[np.copy(a) if np.ndim(a) else a for a in args])
    for name, g in zip(wrt, grads):
        index = func.__code__.co_varnames.index(name)
        assert_close(g, numeric_gradient(func, args, index), context=f"d{func.__name__}/d{name}")


rng = np.random.default_rng(11)
CASES = [
    (carried_sum, lambda: (rng.normal(size=5), float(rng.normal())), ("x", "w")),
    (rows, lambda: (rng.normal(size=(3, 4)),), ("m",)),
    (scale_either, lambda: (float(rng.normal()), 0.5), ("x", "k")),
    (scale_either, lambda: (rng.normal(size=4), 0.5), ("x", "k")),
    (scale_either, lambda: (rng.normal(size=(2, 3)), 0.25), ("x", "k")),
    (pairs, lambda: (rng.normal(size=(5, 2)), 0.7), ("pos", "eps")),
    (shifted, lambda: (rng.normal(size=6), rng.normal(size=7)), ("x", "w")),
    (shifted_rows, lambda: (rng.normal(size=(5, 3)),), ("m",)),
    (shifted_in_loop, lambda: (rng.normal(size=5), 0.3), ("x", "k")),
    (not_the_same_rows, lambda: (rng.normal(size=4),), ("x",)),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c[0].__name__ if callable(c) else None)
def test_gradient_of_each_rank(case, mode):
    func, make, wrt = case
    for _ in range(3):
        check(func, make(), wrt, mode)


def test_numbers_need_no_unbroadcast_and_their_saves_go():
    df = adjit.grad(carried_sum, wrt=("x", "w"))
    assert "unbroadcast" in df.source and "stack_s" in df.source
    special = df.source_for(np.ones(4), 2.0)
    assert "unbroadcast" not in special and "stack_" not in special, special
    assert "for x 1-D, w a number (gradient only)" in special.splitlines()[0]


def test_a_row_of_a_matrix_is_no_number():
    special = adjit.grad(rows).source_for(np.ones((2, 3)))
    assert "unbroadcast" in special, special


def test_without_the_value_only_the_gradient_is_computed():
    df = adjit.grad(pairs, wrt=("pos",))
    special = df.source_for(np.ones((3, 2)), 1.0)
    assert "return (None, bpos)" in special, special
    # The forward loop only computed the energy: one loop nest is left, the reverse one.
    assert special.count("for i in range(") == 1, special
    value, grad = adjit.value_and_grad(pairs, wrt=("pos",))(np.arange(6.0).reshape(3, 2), 1.0)
    assert value == pytest.approx(pairs(np.arange(6.0).reshape(3, 2), 1.0))


def test_one_gradient_serves_arguments_of_different_ranks():
    df = gradient(scale_either, "numba", ("x", "k"))
    for x in (0.3, np.array([0.3, -1.0]), np.array([[0.3], [2.0]])):
        gx, gk = df(x, 0.5)
        assert np.shape(gx) == np.shape(x)
        assert_close(gx, numeric_gradient(scale_either, (x, 0.5), 0))
        assert_close(gk, numeric_gradient(scale_either, (x, 0.5), 1))


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def test_slices_dropping_as_many_rows_have_one_shape():
    check(rosenbrock, (rng.normal(size=6),), ("x",), "numba")
    df = adjit.grad(rosenbrock)
    special = df.source_for(np.ones(6))
    assert "unbroadcast" not in special, special
    # The seed's shape comes from a slice of x, not from the sum it is the gradient of
    # (and where ranks are known, the adds spread it: see test_accumulate).
    assert "broadcast_like(bresult, item" in df.source, df.source
    assert "unbroadcast" in adjit.grad(not_the_same_rows).source_for(np.ones(4))


def test_the_shape_of_a_known_array_is_its_attribute():
    """`x.shape` is normalised to `np.shape(x)`, which serves numbers too; specialised to
    an array, the generated code reads the attribute again."""
    df = gradient(carried_sum, "numba", ("x", "w"))
    assert "np.shape(x)" in df.source, df.source
    special = df.source_for(np.ones(4), 2.0)
    assert "x.shape[0]" in special and "np.shape" not in special, special
    check(carried_sum, (rng.normal(size=4), 0.5), ("x", "w"), "numba")
