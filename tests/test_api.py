"""The public API: decorator forms, wrt handling, errors, fallback, inspection."""

import inspect
import io
import subprocess
import sys
import warnings

import numpy as np
import pytest

import adjit
import programs as P
from fd import assert_close, numeric_gradient


def test_decorator_forms():
    df = adjit.grad(P.polynomial)
    assert df(3.0, 2.0) == pytest.approx(12.0)
    dfdy = adjit.grad(wrt=1)(P.polynomial)
    assert dfdy(3.0, 2.0) == pytest.approx(9.0)
    assert adjit.grad(P.polynomial, wrt="y")(3.0, 2.0) == pytest.approx(9.0)
    gx, gy = adjit.grad(P.polynomial, wrt=("x", 1))(3.0, 2.0)
    assert (gx, gy) == (pytest.approx(12.0), pytest.approx(9.0))
    value, grad = adjit.grad(P.polynomial, preserve_result=True)(3.0, 2.0)
    assert value == pytest.approx(18.0) and grad == pytest.approx(12.0)
    assert adjit.value_and_grad(P.polynomial, wrt=1)(3.0, 2.0) == (pytest.approx(18.0),
                                                                 pytest.approx(9.0))


def test_keyword_arguments_and_wrapped():
    df = adjit.grad(P.polynomial)
    assert df(x=3.0, y=2.0) == pytest.approx(12.0)
    assert df.__wrapped__ is P.polynomial
    assert df.__name__ == "polynomial"


def test_wrt_errors():
    with pytest.raises(ValueError, match="'z'"):
        adjit.grad(P.polynomial, wrt="z")
    with pytest.raises(ValueError, match="position 5"):
        adjit.grad(P.polynomial, wrt=5)
    with pytest.raises(ValueError, match="no argument named 'w'"):
        adjit.grad(P.polynomial, wrt=("x", "w"))


@pytest.mark.parametrize("jit", [False, None])
def test_integer_argument_is_a_type_error(jit):
    df = adjit.grad(P.polynomial, jit=jit)
    with pytest.raises(TypeError, match="integer"):
        df(3, 2.0)
    with pytest.raises(TypeError, match="integer"):
        adjit.grad(P.array_output, jit=jit)(np.arange(3))


@pytest.mark.parametrize("jit", [False, None])
def test_integer_argument_error_names_the_argument(jit):
    with pytest.raises(TypeError, match="integer argument 'y'"):
        adjit.grad(P.polynomial, wrt=("x", "y"), jit=jit)(3.0, 2)
    with pytest.raises(TypeError, match="integer array argument 'w'"):
        adjit.grad(P.vector_ops, wrt="w", jit=jit)(np.ones(4), np.arange(4))
    # A float argument next to an integer one is fine: only `wrt` must be floats.
    assert adjit.grad(P.polynomial, wrt="x", jit=jit)(3.0, 2) == pytest.approx(12.0)


def test_numba_failure_falls_back_with_one_warning_naming_the_line():
    df = adjit.grad(P.scalar_or_array)
    x = np.linspace(0.5, 1.5, 4)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = df(x, 1)
        second = df(x, 1)
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1, messages
    assert "Numba" in messages[0] and "programs.py" in messages[0]
    assert "line" in messages[0]
    for grad in (first, second):
        assert_close(grad, numeric_gradient(P.scalar_or_array, (x, 1), 0))


def test_jit_true_raises_instead_of_falling_back():
    df = adjit.grad(P.scalar_or_array, jit=True)
    with pytest.raises(adjit.TransformError) as info:
        df(np.linspace(0.5, 1.5, 4), 1)
    assert info.value.filename.endswith("programs.py")
    assert info.value.lineno is not None


def branch_on_an_array(x):
    y = x * 2.0
    if y > 1.0:  # an array where a scalar condition is needed
        y = y * x
    return np.sum(y)


def unifies_float_and_array(x, n):
    y = 0.0
    if n > 0:
        y = x * 2.0
    z = y * x  # Numba: `y` is a float on one path, an array on the other
    return np.sum(z)


def line_of(func, text):
    lines, first = inspect.getsourcelines(func)
    return first + next(i for i, line in enumerate(lines) if text in line)


def test_jit_true_error_points_at_the_users_line():
    df = adjit.grad(unifies_float_and_array, jit=True)
    with pytest.raises(adjit.TransformError) as info:
        df(np.linspace(0.5, 1.5, 4), 1)
    assert info.value.filename == __file__
    assert info.value.lineno == line_of(unifies_float_and_array, "z = y * x")
    assert "z = y * x" in str(info.value)


def test_array_condition_with_jit_true_is_a_transform_error_at_the_if():
    df = adjit.grad(branch_on_an_array, jit=True)
    with pytest.raises(adjit.TransformError) as info:
        df(np.linspace(0.5, 1.5, 3))
    assert info.value.filename == __file__
    assert info.value.lineno == line_of(branch_on_an_array, "if y > 1.0:")


def test_source_is_deterministic_and_valid_python():
    first = adjit.grad(P.nested_loops, wrt=("x", "y")).source
    second = adjit.grad(P.nested_loops, wrt=("x", "y")).source
    assert first == second
    compile(first, "<generated>", "exec")
    script = ("import sys; sys.path.insert(0, 'tests'); import adjit, programs; "
              "print(adjit.grad(programs.nested_loops, wrt=('x', 'y')).source, end='')")
    other = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                           check=True).stdout
    assert other == first


def test_generated_source_reads_like_the_function():
    source = adjit.grad(P.recurrence).source
    body = source.split("def recurrence_adjoint", 1)[1]
    for expected in ("s = x", "for i in range(n):", "np.sin(", "bx", "bs", "stack_s",
                     "for i in range(n - 1, -1, -1):", "np.cos("):
        assert expected in body
    lines = [line for line in body.splitlines() if line.strip()]
    assert all(";" not in line for line in lines)          # one statement per line
    assert "math" not in source                              # no unused imports


def test_show_prints_numbered_lines():
    out = io.StringIO()
    df = adjit.grad(P.polynomial)
    adjit.show(df, file=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == len(df.source.splitlines())
    assert lines[0].lstrip().startswith("1 ")


def test_cli_show_and_demo():
    shown = subprocess.run([sys.executable, "-m", "adjit", "show", "tests/programs.py:recurrence"],
                           capture_output=True, text=True, check=True).stdout
    assert "def recurrence_adjoint(x, n, bs=1.0):" in shown
    demo = subprocess.run([sys.executable, "-m", "adjit", "demo"], capture_output=True, text=True)
    assert demo.returncode == 0, demo.stderr
    assert "agrees" in demo.stdout and "def recurrence_adjoint" in demo.stdout


def test_cli_show_reports_refusals():
    result = subprocess.run([sys.executable, "-m", "adjit", "show", "tests/refused.py:uses_try"],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "try" in result.stderr and "refused.py" in result.stderr
