"""Helpers that generated code calls, for scalars and arrays alike.

Each helper is one name with two implementations: the plain Python/NumPy
function below serves `jit=False`, and a `numba.extending.overload` (in
`helpers_numba`) gives Numba a version specialised at compile time for the
argument types, so generated code never branches on "scalar or array" at
run time. Adjoint arithmetic is done in float64; `api` casts each gradient
back to its argument's dtype at the end.
"""

import numpy as np

from .array_like import ARRAYS
from .array_helpers import (reshape_to, sum_axis, mean_axis, prod_axis, max_axis,  # noqa: F401
                            min_axis, var_axis, std_axis, norm_axis, cumsum_axis,
                            cumprod_axis, unreduce, reduced_size, centered, prod_others,
                            extremum_share, one_if_zero, cumsum_grad, cumprod_grad,
                            clip_of, clip_inside, clip_below, clip_above)
# (generated code imports these from here)
from . import linalg_helpers
from .linalg_helpers import (cholesky_grad, diag_grad, diagonal_grad, diagonal_of,  # noqa: F401
                             eigvalsh_grad, einsum_grad_first, einsum_grad_second, einsum_of,
                             flat_copy, inner_of, matmul_of, repeat_grad, repeat_of, sort_grad,
                             squeeze_of, take_grad, tensordot_grad_left, tensordot_grad_right,
                             tensordot_of, tile_grad, tile_of, transpose_back)
from . import join_helpers
from .join_helpers import (astype_grad, astype_of, concatenate_of,  # noqa: F401
                           concatenate_piece, eigh_grad, hstack_piece, stack_piece, vstack_piece)


def zeros_like(x):
    """A float64 zero with the shape of `x` (0.0 for a scalar)."""
    if isinstance(x, ARRAYS):
        return np.zeros(x.shape)
    return 0.0


def seed_like(result, cotangent):
    """The starting adjoint of `result`: `cotangent` broadcast to its shape."""
    if isinstance(result, ARRAYS):
        return np.full(result.shape, 1.0) * cotangent
    return float(cotangent)


def unbroadcast(grad, x):
    """Sum `grad` over the axes along which `x` was broadcast, to `x`'s shape."""
    if not isinstance(x, ARRAYS):
        return float(np.sum(grad)) if isinstance(grad, ARRAYS) else grad
    if not isinstance(grad, ARRAYS):
        return np.full(x.shape, float(grad))
    if grad.shape == x.shape:
        return grad
    extra = grad.ndim - x.ndim
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(x.shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad


def broadcast_like(grad, x):
    """`grad` (a scalar) spread over the shape of `x`: the adjoint of a full reduction."""
    if isinstance(x, ARRAYS):
        return np.full(x.shape, 1.0) * grad
    return grad


def extremum_grad(g, ans, x):
    """Adjoint of `np.max(x)` / `np.min(x)`: `g` shared equally by the elements equal to `ans`."""
    if isinstance(x, ARRAYS):
        mask = (x == ans).astype(np.float64)
        return g * mask / np.sum(mask)
    return g


def add_at(array, index, value):
    """`array[index] += value`, in place, adding once per repeated index; returns `array`."""
    np.add.at(array, index, value)
    return array


def size_of(x):
    """Number of elements of `x` (1 for a scalar)."""
    return x.size if isinstance(x, ARRAYS) else 1


def dot_grad_left(g, x, y):
    """Adjoint of `x` in `x @ y` / `np.dot(x, y)`, for 1-D and 2-D operands."""
    if not isinstance(x, ARRAYS) or x.ndim == 0 or not isinstance(y, ARRAYS) or y.ndim == 0:
        return unbroadcast(g * y, x)
    if x.ndim == 1 and y.ndim == 1:
        return g * y
    if x.ndim == 1:                      # (n,) @ (n, m) -> (m,)
        return y @ g
    if y.ndim == 1:                      # (k, n) @ (n,) -> (k,)
        return np.outer(g, y)
    return g @ y.T


def dot_grad_right(g, x, y):
    """Adjoint of `y` in `x @ y` / `np.dot(x, y)`, for 1-D and 2-D operands."""
    if not isinstance(x, ARRAYS) or x.ndim == 0 or not isinstance(y, ARRAYS) or y.ndim == 0:
        return unbroadcast(g * x, y)
    if x.ndim == 1 and y.ndim == 1:
        return g * x
    if x.ndim == 1:                      # (n,) @ (n, m) -> (m,)
        return np.outer(x, g)
    if y.ndim == 1:                      # (k, n) @ (n,) -> (k,)
        return x.T @ g
    return x.T @ g


def log_or_zero(x):
    """log(x), but 0 where x == 0: the exponent's adjoint in `x ** y` is then 0 at 0 ** y
    (for y > 0) instead of 0 * -inf. A negative base gives NaN: d(x ** y)/dy is undefined."""
    if isinstance(x, ARRAYS):
        return np.log(np.where(x == 0, 1.0, x))
    return np.log(x) if x != 0 else 0.0


def trip_count(start, stop, step):
    """How many times `for i in range(start, stop, step)` runs."""
    if step > 0:
        return max(0, (stop - start + step - 1) // step)
    return max(0, (start - stop - step - 1) // -step)


def stack_like(value, capacity):
    """A stack with `capacity` slots for values like `value`.

    In Python any list does. Compiled, a scalar stack is a float64 array
    (ints up to 2**53 and floats of every width round-trip exactly) and an
    array stack is a list of arrays.
    """
    return [value] * capacity


def grow(stack):
    """`stack` with twice the room (a `while` loop's stack is full); its values are kept."""
    return stack + [stack[0]] * (len(stack) + 16)


def restore(stack, slot, like):
    """The value saved in `stack` at `slot`, with the type of `like`."""
    return stack[slot]


def snapshot(x):
    """A copy of `x` that later writes into arrays cannot change."""
    return np.copy(x) if isinstance(x, np.ndarray) else x


class Unsupported(TypeError):
    """Generated code met what adjit cannot differentiate, which only shows when it runs
    (a row where a number was expected, say); `api` reports it at the user's line."""


_SHARED = ("adjit: an array is changed in place (`a[i] = ...`, `a += ...`) while another "
           "name for it (a copy of the name, a row, a slice) is used afterwards; adjit cannot "
           "differentiate that. Take a `.copy()` where the other name is made")


def must_be_scalar(x):
    """Check that `x`, which another name shares, is a number, not an array.

    Generated code checks a value read from an array (`t = a[i]`) that is
    used after `a` is written into, or a copy (`y = x`) used after `x += ...`:
    for a number that is fine, but an array would be changed by the write,
    and its gradient counted for the value it held before."""
    if isinstance(x, np.ndarray):
        raise Unsupported(_SHARED)


def undo_log(array):
    """An empty undo log for writes into `array`."""
    return []


def log_write(log, array, index):
    """Save the elements `array[index] = ...` is about to overwrite; returns the log.

    Compiled, the log is flat positions and old values in arrays that grow
    when full."""
    for part in index if isinstance(index, tuple) else (index,):
        if isinstance(part, np.ndarray) and part.dtype.kind != "b":
            raise Unsupported(_FANCY_WRITE)
    log.append((index, snapshot(array[index])))
    return log


def log_all(log, array, room=1):
    """Save every element of `array`, before a loop that writes many of them (and reads
    none): its writes need no log of their own. Returns the log.

    `room`: how many whole arrays like this one the log will likely be given from now
    on (the iterations left of an enclosing loop). Compiled, a log that must grow
    makes room for them all at once (up to `WHOLE_ROOM` elements), rather than
    doubling again and again, copying what it holds each time."""
    log.append((slice(None), snapshot(array[...])))
    return log


# The most elements `log_all` makes room for ahead (half a gigabyte of float64; the
# pages are not touched until written).
WHOLE_ROOM = 1 << 26


_FANCY_WRITE = ("adjit: writing through an array of indices (`a[idx] = v`) is not supported: "
                "with a repeated index only the last write counts, and adjit cannot tell which "
                "elements of `v` lost. Write element by element in a loop")


def undo_write(log, array, index):
    """Put back the elements the last write into `array` (at `index`) overwrote."""
    index, old = log.pop()
    array[index] = old


def log_height(log):
    """How many writes `log` holds: where `undo_to` goes back to."""
    return len(log)


def undo_to(log, array, height):
    """Undo the writes into `array` logged after the log had `height` entries."""
    while len(log) > height:
        undo_write(log, array, None)


REFUSALS = (_SHARED, _FANCY_WRITE)


def tangent_like(tangent, ans):
    """`tangent` spread to the shape of `ans`, the result it is the tangent of: an
    operand's tangent alone (in `x + c`) has the operand's shape, maybe smaller."""
    if isinstance(ans, np.ndarray):
        return tangent + np.zeros(ans.shape)
    return tangent


# ---- tangents (forward mode) of operations whose JVP needs a helper ----------------

def sort_tangent(g, x):
    """The tangent of `np.sort(x)` (along the last axis): `g` permuted as `x` is sorted."""
    return np.take_along_axis(np.asarray(g, dtype=np.float64), np.argsort(x, axis=-1), axis=-1)


def prod_others_tangent(g, x, axis=None):
    """The tangent of `prod_others(x, axis)` along `g`: for each element, the sum over the
    other elements j of its group of g_j times the product of the rest, right at zeros."""
    if not isinstance(x, np.ndarray):
        return 0.0
    g = g + np.zeros(x.shape)
    zero = x == 0
    zeros = np.sum(zero, axis=axis, keepdims=True)
    safe = np.where(zero, 1.0, x)
    rest = np.prod(safe, axis=axis, keepdims=True)               # product of the non-zeros
    ratio = np.sum(np.where(zero, 0.0, g / safe), axis=axis, keepdims=True)
    at_zeros = np.sum(np.where(zero, g, 0.0), axis=axis, keepdims=True)
    none = rest / safe * (ratio - g / safe)
    one = np.where(zero, rest * ratio, at_zeros * rest / safe)
    two = np.where(zero, rest * (at_zeros - g), 0.0)
    return np.where(zeros == 0, none, np.where(zeros == 1, one, np.where(zeros == 2, two, 0.0)))


def cumprod_tangent(g, ans, x, axis=None):
    """The tangent of `ans = np.cumprod(x, axis)` along `g`, right at zeros."""
    if not isinstance(x, np.ndarray):
        return g
    g = g + np.zeros(x.shape)
    if axis is None:
        lines, shape = np.reshape(x, (1, -1)), None
        tangents = np.reshape(g, (1, -1))
    else:
        lines = np.moveaxis(x, axis, -1)
        shape = lines.shape
        lines, tangents = lines.reshape(-1, shape[-1]), np.moveaxis(g, axis, -1).reshape(-1, shape[-1])
    out = np.zeros(lines.shape)
    for r in range(lines.shape[0]):
        product, ratio, zeros, at_zero = 1.0, 0.0, 0, 0.0
        for i in range(lines.shape[1]):
            v, t = lines[r, i], tangents[r, i]
            if v == 0:
                zeros += 1
                at_zero = t
            else:
                product *= v
                ratio += t / v
            out[r, i] = product * ratio if zeros == 0 else (product * at_zero if zeros == 1 else 0.0)
    if shape is None:
        return out.reshape(-1)          # np.cumprod without an axis flattens
    return np.moveaxis(out.reshape(shape), -1, axis)


def cholesky_tangent(g, ans):
    """The tangent of `ans = np.linalg.cholesky(a)` along `g` (taken symmetric, as the
    gradient is): `L phi(L^-1 g L^-T)`, phi the lower triangle with half the diagonal."""
    sym = 0.5 * (g + g.T)
    inner = np.linalg.solve(ans, np.linalg.solve(ans, sym).T).T
    phi = np.tril(inner) - 0.5 * np.diag(np.diag(inner))
    return ans @ phi


def eigh_tangent(g, w, v):
    """The tangent `(dw, dv)` of `w, v = np.linalg.eigh(a)` along `g` (taken symmetric):
    dw = diag(V^T g V), dv = V (F * V^T g V), F[i, j] = 1 / (w[j] - w[i]) off the diagonal."""
    sym = 0.5 * (g + g.T)
    inner = v.T @ sym @ v
    eye = np.eye(w.shape[0])
    gap = np.reshape(w, (1, -1)) - np.reshape(w, (-1, 1))
    return np.diag(inner).copy(), v @ ((1.0 - eye) / (gap + eye) * inner)


def eigvalsh_tangent(g, a):
    """The tangent of `np.linalg.eigvalsh(a)` along `g` (taken symmetric): v_i^T g v_i."""
    w, v = np.linalg.eigh(a)
    sym = 0.5 * (g + g.T)
    return np.sum(v * (sym @ v), axis=0)


def grad_or_zero(grad, like):
    """`grad`, or a zero shaped like `like` where a custom rule returned None."""
    return zeros_like(like) if grad is None else grad


def grad_at(grad, index):
    """A copy of `grad[index]`: the adjoint of the elements a write replaced."""
    return snapshot(grad[index])


def zero_at(grad, index):
    """`grad[index] = 0`, in place: the elements overwritten get no more gradient; returns `grad`."""
    grad[index] = 0.0
    return grad


HELPERS = ("add_at", "zeros_like", "seed_like", "unbroadcast", "broadcast_like", "size_of", "extremum_grad",
           "dot_grad_left",
           "dot_grad_right", "log_or_zero", "trip_count", "stack_like", "grow", "restore", "snapshot",
           "must_be_scalar", "undo_log", "log_write", "log_all", "undo_write", "log_height", "undo_to",
           "grad_at", "zero_at", "grad_or_zero", "tangent_like", "sort_tangent",
           "prod_others_tangent", "cumprod_tangent", "cholesky_tangent", "eigvalsh_tangent",
           "eigh_tangent", "reshape_to", "sum_axis", "mean_axis",
           "prod_axis", "max_axis", "min_axis", "var_axis", "std_axis", "norm_axis", "cumsum_axis",
           "cumprod_axis", "unreduce", "reduced_size", "centered", "prod_others", "extremum_share",
           "one_if_zero", "cumsum_grad", "cumprod_grad", "clip_of", "clip_inside", "clip_below", "clip_above") + linalg_helpers.HELPERS \
    + join_helpers.HELPERS
