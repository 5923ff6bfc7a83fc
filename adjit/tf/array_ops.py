"""TensorFlow 2's array functions: shapes, joins, selections, new tensors, casts.

Shapes and joins are the NumPy functions on tensors (recorded with the
registry's rules); selections (`gather`, `boolean_mask`, `gather_nd`) are
indexing, which the tape records as `np.take` of the positions selected.
New tensors (`zeros`, `ones`, `fill`, `range`, ...) default to float64 for
floats and int64 for ints, as adjit makes Python numbers.
"""

import builtins

import numpy as np

from ..runtime import tape_ops
from ..runtime.tensor import Tensor, Variable, as_dtype, new_tensor
from ._convert import axis as _axis
from ._convert import constant_of, dtype_or, result, tensor
from ._convert import shape as _shape

newaxis = None


def cast(x, dtype, name=None):
    """`x` as `dtype`; between float dtypes the gradient passes (cast back)."""
    return tensor(x).astype(as_dtype(dtype))


def identity(input, name=None):  # noqa: A002
    return tape_ops.identity(tensor(input))


def stop_gradient(input, name=None):  # noqa: A002
    """The value of `input`, as a tensor no tape connects to anything."""
    return new_tensor(tensor(input)._value)


def is_tensor(x):
    return isinstance(x, (Tensor, Variable))


def shape(input, out_type=np.int32, name=None):  # noqa: A002
    return new_tensor(np.asarray(np.shape(constant_of(input)), dtype=as_dtype(out_type)))


def size(input, out_type=np.int32, name=None):  # noqa: A002
    return new_tensor(np.asarray(np.size(constant_of(input)), dtype=as_dtype(out_type)))


def rank(input, name=None):  # noqa: A002
    return new_tensor(np.asarray(np.ndim(constant_of(input)), dtype=np.int32))


# ---- shapes ----------------------------------------------------------------------------

def reshape(tensor_, shape, name=None):
    return result(np.reshape(tensor(tensor_), _shape(shape)))


def transpose(a, perm=None, conjugate=False, name=None):
    return result(np.transpose(tensor(a), None if perm is None else _axis(perm)))


def expand_dims(input, axis, name=None):  # noqa: A002
    return result(np.expand_dims(tensor(input), _axis(axis)))


def squeeze(input, axis=None, name=None):  # noqa: A002
    return result(np.squeeze(tensor(input), _axis(axis)))


def tile(input, multiples, name=None):  # noqa: A002
    return result(np.tile(tensor(input), _shape(multiples)))


def broadcast_to(input, shape, name=None):  # noqa: A002
    return result(np.broadcast_to(tensor(input), _shape(shape)))


def reverse(tensor_, axis, name=None):
    return result(np.flip(tensor(tensor_), _axis(axis)))


# ---- joins and splits -------------------------------------------------------------------

def concat(values, axis, name=None):
    return result(np.concatenate([tensor(v) for v in values], axis=_axis(axis)))


def stack(values, axis=0, name=None):
    return result(np.stack([tensor(v) for v in values], axis=_axis(axis)))


def unstack(value, num=None, axis=0, name=None):
    value = tensor(value)
    axis = _axis(axis) % value.ndim
    return [value[(slice(None),) * axis + (i,)] for i in builtins.range(value.shape[axis])]


def split(value, num_or_size_splits, axis=0, num=None, name=None):
    """Pieces of `value` along `axis`: `num_or_size_splits` equal ones, or of the sizes given."""
    value = tensor(value)
    axis = _axis(axis) % value.ndim
    length = value.shape[axis]
    if isinstance(num_or_size_splits, (int, np.integer)):
        if length % num_or_size_splits:
            raise ValueError(f"cannot split a dimension of {length} into {num_or_size_splits} "
                             "equal pieces")
        sizes = [length // num_or_size_splits] * num_or_size_splits
    else:
        sizes = [int(s) for s in constant_of(num_or_size_splits).tolist()]
        if -1 in sizes:
            sizes[sizes.index(-1)] = length - (builtins.sum(sizes) + 1)
    pieces, start = [], 0
    for n in sizes:
        pieces.append(value[(slice(None),) * axis + (slice(start, start + n),)])
        start += n
    return pieces


# ---- selections ----------------------------------------------------------------------------

def gather(params, indices, validate_indices=None, axis=None, batch_dims=0, name=None):
    """`params` at `indices` along `axis` (0 by default)."""
    if batch_dims:
        raise NotImplementedError("adjit.tf.gather: batch_dims is not supported")
    params = tensor(params)
    axis = 0 if axis is None else _axis(axis) % params.ndim
    return params[(slice(None),) * axis + (constant_of(indices),)]


def gather_nd(params, indices, batch_dims=0, name=None):
    if batch_dims:
        raise NotImplementedError("adjit.tf.gather_nd: batch_dims is not supported")
    indices = constant_of(indices)
    return tensor(params)[tuple(np.moveaxis(indices, -1, 0))]


def boolean_mask(tensor_, mask, axis=None, name=None):
    axis = 0 if axis is None else _axis(axis)
    return tensor(tensor_)[(slice(None),) * axis + (constant_of(mask).astype(bool),)]


def where(condition, x=None, y=None, name=None):
    """`x` where `condition` holds, else `y`; with neither, the indices where it holds."""
    if x is None and y is None:
        return new_tensor(np.argwhere(constant_of(condition)).astype(np.int64))
    return result(np.where(constant_of(condition), tensor(x), tensor(y)))


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None):
    dtype = dtype_or(dtype, np.float64)
    on = 1 if on_value is None else constant_of(on_value)
    off = 0 if off_value is None else constant_of(off_value)
    indices = constant_of(indices)
    hot = np.expand_dims(indices, -1) == np.arange(depth)
    if axis is not None and axis != -1:
        hot = np.moveaxis(hot, -1, axis)
    return new_tensor(np.where(hot, on, off).astype(dtype))


def clip_by_value(t, clip_value_min, clip_value_max, name=None):
    return result(np.clip(tensor(t), clip_value_min, clip_value_max))


def clip_by_norm(t, clip_norm, axes=None, name=None):
    t = tensor(t)
    norm = np.sqrt(np.sum(np.square(t), axis=_axis(axes), keepdims=True))
    scale = clip_norm / np.where(norm > clip_norm, norm, clip_norm)
    return result(t * scale)


def norm(tensor_, ord="euclidean", axis=None, keepdims=None, name=None):
    """The euclidean (or 'fro', 1, np.inf) norm over `axis` (every element for None)."""
    x = tensor(tensor_)
    axes = _axis(axis)
    keep = bool(keepdims)
    if ord in ("euclidean", "fro", 2, 2.0) and (ord != 2 or axes is None or isinstance(axes, int)):
        return result(np.sqrt(np.sum(np.square(x), axis=axes, keepdims=keep)))
    if ord in (1, 1.0):
        return result(np.sum(np.abs(x), axis=axes, keepdims=keep))
    if ord == np.inf:
        return result(np.max(np.abs(x), axis=axes, keepdims=keep))
    raise NotImplementedError(f"adjit.tf.norm: ord={ord!r} is not supported")


def sort(values, axis=-1, direction="ASCENDING", name=None):
    values = tensor(values)
    order = np.argsort(constant_of(values), axis=axis, kind="stable")
    if direction == "DESCENDING":
        order = np.flip(order, axis)
    return result(np.take_along_axis(values, order, axis=axis))


def argsort(values, axis=-1, direction="ASCENDING", stable=False, name=None):
    order = np.argsort(constant_of(values), axis=axis, kind="stable")
    if direction == "DESCENDING":
        order = np.flip(order, axis)
    return new_tensor(order.astype(np.int32))


# ---- new tensors --------------------------------------------------------------------------

def zeros(shape, dtype=None, name=None):
    return new_tensor(np.zeros(_shape(shape), dtype_or(dtype, np.float64)))


def ones(shape, dtype=None, name=None):
    return new_tensor(np.ones(_shape(shape), dtype_or(dtype, np.float64)))


def zeros_like(input, dtype=None, name=None):  # noqa: A002
    value = constant_of(input)
    return new_tensor(np.zeros(value.shape, dtype_or(dtype, value.dtype)))


def ones_like(input, dtype=None, name=None):  # noqa: A002
    value = constant_of(input)
    return new_tensor(np.ones(value.shape, dtype_or(dtype, value.dtype)))


def fill(dims, value, name=None):
    """A tensor of shape `dims` filled with `value` (differentiable in `value`)."""
    value = tensor(value)
    return result(value * np.ones(_shape(dims), value.dtype))


def eye(num_rows, num_columns=None, batch_shape=None, dtype=None, name=None):
    matrix = np.eye(num_rows, num_columns, dtype=dtype_or(dtype, np.float64))
    if batch_shape is not None:
        matrix = np.broadcast_to(matrix, _shape(batch_shape) + matrix.shape).copy()
    return new_tensor(matrix)


def range(start, limit=None, delta=1, dtype=None, name=None):  # noqa: A001
    if limit is None:
        start, limit = 0, start
    values = [constant_of(v).item() for v in (start, limit, delta)]
    default = np.float64 if any(isinstance(v, float) for v in values) else np.int64
    return new_tensor(np.arange(*values, dtype=dtype_or(dtype, default)))


def linspace(start, stop, num, name=None, axis=0):
    return new_tensor(np.linspace(constant_of(start), constant_of(stop), int(num), axis=axis))


def meshgrid(*args, indexing="xy", name=None):
    grids = np.meshgrid(*[constant_of(a) for a in args], indexing=indexing)
    return [new_tensor(g) for g in grids]
