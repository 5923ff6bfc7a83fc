"""Optimisers with Keras semantics: `SGD` (with momentum and Nesterov) and `Adam`.

An optimiser updates variables in place from their gradients:

    opt = adjit.optimizers.Adam(learning_rate=0.01)
    opt.apply_gradients(zip(grads, variables))

A variable is an adjit `Variable` (updated with `assign_sub`) or, for native
use with `adjit.grad`, a writeable NumPy float array (updated in place).
A Python float cannot be updated in place and is refused. Per-variable state
(momentum, Adam's moments) is kept by the optimiser, in the variable's dtype.

The arithmetic is the one Keras 2 and 3 use:

    SGD:   v = momentum * v - lr * g;  var += v          (plain: var -= lr * g)
           Nesterov: var += momentum * v - lr * g        (v already updated)
    Adam:  t = iterations + 1
           m = beta_1 * m + (1 - beta_1) * g
           v = beta_2 * v + (1 - beta_2) * g * g
           var -= lr * sqrt(1 - beta_2**t) / (1 - beta_1**t) * m / (sqrt(v) + epsilon)

`learning_rate` is a number, a schedule (a callable taking the step count:
`iterations` before the update, so 0 on the first step; for instance
`schedules.ExponentialDecay`), or, as in Keras, a callable taking no argument.
`lr=` is accepted as the old spelling.
"""

import inspect
import math
import warnings

import numpy as np

_UNSET = object()


class LearningRateSchedule:
    """Base of learning-rate schedules: `schedule(step)` gives the rate at a step."""

    def __call__(self, step):
        raise NotImplementedError

    def get_config(self):
        return {}


class ExponentialDecay(LearningRateSchedule):
    """`initial_learning_rate * decay_rate ** (step / decay_steps)`, as Keras computes it.

    With `staircase=True` the exponent is floored, so the rate drops in steps.
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name=None):
        if decay_steps <= 0:
            raise ValueError(f"decay_steps must be positive, not {decay_steps!r}")
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_steps = decay_steps
        self.decay_rate = float(decay_rate)
        self.staircase = bool(staircase)
        self.name = name

    def __call__(self, step):
        p = float(step) / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate * self.decay_rate ** p

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class _Iterations(int):
    """The step count: an int that also answers `.numpy()` as a TensorFlow variable does."""

    def numpy(self):
        return np.int64(self)


class _LearningRate(float):
    """The current learning rate: a float that also answers `.numpy()` and `.assign(value)`."""

    def __new__(cls, value, optimizer):
        self = super().__new__(cls, value)
        self._optimizer = optimizer
        return self

    def numpy(self):
        return np.float64(self)

    def assign(self, value):
        self._optimizer.learning_rate = value


def _number(value, what):
    """`value` as a Python float, or a clear error."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{what} must be a number, not {value!r}")
    try:
        array = np.asarray(value)
        if array.ndim != 0 or array.dtype.kind not in "fiu":
            raise TypeError
        number = float(array)
    except (TypeError, ValueError):
        raise TypeError(f"{what} must be a number, not {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"{what} must be finite, not {number!r}")
    return number


def _takes_step(schedule):
    """Whether a learning-rate callable takes the step (a schedule) or nothing (Keras's callables)."""
    if isinstance(schedule, LearningRateSchedule):
        return True
    try:
        signature = inspect.signature(schedule)
    except (TypeError, ValueError):
        return True
    try:
        signature.bind()
    except TypeError:
        return True
    return False


def _describe(var):
    name = getattr(var, "name", None)
    if isinstance(name, str) and name:
        return name
    return f"<{type(var).__name__} of shape {np.shape(_read(var))}>"


def _read(var):
    """The current value of a variable, as an ndarray (not a copy for an ndarray)."""
    if isinstance(var, np.ndarray):
        return var
    numpy = getattr(var, "numpy", None)
    return np.asarray(numpy() if callable(numpy) else var)


def _check_variable(var):
    """Refuse what cannot be updated in place, naming what to pass instead."""
    if isinstance(var, np.ndarray):
        if var.dtype.kind != "f":
            raise TypeError(f"cannot optimise an array of dtype {var.dtype}: pass a float array")
        if not var.flags.writeable:
            raise ValueError("cannot optimise a read-only array: it is updated in place")
        return
    if isinstance(var, (float, int, np.number, bool, np.bool_)):
        raise TypeError(f"cannot update the {type(var).__name__} {var!r} in place: an optimiser "
                        f"needs a NumPy array (np.array({var!r})) or an adjit.Variable")
    if not callable(getattr(var, "assign_sub", None)):
        raise TypeError(f"cannot update a {type(var).__name__} in place: an optimiser needs an "
                        f"adjit.Variable or a NumPy float array")
    if _read(var).dtype.kind != "f":
        raise TypeError(f"cannot optimise {_describe(var)} of dtype {_read(var).dtype}: "
                        f"it must be a float variable")


def _subtract(var, delta):
    """var -= delta, in place, in the variable's dtype."""
    if isinstance(var, np.ndarray):
        var -= delta
    else:
        var.assign_sub(delta)


class Optimizer:
    """What SGD and Adam share: learning rate, step count, clipping, slots, `apply_gradients`."""

    _slot_names = ()

    def __init__(self, learning_rate, name, lr=None, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, decay=0.0, **kwargs):
        if kwargs:
            raise TypeError(f"{type(self).__name__}() got unexpected argument(s) "
                            f"{', '.join(sorted(kwargs))}")
        if lr is not None:
            if learning_rate is not _UNSET and learning_rate != lr:
                raise ValueError(f"learning_rate={learning_rate!r} and lr={lr!r} disagree: "
                                 f"lr is the old name of learning_rate, pass one of them")
            learning_rate = lr
        if learning_rate is _UNSET:
            learning_rate = self._default_learning_rate
        if sum(c is not None for c in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError("Only one of clipnorm, clipvalue and global_clipnorm can be set")
        self.name = name
        self.learning_rate = learning_rate
        self.weight_decay = None if weight_decay is None else _number(weight_decay, "weight_decay")
        self.clipnorm = None if clipnorm is None else _number(clipnorm, "clipnorm")
        self.clipvalue = None if clipvalue is None else _number(clipvalue, "clipvalue")
        self.global_clipnorm = (None if global_clipnorm is None
                                else _number(global_clipnorm, "global_clipnorm"))
        self.decay = _number(decay, "decay")
        if self.decay < 0:
            raise ValueError(f"decay must be >= 0, not {decay!r}")
        self._iterations = 0
        self._slots = {}          # id(var) -> (var, {slot name: ndarray})

    # -- learning rate and step count ----------------------------------------------------

    @property
    def learning_rate(self):
        """The rate the next step uses (a schedule is evaluated at `iterations`)."""
        return _LearningRate(self._current_learning_rate(), self)

    @learning_rate.setter
    def learning_rate(self, value):
        if callable(value):
            self._learning_rate = value
        else:
            self._learning_rate = _number(value, "learning_rate")

    lr = learning_rate           # the Keras 2 name

    @property
    def iterations(self):
        """How many times `apply_gradients` has updated the variables."""
        return _Iterations(self._iterations)

    @iterations.setter
    def iterations(self, value):
        self._iterations = int(value)

    def _current_learning_rate(self):
        rate = self._learning_rate
        if callable(rate):
            step = (self._iterations,) if _takes_step(rate) else ()
            rate = _number(rate(*step), "the learning rate schedule's value")
        if self.decay:
            rate = rate / (1.0 + self.decay * self._iterations)
        return rate

    # -- applying gradients --------------------------------------------------------------

    def apply_gradients(self, grads_and_vars, name=None, experimental_aggregate_gradients=True,
                        skip_gradients_aggregation=False):
        """Update each variable from its gradient; `grads_and_vars` is any iterable of pairs.

        A `None` gradient leaves its variable unchanged, with a warning naming it;
        when every gradient is `None` this raises `ValueError`. Returns `iterations`.
        (`name` and the aggregation flags are Keras's; with one process they change nothing.)
        """
        pairs = []
        for item in grads_and_vars:
            if not isinstance(item, (tuple, list)) or len(item) != 2:
                raise TypeError(f"apply_gradients takes (gradient, variable) pairs, "
                                f"got {item!r}")
            pairs.append(tuple(item))
        return self.apply([g for g, _ in pairs], [v for _, v in pairs])

    def apply(self, grads, trainable_variables):
        """Keras 3's form of `apply_gradients`: a list of gradients and one of variables."""
        grads, variables = list(grads), list(trainable_variables)
        if len(grads) != len(variables):
            raise ValueError(f"{len(grads)} gradients for {len(variables)} variables")
        missing = [v for g, v in zip(grads, variables) if g is None]
        kept = [(g, v) for g, v in zip(grads, variables) if g is not None]
        if not kept:
            raise ValueError(f"No gradients provided for any variable: "
                             f"{[_describe(v) for v in variables]}")
        if missing:
            warnings.warn(f"Gradients do not exist for variables {[_describe(v) for v in missing]} "
                          f"when minimizing the loss; they are left unchanged", stacklevel=3)
        prepared = []
        for grad, var in kept:
            _check_variable(var)
            value = _read(var)
            grad = np.asarray(grad)
            if grad.dtype.kind not in "fiu":
                raise TypeError(f"the gradient of {_describe(var)} has dtype {grad.dtype}")
            if grad.shape != value.shape:
                raise ValueError(f"the gradient of {_describe(var)} has shape {grad.shape}, "
                                 f"the variable {value.shape}")
            prepared.append((grad.astype(value.dtype), var, value.dtype))
        prepared = self._clip([g for g, _, _ in prepared], prepared)
        rate = self._current_learning_rate()
        for grad, var, dtype in prepared:
            if self.weight_decay:
                _subtract(var, (_read(var) * (self.weight_decay * rate)).astype(dtype))
            delta = self._step(grad, var, self._slots_of(var, grad), rate)
            _subtract(var, np.asarray(delta).astype(dtype, copy=False))
        self._iterations += 1
        return self.iterations

    def minimize(self, loss, var_list, grad_loss=None, name=None, tape=None):
        """One step on `loss`: a callable computing it (Keras 2 style), or a tensor and its tape."""
        if callable(loss):
            if tape is None:
                from .tape import GradientTape
                tape = GradientTape()
            with tape:
                if not callable(var_list):
                    tape.watch(var_list)
                loss = loss()
        elif tape is None:
            raise ValueError("`tape` is required when a `Tensor` loss is passed")
        if callable(var_list):
            var_list = var_list()
        var_list = list(var_list)
        grads = tape.gradient(loss, var_list, grad_loss)
        return self.apply_gradients(zip(grads, var_list))

    def _clip(self, grads, prepared):
        if self.clipvalue is not None:
            grads = [np.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        elif self.clipnorm is not None:
            grads = [g * (self.clipnorm / max(float(np.sqrt(np.sum(g * g))), self.clipnorm))
                     for g in grads]
        elif self.global_clipnorm is not None:
            norm = math.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in grads))
            grads = [g * (self.global_clipnorm / max(norm, self.global_clipnorm)) for g in grads]
        return [(np.asarray(g).astype(dtype, copy=False), var, dtype)
                for g, (_, var, dtype) in zip(grads, prepared)]

    def _slots_of(self, var, grad):
        entry = self._slots.get(id(var))
        if entry is None or entry[0] is not var:
            entry = (var, {name: np.zeros_like(grad) for name in self._slot_names})
            self._slots[id(var)] = entry      # keeps var alive, so its id is not reused
        return entry[1]

    def get_slot(self, var, slot_name):
        """The optimiser's state for `var` (`"momentum"`, `"m"`, `"v"`, `"vhat"`), as an ndarray."""
        entry = self._slots.get(id(var))
        if entry is None or entry[0] is not var or slot_name not in entry[1]:
            raise KeyError(f"no slot {slot_name!r} for {_describe(var)}; "
                           f"slots are {list(self._slot_names)}")
        return entry[1][slot_name]

    def _step(self, grad, var, slots, rate):
        """The amount to subtract from `var` (in place slots updates)."""
        raise NotImplementedError

    def get_config(self):
        rate = self._learning_rate
        return {"name": self.name, "learning_rate": rate, "weight_decay": self.weight_decay,
                "clipnorm": self.clipnorm, "clipvalue": self.clipvalue,
                "global_clipnorm": self.global_clipnorm}

    def __repr__(self):
        return f"<{type(self).__name__} learning_rate={float(self.learning_rate)!r} " \
               f"iterations={self._iterations}>"


class SGD(Optimizer):
    """Gradient descent, with momentum and Nesterov momentum as Keras computes them.

        SGD(learning_rate=0.01, momentum=0.0, nesterov=False)
    """

    _default_learning_rate = 0.01

    def __init__(self, learning_rate=_UNSET, momentum=0.0, nesterov=False, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, *, lr=None, decay=0.0,
                 name="SGD", **kwargs):
        super().__init__(learning_rate, name, lr=lr, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, decay=decay, **kwargs)
        momentum = _number(momentum, "momentum")
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"momentum must be a float between [0, 1], not {momentum!r}")
        self.momentum = momentum
        self.nesterov = bool(nesterov)
        self._slot_names = ("momentum",) if momentum else ()

    def _step(self, grad, var, slots, rate):
        if not self.momentum:
            return grad * rate
        velocity = slots["momentum"]
        velocity *= self.momentum
        velocity -= grad * rate
        if self.nesterov:
            return -(velocity * self.momentum - grad * rate)
        return -velocity

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    """Adam as Keras computes it: epsilon added to sqrt(v), bias correction folded into the step.

        Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False)
    """

    _default_learning_rate = 0.001

    def __init__(self, learning_rate=_UNSET, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, *, lr=None, decay=0.0, name="Adam", **kwargs):
        super().__init__(learning_rate, name, lr=lr, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, decay=decay, **kwargs)
        self.beta_1 = beta_1 if callable(beta_1) else _number(beta_1, "beta_1")
        self.beta_2 = beta_2 if callable(beta_2) else _number(beta_2, "beta_2")
        self.epsilon = _number(epsilon, "epsilon")
        self.amsgrad = bool(amsgrad)
        self._slot_names = ("m", "v", "vhat") if amsgrad else ("m", "v")

    def _step(self, grad, var, slots, rate):
        beta_1 = _number(self.beta_1() if callable(self.beta_1) else self.beta_1, "beta_1")
        beta_2 = _number(self.beta_2() if callable(self.beta_2) else self.beta_2, "beta_2")
        t = self._iterations + 1
        step = rate * math.sqrt(1.0 - beta_2 ** t) / (1.0 - beta_1 ** t)
        m, v = slots["m"], slots["v"]
        m *= beta_1
        m += (1.0 - beta_1) * grad
        v *= beta_2
        v += (1.0 - beta_2) * (grad * grad)
        if self.amsgrad:
            np.maximum(slots["vhat"], v, out=slots["vhat"])
            v = slots["vhat"]
        return step * m / (np.sqrt(v) + self.epsilon)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}
