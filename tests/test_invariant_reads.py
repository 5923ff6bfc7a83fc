"""Elements a loop reads at every step, unchanged by it, are read once before it
(`transform.invariant_reads`).

Each program is checked against central finite differences, compiled (the
specialised module, which hoists) and as Python (the general module, which does
not), and the specialised module is also run as Python; inputs include loops
that run once or not at all, where the element would be outside its array.
The specialised source is checked to hoist exactly the reads that may move.
"""

import numpy as np
import pytest

from specialised import MODES, case_id, check, fresh, gradient, specialised_python


def pairs(pos, eps):
    n = pos.shape[0]
    e = 0.0
    for i in range(n):
        for j in range(i + 1, n):
            dx = pos[i, 0] - pos[j, 0]
            dy = pos[i, 1] - pos[j, 1]
            e = e + eps / (dx * dx + dy * dy + 0.5)
    return e


def past_the_end(x, k):
    s = 0.0
    for j in range(k, x.shape[0]):      # k == len(x): no step, and x[k] is outside x
        s = s + x[k] * x[j]
    return s


def written(x):
    u = x.copy()
    s = 0.0
    for j in range(1, u.shape[0]):
        u[j] = u[j - 1] * 0.5 + u[0]    # u changes in the loop: u[0] is read each step
        s = s + u[0] * u[j]
    return s


def branch(x, k):
    s = 0.0
    for j in range(x.shape[0]):
        if j > 1:
            s = s + x[k] * x[j]         # under a branch: might never be read
        else:
            s = s + x[j]
    return s


rng = np.random.default_rng(3)

CASES = [   # (function, inputs, wrt, names read once before a loop)
    (pairs, lambda: (rng.normal(size=(5, 2)), 0.7), ("pos", "eps"), ["pos_i_0", "pos_i_1"]),
    (pairs, lambda: (rng.normal(size=(1, 2)), 0.7), ("pos", "eps"), ["pos_i_0", "pos_i_1"]),
    (past_the_end, lambda: (rng.normal(size=5), 2), ("x",), ["x_k"]),
    (past_the_end, lambda: (rng.normal(size=5), 5), ("x",), ["x_k"]),
    (past_the_end, lambda: (rng.normal(size=5), 4), ("x",), ["x_k"]),
    (written, lambda: (rng.normal(size=5),), ("x",), []),
    (branch, lambda: (rng.normal(size=5), 3), ("x",), []),
]
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_gradient_matches_finite_differences(case, mode):
    func, make, wrt, _ = case
    for _ in range(3):
        args = make()
        check(func, wrt, args, gradient(func, mode, wrt)(*fresh(args)))


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_the_hoisting_module_as_python(case):
    """The specialised module is also what runs as Python when Numba cannot compile it:
    there a read outside the array would raise."""
    func, make, wrt, _ = case
    df = gradient(func, "numba", wrt)
    args = make()
    check(func, wrt, args, specialised_python(df, args))


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_hoisted_only_where_it_may_be(case):
    func, make, wrt, names = case
    df = gradient(func, "numba", wrt)
    special = df.source_for(*make())
    hoisted = sorted(line.split(" = ")[0].strip() for line in special.splitlines()
                     if line.strip().startswith(tuple(n + " = " for n in ("pos_i_0", "pos_i_1",
                                                                         "x_k", "u_0"))))
    assert hoisted == names, special
    for n in names:         # read once, under the test that the loop runs
        lines = special.splitlines()
        at = next(k for k, line in enumerate(lines) if line.strip().startswith(n + " = "))
        assert any(lines[k].strip().startswith("if ") for k in range(at - len(names), at)), special
    assert not any(n + " = " in df.source for n in names)    # the general module: no ranks
