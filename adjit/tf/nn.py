"""`tf.nn`: activations and losses, written with registered NumPy functions.

Each is chosen so its gradient is TensorFlow's, including at the kinks:
`relu`'s gradient at 0 is 0, `leaky_relu`'s is `alpha`, and no branch that
`np.where` discards can overflow and poison the gradient with NaN.
"""

import numpy as np

from . import math as _math
from ._convert import axis as _axis
from ._convert import constant_of, result, tensor

sigmoid = _math.sigmoid
tanh = _math.tanh
softplus = _math.softplus
softsign = _math.softsign
log_sigmoid = _math.log_sigmoid
l2_normalize = _math.l2_normalize


def relu(features, name=None):
    """max(x, 0); its gradient is 1 where x > 0, else 0 (also at 0)."""
    x = tensor(features)
    return result(np.where(x > 0, x, np.zeros((), x.dtype)))


def relu6(features, name=None):
    """min(max(x, 0), 6); its gradient is 1 where 0 < x < 6, else 0."""
    x = tensor(features)
    zero = np.zeros((), x.dtype)
    return result(np.where(x > 0, np.where(x < 6, x, zero + 6), zero))


def leaky_relu(features, alpha=0.2, name=None):
    x = tensor(features)
    return result(np.where(x > 0, x, alpha * x))


def elu(features, name=None):
    """x where x > 0, else exp(x) - 1."""
    x = tensor(features)
    negative = np.where(x > 0, np.zeros((), x.dtype), x)
    return result(np.where(x > 0, x, np.expm1(negative)))


def selu(features, name=None):
    scale, alpha = 1.0507009873554804934193349852946, 1.6732632423543772848170429916717
    x = tensor(features)
    negative = np.where(x > 0, np.zeros((), x.dtype), x)
    return result(scale * np.where(x > 0, x, alpha * np.expm1(negative)))


def silu(features, beta=1.0, name=None):
    x = tensor(features)
    return result(x * _math.sigmoid(beta * x))


swish = silu


def _shift(x, axis):
    """The maximum of `x` over `axis` (kept), as a constant: softmax does not depend on it."""
    shift = np.max(constant_of(x), axis=axis, keepdims=True)
    return np.where(np.isfinite(shift), shift, 0.0).astype(x.dtype)


def softmax(logits, axis=None, name=None):
    """exp(x) / sum(exp(x)) along `axis` (the last by default)."""
    x = tensor(logits)
    axis = -1 if axis is None else _axis(axis)
    e = np.exp(x - _shift(x, axis))
    return result(e / np.sum(e, axis=axis, keepdims=True))


def log_softmax(logits, axis=None, name=None):
    """x - log(sum(exp(x))) along `axis` (the last by default)."""
    x = tensor(logits)
    axis = -1 if axis is None else _axis(axis)
    shifted = x - _shift(x, axis)
    return result(shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True)))


def l2_loss(t, name=None):
    """sum(t ** 2) / 2."""
    return result(np.sum(np.square(tensor(t))) / 2.0)


def bias_add(value, bias, data_format=None, name=None):
    return result(tensor(value) + tensor(bias))


def moments(x, axes, shift=None, keepdims=False, name=None):
    """(mean, variance) of `x` over `axes`."""
    x = tensor(x)
    axes = _axis(axes)
    mean = np.mean(x, axis=axes, keepdims=True)
    variance = np.mean(np.square(x - mean), axis=axes, keepdims=True)
    if not keepdims:
        mean, variance = np.squeeze(mean, axis=axes), np.squeeze(variance, axis=axes)
    return result(mean), result(variance)


def sigmoid_cross_entropy_with_logits(labels=None, logits=None, name=None):
    """max(x, 0) - x * z + log(1 + exp(-|x|)) for logits x and labels z, as TensorFlow."""
    x, z = tensor(logits), tensor(labels)
    positive = x >= 0
    zero = np.zeros((), x.dtype)
    return result(np.where(positive, x, zero) - x * z
                  + np.log1p(np.exp(np.where(positive, -x, x))))


def softmax_cross_entropy_with_logits(labels, logits, axis=-1, name=None):
    """-sum(labels * log_softmax(logits)) along `axis`."""
    return result(-np.sum(tensor(labels) * log_softmax(logits, axis), axis=_axis(axis)))


def sparse_softmax_cross_entropy_with_logits(labels, logits, name=None):
    """-log_softmax(logits)[..., labels], labels integer class indices."""
    labels = constant_of(labels).astype(np.int64)
    picked = np.take_along_axis(log_softmax(logits), labels[..., None], axis=-1)
    return result(-np.squeeze(picked, axis=-1))


def dropout(x, rate, noise_shape=None, seed=None, name=None):
    """Zero each element with probability `rate`, scaling the others by 1 / (1 - rate)."""
    from .random import _generator
    x = tensor(x)
    shape = x.shape if noise_shape is None else tuple(noise_shape)
    keep = _generator(seed).random(shape) >= rate
    return result(x * (keep / (1.0 - rate)).astype(x.dtype))
