"""Jacobians and higher derivatives on the tape: `jacobian`, `batch_jacobian`, nested tapes
(the inner tape's gradient computation recorded by the outer one), against exact formulas
and central finite differences of the tape's own first derivative's inputs (the function)."""

import numpy as np
import pytest

from adjit import GradientTape, UnconnectedGradients, Variable, constant
from fd import assert_close, numeric_gradient
from test_tape_functions import CASES


# ---- jacobian and batch_jacobian ----------------------------------------------------------

def fd_jacobian(f, x, step=1e-6):
    """d f(x) / d x by central differences: shape f(x).shape + x.shape."""
    y = np.asarray(f(x))
    jac = np.zeros(y.shape + x.shape)
    for idx in np.ndindex(x.shape):
        h = step * max(1.0, abs(x[idx]))
        plus, minus = x.copy(), x.copy()
        plus[idx] += h
        minus[idx] -= h
        jac[(Ellipsis,) + idx] = (np.asarray(f(plus)) - np.asarray(f(minus))) / (2 * h)
    return jac


def vector_function(x):
    return np.sin(x[:, None] * x[None, :2]) + np.cumsum(x)[:, None] ** 2


@pytest.mark.parametrize("seed", [0, 1])
def test_jacobian_against_finite_differences(seed):
    x0 = np.random.default_rng(seed).normal(size=4)
    x = Variable(x0)
    with GradientTape() as tape:
        y = vector_function(x)
    jac = tape.jacobian(y, x)
    assert jac.shape == (4, 2, 4)
    assert_close(jac.numpy(), fd_jacobian(vector_function, x0))


def test_jacobian_of_several_sources_and_unconnected():
    a, b, c = Variable([1.0, 2.0]), Variable(3.0), Variable([5.0])
    with GradientTape(persistent=True) as tape:
        y = a * b
    ja, jb, jc = tape.jacobian(y, [a, b, c])
    assert_close(ja.numpy(), 3.0 * np.eye(2))
    assert_close(jb.numpy(), [1.0, 2.0])
    assert jc is None
    jc = tape.jacobian(y, c, unconnected_gradients=UnconnectedGradients.ZERO)
    assert jc.shape == (2, 1) and not np.any(jc.numpy())


def test_jacobian_of_a_scalar_is_the_gradient():
    x = Variable(np.array([[1.0, 2.0], [3.0, 4.0]]))
    with GradientTape() as tape:
        y = np.sum(x ** 3)
    assert_close(tape.jacobian(y, x).numpy(), 3 * x.numpy() ** 2)


def batch_function(x, w):
    return np.tanh(x @ w) * np.sum(x * x, axis=1, keepdims=True)


def test_batch_jacobian_against_finite_differences():
    rng = np.random.default_rng(4)
    x0, w = rng.normal(size=(5, 3)), rng.normal(size=(3, 2))
    x = constant(x0)
    with GradientTape() as tape:
        tape.watch(x)
        y = batch_function(x, w)
    jac = tape.batch_jacobian(y, x)
    assert jac.shape == (5, 2, 3)
    full = fd_jacobian(lambda v: batch_function(v, w), x0)       # (5, 2, 5, 3)
    for i in range(5):
        assert_close(jac.numpy()[i], full[i, :, i, :])


def test_batch_jacobian_of_a_3d_target():
    x0 = np.random.default_rng(2).normal(size=(2, 3))
    x = constant(x0)
    with GradientTape() as tape:
        tape.watch(x)
        y = x[:, :, None] * x[:, None, :]                 # (2, 3, 3)
    jac = tape.batch_jacobian(y, x)
    assert jac.shape == (2, 3, 3, 3)
    full = fd_jacobian(lambda v: v[:, :, None] * v[:, None, :], x0)
    for i in range(2):
        assert_close(jac.numpy()[i], full[i, :, :, i, :])


def test_batch_jacobian_needs_matching_batches():
    x = constant(np.ones((3, 2)))
    with GradientTape() as tape:
        tape.watch(x)
        y = np.sum(x, axis=0)
    with pytest.raises(ValueError, match="batch"):
        tape.batch_jacobian(y, x)


# ---- nested tapes --------------------------------------------------------------------------

@pytest.mark.parametrize("x0", [-1.5, 0.5, 2.0])
def test_three_nested_tapes_on_x_to_the_fourth(x0):
    x = constant(x0)
    with GradientTape() as t3:
        t3.watch(x)
        with GradientTape() as t2:
            t2.watch(x)
            with GradientTape() as t1:
                t1.watch(x)
                y = x ** 4
            d1 = t1.gradient(y, x)
        d2 = t2.gradient(d1, x)
    d3 = t3.gradient(d2, x)
    assert_close(d1.numpy(), 4 * x0 ** 3)
    assert_close(d2.numpy(), 12 * x0 ** 2)
    assert_close(d3.numpy(), 24 * x0)


def test_second_derivative_of_variables():
    x = Variable(1.3)
    with GradientTape() as outer:
        with GradientTape() as inner:
            y = np.sin(x) * x ** 3 + np.exp(2 * x)
        dy = inner.gradient(y, x)
    d2y = outer.gradient(dy, x)
    x0 = 1.3
    expected = (-np.sin(x0) * x0 ** 3 + 6 * np.cos(x0) * x0 ** 2 + 6 * np.sin(x0) * x0
                + 4 * np.exp(2 * x0))
    assert_close(d2y.numpy(), expected)


def test_persistent_tape_differentiates_its_own_gradient():
    x = Variable(2.0)
    with GradientTape(persistent=True) as tape:
        y = x ** 3
        dy = tape.gradient(y, x)          # recorded: computed inside the block
    assert float(dy) == 12.0
    assert float(tape.gradient(dy, x)) == 12.0     # 6x


def test_mixed_partials_of_two_variables():
    a, b = Variable(0.7), Variable(-1.1)
    with GradientTape() as outer:
        with GradientTape() as inner:
            f = a ** 2 * b ** 3 + np.sin(a * b)
        ga, gb = inner.gradient(f, [a, b])
    h = outer.jacobian([ga, gb][0], [a, b])
    a0, b0 = 0.7, -1.1
    assert_close(h[0].numpy(), 2 * b0 ** 3 - b0 * b0 * np.sin(a0 * b0))
    assert_close(h[1].numpy(), 6 * a0 * b0 ** 2 + np.cos(a0 * b0) - a0 * b0 * np.sin(a0 * b0))


def hessian_by_tapes(f, x0):
    x = constant(x0)
    with GradientTape() as outer:
        outer.watch(x)
        with GradientTape() as inner:
            inner.watch(x)
            y = f(x)
        g = inner.gradient(y, x)
    return outer.jacobian(g, x)


def tape_gradient(f, x0):
    x = constant(x0)
    with GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    return tape.gradient(y, x).numpy()


# Functions whose second derivative the nested tapes must give: every one-argument case of
# test_tape_functions, plus compositions.
ONE_ARGUMENT = sorted(name for name, (func, specs) in CASES.items() if len(specs) == 1)


@pytest.mark.parametrize("name", ONE_ARGUMENT)
def test_hessian_of_each_function_by_nested_tapes(name):
    func, [(shape, sampler)] = CASES[name]
    rng = np.random.default_rng(sum(map(ord, name)) + 1)
    x0 = sampler(shape, rng)

    def f(x):
        return np.sum(np.sin(func(x)) + func(x) ** 2)

    hess = hessian_by_tapes(f, x0)
    assert hess.shape == shape + shape
    expected = fd_jacobian(lambda v: tape_gradient(f, v), x0, step=1e-5)
    assert_close(hess.numpy(), expected, rtol=1e-4, atol=1e-5, context=name)


def test_hessian_through_indexing_rosenbrock():
    def rosen(x):
        return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)

    x0 = np.array([1.2, 0.7, -0.3, 0.4])
    h = hessian_by_tapes(rosen, x0).numpy()
    expected = np.zeros((4, 4))
    for i in range(3):           # exact: the terms 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2
        expected[i, i] += 1200 * x0[i] ** 2 - 400 * x0[i + 1] + 2
        expected[i, i + 1] += -400 * x0[i]
        expected[i + 1, i] += -400 * x0[i]
        expected[i + 1, i + 1] += 200
    assert_close(h, expected)


def test_jacobian_of_inner_gradient_of_a_network():
    rng = np.random.default_rng(8)
    w1, w2 = rng.normal(size=(3, 4)), rng.normal(size=(4,))

    def net(x):
        return np.sum(np.tanh(np.tanh(x @ w1) @ w2) ** 2)

    x0 = rng.normal(size=(2, 3))
    hess = hessian_by_tapes(net, x0)
    assert hess.shape == (2, 3, 2, 3)
    expected = fd_jacobian(lambda v: tape_gradient(net, v), x0, step=1e-5)
    assert_close(hess.numpy(), expected, rtol=1e-4, atol=1e-5)


def test_third_derivative_through_indexing():
    c = constant([0.5, 2.0])
    with GradientTape() as t3:
        t3.watch(c)
        with GradientTape() as t2:
            t2.watch(c)
            with GradientTape() as t1:
                t1.watch(c)
                y = c[0] ** 3 * c[1] ** 2
            g = t1.gradient(y, c)
        h = t2.jacobian(g, c)
    t = t3.jacobian(h, c).numpy()
    x0, x1 = 0.5, 2.0
    assert_close(h.numpy(), [[6 * x0 * x1 ** 2, 6 * x0 ** 2 * x1], [6 * x0 ** 2 * x1, 2 * x0 ** 3]])
    assert_close(t[0, 0], [6 * x1 ** 2, 12 * x0 * x1])
    assert_close(t[0, 1], [12 * x0 * x1, 6 * x0 ** 2])
    assert_close(t[1, 1], [6 * x0 ** 2, 0.0])


def test_outer_tape_not_watching_leaves_the_gradient_unconnected():
    x = constant(1.5)
    other = constant(2.0)
    with GradientTape() as outer:
        outer.watch(other)
        with GradientTape() as inner:
            inner.watch(x)
            y = x ** 3
        g = inner.gradient(y, x)
    assert float(g) == 3 * 1.5 ** 2
    assert outer.gradient(g, other) is None


def test_rule_that_cannot_run_on_tensors_is_refused_only_when_recorded():
    x0 = np.array([2.0, 0.0, 3.0])          # a zero: cumprod's gradient writes in place

    def f(x):
        return np.sum(np.cumprod(x) * np.array([1.0, 2.0, 3.0]))

    x = constant(x0)
    other = constant(1.0)
    with GradientTape() as outer:
        outer.watch(other)                   # records, but not x: the rule runs on arrays
        with GradientTape() as inner:
            inner.watch(x)
            y = f(x)
        g = inner.gradient(y, x)
    assert_close(g.numpy(), numeric_gradient(f, [x0], 0))
    with GradientTape() as outer:
        outer.watch(x)
        with GradientTape() as inner:
            inner.watch(x)
            y = f(x)
        with pytest.raises(NotImplementedError, match="cumprod.*on tensors"):
            inner.gradient(y, x)
