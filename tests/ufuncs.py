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


# ---- binary rules under broadcasting ------------------------------------------
# The arguments are a scalar `s`, a row `r` (4,), a column `c` (3, 1), a (1, 4) array
# `rr`, a matrix `m` (3, 4) and a (2, 3, 4) array `t`. Each rule meets three of the
# pairs (m, s), (s, m), (m, r), (c, r), (rr, m), (t, c), so that every pair of shapes
# is un-broadcast by several rules and every rule un-broadcasts several.

def broadcast_arithmetic(s, r, c, rr, m, t):
    return (np.sum(np.sin(np.add(m, s))) + np.sum(np.sin(s + m)) + np.sum(np.sin(np.add(m, r)))
            + np.sum(np.sin(np.subtract(s, m))) + np.sum(np.sin(m - r)) + np.sum(np.sin(np.subtract(c, r)))
            + np.sum(np.sin(np.multiply(m, r))) + np.sum(np.sin(c * r)) + np.sum(np.sin(np.multiply(rr, m)))
            + np.sum(np.sin(np.divide(c, r))) + np.sum(np.sin(rr / m)) + np.sum(np.sin(np.divide(t, c)))
            + np.sum(np.sin(np.power(rr, m))) + np.sum(np.sin(t ** c)) + np.sum(np.sin(np.power(m, s)))
            + np.sum(np.sin(np.float_power(t, c))) + np.sum(np.sin(np.float_power(m, s)))
            + np.sum(np.sin(np.float_power(s, m)))
            + np.sum(np.sin(np.mod(m, s))) + np.sum(np.sin(s % m)) + np.sum(np.sin(np.mod(m, r)))
            + np.sum(np.sin(np.fmod(c, r))) + np.sum(np.sin(np.fmod(rr, m))) + np.sum(np.sin(np.fmod(t, c))))


def broadcast_functions(s, r, c, rr, m, t):
    return (np.sum(np.sin(np.hypot(m, s))) + np.sum(np.sin(np.hypot(s, m))) + np.sum(np.sin(np.hypot(m, r)))
            + np.sum(np.sin(np.arctan2(s, m))) + np.sum(np.sin(np.arctan2(m, r)))
            + np.sum(np.sin(np.arctan2(c, r)))
            + np.sum(np.sin(np.logaddexp(m, r))) + np.sum(np.sin(np.logaddexp(c, r)))
            + np.sum(np.sin(np.logaddexp(rr, m)))
            + np.sum(np.sin(np.logaddexp2(c, r))) + np.sum(np.sin(np.logaddexp2(rr, m)))
            + np.sum(np.sin(np.logaddexp2(t, c)))
            + np.sum(np.sin(np.maximum(rr, m))) + np.sum(np.sin(np.maximum(t, c)))
            + np.sum(np.sin(np.maximum(m, s)))
            + np.sum(np.sin(np.minimum(t, c))) + np.sum(np.sin(np.minimum(m, s)))
            + np.sum(np.sin(np.minimum(s, m)))
            + np.sum(np.sin(np.fmax(m, s))) + np.sum(np.sin(np.fmax(s, m))) + np.sum(np.sin(np.fmax(m, r)))
            + np.sum(np.sin(np.fmin(c, r))) + np.sum(np.sin(np.fmin(rr, m))) + np.sum(np.sin(np.fmin(t, c))))


def broadcast_selection(s, r, c, rr, m, t):
    """`np.where` and `np.clip`, whose condition and bounds broadcast too."""
    return (np.sum(np.sin(np.where(m > r, m, r))) + np.sum(np.sin(np.where(c > 1.0, s, m)))
            + np.sum(np.sin(np.where(t > c, c, t))) + np.sum(np.sin(np.where(rr > 1.0, rr, m * m)))
            + np.sum(np.sin(np.clip(m, r, 1.2))) + np.sum(np.sin(np.clip(t, 0.7, c)))
            + np.sum(np.sin(np.clip(m, None, s))) + np.sum(np.sin(np.clip(rr, c, None)))
            + np.sum(np.fabs(m - 1.0) * np.trunc(m * 3.0) * np.rint(r * 3.0)))


def scalar_selection(x, y):
    """`np.where` and `np.clip` on numbers (Numba's `np.clip` takes arrays only)."""
    return np.clip(x, 0.8, 1.2) * y + np.clip(y, x, None) + np.fabs(x - y) + np.where(x > y, x, y) * 0.5


# The same rules, each once and on one pair of shapes, for the compiled tests: Numba's
# compile time grows fast with the number of broadcasting array expressions.

def compiled_arithmetic(s, r, c, rr, m, t):
    a = np.add(m, s) * np.subtract(s, m) + np.multiply(rr, m) + np.divide(c, r)
    b = np.power(rr, m) + np.float_power(m, s) + np.mod(m, r) + np.fmod(c, r)
    return np.sum(a * b) + np.sum(np.multiply(t, c) ** 2)


def compiled_functions(s, r, c, rr, m, t):
    a = np.hypot(m, s) * np.arctan2(c, r) + np.logaddexp(rr, m) + np.logaddexp2(s, m)
    b = np.maximum(m, r) + np.minimum(c, r) + np.fmax(rr, m) + np.fmin(m, s)
    return np.sum(a * b) + np.sum(np.hypot(t, c) ** 2)


def compiled_selection(s, r, c, rr, m, t):
    a = np.where(m > r, m, r) * np.where(c > 1.0, s, m) + np.clip(m, r, 1.2) * np.clip(rr, c, None)
    return np.sum(a * a) + np.sum(np.clip(t, 0.7, c) ** 2)
