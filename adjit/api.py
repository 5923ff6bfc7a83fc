"""The user-facing functions: `grad`, `value_and_grad`, `vjp`, `show`.

`grad(f)` reads and transforms `f` at once (so unsupported code is refused
where it is decorated), then compiles the adjoint with Numba on the first
call and reuses it. Calling the result returns the gradient, shaped and
typed like the argument it belongs to.
"""

import copy
import functools
import inspect
import traceback
import warnings

import numpy as np

from .runtime import compile as compiling
from .runtime import custom, helpers, resolve, rules, warm
from .transform import TransformError, pipeline


def _wrt_names(params, wrt, fname):
    single = not isinstance(wrt, (tuple, list))
    names = []
    for item in ([wrt] if single else wrt):
        if isinstance(item, bool) or not isinstance(item, (int, str)):
            raise TypeError(f"wrt must be an argument position or name, not {item!r}")
        if isinstance(item, int):
            if not -len(params) <= item < len(params):
                raise ValueError(f"{fname}() has no argument at position {item} "
                                 f"(it takes {len(params)}: {', '.join(params)})")
            names.append(params[item])
        else:
            if item not in params:
                raise ValueError(f"{fname}() has no argument named {item!r} "
                                 f"(its arguments are {', '.join(params) or 'none'})")
            names.append(item)
    if len(set(names)) != len(names):
        raise ValueError(f"wrt names an argument twice: {wrt!r}")
    return tuple(names), single


def _check_differentiable(name, value):
    if isinstance(value, (bool, np.bool_)) or isinstance(value, (int, np.integer)):
        raise TypeError(f"cannot differentiate with respect to the integer argument {name!r} "
                        f"(got {value!r}); pass a float")
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "biu":
            raise TypeError(f"cannot differentiate with respect to the integer array argument "
                            f"{name!r} (dtype {value.dtype}); pass a float array")
        if value.dtype.kind == "c":
            raise TypeError(f"cannot differentiate with respect to the complex argument {name!r}")
        if value.dtype.kind != "f":
            raise TypeError(f"cannot differentiate with respect to {name!r} of dtype {value.dtype}")
    elif isinstance(value, complex):
        raise TypeError(f"cannot differentiate with respect to the complex argument {name!r}")
    elif not isinstance(value, (float, np.floating)):
        raise TypeError(f"cannot differentiate with respect to {name!r} of type "
                        f"{type(value).__name__}; pass a float or a float array")


def _rank(value):
    """The number of dimensions of an argument, 0 for a number, None for anything else
    (a 0-d array too: arithmetic turns it into a number, which Numba types apart)."""
    if isinstance(value, np.ndarray):
        return value.ndim or None
    if isinstance(value, (bool, int, float, complex, np.number, np.bool_)):
        return 0
    return None


def _like(grad, value):
    """`grad` with the type and shape of `value`."""
    if isinstance(value, np.ndarray):
        grad = np.asarray(grad)
        if grad.dtype != value.dtype or grad.shape != value.shape:
            grad = grad.astype(value.dtype).reshape(value.shape)
        return grad
    if isinstance(value, np.floating):
        return type(value)(grad)
    return float(grad)


class GradFunction:
    """The gradient of a function: call it like the function."""

    def __init__(self, func, wrt=0, preserve_result=False, jit=None):
        if isinstance(func, GradFunction):
            from . import higher        # grad of a grad: forward over reverse
            higher.nested_grad(self, func, wrt, preserve_result, jit)
            return
        functools.update_wrapper(self, func)
        self.__wrapped__ = func
        self.jit = jit
        self.preserve_result = preserve_result
        if isinstance(func, custom.custom_vjp):
            self._init_custom(func, wrt)
            return
        unit = resolve.unit_of(func)
        self._namespace = resolve.namespace_of(func)    # what the unit's resolvers read
        src = self._source = unit.source
        self._params = pipeline.parameters(src)
        self.wrt, self._single = _wrt_names(self._params, wrt, func.__name__)
        self._unit = unit
        self._generated = self._adjoint_module()
        self._python, self._path = compiling.load(self._generated, func.__name__)
        self._compiled = None
        self._signature = inspect.signature(func)
        self._warned = False
        self._variants = {}     # (ranks, value needed) -> the gradient specialised to them

    def _adjoint_module(self, ranks=None, with_value=True):
        """`pipeline.adjoint_module` of this function, from the warm-start cache when
        it holds the module of a transform with everything the same (`runtime.warm`)."""
        fingerprint = compiling.fingerprint()
        found = warm.key(self.__wrapped__, self._namespace, self.wrt, ranks, with_value,
                         fingerprint, helpers.HELPERS)
        if found is not None:
            generated = warm.lookup(found, pipeline.Generated)
            if generated is not None:
                return generated
            before = found.callees()
        generated = pipeline.adjoint_module(self._unit, self.wrt, resolve.op_primitive,
                                            helpers.HELPERS, fingerprint, ranks=ranks,
                                            with_value=with_value)
        if found is not None:
            found.transformed(before)
            warm.store(found, generated)
        return generated

    def _init_custom(self, func, wrt):
        """The gradient of a `custom_vjp` function is its rule, called as Python."""
        rule = rules.custom_rule(func)
        if rule is None:
            raise TypeError(f"{func.__name__} is a custom_vjp function without a rule: "
                            "give it one with @{func.__name__}.defvjp")
        self._params = list(inspect.signature(func.func).parameters)
        self.wrt, self._single = _wrt_names(self._params, wrt, func.__name__)
        self._signature = inspect.signature(func.func)
        self._custom_text = (f"# The gradient of {func.__name__} is its custom rule "
                             f"{rule.__name__}:\n\n{inspect.getsource(rule)}")
        positions = [self._params.index(n) for n in self.wrt]

        def adjoint(*values):
            value = func.func(*values)
            grads = rule(*values, value, helpers.seed_like(value, 1.0))
            grads = (grads,) if len(self._params) == 1 else tuple(grads)
            picked = [helpers.grad_or_zero(grads[k], values[k]) for k in positions]
            return value, picked[0] if len(picked) == 1 else tuple(picked)

        self._python = adjoint
        self._compiled = False
        self._path = self._generated = None
        self.jit = False

    @property
    def source(self):
        """The generated module: forward sweep and adjoint, as Python."""
        if hasattr(self, "_custom_text"):
            return self._custom_text
        return self._generated.text

    def source_for(self, *args, **kwargs):
        """The module the compiled gradient runs for these arguments: `source`
        specialised to their ranks (which are numbers, which arrays of how many
        dimensions), without the value when the gradient does not return it."""
        if hasattr(self, "_custom_text"):
            return self._custom_text
        return self._specialised(self._bind(args, kwargs), self.preserve_result)._generated.text

    def _bind(self, args, kwargs):
        if not kwargs and len(args) == len(self._params):
            return list(args)
        bound = self._signature.bind(*args, **kwargs)
        bound.apply_defaults()
        return [bound.arguments[p] for p in self._params]

    def _run(self, values, need_value=True):
        """`(value, gradients)` for `values` (the parameters' values, then the seed if
        given); without `need_value`, the value may be None."""
        if self.jit is False:
            return self._run_python(values)
        return self._specialised(values, need_value)._run_compiled(values)

    def _specialised(self, values, need_value):
        """The gradient compiled for arguments of these ranks (see `transform.shapes`:
        knowing which arguments are numbers removes most `unbroadcast` calls, and the
        saves they needed), computing the value only if `need_value`."""
        unit = getattr(self, "_unit", None)     # None: a custom rule, a tangent module
        if unit is None:
            return self
        ranks = tuple(_rank(v) for v in values[:len(self._params)])
        if all(r is None for r in ranks):
            return self
        key = (ranks, need_value)
        if key not in self._variants:
            generated = self._adjoint_module(ranks=dict(zip(self._params, ranks)),
                                             with_value=need_value)
            variant = self
            if generated.text != self._generated.text:
                variant = copy.copy(self)
                variant._generated = generated
                variant._python, variant._path = compiling.load(generated, self.__name__)
                variant._compiled = None
                variant._warned = False
            self._variants[key] = variant
        return self._variants[key]

    def _run_compiled(self, values):
        if self._compiled is None:
            self._compiled = compiling.jit(self._python)
        if self._compiled is not False:
            try:
                return self._compiled(*values)
            except compiling.numba_errors() as exc:
                self._numba_failed(exc)
            except (ValueError, TypeError) as exc:
                if self.jit is True:
                    self._runtime_error_at_users_line(values, exc)
                raise
        return self._run_python(values)

    def _run_python(self, values):
        """Run the generated code as Python; an error names the user's line it comes from."""
        try:
            return self._python(*values)
        except helpers.Unsupported as exc:
            lineno = self._failing_line(exc)
            raise TransformError(str(exc), self._generated.filename, lineno,
                                 self._source.line(lineno)) from None
        except Exception as exc:
            lineno = self._failing_line(exc)
            if lineno is not None and hasattr(exc, "add_note"):     # Python 3.11+
                exc.add_note(f"adjit: raised by the code generated for "
                             f"{self._generated.filename}, line {lineno}: "
                             f"{self._source.line(lineno)}")
            raise

    def _failing_line(self, exc):
        """The user's line of the deepest generated statement in `exc`'s traceback."""
        lineno = None
        for frame, generated_line in traceback.walk_tb(exc.__traceback__):
            if frame.f_code.co_filename == self._path:
                lineno = self._generated.line_map.get(generated_line, lineno)
        return lineno

    def _runtime_error_at_users_line(self, values, exc):
        """A compiled run failed (an array where a number is needed, say): find the
        line by running the generated code as Python, and raise TransformError there."""
        try:
            self._python(*values)
        except Exception as again:
            lineno = self._failing_line(again)
            if lineno is not None:
                raise TransformError(f"the compiled gradient failed: {exc}",
                                     self._generated.filename, lineno,
                                     self._source.line(lineno)) from exc

    def _numba_failed(self, exc):
        lineno, reason = compiling.user_line(exc, self._generated, self._path)
        filename = self._generated.filename
        for refusal in helpers.REFUSALS:        # what helpers.Unsupported says, compiled
            if refusal in str(exc):
                raise TransformError(refusal, filename, lineno, self._source.line(lineno)) from None
        if self.jit is True:
            raise TransformError(f"Numba cannot compile this function: {reason}", filename, lineno,
                                 self._source.line(lineno)) from exc
        self._compiled = False
        if not self._warned:
            self._warned = True
            where = f"{filename}, line {lineno}" if lineno else filename
            warnings.warn(f"adjit runs {self.__name__} as Python: Numba cannot compile it "
                          f"({reason}) at {where}", compiling.AdjitWarning, stacklevel=4)

    def __call__(self, *args, **kwargs):
        values = self._bind(args, kwargs)
        by_name = dict(zip(self._params, values))
        for name in self.wrt:
            _check_differentiable(name, by_name[name])
        value, grads = self._run(values, need_value=self.preserve_result)
        if self._single:
            grads = _like(grads, by_name[self.wrt[0]])
        else:
            if len(self.wrt) == 1:      # the adjoint returns one bare gradient for one name
                grads = (grads,)
            grads = tuple(_like(g, by_name[n]) for g, n in zip(grads, self.wrt))
        if self.preserve_result:
            return value, grads
        return grads

    def __repr__(self):
        return f"<adjit.grad of {self.__qualname__} wrt {', '.join(self.wrt)}>"


def grad(f=None, *, wrt=0, preserve_result=False, jit=None):
    """The gradient of `f` with respect to `wrt` (a position, a name, or a tuple of them)."""
    if f is None:
        return lambda func: GradFunction(func, wrt, preserve_result, jit)
    return GradFunction(f, wrt, preserve_result, jit)


def vjp(f, *args, wrt=0, jit=None):
    """`(value, vjp_fn)`: `f(*args)` and the function taking a cotangent (shaped like the
    value) to the gradient(s) w.r.t. `wrt` of `sum(cotangent * f)` at `args`."""
    df = f if isinstance(f, GradFunction) else GradFunction(f, wrt, False, jit)
    values = df._bind(args, {})
    by_name = dict(zip(df._params, values))
    for name in df.wrt:
        _check_differentiable(name, by_name[name])
    value, _ = df._run(values + [0.0])

    def vjp_fn(cotangent):
        _, grads = df._run(values + [cotangent])
        if df._single:
            return _like(grads, by_name[df.wrt[0]])
        if len(df.wrt) == 1:
            grads = (grads,)
        return tuple(_like(g, by_name[n]) for g, n in zip(grads, df.wrt))
    return value, vjp_fn


def value_and_grad(f=None, *, wrt=0, jit=None):
    """Like `grad`, returning `(value, gradient)`."""
    return grad(f, wrt=wrt, preserve_result=True, jit=jit)


def show(df, file=None):
    """Print the generated source of `df` with line numbers."""
    lines = df.source.splitlines()
    width = len(str(len(lines)))
    for number, line in enumerate(lines, 1):
        print(f"{number:>{width}}  {line}", file=file)
