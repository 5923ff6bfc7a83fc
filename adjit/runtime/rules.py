"""The gradient rules: one registry serving the compiler and the tape.

Each rule is a short function `rule(g, ans, *params)` returning the gradient
of the primitive with respect to each parameter, given the incoming gradient
`g` and the primitive's result `ans`; `None` marks a parameter that is not
differentiable. The tape calls rules directly; the compiler inlines their
`return` expression into the generated adjoint (see `transform.templates`).
Rules are written once, for scalars and arrays alike, using only NumPy and
the helpers of `runtime.helpers`, so they run both in Python and in Numba.

`defrule(*keys)` registers a rule under each key: a function object
(`np.sin`, `math.sin`) with the spelling generated code uses for it, or an
operator name (`"add"`, `"neg"`).
"""

import builtins
import inspect
import math

import gast
import numpy as np

from ..transform.templates import Primitive, primitive_from_rule, remember_source
from .array_helpers import (centered, clip_above, clip_below, clip_inside,  # noqa: F401
                            cumprod_grad, cumsum_grad, extremum_share, one_if_zero,
                            prod_others, reduced_size, reshape_to, sum_axis, unreduce)
from .helpers import (broadcast_like, dot_grad_left, dot_grad_right, extremum_grad,  # noqa: F401
                      log_or_zero, size_of, tangent_like, unbroadcast)
from .helpers import cumprod_tangent, prod_others_tangent  # noqa: F401

_RULES = {}        # key -> (rule function, spelling, options)
_PRIMITIVES = {}   # key -> Primitive, built on first use


def defrule(*keys, broadcast=False, differentiable=True, shape="elementwise", axes=False,
            compiled=True, results=1):
    """Register the decorated rule for each key.

    A key is an operator name, or a `(function, spelling)` pair where
    spelling is how generated code calls the function ("np.sin"), or a
    `(function, spelling, shown)` triple when the user writes it otherwise
    (`x.reshape(...)` is called as the helper `reshape_to(x, ...)`). `shape`
    says what shape the result has: "elementwise" (the broadcast shape of
    the arguments), "scalar", or "unknown".

    `axes=True` registers the rule for calls that pass more than the array
    (`np.sum(x, axis=0)`, `x.max(keepdims=True)`); the function's other rule
    serves `np.sum(x)`, so that call reads as written in generated code. The
    result's shape is then "unknown". `compiled` is what the README's table
    says about Numba: True (compiled), False (runs as Python), or a note.

    A function returning a tuple (`np.linalg.slogdet`) says how many values
    (`results=2`); its rule gets `g` and `ans` as tuples. A parameter taking a
    tuple of arrays (`np.concatenate((a, b))`) has the gradient
    `tuple(<piece k> for k in range(len(arrays)))` (see `templates.PerElement`).
    """
    def register(rule):
        remember_source(rule)
        for key in keys:
            if isinstance(key, str):
                obj, spelling, shown = key, "", ""
            else:
                obj, spelling, shown = key if len(key) == 3 else (*key, key[1])
            options = dict(broadcast=broadcast, differentiable=differentiable,
                           shape="unknown" if axes else shape, results=results)
            _RULES[_key(obj, axes)] = (rule, spelling, shown, obj, options)
            _TABLE[_key(obj, axes)] = dict(axes=axes, compiled=compiled)
        return rule
    return register


_TABLE = {}        # key -> how the README's table shows the rule


def _key(obj, axes=False):
    key = obj if isinstance(obj, str) else ("object", id(obj))
    return ("axes", key) if axes else key


_CUSTOM = {}       # key -> Primitive of a function with a rule of the user's (`custom`)


def register_custom(obj, forward, rule):
    """Register the user's `rule(*args, result, g)` as the gradient of calls to `obj`,
    computed by `forward` (a Python function or a Numba dispatcher)."""
    function = getattr(forward, "py_func", forward)
    params = tuple(inspect.signature(function).parameters)
    fname, rname = function.__name__, rule.__name__
    if rname == fname:
        rname = fname + "_vjp"
    call = gast.Call(func=gast.Name(id=rname, ctx=gast.Load(), annotation=None, type_comment=None),
                     args=[gast.Name(id=p, ctx=gast.Load(), annotation=None, type_comment=None)
                           for p in params + ("ans", "g")], keywords=[])
    grads = (call,) if len(params) == 1 else tuple(
        gast.Subscript(value=call, slice=gast.Constant(value=k, kind=None), ctx=gast.Load())
        for k in range(len(params)))
    # A rule may return None for an argument it does not differentiate.
    grads = tuple(gast.Call(func=_name("grad_or_zero"), args=[grad, _name(p)], keywords=[])
                  for grad, p in zip(grads, params))
    externals = ((fname, _jitable(forward)), (rname, _jitable(rule)))
    _CUSTOM[_key(obj)] = (rule, Primitive(
        name=fname, spelling=fname, params=params, defaults=(), grads=grads, broadcast=False,
        shape="unknown", externals=externals))


def _name(text):
    return gast.Name(id=text, ctx=gast.Load(), annotation=None, type_comment=None)


def custom_rule(obj):
    """The user's rule registered for `obj` (the tape calls it), or None."""
    entry = _CUSTOM.get(_key(obj))
    return entry[0] if entry else None


def rule_of(obj, axes=False):
    """`(rule, options)` registered for an operator name or function object, or None.

    `axes=True` asks for the rule of calls passing more than the array (see
    `defrule`); options holds `broadcast` (unbroadcast each gradient to its
    parameter's shape) and `differentiable`. This is how the tape finds the
    same rules the compiler inlines."""
    entry = _RULES.get(_key(obj, axes))
    return (entry[0], entry[4]) if entry else None


def _jitable(function):
    """`function`, callable from Numba-compiled code too."""
    if hasattr(function, "py_func"):        # already a Numba dispatcher
        return function
    from numba.extending import register_jitable
    return register_jitable(function)


def lookup(obj, call=None):
    """The Primitive for an operator name or function object, or None.

    Given the `call` (a gast.Call whose first argument is the array, for a
    method too), a call passing more than that argument gets the function's
    `axes=True` rule if it has one."""
    if obj is np.array and call is not None and len(call.args) == 1 and not call.keywords \
            and not isinstance(call.args[0], (gast.Tuple, gast.List)):
        obj = np.copy       # `np.array(x)` of an array copies it
    key = _key(obj)
    if key in _CUSTOM:
        return _CUSTOM[key][1]
    if call is not None and (len(call.args) > 1 or call.keywords) and _key(obj, True) in _RULES:
        key = _key(obj, True)
    if key not in _PRIMITIVES:
        if key not in _RULES:
            return None
        rule, spelling, shown, target, options = _RULES[key]
        name = shown.rsplit(".", 1)[-1] if shown else rule.__name__.rstrip("_")
        _PRIMITIVES[key] = primitive_from_rule(rule, name, spelling, **options)
    return _PRIMITIVES[key]


# ---- forward mode: tangent rules (JVPs) beside the gradient rules -------------

_JVPS = {}         # gradient rule function -> (jvp function or None, linear, mutates)
_HELPER_JVPS = {}  # spelling -> (function, jvp function or None, linear, mutates)
_TANGENTS = {}     # key or spelling -> TangentRule, built on first use


def defjvp(*targets, linear=None, mutates=()):
    """Register the forward-mode rule (JVP) of each target.

    A target is a gradient rule (the JVP then serves every key it is registered
    under), or a `(function, spelling)` pair: a helper generated code calls, or a
    NumPy function that only rules call. Either decorate `jvp(g, ans, *params)`
    returning, per parameter, the tangent of the result when that parameter's
    tangent is `g` (None where none flows; `this(x=g)` is the same call with `g` for
    `x`): a call's tangent is the sum over the parameters that vary. Or call
    `defjvp(target, linear=params)`: the function is jointly linear in `params` (none:
    not differentiable), so its tangent is the same call on their tangents
    (`mutates`: those it changes in place, mirrored on the tangents). A rule of
    shape "elementwise" needs no JVP: its gradient, with the tangent for `g`, is one.
    """
    def register(jvp):
        if jvp is not None:
            remember_source(jvp)
        for target in targets:
            if isinstance(target, tuple):
                function, spelling = target
                _HELPER_JVPS[spelling] = (function, jvp, linear, tuple(mutates))
            else:
                if jvp is not None:
                    expected = list(inspect.signature(target).parameters)[2:]
                    got = list(inspect.signature(jvp).parameters)[2:]
                    if got != expected:
                        raise ValueError(f"{jvp.__name__} must take the parameters of "
                                         f"{target.__name__}: (g, ans, {', '.join(expected)})")
                _JVPS[target] = (jvp, linear, tuple(mutates))
        _TANGENTS.clear()
        return jvp
    if linear is not None:
        register(None)
        return None
    return register


def this(*args, **kwargs):
    """In a JVP template, `this(x=g)` is the call being differentiated with `g` in place
    of its argument `x`. It has no meaning outside a template."""
    raise TypeError("`this` is only meaningful inside a JVP template")


def tangent_rule(call, spelling):
    """The `TangentRule` of a call in generated code (spelled `spelling`), or None."""
    prim = getattr(call, "adjit_primitive", None)
    if prim is not None:
        if prim.externals or prim.callee is not None:
            return None     # a custom gradient's function, or a user function: no rule
        for key, known in _PRIMITIVES.items():
            if known is prim:
                return _tangent_of_key(key)
    for key in _keys_spelled(spelling):
        prim = _primitive_of_key(key)
        names = set(prim.params[:len(call.args)]) | {k.arg for k in call.keywords}
        if len(call.args) <= len(prim.params) and names <= set(prim.params):
            return _tangent_of_key(key)
    if spelling in _HELPER_JVPS:
        return _tangent_of_helper(spelling)
    return None


def tangent_rule_of_op(name):
    """The `TangentRule` of an operator ("add", "neg")."""
    return _tangent_of_key(name)


def _keys_spelled(spelling):
    return [key for key, entry in _RULES.items() if entry[1] == spelling]


def _primitive_of_key(key):
    if key not in _PRIMITIVES:
        rule, spelling, shown, target, options = _RULES[key]
        name = shown.rsplit(".", 1)[-1] if shown else rule.__name__.rstrip("_")
        _PRIMITIVES[key] = primitive_from_rule(rule, name, spelling, **options)
    return _PRIMITIVES[key]


def _tangent_of_key(key):
    from ..transform.forward import TangentRule
    if key in _TANGENTS:
        return _TANGENTS[key]
    if key not in _RULES:
        return None
    prim = _primitive_of_key(key)
    rule = _RULES[key][0]
    jvp, linear, mutates = _JVPS.get(rule, (None, None, ()))
    common = dict(name=prim.name, params=prim.params, defaults=prim.defaults)
    if not prim.differentiable:
        tangent = TangentRule(linear=(), **common)
    elif linear is not None:
        tangent = TangentRule(linear=tuple(linear), mutates=mutates, **common)
    elif jvp is not None:
        terms = primitive_from_rule(jvp, prim.name, prim.spelling).grads
        tangent = TangentRule(terms=terms, **common)
    elif prim.shape == "elementwise":
        tangent = TangentRule(terms=prim.grads, broadcast=prim.broadcast, **common)
    else:
        tangent = None
    _TANGENTS[key] = tangent
    return tangent


def _tangent_of_helper(spelling):
    from ..transform.forward import TangentRule
    if spelling in _TANGENTS:
        return _TANGENTS[spelling]
    function, jvp, linear, mutates = _HELPER_JVPS[spelling]
    name = spelling.rsplit(".", 1)[-1]
    if jvp is not None:
        prim = primitive_from_rule(jvp, name, spelling)
        tangent = TangentRule(name=name, params=prim.params, defaults=prim.defaults,
                              terms=prim.grads)
    else:
        try:
            signature = inspect.signature(function)
            params = tuple(p for p, v in signature.parameters.items()
                           if v.kind in (v.POSITIONAL_ONLY, v.POSITIONAL_OR_KEYWORD))
            defaults = tuple((p, signature.parameters[p].default) for p in params
                             if signature.parameters[p].default is not inspect.Parameter.empty)
        except (TypeError, ValueError):      # a builtin without a signature: any arguments
            params, defaults = tuple(f"arg{k}" for k in range(8)), ()
            defaults = tuple((p, None) for p in params)
        tangent = TangentRule(name=name, params=params, defaults=defaults, linear=tuple(linear),
                              mutates=mutates)
    _TANGENTS[spelling] = tangent
    return tangent


_OPERATOR_TEXT = {"add": "`a + b`", "sub": "`a - b`", "mul": "`a * b`", "div": "`a / b`",
                  "pow": "`a ** b`", "mod": "`a % b`", "floordiv": "`a // b`",
                  "matmul": "`a @ b`", "neg": "`-a`", "pos": "`+a`", "not": "`not a`"}


def markdown_table():
    """The README's table of differentiable operations, one row per rule.

    A rule for calls with axes shows the arguments it takes; the last column
    says whether Numba compiles the operation (and through which helper,
    where Numba lacks the function or one of its arguments)."""
    rows = {}
    for key, (rule, spelling, shown, target, options) in _RULES.items():
        table = _TABLE[key]
        text = f"`{shown}`" if shown else _OPERATOR_TEXT[target]
        if table["axes"]:
            params = inspect.signature(rule).parameters
            extra = [p for p in list(params)[3:] if p not in ("dtype", "out")]
            text = f"`{shown}(x, {', '.join(p + '=' for p in extra)})`"
        row = rows.setdefault(rule, {"names": [], "options": options, "table": table,
                                     "helpers": []})
        row["names"].append(text)
        if spelling and spelling != shown and "." not in spelling \
                and spelling not in row["helpers"]:
            row["helpers"].append(spelling)
    lines = ["| operation | gradient | compiled by Numba |", "|---|---|---|"]
    for row in rows.values():
        gradient = "yes" if row["options"]["differentiable"] else "zero (not differentiable)"
        compiled = row["table"]["compiled"]
        if compiled is True:
            compiled = "yes"
            if row["helpers"]:
                compiled += " (as " + ", ".join(f"`{h}`" for h in row["helpers"]) + ")"
        elif compiled is False:
            compiled = "no (runs as Python)"
        lines.append(f"| {', '.join(row['names'])} | {gradient} | {compiled} |")
    return "\n".join(lines)


# ---- operators ---------------------------------------------------------

@defrule("add", (np.add, "np.add"), broadcast=True)
def add(g, ans, x, y):
    return g, g


@defrule("sub", (np.subtract, "np.subtract"), broadcast=True)
def sub(g, ans, x, y):
    return g, -g


@defrule("mul", (np.multiply, "np.multiply"), broadcast=True)
def mul(g, ans, x, y):
    return g * y, g * x


@defrule("div", (np.divide, "np.divide"), broadcast=True)
def div(g, ans, x, y):
    return g / y, -g * x / (y * y)


@defrule("pow", (np.power, "np.power"), (math.pow, "math.pow"), broadcast=True)
def pow_(g, ans, x, y):
    return g * y * x ** (y - 1), g * ans * log_or_zero(x)


@defrule("mod", (np.mod, "np.mod"), broadcast=True)
def mod(g, ans, x, y):
    return g, -g * np.floor(x / y)


@defrule((np.fmod, "np.fmod"), broadcast=True)
def fmod(g, ans, x, y):
    return g, -g * np.trunc(x / y)


@defrule((np.float_power, "np.float_power"), broadcast=True)
def float_power(g, ans, x, y):
    return g * y * np.float_power(x, y - 1), g * ans * log_or_zero(x)


@defrule("floordiv", broadcast=True, differentiable=False)
def floordiv(g, ans, x, y):
    return None, None


@defrule("matmul", (np.dot, "np.dot"), (np.matmul, "np.matmul"), shape="unknown")
def matmul(g, ans, x, y):
    return dot_grad_left(g, x, y), dot_grad_right(g, x, y)


@defjvp(matmul)
def matmul_jvp(g, ans, x, y):
    return this(x=g), this(y=g)


@defrule("neg", (np.negative, "np.negative"))
def neg(g, ans, x):
    return -g


@defrule("pos", (np.positive, "np.positive"), (np.copy, "np.copy"))
def pos(g, ans, x):
    return g


@defrule((float, "float"), shape="scalar")
def float_(g, ans, x):
    return g


defjvp(float_, linear=("x",))


@defrule("not", (np.sign, "np.sign"), (np.floor, "np.floor"), (np.ceil, "np.ceil"),
         (np.trunc, "np.trunc"), (np.rint, "np.rint"), differentiable=False)
def not_(g, ans, x):
    return None


@defrule((int, "int"), (len, "len"), (math.floor, "math.floor"), (math.ceil, "math.ceil"),
         (np.argmax, "np.argmax"), (np.argmin, "np.argmin"), (np.size, "np.size"),
         (np.ndim, "np.ndim"), (np.shape, "np.shape"), differentiable=False, shape="scalar")
def to_int(g, ans, x):
    return None


# ---- elementwise functions -----------------------------------------------

@defrule((np.sin, "np.sin"), (math.sin, "math.sin"))
def sin(g, ans, x):
    return g * np.cos(x)


@defrule((np.cos, "np.cos"), (math.cos, "math.cos"))
def cos(g, ans, x):
    return -g * np.sin(x)


@defrule((np.tan, "np.tan"), (math.tan, "math.tan"))
def tan(g, ans, x):
    return g * (1.0 + ans * ans)


@defrule((np.exp, "np.exp"), (math.exp, "math.exp"))
def exp(g, ans, x):
    return g * ans


@defrule((np.log, "np.log"), (math.log, "math.log"))
def log(g, ans, x):
    return g / x


@defrule((np.log1p, "np.log1p"), (math.log1p, "math.log1p"))
def log1p(g, ans, x):
    return g / (1.0 + x)


@defrule((np.expm1, "np.expm1"), (math.expm1, "math.expm1"))
def expm1(g, ans, x):
    return g * (ans + 1.0)


@defrule((np.sqrt, "np.sqrt"), (math.sqrt, "math.sqrt"))
def sqrt(g, ans, x):
    return g / (2.0 * ans)


@defrule((np.tanh, "np.tanh"), (math.tanh, "math.tanh"))
def tanh(g, ans, x):
    return g * (1.0 - ans * ans)


@defrule((np.arctan, "np.arctan"), (math.atan, "math.atan"))
def arctan(g, ans, x):
    return g / (1.0 + x * x)


@defrule((np.arcsin, "np.arcsin"), (math.asin, "math.asin"))
def arcsin(g, ans, x):
    return g / np.sqrt(1.0 - x * x)


@defrule((np.arccos, "np.arccos"), (math.acos, "math.acos"))
def arccos(g, ans, x):
    return -g / np.sqrt(1.0 - x * x)


@defrule((np.sinh, "np.sinh"), (math.sinh, "math.sinh"))
def sinh(g, ans, x):
    return g * np.cosh(x)


@defrule((np.cosh, "np.cosh"), (math.cosh, "math.cosh"))
def cosh(g, ans, x):
    return g * np.sinh(x)


@defrule((np.exp2, "np.exp2"))
def exp2(g, ans, x):
    return g * ans * np.log(2.0)


@defrule((np.log2, "np.log2"), (math.log2, "math.log2"))
def log2(g, ans, x):
    return g / (x * np.log(2.0))


@defrule((np.log10, "np.log10"), (math.log10, "math.log10"))
def log10(g, ans, x):
    return g / (x * np.log(10.0))


@defrule((np.cbrt, "np.cbrt"))
def cbrt(g, ans, x):
    return g / (3.0 * ans * ans)


@defrule((np.square, "np.square"))
def square(g, ans, x):
    return g * 2.0 * x


@defrule((np.reciprocal, "np.reciprocal"))
def reciprocal(g, ans, x):
    return -g * ans * ans


@defrule((np.arcsinh, "np.arcsinh"), (math.asinh, "math.asinh"))
def arcsinh(g, ans, x):
    return g / np.sqrt(x * x + 1.0)


@defrule((np.arccosh, "np.arccosh"), (math.acosh, "math.acosh"))
def arccosh(g, ans, x):
    return g / np.sqrt(x * x - 1.0)


@defrule((np.arctanh, "np.arctanh"), (math.atanh, "math.atanh"))
def arctanh(g, ans, x):
    return g / (1.0 - x * x)


@defrule((np.deg2rad, "np.deg2rad"), (np.radians, "np.radians"), (math.radians, "math.radians"))
def deg2rad(g, ans, x):
    return g * (np.pi / 180.0)


@defrule((np.rad2deg, "np.rad2deg"), (np.degrees, "np.degrees"), (math.degrees, "math.degrees"))
def rad2deg(g, ans, x):
    return g * (180.0 / np.pi)


@defrule((np.hypot, "np.hypot"), (math.hypot, "math.hypot"), broadcast=True)
def hypot(g, ans, x, y):
    return g * x / ans, g * y / ans


@defrule((np.arctan2, "np.arctan2"), (math.atan2, "math.atan2"), broadcast=True)
def arctan2(g, ans, x, y):
    return g * y / (x * x + y * y), -g * x / (x * x + y * y)


@defrule((np.logaddexp, "np.logaddexp"), broadcast=True)
def logaddexp(g, ans, x, y):
    return g * np.exp(x - ans), g * np.exp(y - ans)


@defrule((np.logaddexp2, "np.logaddexp2"), broadcast=True)
def logaddexp2(g, ans, x, y):
    return g * np.exp2(x - ans), g * np.exp2(y - ans)


# Builtin `abs` is called as `np.abs`: the same on numbers, and Numba has it for arrays too.
@defrule((builtins.abs, "np.abs", "abs"), (np.abs, "np.abs"), (np.fabs, "np.fabs"),
         (math.fabs, "math.fabs"))
def absolute(g, ans, x):
    return g * np.sign(x)


@defrule((np.maximum, "np.maximum"), (np.fmax, "np.fmax"), (builtins.max, "max"), broadcast=True)
def maximum(g, ans, x, y):
    return g * ((x > y) + 0.5 * (x == y)), g * ((y > x) + 0.5 * (x == y))


@defrule((np.minimum, "np.minimum"), (np.fmin, "np.fmin"), (builtins.min, "min"), broadcast=True)
def minimum(g, ans, x, y):
    return g * ((x < y) + 0.5 * (x == y)), g * ((y < x) + 0.5 * (x == y))


# `np.where(cond, a, b)`: the gradient goes to `a` where `cond` holds, to `b` elsewhere.
@defrule((np.where, "np.where"), broadcast=True)
def where(g, ans, condition, x, y):
    return None, np.where(condition, g, 0.0), np.where(condition, 0.0, g)


# `np.clip(a, a_min, a_max)`, either bound None: the gradient goes to `a` inside the
# bounds (ends included), to the bound it is clipped to elsewhere. It is called as the
# helper `clip_of`: Numba's `np.clip` takes no numbers and does not broadcast `a`.
@defrule((np.clip, "clip_of", "np.clip"), broadcast=True)
def clip(g, ans, a, a_min, a_max):
    return (g * clip_inside(a, a_min, a_max), g * clip_below(a, a_min, a_max),
            g * clip_above(a, a_min, a_max))


# ---- reductions ----------------------------------------------------------
# Each has a rule for the whole array (`np.sum(x)`, generated code calls it as
# written) and an `axes=True` rule for calls given `axis=` (an int, negative
# from the end, a tuple of ints, or None), `keepdims=` and the like, which call
# a helper (`sum_axis`) that Numba compiles: its own functions lack those
# arguments. `dtype` and `out` are parameters only to keep NumPy's positions.

@defrule((np.sum, "np.sum"), shape="scalar")
def sum_(g, ans, x):
    return broadcast_like(g, x)


defjvp(sum_, linear=("x",))


@defrule((np.sum, "sum_axis", "np.sum"), axes=True)
def sum_axis(g, ans, x, axis=None, dtype=None, out=None, keepdims=False):
    return unreduce(g, x, axis, keepdims), None, None, None, None


defjvp(sum_axis, linear=("x",))


@defrule((np.mean, "np.mean"), shape="scalar")
def mean(g, ans, x):
    return broadcast_like(g, x) / size_of(x)


defjvp(mean, linear=("x",))


@defrule((np.mean, "mean_axis", "np.mean"), axes=True)
def mean_axis(g, ans, x, axis=None, dtype=None, out=None, keepdims=False):
    return unreduce(g, x, axis, keepdims) / reduced_size(x, axis), None, None, None, None


defjvp(mean_axis, linear=("x",))


# The product of the other elements, computed without dividing by zero.
@defrule((np.prod, "np.prod"), shape="scalar")
def prod(g, ans, x):
    return broadcast_like(g, x) * prod_others(x)


@defjvp(prod)
def prod_jvp(g, ans, x):
    return np.sum(g * prod_others(x))


@defrule((np.prod, "prod_axis", "np.prod"), axes=True)
def prod_axis(g, ans, x, axis=None, dtype=None, out=None, keepdims=False):
    return unreduce(g, x, axis, keepdims) * prod_others(x, axis), None, None, None, None


@defjvp(prod_axis)
def prod_axis_jvp(g, ans, x, axis=None, dtype=None, out=None, keepdims=False):
    return sum_axis(g * prod_others(x, axis), axis, None, None, keepdims), None, None, None, None


# Elements tied for the extremum share its gradient equally.
@defrule((np.max, "np.max"), (np.min, "np.min"), (np.amax, "np.amax"), (np.amin, "np.amin"),
         shape="scalar")
def extremum(g, ans, x):
    return extremum_grad(g, ans, x)


# The mean of the tangent over the elements tied for the extremum.
@defjvp(extremum)
def extremum_jvp(g, ans, x):
    return np.sum(extremum_grad(g, ans, x))


@defrule((np.max, "max_axis", "np.max"), (np.amax, "max_axis", "np.amax"), axes=True)
def max_axis(g, ans, x, axis=None, out=None, keepdims=False):
    return unreduce(g, x, axis, keepdims) * extremum_share(x, ans, axis, keepdims), None, None, None


@defjvp(max_axis)
def max_axis_jvp(g, ans, x, axis=None, out=None, keepdims=False):
    return sum_axis(g * extremum_share(x, ans, axis, keepdims), axis, None, None, keepdims), None, None, None


@defrule((np.min, "min_axis", "np.min"), (np.amin, "min_axis", "np.amin"), axes=True)
def min_axis(g, ans, x, axis=None, out=None, keepdims=False):
    return unreduce(g, x, axis, keepdims) * extremum_share(x, ans, axis, keepdims), None, None, None


@defjvp(min_axis)
def min_axis_jvp(g, ans, x, axis=None, out=None, keepdims=False):
    return sum_axis(g * extremum_share(x, ans, axis, keepdims), axis, None, None, keepdims), None, None, None


@defrule((np.var, "np.var"), shape="scalar")
def var(g, ans, x):
    return g * 2.0 * centered(x) / size_of(x)


@defjvp(var)
def var_jvp(g, ans, x):
    return 2.0 * np.sum(g * centered(x)) / size_of(x)


@defrule((np.var, "var_axis", "np.var"), axes=True)
def var_axis(g, ans, x, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    return (unreduce(g, x, axis, keepdims) * 2.0 * centered(x, axis) / (reduced_size(x, axis) - ddof),
            None, None, None, None, None)


@defjvp(var_axis)
def var_axis_jvp(g, ans, x, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    return (2.0 * sum_axis(g * centered(x, axis), axis, None, None, keepdims)
            / (reduced_size(x, axis) - ddof), None, None, None, None, None)


@defrule((np.std, "np.std"), shape="scalar")
def std(g, ans, x):
    return g / ans * centered(x) / size_of(x)


@defjvp(std)
def std_jvp(g, ans, x):
    return np.sum(g * centered(x)) / (ans * size_of(x))


@defrule((np.std, "std_axis", "np.std"), axes=True)
def std_axis(g, ans, x, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    return (unreduce(g / ans, x, axis, keepdims) * centered(x, axis) / (reduced_size(x, axis) - ddof),
            None, None, None, None, None)


@defjvp(std_axis)
def std_axis_jvp(g, ans, x, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    return (sum_axis(g * centered(x, axis), axis, None, None, keepdims)
            / (ans * (reduced_size(x, axis) - ddof)), None, None, None, None, None)


# The vector 2-norm, or the Frobenius norm of a matrix; its gradient is 0 at 0.
@defrule((np.linalg.norm, "np.linalg.norm"), shape="scalar",
         compiled="yes, of 1-D and 2-D arrays (with `axis=None`: any)")
def norm(g, ans, x):
    return x * (g / one_if_zero(ans))


@defjvp(norm)
def norm_jvp(g, ans, x):
    return np.sum(g * x) / one_if_zero(ans)


@defrule((np.linalg.norm, "norm_axis", "np.linalg.norm"), axes=True)
def norm_axis(g, ans, x, ord=None, axis=None, keepdims=False):
    return x * unreduce(g / one_if_zero(ans), x, axis, keepdims), None, None, None


@defjvp(norm_axis)
def norm_axis_jvp(g, ans, x, ord=None, axis=None, keepdims=False):
    return sum_axis(g * x, axis, None, None, keepdims) / one_if_zero(ans), None, None, None


@defrule((np.cumsum, "np.cumsum"), shape="unknown")
def cumsum(g, ans, x):
    return cumsum_grad(g, x)


defjvp(cumsum, linear=("x",))


@defrule((np.cumsum, "cumsum_axis", "np.cumsum"), axes=True)
def cumsum_axis(g, ans, x, axis=None, dtype=None, out=None):
    return cumsum_grad(g, x, axis), None, None, None


defjvp(cumsum_axis, linear=("x",))


@defrule((np.cumprod, "np.cumprod"), shape="unknown")
def cumprod(g, ans, x):
    return cumprod_grad(g, ans, x)


@defjvp(cumprod)
def cumprod_jvp(g, ans, x):
    return cumprod_tangent(g, ans, x)


@defrule((np.cumprod, "cumprod_axis", "np.cumprod"), axes=True)
def cumprod_axis(g, ans, x, axis=None, dtype=None, out=None):
    return cumprod_grad(g, ans, x, axis), None, None, None


@defjvp(cumprod_axis)
def cumprod_axis_jvp(g, ans, x, axis=None, dtype=None, out=None):
    return cumprod_tangent(g, ans, x, axis), None, None, None


@defrule((np.transpose, "np.transpose"), shape="unknown")
def transpose(g, ans, x):
    return np.transpose(g)


# `np.reshape(a, shape)` and `x.reshape(shape)` / `x.reshape(n, m, ...)` are both called as
# the helper `reshape_to`, which Numba compiles for any memory layout. The gradient
# reshapes back to the argument's shape; the shape itself is an integer: no gradient.
@defrule((np.reshape, "reshape_to", "np.reshape"), shape="unknown")
def reshape(g, ans, a, shape):
    return reshape_to(g, np.shape(a)), None


defjvp(reshape, linear=("a",))


@defrule((np.ndarray.reshape, "reshape_to", "x.reshape"), shape="unknown")
def reshape_method(g, ans, x, shape, d1=None, d2=None, d3=None, d4=None, d5=None):
    return reshape_to(g, np.shape(x)), None, None, None, None, None, None


defjvp(reshape_method, linear=("x",))


# Methods and attributes of arrays, as the functions they mean: `x.sum()` is
# `np.sum(x)`, `x.T` is `np.transpose(x)`.
METHODS = {"sum": np.sum, "mean": np.mean, "prod": np.prod, "max": np.max, "min": np.min,
           "std": np.std, "var": np.var, "cumsum": np.cumsum, "cumprod": np.cumprod,
           "clip": np.clip, "dot": np.dot, "copy": np.copy, "transpose": np.transpose,
           "T": np.transpose, "shape": np.shape, "size": np.size, "ndim": np.ndim,
           "reshape": np.ndarray.reshape}


# ---- new arrays ------------------------------------------------------------
# Their values do not depend on the arguments differentiably (a shape, an
# array whose shape is copied); `np.full`'s fill value does.

@defrule((np.zeros, "np.zeros"), (np.ones, "np.ones"), (np.empty, "np.empty"),
         differentiable=False, shape="unknown")
def new_array(g, ans, shape, dtype=None):
    return None, None


@defrule((np.arange, "np.arange"), differentiable=False, shape="unknown")
def arange(g, ans, start, stop=None, step=None, dtype=None):
    return None, None, None, None


@defrule((np.zeros_like, "np.zeros_like"), (np.ones_like, "np.ones_like"),
         (np.empty_like, "np.empty_like"), differentiable=False)
def new_array_like(g, ans, x, dtype=None):
    return None, None


@defrule((np.eye, "np.eye"), (np.identity, "np.identity"), differentiable=False,
         shape="unknown")
def eye(g, ans, n, m=None, k=0, dtype=None):
    return None, None, None, None


@defrule((np.full, "np.full"), shape="unknown")
def full(g, ans, shape, fill_value):
    return None, unbroadcast(g, fill_value)


@defjvp(full)
def full_jvp(g, ans, shape, fill_value):
    return None, tangent_like(g, ans)


# ---- tangents of the helpers generated code calls -------------------------------
# A generated adjoint is differentiated again (Hessians, `grad(grad(f))`), so the
# helpers it calls have tangent rules too. Most are linear: stacks, undo logs and
# in-place updates of adjoints get the same call on the tangents.

from . import array_helpers, helpers  # noqa: E402

defjvp((helpers.zeros_like, "zeros_like"), (helpers.size_of, "size_of"),
       (helpers.trip_count, "trip_count"), (helpers.log_height, "log_height"),
       (helpers.must_be_scalar, "must_be_scalar"), (array_helpers.reduced_size, "reduced_size"),
       (array_helpers.extremum_share, "extremum_share"), (array_helpers.clip_inside, "clip_inside"),
       (array_helpers.clip_below, "clip_below"), (array_helpers.clip_above, "clip_above"),
       (np.eye, "np.eye"), (len, "len"), linear=())
defjvp((helpers.seed_like, "seed_like"), linear=("cotangent",))
defjvp((helpers.unbroadcast, "unbroadcast"), (helpers.broadcast_like, "broadcast_like"),
       (helpers.grad_at, "grad_at"), linear=("grad",))
defjvp((helpers.extremum_grad, "extremum_grad"), (array_helpers.unreduce, "unreduce"),
       (array_helpers.cumsum_grad, "cumsum_grad"), linear=("g",))
defjvp((helpers.stack_like, "stack_like"), linear=("value",))
defjvp((helpers.grow, "grow"), (helpers.restore, "restore"), linear=("stack",))
defjvp((helpers.snapshot, "snapshot"), (array_helpers.centered, "centered"), linear=("x",))
defjvp((helpers.tangent_like, "tangent_like"), linear=("tangent",))
defjvp((helpers.sort_tangent, "sort_tangent"), linear=("g",))
defjvp((helpers.undo_log, "undo_log"), linear=("array",))
defjvp((helpers.log_write, "log_write"), linear=("log", "array"), mutates=("log",))
defjvp((helpers.log_all, "log_all"), linear=("log", "array"), mutates=("log",))
defjvp((helpers.undo_write, "undo_write"), (helpers.undo_to, "undo_to"), linear=("log", "array"),
       mutates=("log", "array"))
defjvp((helpers.zero_at, "zero_at"), linear=("grad",), mutates=("grad",))
defjvp((helpers.add_at, "add_at"), linear=("array", "value"), mutates=("array",))


@defjvp((helpers.dot_grad_left, "dot_grad_left"))
def dot_grad_left_jvp(g, ans, grad, x, y):
    return this(grad=g), None, this(y=g)


@defjvp((helpers.dot_grad_right, "dot_grad_right"))
def dot_grad_right_jvp(g, ans, grad, x, y):
    return this(grad=g), this(x=g), None


# 0 where x is 0, as `log_or_zero` is constant there.
@defjvp((helpers.log_or_zero, "log_or_zero"))
def log_or_zero_jvp(g, ans, x):
    return g * (x != 0) / one_if_zero(x)


@defjvp((array_helpers.prod_others, "prod_others"))
def prod_others_jvp(g, ans, x, axis=None):
    return prod_others_tangent(g, x, axis), None


@defjvp((array_helpers.one_if_zero, "one_if_zero"))
def one_if_zero_jvp(g, ans, x):
    return g * (x != 0)


# More rules in the same registry, by topic.
from . import rules_arrays  # noqa: E402,F401
