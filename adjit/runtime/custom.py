"""Custom gradients: `custom_vjp` and `defvjp`.

A rule has the form `rule(*args, result, g)` and returns the gradient of
each argument (a tuple when there are several, `None` for one that is not
differentiable). It is registered in the one rule registry (`rules`): the
compiler calls the function and its rule from generated code (they are
handed to the generated module, marked jitable so Numba compiles them), and
the tape calls the rule directly.
"""

import functools

from . import rules
from .array_like import ArrayLike


class custom_vjp:
    """A function whose gradient is given by a rule (`@f.defvjp`) instead of its code.

        @adjit.custom_vjp
        def softplus(x):
            return np.log1p(np.exp(x))

        @softplus.defvjp
        def softplus_vjp(x, result, g):
            return g * (1 - np.exp(-result))
    """

    def __init__(self, func):
        functools.update_wrapper(self, func)
        self.func = func

    def __call__(self, *args, **kwargs):
        if any(isinstance(a, ArrayLike) for a in args) \
                or any(isinstance(a, ArrayLike) for a in kwargs.values()):
            from .tape_ops import call_custom      # tensors: the tape records the rule
            return call_custom(self, args, kwargs)
        return self.func(*args, **kwargs)

    def defvjp(self, rule):
        """Register `rule` as this function's gradient; returns `rule` (usable as a decorator)."""
        rules.register_custom(self, self.func, rule)
        return rule

    def __repr__(self):
        return f"<adjit.custom_vjp {self.__qualname__}>"


def defvjp(func, rule):
    """Give `func` (a function adjit cannot read, such as a Numba-compiled one) the gradient
    `rule(*args, result, g)`; returns `func`."""
    if isinstance(func, custom_vjp):
        func.defvjp(rule)
    else:
        rules.register_custom(func, func, rule)
    return func
