"""`adjit.check_grad` and `adjit.vjp` against exact derivatives."""

import math

import numpy as np
import pytest

import adjit


def loop(x, y):
    s = 0.0
    for i in range(x.shape[0]):
        s = s + math.sin(x[i]) * y
    return s * s


def elementwise(x):
    return np.sin(x) * 2.0


@adjit.custom_vjp
def square_wrong(x):
    return x * x


@square_wrong.defvjp
def square_wrong_vjp(x, result, g):
    return g * 3.0 * x          # deliberately wrong: the derivative is 2x


def uses_wrong(x):
    return np.sum(square_wrong(x))


X = np.array([0.3, 0.6, -0.2])


@pytest.mark.parametrize("jit", [False, None], ids=["python", "numba"])
def test_check_grad_accepts_a_right_gradient(jit):
    assert adjit.check_grad(loop, X, 1.3, wrt=(0, 1), jit=jit) < 1e-7
    assert adjit.check_grad(loop, X.astype(np.float32), np.float32(1.3), jit=jit) < 1e-3


def test_check_grad_reports_the_worst_element():
    with pytest.raises(AssertionError) as info:
        adjit.check_grad(uses_wrong, X)
    message = str(info.value)
    # d/dx sum(x^2) = 2x; the rule says 3x: worst at the largest |x|, x[1] = 0.6.
    assert "x[1]" in message
    assert "analytic 1.79999" in message and "numeric 1.19999" in message


def test_check_grad_tolerance_and_step_can_be_set():
    assert adjit.check_grad(uses_wrong, X, rtol=1.0, eps=1e-4) == pytest.approx(0.6, rel=1e-6)


@pytest.mark.parametrize("jit", [False, None], ids=["python", "numba"])
def test_vjp_is_the_cotangent_times_the_jacobian(jit):
    value, vjp_fn = adjit.vjp(elementwise, X, jit=jit)
    np.testing.assert_allclose(value, 2.0 * np.sin(X), rtol=1e-12)
    cotangent = np.array([1.0, 0.0, 2.0])
    np.testing.assert_allclose(vjp_fn(cotangent), cotangent * 2.0 * np.cos(X), rtol=1e-12)
    np.testing.assert_allclose(vjp_fn(np.ones(3)), 2.0 * np.cos(X), rtol=1e-12)


def test_vjp_of_several_arguments():
    value, vjp_fn = adjit.vjp(loop, X, 1.3, wrt=(0, 1))
    s = 1.3 * np.sum(np.sin(X))
    assert value == pytest.approx(s * s)
    gx, gy = vjp_fn(0.5)
    np.testing.assert_allclose(gx, 0.5 * 2 * s * 1.3 * np.cos(X), rtol=1e-12)
    assert gy == pytest.approx(0.5 * 2 * s * np.sum(np.sin(X)))
