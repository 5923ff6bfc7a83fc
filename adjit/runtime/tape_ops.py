"""Operations on tensors: compute on the ndarrays, record on the tapes that watch an input.

Every operation a `Tensor` takes part in comes here: operators, NumPy ufuncs
and functions (through `__array_ufunc__` / `__array_function__`), indexing,
casts, and calls of functions with a custom gradient. The value is computed
by NumPy on plain arrays. If a recording tape watches (directly or through
earlier recorded operations) one of the inputs and the result is a float
array, the operation is appended to that tape as an `Entry` holding the
gradient rule from the one registry (`rules.rule_of`), the inputs (tensors
at the value they had) and where each of the rule's gradients goes.

Selections (indexing, `np.flip`, `np.take(x, i, axis=...)` and other
functions that only move elements) whose registry rule does not take the
call's arguments are recorded as `np.take` of the flat positions they select,
so the registry's `take` rule serves them all.

A NumPy function with no rule applied to a watched tensor raises
`LookupError`, never silently dropping the gradient; a result that is not a
float array (a comparison, `np.argmax`, a shape) is never recorded.
"""

import inspect

import numpy as np

from . import rules
from .tensor import Tensor, Variable, as_array, new_tensor

ACTIVE = []          # the tapes recording now, outermost first
_RULE_STACK = []     # names of the rules the tape runs on tensors now (for a higher derivative)


class Entry:
    """One recorded operation: `rule(g, ans, *args, **kwargs)` gives the gradient of each
    of the rule's parameters; `links` says which get one: `k` is the tensor `args[k]`
    (gradient `k`), `(k, j)` the tensor `args[k][j]` of a list (element `j` of gradient `k`)."""

    __slots__ = ("name", "rule", "outs", "args", "kwargs", "links", "single", "multi")

    def __init__(self, name, rule, outs, args, kwargs, links, single, multi=False):
        self.name = name
        self.rule = rule
        self.outs = outs          # tuple of output tensors (one unless `multi`)
        self.args = args
        self.kwargs = kwargs
        self.links = links
        self.single = single      # the rule returns one gradient, not a tuple
        self.multi = multi        # the operation returns a tuple of tensors

    def __repr__(self):
        return f"<Entry {self.name}>"


# ---- recording ------------------------------------------------------------------------

def watching(tensors):
    """The recording tapes that watch one of `tensors`, or None."""
    tapes = None
    for tape in ACTIVE:
        watched = tape._watched
        for t in tensors:
            if t._id in watched:
                if tapes is None:
                    tapes = [tape]
                else:
                    tapes.append(tape)
                break
    return tapes


def record(tapes, entry):
    for tape in tapes:
        tape._entries.append(entry)
        watched = tape._watched
        for out in entry.outs:
            watched.add(out._id)


def _floating(value):
    return isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind in "fc"


def _links(bound):
    """`k` for each float tensor among the bound parameters, `(k, j)` for one in a list."""
    links = []
    for k, value in enumerate(bound):
        if isinstance(value, Tensor):
            if value._value.dtype.kind in "fc":
                links.append(k)
        elif isinstance(value, (list, tuple)):
            for j, item in enumerate(value):
                if isinstance(item, Tensor) and item._value.dtype.kind in "fc":
                    links.append((k, j))
    return tuple(links)


# ---- rules --------------------------------------------------------------------------

_PARAMS = {}     # rule -> names of its parameters after (g, ans)
_DEFAULTS = {}   # rule -> their defaults (`_MISSING` for none)
_MISSING = object()


def rule_params(rule):
    params = _PARAMS.get(rule)
    if params is None:
        parameters = list(inspect.signature(rule).parameters.values())[2:]
        params = _PARAMS[rule] = tuple(p.name for p in parameters)
        _DEFAULTS[rule] = tuple(_MISSING if p.default is inspect.Parameter.empty else p.default
                                for p in parameters)
    return params


def _bind(rule, args, kwargs):
    """The arguments of a call in the order of the rule's parameters (defaults where the
    call leaves them out), or None if they do not fit them."""
    params = rule_params(rule)
    if len(args) > len(params):
        return None
    bound = list(args) + list(_DEFAULTS[rule][len(args):])
    for name, value in kwargs.items():
        if name not in params:
            return None
        k = params.index(name)
        if k < len(args):
            return None
        bound[k] = value
    if any(value is _MISSING for value in bound):
        return None
    return bound


_OPERATOR_KEYS = {np.floor_divide: "floordiv"}


def _rule_of(func, args, kwargs):
    """`(rule, options)` for a call of `func`, preferring the rule for calls passing axes."""
    key = _OPERATOR_KEYS.get(func, func)
    if len(args) > 1 or kwargs:
        found = rules.rule_of(key, axes=True)
        if found is not None:
            return found
    return rules.rule_of(key)


def _name_of(func):
    if isinstance(func, str):
        return func
    module = getattr(func, "__module__", None) or ""
    name = getattr(func, "__name__", repr(func))
    if isinstance(func, np.ufunc) or module.startswith("numpy"):
        if module.startswith("numpy.linalg"):
            return f"np.linalg.{name}"
        return f"np.{name}"
    return name


# ---- values -----------------------------------------------------------------------------

def _read(obj, found):
    """`obj` with Variables read (as Tensors), collecting the tensors into `found`."""
    if isinstance(obj, Tensor):
        found.append(obj)
        return obj
    if isinstance(obj, Variable):
        t = obj._read()
        found.append(t)
        return t
    if isinstance(obj, (list, tuple)) and obj and type(obj) in (list, tuple):
        items = [_read(item, found) for item in obj]
        return type(obj)(items)
    return obj


def plain(obj):
    """`obj` with each Tensor replaced by its ndarray (inside lists and tuples too)."""
    if isinstance(obj, Tensor):
        return obj._value
    if isinstance(obj, (list, tuple)) and type(obj) in (list, tuple):
        return type(obj)(plain(item) for item in obj)
    if type(obj) is dict:
        return {key: plain(value) for key, value in obj.items()}
    return obj


def _operand(x):
    """An operand of an operator: a Tensor (Variables read), or its plain value."""
    if isinstance(x, Variable):
        return x._read()
    return x


def wrap(result):
    """A function's result as tensors: arrays and NumPy scalars become Tensors, tuples of
    them tuples of Tensors; anything else (ints, shapes, bools) is returned as is."""
    if type(result) is np.ndarray:
        return new_tensor(result)
    if isinstance(result, np.generic):
        return new_tensor(np.asarray(result))
    if isinstance(result, tuple) and any(isinstance(r, (np.ndarray, np.generic)) for r in result):
        items = [wrap(r) for r in result]
        return type(result)(*items) if hasattr(result, "_fields") else tuple(items)
    if isinstance(result, list) and result and all(isinstance(r, np.ndarray) for r in result):
        return [wrap(r) for r in result]
    return result


def shape_tuple(shape):
    """A shape given as an int, a list, a tuple, or a tensor, as a tuple of ints."""
    if isinstance(shape, (Tensor, Variable)):
        shape = shape._value.tolist()
    elif isinstance(shape, np.ndarray):
        shape = shape.tolist()
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(s) for s in shape)


def check_leaving(t, what):
    """Refuse to turn a watched tensor into a plain value inside a rule the tape runs on
    tensors: the higher derivative would silently lose that dependence."""
    if _RULE_STACK and any(t._id in tape._watched for tape in ACTIVE):
        raise TypeError(
            f"adjit: the gradient rule of {_RULE_STACK[-1]} converts a tensor to a plain value "
            f"({what}) when run on tensors, so a higher derivative through it cannot be "
            "recorded: nested tapes do not support this operation")


# ---- operators ----------------------------------------------------------------------------

_OPERATOR_RULES = {}


def _operator_rule(key):
    found = _OPERATOR_RULES.get(key)
    if found is None:
        rule, options = rules.rule_of(key)
        found = _OPERATOR_RULES[key] = (rule, options["differentiable"],
                                        len(rule_params(rule)) == 1)
    return found


def binary(key, func, a, b):
    """`func(a, b)` for the operator named `key` ("add", "mul", ...)."""
    ta, tb = type(a), type(b)
    if ta is Variable:
        a, ta = a._read(), Tensor
    if tb is Variable:
        b, tb = b._read(), Tensor
    try:
        result = func(a._value if ta is Tensor else (plain(a) if ta in _SEQUENCES else a),
                      b._value if tb is Tensor else (plain(b) if tb in _SEQUENCES else b))
    except TypeError:
        return NotImplemented
    if type(result) is not np.ndarray:
        result = np.asarray(result)
    out = new_tensor(result)
    if ACTIVE and result.dtype.kind in "fc":
        inputs = (a, b) if ta is Tensor and tb is Tensor else (a,) if ta is Tensor else (b,)
        tapes = watching(inputs)
        if tapes:
            rule, differentiable, single = _operator_rule(key)
            if differentiable:
                fa = ta is Tensor and a._value.dtype.kind in "fc"
                fb = tb is Tensor and b._value.dtype.kind in "fc"
                links = _BOTH if fa and fb else _FIRST if fa else _SECOND if fb else ()
                record(tapes, Entry(key, rule, (out,), (a, b), None, links, single))
    return out


_SEQUENCES = (list, tuple)
_BOTH, _FIRST, _SECOND = (0, 1), (0,), (1,)


def unary(key, func, a):
    a = _operand(a)
    result = np.asarray(func(a._value))
    out = new_tensor(result)
    if ACTIVE and result.dtype.kind in "fc":
        tapes = watching([a])
        if tapes:
            rule, differentiable, single = _operator_rule(key)
            if differentiable:
                record(tapes, Entry(key, rule, (out,), (a,), None, _links((a,)), single))
    return out


def compare(func, a, b):
    """A comparison: a bool Tensor, never recorded."""
    a, b = _operand(a), _operand(b)
    if b is None or isinstance(b, str):
        return NotImplemented
    try:
        return new_tensor(np.asarray(func(plain(a), plain(b))))
    except (TypeError, ValueError):
        return NotImplemented


def matmul(a, b):
    """`a @ b`: the registry's rule for 1-D and 2-D operands; a stack of matrices
    (3-D and more) is computed as a broadcast product summed over the shared axis."""
    a, b = _operand(a), _operand(b)
    av, bv = plain(a), plain(b)
    if np.ndim(av) <= 2 and np.ndim(bv) <= 2:
        return binary("matmul", np.matmul, a, b)
    a = a if isinstance(a, Tensor) else new_tensor(np.asarray(av))
    b = b if isinstance(b, Tensor) else new_tensor(np.asarray(bv))
    np.matmul(av, bv)                         # NumPy's own shape errors
    left = a if a.ndim > 1 else np.reshape(a, (1,) + a.shape)
    right = b if b.ndim > 1 else np.reshape(b, b.shape + (1,))
    product = np.sum(np.expand_dims(left, -1) * np.expand_dims(right, -3), axis=-2)
    if a.ndim == 1:
        product = np.squeeze(product, -2)
    if b.ndim == 1:
        product = np.squeeze(product, -1)
    return product


def cast(t, dtype):
    """`t` as `dtype`: recorded between float types (the gradient is cast back)."""
    t = _operand(t)
    if dtype == t._value.dtype:
        return t
    result = t._value.astype(dtype)
    out = new_tensor(result)
    if ACTIVE and result.dtype.kind in "fc" and t._value.dtype.kind in "fc":
        tapes = watching([t])
        if tapes:
            rule, _, single = _operator_rule("pos")
            record(tapes, Entry("cast", rule, (out,), (t,), None, _links((t,)), single))
    return out


def identity(t):
    """A new tensor with the value of `t`, recorded (its gradient passes through)."""
    t = _operand(t)
    out = new_tensor(t._value)
    if ACTIVE:
        tapes = watching([t])
        if tapes and t._value.dtype.kind in "fc":
            rule, _, single = _operator_rule("pos")
            record(tapes, Entry("identity", rule, (out,), (t,), None, _links((t,)), single))
    return out


# ---- selections --------------------------------------------------------------------------

_POSITIONS = {}


def positions(shape):
    """`np.arange(size).reshape(shape)`: each element's flat position (cached, read-only)."""
    found = _POSITIONS.get(shape)
    if found is None:
        if len(_POSITIONS) > 64:
            _POSITIONS.clear()
        found = np.arange(int(np.prod(shape, dtype=np.int64))).reshape(shape)
        found.flags.writeable = False
        _POSITIONS[shape] = found
    return found


def _take(x, where, name, tapes):
    """`np.take(x, where)` (flat positions), recorded with the registry's `take` rule."""
    where = np.asarray(where)
    out = new_tensor(np.take(x._value, where))
    rule, options = rules.rule_of(np.take)
    record(tapes, Entry(name, rule, (out,), (x, where), None, _links((x,)), False))
    return out


def _index(index):
    """An index with tensors replaced by their values."""
    if isinstance(index, tuple):
        return tuple(_index(i) for i in index)
    if isinstance(index, Variable):
        return index._value
    if isinstance(index, Tensor):
        return index._value
    if isinstance(index, list) and any(isinstance(i, (Tensor, Variable)) for i in index):
        return [_index(i) for i in index]
    return index


def getitem(x, index):
    """`x[index]`: recorded as the `take` of the positions it selects."""
    x = _operand(x)
    index = _index(index)
    tapes = watching([x]) if ACTIVE and x._value.dtype.kind in "fc" else None
    if not tapes:
        return wrap(x._value[index])
    return _take(x, positions(x._value.shape)[index], "getitem", tapes)


# Functions that only select or move elements: `f(x, ...)` is `np.take(x, f(positions))`.
_MOVES = {np.flip, np.fliplr, np.flipud, np.roll, np.rot90, np.transpose, np.swapaxes,
          np.moveaxis, np.rollaxis, np.squeeze, np.expand_dims, np.reshape, np.ravel,
          np.broadcast_to, np.tile, np.repeat, np.take, np.take_along_axis, np.diagonal,
          np.atleast_1d, np.atleast_2d, np.atleast_3d, np.copy, np.ascontiguousarray,
          np.asfortranarray, np.resize, np.compress, np.extract, np.trim_zeros}

# Functions whose float result has no gradient (TensorFlow gives None for them too).
_NO_GRADIENT = {np.round, np.around, np.fix, np.heaviside, np.nextafter, np.spacing,
                np.zeros_like, np.ones_like, np.empty_like, np.histogram, np.histogram_bin_edges}


def _move(func, x, args, kwargs, tapes):
    """`func(x, *args, **kwargs)` for a function in `_MOVES`, as a `take` of positions."""
    where = func(positions(x._value.shape), *plain(args), **plain(kwargs))
    if not isinstance(where, np.ndarray) or where.dtype.kind not in "iu":
        return None
    return _take(x, where, _name_of(func), tapes)


# ---- NumPy dispatch -----------------------------------------------------------------------

_REDUCTIONS = {np.add: np.sum, np.multiply: np.prod, np.maximum: np.max, np.minimum: np.min,
               np.fmax: np.max, np.fmin: np.min}
_ACCUMULATIONS = {np.add: np.cumsum, np.multiply: np.cumprod}
_UFUNC_ONLY = ("dtype", "casting", "order", "subok", "signature")


def call_ufunc(ufunc, method, inputs, kwargs):
    """`__array_ufunc__`: a ufunc called on tensors (`np.sin(t)`, `ndarray + t`)."""
    if kwargs.get("out") is not None:
        raise TypeError(f"{_name_of(ufunc)}: tensors are immutable, `out=` cannot be a tensor")
    kwargs.pop("out", None)
    if method == "reduce":
        axis = kwargs.pop("axis", 0)
        func = _REDUCTIONS.get(ufunc)
        if func is not None and set(kwargs) <= {"keepdims", "dtype"}:
            return call_function(func, inputs, dict(kwargs, axis=axis))
    elif method == "accumulate":
        axis = kwargs.pop("axis", 0)
        func = _ACCUMULATIONS.get(ufunc)
        if func is not None and set(kwargs) <= {"dtype"}:
            return call_function(func, inputs, dict(kwargs, axis=axis))
    elif method == "__call__":
        return call_function(ufunc, inputs, kwargs, rule_kwargs={
            k: v for k, v in kwargs.items() if k not in _UFUNC_ONLY})
    found = []
    inputs = _read(inputs, found)
    tapes = watching(found) if ACTIVE else None
    if tapes:
        raise LookupError(f"adjit has no gradient for {_name_of(ufunc)}.{method} on a watched "
                          "tensor")
    return wrap(getattr(ufunc, method)(*plain(inputs), **plain(kwargs)))


def call_function(func, args, kwargs, rule_kwargs=None):
    """`__array_function__`: a NumPy function called with tensors among its arguments."""
    found = []
    args = _read(tuple(args), found)
    kwargs = {k: _read(v, found) for k, v in kwargs.items()}
    if kwargs.get("out") is not None:
        raise TypeError(f"{_name_of(func)}: tensors are immutable, `out=` is not supported")
    tapes = watching(found) if ACTIVE and found else None
    if not tapes:
        return wrap(func(*plain(args), **plain(kwargs)))
    if func is np.matmul and len(args) == 2 and not kwargs:
        return matmul(*args)
    if func is np.dot and len(args) == 2 and not kwargs:
        if np.ndim(plain(args[0])) == 0 or np.ndim(plain(args[1])) == 0:
            return binary("mul", np.multiply, *args)
        if np.ndim(plain(args[1])) <= 2:
            return matmul(*args)            # the same as np.matmul then
        raise LookupError("adjit differentiates np.dot with a second operand of at most 2 "
                          "dimensions; use np.matmul (or @) for stacks of matrices")
    rule_kwargs = kwargs if rule_kwargs is None else rule_kwargs
    found_rule = _rule_of(func, args, rule_kwargs)
    bound = None
    if found_rule is not None:
        rule, options = found_rule
        bound = _bind(rule, args, rule_kwargs)
    if bound is None:
        if func in _MOVES and args and isinstance(args[0], Tensor) and len(found) == 1:
            out = _move(func, args[0], args[1:], kwargs, tapes)
            if out is not None:
                return out
        result = func(*plain(args), **plain(kwargs))
        if func in _NO_GRADIENT or not _has_float(result):
            return wrap(result)
        if found_rule is None:
            raise LookupError(f"adjit has no gradient rule for {_name_of(func)}, so it cannot "
                              "be applied to a watched tensor (its gradient would be lost)")
        raise TypeError(f"adjit's gradient rule for {_name_of(func)} does not take these "
                        f"arguments: {', '.join(rule_params(rule))} only")
    result = func(*plain(args), **plain(kwargs))
    if not options["differentiable"] or not _has_float(result):
        return wrap(result)
    results = options.get("results", 1)
    out = wrap(result)
    outs = tuple(out) if results > 1 else (out,)
    record(tapes, Entry(_name_of(func), rule, outs, tuple(bound), None, _links(bound),
                        len(bound) == 1, multi=results > 1))
    return out


def _has_float(result):
    if isinstance(result, tuple):
        return any(_floating(r) for r in result)
    return _floating(result)


# ---- custom gradients ------------------------------------------------------------------------

_CUSTOM_ADAPTERS = {}


def call_custom(function, args, kwargs):
    """A call of a `custom_vjp` function with tensors: its value computed on the plain
    values, recorded with the user's rule `rule(*args, result, g)`."""
    user_rule = rules.custom_rule(function)
    if user_rule is None:
        return function.func(*args, **kwargs)
    signature = inspect.signature(function.func)
    bound = signature.bind(*args, **kwargs)
    bound.apply_defaults()
    found = []
    values = [_read(v, found) for v in bound.arguments.values()]
    result = function.func(*plain(values))
    out = wrap(result)
    tapes = watching(found) if ACTIVE and found else None
    if tapes and _has_float(result):
        adapter = _CUSTOM_ADAPTERS.get(user_rule)
        if adapter is None:
            def adapter(g, ans, *params):
                return user_rule(*params, ans, g)
            _CUSTOM_ADAPTERS[user_rule] = adapter
        record(tapes, Entry(getattr(function, "__name__", "custom"), adapter, (out,),
                            tuple(values), None, _links(values), len(values) == 1))
    return out


def as_tensor(value):
    """`value` as a Tensor (Variables read)."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, Variable):
        return value._read()
    return new_tensor(as_array(value))
