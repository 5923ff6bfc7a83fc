"""Every supported construct: adjit's gradient against central finite differences.

Each case runs on several random inputs, compiled (jit=True) and as Python
(jit=False). Compiled gradients are built once per case and reused.
"""

import functools
import inspect

import numpy as np
import pytest

import adjit
import programs as P
from fd import assert_close, numeric_gradient


def uniform(lo, hi, shape=None):
    return lambda rng: rng.uniform(lo, hi, shape) if shape else float(rng.uniform(lo, hi))


def normal(shape=None):
    return lambda rng: rng.normal(size=shape) if shape else float(rng.normal())


def const(value):
    return lambda rng: value


CASES = [
    (P.recurrence, [uniform(0.1, 1.2), const(9)], 0),
    (P.polynomial, [normal(), normal()], ("x", "y")),
    (P.arithmetic, [uniform(0.5, 2), uniform(0.5, 2)], ("x", "y")),
    (P.powers, [uniform(0.5, 2), uniform(0.5, 2)], ("x", "y")),
    (P.elementwise_math, [uniform(0.3, 1.4)], 0),
    (P.elementwise_numpy, [uniform(0.3, 1.4, (5,))], 0),
    (P.branches, [uniform(-1, 2), uniform(0.2, 1.5)], ("x", "y")),
    (P.loop_branch, [normal(), const(6)], 0),
    (P.nested_loops, [uniform(0.2, 0.9), uniform(0.2, 0.9), const(4)], ("x", "y")),
    (P.loop_steps, [normal(), const(5)], 0),
    (P.fibonacci_like, [normal(), normal(), const(6)], ("x", "y")),
    (P.swap, [normal(), normal()], ("x", "y")),
    (P.reassigned_argument, [normal(), const(4)], 0),
    (P.vector_ops, [normal((4,)), normal((4,))], (0, 1)),
    (P.broadcasting, [normal((3, 4)), normal((4,)), normal()], (0, 1, 2)),
    (P.broadcasting, [normal((3, 4)), normal((3, 1)), normal((1, 4))], (0, 1, 2)),
    (P.matrix_vector, [normal((3, 4)), normal((4,))], (0, 1)),
    (P.matrix_matrix, [normal((3, 4)), normal((4, 2))], (0, 1)),
    (P.max_min, [normal((6,)), normal((6,))], (0, 1)),
    (P.array_loop, [normal((5,)), const(4)], 0),
    (P.array_output, [normal((5,))], 0),
    (P.unused_input, [normal(), normal()], 0),
    (P.integer_arithmetic, [uniform(0.5, 1.5), const(3)], 0),
    (P.condition_on_counter, [uniform(0.1, 1.0), const(7)], 0),
    (P.loop_carried_through_branch, [uniform(0.1, 1.0), const(6)], 0),
    (P.inner_bound_from_outer, [uniform(0.1, 1.0), const(4)], 0),
    (P.loop_carried_int, [uniform(0.1, 1.0), const(5)], 0),
    (P.zero_trip_loops, [normal(), const(0)], 0),
    (P.deep_nesting, [uniform(0.1, 0.5), const(3)], 0),
    (P.scalar_times_array, [normal(), normal((3,))], (0, 1)),
    (P.self_copy_in_loop, [uniform(-1.0, 1.0), const(3)], 0),
      (P.reads_global_constants, [normal()], 0),
    (P.carried_but_unread_in_loop, [normal(), const(4)], 0),
    (P.last_iteration_value, [normal(), const(5)], 0),
    (P.shadows_helper_names, [normal(), const(3)], 0),
    (P.array_methods, [normal((3, 3)), normal((3,))], (0, 1)),
    (P.rosenbrock_loop, [normal((6,))], 0),
    (P.subscripts, [normal((5,)), normal((3, 3))], (0, 1)),
    (P.repeated_index, [normal((4,)), const(np.array([0, 2, 2, 3, 0]))], 0),
    (P.masked_read, [normal((6,))], 0),
    (P.shape_queries, [normal((4,))], 0),
]

IDS = [f"{case[0].__name__}-{i}" for i, case in enumerate(CASES)]


@functools.lru_cache(maxsize=None)
def gradient_function(case_index, jit):
    func, _, wrt = CASES[case_index]
    return adjit.grad(func, wrt=wrt, jit=jit)


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
@pytest.mark.parametrize("case_index", range(len(CASES)), ids=IDS)
def test_gradient_matches_finite_differences(case_index, jit):
    func, makers, wrt = CASES[case_index]
    params = list(inspect.signature(func).parameters)
    wrt_tuple = wrt if isinstance(wrt, tuple) else (wrt,)
    positions = [w if isinstance(w, int) else params.index(w) for w in wrt_tuple]
    df = gradient_function(case_index, jit)
    rng = np.random.default_rng(case_index)
    for trial in range(3):
        args = [make(rng) for make in makers]
        grads = df(*args)
        grads = grads if isinstance(wrt, tuple) else (grads,)
        assert len(grads) == len(positions)
        for grad, position in zip(grads, positions):
            arg = args[position]
            if isinstance(arg, np.ndarray):
                assert isinstance(grad, np.ndarray) and grad.shape == arg.shape
                assert grad.dtype == arg.dtype
            else:
                assert isinstance(grad, float)
            assert_close(grad, numeric_gradient(func, args, position),
                         context=f"{func.__name__} wrt {params[position]} at {args}")


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
def test_value_and_grad_returns_the_function_value(jit):
    vg = adjit.value_and_grad(P.recurrence, jit=jit)
    value, grad = vg(0.4, 6)
    assert value == pytest.approx(P.recurrence(0.4, 6), rel=1e-12)
    assert grad == pytest.approx(numeric_gradient(P.recurrence, (0.4, 6), 0), rel=1e-6)


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
def test_polynomial_exact(jit):
    # d/dx x**2 y = 2xy, d/dy = x**2
    df = adjit.grad(P.polynomial, wrt=("x", "y"), jit=jit)
    for x, y in [(3.0, 2.0), (-1.5, 0.25), (0.0, 4.0)]:
        gx, gy = df(x, y)
        assert gx == pytest.approx(2 * x * y, abs=1e-12)
        assert gy == pytest.approx(x * x, abs=1e-12)


def test_float32_arrays_give_float32_gradients():
    x = np.linspace(0.1, 1.0, 5, dtype=np.float32)
    grad = adjit.grad(P.array_output)(x)
    assert grad.dtype == np.float32
    expected = np.cos(x.astype(float)) * x + np.sin(x.astype(float))
    assert_close(grad, expected, rtol=1e-5)


def test_gradient_does_not_modify_arguments():
    x = np.linspace(-1.0, 1.0, 5)
    w = np.linspace(0.5, 2.0, 5)
    x0, w0 = x.copy(), w.copy()
    adjit.grad(P.vector_ops, wrt=(0, 1))(x, w)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(w, w0)
