"""Functions adjit must refuse. The offending line of each ends with `# refused: <construct>`."""

import numpy as np


def uses_while(x):
    while x < 10.0:  # refused: while
        x = x * 2.0
    return x


def uses_break(x, n):
    for i in range(n):
        x = x * 2.0
        break  # refused: break
    return x


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


def uses_early_return(x):
    if x > 0.0:
        return x  # refused: early return
    return -x


def uses_nested_def(x):
    def inner(v):  # refused: nested def
        return v
    return x


def uses_while_not_range(x, xs):
    for v in xs:  # refused: for over range only
        x = x + v
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


def uses_reshape_method(x):
    y = x.reshape(3, 1)  # refused: .reshape not supported yet
    return np.sum(y)


def writes_into_array(x):
    y = x * 2.0
    y[0] = 1.0  # refused: array writes not supported yet
    return np.sum(y)
