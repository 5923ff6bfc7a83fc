"""Array products, shape functions, selection, linear algebra and joining arrays, for
finite-difference tests, and `CASES`, the programs with their inputs: test_arrays.py
checks their gradients, test_forward.py their tangents and Hessian-vector products.
Results are weighted by position (`np.arange`) or passed through a nonlinearity so that a
gradient put in the wrong place shows."""

import math

import numpy as np

from inputs import const, normal, well_conditioned


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


def slogdet(a):
    """`a` well conditioned; `-a` has the other sign of determinant for odd sizes."""
    sign, logdet = np.linalg.slogdet(a)
    sign_2, logdet_2 = np.linalg.slogdet(-a @ a.T)
    return sign * logdet * 2.0 + logdet_2 * sign_2


def eigh(b):
    """Eigenvalues and eigenvectors of a symmetric matrix; the vectors through functions
    their sign does not change (`v v^T`, squares)."""
    a = b + b.T
    w, v = np.linalg.eigh(a)
    first = np.outer(v[:, 0], v[:, 0])
    return np.sum(w * np.arange(3.0)) + np.sum(np.sin(first)) + np.sum(v[:, 2] ** 2 * w)


# ---- joining arrays ------------------------------------------------------------

def concatenates(a, b):
    """a is 2x3, b is 2x2: along each axis, negative axes, a list, a transposed
    (non-contiguous) operand, flattened with `axis=None`."""
    rows = np.concatenate((a, np.sin(a)))
    columns = np.concatenate([a, b * b, a], axis=1)
    last = np.concatenate((b.T, a[:, :2]), axis=-1)
    flat = np.concatenate((a, b), axis=None)
    return (np.sum(np.sin(rows) * np.arange(12.0).reshape(4, 3)) + np.sum(columns ** 3)
            + np.sum(np.cos(last)) + np.sum(flat * np.arange(10.0)))


def stacks(x, y):
    """x, y have 3 elements; stacked along each axis, and 2-D stacks of 2-D."""
    s0 = np.stack((x, y, x * y))
    s1 = np.stack([x, np.sin(y)], axis=1)
    s2 = np.stack((np.outer(x, y), np.outer(y, y)), axis=-1)
    return (np.sum(s0 * np.arange(9.0).reshape(3, 3)) + np.sum(np.cos(s1))
            + np.sum(s2 ** 2 * np.arange(18.0).reshape(3, 3, 2)))


def vstacks_hstacks(x, m):
    """x has 3 elements, m is 2x3: 1-D rows and 2-D blocks."""
    v1 = np.vstack((x, x ** 2))
    v2 = np.vstack([m, np.sin(m), m])
    h1 = np.hstack((x, np.sin(x)))
    h2 = np.hstack([m, m ** 2])
    return (np.sum(v1 * np.arange(6.0).reshape(2, 3)) + np.sum(np.sin(v2))
            + np.sum(h1 * np.arange(6.0)) + np.sum(np.cos(h2)))


def array_literals(x, y):
    """Arrays written out from scalars: a list, nested lists, a constant element,
    `np.array` of an array (a copy)."""
    v = np.array([x * y, np.sin(x), 2.0, y])
    m = np.array([[x, y], [y * y, 1.0]])
    c = np.array(v)
    return np.sum(v * np.arange(4.0)) + np.sum(m @ m) + np.sum(c ** 2)


def casts(x):
    """`x.astype` to floats (the gradient passes) and to integers (flat: no gradient
    through the cast itself), with the dtype written several ways."""
    a = x.astype(np.float64)
    b = x.astype(float) * 2.0
    c = x.astype(np.int64)
    return np.sum(np.sin(a) * x) + np.sum(b ** 2) + np.sum(c * x)


def odds_and_ends(x, m):
    """The registry's remaining entries, each used once: copies, signs, roundings, shapes,
    new arrays (`x` has 4 elements, `m` is 3x3)."""
    y = np.copy(x) * np.sign(x) + np.ceil(x) * x + math.ceil(x[0]) * x
    k = np.argmin(x) + np.ndim(m) + np.size(m)
    e = np.empty_like(x)
    e[:] = 1.5
    i = np.identity(3) * 2.0 + np.eye(3, 3, 1)
    return np.sum(y ** 2) + k * x[1] + np.sum(e * x) + np.sum(i * m) + math.fabs(x[2]) * x[3]


def tensordot_pairs(a, b):
    """`axes` as a pair of sequences, in any order, negative too: a is 2x3, b is 3x2x4.
    (Each pair type compiles its own helpers: one call keeps the test quick.)"""
    full = np.tensordot(a, b, axes=([1, -2], [0, 1]))
    return np.sum(np.sin(full) * np.arange(1.0, 5.0))


def tensordot_pair_of_ints(a, b):
    """`axes=(0, 1)`: one axis each, given as ints (b is 3x2x4, a is 2x3)."""
    return np.sum(np.cos(np.tensordot(b, a, axes=(0, 1))) * np.arange(16.0).reshape(2, 4, 2))


# ---- the cases -----------------------------------------------------------------
# (program, makers of its arguments, the arguments differentiated)

CASES = [
    (dot_all, [normal(3, 4), normal(4), normal(4, 2)], (0, 1, 2)),
    (matmul_all, [normal(3, 4), normal(4), normal(4, 2)], (0, 1, 2)),
    (products, [normal(3), normal(3), normal(2, 3), normal(4, 3)], (0, 1, 2, 3)),
    (tensordot_one, [normal(2, 3, 4), normal(4, 5)], (0, 1)),
    (tensordot_default, [normal(2, 3, 4), normal(3, 4, 5)], (0, 1)),
    (tensordot_pairs, [normal(2, 3), normal(3, 2, 4)], (0, 1)),
    (einsum_all, [normal(3, 4), normal(4, 2), normal(4), normal(4)], (0, 1, 2, 3)),
    (diagonals, [normal(3, 4), normal(3)], (0, 1)),
    (permutations, [normal(2, 3, 4), normal(2, 3)], (0, 1)),
    (flattens, [normal(2, 3)], 0),
    (squeezes, [normal(3, 1, 2)], 0),
    (squeeze_all, [normal(3, 1, 2)], 0),
    (broadcasts, [normal(3), normal()], (0, 1)),
    (tiles, [normal(3), normal(2, 3)], (0, 1)),
    (repeats, [normal(3), normal(2, 3)], (0, 1)),
    (flips_rolls, [normal(2, 3), normal(4)], (0, 1)),
    (fancy_read, [normal(4), const(np.array([0, 2, 2, 3, 2]))], 0),
    (mask_read, [normal(7)], 0),
    (takes, [normal(2, 3), const(np.array([0, 5, 5, 1, 2]))], 0),
    (sorts, [normal(5), normal(2, 3)], (0, 1)),
    (inv, [well_conditioned(3)], 0),
    (solve, [well_conditioned(3), normal(3), normal(3, 2)], (0, 1, 2)),
    (det, [well_conditioned(3)], 0),
    (cholesky, [normal(3, 3)], 0),
    (eigvalsh, [normal(3, 3)], 0),
    (slogdet, [well_conditioned(3)], 0),
    (eigh, [normal(3, 3)], 0),
    (concatenates, [normal(2, 3), normal(2, 2)], (0, 1)),
    (stacks, [normal(3), normal(3)], (0, 1)),
    (vstacks_hstacks, [normal(3), normal(2, 3)], (0, 1)),
    (array_literals, [normal(), normal()], (0, 1)),
    (casts, [normal(4)], 0),
    (odds_and_ends, [normal(4), normal(3, 3)], (0, 1)),
]
