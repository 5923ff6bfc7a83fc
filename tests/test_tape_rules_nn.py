"""The registry rule added for the tape (`rules_nn`: `np.bincount`), checked against central
finite differences compiled by Numba (no fallback), as Python, and on the tape twice."""

import numpy as np
import pytest

import adjit
from adjit import GradientTape, constant
from fd import assert_close, numeric_gradient

BINS = np.array([0, 2, 2, 5, 1, 0])
COEFFICIENTS = np.arange(1.0, 8.0)


def scatter(w, bins, c):
    return np.sum(np.sin(np.bincount(bins, w, 7)) * c)


@pytest.mark.parametrize("jit", [True, False])
def test_bincount_weights_gradient_compiled_and_python(jit):
    df = adjit.grad(scatter, wrt=0, jit=jit)
    for seed in (0, 1):
        w = np.random.default_rng(seed).normal(size=6)
        assert_close(df(w, BINS, COEFFICIENTS),
                     numeric_gradient(scatter, [w, BINS, COEFFICIENTS], 0))


def test_bincount_on_the_tape_and_twice_differentiated():
    w0 = np.random.default_rng(2).normal(size=6)
    w = constant(w0)
    with GradientTape() as outer:
        outer.watch(w)
        with GradientTape() as inner:
            inner.watch(w)
            y = scatter(w, BINS, COEFFICIENTS)
        g = inner.gradient(y, w)
    assert_close(g.numpy(), numeric_gradient(scatter, [w0, BINS, COEFFICIENTS], 0))
    hess = outer.jacobian(g, w).numpy()
    # exact: y = sum_b c_b sin(s_b), s_b the sum of the weights in bin b
    s = np.bincount(BINS, w0, 7)
    expected = np.array([[-COEFFICIENTS[BINS[i]] * np.sin(s[BINS[i]]) if BINS[i] == BINS[j]
                          else 0.0 for j in range(6)] for i in range(6)])
    assert_close(hess, expected)
