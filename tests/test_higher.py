"""Higher derivatives: `hessian`, `hvp`, `jacobian`, `grad(grad(f))`, third derivatives and
`higher.jvp_of_vjp`, against exact formulas and central differences of gradients, on several
inputs, compiled by Numba (with no fallback to Python) and as Python. Each derivative is
built once per (function, wrt, jit) and reused: compiling dominates the time."""

import functools
import warnings

import numpy as np
import pytest

import adjit
from adjit import higher
from adjit.runtime.compile import AdjitWarning
from fd import assert_close

JIT = pytest.mark.parametrize("jit", [False, None], ids=["python", "numba"])


def no_fallback(fn, *args):
    """`fn(*args)`, failing if Numba could not compile and adjit fell back to Python."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", AdjitWarning)
        return fn(*args)


@functools.lru_cache(maxsize=None)
def hessian(func, wrt, jit):
    return adjit.hessian(func, wrt=wrt, jit=jit)


@functools.lru_cache(maxsize=None)
def hvp(func, wrt, jit):
    return adjit.hvp(func, wrt=wrt, jit=jit)


@functools.lru_cache(maxsize=None)
def grad(func, wrt=0):
    return adjit.grad(func, wrt=wrt, jit=False)


def hessian_by_differences(func, args, wrt=0, step=1e-5):
    """Central differences of adjit's gradient (checked against finite differences by
    the gradient tests), one column per element of args[wrt]."""
    g = grad(func, wrt)
    x = args[wrt]
    if not isinstance(x, np.ndarray):
        h = step * max(1.0, abs(x))
        up, down = list(args), list(args)
        up[wrt], down[wrt] = x + h, x - h
        return (g(*up) - g(*down)) / (2 * h)
    out = np.zeros(x.shape + x.shape)
    for j in np.ndindex(x.shape):
        h = step * max(1.0, abs(float(x[j])))
        up, down = list(args), list(args)
        up[wrt], down[wrt] = x.copy(), x.copy()
        up[wrt][j] += h
        down[wrt][j] -= h
        out[(Ellipsis,) + j] = (g(*up) - g(*down)) / (2 * h)
    return out


# ---- the functions -------------------------------------------------------------------

def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def rosenbrock_hessian(x):
    n = x.size
    h = np.zeros((n, n))
    for i in range(n - 1):
        h[i, i] += 1200.0 * x[i] ** 2 - 400.0 * x[i + 1] + 2.0
        h[i + 1, i + 1] += 200.0
        h[i, i + 1] -= 400.0 * x[i]
        h[i + 1, i] -= 400.0 * x[i]
    return h


def quadratic_form(x, a):
    return x @ a @ x


def sin_cubed(x):
    return np.sum(np.sin(x) * x ** 3)


def sin_cubed_hessian(x):
    return np.diag(-np.sin(x) * x ** 3 + 6.0 * x ** 2 * np.cos(x) + 6.0 * x * np.sin(x))


def loop_with_branch(x, n):
    """Each iteration multiplies by x or adds sin(x), depending on where s is."""
    s = x
    for i in range(n):
        if s > 1.0:
            s = s * x - 0.5
        else:
            s = s + np.sin(x * i) * x
    return s


def while_and_writes(x):
    """A while loop and element writes: its adjoint has a growing stack and undo logs."""
    y = x.copy()
    k = 0
    while k < 3:
        for i in range(1, y.shape[0]):
            y[i] = y[i] * np.cos(y[i - 1]) + x[i] * 0.5
        k += 1
    return np.sum(y * y)


def helper(u, v):
    return u * np.exp(v * 0.3), u + v


def calls_helper(x, y):
    """A call of a user function returning a tuple, in a loop."""
    s = 0.0
    for i in range(x.shape[0]):
        a, b = helper(x[i], y)
        s = s + a * b
    return s + y ** 3


def countdown(u, m):
    for i in range(m, 0, -1):
        u = np.sin(u * i * 0.3) + u
    return u


def calls_countdown(x):
    """A callee counting down over an integer argument (its loop variable is assigned in
    the adjoint's reverse loop: a tangent of an integer, zero)."""
    return countdown(x, 3) * x


def vector_function(x, y):
    return np.sin(x) * y[0] + x ** 2 * np.sum(y * y) + np.cumsum(x) * y[1]


def wide(x):
    """Three inputs, two outputs."""
    return np.sin(x[:2]) * np.sum(x * x) + x[1:] * x[0] ** 3


A = np.array([[2.0, 0.5, -0.1], [0.3, 1.0, 0.2], [0.0, 0.4, 3.0]])


def points(n, seeds=3, low=-1.2, high=1.2):
    for seed in range(seeds):
        yield np.random.default_rng(seed).uniform(low, high, n)


# ---- Hessians --------------------------------------------------------------------------

@JIT
def test_hessian_of_rosenbrock_is_exact_and_symmetric(jit):
    for x in points(5):
        h = no_fallback(hessian(rosenbrock, 0, jit), x)
        assert h.shape == (5, 5) and h.dtype == np.float64
        assert_close(h, rosenbrock_hessian(x), rtol=1e-10, atol=1e-10)
        assert np.max(np.abs(h - h.T)) <= 1e-12 * np.max(np.abs(h))
        assert_close(h, hessian_by_differences(rosenbrock, (x,)), rtol=1e-6, atol=1e-6)


@JIT
def test_hessian_of_quadratic_form(jit):
    for x in points(3):
        h = no_fallback(hessian(quadratic_form, 0, jit), x, A)
        assert_close(h, A + A.T, rtol=1e-12, atol=1e-12)
        assert_close(hessian_by_differences(quadratic_form, (x, A)), A + A.T)
    # With respect to the matrix: x^T A x is linear in A.
    h = no_fallback(hessian(quadratic_form, 1, jit), np.ones(3), A)
    assert h.shape == (3, 3, 3, 3) and np.all(h == 0.0)


@JIT
def test_hessian_of_sum_of_sin_times_cube(jit):
    for x in points(4):
        h = no_fallback(hessian(sin_cubed, 0, jit), x)
        assert_close(h, sin_cubed_hessian(x), rtol=1e-11, atol=1e-11)
        assert_close(h, hessian_by_differences(sin_cubed, (x,)), rtol=1e-6, atol=1e-6)


@JIT
def test_hessian_through_loops_writes_and_calls(jit):
    for x in points(4, low=0.2, high=1.0):
        h = no_fallback(hessian(while_and_writes, 0, jit), x)
        assert_close(h, hessian_by_differences(while_and_writes, (x,)), rtol=1e-6, atol=1e-6)
        assert np.max(np.abs(h - h.T)) <= 1e-10 * max(1.0, np.max(np.abs(h)))
        y = float(x[0])
        blocks = no_fallback(hessian(calls_helper, (0, 1), jit), x, y)
        assert blocks[0][0].shape == (4, 4) and blocks[0][1].shape == (4,)
        assert blocks[1][0].shape == (4,) and type(blocks[1][1]) is float
        assert_close(blocks[0][0], hessian_by_differences(calls_helper, (x, y), 0), rtol=1e-6)
        assert_close(blocks[1][1], hessian_by_differences(calls_helper, (x, y), 1), rtol=1e-6)
        assert_close(blocks[0][1], blocks[1][0], rtol=1e-12, atol=1e-12)


@JIT
def test_second_derivative_through_a_callee_counting_down(jit):
    for x in (0.4, -1.1):
        got = no_fallback(hessian(calls_countdown, 0, jit), x)
        assert type(got) is float
        assert_close(got, hessian_by_differences(calls_countdown, (x,)), rtol=1e-6)


@JIT
def test_hessian_of_an_array_result_has_the_result_shape_first(jit):
    x = np.array([0.3, -0.7, 1.1])
    h = no_fallback(hessian(wide, 0, jit), x)
    assert h.shape == (2, 3, 3)
    assert_close(h[0], hessian_by_differences(wide_first, (x,)), rtol=1e-6)
    assert_close(h[1], hessian_by_differences(wide_second, (x,)), rtol=1e-6)


def wide_first(x):
    return wide(x)[0]


def wide_second(x):
    return wide(x)[1]


@JIT
def test_hvp_is_the_hessian_times_the_vector(jit):
    rng = np.random.default_rng(5)
    for x in points(5):
        v = rng.normal(size=5)
        hv = no_fallback(hvp(rosenbrock, 0, jit), x, v)
        assert hv.shape == (5,)
        assert_close(hv, rosenbrock_hessian(x) @ v, rtol=1e-10, atol=1e-10)
    hv = no_fallback(hvp(calls_helper, (0, 1), jit), x[:4], 0.4, (np.ones(4), 2.0))
    blocks = hessian(calls_helper, (0, 1), jit)(x[:4], 0.4)
    assert_close(hv[0], blocks[0][0] @ np.ones(4) + blocks[0][1] * 2.0, rtol=1e-10)
    assert_close(hv[1], blocks[1][0] @ np.ones(4) + blocks[1][1] * 2.0, rtol=1e-10)


# ---- grad of grad ----------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def second(func, jit):
    return adjit.grad(adjit.grad(func, jit=jit), jit=jit)


@JIT
def test_grad_of_grad_through_a_loop_with_a_branch(jit):
    d2 = second(loop_with_branch, jit)
    for x in (0.3, 0.8, 1.05, 1.4):
        got = no_fallback(d2, x, 6)
        assert type(got) is float
        assert_close(got, hessian_by_differences(loop_with_branch, (x, 6)), rtol=1e-6)


@JIT
def test_grad_of_grad_of_an_array_function_is_the_hessian_times_ones(jit):
    for x in points(5):
        got = no_fallback(second(rosenbrock, jit), x)
        assert_close(got, rosenbrock_hessian(x) @ np.ones(5), rtol=1e-10, atol=1e-10)


@JIT
def test_third_derivative(jit):
    def cubic_sine(x):
        return np.sin(x) * x ** 2 + x ** 4

    def exact(x):
        return -x * x * np.cos(x) - 6.0 * x * np.sin(x) + 6.0 * np.cos(x) + 24.0 * x

    d3 = adjit.grad(adjit.grad(adjit.grad(cubic_sine, jit=jit), jit=jit), jit=jit)
    for x in (-0.7, 0.4, 1.3):
        assert_close(no_fallback(d3, x), exact(x), rtol=1e-12, atol=1e-12)
    d3 = adjit.grad(adjit.grad(adjit.grad(loop_with_branch, jit=jit), jit=jit), jit=jit)
    h = 1e-4
    for x in (0.3, 0.8):
        d2 = second(loop_with_branch, False)
        want = (d2(x + h, 4) - d2(x - h, 4)) / (2 * h)
        assert_close(no_fallback(d3, x, 4), want, rtol=1e-6)


def test_grad_of_grad_with_tuples_and_value():
    def f(x, y):
        return np.sum(x * x * y) + y ** 3

    x, y = np.array([0.3, -0.2, 0.9]), 1.3
    gg = adjit.grad(adjit.grad(f, wrt=(0, 1)), wrt=(0, 1), preserve_result=True)
    value, (dx, dy) = no_fallback(gg, x, y)
    # d/dx sum(grads) = 2 y + 2 x; d/dy sum(grads) = sum(2 x) + 6 y
    assert_close(dx, 2 * y + 2 * x)
    assert_close(dy, np.sum(2 * x) + 6 * y)
    assert_close(value[0], 2 * x * y) and assert_close(value[1], np.sum(x * x) + 3 * y * y)
    assert "dx" in gg.source and "__adjit" not in gg.source and "this(" not in gg.source


@JIT
def test_mixed_partial_derivative(jit):
    def f(x, y):
        return np.sin(x * y) * y

    def exact(x, y):        # d/dy of d/dx = d/dy (y^2 cos(xy))
        return 2.0 * y * np.cos(x * y) - x * y * y * np.sin(x * y)

    dxy = adjit.grad(adjit.grad(f, wrt=0, jit=jit), wrt=1, jit=jit)
    for x, y in [(0.3, 1.2), (-0.8, 0.5)]:
        assert_close(no_fallback(dxy, x, y), exact(x, y), rtol=1e-12, atol=1e-12)


def test_grad_of_value_and_grad_is_refused():
    with pytest.raises(TypeError, match="value_and_grad"):
        adjit.grad(adjit.value_and_grad(sin_cubed))


# ---- Jacobians -------------------------------------------------------------------------

def jacobian_by_differences(func, args, wrt, step=1e-6):
    x = args[wrt]
    columns = []
    for j in range(np.size(x)):
        e = np.zeros(np.size(x))
        e[j] = step
        up, down = list(args), list(args)
        up[wrt] = x + e.reshape(np.shape(x)) if np.ndim(x) else x + step
        down[wrt] = x - e.reshape(np.shape(x)) if np.ndim(x) else x - step
        columns.append((np.asarray(func(*up)) - np.asarray(func(*down))) / (2 * step))
    return np.stack(columns, axis=-1).reshape(np.shape(func(*args)) + np.shape(x))


@JIT
def test_jacobian_of_a_vector_function(jit):
    jac = adjit.jacobian(vector_function, wrt=(0, 1), jit=jit)        # 3 + 2 inputs, 3 outputs
    for x in points(3):
        y = np.array([0.7, -1.1])
        jx, jy = no_fallback(jac, x, y)
        assert jx.shape == (3, 3) and jy.shape == (3, 2)
        assert_close(jx, jacobian_by_differences(vector_function, (x, y), 0))
        assert_close(jy, jacobian_by_differences(vector_function, (x, y), 1))


@JIT
def test_jacobian_forward_and_reverse_agree(jit):
    forward = adjit.jacobian(wide, jit=jit)         # 2 outputs, 3 inputs: by reverse rows
    for x in points(3):
        j = no_fallback(forward, x)
        assert j.shape == (2, 3)
        assert_close(j, jacobian_by_differences(wide, (x,), 0))
    narrow = adjit.jacobian(lambda_free_square, jit=jit)    # 4 outputs, 1 input: forward
    assert_close(no_fallback(narrow, 0.7), 2 * 0.7 * np.arange(4.0))
    scalar = adjit.jacobian(loop_with_branch, jit=jit)
    assert type(scalar(0.8, 5)) is float
    assert_close(scalar(0.8, 5), grad(loop_with_branch)(0.8, 5), rtol=1e-12)


def lambda_free_square(x):
    return x * x * np.arange(4.0)


# ---- for the tape: value, gradient and their tangents in one sweep ---------------------

@JIT
def test_jvp_of_vjp(jit):
    x, t = np.array([0.4, -0.3, 1.2]), np.array([1.0, 0.5, -2.0])
    value, g, dvalue, dg = higher.jvp_of_vjp(sin_cubed, (x,), (t,), jit=jit)
    assert_close(value, sin_cubed(x))
    assert_close(g, grad(sin_cubed)(x))
    assert_close(dg, sin_cubed_hessian(x) @ t, rtol=1e-12)
    assert_close(dvalue, grad(sin_cubed)(x) @ t, rtol=1e-12)
    # A cotangent and its tangent: grads = c * grad f, so d grads = dc * grad f + c H t.
    value, g, dvalue, dg = higher.jvp_of_vjp(sin_cubed, (x,), (t,), cotangent=2.0,
                                             cotangent_tangent=0.5, jit=jit)
    assert_close(dg, 0.5 * grad(sin_cubed)(x) + 2.0 * sin_cubed_hessian(x) @ t, rtol=1e-12)
