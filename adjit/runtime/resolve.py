"""Find the gradient rule of a call in the user's code.

The compiler sees `np.sin(x)` as syntax; this module evaluates the callee
(`np.sin`) in the user's function's globals, the way Python would, and looks
the object up in the rule registry. A plain Python function of the user's
becomes a Primitive whose `callee` is its `pipeline.Unit`, created once per
function and transformed once, whichever functions call it.
"""

import builtins
import inspect
import sys

import gast
import numpy as np

from ..transform import TransformError, pipeline
from ..transform.templates import Primitive
from . import rules


def callee_object(node, namespace):
    """The object a dotted name (`np.sin`, `abs`) denotes in `namespace`, or raise KeyError."""
    if isinstance(node, gast.Name):
        if node.id in namespace:
            return namespace[node.id]
        return getattr(builtins, node.id)
    if isinstance(node, gast.Attribute):
        return getattr(callee_object(node.value, namespace), node.attr)
    raise KeyError(node)


def call_resolver(namespace):
    """A `resolve_call(source, call_node)` for the transform, over `namespace`."""
    def resolve_call(source, call):
        text = gast.unparse(call.func).strip()
        try:
            obj = callee_object(call.func, namespace)
        except (KeyError, AttributeError):
            raise source.error(f"`{text}` is not defined", call) from None
        prim = rules.lookup(obj, call)
        if prim is None and inspect.isfunction(obj) and not _library(obj):
            prim = callee_primitive(source, call, obj)
        if prim is None:
            raise source.error(
                f"`{text}` has no gradient rule: adjit cannot differentiate a call to it", call)
        check_arguments(source, prim, call, text)
        return prim
    return resolve_call


def _library(func):
    """Whether `func` belongs to NumPy, SciPy or the standard library: adjit
    differentiates such a function only through a gradient rule, never its source."""
    module = getattr(func, "__module__", None) or ""
    return module.split(".")[0] in ("numpy", "scipy", "math", "builtins") or \
        module.split(".")[0] in sys.stdlib_module_names


def namespace_of(func):
    """The names `func`'s body sees: its module's globals and its closure."""
    namespace = dict(getattr(func, "__globals__", {}))
    if func.__closure__:
        namespace.update(inspect.getclosurevars(func).nonlocals)
    return namespace


def unit_of(func, callee=False):
    """The `pipeline.Unit` of a Python function: its checked source and resolvers."""
    namespace = namespace_of(func)
    return pipeline.Unit(pipeline.read_function(func, callee=callee), call_resolver(namespace),
                         global_resolver(namespace), resolve_method)


_CALLEES = {}   # function -> (its code, its Primitive): each is transformed once


def callee_primitive(source, call, func):
    """The Primitive of a call to the user's function `func`, differentiated in turn."""
    known = _CALLEES.get(func)
    if known is not None and known[0] is func.__code__:
        return known[1]
    try:
        unit = unit_of(func, callee=True)
    except TransformError as error:
        if error.filename is None:      # no source to read: a builtin or compiled function
            raise source.error(f"`{func.__name__}` has no source adjit can read and no "
                               "gradient rule", call) from None
        raise
    tree = unit.source.tree
    returns = [n for n in gast.walk(tree) if isinstance(n, gast.Return)]
    results = len(returns[-1].value.elts) if returns and isinstance(returns[-1].value, gast.Tuple) \
        else 1
    params = tuple(a.id for a in tree.args.args)
    defaults = tuple((a.id, d.value) for a, d in zip(tree.args.args[len(params) - len(tree.args.defaults):],
                                                     tree.args.defaults))
    marker = gast.Constant(value=0.0, kind=None)
    prim = Primitive(name=func.__name__, spelling=func.__name__, params=params, defaults=defaults,
                     grads=(marker,) * len(params), broadcast=False, shape="unknown",
                     callee=unit, results=results)
    _CALLEES[func] = (func.__code__, prim)
    return prim


def resolve_method(source, call, attr):
    """The Primitive for `value.attr(...)` (or the attribute `value.attr`), with
    `call.args` holding the value first and then the method's arguments."""
    obj = rules.METHODS.get(attr)
    if obj is None:
        raise source.error(f"the array method or attribute `.{attr}` is not supported", call)
    prim = rules.lookup(obj, call)
    check_arguments(source, prim, call, f".{attr}", method=True)
    return prim


def check_arguments(source, prim, call, text, method=False):
    """Refuse a call whose arguments do not fit the primitive's parameters.

    For a method (`method=True`) the first argument is the array itself,
    which the counts in messages leave out, as the user wrote them."""
    if len(call.args) > len(prim.params):
        own = int(method)
        raise source.error(
            f"`{text}` takes at most {len(prim.params) - own} argument(s) here, "
            f"got {len(call.args) - own}", call)
    given = set(prim.params[:len(call.args)])
    for keyword in call.keywords:
        if keyword.arg not in prim.params or keyword.arg in given:
            raise source.error(f"`{text}` has no argument `{keyword.arg}` adjit understands", call)
        given.add(keyword.arg)
    missing = [p for p in prim.params if p not in given and p not in dict(prim.defaults)]
    if missing:
        raise source.error(f"`{text}` is missing argument(s) {', '.join(missing)}", call)
    # NumPy's `out` however NumPy is imported (`refuse_writes` knows only `np.`, `numpy.`)
    out = dict(zip(prim.params, call.args)).get("out") or next(
        (k.value for k in call.keywords if k.arg == "out"), None)
    if out is not None and prim.callee is None and not prim.externals \
            and not (isinstance(out, gast.Constant) and out.value is None):
        raise source.error(f"`{text}` is given `{gast.unparse(out).strip()}` as `out`: NumPy would "
                           "write the result into that existing array, which adjit cannot follow "
                           "(the gradient would be wrong); assign the result instead", call)


def global_resolver(namespace):
    """A `resolve_global(source, name_node)` for the transform, over `namespace`.

    A global number is inlined as a constant, as Numba treats globals; a NumPy
    scalar type (a dtype argument, `np.float32`) comes back as generated code spells
    it; any other global value (an array, a module) must be passed as an argument.
    """
    def resolve_global(source, node):
        text = gast.unparse(node).strip()
        try:
            value = callee_object(node, namespace)
        except (KeyError, AttributeError):
            raise source.error(f"`{text}` is not defined", node) from None
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        if isinstance(value, (int, np.integer)):
            return int(value)
        if isinstance(value, (float, np.floating)):
            return float(value)
        if any(value is t for t in (float, int, bool)):
            return value.__name__           # a dtype argument: `x.astype(float)`
        if isinstance(value, type) and issubclass(value, np.generic):
            return f"np.{value.__name__}"   # `np.float32`, however the user spells numpy
        raise source.error(
            f"the global `{text}` is a {type(value).__name__}: only numbers can be read from "
            "globals (they are compiled in as constants); pass it as an argument", node)
    return resolve_global


def op_primitive(name):
    return rules.lookup(name)
