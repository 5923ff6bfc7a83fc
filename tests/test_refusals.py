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


MESSAGES = [
    ("uses_try", "`try`"),
    ("uses_with", "`with`"),
    ("uses_yield_value", "`yield`"),
    ("uses_yield", "`yield`"),
    ("uses_yield_from", "`yield from`"),
    ("uses_lambda", "lambda"),
    ("uses_comprehension", "list comprehension"),
    ("uses_set_comprehension", "set comprehension"),
    ("uses_dict_comprehension", "dict comprehension"),
    ("uses_generator_expression", "generator expression"),
    ("uses_nested_def", "nested `def`"),
    ("uses_nested_class", "nested `class`"),
    ("uses_global", "`global`"),
    ("uses_nonlocal", "`nonlocal`"),
    ("uses_nested_async_def", "`async def`"),
    ("uses_star_args", r"\*args"),
    ("uses_star_kwargs", r"\*\*kwargs"),
    ("uses_walrus", "walrus"),
    ("uses_print", "`print`"),
    ("uses_random", "np.random.rand"),
    ("uses_random_normal", "np.random.normal"),
    ("uses_for_else", "for ... else"),
    ("uses_unsupported_method", r"\.tolist"),
]


@pytest.mark.parametrize("name, construct", MESSAGES)
def test_message_names_the_construct(name, construct):
    with pytest.raises(adjit.TransformError, match=construct):
        adjit.grad(getattr(refused, name))
