"""Unsupported code raises TransformError at the user's own line, showing it."""

import inspect

import pytest

import adjit
import refused

FUNCTIONS = [f for name, f in inspect.getmembers(refused, inspect.isfunction)
             if f.__module__ == refused.__name__]


def marked_line(func):
    """The line number (in the file) carrying `# refused:`, found by reading the file."""
    lines, first = inspect.getsourcelines(func)
    for offset, line in enumerate(lines):
        if "# refused:" in line:
            return first + offset, line
    raise AssertionError(f"{func.__name__} has no `# refused:` marker")


@pytest.mark.parametrize("func", FUNCTIONS, ids=[f.__name__ for f in FUNCTIONS])
def test_refused_at_the_users_line(func):
    lineno, line = marked_line(func)
    with pytest.raises(adjit.TransformError) as info:
        adjit.grad(func)
    error = info.value
    assert error.filename == inspect.getsourcefile(func)
    assert error.lineno == lineno, f"{error} (expected line {lineno})"
    assert line.split("#")[0].strip() in str(error)
    assert isinstance(error, Exception)


def test_message_names_the_construct():
    with pytest.raises(adjit.TransformError, match="while"):
        adjit.grad(refused.uses_while)
    with pytest.raises(adjit.TransformError, match="np.random.rand"):
        adjit.grad(refused.uses_random)
    with pytest.raises(adjit.TransformError, match="try"):
        adjit.grad(refused.uses_try)
