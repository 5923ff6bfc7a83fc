"""Array methods and attributes, builtins and `math.atan2`/`math.hypot`: gradients against
finite differences on several inputs, compiled by Numba (with no fallback to Python)
and as Python. Each gradient is built once per (function, wrt, jit) and reused."""

import functools
import warnings

import numpy as np
import pytest

import adjit
import methods as M
from adjit.runtime.compile import AdjitWarning
from fd import assert_close, numeric_gradient

JIT = pytest.mark.parametrize("jit", [False, None], ids=["python", "numba"])

def normal(*shape):
    return lambda rng: rng.normal(size=shape) if shape else float(rng.normal())


def uniform(lo, hi, *shape):
    return lambda rng: rng.uniform(lo, hi, shape) if shape else float(rng.uniform(lo, hi))


def const(value):
    return lambda rng: value


def describe(value):
    """`3x2` for an array, `s` for a float, the value of an int."""
    if isinstance(value, int):
        return str(value)
    return "x".join(map(str, np.shape(value))) or "s"


def case(func, makers, wrt=0, marks=()):
    rng = np.random.default_rng(0)
    kinds = "-".join(describe(make(rng)) for make in makers)
    return pytest.param(func, makers, wrt, id=f"{func.__name__}-{kinds}", marks=marks)


CASES = [
    case(M.attr_shape, [normal(4)]),
    case(M.attr_shape, [normal(2, 3)]),
    case(M.attr_size, [normal(5)]),
    case(M.attr_size, [normal(2, 3)]),
    case(M.attr_ndim, [normal(4)]),
    case(M.attr_ndim, [normal(2, 3)]),
    case(M.builtin_len, [normal(5)]),
    case(M.attr_T, [normal(2, 3), normal(3, 2)], (0, 1)),
    case(M.method_transpose, [normal(3, 4)]),
    case(M.method_transpose, [normal(4)]),
    case(M.method_sum, [normal(5)]),
    case(M.method_sum, [normal(2, 3)]),
    case(M.method_mean, [normal(5)]),
    case(M.method_mean, [normal(3, 2)]),
    case(M.method_max, [normal(6)]),
    case(M.method_max, [normal(2, 3)]),
    case(M.method_min, [normal(6)]),
    case(M.method_min, [normal(3, 2)]),
    case(M.reshape_dims, [normal(6), normal(3, 2)], (0, 1)),
    case(M.reshape_dims, [normal(2, 3), normal(2)], (0, 1)),
    case(M.reshape_int_argument, [normal(2, 6), normal(3, 4), const(3)], (0, 1)),
    case(M.reshape_int_argument, [normal(12), normal(6), const(2)], (0, 1)),
    case(M.reshape_flat, [normal(2, 3), normal(6)], (0, 1)),
    case(M.reshape_flat, [normal(5), normal()], (0, 1)),
    case(M.reshape_transposed, [normal(2, 3), normal(6)], (0, 1)),
    case(M.reshape_transposed, [normal(3, 4), normal(12)], (0, 1)),
    case(M.reshape_chain, [normal(6), normal(6)], (0, 1)),
    case(M.reshape_chain, [normal(3, 2), normal(6)], (0, 1)),
    case(M.np_reshape_int, [normal(2, 3), normal(6), const(6)], (0, 1)),
    case(M.reshape_tuple, [normal(6), normal(2, 3)], (0, 1)),
    case(M.np_reshape_tuple, [normal(2, 3), normal(3, 2)], (0, 1)),
    case(M.method_dot, [normal(4), normal(4)], (0, 1)),
    case(M.method_dot, [normal(3, 4), normal(4)], (0, 1)),
    case(M.method_dot, [normal(4), normal(4, 2)], (0, 1)),
    case(M.method_dot, [normal(3, 4), normal(4, 2)], (0, 1)),
    case(M.method_dot_chain, [normal(2, 3), normal(3)], (0, 1)),
    case(M.method_copy, [normal(5)]),
    case(M.method_copy, [normal(2, 3)]),
    case(M.builtin_abs, [normal()]),
    case(M.builtin_abs, [normal(2, 3)]),
    case(M.builtin_min_max, [normal(), normal()], (0, 1)),
    case(M.builtin_float, [normal()]),
    case(M.builtin_float_element, [normal(4)]),
    case(M.builtin_int, [uniform(0.1, 2.9)]),
    case(M.builtin_range, [normal(), const(5)]),
    case(M.builtin_range, [normal(), const(0)]),
    case(M.int_counters_and_shapes, [normal(4), const(6)]),
    case(M.math_atan2_hypot, [uniform(0.2, 2.0), uniform(-2.0, 2.0)], (0, 1)),
]


@functools.lru_cache(maxsize=None)
def gradient(func, wrt, jit):
    return adjit.grad(func, wrt=wrt, jit=jit)


def no_fallback(df, *args):
    """`df(*args)`, failing if Numba could not compile it and adjit fell back to Python."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", AdjitWarning)
        return df(*args)


@JIT
@pytest.mark.parametrize("func, makers, wrt", CASES)
def test_gradient_against_finite_differences(func, makers, wrt, jit):
    df = gradient(func, wrt, jit)
    for seed in range(3):
        rng = np.random.default_rng(seed)
        args = tuple(make(rng) for make in makers)
        grads = no_fallback(df, *args)
        grads = grads if isinstance(wrt, tuple) else (grads,)
        for grad, index in zip(grads, wrt if isinstance(wrt, tuple) else (wrt,)):
            assert type(grad) is type(args[index])
            assert np.shape(grad) == np.shape(args[index])
            assert_close(grad, numeric_gradient(func, args, index),
                         context=f"{func.__name__} wrt {index} at {args}")


@JIT
@pytest.mark.parametrize("func", [M.method_max_only, M.method_min_only], ids=["max", "min"])
def test_ties_share_the_gradient(func, jit):
    df = gradient(func, 0, jit)
    extreme = 3.0 if func is M.method_max_only else -3.0
    x = np.array([1.0, extreme, 0.5, extreme])
    assert_close(no_fallback(df, x), [0.0, 0.5, 0.0, 0.5])
    # Two-way ties agree with central differences too.
    assert_close(no_fallback(df, x), numeric_gradient(func, (x,), 0))
    assert_close(no_fallback(df, np.full((2, 3), 2.0)), np.full((2, 3), 1.0 / 6.0))


@JIT
@pytest.mark.parametrize("func", [M.int_counters_and_shapes, M.builtin_range, M.builtin_int,
                                  M.builtin_len], ids=lambda f: f.__name__)
def test_integer_values_are_not_differentiated(func, jit):
    # Shapes, sizes, loop counters and `int(...)` get no adjoint variable at all.
    source = gradient(func, 0, jit).source
    for integer in ("i", "j", "k", "n"):
        assert f" b{integer} = " not in source, source
    assert " bx = " in source


def test_reshape_source_reads_like_the_method():
    source = gradient(M.reshape_dims, (0, 1), None).source
    assert "y = reshape_to(x, 3, 2)" in source
    assert "reshape_to(by, np.shape(x))" in source


def test_unsupported_method_arguments_are_refused():
    def copy_order(x):
        return np.sum(x.copy(0))

    def reshape_order(x):
        return np.sum(x.reshape(6, order=0))

    # The counts leave out the array itself, as the user wrote the call.
    with pytest.raises(adjit.TransformError, match=(
            r"`\.copy` takes at most 0 argument\(s\) here, got 1")):
        adjit.grad(copy_order)
    with pytest.raises(adjit.TransformError, match="order"):
        adjit.grad(reshape_order)
