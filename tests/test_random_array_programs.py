"""Random array programs (broadcasting, reductions, loops, branches) against finite differences."""

import random
import warnings

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import adjit
from array_program_gen import source
from fd import assert_close, numeric_gradient
from program_gen import load_module


def inputs(seed):
    rng = np.random.default_rng(seed)
    return (float(rng.uniform(-1, 1)), rng.uniform(-1, 1, 3), rng.uniform(-1, 1, (2, 3)),
            int(rng.integers(0, 4)))


def check(tmp_path_factory, seed, point, jit):
    text = source(random.Random(seed))
    prog = load_module(text, tmp_path_factory.getbasetemp(), prefix="array_prog").prog
    args = inputs(point)
    assume(np.isfinite(prog(*args)))
    numeric = [numeric_gradient(prog, args, i) for i in range(3)]
    coarse = [numeric_gradient(prog, args, i, step=2e-6) for i in range(3)]
    # Near a branch's threshold, or a kink of abs/maximum, finite differences are meaningless.
    assume(all(np.allclose(a, b, rtol=1e-4, atol=1e-6) for a, b in zip(numeric, coarse)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", adjit.api.compiling.AdjitWarning)
        grads = adjit.grad(prog, wrt=(0, 1, 2), jit=jit)(*args)
    for name, grad, expected, arg in zip("axy", grads, numeric, args):
        assert np.shape(grad) == np.shape(arg)
        assert_close(grad, expected, context=f"d/d{name} at {args}\n{text}")


@settings(max_examples=80, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(seed=st.integers(0, 10**6), point=st.integers(0, 10**6))
def test_random_array_programs_python(tmp_path_factory, seed, point):
    check(tmp_path_factory, seed, point, jit=False)


@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(seed=st.integers(0, 10**6), point=st.integers(0, 10**6))
def test_random_array_programs_numba(tmp_path_factory, seed, point):
    check(tmp_path_factory, seed, point, jit=None)
