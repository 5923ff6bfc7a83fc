"""Helpers for the rules of functions joining arrays, of linear algebra returning two
values, and of casts.

`np.concatenate`, `np.stack`, `np.vstack`, `np.hstack` take a tuple of arrays;
the gradient of the `k`-th is the piece of the incoming gradient it became
(`concatenate_piece(g, arrays, k, axis)`). `eigh_grad` is the adjoint of
`np.linalg.eigh`. `astype_of` is `x.astype(dtype)` for numbers too. Each is plain Python/NumPy here, for `jit=False` and the
tape, with a Numba `overload` in `join_helpers_numba`; generated code calls
them by name (re-exported from `helpers`, listed in `helpers.HELPERS`).
"""

import numpy as np


def _along(g, start, stop, axis):
    """`g[..., start:stop, ...]` along `axis`."""
    index = [slice(None)] * np.ndim(g)
    index[axis] = slice(start, stop)
    return g[tuple(index)]


def concatenate_of(arrays, axis=0):
    """`np.concatenate(arrays, axis)` (Numba's fails on `axis=None`)."""
    return np.concatenate(arrays, axis)


def concatenate_piece(g, arrays, k, axis=0):
    """The part of `g` (the gradient of `np.concatenate(arrays, axis)`) that came from
    `arrays[k]`. With `axis=None` the arrays were flattened first."""
    if axis is None:
        sizes = [np.size(a) for a in arrays]
        start = sum(sizes[:k])
        return np.reshape(g[start:start + sizes[k]], np.shape(arrays[k]))
    axis = axis + np.ndim(g) if axis < 0 else axis
    start = sum(np.shape(a)[axis] for a in arrays[:k])
    return _along(g, start, start + np.shape(arrays[k])[axis], axis)


def stack_piece(g, k, axis=0):
    """The part of `g` (the gradient of `np.stack(arrays, axis)`) that came from `arrays[k]`."""
    axis = axis + np.ndim(g) if axis < 0 else axis
    return np.take(g, k, axis=axis)


def vstack_piece(g, arrays, k):
    """The part of `g` (the gradient of `np.vstack(arrays)`) that came from `arrays[k]`:
    a 1-D array is one row, a 2-D array as many rows as it has."""
    rows = [1 if np.ndim(a) <= 1 else np.shape(a)[0] for a in arrays]
    start = sum(rows[:k])
    return np.reshape(g[start:start + rows[k]], np.shape(arrays[k]))


def hstack_piece(g, arrays, k):
    """The part of `g` (the gradient of `np.hstack(arrays)`) that came from `arrays[k]`:
    along the first axis for 1-D arrays, else along the second."""
    if np.ndim(arrays[k]) <= 1:
        start = sum(np.size(a) for a in arrays[:k])
        return np.reshape(g[start:start + np.size(arrays[k])], np.shape(arrays[k]))
    return concatenate_piece(g, arrays, k, 1)


def eigh_grad(gw, gv, w, v):
    """Adjoint of the symmetric `a` in `w, v = np.linalg.eigh(a)`, given the adjoints
    `gw` of the eigenvalues and `gv` of the eigenvectors (columns of `v`):
    V (diag(gw) + F * (V^T gv)) V^T with F[i, j] = 1 / (w[j] - w[i]) off the diagonal,
    symmetrised as `a` is. Repeated eigenvalues give no finite gradient for `gv`."""
    eye = np.eye(np.shape(w)[0])
    gap = np.reshape(w, (1, -1)) - np.reshape(w, (-1, 1))
    f = (1.0 - eye) / (gap + eye)
    inner = eye * gw + f * (v.T @ gv)
    full = v @ inner @ v.T
    return 0.5 * (full + full.T)


def astype_of(x, dtype):
    """`x.astype(dtype)`, for a number too (a NumPy scalar of that type)."""
    return np.asarray(x).astype(dtype)[()]


def astype_grad(g, ans, x):
    """The gradient of `x` in `ans = x.astype(dtype)`: `g` in `x`'s type, and zero
    when `ans` holds integers or booleans (a cast to them is flat)."""
    if np.asarray(ans).dtype.kind not in "f":
        return np.zeros_like(np.asarray(x, dtype=float))[()]
    return np.asarray(g).astype(np.asarray(x).dtype)[()]


HELPERS = ("astype_of", "astype_grad", "concatenate_of", "concatenate_piece", "stack_piece", "vstack_piece", "hstack_piece", "eigh_grad")
