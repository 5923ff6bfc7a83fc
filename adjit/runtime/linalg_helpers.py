"""Helpers for the rules of `rules_arrays`: array products, shapes, selection, linear algebra.

Generated code calls them by name (they are re-exported from `helpers` and listed
in `helpers.HELPERS`). Each is one plain Python/NumPy function here, for
`jit=False` and the tape, with a Numba `overload` in `linalg_helpers_numba`
chosen by type at compile time. Some stand in for NumPy functions Numba lacks
(`np.matmul`, `np.inner`, `np.tensordot`, `np.einsum`, `np.diagonal`,
`np.squeeze`, `np.tile`, `np.repeat` along an axis, `x.flatten()` is only
spelled as a helper to keep it a copy); the others compute gradients.
"""

import numpy as np


# ---- products ------------------------------------------------------------------

def matmul_of(a, b):
    """`np.matmul(a, b)` (Numba has only the `@` operator)."""
    return np.matmul(a, b)


def inner_of(a, b):
    """`np.inner(a, b)`: the sum over the last axes of both."""
    return np.inner(a, b)


def tensordot_of(a, b, axes=2):
    """`np.tensordot(a, b, axes)`: `axes` an int (the last `axes` axes of `a` against
    the first of `b`) or a pair `(axes_of_a, axes_of_b)`."""
    return np.tensordot(a, b, axes)


def tensordot_pair(a, b, axes):
    """For `axes=(axes_of_a, axes_of_b)`: `(perm_a, perm_b, n)`, the permutations that put
    the summed axes last in `a` and first in `b`, in matching order, and their number:
    `tensordot(a, b, axes)` is `tensordot(a.transpose(perm_a), b.transpose(perm_b), n)`."""
    summed_a = [i % np.ndim(a) for i in np.reshape(axes[0], -1)]
    summed_b = [i % np.ndim(b) for i in np.reshape(axes[1], -1)]
    free_a = [i for i in range(np.ndim(a)) if i not in summed_a]
    free_b = [i for i in range(np.ndim(b)) if i not in summed_b]
    return free_a + summed_a, summed_b + free_b, len(summed_a)


def _tensordot_sizes(a, b, axes):
    """(p, q, r): `a` as a p x q matrix, `b` as q x r, for `tensordot(a, b, axes)`."""
    q = 1
    for i in range(axes):
        q *= b.shape[i]
    return a.size // q if q else 0, q, b.size // q if q else 0


def tensordot_grad_left(g, a, b, axes=2):
    """Adjoint of `a` in `np.tensordot(a, b, axes)`."""
    if not isinstance(axes, (int, np.integer)):
        perm_a, perm_b, n = tensordot_pair(a, b, axes)
        grad = tensordot_grad_left(g, np.transpose(a, perm_a), np.transpose(b, perm_b), n)
        return np.transpose(grad, np.argsort(perm_a))
    p, q, r = _tensordot_sizes(a, b, axes)
    return (np.reshape(g, (p, r)) @ np.reshape(b, (q, r)).T).reshape(np.shape(a))


def tensordot_grad_right(g, a, b, axes=2):
    """Adjoint of `b` in `np.tensordot(a, b, axes)`."""
    if not isinstance(axes, (int, np.integer)):
        perm_a, perm_b, n = tensordot_pair(a, b, axes)
        grad = tensordot_grad_right(g, np.transpose(a, perm_a), np.transpose(b, perm_b), n)
        return np.transpose(grad, np.argsort(perm_b))
    p, q, r = _tensordot_sizes(a, b, axes)
    return (np.reshape(a, (p, q)).T @ np.reshape(g, (p, r))).reshape(np.shape(b))


EINSUM = ("ij,jk->ik", "ij,j->i", "i,i->", "ij->ji", "ii->", "ij,ij->")


def _einsum_refused(subscripts):
    from .helpers import Unsupported      # (helpers imports this module)
    return Unsupported(f"adjit: np.einsum is differentiated for the subscripts "
                       f"{', '.join(repr(s) for s in EINSUM)} only, not {subscripts!r}")


def einsum_of(subscripts, x, y=None):
    """`np.einsum(subscripts, x[, y])` for the subscripts in `EINSUM`; others are refused."""
    spec = subscripts.replace(" ", "")
    if spec not in EINSUM:
        raise _einsum_refused(subscripts)
    if spec == "ij->ji":
        return np.transpose(x).copy()
    return np.einsum(spec, x) if y is None else np.einsum(spec, x, y)


def einsum_grad_first(g, subscripts, x, y=None):
    """Adjoint of the first operand of `np.einsum(subscripts, x[, y])`."""
    spec = subscripts.replace(" ", "")
    if spec == "ij,jk->ik":
        return g @ y.T
    if spec == "ij,j->i":
        return np.outer(g, y)
    if spec in ("i,i->", "ij,ij->"):
        return g * y
    if spec == "ij->ji":
        return np.transpose(g)
    if spec == "ii->":
        return g * np.eye(x.shape[0])
    raise _einsum_refused(subscripts)


def einsum_grad_second(g, subscripts, x, y):
    """Adjoint of the second operand of `np.einsum(subscripts, x, y)`."""
    spec = subscripts.replace(" ", "")
    if spec in ("ij,jk->ik", "ij,j->i"):
        return x.T @ g
    if spec in ("i,i->", "ij,ij->"):
        return g * x
    raise _einsum_refused(subscripts)


# ---- diagonals -------------------------------------------------------------------

def diag_grad(g, x, k):
    """Adjoint of `np.diag(x, k)`: a 1-D `x` became a matrix (take back its diagonal),
    a 2-D `x` gave its diagonal (put `g` back on it, in `x`'s shape)."""
    if x.ndim == 1:
        return np.diag(g, k).copy()
    return diagonal_grad(g, x, k)


def diagonal_of(x, offset=0):
    """`np.diagonal(x, offset)` of a 2-D array, as a new array."""
    return np.diagonal(x, offset).copy()


def diagonal_grad(g, x, offset=0):
    """Adjoint of `np.diagonal(x, offset)`: zeros shaped like `x` with `g` on the diagonal."""
    rows = np.arange(len(g)) + max(-offset, 0)
    # (written without an in-place store, so the tape can run it on tensors)
    return np.bincount(rows * np.shape(x)[1] + rows + offset, weights=np.ravel(g),
                       minlength=np.size(x)).reshape(np.shape(x))


# ---- shapes --------------------------------------------------------------------

def flat_copy(x):
    """`x.flatten()`: a new 1-D array, never a view."""
    return x.flatten()


def squeeze_of(x, axis=None):
    """`np.squeeze(x, axis)`."""
    return np.squeeze(x, axis)


def transpose_back(g, axes):
    """Adjoint of `np.transpose(x, axes)`: `g` transposed by the inverse permutation."""
    if axes is None:
        return np.transpose(g)
    return np.transpose(g, tuple(np.argsort(axes)))


def tile_of(x, reps):
    """`np.tile(x, reps)`."""
    return np.tile(x, reps)


def tile_grad(g, x, reps):
    """Adjoint of `np.tile(x, reps)`: each element of `x` gets the sum of its copies."""
    source = np.tile(np.arange(np.size(x)).reshape(np.shape(x)), reps).ravel()
    return np.bincount(source, weights=np.ravel(g), minlength=np.size(x)).reshape(np.shape(x))


def repeat_of(x, repeats, axis=None):
    """`np.repeat(x, repeats, axis)`, `repeats` an int."""
    return np.repeat(x, repeats, axis)


def repeat_grad(g, x, repeats, axis=None):
    """Adjoint of `np.repeat(x, repeats, axis)` (`repeats` an int)."""
    source = np.repeat(np.arange(np.size(x)).reshape(np.shape(x)), repeats, axis).ravel()
    return np.bincount(source, weights=np.ravel(g), minlength=np.size(x)).reshape(np.shape(x))


# ---- selection -----------------------------------------------------------------

def take_grad(g, x, indices):
    """Adjoint of `np.take(x, indices)` (no axis: `x` flattened); repeated indices add up."""
    flat = np.ravel(indices)
    flat = np.where(flat < 0, flat + np.size(x), flat)
    return np.bincount(flat, weights=np.ravel(g),
                       minlength=np.size(x)).reshape(np.shape(x))


def sort_grad(g, x):
    """Adjoint of `np.sort(x)` (along the last axis): `g` permuted back to where each
    element came from."""
    n = np.shape(x)[-1]
    rows = np.arange(np.size(x) // n if n else 0).reshape(np.shape(x)[:-1] + (1,))
    source = np.ravel(rows * n + np.argsort(x, axis=-1))
    return np.bincount(source, weights=np.ravel(g), minlength=np.size(x)).reshape(np.shape(x))


# ---- linear algebra --------------------------------------------------------------

def cholesky_grad(g, ans):
    """Adjoint of the symmetric `a` in `ans = np.linalg.cholesky(a)` (a symmetric
    gradient: `a` and `a.T` are the same matrix; NumPy reads its lower triangle)."""
    phi = np.tril(ans.T @ g)
    phi = phi - 0.5 * np.diag(np.diag(phi))
    inv = np.linalg.inv(ans)
    s = inv.T @ phi @ inv
    return 0.5 * (s + s.T)


def eigvalsh_grad(g, a):
    """Adjoint of the symmetric `a` in `np.linalg.eigvalsh(a)`: V diag(g) V^T."""
    w, v = np.linalg.eigh(a)
    return (v * g) @ v.T


HELPERS = ("matmul_of", "inner_of", "tensordot_of", "tensordot_grad_left",
           "tensordot_grad_right", "einsum_of", "einsum_grad_first", "einsum_grad_second",
           "diag_grad", "diagonal_of", "diagonal_grad", "flat_copy", "squeeze_of",
           "transpose_back", "tile_of", "tile_grad", "repeat_of", "repeat_grad", "take_grad",
           "sort_grad", "cholesky_grad", "eigvalsh_grad")
