"""Loops that write an array in place, as the heat equation's steps do: the code generated
for them, checked against central finite differences, compiled and as Python.

- A loop that writes one array but never reads it, logged whole when it writes at least
  half of it, is generated twice (`if whole_u: log_all ...; <loop logging nothing> else:
  <loop logging each write>`): no iteration tests the flag. With two such arrays, each
  write is logged `if not whole_a`.
- `log_all(log_u, u, trips_t - t)` makes room, when its log must grow, for the whole
  arrays the enclosing loop's remaining iterations will log.
- A reverse iteration reads `y` itself where the forward sweep copied it (`x = y.copy()`)
  and nothing in the reverse iteration writes `y` or `x` after the copy: no array made,
  nothing copied. Where something does (the loop reads `y` too, `x` is written, `y` is
  written after the copy), the copy stays.

Random time-stepping programs (hypothesis) mix these: ranges that shrink, loops that read
the array they write, copies written, second arrays, `for` and `while`.
"""

import random

import numba
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import adjit
from adjit.runtime import helpers
from adjit.runtime.helpers import log_all, log_height, undo_log, undo_to
from fd import assert_close, numeric_gradient
from program_gen import load_module

MODES = {"numba": None, "python": False}


# ---------------------------------------------------------------- programs

# the heat equation's step: the write-only loop is unswitched, the reverse reads `u`
def heat(u0, kappa, steps):
    u = u0.copy()
    n = u.shape[0]
    for t in range(steps):
        old = u.copy()
        for i in range(1, n - 1):
            u[i] = old[i] + kappa * (old[i - 1] - 2.0 * old[i] + old[i + 1])
    return np.sum(u * u)


# the inner loop starts later each step: logged whole, then element by element
def shrinking(u0, r, steps):
    u = u0.copy()
    n = u.shape[0]
    for t in range(steps):
        old = u.copy()
        for i in range(2 * t, n):
            u[i] = old[i] * r + np.sin(old[n - 1 - i])
    return np.sum(u * u * u)


# the loop reads `u` as well as `old`: `u` is not write-only, the reverse undoes each
# write after the copy, which must stay
def reads_written(u0, r, steps):
    u = u0.copy()
    n = u.shape[0]
    for t in range(steps):
        old = u.copy()
        for i in range(1, n):
            u[i] = old[i] * r + u[i - 1] * 0.5
    return np.sum(u * u)


# the copy is written into: it is its own array
def copy_written(u0, r, steps):
    u = u0.copy()
    n = u.shape[0]
    for t in range(steps):
        old = u.copy()
        old[0] = r * old[n - 1]
        for i in range(n):
            u[i] = old[i] * r + old[(i + 1) % n] ** 2
    return np.sum(u * u)


# `u` is written after the copy, outside a write-only loop: the reverse undoes that
# write after the copy's re-run
def written_after(u0, r, steps):
    u = u0.copy()
    n = u.shape[0]
    for t in range(steps):
        old = u.copy()
        u[t % n] = u[t % n] * r + 1.0
        s = np.sum(old * u)
        u[0] = s * 0.1
    return np.sum(u * u)


# two arrays written in one loop, each never read there: each write logged `if not`
def two_arrays(u0, r, steps):
    u = u0.copy()
    v = u0 * 2.0
    n = u.shape[0]
    for t in range(steps):
        old_u = u.copy()
        old_v = v.copy()
        for i in range(t % 3, n):
            u[i] = old_u[i] * r + old_v[n - 1 - i] * 0.5
            v[i] = old_v[i] * 0.9 + np.sin(old_u[i]) * r
    return np.sum(u * v)


# nested write-only loops over a 2-D array, the outer loop sometimes running zero times
def rows(m0, c, steps):
    m = m0.copy()
    rows, cols = m.shape
    for t in range(steps):
        old = m.copy()
        for i in range(t % 2, rows):
            for j in range(1, cols - 1):
                m[i, j] = old[i, j] + c * (old[i, j - 1] - 2.0 * old[i, j + 1])
    return np.sum(m * m * m)


# a while loop around the step, and an inner loop that may break
def while_break(u0, r, steps):
    u = u0.copy()
    n = u.shape[0]
    t = 0
    while t < steps:
        old = u.copy()
        for i in range(n):
            if i > n - t:
                break
            u[i] = old[n - 1 - i] * r + np.cos(old[i]) * 0.5
        t = t + 1
    return np.sum(u * u0)


# the write-only loop runs at the top level (not nested): unswitched there too
def top_level(u0, r):
    u = u0.copy()
    old = u.copy()
    n = u.shape[0]
    for i in range(n):
        u[i] = old[n - 1 - i] * r + old[i] ** 2
    return np.sum(u * u * u)


# the copy is read on one branch only; the other branch writes `u` after it
def branches(u0, r, steps):
    u = u0.copy()
    n = u.shape[0]
    for t in range(steps):
        old = u.copy()
        if t % 2 == 0:
            for i in range(n):
                u[i] = old[(i + 1) % n] * r + old[i] * 0.25
        else:
            u[t % n] = old[0] * old[1]
    return np.sum(u * u)


def uniform(lo, hi, shape=None):
    return lambda rng: rng.uniform(lo, hi, shape) if shape else float(rng.uniform(lo, hi))


def const(value):
    return lambda rng: value


CASES = [
    (heat, [uniform(0.0, 1.0, (9,)), uniform(0.1, 0.4), const(6)], (0, 1)),
    (heat, [uniform(0.0, 1.0, (9,)), uniform(0.1, 0.4), const(0)], (0, 1)),  # no step
    (heat, [uniform(0.0, 1.0, (2,)), uniform(0.1, 0.4), const(3)], (0, 1)),  # no interior
    (shrinking, [uniform(-0.5, 0.5, (11,)), uniform(0.2, 0.6), const(6)], (0, 1)),
    (shrinking, [uniform(-0.5, 0.5, (30,)), uniform(0.2, 0.6), const(20)], (0, 1)),
    (reads_written, [uniform(-1.0, 1.0, (7,)), uniform(0.2, 0.6), const(4)], (0, 1)),
    (copy_written, [uniform(-1.0, 1.0, (6,)), uniform(0.2, 0.6), const(4)], (0, 1)),
    (written_after, [uniform(-1.0, 1.0, (5,)), uniform(0.2, 0.6), const(6)], (0, 1)),
    (two_arrays, [uniform(-1.0, 1.0, (8,)), uniform(0.2, 0.6), const(5)], (0, 1)),
    (rows, [uniform(-1.0, 1.0, (3, 5)), uniform(0.1, 0.3), const(3)], (0, 1)),
    (while_break, [uniform(-1.0, 1.0, (6,)), uniform(0.3, 0.8), const(4)], (0, 1)),
    (top_level, [uniform(-1.0, 1.0, (7,)), uniform(0.3, 0.8)], (0, 1)),
    (branches, [uniform(-1.0, 1.0, (5,)), uniform(0.3, 0.8), const(5)], (0, 1)),
]


@pytest.fixture(scope="module")
def gradients():
    made = {}

    def get(func, wrt, mode):
        key = (func, wrt, mode)
        if key not in made:
            made[key] = adjit.grad(func, wrt=wrt, jit=MODES[mode])
        return made[key]
    return get


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("number", range(len(CASES)),
                         ids=[f"{c[0].__name__}-{k}" for k, c in enumerate(CASES)])
def test_gradient(gradients, number, mode):
    func, makers, wrt = CASES[number]
    rng = np.random.default_rng(number + 21)
    for _ in range(2):
        args = tuple(make(rng) for make in makers)
        kept = [np.copy(a) for a in args]
        grads = gradients(func, wrt, mode)(*args)
        for a, b in zip(args, kept):
            np.testing.assert_array_equal(a, b)     # the caller's arrays are untouched
        for position, grad in zip(wrt, grads):
            expected = numeric_gradient(lambda *a: func(*[np.copy(v) for v in a]), args,
                                        position)
            assert_close(grad, expected, rtol=1e-5, atol=1e-6,
                         context=f"{func.__name__} d/d argument {position} ({mode})")


def _specialised(gradients, func, args, wrt=(0, 1)):
    return gradients(func, wrt, "python").source_for(*args)


def _reverse_part(source):
    """The generated adjoint's reverse sweep: from its first reverse loop on."""
    return source[source.index("range(steps - 1, -1, -1)"):]


def test_heat_code(gradients):
    """The forward sweep's write-only loop, once with no log and once logging each write;
    the whole array logged with room for the steps left; the reverse reads `u` itself."""
    source = _specialised(gradients, heat, (np.ones(6), 0.25, 3))
    assert "if whole_u:\n            log_u = log_all(log_u, u, trips_t - t)\n" \
           "            for i in range(1, sub2):\n" \
           "                u[i] = old[i] + kappa * (old[i - 1]" in source
    assert "if not whole_u" not in source
    assert source.count("log_write(log_u, u, i)") == 1
    reverse = _reverse_part(source)
    assert "np.copy(u)" not in reverse and "old = u\n" in reverse
    assert source.count("np.copy(u)") == 1              # the forward sweep's copy stays


@pytest.mark.parametrize("func", [reads_written, copy_written, written_after])
def test_copy_kept_where_written(gradients, func):
    """Where the reverse iteration writes `u` or `old` after the copy, it copies."""
    source = _specialised(gradients, func, (np.ones(5), 0.5, 3))
    assert "old = np.copy(u)" in _reverse_part(source)


def test_two_arrays_logged_each_under_flag(gradients):
    source = _specialised(gradients, two_arrays, (np.ones(5), 0.5, 3))
    assert "if not whole_u:" in source and "if not whole_v:" in source


def test_top_level_loop_unswitched(gradients):
    source = _specialised(gradients, top_level, (np.ones(5), 0.5))
    assert "if not whole_u" not in source
    assert "log_u = log_all(log_u, u)\n" in source      # one loop: room for one array


@pytest.mark.parametrize("jit", [True, False], ids=["numba", "python"])
def test_hessian_vector_product(jit):
    """Forward over reverse through the unswitched loops and the shared copy."""
    rng = np.random.default_rng(8)
    u0, v = rng.uniform(-0.5, 0.5, 11), rng.normal(size=11)
    hv = adjit.hvp(shrinking, 0, jit=jit)(u0, 0.4, 5, v)
    grad = adjit.grad(shrinking, jit=False)
    h = 1e-5
    expected = (grad(u0 + h * v, 0.4, 5) - grad(u0 - h * v, 0.4, 5)) / (2 * h)
    assert_close(hv, expected, rtol=1e-6, atol=1e-7)


def test_float32():
    """A float32 array written in place: compiled and Python agree, and with differences."""
    def f(u0, r, steps):
        u = u0.astype(np.float32)
        n = u.shape[0]
        for t in range(steps):
            old = u.copy()
            for i in range(t, n):
                u[i] = old[i] * r + old[n - 1 - i] * 0.5
        return np.sum(u * u)

    args = (np.random.default_rng(3).uniform(-1.0, 1.0, 9), 0.7, 5)
    compiled = adjit.grad(f, wrt=(0, 1), jit=True)(*args)
    python = adjit.grad(f, wrt=(0, 1), jit=False)(*args)
    for c, p in zip(compiled, python):
        np.testing.assert_allclose(c, p, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(compiled[1], numeric_gradient(f, args, 1, step=1e-2), rtol=1e-2)


# ---------------------------------------------------------------- log_all's room

def _room_scenario(a, room, steps, states, heights):
    """`steps` whole-array logs (each told `room`), the array changed after each, then
    undone latest first: how many states come back exactly."""
    log = undo_log(a)
    for k in range(steps):
        states[k] = a
        heights[k] = log_height(log)
        log = log_all(log, a, room)
        a[k % a.shape[0]] = -k
        a[(k + 3) % a.shape[0]] = a[(k + 3) % a.shape[0]] * 0.5
    good = 0
    for k in range(steps - 1, -1, -1):
        undo_to(log, a, heights[k])
        if log_height(log) == heights[k] and np.all(a == states[k]):
            good += 1
    return good


_room_compiled = numba.njit(_room_scenario)


@pytest.mark.parametrize("room", [1, 3, 40, 10 ** 15])
@pytest.mark.parametrize("compiled", [True, False], ids=["numba", "python"])
def test_log_all_room(room, compiled):
    """Any room (none, too little, exact, far too much: capped at WHOLE_ROOM elements)
    gives back every state."""
    steps = 40
    a = np.arange(9, dtype=np.float64) * 0.25
    start = a.copy()
    states = np.zeros((steps, 9))
    heights = np.zeros(steps, dtype=np.int64)
    run = _room_compiled if compiled else _room_scenario
    assert run(a, room, steps, states, heights) == steps
    np.testing.assert_array_equal(a, start)


def test_log_all_room_is_capped():
    assert helpers.WHOLE_ROOM * 8 <= 2 ** 30


def test_copy_of_a_number_stays_a_copy():
    """`np.copy` of a number is an array: the reverse keeps the copy (same type as in the
    forward sweep); gradients compiled and as Python against finite differences."""
    def f(x, steps):
        s = x[0] * 1.0
        acc = 0.0
        for t in range(steps):
            c = np.copy(s)
            acc = acc + c * x[t % 3]
            s = s * 0.9
        return acc

    args = (np.array([0.5, -1.0, 2.0]), 5)
    df = adjit.grad(f, jit=False)
    assert "np.copy(s)" in _reverse_part(df.source_for(*args))
    expected = numeric_gradient(f, args, 0)
    for jit in (None, False):
        assert_close(adjit.grad(f, jit=jit)(*args), expected)


# ---------------------------------------------------------------- random time-stepping loops

def _shifted(v, c):
    return v if c == 0 else f"{v} + {c}" if c > 0 else f"{v} - {-c}"


def stepping_program(r):
    """A random explicit time-stepping loop: `old = u.copy()`, then a loop writing `u[i]`
    from `old` at several offsets over a random range (sometimes shrinking each step),
    sometimes reading `u` too (then `u` is not write-only), sometimes writing `old`, an
    element of `u` after the loop, or a second array; under `for` or `while`."""
    lo, hi = r.randint(0, 2), r.randint(0, 2)

    def read(array):
        return f"{array}[{_shifted('i', r.randint(-lo, hi))}]"

    terms = [f"{read('old')} * w", f"np.sin({read('old')})", f"{read('old')} * 0.5",
             f"w * {read('old')} ** 2"]
    if r.random() < 0.25 and lo > 0:
        terms.append(f"u[i - {r.randint(1, lo)}] * 0.25")         # reads `u` too
    value = " + ".join(r.sample(terms, r.randint(1, len(terms))))
    start = f"{lo} + t % 3" if r.random() < 0.3 else str(lo)
    body = ["        old = u.copy()"]
    if r.random() < 0.2:
        body.append("        old[0] = old[n - 1] * w")
    body += [f"        for i in range({start}, n - {hi}):", f"            u[i] = {value}"]
    if r.random() < 0.2:
        body.append("            v[i] = old[i] * w")       # a second array written
    if r.random() < 0.2:
        body.append("        u[t % n] = u[t % n] * w + old[0]")
    if r.random() < 0.3:
        head, tail = ["    t = 0", "    while t < steps:"], ["        t = t + 1"]
    else:
        head, tail = ["    for t in range(steps):"], []
    lines = ["import numpy as np", "", "", "def prog(x, w, steps):", "    u = x.copy()",
             "    v = x * 0.5", "    n = u.shape[0]"] + head + body + tail \
        + ["    return np.sum(u * u * x) + np.sum(v * u)", ""]
    return "\n".join(lines)


def check_random_stepping(tmp_path_factory, seed, point, compiled):
    text = stepping_program(random.Random(seed))
    prog = load_module(text, tmp_path_factory.getbasetemp(), prefix="stepping").prog
    rng = np.random.default_rng(point)
    args = (rng.uniform(-1.0, 1.0, int(rng.integers(2, 9))), float(rng.uniform(0.1, 0.6)),
            int(rng.integers(0, 5)))
    numeric = [numeric_gradient(prog, args, k) for k in range(2)]
    coarse = [numeric_gradient(prog, args, k, step=2e-6) for k in range(2)]
    assume(all(np.allclose(a, b, rtol=1e-4, atol=1e-6) for a, b in zip(numeric, coarse)))
    df = adjit.grad(prog, wrt=(0, 1), jit=True if compiled else None)
    if compiled:
        grads = df(*args)
    else:
        _, grads = df._specialised(list(args), False)._python(np.copy(args[0]), *args[1:])
    for g, expected in zip(grads, numeric):
        assert_close(g, expected, context=f"at {args}\n{text}\n{df.source_for(*args)}")


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(seed=st.integers(0, 10**6), point=st.integers(0, 10**6))
def test_random_stepping_as_python(tmp_path_factory, seed, point):
    check_random_stepping(tmp_path_factory, seed, point, compiled=False)


@settings(max_examples=5, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(seed=st.integers(0, 10**6), point=st.integers(0, 10**6))
def test_random_stepping_compiled(tmp_path_factory, seed, point):
    check_random_stepping(tmp_path_factory, seed, point, compiled=True)
