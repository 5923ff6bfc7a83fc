"""Elementwise rules: gradients against finite differences, for scalars and arrays, both modes."""

import functools
import warnings

import numpy as np
import pytest

import adjit
import ufuncs as U
from adjit.runtime.compile import AdjitWarning
from fd import assert_close, numeric_gradient

# (function, number of arguments, low, high): inputs are drawn from [low, high].
UNARY = [U.np_exp2, U.np_log2, U.np_log10, U.np_cbrt, U.np_square, U.np_reciprocal, U.np_arcsinh,
         U.np_arccosh, U.np_arctanh, U.np_deg_rad]
BINARY = [U.np_operators_as_functions, U.np_hypot, U.np_arctan2, U.np_logaddexp, U.np_fmax_fmin]
SCALAR_ONLY = [(U.math_functions, 1), (U.math_binary, 2), (U.builtin_max_min, 2)]


@functools.lru_cache(maxsize=None)
def gradient(func, wrt, jit):
    return adjit.grad(func, wrt=wrt, jit=jit)


def check(func, args, wrt, jit):
    grads = gradient(func, wrt, jit)(*args)
    grads = grads if isinstance(wrt, tuple) else (grads,)
    for grad, index in zip(grads, wrt if isinstance(wrt, tuple) else (wrt,)):
        assert np.shape(grad) == np.shape(args[index])
        assert_close(grad, numeric_gradient(func, args, index), context=f"{func.__name__} {args}")


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
@pytest.mark.parametrize("func", UNARY, ids=lambda f: f.__name__)
def test_unary(func, jit):
    rng = np.random.default_rng(1)
    check(func, (rng.uniform(0.2, 1.8, 5),), 0, jit)
    check(func, (float(rng.uniform(0.2, 1.8)),), 0, jit)


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
@pytest.mark.parametrize("func", BINARY, ids=lambda f: f.__name__)
def test_binary_with_broadcasting(func, jit):
    rng = np.random.default_rng(2)
    check(func, (rng.uniform(0.2, 1.8, (3, 4)), rng.uniform(0.2, 1.8, 4)), (0, 1), jit)
    check(func, (rng.uniform(0.2, 1.8, 4), float(rng.uniform(0.2, 1.8))), (0, 1), jit)


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
@pytest.mark.parametrize("func, arity", SCALAR_ONLY, ids=lambda f: getattr(f, "__name__", ""))
def test_math_module(func, arity, jit):
    rng = np.random.default_rng(3)
    for _ in range(3):
        args = tuple(float(v) for v in rng.uniform(0.2, 1.8, arity))
        check(func, args, tuple(range(arity)) if arity > 1 else 0, jit)


# ---- broadcasting: every binary rule un-broadcasts to each operand's shape -------

# Python runs every rule on three pairs of shapes; Numba each rule on one (see ufuncs.py).
BROADCAST = [(U.broadcast_arithmetic, False), (U.broadcast_functions, False),
             (U.broadcast_selection, False), (U.compiled_arithmetic, None),
             (U.compiled_functions, None), (U.compiled_selection, None)]
SHAPES = [(), (4,), (3, 1), (1, 4), (3, 4), (2, 3, 4)]


@functools.lru_cache(maxsize=None)
def no_fallback_gradient(func, wrt, jit):
    df = adjit.grad(func, wrt=wrt, jit=jit)

    def run(*args):
        with warnings.catch_warnings():
            warnings.simplefilter("error", AdjitWarning)
            return df(*args)
    return run


@pytest.mark.parametrize("func, jit", BROADCAST, ids=lambda v: getattr(v, "__name__", str(v)))
def test_binary_rules_unbroadcast(func, jit):
    wrt = tuple(range(len(SHAPES)))
    for seed in range(2):
        rng = np.random.default_rng(seed)
        args = tuple(float(rng.uniform(0.5, 1.5)) if not shape else rng.uniform(0.5, 1.5, shape)
                     for shape in SHAPES)
        grads = no_fallback_gradient(func, wrt, jit)(*args)
        for index, grad in enumerate(grads):
            assert type(grad) is type(args[index]) and np.shape(grad) == np.shape(args[index])
            assert_close(grad, numeric_gradient(func, args, index),
                         context=f"{func.__name__} wrt {index} ({SHAPES[index]})")


@pytest.mark.parametrize("jit", [False, None], ids=["python", "numba"])
def test_where_and_clip_on_numbers(jit):
    df = no_fallback_gradient(U.scalar_selection, (0, 1), jit)
    for x, y in [(0.9, 1.3), (1.4, 0.6), (0.5, 1.0), (1.1, 1.05)]:
        for index, grad in enumerate(df(x, y)):
            assert type(grad) is float
            assert_close(grad, numeric_gradient(U.scalar_selection, (x, y), index),
                         context=f"at {(x, y)}")
