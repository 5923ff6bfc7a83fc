"""What the `adjit.tf` functions share: arguments as tensors, axes and shapes as NumPy
takes them."""

import numpy as np

from ..runtime import tape_ops
from ..runtime.tensor import Tensor, Variable, as_dtype, convert_to_tensor, new_tensor


def tensor(x, dtype=None):
    """`x` as a Tensor (a Variable is read, so the tape sees the read)."""
    return convert_to_tensor(x, dtype)


def tensors(*xs):
    """Several arguments as tensors of one float dtype where they mix numbers and tensors."""
    return [tensor(x) for x in xs]


def result(value):
    """A NumPy function's result as a Tensor (a plain ndarray or number is wrapped)."""
    if isinstance(value, Tensor):
        return value
    return new_tensor(np.asarray(value))


def axis(value):
    """An `axis` argument (int, list, tuple, tensor or None) as NumPy takes it."""
    if value is None:
        return None
    if isinstance(value, (Tensor, Variable)):
        value = value._value.tolist()
    elif isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return tuple(int(a) for a in value)
    return int(value)


def shape(value):
    """A shape argument (int, list, tuple, TensorShape or tensor) as a tuple of ints."""
    return tape_ops.shape_tuple(value)


def dtype_or(dtype, default):
    return as_dtype(dtype) if dtype is not None else np.dtype(default)


def constant_of(x):
    """The value of `x` (a tensor or not) as an ndarray, without recording anything."""
    if isinstance(x, (Tensor, Variable)):
        return x._value
    return np.asarray(x)
