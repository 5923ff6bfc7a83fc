"""A loop's adds into an adjoint array are summed in registers (`transform.accumulate`).

The compiled gradient is specialised to its arguments' ranks; there, a loop
that only adds into an array of numbers sums the adds at an index it does not
change, and slides a window of sums over the elements at its counter plus
constants. Each program is checked against central finite differences,
compiled (the specialised module, which regroups) and as Python (the general
module, which does not), on several inputs, some with loops that run once or
not at all; the specialised source is checked to regroup where it should.
"""

import ast
import random

import gast
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adjit.transform import accumulate, emit
from fd import assert_close, numeric_gradient
from specialised import (MODES, case_id, check, check_random_program, fresh, gradient,
                         specialised_python)


def stencil(x):
    s = 0.0
    for i in range(1, x.shape[0] - 1):
        s = s + (x[i - 1] - 2.0 * x[i] + x[i + 1]) ** 2
    return s


def backwards(x, w):
    s = 0.0
    for i in range(x.shape[0] - 1, 0, -1):
        s = s + w * x[i] * x[i - 1] + np.sin(x[i])
    return s


def gap(x):
    s = 0.0
    for i in range(x.shape[0] - 3):
        s = s + np.sin(x[i]) * x[i + 3]
    return s


def pairs(pos, eps):
    n = pos.shape[0]
    e = 0.0
    for i in range(n):
        for j in range(i + 1, n):
            dx = pos[i, 0] - pos[j, 0]
            dy = pos[i, 1] - pos[j, 1]
            dz = pos[i, 2] - pos[j, 2]
            e = e + eps / (dx * dx + dy * dy + dz * dz + 0.5)
    return e


def branchy(x):
    s = 0.0
    for i in range(x.shape[0] - 1):
        if x[i] > 0.0:
            s = s + x[i] * x[i + 1]
        else:
            s = s + 3.0 * x[i + 1]
        s = s + x[i] ** 2
    return s


def stops(x):
    s = 0.0
    for i in range(x.shape[0] - 1):
        if s > 4.0:
            break
        s = s + x[i] * x[i] + x[i + 1]
    return s


def in_place(x):
    u = x.copy()
    for i in range(1, u.shape[0]):
        u[i] = u[i - 1] * 0.5 + u[i] * u[i]
    return np.sum(u)


def rows(m):
    s = m[0] * 0.0
    for i in range(m.shape[0] - 1):
        s = s + m[i] * m[i + 1]
    return np.sum(s)


def column(m, k):
    s = 0.0
    for i in range(m.shape[0]):
        s = s + m[i, k] * m[k, i] + m[k, 0] * m[i, i]
    return s


def strided(x):
    s = 0.0
    for i in range(0, x.shape[0] - 1, 2):
        s = s + x[i] * x[i + 1] + x[0]
    return s


def nested(x):
    s = 0.0
    for i in range(x.shape[0]):
        for j in range(x.shape[0] - 1):
            s = s + x[i] * x[j] * x[j + 1]
    return s


def tail_sum(x, w):
    return np.sum(x[1:]) + np.sum(x[:-1] * w) + np.sum((x[1:] - w) ** 2)


def plain_sum(x):
    return np.sum(x) + np.sum(np.sin(x))


def rows_sum(m, w):
    return np.sum(m[1:] ** 2 * w) + np.mean(m[:-1] * m[1:])


def two_sums(x):
    return np.sum(x[1:] ** 2) * np.sum(np.cos(x[:-1]))


rng = np.random.default_rng(7)


def vector(n, dtype=np.float64):
    return lambda: (rng.normal(size=n).astype(dtype),)


CASES = [
    (stencil, vector(7), ("x",), True),
    (stencil, vector(3), ("x",), True),     # the loop runs once
    (stencil, vector(2), ("x",), True),     # not at all
    (stencil, vector(6, np.float32), ("x",), True),
    (backwards, lambda: (rng.normal(size=6), float(rng.normal())), ("x", "w"), True),
    (gap, vector(8), ("x",), True),
    (gap, vector(3), ("x",), True),
    (pairs, lambda: (rng.normal(size=(5, 3)), 0.7), ("pos", "eps"), True),
    (pairs, lambda: (rng.normal(size=(1, 3)), 0.7), ("pos", "eps"), True),
    (branchy, vector(6), ("x",), True),
    (stops, vector(7), ("x",), False),
    (in_place, vector(5), ("x",), False),
    (rows, lambda: (rng.normal(size=(4, 3)),), ("m",), False),
    (column, lambda: (rng.normal(size=(4, 4)), 2), ("m",), True),
    (strided, vector(7), ("x",), True),
    (nested, vector(5), ("x",), True),
    # (the slices are one loop: `elementwise_loops`; its adds are regrouped)
    (tail_sum, lambda: (rng.normal(size=5), float(rng.normal())), ("x", "w"), True),
    (tail_sum, lambda: (rng.normal(size=1), float(rng.normal())), ("x", "w"), True),
    (plain_sum, vector(4), ("x",), False),
    (rows_sum, lambda: (rng.normal(size=(4, 3)), float(rng.normal())), ("m", "w"), False),
    (two_sums, vector(5), ("x",), True),
]
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_gradient_matches_finite_differences(case, mode):
    func, make, wrt, _ = case
    for _ in range(3):
        args = make()
        rtol = 1e-4 if args[0].dtype == np.float32 else 1e-5
        check(func, wrt, args, gradient(func, mode, wrt)(*fresh(args)), rtol=rtol, atol=1e-4)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_regrouped_only_where_it_may_be(case):
    func, make, wrt, regrouped = case
    df = gradient(func, "numba", wrt)
    special = df.source_for(*make())
    assert ("_sum = 0.0" in special) == regrouped, special
    assert "_sum = 0.0" not in df.source      # the general module does not know ranks


def test_a_stencil_adds_each_element_once_a_step():
    special = gradient(stencil, "numba", ("x",)).source_for(np.ones(5))
    lines = [line.strip() for line in special.splitlines()]
    loop = lines.index(next(line for line in lines if line.startswith("for i in range(")))
    body = lines[loop + 1:lines.index(next(line for line in lines[loop:]
                                           if line.startswith("if bx_")))]
    assert sum("add_at(bx" in line for line in body) == 1, special
    # the window slides down with the counter: i + 1 is done, i and i - 1 move up
    assert "bx_i_plus_1_sum = bx_i_sum" in lines and "bx_i_sum = bx_i_minus_1_sum" in lines


def test_an_index_fixed_in_the_inner_loop_is_added_after_it():
    special = gradient(pairs, "numba", ("pos", "eps")).source_for(np.ones((3, 3)), 1.0)
    assert "bpos_i_0_sum = bpos_i_0_sum + " in special, special
    assert "if bpos_i_0_sum != 0.0:" in special, special
    assert "add_at(bpos, (i, 0), bdx" not in special, special


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_the_regrouped_module_as_python(case):
    """The specialised module is also what runs as Python when Numba cannot compile it."""
    func, make, wrt, _ = case
    df = gradient(func, "numba", wrt)
    args = make()
    check(func, wrt, args, specialised_python(df, args), rtol=1e-4, atol=1e-4)


# ---- random stencil loops --------------------------------------------------------------

def _shifted(v, c):
    return v if c == 0 else f"{v} + {c}" if c > 0 else f"{v} - {-c}"


def stencil_program(r):
    """A random loop over `x[i + c]`: counting up or down, terms at several offsets,
    an element at a fixed index, maybe a branch, maybe an inner loop over `j`."""
    lo, hi = r.randint(0, 2), r.randint(0, 2)
    fixed = r.randint(0, 1)

    def read(v, low, high):
        return f"x[{_shifted(v, r.randint(-low, high))}]"

    def term(v, low, high):
        kind = r.randrange(5)
        if kind == 0:
            return f"{read(v, low, high)} * {read(v, low, high)}"
        if kind == 1:
            return f"np.sin({read(v, low, high)})"
        if kind == 2:
            return f"w * {read(v, low, high)} ** 2"
        if kind == 3:
            return f"x[{fixed}] * {read(v, low, high)}"
        return f"{read(v, low, high)} * 0.5"

    body = []
    if r.random() < 0.3:
        body += [f"        if {read('i', lo, hi)} > 0.1:",
                 f"            s = s + {term('i', lo, hi)}",
                 "        else:",
                 f"            s = s + {term('i', lo, hi)}"]
    for _ in range(r.randint(1, 3)):
        body.append(f"        s = s + {term('i', lo, hi)}")
    if r.random() < 0.3:
        body += ["        for j in range(1, n - 1):",
                 f"            s = s + x[i] * {term('j', 1, 1)}"]
    header = (f"    for i in range({lo}, n - {hi}):" if r.random() < 0.5
              else f"    for i in range(n - {hi} - 1, {lo} - 1, -1):")
    lines = ["import numpy as np", "", "", "def prog(x, w):", "    n = x.shape[0]",
             "    s = 0.0", header] + body + ["    return s", ""]
    return "\n".join(lines)


def check_random_stencil(tmp_path_factory, seed, point, compiled):
    rng = np.random.default_rng(point)
    args = (rng.uniform(-1.0, 1.0, int(rng.integers(2, 8))), float(rng.uniform(-1.0, 1.0)))
    check_random_program(stencil_program(random.Random(seed)), args, compiled,
                         tmp_path_factory.getbasetemp(), "stencil")


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(seed=st.integers(0, 10**6), point=st.integers(0, 10**6))
def test_random_stencils_regrouped_as_python(tmp_path_factory, seed, point):
    check_random_stencil(tmp_path_factory, seed, point, compiled=False)


@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(seed=st.integers(0, 10**6), point=st.integers(0, 10**6))
def test_random_stencils_regrouped_compiled(tmp_path_factory, seed, point):
    check_random_stencil(tmp_path_factory, seed, point, compiled=True)


def shifted_sum(m, w):
    return np.sum(100.0 * (m[1:] - m[:-1] ** 2) ** 2 + (1.0 - m[:-1]) ** 2 * w)


def test_adds_at_one_slice_are_merged():
    """Two adds into `bm[:-1]` with nothing between that uses `bm` become one (of rows:
    a vector's would be one loop, `elementwise_loops`)."""
    df = gradient(shifted_sum, "numba", ("m", "w"))
    for n in (2, 3, 6):
        m, w = rng.normal(size=(n, 2)), float(rng.normal())
        gm, gw = df(m.copy(), w)
        assert_close(gm, numeric_gradient(shifted_sum, (m, w), 0))
        assert_close(gw, numeric_gradient(shifted_sum, (m, w), 1))
    special = df.source_for(np.ones((4, 2)), 1.0)
    assert special.count("add_at(bm, slice(None, -1, None)") == 1, special
    assert df.source.count("add_at(bm, slice(None, -1, None)") == 2, df.source


def merged(text):
    fdef = gast.parse(text).body[0]
    accumulate.accumulate(fdef, {})
    return ast.unparse(emit.to_ast(fdef))


def test_merging_stops_where_the_array_is_used_or_the_index_changes():
    text = merged(
        "def f(bx, e, k):\n"
        "    bx = add_at(bx, k, e)\n"
        "    bx = add_at(bx, k, 2.0 * e)\n"          # merged with the first
        "    y = bx[0]\n"                             # uses bx: no merge across
        "    bx = add_at(bx, k, y)\n"
        "    k = k + 1\n"                             # the index changes: no merge across
        "    bx = add_at(bx, k, e)\n"
        "    bx = add_at(bx, k + 1, e)\n"             # another index
        "    return bx\n")
    assert text.count("add_at(") == 4, text
    assert "bx = add_at(bx, k, bx_part1 + 2.0 * e)" in text, text
    jumped = merged(
        "def f(bx, e, k, n):\n"
        "    for t in range(n):\n"
        "        bx = add_at(bx, k, e)\n"
        "        if e > t:\n"
        "            break\n"                     # the second add might not run
        "        bx = add_at(bx, k, 2.0 * e)\n"
        "    return bx\n")
    assert jumped.count("add_at(") == 2, jumped


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def test_a_sum_s_gradient_is_spread_by_the_add_it_goes_to():
    """The adjoint of np.sum spreads the seed over an array; where that array is only
    added into another (through elementwise arithmetic), the add spreads the number."""
    df = gradient(rosenbrock, "numba", ("x",))
    for n in (2, 5):
        x = rng.normal(size=n)
        assert_close(df(x.copy())[0], numeric_gradient(rosenbrock, (x,), 0))
    assert "broadcast_like" not in df.source_for(np.ones(4)), df.source_for(np.ones(4))
    assert "broadcast_like(bresult, " in df.source
    means = gradient(rows_sum, "numba", ("m", "w")).source_for(np.ones((4, 3)), 1.0)
    assert "bresult / size_of(" in means, means
    # still spread where a sum reads it (d/dw), or where it is the gradient itself
    # (of rows: a vector's would be an element a step in one loop, `elementwise_loops`)
    tails = gradient(shifted_sum, "numba", ("m", "w")).source_for(np.ones((4, 2)), 1.0)
    assert "badd11 = broadcast_like(bresult, item1)" in tails, tails
    assert "broadcast_like" in gradient(plain_sum, "numba", ("x",)).source_for(np.ones(4))
