"""Undo logs that hold whole arrays and single elements together.

A loop that writes an array but never reads it (`old = u.copy(); for i ...: u[i] = f(old)`)
logs the whole array at once when it writes at least half of it (`log_all`: one entry and
the array's values), and each element otherwise (`log_write`: a position and a value per
element). These programs make one log hold both kinds, interleaved, growing past its
first capacity many times, and undo it iteration by iteration: the whole-array flag
changes from one outer iteration to the next, element and slice writes land between
whole-array entries, in 1-D and 2-D arrays, under `while`, `break` and nested loops. Each
gradient is compared with central finite differences, compiled and as Python.

The log helpers themselves are checked directly too: the same sequence of logged writes
and undos, compiled and in plain Python, must give back every state the array passed
through.
"""

import numba
import numpy as np
import pytest

import adjit
from adjit.runtime.helpers import log_all, log_height, log_write, undo_log, undo_to, undo_write
from fd import assert_close, numeric_gradient

MODES = {"numba": True, "python": False}


# ---------------------------------------------------------------- programs

# the inner loop starts later each step: the whole array is logged at first, each
# element once it writes fewer than half
def shrinking_writes(u0, r, steps):
    u = u0.copy()
    n = u.shape[0]
    for t in range(steps):
        old = u.copy()
        for i in range(2 * t + 1, n - 1):
            u[i] = old[i] + r * (old[i - 1] - 2.0 * old[i] + old[i + 1]) + 0.1 * np.sin(old[i])
    return np.sum(u * u)


# whole-array, element and slice entries in one log, within each step
def mixed_entries(x, c, steps):
    n = x.shape[0]
    u = x * 1.0
    for t in range(steps):
        old = u.copy()
        for i in range(n):
            u[i] = np.cos(old[i]) * x[i] + c * old[n - 1 - i]
        u[t % n] = u[t % n] * 2.0 + old[0]
        u[2:4] = old[1] * c
        u[1:3] = u[1:3] * 0.5
    return np.sum(u * x)


# three statements write each row of a 2-D array: the whole array is logged
def rows_2d(m0, c, steps):
    m = m0.copy()
    rows = m.shape[0]
    for t in range(steps):
        old = m.copy()
        for i in range(rows):
            m[i, 0] = old[i, 1] * c + old[rows - 1 - i, 2]
            m[i, 1] = np.sin(old[i, 0]) + old[i, 2]
            m[i, 2] = old[i, 2] * old[i, 0] * 0.5
        m[t % rows] = c
    return np.sum(m * m * m)


# the written loop is nested one deeper: it writes one row of the 2-D array per trip
def nested_rows_2d(m0, c, steps):
    m = m0.copy()
    rows, cols = m.shape
    for t in range(steps):
        old = m.copy()
        for i in range(rows):
            for j in range(1, cols - 1):
                m[i, j] = old[i, j] + c * (old[i, j - 1] - 2.0 * old[i, j] + old[i, j + 1])
    return np.sum(m * m * m)


# a while loop around the write-only loop
def while_steps(u0, r, steps):
    u = u0.copy()
    n = u.shape[0]
    t = 0
    while t < steps:
        old = u.copy()
        for i in range(n):
            u[i] = old[n - 1 - i] * r + np.sin(old[i]) * 0.5
        t = t + 1
    return np.sum(u * u0)


# the write-only loop may break: it writes fewer elements than its trip count says
def break_inner(u0, r, steps):
    u = u0.copy()
    n = u.shape[0]
    for t in range(steps):
        old = u.copy()
        for i in range(n):
            if i > t + 2:
                break
            u[i] = old[(i + 1) % n] * r + np.sin(old[i])
    return np.sum(u * u)


# the outer loop breaks on data, after a few steps
def break_outer(u0, r, limit):
    u = u0.copy()
    n = u.shape[0]
    for t in range(8):
        old = u.copy()
        for i in range(1, n - 1):
            u[i] = (old[i] + r * (old[i - 1] - 2.0 * old[i] + old[i + 1])) * 0.9
        if np.sum(u * u) < limit:
            break
    return np.sum(u * u * u)


# a loop writes the array on one branch, each step; the other branch writes an element
def branch_whole(u0, r, steps):
    u = u0.copy()
    n = u.shape[0]
    for t in range(steps):
        old = u.copy()
        if t % 2 == 0:
            for i in range(n):
                u[i] = old[i] * r + old[(i + 1) % n] ** 2 * 0.25
        else:
            u[t % n] = old[0] * old[1]
    return np.sum(u * u)


def normal(shape):
    return lambda rng: rng.normal(size=shape)


def uniform(lo, hi, shape=None):
    return lambda rng: rng.uniform(lo, hi, shape) if shape else float(rng.uniform(lo, hi))


def const(value):
    return lambda rng: value


CASES = [
    (shrinking_writes, [uniform(-0.5, 0.5, (11,)), uniform(0.1, 0.3), const(6)], (0, 1)),
    # (long enough that the log grows past its capacity several times)
    (shrinking_writes, [uniform(-0.5, 0.5, (40,)), uniform(0.1, 0.3), const(25)], (0, 1)),
    (mixed_entries, [normal((7,)), uniform(0.2, 0.6), const(5)], (0, 1)),
    (rows_2d, [uniform(-1.0, 1.0, (4, 3)), uniform(0.2, 0.6), const(4)], (0, 1)),
    (nested_rows_2d, [uniform(-1.0, 1.0, (3, 5)), uniform(0.1, 0.3), const(3)], (0, 1)),
    (while_steps, [uniform(-1.0, 1.0, (6,)), uniform(0.3, 0.8), const(4)], (0, 1)),
    (break_inner, [uniform(-1.0, 1.0, (8,)), uniform(0.3, 0.8), const(4)], (0, 1)),
    (break_outer, [uniform(0.5, 1.0, (7,)), uniform(0.1, 0.3), uniform(2.3, 3.2)], (0, 1)),
    (branch_whole, [uniform(-1.0, 1.0, (5,)), uniform(0.3, 0.8), const(5)], (0, 1)),
]


@pytest.fixture(scope="module")
def gradients():
    made = {}

    def get(func, wrt, mode):
        key = (func, wrt, mode)
        if key not in made:
            made[key] = adjit.value_and_grad(func, wrt=wrt, jit=MODES[mode])
        return made[key]
    return get


def _stable(func, args):
    """Whether finite differences at `args` keep `func`'s path: `break_outer`'s sums stay
    away from its limit."""
    if func is not break_outer:
        return True
    u0, r, limit = args
    u = u0.copy()
    for t in range(8):
        old = u.copy()
        u[1:-1] = (old[1:-1] + r * (old[:-2] - 2.0 * old[1:-1] + old[2:])) * 0.9
        if abs(np.sum(u * u) - limit) < 1e-2:
            return False
        if np.sum(u * u) < limit:
            return True
    return True


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("number", range(len(CASES)),
                         ids=[f"{c[0].__name__}-{len(c[1][0](np.random.default_rng(0)))}"
                              for c in CASES])
def test_gradient(gradients, number, mode):
    func, makers, wrt = CASES[number]
    rng = np.random.default_rng(number + 11)
    checked = 0
    while checked < 2:
        args = tuple(make(rng) for make in makers)
        if not _stable(func, args):
            continue
        kept = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
        value, grads = gradients(func, wrt, mode)(*args)
        for a, b in zip(args, kept):
            np.testing.assert_array_equal(a, b)     # the caller's arrays are untouched
        assert np.isclose(value, func(*[np.copy(a) for a in args]))
        for position, grad in zip(wrt, grads):
            expected = numeric_gradient(lambda *a: func(*[np.copy(v) for v in a]), args,
                                        position)
            assert_close(grad, expected, rtol=1e-5, atol=1e-6,
                         context=f"{func.__name__} d/d argument {position} ({mode})")
        checked += 1


def test_float32_compiled_matches_python():
    """The log holds float32 values: compiled and Python gradients agree."""
    def f(u0, r, steps):
        u = u0.astype(np.float32)
        n = u.shape[0]
        for t in range(steps):
            old = u.copy()
            for i in range(2 * t, n):
                u[i] = old[i] * r + old[n - 1 - i] * 0.5
            u[t] = u[t] * 2.0
        return np.sum(u * u)

    args = (np.random.default_rng(3).uniform(-1.0, 1.0, 9), 0.7, 5)
    compiled = adjit.grad(f, wrt=(0, 1), jit=True)(*args)
    python = adjit.grad(f, wrt=(0, 1), jit=False)(*args)
    for c, p in zip(compiled, python):
        np.testing.assert_allclose(c, p, rtol=1e-5, atol=1e-6)
    expected = numeric_gradient(f, args, 1, step=1e-2)
    np.testing.assert_allclose(compiled[1], expected, rtol=1e-2)


# ---------------------------------------------------------------- the helpers themselves

def _scenario(a, states, heights):
    """Logged writes of every kind into the 2-D array `a` (states[k] is `a` before step
    k, heights[k] the log's height then), then every step undone, latest first, checking
    each state comes back: returns how many came back exactly."""
    log = undo_log(a)
    rows, cols = a.shape
    steps = states.shape[0]
    for k in range(steps):
        states[k] = a
        heights[k] = log_height(log)
        kind = k % 4
        if kind == 0:
            log = log_all(log, a)
            for i in range(rows):
                for j in range(cols):
                    a[i, j] = a[i, j] * 0.5 + k
        elif kind == 1:
            log = log_write(log, a, (k % rows, k % cols))
            a[k % rows, k % cols] = -k
        elif kind == 2:
            log = log_write(log, a, (slice(1, 3), slice(2, 5)))
            a[1:3, 2:5] = 0.25 * k
        else:
            log = log_all(log, a)
            log = log_write(log, a, (rows - 1, cols - 1))
            a[rows - 1, cols - 1] = k * 3.0
    good = 0
    for k in range(steps - 1, -1, -1):
        if k % 8 == 1:
            undo_write(log, a, (k % rows, k % cols))        # this step's one write
        undo_to(log, a, heights[k])
        if log_height(log) == heights[k] and np.all(a == states[k]):
            good += 1
    return good


_scenario_compiled = numba.njit(_scenario)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("compiled", [True, False], ids=["numba", "python"])
def test_log_helpers_give_back_every_state(dtype, compiled):
    steps = 61          # the log grows past its first capacity several times over
    a = (np.arange(35, dtype=dtype) * 0.75).reshape(5, 7)
    states = np.zeros((steps,) + a.shape, dtype=dtype)
    heights = np.zeros(steps, dtype=np.int64)
    start = a.copy()
    run = _scenario_compiled if compiled else _scenario
    assert run(a, states, heights) == steps
    np.testing.assert_array_equal(a, start)
    assert heights[-1] > heights[0]


# ---------------------------------------------------------------- generated code

def test_number_written_into_one_element_needs_no_unbroadcast():
    """Specialised to a vector, `u[i] = v` of a number gives `v` the element's gradient
    as it is; a number written into a slice or a row still sums the region's."""
    def f(u0, c, steps):
        u = u0.copy()
        m = np.zeros((3, u0.shape[0]))
        for t in range(steps):
            old = u.copy()
            for i in range(1, u.shape[0] - 1):
                u[i] = old[i] * c + old[i + 1]
            u[0:2] = old[2] * c
            m[t % 3] = c * old[1]
        return np.sum(u * u) + np.sum(m * m)

    df = adjit.grad(f, wrt=(0, 1))
    args = (np.random.default_rng(4).uniform(-1.0, 1.0, 6), 0.6, 4)
    grads = df(*args)
    specialised = df.source_for(*args)
    assert "unbroadcast(grad_at(bu, i)" not in specialised
    assert specialised.count("unbroadcast(") == 2          # the slice's and the row's
    assert "unbroadcast(grad_at(bu, i)" in df.source       # ranks unknown: kept
    for position, grad in zip((0, 1), grads):
        assert_close(grad, numeric_gradient(lambda *a: f(*[np.copy(v) for v in a]), args,
                                            position))


@pytest.mark.parametrize("jit", [True, False], ids=["numba", "python"])
def test_hessian_vector_product_through_whole_array_logs(jit):
    """Forward over reverse differentiates the logs too: a tangent log takes the same
    whole-array and element entries as the log, and is undone to the same heights."""
    rng = np.random.default_rng(8)
    u0, v = rng.uniform(-0.5, 0.5, 11), rng.normal(size=11)
    hv = adjit.hvp(shrinking_writes, 0, jit=jit)(u0, 0.2, 5, v)
    grad = adjit.grad(shrinking_writes, jit=False)
    h = 1e-5
    expected = (grad(u0 + h * v, 0.2, 5) - grad(u0 - h * v, 0.2, 5)) / (2 * h)
    assert_close(hv, expected, rtol=1e-6, atol=1e-7)
