"""Gradient rules for NumPy's array products, shape functions, selection and linear algebra.

Part of the one registry: these rules register through `rules.defrule`
exactly as those in `rules.py` do (which imports this module at its end).
Where Numba lacks a NumPy function (`np.matmul`, `np.inner`, `np.tensordot`,
`np.einsum`, `np.diagonal`, `np.squeeze`, `np.tile`, `np.repeat` along an
axis), generated code calls a helper of `linalg_helpers` in its place.

Not here yet, because the compiler cannot express them: functions taking a
tuple of arrays (`np.concatenate((a, b))`, `np.stack`, `np.vstack`,
`np.hstack`: a rule would return a tuple of gradients for that one
parameter) and functions returning a tuple (`np.linalg.slogdet`,
`np.linalg.eigh`). They stay refused ("no gradient rule").
"""

import numpy as np

from . import rules
from .array_helpers import reshape_to  # noqa: F401
from .helpers import dot_grad_left, dot_grad_right, unbroadcast  # noqa: F401
from .helpers import cholesky_tangent, eigvalsh_tangent, sort_tangent  # noqa: F401
from .linalg_helpers import (cholesky_grad, diag_grad, diagonal_grad, diagonal_of,  # noqa: F401
                             eigvalsh_grad, einsum_grad_first, einsum_grad_second, einsum_of,
                             flat_copy, inner_of, matmul_of, repeat_grad, repeat_of, sort_grad,
                             squeeze_of, take_grad, tensordot_grad_left, tensordot_grad_right,
                             tensordot_of, tile_grad, tile_of, transpose_back)
from .rules import defjvp, defrule, this  # noqa: F401

# ---- products ------------------------------------------------------------------
# `np.dot` (and `a @ b`) is in rules.py; its helpers cover every mix of scalars,
# 1-D and 2-D operands.

@defrule((np.matmul, "matmul_of", "np.matmul"), shape="unknown")
def matmul_call(g, ans, x, y):
    return dot_grad_left(g, x, y), dot_grad_right(g, x, y)


@defjvp(matmul_call)
def matmul_call_jvp(g, ans, x, y):
    return this(x=g), this(y=g)


@defrule((np.outer, "np.outer"), shape="unknown")
def outer(g, ans, x, y):
    return (reshape_to(np.dot(g, np.ravel(y)), np.shape(x)),
            reshape_to(np.dot(np.ravel(x), g), np.shape(y)))


@defjvp(outer)
def outer_jvp(g, ans, x, y):
    return this(x=g), this(y=g)


# `np.inner(x, y)` is `np.dot(x, y.T)` for 1-D and 2-D operands.
@defrule((np.inner, "inner_of", "np.inner"), shape="unknown")
def inner(g, ans, x, y):
    return (dot_grad_left(g, x, np.transpose(y)),
            np.transpose(dot_grad_right(g, x, np.transpose(y))))


@defjvp(inner)
def inner_jvp(g, ans, x, y):
    return this(x=g), this(y=g)


@defrule((np.vdot, "np.vdot"), shape="scalar")
def vdot(g, ans, x, y):
    return reshape_to(g * np.ravel(y), np.shape(x)), reshape_to(g * np.ravel(x), np.shape(y))


@defjvp(vdot)
def vdot_jvp(g, ans, x, y):
    return this(x=g), this(y=g)


# `axes` an int (a constant where Numba compiles it).
@defrule((np.tensordot, "tensordot_of", "np.tensordot"), shape="unknown")
def tensordot(g, ans, a, b, axes=2):
    return tensordot_grad_left(g, a, b, axes), tensordot_grad_right(g, a, b, axes), None


@defjvp(tensordot)
def tensordot_jvp(g, ans, a, b, axes=2):
    return this(a=g), this(b=g), None


# The subscripts of `linalg_helpers.EINSUM` only, a constant string; others are refused.
@defrule((np.einsum, "einsum_of", "np.einsum"), shape="unknown")
def einsum(g, ans, subscripts, x, y=None):
    return None, einsum_grad_first(g, subscripts, x, y), einsum_grad_second(g, subscripts, x, y)


@defjvp(einsum)
def einsum_jvp(g, ans, subscripts, x, y=None):
    return None, this(x=g), this(y=g)


@defrule((np.trace, "np.trace"), (np.ndarray.trace, "np.trace", "x.trace"), shape="scalar")
def trace(g, ans, x):
    return g * np.eye(x.shape[0], x.shape[1])


defjvp(trace, linear=("x",))


@defrule((np.diag, "np.diag"), shape="unknown")
def diag(g, ans, x, k=0):
    return diag_grad(g, x, k), None


defjvp(diag, linear=("x",))


@defrule((np.diagonal, "diagonal_of", "np.diagonal"),
         (np.ndarray.diagonal, "diagonal_of", "x.diagonal"), shape="unknown")
def diagonal(g, ans, x, offset=0):
    return diagonal_grad(g, x, offset), None


defjvp(diagonal, linear=("x",))


@defrule((np.triu, "np.triu"), shape="unknown")
def triu(g, ans, x, k=0):
    return np.triu(g, k), None


defjvp(triu, linear=("x",))


@defrule((np.tril, "np.tril"), shape="unknown")
def tril(g, ans, x, k=0):
    return np.tril(g, k), None


defjvp(tril, linear=("x",))


# ---- shapes --------------------------------------------------------------------

@defrule((np.ravel, "np.ravel"), (np.ndarray.ravel, "np.ravel", "x.ravel"),
         (np.ndarray.flatten, "flat_copy", "x.flatten"), shape="unknown")
def ravel(g, ans, x):
    return reshape_to(g, np.shape(x))


defjvp(ravel, linear=("x",))


# Replaces rules.py's one-argument rule: `np.transpose(x)`, `x.T`, `x.transpose()`
# and `np.transpose(x, axes)` / `x.transpose(axes)` with a tuple of axes.
@defrule((np.transpose, "np.transpose"), shape="unknown")
def transpose(g, ans, x, axes=None):
    return transpose_back(g, axes), None


defjvp(transpose, linear=("x",))


@defrule((np.swapaxes, "np.swapaxes"), (np.ndarray.swapaxes, "np.swapaxes", "x.swapaxes"),
         shape="unknown")
def swapaxes(g, ans, x, axis1, axis2):
    return np.swapaxes(g, axis1, axis2), None, None


defjvp(swapaxes, linear=("x",))


@defrule((np.moveaxis, "np.moveaxis"), shape="unknown")
def moveaxis(g, ans, x, source, destination):
    return np.moveaxis(g, destination, source), None, None


defjvp(moveaxis, linear=("x",))


@defrule((np.expand_dims, "np.expand_dims"), shape="unknown")
def expand_dims(g, ans, x, axis):
    return reshape_to(g, np.shape(x)), None


defjvp(expand_dims, linear=("x",))


# Compiled with an axis only: without one, how many dimensions remain is known at run time.
@defrule((np.squeeze, "squeeze_of", "np.squeeze"),
         (np.ndarray.squeeze, "squeeze_of", "x.squeeze"), shape="unknown")
def squeeze(g, ans, x, axis=None):
    return reshape_to(g, np.shape(x)), None


defjvp(squeeze, linear=("x",))


@defrule((np.broadcast_to, "np.broadcast_to"), shape="unknown")
def broadcast_to(g, ans, x, shape):
    return unbroadcast(g, x), None


defjvp(broadcast_to, linear=("x",))


@defrule((np.tile, "tile_of", "np.tile"), shape="unknown")
def tile(g, ans, x, reps):
    return tile_grad(g, x, reps), None


defjvp(tile, linear=("x",))


# `repeats` an int.
@defrule((np.repeat, "repeat_of", "np.repeat"),
         (np.ndarray.repeat, "repeat_of", "x.repeat"), shape="unknown")
def repeat(g, ans, x, repeats, axis=None):
    return repeat_grad(g, x, repeats, axis), None, None


defjvp(repeat, linear=("x",))


@defrule((np.flip, "np.flip"), shape="unknown")
def flip(g, ans, x):
    return np.flip(g)


defjvp(flip, linear=("x",))


@defrule((np.roll, "np.roll"), shape="unknown")
def roll(g, ans, x, shift):
    return np.roll(g, -shift), None


defjvp(roll, linear=("x",))


# ---- selection -----------------------------------------------------------------

@defrule((np.take, "np.take"), (np.ndarray.take, "np.take", "x.take"), shape="unknown")
def take(g, ans, x, indices):
    return take_grad(g, x, indices), None


defjvp(take, linear=("x",))


# Along the last axis; where elements tie, the gradient goes to one of them.
@defrule((np.sort, "np.sort"), shape="unknown")
def sort(g, ans, x):
    return sort_grad(g, x)


@defjvp(sort)
def sort_jvp(g, ans, x):
    return sort_tangent(g, x)


# ---- linear algebra --------------------------------------------------------------

@defrule((np.linalg.inv, "np.linalg.inv"), shape="unknown")
def inv(g, ans, a):
    return -(ans.T @ g @ ans.T)


@defjvp(inv)
def inv_jvp(g, ans, a):
    return -(ans @ g @ ans)


@defrule((np.linalg.solve, "np.linalg.solve"), shape="unknown")
def solve(g, ans, a, b):
    return -dot_grad_left(np.linalg.solve(a.T, g), a, ans), np.linalg.solve(a.T, g)


@defjvp(solve)
def solve_jvp(g, ans, a, b):
    return -np.linalg.solve(a, g @ ans), np.linalg.solve(a, g)


@defrule((np.linalg.det, "np.linalg.det"), shape="scalar")
def det(g, ans, a):
    return g * ans * np.linalg.inv(a).T


@defjvp(det)
def det_jvp(g, ans, a):
    return ans * np.trace(np.linalg.solve(a, g))


# `a` symmetric (NumPy reads its lower triangle): the gradient is symmetric too.
@defrule((np.linalg.cholesky, "np.linalg.cholesky"), shape="unknown")
def cholesky(g, ans, a):
    return cholesky_grad(g, ans)


@defjvp(cholesky)
def cholesky_jvp(g, ans, a):
    return cholesky_tangent(g, ans)


# `a` symmetric (NumPy reads its lower triangle): the gradient is symmetric too.
@defrule((np.linalg.eigvalsh, "np.linalg.eigvalsh"), shape="unknown")
def eigvalsh(g, ans, a):
    return eigvalsh_grad(g, a)


@defjvp(eigvalsh)
def eigvalsh_jvp(g, ans, a):
    return eigvalsh_tangent(g, a)


# Array methods as the functions they mean (see `rules.METHODS`).
rules.METHODS.update({"flatten": np.ndarray.flatten, "ravel": np.ndarray.ravel,
                      "trace": np.ndarray.trace, "diagonal": np.ndarray.diagonal,
                      "swapaxes": np.ndarray.swapaxes, "squeeze": np.ndarray.squeeze,
                      "repeat": np.ndarray.repeat, "take": np.ndarray.take})

# Rules for joining arrays, and for linear algebra returning two values.
from . import rules_joins  # noqa: E402,F401


# ---- tangents of the helpers these rules' gradients call ---------------------------

from . import linalg_helpers  # noqa: E402

defjvp((linalg_helpers.diag_grad, "diag_grad"), (linalg_helpers.diagonal_grad, "diagonal_grad"),
       (linalg_helpers.repeat_grad, "repeat_grad"), (linalg_helpers.sort_grad, "sort_grad"),
       (linalg_helpers.take_grad, "take_grad"), (linalg_helpers.tile_grad, "tile_grad"),
       (linalg_helpers.transpose_back, "transpose_back"), linear=("g",))


@defjvp((linalg_helpers.tensordot_grad_left, "tensordot_grad_left"))
def tensordot_grad_left_jvp(g, ans, grad, a, b, axes=2):
    return this(grad=g), None, this(b=g), None


@defjvp((linalg_helpers.tensordot_grad_right, "tensordot_grad_right"))
def tensordot_grad_right_jvp(g, ans, grad, a, b, axes=2):
    return this(grad=g), this(a=g), None, None


@defjvp((linalg_helpers.einsum_grad_first, "einsum_grad_first"))
def einsum_grad_first_jvp(g, ans, grad, subscripts, x, y=None):
    return this(grad=g), None, None, this(y=g)


@defjvp((linalg_helpers.einsum_grad_second, "einsum_grad_second"))
def einsum_grad_second_jvp(g, ans, grad, subscripts, x, y):
    return this(grad=g), None, this(x=g), None

# Rules the tape needed (np.bincount, the scatter selections' gradients use).
from . import rules_nn  # noqa: E402,F401
