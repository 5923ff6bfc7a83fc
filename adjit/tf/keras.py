"""`tf.keras`: the optimisers (`SGD`, `Adam`, from `adjit.runtime.optimizers`), common
losses and activations, enough for small TensorFlow 2 training loops."""

from types import SimpleNamespace

import numpy as np

from . import nn as _nn
from ._convert import result, tensor


def _optimizers():
    try:
        from ..runtime import optimizers
    except ImportError:          # not there yet: the names say so when used
        def missing(*args, **kwargs):
            raise NotImplementedError("adjit's optimisers are not available in this version")
        return SimpleNamespace(SGD=missing, Adam=missing, schedules=SimpleNamespace())
    schedules = SimpleNamespace(**{name: getattr(optimizers, name) for name in
                                   ("ExponentialDecay", "LearningRateSchedule")
                                   if hasattr(optimizers, name)})
    names = {name: getattr(optimizers, name) for name in ("SGD", "Adam", "Optimizer")
             if hasattr(optimizers, name)}
    return SimpleNamespace(schedules=schedules, **names)


optimizers = _optimizers()


# ---- losses -----------------------------------------------------------------------------

def mean_squared_error(y_true, y_pred):
    """mean((y_true - y_pred) ** 2) over the last axis."""
    return result(np.mean(np.square(tensor(y_true) - tensor(y_pred)), axis=-1))


def mean_absolute_error(y_true, y_pred):
    return result(np.mean(np.abs(tensor(y_true) - tensor(y_pred)), axis=-1))


_EPSILON = 1e-7


def binary_crossentropy(y_true, y_pred, from_logits=False):
    y_true, y_pred = tensor(y_true), tensor(y_pred)
    if from_logits:
        losses = _nn.sigmoid_cross_entropy_with_logits(labels=y_true, logits=y_pred)
    else:
        p = np.clip(y_pred, _EPSILON, 1.0 - _EPSILON)
        losses = -(y_true * np.log(p) + (1.0 - y_true) * np.log(1.0 - p))
    return result(np.mean(losses, axis=-1))


def categorical_crossentropy(y_true, y_pred, from_logits=False, axis=-1):
    y_true, y_pred = tensor(y_true), tensor(y_pred)
    if from_logits:
        return _nn.softmax_cross_entropy_with_logits(y_true, y_pred, axis=axis)
    p = y_pred / np.sum(y_pred, axis=axis, keepdims=True)
    p = np.clip(p, _EPSILON, 1.0 - _EPSILON)
    return result(-np.sum(y_true * np.log(p), axis=axis))


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, axis=-1):
    y_pred = tensor(y_pred)
    depth = y_pred.shape[-1]
    labels = np.asarray(tensor(y_true)._value).astype(np.int64).reshape(y_pred.shape[:-1])
    one_hot = (labels[..., None] == np.arange(depth)).astype(y_pred.dtype)
    return categorical_crossentropy(one_hot, y_pred, from_logits=from_logits, axis=axis)


class _Loss:
    """A loss object: `loss(y_true, y_pred)` is the mean over the batch of the per-sample loss."""

    def __init__(self, reduction="sum_over_batch_size", name=None, **options):
        self.reduction = reduction
        self.name = name
        self._options = options

    def __call__(self, y_true, y_pred, sample_weight=None):
        losses = tensor(self._function(y_true, y_pred, **self._options))
        if sample_weight is not None:
            losses = losses * tensor(sample_weight)
        if self.reduction in ("none", None):
            return losses
        if self.reduction == "sum":
            return result(np.sum(losses))
        return result(np.mean(losses))


class MeanSquaredError(_Loss):
    _function = staticmethod(mean_squared_error)


class MeanAbsoluteError(_Loss):
    _function = staticmethod(mean_absolute_error)


class BinaryCrossentropy(_Loss):
    _function = staticmethod(binary_crossentropy)

    def __init__(self, from_logits=False, **kwargs):
        super().__init__(**{k: v for k, v in kwargs.items() if k in ("reduction", "name")},
                         from_logits=from_logits)


class CategoricalCrossentropy(_Loss):
    _function = staticmethod(categorical_crossentropy)

    def __init__(self, from_logits=False, **kwargs):
        super().__init__(**{k: v for k, v in kwargs.items() if k in ("reduction", "name")},
                         from_logits=from_logits)


class SparseCategoricalCrossentropy(_Loss):
    _function = staticmethod(sparse_categorical_crossentropy)

    def __init__(self, from_logits=False, **kwargs):
        super().__init__(**{k: v for k, v in kwargs.items() if k in ("reduction", "name")},
                         from_logits=from_logits)


losses = SimpleNamespace(
    mean_squared_error=mean_squared_error, mse=mean_squared_error, MSE=mean_squared_error,
    mean_absolute_error=mean_absolute_error, mae=mean_absolute_error,
    binary_crossentropy=binary_crossentropy, categorical_crossentropy=categorical_crossentropy,
    sparse_categorical_crossentropy=sparse_categorical_crossentropy,
    MeanSquaredError=MeanSquaredError, MeanAbsoluteError=MeanAbsoluteError,
    BinaryCrossentropy=BinaryCrossentropy, CategoricalCrossentropy=CategoricalCrossentropy,
    SparseCategoricalCrossentropy=SparseCategoricalCrossentropy)


def _linear(x):
    return tensor(x)


activations = SimpleNamespace(relu=_nn.relu, sigmoid=_nn.sigmoid, tanh=_nn.tanh,
                              softmax=_nn.softmax, softplus=_nn.softplus, elu=_nn.elu,
                              selu=_nn.selu, swish=_nn.swish, silu=_nn.silu, linear=_linear)
