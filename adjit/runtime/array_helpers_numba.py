"""Numba implementations of the helpers in `array_helpers`, chosen by type at compile time.

Importing this module registers an `overload` for each helper.
"""

import functools
import inspect

import numpy as np
from numba import types
from numba.extending import overload, register_jitable
from numba.np import numpy_support
from numba.np.unsafe.ndarray import to_fixed_tuple

from . import array_helpers
from .helpers_numba import _empty, _filled, _flat, _zeros


def _is_array(t):
    return isinstance(t, types.Array)


def _is_scalar(t):
    return isinstance(t, (types.Number, types.Boolean))


@overload(array_helpers.reshape_to)
def _reshape_to(x, shape, *more):
    if not isinstance(x, types.Array):
        return None
    # Numba reshapes C-contiguous arrays only; `ascontiguousarray` returns a
    # C array unchanged and copies any other layout (a transpose, a slice).
    if not more:
        if isinstance(shape, types.Integer) or (
                isinstance(shape, types.BaseTuple)
                and all(isinstance(t, types.Integer) for t in shape)):
            return lambda x, shape, *more: np.ascontiguousarray(x).reshape(shape)
        return None
    if isinstance(shape, types.Integer) and all(isinstance(t, types.Integer) for t in more):
        return lambda x, shape, *more: np.ascontiguousarray(x).reshape((shape,) + more)
    return None


# ---- reductions over axes ---------------------------------------------------
# Numba's `np.sum` and friends take no `keepdims` and no tuple of axes. Here a
# reduction of `x` over `axis` visits the elements of `x` in C order, finds the
# flat position of each one's group in the result and folds it in (`_kernel`
# below). The number of dimensions reduced is known when compiling (an int
# axis: 1; a tuple: its length; None: all), `keepdims` is a constant, so the
# result's type is too; the axis values may be run-time ints. (`_mask` and
# `_groups` serve the tangents in `helpers_numba`, which group elements so.)

def _is_none(t):
    return t is None or isinstance(t, (types.NoneType, types.Omitted))


def _static_bool(t):
    """The value of a constant bool argument (`keepdims=True`), or None if not constant."""
    if isinstance(t, types.Omitted):
        return bool(t.value)
    if isinstance(t, types.Literal):
        return bool(t.literal_value)
    if isinstance(t, bool):
        return t
    return None


@register_jitable
def _mask_all(ndim, axis):
    mask = _empty(ndim, np.bool_)
    for d in range(ndim):
        mask[d] = True
    return mask


@register_jitable
def _mask_int(ndim, axis):
    a = axis + ndim if axis < 0 else axis
    if a < 0 or a >= ndim:
        raise ValueError("axis is out of bounds for the array")
    mask = _zeros(ndim, np.bool_)
    mask[a] = True
    return mask


@register_jitable
def _mask_tuple(ndim, axis):
    mask = _zeros(ndim, np.bool_)
    for axis_ in axis:
        a = axis_ + ndim if axis_ < 0 else axis_
        if a < 0 or a >= ndim:
            raise ValueError("axis is out of bounds for the array")
        if mask[a]:
            raise ValueError("duplicate value in 'axis'")
        mask[a] = True
    return mask


@register_jitable
def _mask_empty(ndim, axis):
    return _zeros(ndim, np.bool_)


def _mask_of(axis):
    """The function `(ndim, axis) -> mask` for this type of `axis`, or None."""
    if _is_none(axis):
        return _mask_all
    if isinstance(axis, types.Integer):
        return _mask_int
    if isinstance(axis, types.BaseTuple) and all(isinstance(t, types.Integer) for t in axis):
        if len(axis) == 0:
            return _mask_empty
        if isinstance(axis, types.UniTuple):
            return _mask_tuple
        if all(isinstance(t, types.IntegerLiteral) for t in axis):
            return _mask_values(tuple(int(t.literal_value) for t in axis))
    return None


@functools.lru_cache(maxsize=None)
def _mask_values(values):
    return lambda ndim, axis: _mask_tuple(ndim, values)


def _mask(ndim, axis):
    """In Numba only: which of `ndim` dimensions a reduction over `axis` reduces (an array of
    bools). The reductions and their gradients' helpers all call this one, so that its
    implementation for a type of `axis` is compiled once."""
    raise NotImplementedError("_mask runs in Numba only")


@overload(_mask)
def _mask_typer(ndim, axis):
    return _mask_of(axis)


def _axis_info(x, axis):
    """(the jitted `_mask(ndim, axis)` of the reduced dimensions, how many there are), or None."""
    if _mask_of(axis) is None:
        return None
    if _is_none(axis):
        return _mask, x.ndim
    return _mask, 1 if isinstance(axis, types.Integer) else len(axis)


@register_jitable
def _groups(shape, reduced):
    """For each element of an array of `shape` in C order, the flat position of its group
    in the reduction; the shape kept (1 along reduced axes), as an array; how many groups."""
    ndim = len(shape)
    kept = _empty(ndim, np.intp)
    steps = _empty(ndim, np.intp)
    count = 1
    size = 1
    for d in range(ndim - 1, -1, -1):
        kept[d] = 1 if reduced[d] else shape[d]
        steps[d] = 0 if reduced[d] else count
        count *= kept[d]
        size *= shape[d]
    groups = _empty(size, np.intp)
    for i in range(size):
        rest = i
        f = 0
        for d in range(ndim - 1, -1, -1):
            n = shape[d]
            f += (rest % n) * steps[d]
            rest //= n
        groups[i] = f
    return groups, kept, count


def _result_dtype(x, kind):
    """NumPy's result dtype for a reduction of `kind` of the array type `x` (None: unsupported)."""
    dtype = x.dtype
    if not isinstance(dtype, (types.Integer, types.Float, types.Boolean)):
        return None
    if kind in ("mean", "var", "std", "norm"):
        return np.float64
    if kind in ("sum", "prod") and not isinstance(dtype, types.Float):
        return np.int64
    return numpy_support.as_dtype(dtype)


# Each reduction and each gradient's helper is one function, its loops written out for the
# rank of `x` and the type of `axis` (`_kernel`): nested loops over `x` in C order (any
# layout read in place), each element's group found as it goes (the reduced dimensions
# `r0, r1, ...` are run-time bools), results written into arrays made by the allocation
# intrinsics of `helpers_numba`. Compiling such a function compiles nothing else; the
# version with `_groups`, `_mask` and `np.zeros` compiled about ten functions for each.
# (`_mask` and `_groups` are left for the tangents in `helpers_numba`.)

def _axis_kind(axis):
    """"none", "int" or the length of a tuple of ints, for `axis`'s type; None: unsupported."""
    if _is_none(axis):
        return "none"
    if isinstance(axis, types.Integer):
        return "int"
    if isinstance(axis, types.BaseTuple) and all(isinstance(t, types.Integer) for t in axis):
        return len(axis)
    return None


def _reduced_count(ndim, kind):
    """How many of `ndim` dimensions an axis of `kind` reduces."""
    return ndim if kind == "none" else 1 if kind == "int" else kind


def _axis_lines(ndim, kind):
    """Lines setting `r{d}` (is dimension d reduced?) from `axis`, checked as NumPy does."""
    if kind == "none":
        return [f"    r{d} = True" for d in range(ndim)]
    bounds = [f"    if a < 0 or a >= {ndim}:",
              "        raise ValueError('axis is out of bounds for the array')"]
    if kind == "int":
        return ([f"    a = axis + {ndim} if axis < 0 else axis"] + bounds
                + [f"    r{d} = a == {d}" for d in range(ndim)])
    lines = [f"    r{d} = False" for d in range(ndim)]
    for j in range(kind):
        lines += [f"    a = axis[{j}]", f"    a = a + {ndim} if a < 0 else a"] + bounds
        for d in range(ndim):
            lines += [f"    if a == {d}:", f"        if r{d}:",
                      "            raise ValueError(\"duplicate value in 'axis'\")",
                      f"        r{d} = True"]
    return lines


def _kernel(params, ndim, kind, before, body, after, first=False):
    """A function of `params` over the array `x` of `ndim` dimensions reduced over `axis`
    (of `kind`). It sets `r{d}`, `s{d}` (x's shape), `k{d}` (the shape kept: 1 where
    reduced), `count` (how many groups) and `nr` (how many elements each group has), runs
    the lines `before`, then the loops of `_nest(ndim, body, first)`, then the lines
    `after`. Lines are indented by 4."""
    lines = [f"def kernel({params}):"] + _axis_lines(ndim, kind)
    for d in range(ndim):
        lines += [f"    s{d} = x.shape[{d}]", f"    k{d} = 1 if r{d} else s{d}"]
    lines.append("    count = 1" + "".join(f" * k{d}" for d in range(ndim)))
    lines.append("    nr = 1" + "".join(f" * (s{d} if r{d} else 1)" for d in range(ndim)))
    lines += before + _nest(ndim, body, first) + after
    namespace = {"np": np, "_empty": _empty, "_zeros": _zeros, "_flat": _flat,
                 "to_fixed_tuple": to_fixed_tuple}
    exec("\n".join(lines), namespace)
    return namespace["kernel"]


def _nest(ndim, body, first=False):
    """Loops over `x` in C order running the lines `body` for each element, with `v` the
    element, `p` its group's flat position, `q` its own (and `f`: is it its group's first
    element, if `first`)."""
    lines = ["    q = 0"]
    indent = "    "
    for d in range(ndim):
        lines.append(f"{indent}for i{d} in range(s{d}):")
        indent += "    "
        lines.append(f"{indent}p{d} = " + (f"p{d - 1} * k{d} + " if d else "")
                     + f"(0 if r{d} else i{d})")
        if first:
            lines.append(f"{indent}f{d} = " + (f"f{d - 1} and " if d else "")
                         + f"(i{d} == 0 or not r{d})")
    index = ", ".join(f"i{d}" for d in range(ndim))
    lines += [f"{indent}p = p{ndim - 1}", f"{indent}v = x[{index}]"]
    if first:
        lines.append(f"{indent}f = f{ndim - 1}")
    return lines + [indent + line[4:] for line in body] + [f"{indent}q += 1"]


def _result_lines(ndim, kind, keep, dtype):
    """Lines making `out`, the reduction's result (C order, zeros of `dtype`), and `o`,
    its elements; after the loops, `_result_return(...)` returns it."""
    left = ndim - _reduced_count(ndim, kind)
    if keep:
        shape = "(" + "".join(f"k{d}, " for d in range(ndim)) + ")"
        return [f"    out = _zeros({shape}, result_type)", "    o = _flat(out)"]
    if left == 0:
        return ["    out = _zeros(1, result_type)", "    o = out"]
    lines = [f"    dims = _empty({left}, np.intp)", "    j = 0"]
    for d in range(ndim):
        lines += [f"    if not r{d}:", f"        dims[j] = s{d}", "        j += 1"]
    return lines + [f"    out = _zeros(to_fixed_tuple(dims, {left}), result_type)", "    o = _flat(out)"]


def _result_return(ndim, kind, keep):
    left = ndim - _reduced_count(ndim, kind)
    return ["    return out[0]" if not keep and left == 0 else "    return out"]


# The fold of each reduction: (lines before the loops, for each element, after the loops).
# `o[p]` accumulates group p; divisions are `np.divide` (IEEE, as the array division:
# 0/0 is nan, not ZeroDivisionError).
_DIVIDE_BY_NR = ["    for k in range(count):", "        o[k] = np.divide(o[k], nr)"]
_FOLDS = {
    "sum": ([], ["    o[p] += v"], []),
    "prod": (["    for k in range(count):", "        o[k] = 1"], ["    o[p] *= v"], []),
    "max": ([], ["    if f:", "        o[p] = v",
                 "    elif o[p] == o[p] and (v > o[p] or v != v):",   # NaN wins, as in NumPy
                 "        o[p] = v"], []),
    "min": ([], ["    if f:", "        o[p] = v",
                 "    elif o[p] == o[p] and (v < o[p] or v != v):",
                 "        o[p] = v"], []),
    "mean": ([], ["    o[p] += v"], _DIVIDE_BY_NR),
    "norm": ([], ["    o[p] += v * v"], ["    for k in range(count):",
                                          "        o[k] = np.sqrt(o[k])"]),
}


@functools.lru_cache(maxsize=None)
def _reducer(params, reduction, ndim, kind, keep, dtype):
    """The reduction `reduction` of an array of `ndim` dimensions over an axis of `kind`,
    with parameters `params`, as a function of its own (see `_kernel`)."""
    made = _result_lines(ndim, kind, keep, dtype)
    if reduction in ("var", "std"):
        # the group means first, then the squared deviations from them
        finish = "np.sqrt(np.divide(o[k], spread))" if reduction == "std" \
            else "np.divide(o[k], spread)"
        fn = _kernel(params, ndim, kind, made + _mean_lines(ndim),
                     ["    d = v - mean[p]", "    o[p] += d * d"],
                     ["    spread = nr - ddof", "    for k in range(count):",
                      f"        o[k] = {finish}"] + _result_return(ndim, kind, keep))
    else:
        before, body, after = _FOLDS[reduction]
        fn = _kernel(params, ndim, kind, made + before, body,
                     after + _result_return(ndim, kind, keep),
                     first=reduction in ("max", "min"))
    fn.__globals__["result_type"] = dtype
    return fn


def _mean_lines(ndim):
    """Lines setting `mean`, the float64 means of the groups of `x` (loops of their own)."""
    return (["    mean = _zeros(count, np.float64)"] + _nest(ndim, ["    mean[p] += v"])
            + ["    if nr != 0:", "        for k in range(count):",
               "            mean[k] = mean[k] / nr"])


def _reduction_typer(x, axis, keepdims, kind):
    """(axis kind, keepdims, result dtype) for a reduction, or None if Numba cannot do it."""
    if not _is_array(x) or x.ndim == 0:
        return None
    axis_kind, keep, dtype = _axis_kind(axis), _static_bool(keepdims), _result_dtype(x, kind)
    if axis_kind is None or keep is None or dtype is None:
        return None
    if isinstance(axis_kind, int) and axis_kind > x.ndim:
        return None
    if not isinstance(dtype, type):
        dtype = dtype.type           # (a NumPy scalar type: a constant Numba types)
    return axis_kind, keep, dtype


def _overload_reduction(helper, kind, params, refuse=lambda **kws: False):
    """Overload `helper`, a reduction of `kind` with parameters `params` (a string), by
    `_reducer`; `refuse(**argument types)` says which arguments it leaves alone."""
    def typer(*args, **kws):
        bound = signature.bind(*args, **kws)
        bound.apply_defaults()
        found = bound.arguments
        parts = _reduction_typer(found["x"], found["axis"], found["keepdims"], kind)
        if parts is None or refuse(**found):
            return None
        return _reducer(params, kind, found["x"].ndim, *parts)
    namespace = {}
    exec(f"def signature_of({params}): pass", namespace)
    signature = inspect.signature(namespace["signature_of"])
    typer.__signature__ = signature
    overload(helper)(typer)


_SUM_PARAMS = "x, axis=None, dtype=None, out=None, keepdims=False"
for _helper, _kind in ((array_helpers.sum_axis, "sum"), (array_helpers.mean_axis, "mean"),
                       (array_helpers.prod_axis, "prod")):
    _overload_reduction(_helper, _kind, _SUM_PARAMS,
                        lambda dtype, out, **kws: not (_is_none(dtype) and _is_none(out)))
for _helper, _kind in ((array_helpers.max_axis, "max"), (array_helpers.min_axis, "min")):
    _overload_reduction(_helper, _kind, "x, axis=None, out=None, keepdims=False",
                        lambda out, **kws: not _is_none(out))
for _helper, _kind in ((array_helpers.var_axis, "var"), (array_helpers.std_axis, "std")):
    _overload_reduction(_helper, _kind,
                        "x, axis=None, dtype=None, out=None, ddof=0, keepdims=False",
                        lambda dtype, out, **kws: not (_is_none(dtype) and _is_none(out)))
_overload_reduction(array_helpers.norm_axis, "norm", "x, ord=None, axis=None, keepdims=False",
                    lambda ord, **kws: not _is_none(ord))


# ---- gradients of reductions ---------------------------------------------------

def _gradient_typer(x, axis):
    """The jitted `_mask(ndim, axis)` for an array `x` reduced over `axis`, or None (for
    `helpers_numba`'s tangents, which still group elements with `_groups`)."""
    if not _is_array(x) or x.ndim == 0:
        return None
    info = _axis_info(x, axis)
    return None if info is None else info[0]


def _elements(name, t):
    """Lines giving `{name}_at(p)`'s text: the element p (C order) of `name`, of type `t` (an
    array or a number: the number itself, whatever p)."""
    if not _is_array(t):
        return [], lambda p: name
    if t.layout == "C":
        return [f"    {name}f = _flat({name})"], lambda p: f"{name}f[{p}]"
    return [f"    {name}f = _flat(np.ascontiguousarray({name}))"], lambda p: f"{name}f[{p}]"


def _gradient_helper(helper, scalar):
    """Overload `helper`, a helper of the gradients of reductions of its parameter `x` over
    its parameter `axis`, with the function the decorated one makes: given the rank of
    `x`, the kind of `axis` and the argument types (by name), it gives the helper's
    implementation (see `_kernel`). The overload refuses an `x` that is no array (or is
    0-d) or an `axis` it cannot read; for a scalar `x` it is `scalar(*types)`: `scalar`
    takes the argument types and gives a function with the helper's parameters."""
    def decorate(make):
        signature = inspect.signature(make.__wrapped__ if hasattr(make, "__wrapped__")
                                      else make)
        params = list(signature.parameters)[2:]
        signature = signature.replace(parameters=[signature.parameters[p] for p in params])

        def typer(*args, **kws):
            bound = signature.bind(*args, **kws)
            bound.apply_defaults()
            x, axis = bound.arguments["x"], bound.arguments["axis"]
            if _is_scalar(x):
                return scalar(*bound.args)
            kind = _axis_kind(axis)
            if not _is_array(x) or x.ndim == 0 or kind is None or \
                    (isinstance(kind, int) and kind > x.ndim):
                return None
            found = tuple((name, bound.arguments[name]) for name in params)
            return make(x.ndim, kind, *(t for _, t in found))
        typer.__signature__ = signature
        overload(helper)(typer)
        return make
    return decorate


_OUT = ["    out = _zeros(x.shape, np.float64)", "    oc = _flat(out)"]


def _unreduce_scalar(g, x, axis=None, keepdims=False):
    if _is_array(g):
        return lambda g, x, axis=None, keepdims=False: np.sum(g)
    return lambda g, x, axis=None, keepdims=False: np.float64(g)


@_gradient_helper(array_helpers.unreduce, _unreduce_scalar)
def _unreduce(ndim, kind, g, x, axis=None, keepdims=False):
    return _unreduce_of(ndim, kind, _is_array(g), getattr(g, "layout", None))


@functools.lru_cache(maxsize=None)
def _unreduce_of(ndim, kind, g_array, g_layout):
    lines, g_at = _elements("g", types.Array(types.float64, 1, g_layout) if g_array
                            else types.float64)
    return _kernel("g, x, axis=None, keepdims=False", ndim, kind, lines + _OUT,
                   [f"    oc[q] = {g_at('p')}"], ["    return out"])


@_gradient_helper(array_helpers.reduced_size, lambda *types: lambda x, axis=None: 1)
def _reduced_size(ndim, kind, x, axis=None):
    return _reduced_size_of(ndim, kind)


@functools.lru_cache(maxsize=None)
def _reduced_size_of(ndim, kind):
    lines = ["def reduced_size(x, axis=None):"] + _axis_lines(ndim, kind)
    lines.append("    return 1" + "".join(f" * (x.shape[{d}] if r{d} else 1)"
                                          for d in range(ndim)))
    namespace = {}
    exec("\n".join(lines), namespace)
    return namespace["reduced_size"]


@_gradient_helper(array_helpers.centered, lambda *types: lambda x, axis=None: 0.0)
def _centered(ndim, kind, x, axis=None):
    return _centered_of(ndim, kind)


@functools.lru_cache(maxsize=None)
def _centered_of(ndim, kind):
    return _kernel("x, axis=None", ndim, kind, _mean_lines(ndim) + _OUT,
                   ["    oc[q] = v - mean[p]"], ["    return out"])


@_gradient_helper(array_helpers.prod_others, lambda *types: lambda x, axis=None: 1.0)
def _prod_others(ndim, kind, x, axis=None):
    return _prod_others_of(ndim, kind)


@functools.lru_cache(maxsize=None)
def _prod_others_of(ndim, kind):
    # the product of each group's nonzero elements and how many zeros it has (a first pass
    # over `x`), then each element's share
    before = (["    rest = _empty(count, np.float64)", "    for k in range(count):",
               "        rest[k] = 1.0", "    zeros = _zeros(count, np.intp)"]
              + _nest(ndim, ["    if v == 0:", "        zeros[p] += 1", "    else:",
                             "        rest[p] *= v"]))
    return _kernel("x, axis=None", ndim, kind, before + _OUT,
                   ["    if zeros[p] == 0:", "        oc[q] = rest[p] / v",
                    "    elif zeros[p] == 1 and v == 0:", "        oc[q] = rest[p]"],
                   ["    return out"])


@_gradient_helper(array_helpers.extremum_share,
                   lambda *types: lambda x, ans, axis=None, keepdims=False: 1.0)
def _extremum_share(ndim, kind, x, ans, axis=None, keepdims=False):
    return _extremum_share_of(ndim, kind, _is_array(ans), getattr(ans, "layout", None))


@functools.lru_cache(maxsize=None)
def _extremum_share_of(ndim, kind, ans_array, ans_layout):
    # how many elements of each group equal its extremum (a first pass), then 1/that there
    lines, best = _elements("ans", types.Array(types.float64, 1, ans_layout) if ans_array
                            else types.float64)
    before = (lines + ["    ties = _zeros(count, np.float64)"]
              + _nest(ndim, [f"    if v == {best('p')}:", "        ties[p] += 1.0"]))
    return _kernel("x, ans, axis=None, keepdims=False", ndim, kind, before + _OUT,
                   [f"    if v == {best('p')}:", "        oc[q] = 1.0 / ties[p]"],
                   ["    return out"])


@overload(array_helpers.one_if_zero)
def _one_if_zero(x):
    if _is_array(x):
        return lambda x: np.where(x == 0, 1.0, x)
    if _is_scalar(x):
        return lambda x: 1.0 if x == 0 else np.float64(x)


# ---- cumulative sums and products ----------------------------------------------
# Along axis `a` of a C-ordered array, element i's neighbour is i + step with
# step the product of the lengths after `a`; it is the last of its line when
# (i // step) % length == length - 1.

@register_jitable
def _line(shape, axis):
    """(length, step) of the lines along `axis` (None: the flattened array)."""
    if axis is None:
        size = 1
        for n in shape:
            size *= n
        return size, 1
    ndim = len(shape)
    a = axis + ndim if axis < 0 else axis
    if a < 0 or a >= ndim:
        raise ValueError("axis is out of bounds for the array")
    step = 1
    for d in range(a + 1, ndim):
        step *= shape[d]
    return shape[a], step


def _cumulative(helper, product):
    @overload(helper)
    def typer(x, axis=None, dtype=None, out=None):
        if not (_is_array(x) and x.ndim > 0 and _is_none(dtype) and _is_none(out)):
            return None
        if not (_is_none(axis) or isinstance(axis, types.Integer)):
            return None
        flat_result = _is_none(axis)
        result = _result_dtype(x, "prod" if product else "sum")

        def impl(x, axis=None, dtype=None, out=None):
            length, step = _line(x.shape, axis)
            out_ = np.ascontiguousarray(x).reshape(x.size).astype(result)
            for i in range(x.size):
                if (i // step) % length != 0:
                    if product:
                        out_[i] *= out_[i - step]
                    else:
                        out_[i] += out_[i - step]
            return out_ if flat_result else out_.reshape(x.shape)
        return impl


_cumulative(array_helpers.cumsum_axis, False)
_cumulative(array_helpers.cumprod_axis, True)


@overload(array_helpers.cumsum_grad)
def _cumsum_grad(g, x, axis=None):
    if not (_is_array(x) and x.ndim > 0 and _is_array(g)):
        return None
    if not (_is_none(axis) or isinstance(axis, types.Integer)):
        return None

    def impl(g, x, axis=None):
        length, step = _line(x.shape, axis)
        out = np.ascontiguousarray(g).reshape(g.size).astype(np.float64)
        for i in range(out.size - 1, -1, -1):
            if (i // step) % length != length - 1:
                out[i] += out[i + step]
        return out.reshape(x.shape)
    return impl


@overload(array_helpers.cumprod_grad)
def _cumprod_grad(g, ans, x, axis=None):
    if not (_is_array(x) and x.ndim > 0 and _is_array(g) and _is_array(ans)):
        return None
    if not (_is_none(axis) or isinstance(axis, types.Integer)):
        return None

    def impl(g, ans, x, axis=None):
        length, step = _line(x.shape, axis)
        gs = np.ascontiguousarray(g).reshape(g.size)
        an = np.ascontiguousarray(ans).reshape(ans.size)
        xs = np.ascontiguousarray(x).reshape(x.size)
        out = _zeros(x.size, np.float64)
        for start in range(x.size):
            if (start // step) % length != 0:
                continue
            # One line: start, start + step, ...; z is its first zero (length if none).
            z = length
            for k in range(length):
                if xs[start + k * step] == 0:
                    z = k
                    break
            tail = 0.0
            for k in range(length - 1, -1, -1):
                i = start + k * step
                tail += gs[i] * an[i]
                if k < z:
                    out[i] = tail / xs[i]
            if z < length:
                before = an[start + (z - 1) * step] if z > 0 else 1.0
                total = 0.0
                run = 1.0
                for k in range(z, length):
                    if k > z:
                        run *= xs[start + k * step]
                    total += gs[start + k * step] * run
                out[start + z * step] = before * total
        return out.reshape(x.shape)
    return impl


# ---- elementwise ------------------------------------------------------------------

@overload(array_helpers.clip_of)
def _clip_of(a, a_min, a_max):
    low, high = not _is_none(a_min), not _is_none(a_max)
    if not (low or high):
        return None
    if not (_is_array(a) or _is_array(a_min) or _is_array(a_max)):
        if not high:
            return lambda a, a_min, a_max: max(a, a_min)
        if not low:
            return lambda a, a_min, a_max: min(a, a_max)
        return lambda a, a_min, a_max: min(max(a, a_min), a_max)
    if not high:
        return lambda a, a_min, a_max: np.maximum(a, a_min)
    if not low:
        return lambda a, a_min, a_max: np.minimum(a, a_max)
    return lambda a, a_min, a_max: np.minimum(np.maximum(a, a_min), a_max)


@overload(array_helpers.clip_inside)
def _clip_inside(x, lo, hi):
    low, high = not _is_none(lo), not _is_none(hi)
    if _is_array(x) or _is_array(lo) or _is_array(hi):
        if low and high:
            return lambda x, lo, hi: ((x >= lo) & (x <= hi)) * 1.0
        if low:
            return lambda x, lo, hi: (x >= lo) * 1.0
        if high:
            return lambda x, lo, hi: (x <= hi) * 1.0
        return lambda x, lo, hi: _filled(x.shape, 1.0)
    if _is_scalar(x):
        def scalar(x, lo, hi):
            inside = 1.0
            if low and not x >= lo:
                inside = 0.0
            if high and not x <= hi:
                inside = 0.0
            return inside
        return scalar


@overload(array_helpers.clip_below)
def _clip_below(x, lo, hi):
    if _is_none(lo):
        if _is_array(x):
            return lambda x, lo, hi: _zeros(x.shape, np.float64)
        return lambda x, lo, hi: 0.0
    if _is_none(hi):
        return lambda x, lo, hi: (x < lo) * 1.0
    return lambda x, lo, hi: ((x < lo) & (lo <= hi)) * 1.0


@overload(array_helpers.clip_above)
def _clip_above(x, lo, hi):
    if _is_none(hi):
        if _is_array(x):
            return lambda x, lo, hi: _zeros(x.shape, np.float64)
        return lambda x, lo, hi: 0.0
    if _is_none(lo):
        return lambda x, lo, hi: (x > hi) * 1.0
    return lambda x, lo, hi: (np.maximum(x, lo) > hi) * 1.0
