"""Helpers for the rules of array methods, called by generated code.

Like `helpers`, each is one plain Python/NumPy function here (for
`jit=False` and the tape) with a Numba `overload` chosen by type at compile
time in `array_helpers_numba`.

Reductions given `axis=` or `keepdims=` (`np.sum(x, axis=0)`) are called as
the helpers `sum_axis`, `mean_axis`, ... because Numba lacks those keywords;
here they are NumPy itself. Their gradients spread the incoming gradient back
over the reduced axes (`unreduce`) and weigh it elementwise. `axis` is an
int (negative counts from the end), a tuple of ints, or None (every axis).
"""

import numpy as np

from .array_like import ARRAYS


def reshape_to(x, shape, *more):
    """`x.reshape(shape, *more)`: `shape` is an int, a tuple of ints, or the first of
    several ints (`x.reshape(3, 2)`); -1 stands for the remaining length. The
    result is C-ordered whatever `x`'s memory layout (a transposed array, say)."""
    return np.reshape(x, (shape,) + more if more else shape)


# ---- reductions over axes ---------------------------------------------------

def _refuse(message):
    from .helpers import Unsupported
    raise Unsupported("adjit: " + message)


def _plain(dtype, out):
    if out is not None:
        _refuse("a reduction writing into `out=` is not supported: assign its result instead")
    return dtype


def sum_axis(x, axis=None, dtype=None, out=None, keepdims=False):
    """`np.sum(x, axis, dtype, out, keepdims)`."""
    return np.sum(x, axis=axis, dtype=_plain(dtype, out), keepdims=keepdims)


def mean_axis(x, axis=None, dtype=None, out=None, keepdims=False):
    """`np.mean(x, axis, dtype, out, keepdims)`."""
    return np.mean(x, axis=axis, dtype=_plain(dtype, out), keepdims=keepdims)


def prod_axis(x, axis=None, dtype=None, out=None, keepdims=False):
    """`np.prod(x, axis, dtype, out, keepdims)`."""
    return np.prod(x, axis=axis, dtype=_plain(dtype, out), keepdims=keepdims)


def max_axis(x, axis=None, out=None, keepdims=False):
    """`np.max(x, axis, out, keepdims)`."""
    return np.max(x, axis=axis, out=_plain(None, out), keepdims=keepdims)


def min_axis(x, axis=None, out=None, keepdims=False):
    """`np.min(x, axis, out, keepdims)`."""
    return np.min(x, axis=axis, out=_plain(None, out), keepdims=keepdims)


def var_axis(x, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    """`np.var(x, axis, dtype, out, ddof, keepdims)`."""
    return np.var(x, axis=axis, dtype=_plain(dtype, out), ddof=ddof, keepdims=keepdims)


def std_axis(x, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    """`np.std(x, axis, dtype, out, ddof, keepdims)`."""
    return np.std(x, axis=axis, dtype=_plain(dtype, out), ddof=ddof, keepdims=keepdims)


def norm_axis(x, ord=None, axis=None, keepdims=False):
    """`np.linalg.norm(x, ord, axis, keepdims)` for `ord=None`: the 2-norm of vectors
    (an int axis) or the Frobenius norm (a pair of axes, or every axis)."""
    if ord is not None:
        _refuse("`np.linalg.norm` is differentiated for `ord=None` only (the vector 2-norm "
                "and the Frobenius norm)")
    return np.sqrt(np.sum(np.square(x), axis=axis, keepdims=keepdims))


def cumsum_axis(x, axis=None, dtype=None, out=None):
    """`np.cumsum(x, axis, dtype, out)`."""
    return np.cumsum(x, axis=axis, dtype=_plain(dtype, out))


def cumprod_axis(x, axis=None, dtype=None, out=None):
    """`np.cumprod(x, axis, dtype, out)`."""
    return np.cumprod(x, axis=axis, dtype=_plain(dtype, out))


def _axes(axis, ndim):
    """`axis` as a tuple of non-negative axes (every axis for None)."""
    if axis is None:
        return tuple(range(ndim))
    axes = tuple(a + ndim if a < 0 else a for a in (axis if isinstance(axis, tuple) else (axis,)))
    for a in axes:
        if not 0 <= a < ndim:
            raise np.exceptions.AxisError(f"axis {a} is out of bounds for an array of dimension {ndim}")
    if len(set(axes)) != len(axes):
        raise ValueError("duplicate value in 'axis'")
    return axes


def unreduce(g, x, axis=None, keepdims=False):
    """The gradient `g` of a reduction of `x` over `axis`, spread back over `x`'s shape."""
    if not isinstance(x, ARRAYS):
        return float(np.sum(g))
    if not keepdims:
        g = np.expand_dims(g, _axes(axis, x.ndim))
    return np.broadcast_to(g, x.shape).astype(np.float64)


def reduced_size(x, axis=None):
    """How many elements of `x` each result of a reduction over `axis` combines."""
    if not isinstance(x, ARRAYS):
        return 1
    return int(np.prod([x.shape[a] for a in _axes(axis, x.ndim)], dtype=np.int64))


def centered(x, axis=None):
    """`x` minus its mean over `axis`: the deviations `np.var` squares."""
    if not isinstance(x, ARRAYS):
        return 0.0
    return x - np.mean(x, axis=axis, keepdims=True)


def prod_others(x, axis=None):
    """For each element of `x`, the product of the other elements reduced with it over
    `axis`: the derivative of `np.prod`, computed without dividing by zero."""
    if not isinstance(x, ARRAYS):
        return 1.0
    zero = x == 0
    zeros = np.sum(zero, axis=axis, keepdims=True)
    rest = np.prod(np.where(zero, 1.0, x), axis=axis, keepdims=True)
    return np.where(zeros == 0, rest / np.where(zero, 1.0, x),
                    np.where(zero & (zeros == 1), rest, 0.0))


def extremum_share(x, ans, axis=None, keepdims=False):
    """1/k at each of the k elements of `x` equal to their group's extremum `ans`, 0
    elsewhere: ties share the gradient of `np.max`/`np.min` equally."""
    if not isinstance(x, ARRAYS):
        return 1.0
    hit = (x == unreduce(ans, x, axis, keepdims)).astype(np.float64)
    return hit / np.sum(hit, axis=axis, keepdims=True)


def one_if_zero(x):
    """`x`, with 1 where it is 0: a divisor for a norm's gradient that is 0 at the origin."""
    if isinstance(x, ARRAYS):
        return np.where(x == 0, 1.0, x)
    return 1.0 if x == 0 else x


def _along_last(a, axis):
    """`a` with `axis` moved last, as a 2-D array of rows (and how to undo that)."""
    moved = np.moveaxis(a, axis, -1)
    return moved.reshape(-1, moved.shape[-1]), moved.shape


def cumsum_grad(g, x, axis=None):
    """The gradient of `np.cumsum(x, axis)`: `g` summed from the end."""
    if axis is None:
        g = np.ravel(g)
        return np.reshape(np.cumsum(g[::-1])[::-1], np.shape(x)).astype(np.float64)
    return np.flip(np.cumsum(np.flip(g, axis), axis), axis).astype(np.float64)


def cumprod_grad(g, ans, x, axis=None):
    """The gradient of `np.cumprod(x, axis)`, right where an element is 0."""
    if not isinstance(x, ARRAYS):
        return float(np.sum(g))
    if axis is None:
        rows_g, rows_a, rows_x = (np.reshape(v, (1, -1)) for v in (g, ans, x))
        shape, axis = None, None
    else:
        axis = _axes(axis, x.ndim)[0]
        (rows_g, shape), (rows_a, _), (rows_x, _) = (_along_last(v, axis) for v in (g, ans, x))
    rows_x = rows_x.astype(np.float64)
    # Where no element before is 0: d/dx_i = sum_{k >= i} g_k ans_k / x_i.
    tail = np.cumsum((rows_g * rows_a)[:, ::-1], axis=1)[:, ::-1]
    grad = tail / np.where(rows_x == 0, 1.0, rows_x)
    for r in np.nonzero(np.any(rows_x == 0, axis=1))[0]:
        xs, gs = rows_x[r], rows_g[r]
        z = int(np.argmax(xs == 0))
        before = rows_a[r, z - 1] if z > 0 else 1.0
        grad[r, z + 1:] = 0.0
        # At the first zero: sum_{k >= z} g_k * ans_{z-1} * x_{z+1} ... x_k.
        grad[r, z] = before * np.sum(gs[z:] * np.cumprod(np.concatenate(([1.0], xs[z + 1:]))))
    if shape is None:
        return grad.reshape(x.shape)
    return np.moveaxis(grad.reshape(shape), -1, axis)


# ---- elementwise ------------------------------------------------------------

def clip_of(a, a_min, a_max):
    """`np.clip(a, a_min, a_max)`, broadcasting `a` against its bounds (Numba's `np.clip`
    keeps `a`'s shape, and takes no numbers)."""
    return np.clip(a, a_min, a_max)


def clip_inside(x, lo, hi):
    """1.0 where `lo <= x <= hi` (a None bound is no bound), else 0.0: `np.clip`'s
    derivative in `x`."""
    inside = np.ones(np.shape(x), dtype=bool) if lo is None else x >= lo
    if hi is not None:
        inside = inside & (x <= hi)
    return inside * 1.0


def clip_below(x, lo, hi):
    """1.0 where `np.clip(x, lo, hi)` is `lo` (`x < lo <= hi`), else 0.0: its derivative in
    `lo`. NumPy clips to `hi` where the bounds cross."""
    if lo is None:
        return np.zeros(np.shape(x))
    below = x < lo
    if hi is not None:
        below = below & (lo <= hi)
    return below * 1.0


def clip_above(x, lo, hi):
    """1.0 where `np.clip(x, lo, hi)` is `hi` (`max(x, lo) > hi`), else 0.0: its derivative
    in `hi`."""
    if hi is None:
        return np.zeros(np.shape(x))
    return (np.maximum(x, lo) > hi) * 1.0 if lo is not None else (x > hi) * 1.0


HELPERS = ("reshape_to", "sum_axis", "mean_axis", "prod_axis", "max_axis", "min_axis",
           "var_axis", "std_axis", "norm_axis", "cumsum_axis", "cumprod_axis", "unreduce",
           "reduced_size", "centered", "prod_others", "extremum_share", "one_if_zero",
           "cumsum_grad", "cumprod_grad", "clip_of", "clip_inside", "clip_below", "clip_above")
