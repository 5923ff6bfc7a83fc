"""Functions the tests differentiate (module level, so adjit can read their source).

Each entry of CASES is (function, args, wrt): the tests compare adjit's
gradient with central finite differences of the function itself.
"""

import importlib.util
import math
import pathlib

import numpy as np

SCALE = 0.5
STEPS = 3
WEIGHTS = np.ones(3)


def recurrence(x, n):
    s = x
    for i in range(n):
        s = s + np.sin(x * i) * s + x
    return s


def polynomial(x, y):
    return x ** 2 * y


def arithmetic(x, y):
    a = x * y + x / y - y
    b = -a + 3.0 * x - 2 / (1.0 + y * y)
    return a * b + +x


def powers(x, y):
    a = x ** 3 + x ** -2 + x ** 0.5
    b = y ** x
    c = (-x) ** 3 + (-y) ** 2
    return a + b + c + x ** y


def elementwise_math(x):
    a = math.sin(x) + math.cos(x) + math.tan(x) + math.exp(x) + math.log(x)
    b = math.log1p(x) + math.expm1(x) + math.sqrt(x) + math.tanh(x) + math.atan(x)
    c = math.asin(x / 4.0) + math.acos(x / 4.0) + math.sinh(x) + math.cosh(x) + abs(x - 1.0)
    return a * b + c


def elementwise_numpy(x):
    a = np.sin(x) + np.cos(x) + np.tan(x) + np.exp(x) + np.log(x)
    b = np.log1p(x) + np.expm1(x) + np.sqrt(x) + np.tanh(x) + np.arctan(x)
    c = np.arcsin(x / 4.0) + np.arccos(x / 4.0) + np.sinh(x) + np.cosh(x) + np.abs(x - 1.0)
    return np.sum(a * b + c)


def branches(x, y):
    if x > y:
        z = x * y
    elif x > 0.5 * y:
        z = x + y * y
        z = z * z
    else:
        z = np.sin(x) * y
    if z < 1.0:
        z = z * 2.0
    return z + x


def loop_branch(x, n):
    s = 0.0
    for i in range(n):
        if i % 2 == 0:
            s = s + x * i
        else:
            s = s * np.cos(x)
    return s


def nested_loops(x, y, n):
    total = 0.0
    for i in range(n):
        acc = x
        for j in range(i, n):
            acc = acc * y + np.sin(acc) * 0.5
        total = total + acc * i
    return total


def loop_steps(x, n):
    s = x
    for i in range(n, 0, -1):
        s = s * 0.9 + x / i
    for k in range(1, 2 * n, 3):
        s = s + np.sin(s * k)
    for j in range(0):
        s = s * 100.0
    return s


def fibonacci_like(x, y, n):
    a, b = x, y
    for i in range(n):
        a, b = b, a * 0.5 + np.sin(b)
    return a * b


def swap(x, y):
    x, y = y, x
    return x * 2.0 + y ** 3


def reassigned_argument(x, n):
    x = x * 2.0
    for i in range(n):
        x = x + np.tanh(x) * 0.1
    return x * x


def vector_ops(x, w):
    y = x * w + 1.0
    z = np.sum(np.tanh(y) * x) + np.mean(x * x)
    return z + np.dot(x, w)


def broadcasting(x, b, c):
    y = x * b + c
    return np.sum(np.exp(y * 0.1) * b)


def matrix_vector(a, v):
    y = a @ v
    z = np.dot(a, np.sin(v))
    return np.sum(y * z)


def matrix_matrix(a, b):
    c = a @ b
    return np.sum(np.tanh(c))


def max_min(x, y):
    return np.sum(np.maximum(x, y) * 2.0 + np.minimum(x * x, y))


def array_loop(x, n):
    h = x
    for i in range(n):
        h = np.tanh(h * 0.9 + 0.1 * i)
    return np.sum(h * h)


def array_output(x):
    return np.sin(x) * x


def unused_input(x, y):
    return y * 2.0


def integer_arithmetic(x, n):
    k = n * 2 + 1
    m = k // 2
    return x * k + x ** m + float(n) * x


def condition_on_counter(x, n):
    s = x
    for i in range(n):
        if i > 2 and i < 5:
            s = s * 1.5
        elif not i == 1:
            s = s + np.cos(s)
    return s


def loop_carried_through_branch(x, n):
    s = x
    t = x * 0.5
    for i in range(n):
        if s > t:
            t = t + s * 0.3
        else:
            s = s + t * 0.2
        s = np.sin(s) + t * 0.1
    return s + t


def inner_bound_from_outer(x, n):
    s = x
    m = 1
    for i in range(n):
        for j in range(m):
            s = s * 0.95 + np.cos(s) * 0.05
        m = m + 1
    return s


def loop_carried_int(x, n):
    s = x
    k = 0
    for i in range(n):
        k = k + 2
        for j in range(k):
            s = s * 0.97 + np.sin(s) * 0.01 * k
    return s * k


def zero_trip_loops(x, n):
    s = x * x
    for i in range(n):
        s = s * 2.0
        for j in range(i):
            s = s + 1.0
    return s + np.sin(x)


def deep_nesting(x, n):
    s = x
    for i in range(n):
        for j in range(n):
            for k in range(j, n):
                if (i + j + k) % 2 == 0:
                    s = s + np.sin(s * i + k) * 0.1
                else:
                    s = s * 0.99
    return s


def scalar_times_array(a, v):
    w = a * v
    return np.sum(w * w) + a * np.sum(v)


def scalar_or_array(x, n):
    if n > 0:
        y = x * 2.0
    else:
        y = 0.0
    return np.sum(y * x)


def self_copy_in_loop(x, n):
    for i in range(n):
        for j in range(n):
            if np.sin(x) > 0.93:
                a = x
            else:
                x = np.tanh(x + x ** 2)
        x = x
    s = x
    for i in range(n):
        s = s + s * x
    return s


def reads_global_constants(x):
    s = x
    for i in range(STEPS):
        s = s * SCALE + np.sin(s) * math.pi
    return s


def carried_but_unread_in_loop(x, n):
    t = x * 2.0
    z = t * t
    for i in range(n):
        t = x * i
    return z + t


def last_iteration_value(x, n):
    for i in range(n):
        t = np.sin(x * i)
        w = t * x
    return t * 2.0 + w


def shadows_helper_names(x, n):
    zeros_like = x * 2.0
    restore = zeros_like
    for i in range(n):
        restore = restore * 0.5 + np.sin(zeros_like)
    return restore


def array_methods(a, v):
    w = a.dot(v) + a.T.dot(v * 2.0)
    c = w.copy()
    return c.sum() + (a * a).mean() + w.max() - (v * 3.0).min() + a.transpose().sum()


def subscripts(x, m):
    a = x[0] * x[-1] + np.sum(x[1:] * x[:-1])
    b = np.sum(m[:, 0] * m[1, :]) + m[1, 2] * np.sum(m[0:2, 1:3])
    c = np.sum(x[::2]) + np.sum(m.T[0])
    return a * b + c


def repeated_index(x, idx):
    return np.sum(x[idx] * x[idx])


def masked_read(x):
    return np.sum(x[x > 0.1] ** 2) + x[np.argmax(x)]


def shape_queries(x):
    n = x.shape[0]
    m = x.size
    d = x.ndim
    s = 0.0
    for i in range(n):
        s = s + x[i] * m * d
    return s + len(x) * np.sum(x)


def _example(name):
    path = pathlib.Path(__file__).parent.parent / "examples" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"example_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The example's own loop-written Rosenbrock, differentiated by the gradient tests too.
rosenbrock_loop = _example("rosenbrock").rosenbrock
