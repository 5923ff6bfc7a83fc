"""`tf.math`: elementwise functions and reductions, as TensorFlow 2 spells them.

Each is the NumPy function on tensors, so the tape records it with the
registry's rule; the few TensorFlow has and NumPy lacks (`sigmoid`,
`softplus`, `xlogy`, `reduce_logsumexp`, ...) are written with registered
functions, choosing forms whose gradient is right where TensorFlow's is
(`sigmoid` through `tanh`, so it never overflows).
"""

import numpy as np

from ._convert import axis as _axis
from ._convert import constant_of, result, tensor

# ---- arithmetic ------------------------------------------------------------------------


def add(x, y, name=None):
    return result(tensor(x) + tensor(y))


def subtract(x, y, name=None):
    return result(tensor(x) - tensor(y))


def multiply(x, y, name=None):
    return result(tensor(x) * tensor(y))


def divide(x, y, name=None):
    return result(tensor(x) / tensor(y))


truediv = divide


def floordiv(x, y, name=None):
    return result(tensor(x) // tensor(y))


floor_div = floordiv


def floormod(x, y, name=None):
    return result(tensor(x) % tensor(y))


mod = floormod


def pow(x, y, name=None):  # noqa: A001  (TensorFlow's name)
    return result(tensor(x) ** tensor(y))


def negative(x, name=None):
    return result(-tensor(x))


def add_n(inputs, name=None):
    inputs = list(inputs)
    total = tensor(inputs[0])
    for item in inputs[1:]:
        total = total + tensor(item)
    return result(total)


def squared_difference(x, y, name=None):
    return result(np.square(tensor(x) - tensor(y)))


def divide_no_nan(x, y, name=None):
    """x / y, and 0 where y is 0 (with gradient 0 there)."""
    x, y = tensor(x), tensor(y)
    zero = y == 0
    return result(np.where(zero, 0.0, x / np.where(zero, 1.0, y)))


def xlogy(x, y, name=None):
    """x * log(y), and 0 where x is 0."""
    x, y = tensor(x), tensor(y)
    zero = x == 0
    return result(np.where(zero, 0.0, x * np.log(np.where(zero, 1.0, y))))


def xdivy(x, y, name=None):
    x, y = tensor(x), tensor(y)
    zero = x == 0
    return result(np.where(zero, 0.0, x / np.where(zero, 1.0, y)))


# ---- elementwise functions ------------------------------------------------------------

def _elementwise(func, doc):
    def op(x, name=None):
        return result(func(tensor(x)))
    op.__doc__ = doc
    op.__name__ = op.__qualname__ = doc.split("(")[0]
    return op


abs = _elementwise(np.abs, "abs(x)")  # noqa: A001
exp = _elementwise(np.exp, "exp(x)")
expm1 = _elementwise(np.expm1, "expm1(x)")
log = _elementwise(np.log, "log(x): the natural logarithm")
log1p = _elementwise(np.log1p, "log1p(x)")
sqrt = _elementwise(np.sqrt, "sqrt(x)")
square = _elementwise(np.square, "square(x)")
sin = _elementwise(np.sin, "sin(x)")
cos = _elementwise(np.cos, "cos(x)")
tan = _elementwise(np.tan, "tan(x)")
asin = _elementwise(np.arcsin, "asin(x)")
acos = _elementwise(np.arccos, "acos(x)")
atan = _elementwise(np.arctan, "atan(x)")
sinh = _elementwise(np.sinh, "sinh(x)")
cosh = _elementwise(np.cosh, "cosh(x)")
tanh = _elementwise(np.tanh, "tanh(x)")
asinh = _elementwise(np.arcsinh, "asinh(x)")
acosh = _elementwise(np.arccosh, "acosh(x)")
atanh = _elementwise(np.arctanh, "atanh(x)")
reciprocal = _elementwise(np.reciprocal, "reciprocal(x)")
sign = _elementwise(np.sign, "sign(x): no gradient")
floor = _elementwise(np.floor, "floor(x): no gradient")
ceil = _elementwise(np.ceil, "ceil(x): no gradient")
is_nan = _elementwise(np.isnan, "is_nan(x)")
is_inf = _elementwise(np.isinf, "is_inf(x)")
is_finite = _elementwise(np.isfinite, "is_finite(x)")
logical_not = _elementwise(np.logical_not, "logical_not(x)")


def round(x, name=None):  # noqa: A001
    """Round half to even, as TensorFlow does; no gradient."""
    return result(np.round(tensor(x)))


def rsqrt(x, name=None):
    return result(1.0 / np.sqrt(tensor(x)))


def conj(x, name=None):
    return tensor(x)


def atan2(y, x, name=None):
    return result(np.arctan2(tensor(y), tensor(x)))


def maximum(x, y, name=None):
    """The larger of x and y; where they are equal the gradient goes to x, as in TensorFlow."""
    x, y = tensor(x), tensor(y)
    return result(np.where(x >= y, x, y))


def minimum(x, y, name=None):
    """The smaller of x and y; where they are equal the gradient goes to x, as in TensorFlow."""
    x, y = tensor(x), tensor(y)
    return result(np.where(x <= y, x, y))


def sigmoid(x, name=None):
    """1 / (1 + exp(-x)), computed as (1 + tanh(x / 2)) / 2, which never overflows."""
    x = tensor(x)
    return result(0.5 * (np.tanh(0.5 * x) + 1.0))


def softplus(features, name=None):
    """log(1 + exp(x)), computed as logaddexp(0, x)."""
    x = tensor(features)
    return result(np.logaddexp(np.zeros((), x.dtype), x))


def log_sigmoid(x, name=None):
    return result(-softplus(-tensor(x)))


def softsign(features, name=None):
    x = tensor(features)
    return result(x / (1.0 + np.abs(x)))


# ---- comparisons (no gradient) ------------------------------------------------------------

def equal(x, y, name=None):
    return result(tensor(x) == tensor(y))


def not_equal(x, y, name=None):
    return result(tensor(x) != tensor(y))


def less(x, y, name=None):
    return result(tensor(x) < tensor(y))


def less_equal(x, y, name=None):
    return result(tensor(x) <= tensor(y))


def greater(x, y, name=None):
    return result(tensor(x) > tensor(y))


def greater_equal(x, y, name=None):
    return result(tensor(x) >= tensor(y))


def logical_and(x, y, name=None):
    return result(np.logical_and(tensor(x), tensor(y)))


def logical_or(x, y, name=None):
    return result(np.logical_or(tensor(x), tensor(y)))


def logical_xor(x, y, name=None):
    return result(np.logical_xor(tensor(x), tensor(y)))


def argmax(input, axis=None, output_type=None, name=None):  # noqa: A002
    """Index of the largest value along `axis` (0 by default, as in TensorFlow)."""
    found = np.argmax(tensor(input), axis=0 if axis is None else _axis(axis))
    return result(found).astype(output_type or np.int64)


def argmin(input, axis=None, output_type=None, name=None):  # noqa: A002
    found = np.argmin(tensor(input), axis=0 if axis is None else _axis(axis))
    return result(found).astype(output_type or np.int64)


def count_nonzero(input, axis=None, keepdims=False, dtype=np.int64, name=None):  # noqa: A002
    return result(np.count_nonzero(constant_of(input), axis=_axis(axis),
                                   keepdims=keepdims)).astype(dtype)


# ---- reductions -----------------------------------------------------------------------------

def _reduction(func, doc):
    def reduce(input_tensor, axis=None, keepdims=False, name=None):
        return result(func(tensor(input_tensor), axis=_axis(axis), keepdims=bool(keepdims)))
    reduce.__doc__ = doc
    return reduce


reduce_sum = _reduction(np.sum, "The sum over `axis` (every axis for None).")
reduce_mean = _reduction(np.mean, "The mean over `axis` (every axis for None).")
reduce_max = _reduction(np.max, "The largest value over `axis`; ties share the gradient.")
reduce_min = _reduction(np.min, "The smallest value over `axis`; ties share the gradient.")
reduce_prod = _reduction(np.prod, "The product over `axis`.")
reduce_std = _reduction(np.std, "The standard deviation over `axis`.")
reduce_variance = _reduction(np.var, "The variance over `axis`.")
reduce_any = _reduction(np.any, "Logical or over `axis`.")
reduce_all = _reduction(np.all, "Logical and over `axis`.")


def reduce_euclidean_norm(input_tensor, axis=None, keepdims=False, name=None):
    x = tensor(input_tensor)
    return result(np.sqrt(np.sum(np.square(x), axis=_axis(axis), keepdims=bool(keepdims))))


def reduce_logsumexp(input_tensor, axis=None, keepdims=False, name=None):
    """log(sum(exp(x))) over `axis`, shifted by the (constant) maximum so it never overflows."""
    x = tensor(input_tensor)
    axes = _axis(axis)
    shift = np.max(constant_of(x), axis=axes, keepdims=True)
    shift = np.where(np.isfinite(shift), shift, 0.0)
    total = np.log(np.sum(np.exp(x - shift), axis=axes, keepdims=True)) + shift
    if not keepdims:
        total = np.squeeze(total, axis=axes) if axes is not None else np.reshape(total, ())
    return result(total)


def cumsum(x, axis=0, exclusive=False, reverse=False, name=None):
    x = tensor(x)
    axis = _axis(axis)
    if reverse:
        x = np.flip(x, axis)
    total = np.cumsum(x, axis=axis)
    if exclusive:
        total = total - x
    if reverse:
        total = np.flip(total, axis)
    return result(total)


def cumprod(x, axis=0, exclusive=False, reverse=False, name=None):
    if exclusive:
        raise NotImplementedError("adjit.tf.math.cumprod(exclusive=True) is not supported")
    x = tensor(x)
    axis = _axis(axis)
    if reverse:
        return result(np.flip(np.cumprod(np.flip(x, axis), axis=axis), axis))
    return result(np.cumprod(x, axis=axis))


def l2_normalize(x, axis=None, epsilon=1e-12, name=None):
    """x / sqrt(max(sum(x**2, axis), epsilon))."""
    x = tensor(x)
    total = np.sum(np.square(x), axis=_axis(axis), keepdims=True)
    return result(x / np.sqrt(maximum(total, epsilon)))


def softmax(logits, axis=None, name=None):
    from .nn import softmax as _softmax
    return _softmax(logits, axis)


def polyval(coeffs, x, name=None):
    x = tensor(x)
    total = tensor(coeffs[0]) * np.ones((), x.dtype) if coeffs else tensor(0.0)
    for c in list(coeffs)[1:]:
        total = total * x + tensor(c)
    return result(total)
