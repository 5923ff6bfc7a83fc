"""Reductions with `axis` and `keepdims` (and their array methods): gradients against
finite differences on several inputs, compiled by Numba (with no fallback to Python)
and as Python. Each gradient is built once per (function, wrt, jit) and reused."""

import functools
import warnings

import numpy as np
import pytest

import adjit
import reductions as R
from adjit.runtime.compile import AdjitWarning
from fd import assert_close, numeric_gradient

JIT = pytest.mark.parametrize("jit", [False, None], ids=["python", "numba"])


@functools.lru_cache(maxsize=None)
def gradient(func, wrt, jit):
    return adjit.grad(func, wrt=wrt, jit=jit)


def no_fallback(df, *args):
    """`df(*args)`, failing if Numba could not compile it and adjit fell back to Python."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", AdjitWarning)
        return df(*args)


def check(func, args, jit, wrt=0):
    grad = no_fallback(gradient(func, wrt, jit), *args)
    assert type(grad) is type(args[wrt]) and np.shape(grad) == np.shape(args[wrt])
    assert_close(grad, numeric_gradient(func, args, wrt), context=f"{func.__name__} at {args}")
    return grad


def inputs(seeds=3, shape=(3, 4), low=0.3, high=1.5):
    """Random inputs, negative and positive, away from zero (the product of many is small)."""
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        yield rng.uniform(low, high, shape) * rng.choice([-1.0, 1.0], shape)


@JIT
@pytest.mark.parametrize("func", [R.sums, R.means, R.prods, R.extrema, R.spreads, R.cumulative,
                                  R.norms, R.methods], ids=lambda f: f.__name__)
def test_reductions_against_finite_differences(func, jit):
    for x in inputs():
        check(func, (x,), jit)


@JIT
def test_tuples_of_axes_in_three_dimensions(jit):
    for x in inputs(shape=(2, 3, 4)):
        check(R.three_dims, (x,), jit)


@JIT
def test_axis_given_at_run_time(jit):
    for x in inputs(2):
        for k in (0, 1, -1):
            check(R.axis_argument, (x, k), jit)


@JIT
def test_prod_with_zeros(jit):
    # One zero in a group, two zeros in a group, and zeros everywhere a product runs:
    # the gradient is the product of the other elements, never a division by zero.
    for x in inputs(2):
        x[0, 1] = 0.0
        x[1, 0] = x[1, 3] = 0.0
        x[2, 2] = 0.0
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            grad = check(R.prods, (x,), jit)
            assert np.all(np.isfinite(grad))
            grad = check(R.cumulative, (x,), jit)
            assert np.all(np.isfinite(grad))


@JIT
def test_ties_share_the_gradient(jit):
    x = np.array([[2.0, 3.0, 3.0, 0.5], [2.0, 2.0, 2.0, -1.0]])
    grad = no_fallback(gradient(R.ties, 0, jit), x)
    # Row maxima (weights 1 and 2) are shared by the tied elements, and so is the
    # minimum of column 0.
    rows = np.array([[0.0, 0.5, 0.5, 0.0], [2 / 3, 2 / 3, 2 / 3, 0.0]])
    columns = np.array([[0.5, 0.0, 0.0, 0.0], [0.5, 1.0, 1.0, 1.0]])
    expected = rows + columns
    assert_close(grad, expected)


def test_reductions_without_axis_read_as_written():
    source = gradient(R.methods, 0, None).source
    assert "np.prod(x)" in source and "np.var(x)" in source and "np.std(x)" in source
    assert "sum_axis(x, axis=0)" in source
    assert "mean_axis(x, axis=1, keepdims=True)" in source
    source = gradient(R.sums, 0, None).source
    assert "sum_axis(x, axis=(-1, 0))" in source and "sum_axis(x, 1)" in source


def test_norm_with_an_order_is_refused_when_it_runs():
    def norm_ord(x):
        return np.linalg.norm(x, 1)

    with pytest.raises(adjit.TransformError, match="ord=None"):
        adjit.grad(norm_ord, jit=False)(np.ones(3))
