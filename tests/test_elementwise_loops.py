"""Elementwise array statements over one length become one loop (`transform.elementwise_loops`).

The compiled gradient is specialised to its arguments' ranks; there, a run of
elementwise statements over slices of one vector and adds into slices of its
adjoint becomes one loop. Each program is checked against central finite
differences, compiled (the specialised module, which lowers) and as Python (the
general module, which does not), and the specialised module is also run as
Python; inputs of several lengths, down to those where every slice is empty.
The specialised source is checked to lower exactly where lengths are proved
equal and the operations cannot raise on numbers.
"""

import ast
import random

import gast
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import adjit
from adjit.transform import elementwise_loops, emit
from adjit.transform.names import Namer, names_in
from fd import assert_close, numeric_gradient
from specialised import (MODES, case_id, check, check_random_program, fresh, gradient,
                         specialised_python)


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def laplacian(u, kappa):
    return np.sum((u[2:] - 2.0 * u[1:-1] + u[:-2]) ** 2 * kappa)


def ufuncs(x, w):
    return np.sum(np.exp(x[1:] * 0.5) * np.sin(x[:-1]) + np.tanh(w * x[1:]) / 3.0)


def whole_and_slices(x):
    y = x * 2.0 + 1.0
    return np.sum(y[1:] * x[:-1]) + np.sum(x ** 3)


def nested_slices(x):
    inner = x[1:]
    return np.sum(inner[1:] * inner[:-1] - x[2:] ** 1.5)


def two_vectors(x, y):
    return np.sum(x[1:] * y[:-1])          # lengths of x and y unrelated: a loop each


def by_array(x):
    return np.sum(x[1:] / x[:-1])          # x[:-1] may hold 0: stays an array expression


def negative_power(x):
    return np.sum(x[1:] ** -2 + x[:-1])    # 0.0 ** -2 raises on a number: kept an array


def matrix(m):
    return np.sum(m[1:] * m[:-1] ** 2)     # rows: not lowered


def time_steps(u, c, steps):
    for t in range(steps):
        u = u[1:] * c + u[:-1] * (1.0 - c)
        u = np.concatenate((u[:1], u))
    return np.sum(u ** 2)


def value_kept(x):
    d = x[1:] - x[:-1]
    return np.sum(d * d) + np.max(d)       # d read by a reduction: stays an array


def whole_and_shifted(x, w):
    return np.sum(x * x * w) + np.sum(x[1:] * x[:-1]) - np.sum(np.cos(x[2:]) * w)


def stepped(u, kappa, steps):
    for t in range(steps):
        u = u * (1.0 - kappa) + kappa * np.sin(u)
    return np.sum(u[1:] * u[:-1])


rng = np.random.default_rng(11)


def vector(n, dtype=np.float64):
    return lambda: (rng.uniform(0.5, 1.5, n).astype(dtype),)


def with_number(n):
    return lambda: (rng.uniform(0.5, 1.5, n), float(rng.uniform(0.2, 0.8)))


CASES = [   # (function, inputs, wrt, loops it is lowered to)
    (rosenbrock, vector(6), ("x",), 1),
    (rosenbrock, vector(2), ("x",), 1),     # one step
    (rosenbrock, vector(1), ("x",), 1),     # no step: the slices are empty
    (rosenbrock, vector(5, np.float32), ("x",), 1),
    (laplacian, with_number(7), ("u", "kappa"), 1),
    (laplacian, with_number(2), ("u", "kappa"), 1),
    (ufuncs, with_number(5), ("x", "w"), 1),
    (whole_and_slices, vector(5), ("x",), 3),     # bx += ..., over len(x) - 1, bx += ...
    (nested_slices, vector(6), ("x",), 2),      # over len(x) - 2, then len(x) - 1
    (nested_slices, vector(2), ("x",), 2),
    (two_vectors, lambda: (rng.normal(size=4), rng.normal(size=4)), ("x", "y"), 2),
    (by_array, vector(5), ("x",), 0),
    (negative_power, vector(5), ("x",), 1),     # only the add of the seed into bx[:-1]
    (matrix, lambda: (rng.normal(size=(4, 3)),), ("m",), 0),
    (time_steps, lambda: (rng.uniform(0.5, 1.5, 6), 0.3, 3), ("u", "c"), 0),
    (value_kept, vector(5), ("x",), 0),
    (whole_and_shifted, with_number(6), ("x", "w"), 3),   # lengths n, n - 1, n - 2
    (whole_and_shifted, with_number(2), ("x", "w"), 3),
    (whole_and_shifted, lambda: (rng.uniform(0.5, 1.5, 5).astype(np.float32), 0.5),
     ("x", "w"), 3),
    (stepped, lambda: (rng.uniform(0.5, 1.5, 6), 0.3, 3), ("u", "kappa"), 1),
]
def tolerances(args):
    return {"rtol": 1e-3, "atol": 1e-3} if args[0].dtype == np.float32 else {}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_gradient_matches_finite_differences(case, mode):
    func, make, wrt, _ = case
    for _ in range(3):
        args = make()
        check(func, wrt, args, gradient(func, mode, wrt)(*fresh(args)), **tolerances(args))


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_lowered_only_where_lengths_are_proved_equal(case):
    func, make, wrt, loops = case
    df = gradient(func, "numba", wrt)
    special = df.source_for(*make())
    assert special.count("    for k") == loops, special
    assert "for k" not in df.source      # the general module knows no ranks


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_the_lowered_module_as_python(case):
    """The specialised module is also what runs as Python when Numba cannot compile it."""
    func, make, wrt, _ = case
    df = gradient(func, "numba", wrt)
    for _ in range(2):
        args = make()
        check(func, wrt, args, specialised_python(df, args), **tolerances(args))


@pytest.mark.parametrize("func", [rosenbrock, whole_and_shifted])
def test_value_and_gradient_with_the_loop(func):
    """The value's sums are lowered too (`result = np.sum(...)` of the forward)."""
    df = adjit.value_and_grad(func, wrt=0)
    for n in (1, 2, 7):
        args = (rng.uniform(0.5, 1.5, n),) + ((0.7,) if func is whole_and_shifted else ())
        value, g = df(*fresh(args))
        assert value == pytest.approx(func(*args), rel=1e-12)
        assert_close(g, numeric_gradient(func, args, 0))


def test_rosenbrock_is_one_loop_with_a_window_of_sums():
    special = gradient(rosenbrock, "numba", ("x",)).source_for(np.ones(4))
    lines = [line.strip() for line in special.splitlines()]
    assert "for k in range(x.shape[0] - 1):" in lines, special
    assert sum("add_at(bx" in line for line in lines) == 2, special    # in the loop, and after
    assert "bx_k_plus_1_sum = bx_k_plus_1_sum + bsub4" in lines, special
    assert "slice(" not in special and "x[1:]" not in special, special


# ---- the rules, on trees ---------------------------------------------------------------

def lowered(text, ranks):
    fdef = gast.parse(text).body[0]
    elementwise_loops.lower(fdef, ranks, Namer(names_in(fdef)))
    return ast.unparse(emit.to_ast(fdef))


RANKS = {"x": 1, "bx": 1, "a": 1, "b": 1, "c": 1, "s": 0, "g": 0}


def test_a_read_of_the_array_added_into_ends_the_run():
    text = lowered(
        "def f(x, g):\n"
        "    bx = zeros_like(x)\n"
        "    a = x[1:]\n"
        "    bx = add_at(bx, slice(None, -1, None), a * g)\n"
        "    b = bx[1:]\n"                 # reads bx: the run stops before it
        "    bx = add_at(bx, slice(1, None, None), b * g)\n"
        "    return bx\n", RANKS)
    assert text.count("for k in range(") == 1, text
    assert text.index("b = bx[1:]") > text.index("for k in range("), text
    # `b` is a slice of `bx`: added into one element at a time, bx would change under
    # its reads; the add stays one array operation
    assert "bx = add_at(bx, slice(1, None, None), b * g)" in text, text


def test_an_array_that_may_share_the_one_added_into_is_not_read_in_the_loop():
    text = lowered(
        "def f(x, g):\n"
        "    bx = zeros_like(x)\n"
        "    c = bx\n"
        "    b = c[1:]\n"
        "    bx = add_at(bx, slice(1, None, None), b * g)\n"
        "    return bx\n", {**RANKS, "c": 1})
    assert "for k" not in text, text


def test_a_name_read_after_the_run_stays_an_array():
    text = lowered(
        "def f(x, g):\n"
        "    bx = zeros_like(x)\n"
        "    a = x[1:]\n"
        "    b = a * g\n"
        "    c = b * 2.0\n"
        "    bx = add_at(bx, slice(1, None, None), c)\n"
        "    s = b\n"
        "    return bx, s\n", RANKS)
    assert "b = a * g" in text and text.index("b = a * g") < text.index("for k"), text
    assert "c = b[k] * 2.0" in text, text


def test_reassigning_a_name_the_run_read_ends_it():
    text = lowered(
        "def f(x, g):\n"
        "    bx = zeros_like(x)\n"
        "    c = x[1:]\n"
        "    a = c * g\n"
        "    bx = add_at(bx, slice(1, None, None), a)\n"
        "    g = g * 2.0\n"               # moved before the loop, it would change `a`
        "    return bx, g\n", RANKS)
    assert text.index("g = g * 2.0") > text.index("for k"), text


def test_different_lengths_make_no_loop():
    text = lowered(
        "def f(x, g):\n"
        "    bx = zeros_like(x)\n"
        "    a = x[1:]\n"
        "    bx = add_at(bx, slice(2, None, None), a * g)\n"
        "    return bx\n", RANKS)
    assert "for k" not in text, text


# ---- random vectorised programs --------------------------------------------------------

def vector_program(r):
    """A random sum of elementwise expressions over slices `x[s:n-t]` of one trim,
    some named, with ufuncs, constants and a number `w`."""
    trim = r.randint(0, 3)

    def piece():
        s = r.randint(0, trim)
        stop = "" if s == trim else str(s - trim)
        return f"x[{s}:{stop}]"

    def expr(depth):
        if depth == 0 or r.random() < 0.3:
            return r.choice([piece(), piece(), "w", "1.5"])
        kind = r.randrange(7)
        a, b = expr(depth - 1), expr(depth - 1)
        if kind == 0:
            return f"({a} + {b})"
        if kind == 1:
            return f"({a} - {b})"
        if kind == 2:
            return f"({a} * {b})"
        if kind == 3:
            return f"np.{r.choice(['sin', 'cos', 'tanh', 'exp'])}({a} * 0.5)"
        if kind == 4:
            return f"({a}) ** 2"
        if kind == 5:
            return f"({a}) / 4.0"
        return f"-({a})"

    lines = ["import numpy as np", "", "", "def prog(x, w):"]
    names = []
    for k in range(r.randint(0, 2)):
        lines.append(f"    t{k} = {expr(2)} * {piece()}")
        names.append(f"t{k}")
    terms = [expr(3) + f" * {piece()}"] + [f"{n} * {expr(1)}" for n in names]
    lines.append(f"    return np.sum({' + '.join(terms)})")
    return "\n".join(lines) + "\n"


def random_program(tmp_path_factory, seed, point, compiled):
    rng = np.random.default_rng(point)
    args = (rng.uniform(-1.0, 1.0, int(rng.integers(1, 7))), float(rng.uniform(-1.0, 1.0)))
    check_random_program(vector_program(random.Random(seed)), args, compiled,
                         tmp_path_factory.getbasetemp(), "vectors")


@settings(max_examples=120, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(seed=st.integers(0, 10**6), point=st.integers(0, 10**6))
def test_random_vector_programs_lowered_as_python(tmp_path_factory, seed, point):
    random_program(tmp_path_factory, seed, point, compiled=False)


@settings(max_examples=10, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(seed=st.integers(0, 10**6), point=st.integers(0, 10**6))
def test_random_vector_programs_lowered_compiled(tmp_path_factory, seed, point):
    random_program(tmp_path_factory, seed, point, compiled=True)
