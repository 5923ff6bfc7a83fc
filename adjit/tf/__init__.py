"""TensorFlow 2's gradient names, backed by adjit: `import adjit.tf as tf`.

    import adjit.tf as tf

    w = tf.Variable(tf.random.normal([3, 1]))
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(tf.matmul(x, w) - y))
    grad = tape.gradient(loss, w)
    tf.keras.optimizers.SGD(learning_rate=0.1).apply_gradients([(grad, w)])

Tensors are adjit's (`adjit.Tensor`, `adjit.Variable`) and every function
here is NumPy on tensors, recorded by the tape with the registry's rules, so
its gradient is the compiler's. Unlike TensorFlow, Python floats and new
float tensors are float64 unless a dtype says otherwise, and mixing float32
and float64 promotes instead of failing. Dtypes are NumPy's
(`tf.float32 == np.float32`).
"""

import builtins as _builtins
from types import SimpleNamespace as _Namespace

import numpy as _np

from ..jit import jit  # noqa: F401
from ..runtime.tape import GradientTape, UnconnectedGradients  # noqa: F401
from ..runtime.tensor import (Tensor, TensorShape, Variable, constant,  # noqa: F401
                              convert_to_tensor)
from . import keras, linalg, math, nn, random  # noqa: F401
from .array_ops import (boolean_mask, broadcast_to, cast, clip_by_norm, clip_by_value,  # noqa: F401
                        concat, expand_dims, eye, fill, gather, gather_nd, identity, is_tensor,
                        linspace, meshgrid, newaxis, norm, one_hot, ones, ones_like, rank, reshape,
                        reverse, shape, size, sort, argsort, split, squeeze, stack, stop_gradient,
                        tile, transpose, unstack, where, zeros, zeros_like)
from .array_ops import range  # noqa: F401,A004
from .linalg import einsum, matmul, tensordot  # noqa: F401
from .math import (abs, acos, add, add_n, argmax, argmin, asin, atan, atan2,  # noqa: F401,A004
                   ceil, cos, cosh, cumsum, cumprod, divide, equal, exp, floor, floordiv, greater,
                   greater_equal, less, less_equal, log, log1p, logical_and, logical_not,
                   logical_or, maximum, minimum, multiply, negative, not_equal, pow,
                   reduce_all, reduce_any, reduce_logsumexp, reduce_max, reduce_mean,
                   reduce_min, reduce_prod, reduce_std, reduce_sum, reduce_variance, round,
                   rsqrt, sigmoid, sign, sin, sinh, sqrt, square, squared_difference,
                   subtract, tan, tanh, truediv)
from .math import mod as floormod  # noqa: F401
from .module import Module  # noqa: F401

float16 = half = _np.dtype(_np.float16)
float32 = _np.dtype(_np.float32)
float64 = double = _np.dtype(_np.float64)
int8 = _np.dtype(_np.int8)
int16 = _np.dtype(_np.int16)
int32 = _np.dtype(_np.int32)
int64 = _np.dtype(_np.int64)
uint8 = _np.dtype(_np.uint8)
bool = _np.dtype(_np.bool_)  # noqa: A001
complex64 = _np.dtype(_np.complex64)
complex128 = _np.dtype(_np.complex128)
dtypes = _Namespace(float16=float16, half=half, float32=float32, float64=float64, double=double,
                    int8=int8, int16=int16, int32=int32, int64=int64, uint8=uint8, bool=bool,
                    complex64=complex64, complex128=complex128, as_dtype=_np.dtype,
                    DType=_np.dtype)
DType = _np.dtype
optimizers = keras.optimizers


def function(func=None, **options):
    """TensorFlow's `tf.function`: here functions run as they are (decorate with `adjit.jit`
    to compile one)."""
    if func is None:
        return lambda f: f
    return func


def executing_eagerly():
    return True


def print(*values, sep=" ", end="\n", **kwargs):  # noqa: A001
    """Print tensors by their values, as `tf.print` does."""
    shown = [v.numpy() if isinstance(v, (Tensor, Variable)) else v for v in values]
    _builtins.print(*shown, sep=sep, end=end, **{k: v for k, v in kwargs.items()
                                                 if k in ("file", "flush")})
