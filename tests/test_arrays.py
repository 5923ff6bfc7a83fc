"""Array products, shape functions, selection, linear algebra and joining arrays
(rules_arrays.py, rules_joins.py): the gradients of the programs of `arrays.CASES` (whose
tangents test_forward.py checks) against central finite differences on several inputs,
compiled by Numba (with no fallback to Python) and as Python. Each gradient is built once
per (function, wrt, jit) and reused; compiling dominates the time, so each test function
exercises several primitives."""

import functools
import warnings

import numba
import numpy as np
import pytest

import adjit
import arrays as A
from adjit.runtime import linalg_helpers
from adjit.runtime.compile import AdjitWarning
from adjit.runtime.helpers import Unsupported
from fd import assert_close, numeric_gradient

JIT = pytest.mark.parametrize("jit", [False, None], ids=["python", "numba"])


def describe(value):
    if isinstance(value, np.ndarray) and value.dtype.kind == "i":
        return "idx"
    return "x".join(map(str, np.shape(value))) or "s"


def case(func, makers, wrt):
    rng = np.random.default_rng(0)
    kinds = "-".join(describe(make(rng)) for make in makers)
    return pytest.param(func, makers, wrt, id=f"{func.__name__}-{kinds}")


# Numba cannot compile `np.squeeze(x)` without an axis (the number of dimensions left is
# known only at run time): Python only.
PYTHON_ONLY = {A.squeeze_all}

CASES = [case(*c) for c in A.CASES]


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
    if jit is not False and func in PYTHON_ONLY:
        pytest.skip("Numba does not compile this; see test_squeeze_without_axis_runs_as_python")
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


def test_repeated_indices_add_up():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    idx = np.array([2, 2, 2, 0, 2])
    for jit in (False, None):
        grad = no_fallback(gradient(A.fancy_read, 0, jit), x, idx)
        assert_close(grad, [np.cos(1.0), 0.0, 4 * np.cos(3.0), 0.0])


def test_squeeze_without_axis_runs_as_python():
    df = adjit.grad(A.squeeze_all)
    x = np.random.default_rng(0).normal(size=(3, 1, 2))
    with pytest.warns(AdjitWarning, match="squeeze"):
        grad = df(x)
    assert_close(grad, numeric_gradient(A.squeeze_all, (x,), 0))


def test_write_through_flip_is_refused():
    with pytest.raises(adjit.TransformError):
        adjit.grad(A.flip_write, jit=False)


def test_transpose_source_reads_like_numpy():
    source = gradient(A.flattens, 0, False).source
    assert "np.transpose(x, (1, 0))" in source
    assert "transpose_back(" in source


# ---- einsum's helpers, subscript by subscript ----------------------------------------

EINSUM_OPERANDS = {"ij,jk->ik": ((3, 4), (4, 2)), "ij,j->i": ((3, 4), (4,)),
                   "i,i->": ((4,), (4,)), "ij->ji": ((3, 4),), "ii->": ((3, 3),),
                   "ij,ij->": ((3, 4), (3, 4))}


@numba.njit
def _einsum_numba(x, y, g):
    return (linalg_helpers.einsum_of("ij,jk->ik", x, y),
            linalg_helpers.einsum_grad_first(g, "ij,jk->ik", x, y),
            linalg_helpers.einsum_grad_second(g, "ij,jk->ik", x, y))


@pytest.mark.parametrize("subscripts", sorted(EINSUM_OPERANDS))
def test_einsum_helpers_against_finite_differences(subscripts):
    rng = np.random.default_rng(1)
    operands = [rng.normal(size=s) for s in EINSUM_OPERANDS[subscripts]]
    value = linalg_helpers.einsum_of(subscripts, *operands)
    assert_close(value, np.einsum(subscripts, *operands))
    g = rng.normal(size=np.shape(value))
    grads = [linalg_helpers.einsum_grad_first(g, subscripts, *operands)]
    if len(operands) == 2:
        grads.append(linalg_helpers.einsum_grad_second(g, subscripts, *operands))
    for k, grad in enumerate(grads):
        weighted = lambda *xs: np.sum(g * np.einsum(subscripts, *xs))  # noqa: E731
        assert_close(grad, numeric_gradient(weighted, operands, k))


def test_einsum_helpers_compile():
    rng = np.random.default_rng(2)
    x, y, g = rng.normal(size=(3, 4)), rng.normal(size=(4, 2)), rng.normal(size=(3, 2))
    value, gx, gy = _einsum_numba(x, y, g)
    assert_close(value, x @ y)
    assert_close(gx, g @ y.T)
    assert_close(gy, x.T @ g)


def test_einsum_other_subscripts_are_refused():
    with pytest.raises(Unsupported, match="'ij->i'"):
        linalg_helpers.einsum_of("ij->i", np.ones((2, 2)))
    with pytest.raises(adjit.TransformError, match="'ij->i'") as error:
        adjit.grad(A.einsum_other, jit=False)(np.ones((2, 2)))
    assert error.value.lineno == A.einsum_other.__code__.co_firstlineno + 1


# ---- joining arrays, casts ---------------------------------------------------------

def _join_one_array(x):
    return np.sum(np.concatenate(x))


def test_join_of_one_array_is_refused_at_the_users_line():
    with pytest.raises(adjit.TransformError, match="tuple or list") as caught:
        adjit.grad(_join_one_array)
    assert caught.value.lineno == _join_one_array.__code__.co_firstlineno + 1


def _vstack_mixed(x, m):
    return np.sum(np.sin(np.vstack([m, x * 2.0, m])) * np.arange(15.0).reshape(5, 3))


def test_vstack_of_rows_and_blocks_as_python():
    rng = np.random.default_rng(3)
    x, m = rng.normal(size=3), rng.normal(size=(2, 3))
    gx, gm = gradient(_vstack_mixed, (0, 1), False)(x, m)
    assert_close(gx, numeric_gradient(_vstack_mixed, (x, m), 0))
    assert_close(gm, numeric_gradient(_vstack_mixed, (x, m), 1))


def _through_float32(x):
    return np.sum(np.sin(x.astype(np.float32)) * 2.0)


@JIT
def test_float32_cast_and_float32_gradient(jit):
    """Exact: d/dx sum(2 sin(float32(x))) = 2 cos(float32(x)), as float64 for a float64
    x, as float32 for a float32 x."""
    x = np.array([0.25, -1.5, 2.0])
    for dtype in (np.float64, np.float32):
        grad = no_fallback(gradient(_through_float32, 0, jit), x.astype(dtype))
        assert grad.dtype == dtype
        expected = 2.0 * np.cos(x.astype(np.float32).astype(np.float64))
        np.testing.assert_allclose(grad, expected, rtol=1e-6)


def test_tensordot_with_a_pair_of_ints_as_python():
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(2, 3)), rng.normal(size=(3, 2, 4))
    ga, gb = gradient(A.tensordot_pair_of_ints, (0, 1), False)(a, b)
    assert_close(ga, numeric_gradient(A.tensordot_pair_of_ints, (a, b), 0))
    assert_close(gb, numeric_gradient(A.tensordot_pair_of_ints, (a, b), 1))
