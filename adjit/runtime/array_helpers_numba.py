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
# reduction of `x` over `axis` maps each element of `x` (in C order) to the flat
# position of its group in the result (`_groups`), folds the elements into
# their groups, and reshapes. The number of dimensions reduced is known when
# compiling (an int axis: 1; a tuple: its length; None: all), `keepdims` is a
# constant, so the result's type is too; the axis values may be run-time ints.

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
    return np.ones(ndim, np.bool_)


@register_jitable
def _mask_int(ndim, axis):
    a = axis + ndim if axis < 0 else axis
    if a < 0 or a >= ndim:
        raise ValueError("axis is out of bounds for the array")
    mask = np.zeros(ndim, np.bool_)
    mask[a] = True
    return mask


@register_jitable
def _mask_tuple(ndim, axis):
    mask = np.zeros(ndim, np.bool_)
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
    return np.zeros(ndim, np.bool_)


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
    kept = np.empty(ndim, np.intp)
    steps = np.empty(ndim, np.intp)
    count = 1
    size = 1
    for d in range(ndim - 1, -1, -1):
        kept[d] = 1 if reduced[d] else shape[d]
        steps[d] = 0 if reduced[d] else count
        count *= kept[d]
        size *= shape[d]
    groups = np.empty(size, np.intp)
    for i in range(size):
        rest = i
        f = 0
        for d in range(ndim - 1, -1, -1):
            n = shape[d]
            f += (rest % n) * steps[d]
            rest //= n
        groups[i] = f
    return groups, kept, count


@register_jitable
def _flat_array(x):
    return np.ascontiguousarray(x).reshape(x.size)


@register_jitable
def _flat_scalar(x):
    return np.full(1, x)


@functools.lru_cache(maxsize=None)
def _finisher(ndim, keep, left):
    """A jitted `(flat, kept, reduced) -> result`: a scalar when no dimension is left."""
    if keep:
        return register_jitable(lambda flat, kept, reduced: flat.reshape(to_fixed_tuple(kept, ndim)))
    if left == 0:
        return register_jitable(lambda flat, kept, reduced: flat[0])
    return register_jitable(
        lambda flat, kept, reduced: flat.reshape(to_fixed_tuple(kept[~reduced], left)))


@register_jitable
def _fold_sum(flat, groups, count, out):
    for i in range(flat.size):
        out[groups[i]] += flat[i]
    return out


@register_jitable
def _fold_prod(flat, groups, count, out):
    out[:] = 1
    for i in range(flat.size):
        out[groups[i]] *= flat[i]
    return out


@register_jitable
def _fold_max(flat, groups, count, out):
    seen = np.zeros(count, np.bool_)
    for i in range(flat.size):
        f, v = groups[i], flat[i]
        if not seen[f]:
            out[f] = v
            seen[f] = True
        elif out[f] == out[f] and (v > out[f] or v != v):   # NaN wins, as in NumPy
            out[f] = v
    return out


@register_jitable
def _fold_min(flat, groups, count, out):
    seen = np.zeros(count, np.bool_)
    for i in range(flat.size):
        f, v = groups[i], flat[i]
        if not seen[f]:
            out[f] = v
            seen[f] = True
        elif out[f] == out[f] and (v < out[f] or v != v):   # NaN wins, as in NumPy
            out[f] = v
    return out


@register_jitable
def _fold_mean(flat, groups, count, out):
    _fold_sum(flat, groups, count, out)
    return out / (flat.size // count)


@register_jitable
def _fold_var(flat, groups, count, out, ddof):
    mean = _fold_mean(flat, groups, count, np.zeros(count))
    for i in range(flat.size):
        d = flat[i] - mean[groups[i]]
        out[groups[i]] += d * d
    return out / (flat.size // count - ddof)


@register_jitable
def _fold_std(flat, groups, count, out, ddof):
    return np.sqrt(_fold_var(flat, groups, count, out, ddof))


@register_jitable
def _fold_norm(flat, groups, count, out):
    for i in range(flat.size):
        out[groups[i]] += flat[i] * flat[i]
    return np.sqrt(out)


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


_FOLDS = {"sum": _fold_sum, "prod": _fold_prod, "max": _fold_max, "min": _fold_min,
          "mean": _fold_mean, "norm": _fold_norm}


def _reduction_typer(x, axis, keepdims, kind):
    """(fold, mask, finish, result dtype) for a reduction, or None if Numba cannot do it."""
    if not _is_array(x) or x.ndim == 0:
        return None
    info, keep, dtype = _axis_info(x, axis), _static_bool(keepdims), _result_dtype(x, kind)
    if info is None or keep is None or dtype is None:
        return None
    mask, reduced = info
    return mask, _finisher(x.ndim, keep, x.ndim - reduced), dtype


def _overload_reduction(helper, kind):
    fold = _FOLDS[kind]

    def typer(x, axis=None, dtype=None, out=None, keepdims=False):
        parts = _reduction_typer(x, axis, keepdims, kind)
        if parts is None or not _is_none(dtype) or not _is_none(out):
            return None
        mask, finish, result = parts
        ndim = x.ndim

        def impl(x, axis=None, dtype=None, out=None, keepdims=False):
            reduced = mask(ndim, axis)
            groups, kept, count = _groups(x.shape, reduced)
            flat = fold(np.ascontiguousarray(x).reshape(x.size), groups, count,
                        np.zeros(count, result))
            return finish(flat, kept, reduced)
        return impl
    overload(helper)(typer)


for _helper, _kind in ((array_helpers.sum_axis, "sum"), (array_helpers.mean_axis, "mean"),
                       (array_helpers.prod_axis, "prod")):
    _overload_reduction(_helper, _kind)


def _overload_extremum(helper, kind):
    fold = _FOLDS[kind]

    def typer(x, axis=None, out=None, keepdims=False):
        parts = _reduction_typer(x, axis, keepdims, kind)
        if parts is None or not _is_none(out):
            return None
        mask, finish, result = parts
        ndim = x.ndim

        def impl(x, axis=None, out=None, keepdims=False):
            reduced = mask(ndim, axis)
            groups, kept, count = _groups(x.shape, reduced)
            flat = fold(np.ascontiguousarray(x).reshape(x.size), groups, count,
                        np.zeros(count, result))
            return finish(flat, kept, reduced)
        return impl
    overload(helper)(typer)


_overload_extremum(array_helpers.max_axis, "max")
_overload_extremum(array_helpers.min_axis, "min")


def _overload_spread(helper, fold):
    def typer(x, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
        parts = _reduction_typer(x, axis, keepdims, "var")
        if parts is None or not _is_none(dtype) or not _is_none(out):
            return None
        mask, finish, result = parts
        ndim = x.ndim

        def impl(x, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
            reduced = mask(ndim, axis)
            groups, kept, count = _groups(x.shape, reduced)
            flat = fold(np.ascontiguousarray(x).reshape(x.size), groups, count,
                        np.zeros(count, result), ddof)
            return finish(flat, kept, reduced)
        return impl
    overload(helper)(typer)


_overload_spread(array_helpers.var_axis, _fold_var)
_overload_spread(array_helpers.std_axis, _fold_std)


@overload(array_helpers.norm_axis)
def _norm_axis(x, ord=None, axis=None, keepdims=False):
    if not _is_none(ord):
        return None
    parts = _reduction_typer(x, axis, keepdims, "norm")
    if parts is None:
        return None
    mask, finish, result = parts
    ndim = x.ndim

    def impl(x, ord=None, axis=None, keepdims=False):
        reduced = mask(ndim, axis)
        groups, kept, count = _groups(x.shape, reduced)
        flat = _fold_norm(np.ascontiguousarray(x).reshape(x.size), groups, count,
                          np.zeros(count, result))
        return finish(flat, kept, reduced)
    return impl


# ---- gradients of reductions ---------------------------------------------------

def _gradient_typer(x, axis):
    if not _is_array(x) or x.ndim == 0:
        return None
    info = _axis_info(x, axis)
    return None if info is None else info[0]


def _flat_of(x):
    """In Numba only: `x`'s elements in C order, as a 1-D array (an array of one for a scalar)."""
    raise NotImplementedError("_flat_of runs in Numba only")


@overload(_flat_of)
def _flat_of_typer(x):
    return _flat_array if _is_array(x) else _flat_scalar


def _gradient_helper(helper, scalar):
    """Overload `helper`, a helper of the gradients of reductions of its parameter `x` over
    its parameter `axis`, with the decorated function, which has the helper's parameters
    and gets the reduced dimensions from `_mask(x.ndim, axis)` (and the groups of elements
    reduced together from `_groups`). The overload refuses the `x` and `axis` that
    `_gradient_typer` does; for a scalar `x` it is `scalar(*types)`: `scalar` takes the
    argument types and gives a function with the helper's parameters.

    Numba compiles the decorated function once for each type of argument, as it would the
    implementation an overload of its own returned."""
    def decorate(impl):
        signature = inspect.signature(impl)

        def typer(*args, **kws):
            bound = signature.bind(*args, **kws)
            bound.apply_defaults()
            x, axis = bound.arguments["x"], bound.arguments["axis"]
            if _is_scalar(x):
                return scalar(*bound.args)
            return None if _gradient_typer(x, axis) is None else impl
        typer.__signature__ = signature
        overload(helper)(typer)
        return impl
    return decorate


def _unreduce_scalar(g, x, axis=None, keepdims=False):
    if _is_array(g):
        return lambda g, x, axis=None, keepdims=False: np.sum(g)
    return lambda g, x, axis=None, keepdims=False: np.float64(g)


@_gradient_helper(array_helpers.unreduce, _unreduce_scalar)
def _unreduce(g, x, axis=None, keepdims=False):
    groups, kept, count = _groups(x.shape, _mask(x.ndim, axis))
    spread = _flat_of(g)
    out = np.empty(x.size)
    for i in range(x.size):
        out[i] = spread[groups[i]]
    return out.reshape(x.shape)


@_gradient_helper(array_helpers.reduced_size, lambda *types: lambda x, axis=None: 1)
def _reduced_size(x, axis=None):
    reduced = _mask(x.ndim, axis)
    n = 1
    for d in range(x.ndim):
        if reduced[d]:
            n *= x.shape[d]
    return n


@_gradient_helper(array_helpers.centered, lambda *types: lambda x, axis=None: 0.0)
def _centered(x, axis=None):
    groups, kept, count = _groups(x.shape, _mask(x.ndim, axis))
    flat = np.ascontiguousarray(x).reshape(x.size)
    mean = _fold_mean(flat, groups, count, np.zeros(count))
    out = np.empty(x.size)
    for i in range(x.size):
        out[i] = flat[i] - mean[groups[i]]
    return out.reshape(x.shape)


@_gradient_helper(array_helpers.prod_others, lambda *types: lambda x, axis=None: 1.0)
def _prod_others(x, axis=None):
    groups, kept, count = _groups(x.shape, _mask(x.ndim, axis))
    flat = np.ascontiguousarray(x).reshape(x.size)
    rest = np.ones(count)
    zeros = np.zeros(count, np.intp)
    for i in range(x.size):
        if flat[i] == 0:
            zeros[groups[i]] += 1
        else:
            rest[groups[i]] *= flat[i]
    out = np.zeros(x.size)
    for i in range(x.size):
        f = groups[i]
        if zeros[f] == 0:
            out[i] = rest[f] / flat[i]
        elif zeros[f] == 1 and flat[i] == 0:
            out[i] = rest[f]
    return out.reshape(x.shape)


@_gradient_helper(array_helpers.extremum_share,
                   lambda *types: lambda x, ans, axis=None, keepdims=False: 1.0)
def _extremum_share(x, ans, axis=None, keepdims=False):
    groups, kept, count = _groups(x.shape, _mask(x.ndim, axis))
    flat = np.ascontiguousarray(x).reshape(x.size)
    best = _flat_of(ans)
    ties = np.zeros(count)
    for i in range(x.size):
        if flat[i] == best[groups[i]]:
            ties[groups[i]] += 1.0
    out = np.zeros(x.size)
    for i in range(x.size):
        if flat[i] == best[groups[i]]:
            out[i] = 1.0 / ties[groups[i]]
    return out.reshape(x.shape)


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
        out = np.zeros(x.size)
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
        return lambda x, lo, hi: np.ones(x.shape)
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
            return lambda x, lo, hi: np.zeros(x.shape)
        return lambda x, lo, hi: 0.0
    if _is_none(hi):
        return lambda x, lo, hi: (x < lo) * 1.0
    return lambda x, lo, hi: ((x < lo) & (lo <= hi)) * 1.0


@overload(array_helpers.clip_above)
def _clip_above(x, lo, hi):
    if _is_none(hi):
        if _is_array(x):
            return lambda x, lo, hi: np.zeros(x.shape)
        return lambda x, lo, hi: 0.0
    if _is_none(lo):
        return lambda x, lo, hi: (x > hi) * 1.0
    return lambda x, lo, hi: (np.maximum(x, lo) > hi) * 1.0
