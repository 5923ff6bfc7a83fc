"""Functions adjit must refuse. The offending line of each ends with `# refused: <construct>`."""

import numpy as np

from language_helpers import smooth


def uses_try(x):
    try:  # refused: try
        y = x * 2.0
    except ValueError:
        y = x
    return y


def uses_with(x):
    with open("f") as handle:  # refused: with
        y = x
    return y


def uses_lambda(x):
    f = lambda v: v * 2.0  # refused: lambda
    return x


def uses_comprehension(x):
    ys = [x * i for i in range(3)]  # refused: comprehension
    return x


def uses_global(x):
    global COUNTER  # refused: global
    return x


def uses_star_args(*xs):  # refused: *args
    return xs


def uses_walrus(x):
    y = (z := x * 2.0)  # refused: walrus
    return y


def uses_print(x):
    print(x)  # refused: print
    return x


def uses_random(x):
    y = x * np.random.rand()  # refused: np.random.rand
    return y


def uses_nested_def(x):
    def inner(v):  # refused: nested def
        return v
    return x


def uses_unknown_function(x):
    y = undefined_function(x)  # refused: not defined
    return y


def maybe_unassigned(x):
    if x > 0.0:
        y = x * 2.0
    return y  # refused: may be used before assignment


def reads_loop_variable_after(x, n):
    for i in range(n):
        x = x * 0.5
    return x * i  # refused: loop variable after loop


def assigns_loop_variable(x, n):
    for i in range(n):
        i = i + 1  # refused: loop variable assigned
    return x


def returns_tuple(x):
    return x, x  # refused: tuple result


def complex_constant(x):
    return x * 1j  # refused: complex


def reads_global_array(x):
    return x * np.sum(GLOBAL_ARRAY)  # refused: global array


GLOBAL_ARRAY = np.ones(3)


def reads_value_only_an_earlier_loop_assigns(x, n):
    for i in range(n):
        t = x * i
    for j in range(n):  # refused: t may be unassigned when the loop starts
        t = t + x
    return t


def uses_yield(x):
    yield x * 2.0  # refused: yield


def uses_yield_value(x):
    y = yield x  # refused: yield
    return y


def uses_yield_from(x):
    yield from range(3)  # refused: yield from


def uses_set_comprehension(x, n):
    ys = {x * i for i in range(n)}  # refused: set comprehension
    return x


def uses_dict_comprehension(x, n):
    ys = {i: x * i for i in range(n)}  # refused: dict comprehension
    return x


def uses_generator_expression(x, n):
    y = np.sum(x * i for i in range(n))  # refused: generator expression
    return y


def uses_nested_class(x):
    class Inner:  # refused: nested class
        scale = 2.0
    return x * Inner.scale


def nonlocal_factory(x):
    global COUNTER  # refused: global
    total = x

    def uses_nonlocal(v):
        nonlocal total  # refused: nonlocal
        total = total + v
        return total
    return uses_nonlocal


uses_nonlocal = nonlocal_factory(0.0)


async def uses_async_def(x):  # refused: async def
    return x * 2.0


async def uses_await(x):  # refused: async def
    y = await x
    return y


def uses_nested_async_def(x):
    async def inner(v):  # refused: async def
        async with v as w:
            async for u in w:
                await u
        return v
    return x


def uses_star_kwargs(x, **options):  # refused: **kwargs
    return x


def uses_random_normal(x):
    y = np.random.normal(x, 0.1)  # refused: np.random.normal
    return y * x


def uses_for_else(x, n):
    for i in range(n):  # refused: for ... else
        x = x * 2.0
    else:
        x = x + 1.0
    return x


def uses_unsupported_method(x):
    return np.sum(x.tolist())  # refused: .tolist


def passes_a_tuple_to_a_function_of_its_own(x, y):
    return smooth((x, y))  # refused: a tuple whose gradient cannot be split


def passes_a_list_to_a_function_of_its_own(x, y):
    return smooth([x, 2.0])  # refused: a list whose gradient cannot be split


def assigned_where_a_loop_may_return(x, m):
    if m > 2:
        p = np.exp(x)
        for j in range(m):
            if p > x * j:
                return x * p
    else:
        return x
    return p * x  # refused: `p` may be used before it is assigned (read after its loop)
