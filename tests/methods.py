"""Array methods and attributes, builtins and `math` functions, for finite-difference
tests (see test_methods.py). Integer values (shapes, counters, `int(...)`) are used in
arithmetic with differentiable ones but never differentiated themselves."""

import math

import numpy as np


def attr_shape(x):
    return np.sum(x * x) * x.shape[0] + np.sum(x) * x.shape[-1]


def attr_size(x):
    return np.sum(x * x) / x.size


def attr_ndim(x):
    return np.sum(np.sin(x)) * x.ndim + x.ndim


def builtin_len(x):
    s = 0.0
    for i in range(len(x)):
        s = s + x[i] * x[i] * i
    return s * len(x)


def attr_T(x, w):
    return np.sum(x.T * w) + np.sum((x * x).T @ x)


def method_transpose(x):
    return np.sum(np.sin(x.transpose()) * x.T)


def method_sum(x):
    return x.sum() * x.sum() + (x * x).sum()


def method_mean(x):
    return (x * x).mean() + x.mean() ** 2


def method_max(x):
    return x.max() * 2.0 + (x * x).max()


def method_min(x):
    return x.min() * 3.0 - (np.sin(x)).min()


def method_max_only(x):
    return x.max()


def method_min_only(x):
    return x.min()


def reshape_tuple(x, w):
    y = x.reshape((2, 3))
    return np.sum(y * w)


def np_reshape_tuple(x, w):
    n, m = x.shape
    return np.sum(np.reshape(x, (m, n)) * w)


def reshape_dims(x, w):
    y = x.reshape(3, 2)
    return np.sum(y * w) + np.sum(y * y)


def reshape_int_argument(x, w, n):
    y = x.reshape(n, -1)
    return np.sum(np.sin(y) * w)


def reshape_flat(x, w):
    y = x.reshape(-1)
    return np.sum(y * w) + y[0] * y[-1]


def reshape_transposed(x, w):
    y = x.T.reshape(-1)
    z = (x * 2.0).reshape(x.size)
    return np.sum(y * w) + np.sum(z * z)


def reshape_chain(x, w):
    y = x.reshape(2, 3).T.reshape(6)
    return np.sum(np.sin(y) * w)


def np_reshape_int(x, w, n):
    y = np.reshape(x, -1)
    z = np.reshape(x * x, n)
    return np.sum(y * w) + np.sum(z)


def method_dot(x, y):
    return np.sum(x.dot(y) * 1.5)


def method_dot_chain(x, y):
    a = x.dot(y)
    return (a * 2.0).dot(a)


def method_copy(x):
    y = x.copy()
    z = (x * x).copy()
    return np.sum(y * x + z)


def builtin_abs(x):
    return np.sum(abs(x) * x + abs(x * 2.0 - 1.0))


def builtin_min_max(x, y):
    return min(x, y) * max(x, 0.5) + max(x * y, y) - min(0.3, y * y)


def builtin_float(x):
    return float(x) * x + float(x * x)


def builtin_float_element(x):
    return float(x[0]) * np.sum(x) + float(np.sum(x * x))


def builtin_int(x):
    n = int(x * 3.0)
    return x * int(x) + x ** 2 * n


def builtin_range(x, n):
    s = x
    for i in range(n):
        s = s * 0.9 + x * i
    for j in range(1, n, 2):
        s = s + np.sin(x * j)
    for k in range(n, 0, -1):
        s = s + x / k
    return s


def int_counters_and_shapes(x, n):
    s = 0.0
    for i in range(x.shape[0]):
        for j in range(i, n):
            s = s + x[i] * (j - i) + x[i] * x.size
    return s * x.ndim + len(x)


def math_atan2_hypot(x, y):
    return math.atan2(x, y) * math.hypot(x, y) + math.atan2(y * 2.0, x) + math.hypot(1.5, x)
