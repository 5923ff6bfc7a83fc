"""A loop's reverse restores what is expensive to recompute instead of recomputing it.

Matrix products, calls of the user's functions and transcendental functions of
arrays, computed in a `for` loop's body, are saved by the forward sweep (in a
stack made at the first iteration) and restored by each reverse iteration.
Checked against central finite differences, compiled and as Python, and in the
generated source.
"""

import numpy as np
import pytest

import adjit
from fd import assert_close, numeric_gradient

MODES = {"python": False, "numba": None}


def squash(v):
    return 1.0 / (1.0 + np.exp(-v))


def rnn(W, U, xs):
    h = np.zeros(W.shape[0])
    for t in range(xs.shape[0]):
        a = W @ h + np.dot(U, xs[t])
        h = np.tanh(a) * squash(a)
    return np.sum(h * h)


def scalar_recurrence(x, n):
    s = x
    for i in range(n):
        s = s + np.sin(s * i) * 0.1
    return s


rng = np.random.default_rng(3)


def rnn_inputs():
    return (rng.normal(size=(3, 3)) * 0.5, rng.normal(size=(3, 2)), rng.normal(size=(4, 2)))


GRADS = {}


@pytest.mark.parametrize("mode", MODES)
def test_restored_values_give_the_gradient(mode):
    key = mode
    if key not in GRADS:
        GRADS[key] = adjit.grad(rnn, wrt=("W", "U", "xs"), jit=MODES[mode])
    for _ in range(3):
        args = rnn_inputs()
        grads = GRADS[key](*args)
        for k, g in enumerate(grads):
            assert_close(g, numeric_gradient(rnn, args, k), context=f"d rnn / d arg {k}")


def test_products_calls_and_tanh_of_arrays_are_restored():
    special = adjit.grad(rnn, wrt=("W", "U", "xs")).source_for(*rnn_inputs())
    for value in ("matmul", "dot", "squash", "tanh"):
        saved = [line for line in special.splitlines() if f"= restore(stack_{value}" in line]
        assert saved, (value, special)
    assert "if t == 0:" in special


def test_functions_of_numbers_are_recomputed():
    special = adjit.grad(scalar_recurrence).source_for(0.5, 10)
    assert "stack_sin" not in special, special
    value = adjit.grad(scalar_recurrence)(0.5, 10)
    assert_close(value, numeric_gradient(scalar_recurrence, (0.5, 10), 0))
