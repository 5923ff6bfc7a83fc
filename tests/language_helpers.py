"""Helpers that tests/language_programs.py imports: calls into another module.

adjit must differentiate these in turn where a differentiated function calls
them. Plain module-level Python, like the programs themselves.
"""

import math

import numpy as np


# a scalar nonlinearity, the bottom of the call chain
def smooth(v):
    return v * np.tanh(v) + 0.5 * v


# calls smooth in the same module: third and fourth level of call_chain
def inner(x, y):
    return smooth(x) * y + x * x


# returns a tuple that the caller unpacks; math.hypot and math.atan2
def polar(x, y):
    r = math.hypot(x, y)
    theta = math.atan2(y, x)
    return r, theta


# a loop inside a helper; called by two different differentiated functions
def shared(x, k):
    s = x
    for i in range(k):
        s = s * 0.8 + np.cos(s) * 0.3
    return s


# one step of a recurrence, called inside the caller's loop
def step(s, x, i):
    return s * 0.9 + np.sin(x * i + s) * 0.2


# an early return inside a helper
def soft_clip(v):
    if v > 1.0:
        return 1.0 + np.tanh(v - 1.0)
    return v


# array in, array out
def normalize(v):
    return v / np.sqrt(np.sum(v * v))


# two array arguments, scalar result
def weighted_norm(v, w):
    return np.sqrt(np.sum(w * v * v) + 1.0)


# a default argument, overridden by keyword at one call
def scaled(x, k=2.0):
    return np.sin(x * k) * k


# writes into its array argument and returns nothing
def scale_first(a, k):
    a[0] = a[0] * k
