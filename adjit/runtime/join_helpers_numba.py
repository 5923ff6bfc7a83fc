"""Numba implementations of the helpers in `join_helpers`, chosen by type at compile time.

Importing this module registers an `overload` for each helper (casts too). The tuple of
arrays may mix memory layouts (Numba types it as a heterogeneous tuple);
`literal_unroll` walks it. A piece along a run-time axis is cut from the
gradient seen as a (before, axis, after) block, so no axis needs to be a
constant.
"""

import numpy as np
from numba import literal_unroll, types
from numba.extending import overload, register_jitable
from numba.np.numpy_support import as_dtype
from numba.np.unsafe.ndarray import to_fixed_tuple

from . import join_helpers as H


def _arrays(t):
    """The ndims of the arrays in a tuple type, or None if it holds anything else."""
    if not isinstance(t, types.BaseTuple) or len(t) == 0:
        return None
    if not all(isinstance(e, types.Array) for e in t):
        return None
    return {e.ndim for e in t}


@register_jitable
def _block(g, axis):
    """`g` as a C-contiguous (before, n, after) array, for axis `axis`."""
    before = 1
    for i in range(axis):
        before *= g.shape[i]
    after = 1
    for i in range(axis + 1, g.ndim):
        after *= g.shape[i]
    return np.ascontiguousarray(g).reshape((before, g.shape[axis], after))


@register_jitable
def _cut(g, start, stop, axis, ndim):
    shape = np.empty(ndim, np.int64)
    for i in range(ndim):
        shape[i] = g.shape[i]
    shape[axis] = stop - start
    piece = np.ascontiguousarray(_block(g, axis)[:, start:stop, :])
    return piece.reshape(to_fixed_tuple(shape, ndim))


@overload(H.concatenate_of)
def _concatenate_of(arrays, axis=0):
    if _arrays(arrays) is None:
        return None
    if not isinstance(axis, types.NoneType):
        return lambda arrays, axis=0: np.concatenate(arrays, axis)
    dtype = np.result_type(*[as_dtype(a.dtype) for a in arrays])

    def flat(arrays, axis=0):
        total = 0
        for a in literal_unroll(arrays):
            total += a.size
        out = np.empty(total, dtype)
        start = 0
        for a in literal_unroll(arrays):
            out[start:start + a.size] = a.ravel()
            start += a.size
        return out
    return flat


@overload(H.concatenate_piece)
def _concatenate_piece(g, arrays, k, axis=0):
    ndims = _arrays(arrays)
    if not isinstance(g, types.Array) or ndims is None:
        return None
    ndim = g.ndim
    if isinstance(axis, types.NoneType):      # the arrays were flattened
        if len(ndims) != 1:
            return None
        inner = ndims.pop()

        def flat(g, arrays, k, axis=0):
            start = 0
            size = 0
            shape = np.zeros(inner, np.int64)
            i = 0
            for a in literal_unroll(arrays):
                if i < k:
                    start += a.size
                elif i == k:
                    size = a.size
                    for d in range(inner):
                        shape[d] = a.shape[d]
                i += 1
            piece = np.ascontiguousarray(g[start:start + size])
            return piece.reshape(to_fixed_tuple(shape, inner))
        return flat

    def impl(g, arrays, k, axis=0):
        ax = axis + ndim if axis < 0 else axis
        start = 0
        stop = 0
        i = 0
        for a in literal_unroll(arrays):
            n = a.shape[ax]
            if i < k:
                start += n
            elif i == k:
                stop = start + n
            i += 1
        return _cut(g, start, stop, ax, ndim)
    return impl


@overload(H.stack_piece)
def _stack_piece(g, k, axis=0):
    if not isinstance(g, types.Array) or g.ndim < 1:
        return None
    ndim = g.ndim
    rest = ndim - 1

    def impl(g, k, axis=0):
        ax = axis + ndim if axis < 0 else axis
        shape = np.empty(rest, np.int64)
        j = 0
        for i in range(ndim):
            if i != ax:
                shape[j] = g.shape[i]
                j += 1
        piece = np.ascontiguousarray(_block(g, ax)[:, k, :])
        return piece.reshape(to_fixed_tuple(shape, rest))
    return impl


@overload(H.vstack_piece)
def _vstack_piece(g, arrays, k):
    ndims = _arrays(arrays)
    if not isinstance(g, types.Array) or g.ndim != 2 or ndims is None or len(ndims) != 1:
        return None
    if ndims == {1}:
        return lambda g, arrays, k: np.ascontiguousarray(g[k])
    return lambda g, arrays, k: H.concatenate_piece(g, arrays, k, 0)


@overload(H.hstack_piece)
def _hstack_piece(g, arrays, k):
    ndims = _arrays(arrays)
    if not isinstance(g, types.Array) or ndims is None or len(ndims) != 1:
        return None
    if ndims == {1}:
        return lambda g, arrays, k: H.concatenate_piece(g, arrays, k, 0)
    return lambda g, arrays, k: H.concatenate_piece(g, arrays, k, 1)


@overload(H.eigh_grad)
def _eigh_grad(gw, gv, w, v):
    def impl(gw, gv, w, v):
        n = w.shape[0]
        inner = v.T @ np.ascontiguousarray(gv)
        for i in range(n):
            for j in range(n):
                if i == j:
                    inner[i, j] = gw[i]
                else:
                    inner[i, j] = inner[i, j] / (w[j] - w[i])
        full = v @ inner @ v.T
        return 0.5 * (full + full.T)
    return impl


def _dtype_of(dtype):
    """The NumPy scalar type a `dtype` argument names (`np.float32`, `float`), or None."""
    if isinstance(dtype, types.NumberClass):
        return as_dtype(dtype.instance_type).type
    if isinstance(dtype, types.DType):
        return as_dtype(dtype.dtype).type
    if isinstance(dtype, types.Function) and dtype.typing_key in (float, int, bool):
        return np.dtype(dtype.typing_key).type
    return None


@overload(H.astype_of)
def _astype_of(x, dtype):
    scalar = _dtype_of(dtype)
    if scalar is None:
        return None
    if isinstance(x, types.Array):
        return lambda x, dtype: x.astype(scalar)
    if isinstance(x, (types.Number, types.Boolean)):
        return lambda x, dtype: scalar(x)
    return None


@overload(H.astype_grad)
def _astype_grad(g, ans, x):
    flat = not isinstance(getattr(ans, "dtype", ans), types.Float)
    if isinstance(x, types.Array):
        kind = as_dtype(x.dtype).type
        if flat:
            return lambda g, ans, x: np.zeros(x.shape)
        return lambda g, ans, x: np.asarray(g).astype(kind)
    kind = as_dtype(x).type if isinstance(x, types.Number) else np.float64
    if flat:
        return lambda g, ans, x: 0.0
    return lambda g, ans, x: kind(g)
