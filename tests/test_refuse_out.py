"""Calls that would write into an existing array are refused at the user's line.

NumPy writes into an array it is given as `out` (by keyword or by position) and
some functions and methods change an argument in place (`np.copyto`, `a.sort()`,
`a.fill(v)`, ...). adjit follows writes only through subscripts, so these used to
give wrong gradients when accepted (`np.cumsum(x, out=c)`, a reduction with `out=`
whose result was not read); each must raise TransformError naming the call and
the statement to write instead. The closest supported forms, the rewrites the
messages suggest, give gradients equal to central finite differences.
"""

import inspect

import numpy
import numpy as np
import pytest

import adjit
from adjit.transform import refuse_writes
from fd import assert_close, numeric_gradient

import numpy as onp                                  # NumPy under another name
from numpy import cumsum as np_cumsum                # ... and one of its functions imported


def scale_into(v, out):     # a function of the user's with a parameter named `out`
    return v * out


# ---- refused: each offending line ends with `# refused`; the tuple gives words the
# ---- message must contain (the call, and the fix it suggests).

def sum_out_keyword(x):
    z = np.zeros(())
    y = np.sum(x, out=z)  # refused
    return y + z * 2.0


def sum_axis_out_result_unused(x):
    z = x[0] * 1.0
    y = np.sum(x, axis=0, out=z)  # refused
    return np.sum(z * x[1])


def sum_out_positional(x):
    z = x[0] * 1.0
    y = np.sum(x, 0, None, z)  # refused
    return np.sum(z * x[1])


def method_sum_out_keyword(x):
    z = x[0] * 1.0
    y = x.sum(axis=0, out=z)  # refused
    return np.sum(z * y)


def method_sum_out_positional(x):
    z = x[0] * 1.0
    y = x.sum(0, None, z)  # refused
    return np.sum(z * y)


def method_max_out_positional(x):
    z = x[0] * 1.0
    y = x.max(0, z)  # refused
    return np.sum(z * y)


def computed_method_out(x):
    z = x[0] * 1.0
    y = (x * 2.0).sum(axis=0, out=z)  # refused
    return np.sum(z * y)


def add_out_statement(x):
    c = x * 0.0
    np.add(x, x, out=c)  # refused
    return np.sum(c * x)


def multiply_out_keyword(x):
    c = x * 0.0
    d = np.multiply(x, x, out=c)  # refused
    return np.sum(c) + np.sum(d)


def add_out_positional(x):
    c = x * 0.0
    np.add(x, x, c)  # refused
    return np.sum(c * x)


def sin_out_positional(x):
    c = x * 0.0
    d = np.sin(x, c)  # refused
    return np.sum(c * d)


def exp_out_tuple(x):
    c = x * 0.0
    d = np.exp(x, out=(c,))  # refused
    return np.sum(c * d)


def sin_out_into_argument(x):
    y = np.sin(x, out=x)  # refused
    return np.sum(y)


def cumsum_out_result_unused(x):
    c = x * 0.0
    d = np.cumsum(x, axis=1, out=c)  # refused
    return np.sum(c * x)


def cumsum_out_positional(x):
    c = x * 0.0
    d = np.cumsum(x, 1, None, c)  # refused
    return np.sum(c * x)


def var_out_positional_then_ddof(x):
    z = x[0] * 1.0
    y = np.var(x, 0, None, z, 1)  # refused
    return np.sum(z * y)


def dot_out_keyword(x):
    c = np.zeros((2, 2))
    d = np.dot(x, x.T, out=c)  # refused
    return np.sum(c * d)


def dot_out_positional(x):
    c = np.zeros((2, 2))
    d = np.dot(x, x.T, c)  # refused
    return np.sum(c * d)


def matmul_out_keyword(x):
    c = np.zeros((2, 2))
    d = np.matmul(x, x.T, out=c)  # refused
    return np.sum(c * d)


def clip_out_into_itself(x):
    y = x * 1.0
    np.clip(y, 0.2, 0.6, out=y)  # refused
    return np.sum(y * x)


def clip_out_positional(x):
    y = x * 1.0
    z = np.clip(x, 0.2, 0.6, y)  # refused
    return np.sum(y * x)


def concatenate_out(x):
    c = np.zeros(6)
    d = np.concatenate((x[0], x[1]), out=c)  # refused
    return np.sum(c * d)


def einsum_out(x):
    c = np.zeros(())
    d = np.einsum("ij,ij->", x, x, out=c)  # refused
    return c + d


def out_into_a_row(x):
    z = x * 1.0
    y = np.sum(x, axis=0, out=z[0])  # refused
    return np.sum(z * x)


def ufunc_reduce_out_positional(x):
    z = x[0] * 1.0
    y = np.add.reduce(x, 0, None, z)  # refused
    return np.sum(z * y)


def out_in_a_loop(x):
    s = 0.0
    c = x[0] * 0.0
    for i in range(3):
        if i > 0:
            np.multiply(x[1], x[0], out=c)  # refused
        s = s + np.sum(c)
    return s


def numpy_spelled_out(x):
    c = x * 0.0
    d = numpy.cumsum(x, axis=1, out=c)  # refused
    return np.sum(c * x)


def aliased_numpy_out(x):
    z = x[0] * 1.0
    y = onp.sum(x, axis=0, out=z)  # refused
    return np.sum(z * x[1])


def imported_function_out_positional(x):
    c = x * 0.0
    d = np_cumsum(x, 1, None, c)  # refused
    return np.sum(c * x)


def copyto(x):
    c = np.zeros((2, 3))
    np.copyto(c, x)  # refused
    return np.sum(c * x)


def copyto_assigned(x):
    c = np.zeros((2, 3))
    y = np.copyto(c, x)  # refused
    return np.sum(c * x)


def put(x):
    c = x * 1.0
    np.put(c, 0, 1.0)  # refused
    return np.sum(c * x)


def place(x):
    c = x * 1.0
    np.place(c, c > 0.5, 0.0)  # refused
    return np.sum(c * x)


def putmask(x):
    c = x * 1.0
    np.putmask(c, c > 0.5, 0.0)  # refused
    return np.sum(c * x)


def fill_diagonal(x):
    m = x[:, :2] * 1.0
    np.fill_diagonal(m, 0.0)  # refused
    return np.sum(m)


def shuffle(x):
    c = x * 1.0
    np.random.shuffle(c)  # refused
    return np.sum(c * x)


def ufunc_at(x):
    c = x[0] * 0.0
    np.add.at(c, 0, x[1, 0])  # refused
    return np.sum(c * x[0])


def method_fill(x):
    c = x * 1.0
    c.fill(2.0)  # refused
    return np.sum(c * x)


def method_sort(x):
    c = x * 2.0
    c.sort()  # refused
    return np.sum(c * x)


def method_sort_assigned(x):
    c = x * 2.0
    y = c.sort(axis=0)  # refused
    return np.sum(c * x)


def method_resize(x):
    c = x * 1.0
    c.resize(3, 2)  # refused
    return np.sum(c)


def method_itemset(x):
    c = x * 1.0
    c.itemset(0, 1, 2.0)  # refused
    return np.sum(c * x)


def method_put(x):
    c = x * 1.0
    c.put(0, 2.0)  # refused
    return np.sum(c * x)


def method_partition(x):
    c = x * 1.0
    c.partition(1)  # refused
    return np.sum(c * x)


def generator_shuffle(x, rng):
    c = x * 1.0
    rng.shuffle(c)  # refused
    return np.sum(c * x)


def writes_in_a_callee(v):
    c = v * 0.0
    np.square(v, out=c)  # refused
    return np.sum(c)


def calls_a_callee_that_writes(x):
    return writes_in_a_callee(x) + np.sum(x)


REFUSED = [
    (sum_out_keyword, ("`np.sum`", "`z` as `out`", "`z = np.sum(x)`")),
    (sum_axis_out_result_unused, ("`np.sum`", "`z = np.sum(x, axis=0)`")),
    (sum_out_positional, ("`np.sum`", "`z = np.sum(x, 0, None)`")),
    (method_sum_out_keyword, ("`x.sum`", "`z = x.sum(axis=0)`")),
    (method_sum_out_positional, ("`x.sum`", "`z = x.sum(0, None)`")),
    (method_max_out_positional, ("`x.max`", "`z = x.max(0)`")),
    (computed_method_out, ("`(x * 2.0).sum`", "`z = (x * 2.0).sum(axis=0)`")),
    (add_out_statement, ("`np.add`", "`c = np.add(x, x)`")),
    (multiply_out_keyword, ("`np.multiply`", "`c = np.multiply(x, x)`")),
    (add_out_positional, ("`np.add`", "`c = np.add(x, x)`")),
    (sin_out_positional, ("`np.sin`", "`c = np.sin(x)`")),
    (exp_out_tuple, ("`np.exp`", "`c = np.exp(x)`")),
    (sin_out_into_argument, ("`np.sin`", "`x = np.sin(x)`")),
    (cumsum_out_result_unused, ("`np.cumsum`", "`c = np.cumsum(x, axis=1)`")),
    (cumsum_out_positional, ("`np.cumsum`", "`c = np.cumsum(x, 1, None)`")),
    (var_out_positional_then_ddof, ("`np.var`", "`z = np.var(x, 0, None, ddof=1)`")),
    (dot_out_keyword, ("`np.dot`", "`c = np.dot(x, x.T)`")),
    (dot_out_positional, ("`np.dot`", "`c = np.dot(x, x.T)`")),
    (matmul_out_keyword, ("`np.matmul`", "`c = np.matmul(x, x.T)`")),
    (clip_out_into_itself, ("`np.clip`", "`y = np.clip(y, 0.2, 0.6)`")),
    (clip_out_positional, ("`np.clip`", "`y = np.clip(x, 0.2, 0.6)`")),
    (concatenate_out, ("`np.concatenate`", "`c = np.concatenate((x[0], x[1]))`")),
    (einsum_out, ("`np.einsum`", "`c = np.einsum('ij,ij->', x, x)`")),
    (out_into_a_row, ("`np.sum`", "`z[0] = np.sum(x, axis=0)`")),
    (ufunc_reduce_out_positional, ("`np.add.reduce`", "`z = np.add.reduce(x, 0, None)`")),
    (out_in_a_loop, ("`np.multiply`", "`c = np.multiply(x[1], x[0])`")),
    (numpy_spelled_out, ("`numpy.cumsum`", "`c = numpy.cumsum(x, axis=1)`")),
    (aliased_numpy_out, ("`onp.sum`", "`z` as `out`", "assign the result")),
    (imported_function_out_positional, ("`np_cumsum`", "`c` as `out`", "assign the result")),
    (copyto, ("`np.copyto(...)`", "in place", "`c[:] = x`")),
    (copyto_assigned, ("`np.copyto(...)`", "`c[:] = x`")),
    (put, ("`np.put(...)`", "`c[i] = v`")),
    (place, ("`np.place(...)`", "`c = np.where(c > 0.5, 0.0, c)`")),
    (putmask, ("`np.putmask(...)`", "`c = np.where(c > 0.5, 0.0, c)`")),
    (fill_diagonal, ("`np.fill_diagonal(...)`", "`for i in range(n): m[i, i] = 0.0`")),
    (shuffle, ("`np.random.shuffle(...)`", "`c = c[p]`")),
    (ufunc_at, ("`np.add.at(...)`", "`c[i] = ...`")),
    (method_fill, ("`c.fill(...)`", "`c[:] = 2.0`")),
    (method_sort, ("`c.sort(...)`", "`c = np.sort(c)`")),
    (method_sort_assigned, ("`c.sort(...)`", "`c = np.sort(c)`")),
    (method_resize, ("`c.resize(...)`", "`c = c.reshape(3, 2)`")),
    (method_itemset, ("`c.itemset(...)`", "`c[0, 1] = 2.0`")),
    (method_put, ("`c.put(...)`", "`c[i] = v`")),
    (method_partition, ("`c.partition(...)`", "`c = np.sort(c)`")),
    (generator_shuffle, ("`rng.shuffle(...)`", "`c = c[p]`")),
    (calls_a_callee_that_writes, ("`np.square`", "`c = np.square(v)`")),
]


def marked_line(func):
    """(line number in the file, text) of the line in `func` carrying `# refused`."""
    lines, first = inspect.getsourcelines(func)
    for offset, line in enumerate(lines):
        if "# refused" in line:
            return first + offset, line
    raise AssertionError(f"{func.__name__} has no `# refused` marker")


@pytest.mark.parametrize("jit", [None, False])
@pytest.mark.parametrize("func, words", REFUSED, ids=[f.__name__ for f, _ in REFUSED])
def test_refused_at_the_users_line(func, words, jit):
    target = writes_in_a_callee if func is calls_a_callee_that_writes else func
    lineno, line = marked_line(target)
    with pytest.raises(adjit.TransformError) as info:
        adjit.grad(func, jit=jit)
    error = info.value
    assert error.filename == inspect.getsourcefile(target)
    assert error.lineno == lineno, f"{error} (expected line {lineno})"
    assert line.split("#")[0].strip() in str(error)
    for word in words:
        assert word in str(error), f"{word!r} not in {error}"


def test_refused_by_every_entry_point():
    for transform in (adjit.value_and_grad, adjit.hessian, adjit.jacobian):
        with pytest.raises(adjit.TransformError) as info:
            transform(cumsum_out_result_unused)(np.array([[0.3, 0.9, 0.5], [0.7, 0.1, 0.4]]))
        assert info.value.lineno == marked_line(cumsum_out_result_unused)[0]
    with pytest.raises(adjit.TransformError):
        adjit.jvp(cumsum_out_result_unused, (np.ones((2, 3)),), (np.ones((2, 3)),))


# ---- the refused calls really write into their `out` (so refusing them is right) -----

def test_each_refused_out_call_writes_into_its_argument():
    """NumPy itself runs the refused functions: the value each returns is that of the
    function rewritten without `out`, written independently here. So the array given as
    `out` does change, which is the write adjit could not follow."""
    rewritten = [
        (sum_axis_out_result_unused, lambda x: np.sum(x[1] * np.sum(x, axis=0))),
        (sum_out_positional, lambda x: np.sum(x[1] * np.sum(x, axis=0))),
        (method_sum_out_positional, lambda x: np.sum(np.sum(x, axis=0) ** 2)),
        (method_max_out_positional, lambda x: np.sum(np.max(x, axis=0) ** 2)),
        (cumsum_out_result_unused, lambda x: np.sum(np.cumsum(x, axis=1) * x)),
        (cumsum_out_positional, lambda x: np.sum(np.cumsum(x, axis=1) * x)),
        (var_out_positional_then_ddof, lambda x: np.sum(np.var(x, axis=0, ddof=1) ** 2)),
        (ufunc_reduce_out_positional, lambda x: np.sum(np.sum(x, axis=0) ** 2)),
        (clip_out_into_itself, lambda x: np.sum(np.clip(x, 0.2, 0.6) * x)),
        (add_out_statement, lambda x: np.sum(2 * x * x)),
    ]
    for x in POINTS:
        for func, expected in rewritten:
            assert np.isclose(func(x.copy()), expected(x)), func.__name__


# ---- the tables of NumPy's parameters agree with NumPy --------------------------------

def test_function_parameters_are_numpys():
    for name, params in refuse_writes._FUNCTION_PARAMS.items():
        signature = inspect.signature(getattr(np, name))
        positional = [p for p, v in signature.parameters.items()
                      if v.kind in (v.POSITIONAL_ONLY, v.POSITIONAL_OR_KEYWORD)]
        assert list(params) == positional[:len(params)], name
        assert "out" in params, name


def test_ufunc_inputs_are_numpys_and_complete():
    ufuncs = {n: getattr(np, n).nin for n in dir(np) if isinstance(getattr(np, n), np.ufunc)}
    assert refuse_writes._UFUNC_INPUTS == ufuncs


def _method_cases():
    a = np.array([[0.3, 0.9, 0.5], [0.7, 0.1, 0.4]])
    row, whole = np.zeros(3), np.zeros((2, 3))
    return {
        "sum": (a, (0, None), row), "prod": (a, (0, None), row), "mean": (a, (0, None), row),
        "max": (a, (0,), row), "min": (a, (0,), row), "var": (a, (0, None), row),
        "std": (a, (0, None), row), "cumsum": (a, (1, None), whole),
        "cumprod": (a, (1, None), whole), "argmax": (a, (0,), np.zeros(3, dtype=np.intp)),
        "argmin": (a, (0,), np.zeros(3, dtype=np.intp)), "all": (a, (0, None), np.zeros(3, bool)),
        "any": (a, (0, None), np.zeros(3, bool)), "round": (a, (1,), whole),
        "dot": (a, (a.T,), np.zeros((2, 2))), "clip": (a, (0.2, 0.6), whole),
        "take": (a, (np.array([0, 2]), 1), np.zeros((2, 2))),
        "trace": (a, (0, 0, 1, None), np.zeros(())),
        "compress": (a, (np.array([True, False, True]), 1), np.zeros((2, 2))),
    }


def test_method_parameters_are_numpys():
    """Each array method, given an array at the position the table says is `out`,
    writes its result there (methods have no signature to read)."""
    cases = _method_cases()
    assert set(cases) == set(refuse_writes._METHOD_PARAMS)
    for name, params in refuse_writes._METHOD_PARAMS.items():
        array, before, out = cases[name]
        assert len(before) == params.index("out"), name
        result = getattr(array, name)(*before, out)
        assert result is out, name
        expected = getattr(array, name)(*before)
        assert np.allclose(out, expected), name


def test_ufunc_method_parameters_are_numpys():
    a = np.array([[0.3, 0.9, 0.5], [0.7, 0.1, 0.4]])
    for name, params in refuse_writes._UFUNC_METHOD_PARAMS.items():
        before = {"reduce": (a, 0, None), "accumulate": (a, 1, None),
                  "reduceat": (a, np.array([0, 2]), 1, None)}[name]
        assert len(before) == params.index("out"), name
        out = np.zeros(getattr(np.add, name)(*before).shape)
        assert getattr(np.add, name)(*before, out) is out, name


# ---- the closest supported forms give the right gradients -----------------------------

def sum_out_none(x):
    z = np.sum(x, axis=0, out=None)
    return np.sum(z * x[1])


def sum_into_a_row(x):
    z = x * 1.0
    z[0] = np.sum(x, axis=0)
    return np.sum(z * x)


def cumsum_assigned(x):
    c = x * 0.0
    c = np.cumsum(x, 1, None)
    return np.sum(c * x)


def var_assigned_ddof(x):
    z = np.var(x, 0, None, ddof=1)
    return np.sum(z * x[0])


def clip_assigned(x):
    y = x * 1.0
    y = np.clip(y, 0.2, 0.6)
    return np.sum(y * x)


def copy_by_slice(x):
    c = np.zeros((2, 3))
    c[:] = x
    return np.sum(c * x)


def fill_by_slice(x):
    c = x * 1.0
    c[:] = 2.0
    return np.sum(c * x)


def sort_assigned(x):
    c = x[0] * 2.0
    c = np.sort(c)
    return np.sum(c * np.arange(3.0) * x[1])


def where_instead_of_place(x):
    c = x * 1.0
    c = np.where(c > 0.45, 0.0, c)
    return np.sum(c * x)


def users_function_with_an_out_parameter(x):
    return np.sum(scale_into(x, out=x[0]))


SUPPORTED = [sum_out_none, sum_into_a_row, cumsum_assigned,
             var_assigned_ddof, clip_assigned, copy_by_slice, fill_by_slice, sort_assigned,
             where_instead_of_place, users_function_with_an_out_parameter]

POINTS = [np.array([[0.3, 0.9, 0.5], [0.7, 0.1, 0.4]]),
          np.array([[-1.2, 0.55, 2.0], [0.25, 1.5, -0.35]])]


@pytest.mark.parametrize("jit", [None, False])
@pytest.mark.parametrize("func", SUPPORTED, ids=[f.__name__ for f in SUPPORTED])
def test_supported_forms_match_finite_differences(func, jit):
    gradient = adjit.grad(func, jit=jit)
    for x in POINTS:
        expected = numeric_gradient(func, (x.copy(),), 0)
        assert_close(gradient(x.copy()), expected, context=f"{func.__name__} at {x.tolist()}")


# ---- the tape: NumPy's `out=` on a tensor raises, it is never silently dropped ----------

def test_tape_refuses_out():
    x = adjit.Variable(np.array([0.3, 0.9, 0.5]))
    z = np.zeros(3)
    for call in (lambda t: np.add(t, t, out=z), lambda t: np.add(t, t, z),
                 lambda t: np.sin(t, out=z), lambda t: np.sum(t, out=np.zeros(())),
                 lambda t: np.cumsum(t, out=z), lambda t: np.clip(t, 0.0, 1.0, out=z)):
        with adjit.GradientTape():
            with pytest.raises(TypeError, match="out="):
                call(x)
    assert not z.any()
