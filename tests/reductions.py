"""Reductions with `axis` and `keepdims`, for finite-difference tests (see test_reductions.py).

Each function combines several forms of one reduction of a (3, 4) array `x` (a
(2, 3, 4) array for `three_dims`), each passed through a different smooth function so
that an error in any one shows. Numba's compile time grows quickly with the rank of
array expressions: most are 2-D."""

import numpy as np


def sums(x):
    a = np.sum(x, axis=0)
    b = np.sum(x, axis=-1, keepdims=True)
    c = np.sum(x, axis=(1,))
    d = np.sum(x, 1)
    e = np.sum(x, axis=(-1, 0))
    return np.sum(np.sin(a)) + np.sum(b * b) + np.sum(np.cos(c) * d) + e * e + np.sum(x)


def means(x):
    a = np.mean(x, axis=1)
    b = np.mean(x, axis=-2, keepdims=True)
    c = np.mean(x, axis=(0, 1), keepdims=True)
    return np.sum(np.sin(a)) + np.sum(b * b * b) + np.sum(c) * np.mean(x)


def prods(x):
    a = np.prod(x, axis=1)
    b = np.prod(x, axis=-2, keepdims=True)
    return np.sum(a * a) + np.sum(np.sin(b)) + np.prod(x[0]) + np.prod(x, axis=None)


def extrema(x):
    a = np.max(x, axis=0)
    b = np.amax(x, axis=-1, keepdims=True)
    c = np.min(x, axis=(0, 1))
    d = np.amin(x, 1)
    return (np.sum(np.sin(a)) + np.sum(b * b) + c * c * c + np.sum(np.cos(d))
            + np.amin(x) + np.amax(x) * np.min(x))


def ties(x):
    """Rows of `x` tied for their maximum share its gradient (see test_ties_share...)."""
    m = np.max(x, axis=1)
    return m[0] + 2.0 * m[1] + np.sum(np.min(x, axis=0, keepdims=True))


def spreads(x):
    a = np.std(x, axis=0)
    b = np.var(x, axis=-1, keepdims=True)
    c = np.std(x, axis=(0, 1), ddof=1)
    d = np.var(x, 1, None, None, 1)
    return (np.sum(np.sin(a)) + np.sum(b * b) + c * c * c + np.sum(np.cos(d))
            + np.std(x) * np.var(x))


def cumulative(x):
    a = np.cumsum(x)
    b = np.cumsum(x, axis=1)
    c = np.cumprod(x, axis=-1)
    d = np.cumprod(x)
    e = np.cumprod(x, 0)
    return np.sum(np.sin(a)) + np.sum(b * b) + np.sum(np.cos(c)) + np.sum(d * d) + np.sum(e * e)


def norms(x):
    a = np.linalg.norm(x, axis=-1)
    b = np.linalg.norm(x, axis=(0, 1), keepdims=True)
    c = np.linalg.norm(x, axis=0)
    d = np.linalg.norm(x[0])
    return (np.sum(np.sin(a)) + np.sum(b * b * b) + np.sum(np.cos(c)) + d * d * d
            + np.linalg.norm(x) * np.linalg.norm(x, None, None))


def methods(x):
    a = x.sum(axis=0)
    b = x.mean(axis=1, keepdims=True)
    c = x.max(axis=0)
    g = x.cumsum()
    return (np.sum(np.sin(a)) + np.sum(b * b) + np.sum(c * c) + np.sum(np.sin(g))
            + x.prod() + x.std() * x.var() + x.min(axis=1)[0])


def three_dims(x):
    a = np.sum(x, axis=(0, 2))
    b = np.prod(x, axis=(2, 0), keepdims=True)
    c = np.max(x, axis=(-1, 0))
    d = np.std(x, axis=(0, 2))
    return (np.sum(np.sin(a)) + np.sum(b * b) + np.sum(c * c) + np.sum(np.cos(d))
            + np.linalg.norm(x, axis=None))


def axis_argument(x, k):
    """The axis is a run-time int (here an argument), not a constant."""
    return np.sum(np.sum(x, axis=k) ** 2) + np.sum(np.cos(np.max(x, axis=k)))
