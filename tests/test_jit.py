"""`adjit.jit`: compiled functions, and the tape recording one as a single operation whose
gradient is its compiled adjoint, against central finite differences."""

import warnings

import numpy as np
import pytest

import adjit
from adjit import GradientTape, Variable, constant
from fd import assert_close, numeric_gradient


def loop(x, w, n):
    s = 0.0
    for i in range(n):
        s = s + np.sin(x * i + w) / (i + 1.0)
    return s * x


def rows(a, scale):
    out = np.zeros(a.shape[0])
    for i in range(a.shape[0]):
        out[i] = np.sum(np.tanh(a[i] * scale)) + a[i, 0] * a[i, -1]
    return out


def uncompilable(x):
    return x * 2.0 + len(object.__name__) * 0.0        # Numba cannot type `object`


jit_loop = adjit.jit(loop)
jit_rows = adjit.jit(rows)
jit_uncompilable = adjit.jit(uncompilable)


def test_plain_calls_run_compiled_and_agree_with_python():
    for x, w in [(0.3, 0.1), (-1.2, 2.0)]:
        assert_close(jit_loop(x, w, 50), loop(x, w, 50), rtol=1e-12)
    a = np.random.default_rng(0).normal(size=(3, 4))
    assert_close(jit_rows(a, 0.7), rows(a, 0.7), rtol=1e-12)
    assert jit_loop._compiled not in (None, False)      # a Numba dispatcher
    assert jit_loop.__wrapped__ is loop and jit_loop.__name__ == "loop"


def test_falls_back_to_python_with_a_warning():
    with pytest.warns(adjit.runtime.compile.AdjitWarning, match="uncompilable"):
        assert jit_uncompilable(1.5) == 3.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert jit_uncompilable(2.0) == 4.0              # warned once


def test_decorator_form():
    @adjit.jit
    def square(x):
        return x * x
    assert square(3.0) == 9.0
    assert isinstance(square, adjit.jit(square).__class__)


def test_one_tape_entry_and_the_gradient_of_a_long_loop():
    x, w = Variable(0.3), Variable(0.2)
    n = 20000
    with GradientTape(persistent=True) as tape:
        y = jit_loop(x, w, n)
    assert tape.recorded_operations == ("jit:loop",)
    gx, gw = tape.gradient(y, [x, w])
    assert_close(float(y), loop(0.3, 0.2, n), rtol=1e-12)
    # exact: y = x s(x, w), s = sum_i sin(x i + w) / (i + 1)
    i = np.arange(n)
    s = np.sum(np.sin(0.3 * i + 0.2) / (i + 1.0))
    assert_close(float(gx), s + 0.3 * np.sum(np.cos(0.3 * i + 0.2) * i / (i + 1.0)), rtol=1e-9)
    assert_close(float(gw), 0.3 * np.sum(np.cos(0.3 * i + 0.2) / (i + 1.0)), rtol=1e-9)


def test_jit_inside_a_larger_tape_expression():
    x = constant(0.7)
    with GradientTape() as tape:
        tape.watch(x)
        y = jit_loop(x, 0.5, 30) * x + np.sin(x)

    def f(v):
        return loop(v, 0.5, 30) * v + np.sin(v)

    assert_close(float(tape.gradient(y, x)), numeric_gradient(f, [0.7], 0), rtol=1e-6)


def test_only_watched_arguments_are_differentiated():
    x, w = constant(0.4), constant(-0.3)
    with GradientTape(persistent=True) as tape:
        tape.watch(w)
        y = jit_loop(x, w, 40)
    assert tape.gradient(y, x) is None
    assert_close(float(tape.gradient(y, w)), numeric_gradient(loop, [0.4, -0.3, 40], 1),
                 rtol=1e-6)


def test_array_argument_and_array_result():
    rng = np.random.default_rng(1)
    a0, weights = rng.normal(size=(3, 4)), np.array([1.0, -2.0, 0.5])
    a, scale = Variable(a0), Variable(0.8)
    with GradientTape() as tape:
        out = jit_rows(a, scale)
        y = np.sum(out * weights)
    ga, gs = tape.gradient(y, [a, scale])

    def f(a, s):
        return np.sum(rows(a, s) * weights)

    assert ga.shape == (3, 4)
    assert_close(ga.numpy(), numeric_gradient(f, [a0, 0.8], 0))
    assert_close(float(gs), numeric_gradient(f, [a0, 0.8], 1))


def test_unwatched_call_returns_a_tensor():
    y = jit_loop(constant(0.3), 0.2, 10)
    assert isinstance(y, adjit.Tensor)
    assert_close(float(y), loop(0.3, 0.2, 10), rtol=1e-12)


def _grad_of(func, args, index):
    """A function of args[index] giving the central-difference gradient w.r.t. it."""
    def grad(value):
        args_ = list(args)
        args_[index] = value
        return numeric_gradient(func, args_, index)
    return grad


def test_second_derivatives_through_jit_on_nested_tapes():
    """The inner gradient is one more tape entry whose own gradient is the compiled
    Hessian-vector product: against differences of differences, mixed ones too."""
    x, w = Variable(0.3), Variable(0.2)
    with GradientTape(persistent=True) as outer:
        with GradientTape() as inner:
            y = jit_loop(x, w, 10)
        gx, gw = inner.gradient(y, [x, w])
    hxx, hxw = outer.gradient(gx, [x, w])
    hwx, hww = outer.gradient(gw, [x, w])
    gx_of = lambda a, b: numeric_gradient(loop, [a, b, 10], 0)       # noqa: E731
    gw_of = lambda a, b: numeric_gradient(loop, [a, b, 10], 1)       # noqa: E731
    h = 1e-4
    assert_close(float(hxx), (gx_of(0.3 + h, 0.2) - gx_of(0.3 - h, 0.2)) / (2 * h), rtol=1e-4)
    assert_close(float(hxw), (gx_of(0.3, 0.2 + h) - gx_of(0.3, 0.2 - h)) / (2 * h), rtol=1e-4)
    assert_close(float(hww), (gw_of(0.3, 0.2 + h) - gw_of(0.3, 0.2 - h)) / (2 * h), rtol=1e-4)
    assert_close(float(hwx), float(hxw), rtol=1e-10)


def test_hessian_of_a_jit_function_of_an_array_on_nested_tapes():
    """sum(tanh(a[i] * scale)) + a[i, 0] a[i, -1] per row: the Jacobian of the gradient
    w.r.t. `a` is the Hessian, against the exact formula."""
    a = Variable(np.array([[0.2, -0.5, 0.9], [1.1, 0.3, -0.7]]))
    with GradientTape() as outer:
        with GradientTape() as inner:
            y = jit_rows(a, 1.3)
        g = inner.gradient(y, a)
    hessian = outer.jacobian(g, a).numpy().reshape(6, 6)
    value = a.numpy()
    t = np.tanh(value * 1.3)
    expected = np.diag((-2.0 * 1.3 ** 2 * t * (1 - t ** 2)).ravel())
    for row in range(2):
        first, last = 3 * row, 3 * row + 2
        expected[first, last] += 1.0
        expected[last, first] += 1.0
    assert_close(hessian, expected, rtol=1e-8)


def test_third_derivative_through_jit_on_nested_tapes_is_refused_not_wrong():
    x = constant(0.3)
    with GradientTape() as t1:
        t1.watch(x)
        with GradientTape() as t2:
            t2.watch(x)
            with GradientTape() as t3:
                t3.watch(x)
                y = jit_loop(x, 0.2, 10)
            g = t3.gradient(y, x)
        h = t2.gradient(g, x)
    with pytest.raises(NotImplementedError, match="third derivative"):
        t1.gradient(h, x)