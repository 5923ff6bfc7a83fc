"""Optimisers for native use: `adjit.optimizers.SGD`, `adjit.optimizers.Adam`.

    opt = adjit.optimizers.Adam(learning_rate=0.01)
    dW, db = grad_loss(W, b, X, y)
    opt.apply_gradients([(dW, W), (db, b)])      # W and b (float arrays) updated in place

The implementation is `adjit.runtime.optimizers`; `schedules` holds the
learning-rate schedules (`schedules.ExponentialDecay`), as in Keras.
"""

from types import SimpleNamespace

from .runtime.optimizers import SGD, Adam, ExponentialDecay, LearningRateSchedule, Optimizer

schedules = SimpleNamespace(ExponentialDecay=ExponentialDecay,
                            LearningRateSchedule=LearningRateSchedule)

__all__ = ["SGD", "Adam", "Optimizer", "schedules"]
