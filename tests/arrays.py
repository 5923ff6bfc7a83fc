"""Array products, shape functions, selection and linear algebra, for finite-difference
tests (see test_arrays.py). Results are weighted by position (`np.arange`) or passed
through a nonlinearity so that a gradient put in the wrong place shows."""

import numpy as np


# ---- products ------------------------------------------------------------------

def dot_all(m, v, n):
    """Every 1-D/2-D mix: m is 3x4, v has 4 elements, n is 4x2."""
    return (np.sin(np.dot(v, v)) + np.sum(np.sin(np.dot(m, v))) + np.sum(np.sin(np.dot(v, n)))
            + np.sum(np.sin(np.dot(m, n))))


def matmul_all(m, v, n):
    return (np.sin(np.matmul(v, v)) + np.sum(np.sin(np.matmul(m, v)))
            + np.sum(np.sin(np.matmul(v, n))) + np.sum(np.sin(np.matmul(m, n))))


def products(x, y, a, b):
    """np.outer, np.inner (every 1-D/2-D mix) and np.vdot: x, y have 3 elements, a is 2x3,
    b is 4x3."""
    return (np.sum(np.sin(np.outer(x, y))) + np.cos(np.inner(x, y)) + np.vdot(x, y) ** 2
            + np.sum(np.sin(np.inner(a, b))) + np.sum(np.sin(np.inner(x, b)))
            + np.sum(np.sin(np.inner(a, y))))


def tensordot_one(a, b):
    return np.sum(np.sin(np.tensordot(a, b, 1)))


def tensordot_default(a, b):
    return np.sum(np.sin(np.tensordot(a, b)))


def einsum_all(a, b, v, w):
    p = np.einsum('ij,jk->ik', a, b)
    q = np.einsum('ij,j->i', a, v)
    r = np.einsum('i,i->', v, w)
    t = np.einsum('ij->ji', a)
    s = np.einsum('ii->', np.dot(a, a.T))
    u = np.einsum('ij,ij->', a, np.sin(a))
    return np.sum(np.sin(p)) + np.sum(q * q) + r * r + np.sum(t * t * t) + s + u


def einsum_other(a):
    return np.sum(np.einsum('ij->i', a))


def diagonals(a, v):
    return (np.trace(a * a) + a.trace() * 2.0 + np.sum(np.sin(np.diag(v)))
            + np.sum(np.diag(a) ** 3) + np.sum(np.sin(np.diag(v, 1)))
            + np.sum(np.diagonal(a)) * np.sum(np.sin(np.diagonal(a, 1))) + np.sum(a.diagonal() ** 2)
            + np.sum(np.sin(np.triu(a))) + np.sum(np.tril(a, -1) ** 2)
            + np.sum(np.cos(np.triu(a, 1))))


# ---- shapes --------------------------------------------------------------------

def permutations(x, m):
    """x is 2x3x4, m is 2x3. An elementwise nonlinearity makes the sum position-sensitive:
    a gradient put back in the wrong place has the derivative of another element."""
    return (np.sum(np.sin(np.transpose(x, (1, 2, 0)))) + np.sum(np.cos(np.swapaxes(m, 0, 1)))
            + np.sum(m.swapaxes(1, 0) ** 3) + np.sum(np.moveaxis(x, 0, 2) ** 3)
            + np.sum(np.sin(np.expand_dims(m, 1))))


def flattens(x):
    """x is 2x3."""
    return (np.sum(np.sin(np.ravel(x))) + np.sum(x.flatten() ** 3) + np.sum(np.cos(x.ravel()))
            + np.sum(np.sin(np.ravel(x.T)) ** 2)
            + np.sum(np.cos(np.transpose(x, (1, 0)).flatten())))


def squeezes(x):
    return np.sum(np.sin(np.squeeze(x, 1))) + np.sum(np.cos(x.squeeze(1)) ** 2)


def squeeze_all(x):
    return np.sum(np.sin(np.squeeze(x)))


def broadcasts(v, s):
    return np.sum(np.sin(np.broadcast_to(v, (4, 3)))) + np.sum(np.broadcast_to(v * s, (2, 3)) ** 3)


def tiles(v, m):
    return (np.sum(np.sin(np.tile(v, 2))) + np.sum(np.sin(np.tile(m, (2, 3))))
            + np.sum(np.tile(v, (2, 2)) ** 3))


def repeats(v, m):
    return (np.sum(np.sin(np.repeat(v, 2))) + np.sum(v.repeat(3) ** 3)
            + np.sum(np.cos(np.repeat(m, 2, 1))) + np.sum(np.sin(np.repeat(m, 3, axis=0))))


def flips_rolls(m, v):
    return (np.sum(np.sin(np.flip(m))) + np.sum(np.roll(v, -1) ** 3)
            + np.sum(np.cos(np.roll(m, 2))))


def flip_write(x):
    """np.flip returns a view: the write changes x too."""
    y = np.flip(x)
    y[0] = 0.0
    return np.sum(y * x)


def fancy_read(x, idx):
    return np.sum(np.sin(x[idx]))


def mask_read(x):
    return np.sum(np.sin(x[x > 0.0]) * 2.0) + np.sum(x[x < 0.0] ** 2)


def takes(x, idx):
    return np.sum(np.sin(np.take(x, idx))) + np.sum(x.take(idx) ** 3)


def sorts(v, m):
    """The sorted values weighted by rank: a gradient put back in the wrong place shows."""
    return np.sum(np.sort(v) * np.arange(5.0)) + np.sum(np.sin(np.sort(m)) * np.arange(3.0))


def inv(a):
    return np.sum(np.sin(np.linalg.inv(a)))


def solve(a, b, c):
    """b a vector, c a matrix."""
    return np.sum(np.sin(np.linalg.solve(a, b))) + np.sum(np.sin(np.linalg.solve(a, c)))


def det(a):
    return np.linalg.det(a) * 2.0 + np.linalg.det(a * a)


def cholesky(b):
    a = np.dot(b, b.T) + np.diag(np.full(3, 3.0))
    return np.sum(np.sin(np.linalg.cholesky(a)))


def eigvalsh(b):
    a = b + b.T
    return np.sum(np.linalg.eigvalsh(a) * np.arange(3.0))
