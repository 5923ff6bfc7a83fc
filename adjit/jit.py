"""`adjit.jit`: a function compiled by Numba that the tape records as one operation.

    @adjit.jit
    def simulate(x, n):
        s = 0.0
        for i in range(n):
            s = s + np.sin(x * i)
        return s

    simulate(0.3, 10**5)                 # compiled, plain numbers in and out
    with adjit.GradientTape() as tape:
        y = simulate(x, 10**5)           # one tape entry, whatever the loop does
    tape.gradient(y, x)                  # the compiled adjoint, seeded with the gradient

Called on numbers and arrays, the function runs compiled by Numba (as Python,
with a warning, where Numba cannot compile it). Called with tensors while a
tape watches one of them, the value is computed compiled and the tape gets
one entry whose gradient calls the compiled adjoint `adjit.grad` generates for
the float tensor arguments, with the incoming gradient as its seed. Under an
outer tape (nested tapes), that gradient is itself one entry, whose gradient is
the compiled forward-over-reverse Hessian-vector product; a third derivative
through nested tapes says it is not supported.
"""

import functools
import inspect
import warnings

import numpy as np

from .api import GradFunction
from .runtime import compile as compiling
from .runtime import tape_ops
from .runtime.array_like import ArrayLike
from .runtime.tape_ops import ACTIVE, Entry, new_tensor
from .runtime.tensor import Tensor


def _number(value):
    """A 0-d array as the Python number compiled code expects; anything else as is."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value.item()
    return value


class JitFunction:
    """A function compiled with Numba, recorded by the tape as one operation."""

    def __init__(self, func):
        if isinstance(func, JitFunction):
            func = func.__wrapped__
        functools.update_wrapper(self, func)
        self.__wrapped__ = func
        self._signature = inspect.signature(func)
        self._params = tuple(self._signature.parameters)
        self._compiled = None        # the Numba dispatcher, or False: run as Python
        self._adjoints = {}          # wrt names -> GradFunction
        self._warned = False

    # ---- the value ------------------------------------------------------------------

    def _primal(self, *args, **kwargs):
        if self._compiled is None:
            self._compiled = compiling.jit(self.__wrapped__)
        if self._compiled is not False:
            try:
                return self._compiled(*args, **kwargs)
            except compiling.numba_errors() as exc:
                self._fall_back(exc)
            except RuntimeError as exc:
                if "cannot cache" not in str(exc):
                    raise
                import numba         # a function without a file to cache beside: no cache
                self._compiled = numba.njit(cache=False)(self.__wrapped__)
                return self._primal(*args, **kwargs)
        return self.__wrapped__(*args, **kwargs)

    def _fall_back(self, exc):
        self._compiled = False
        if not self._warned:
            self._warned = True
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            warnings.warn(f"adjit runs {self.__name__} as Python: Numba cannot compile it "
                          f"({reason})", compiling.AdjitWarning, stacklevel=4)

    def __call__(self, *args, **kwargs):
        if any(isinstance(a, ArrayLike) for a in args) \
                or any(isinstance(a, ArrayLike) for a in kwargs.values()):
            return self._call_on_tensors(args, kwargs)
        return self._primal(*args, **kwargs)

    # ---- on the tape ----------------------------------------------------------------

    def _adjoint(self, wrt):
        df = self._adjoints.get(wrt)
        if df is None:
            df = self._adjoints[wrt] = GradFunction(self.__wrapped__, wrt=wrt[0] if len(wrt) == 1
                                                    else wrt)
        return df

    def _call_on_tensors(self, args, kwargs):
        bound = self._signature.bind(*args, **kwargs)
        bound.apply_defaults()
        found = []
        inputs = tuple(tape_ops._read(v, found) for v in bound.arguments.values())
        values = [_number(tape_ops.plain(v)) for v in inputs]
        result = self._primal(*values)
        if isinstance(result, (int, float, complex)):
            result = np.asarray(result)
        out = tape_ops.wrap(result)
        tapes = tape_ops.watching(found) if ACTIVE and found else None
        if not tapes or not tape_ops._has_float(result):
            return out
        if not isinstance(out, Tensor):
            raise TypeError(f"adjit.jit: {self.__name__} returns a {type(result).__name__}; on a "
                            "tape it must return one number or array")
        watched = [k for k, v in enumerate(inputs)
                   if isinstance(v, Tensor) and v._value.dtype.kind == "f"
                   and any(v._id in tape._watched for tape in tapes)]
        wrt = tuple(self._params[k] for k in watched)
        df = self._adjoint(wrt)
        rule = _adjoint_rule(df, watched, len(inputs), self.__name__, self.__wrapped__, wrt)
        links = tuple(watched)
        tape_ops.record(tapes, Entry(f"jit:{self.__name__}", rule, (out,), inputs, None, links,
                                     len(inputs) == 1))
        return out

    def __repr__(self):
        return f"<adjit.jit of {self.__qualname__}>"


def _seed(g):
    seed = tape_ops.plain(g)
    return float(seed) if np.ndim(seed) == 0 else np.asarray(seed, dtype=np.float64)


def _adjoint_rule(df, watched, count, name, func, wrt):
    """The rule of a jit function's tape entry: its compiled adjoint seeded with `g`.

    Where another tape records this gradient (nested tapes), the gradients become one
    more entry of that tape, whose own rule is compiled forward over reverse
    (`higher.jvp_of_vjp`): a second derivative of the function is compiled too."""
    def rule(g, ans, *args):
        values = [_number(tape_ops.plain(a)) for a in args]
        _, grads = df._run(values + [_seed(g)])
        if len(watched) == 1:
            grads = (grads,)
        result = [None] * count
        for k, grad in zip(watched, grads):
            result[k] = grad
        tapes = _recording(g, args)
        if tapes:
            _record_gradient(tapes, g, args, result, watched, name, func, wrt)
        return result[0] if count == 1 else tuple(result)
    return rule


def _recording(*values):
    """The recording tapes that watch a tensor among `values` (lists flattened), or None."""
    tensors = [v for v in values if isinstance(v, Tensor)]
    for v in values:
        if type(v) in (list, tuple):
            tensors.extend(t for t in v if isinstance(t, Tensor))
    return tape_ops.watching(tensors) if ACTIVE and tensors else None


def _record_gradient(tapes, g, args, result, watched, name, func, wrt):
    """Record the gradients in `result` (at the `watched` arguments) as one entry of `tapes`,
    computed from `g` and `args`; its rule gives, for cotangents `c` of the gradients, the
    Hessian-vector product `H c` for the arguments and `J c` for `g` (`jvp_of_vjp`)."""
    from .higher import jvp_of_vjp        # (higher imports the api this module builds on)
    outs = []
    for k in watched:
        result[k] = new_tensor(np.asarray(result[k]))
        outs.append(result[k])
    inputs = (g,) + tuple(args)
    links = tuple(k + 1 for k in watched) + ((0,) if isinstance(g, Tensor) else ())

    def second(cs, ans, g_, *args_):
        cs = cs if len(watched) > 1 else (cs,)
        values = [_number(tape_ops.plain(a)) for a in args_]
        tangents = [None] * len(values)
        for k, c in zip(watched, cs):
            tangents[k] = _number(np.asarray(tape_ops.plain(c), dtype=np.float64))
        _, _, value_tangent, grads_tangent = jvp_of_vjp(func, values, tangents, wrt=wrt,
                                                         cotangent=_seed(g_))
        out = [value_tangent] + [None] * len(values)
        for k, grad in zip(watched, grads_tangent):
            out[k + 1] = grad
        tapes_ = _recording(cs, g_, args_)
        if tapes_:
            _refuse_higher(tapes_, out, name)
        return tuple(out)

    tape_ops.record(tapes, Entry(f"gradient of jit:{name}", second, tuple(outs), inputs, None,
                                 links, False, multi=len(outs) > 1))


def _refuse_higher(tapes, result, name):
    """Make the second derivatives in `result` tensors that `tapes` record with a rule that
    raises: a third derivative through nested tapes is refused when asked for, not wrong."""
    def refuse(g, ans):
        raise NotImplementedError(
            f"adjit: a third derivative through the adjit.jit function {name} on nested "
            "tapes is not supported; use adjit.grad(adjit.grad(...)) or adjit.hessian")

    for k, value in enumerate(result):
        if value is not None:
            result[k] = new_tensor(np.asarray(value))
            tape_ops.record(tapes, Entry(f"second derivative of jit:{name}", refuse,
                                         (result[k],), (), None, (), True))


def jit(f=None):
    """Compile `f` with Numba; called on tensors inside a tape it is one tape operation
    whose gradient is its compiled adjoint. Use as `@adjit.jit` or `adjit.jit(f)`."""
    if f is None:
        return JitFunction
    return JitFunction(f)
