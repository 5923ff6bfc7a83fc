"""One small function per elementwise rule, for finite-difference tests (see test_ufuncs.py)."""

import math

import numpy as np


def np_exp2(x):
    return np.sum(np.exp2(x) * 1.5)


def np_log2(x):
    return np.sum(np.log2(x) * x)


def np_log10(x):
    return np.sum(np.log10(x) * x)


def np_cbrt(x):
    return np.sum(np.cbrt(x) * x)


def np_square(x):
    return np.sum(np.square(x) + x)


def np_reciprocal(x):
    return np.sum(np.reciprocal(x) * 2.0)


def np_arcsinh(x):
    return np.sum(np.arcsinh(x) * x)


def np_arccosh(x):
    return np.sum(np.arccosh(x + 2.0) * x)


def np_arctanh(x):
    return np.sum(np.arctanh(x * 0.5) * x)


def np_deg_rad(x):
    return np.sum(np.deg2rad(x) * np.sin(np.radians(x)) + np.rad2deg(x) * np.degrees(x) * 0.001)


def np_operators_as_functions(x, y):
    a = np.add(x, y) * np.subtract(x, y)
    b = np.divide(np.multiply(a, x), np.power(y, 2) + 1.0)
    return np.sum(np.negative(b) + np.positive(a))


def np_hypot(x, y):
    return np.sum(np.hypot(x, y) * x)


def np_arctan2(x, y):
    return np.sum(np.arctan2(x, y) * y)


def np_logaddexp(x, y):
    return np.sum(np.logaddexp(x, y) + np.logaddexp2(x * 0.5, y))


def np_fmax_fmin(x, y):
    return np.sum(np.fmax(x, y) * 2.0 + np.fmin(x * x, y))


def math_functions(x):
    a = math.log2(x) + math.log10(x) + math.asinh(x) + math.acosh(x + 2.0) + math.atanh(x * 0.5)
    b = math.radians(x) * math.degrees(x) + math.pow(x, 2.5)
    return a * b


def math_binary(x, y):
    return math.hypot(x, y) * math.atan2(x, y) + math.atan2(y, x)


def builtin_max_min(x, y):
    return max(x, y) * 2.0 + min(x * x, y) + max(x, 0.5)
