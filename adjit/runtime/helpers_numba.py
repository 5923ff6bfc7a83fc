"""Numba implementations of the helpers in `helpers`, chosen by type at compile time.

Importing this module registers an `overload` for each helper, so the same
name in generated code compiles to scalar code for scalars and array code
for arrays, with no run-time test of which it is.
"""

import functools
import inspect
import operator

import numpy as np
from numba import types
from numba.core import cgutils
from numba.core.imputils import impl_ret_borrowed, lower_builtin
from numba.core.registry import cpu_target
from numba.core.typing import signature
from numba.core.typing.npydecl import parse_dtype
from numba.extending import intrinsic, overload, register_jitable, type_callable
from numba.np.arrayobj import (_parse_shape, get_itemsize, load_item, make_array,
                               populate_array, store_item)

from . import helpers


def _is_array(t):
    return isinstance(t, types.Array)


def _is_scalar(t):
    return isinstance(t, (types.Number, types.Boolean))


# Compile time matters as much as run time: each function Numba compiles on its own costs
# a few hundredths of a second, and its code is optimised again in every function that
# calls it. So the commonest cases of the small helpers are written as code into the
# function that calls them (`_lowered`; not `overload(inline="always")`, which Numba
# compiles on its own anyway before inlining), arrays are allocated by intrinsics (no
# `np.empty`/`np.zeros` compiled once per form of shape and dtype), and errors raised in
# compiled code have constant messages (a formatted one pulls in Numba's string machinery).

def _dims(shape):
    """How many dimensions an array of `shape` (an int or a tuple of ints) has, or None."""
    shape = types.unliteral(shape)
    if isinstance(shape, types.Integer):
        return 1
    if isinstance(shape, types.BaseTuple) and all(isinstance(t, types.Integer) for t in shape):
        return len(shape)
    return None


def _allocate(context, builder, arrtype, shapes):
    """A new array of C-order type `arrtype` with dimensions `shapes` (LLVM intp values),
    its elements not set: Numba's `_empty_nd_impl` without its trampoline to the array
    type's `_allocate` method, which Numba compiles as a function of its own (about a
    tenth of a second, the first time in a process) only to call the runtime's allocator."""
    assert arrtype.layout == "C"
    ary = make_array(arrtype)(context, builder)
    intp = context.get_value_type(types.intp)
    itemsize = context.get_constant(types.intp, get_itemsize(context, arrtype))
    size = context.get_constant(types.intp, 1)
    overflow = cgutils.false_bit
    for extent in [*shapes, itemsize]:      # elements, then bytes
        product = builder.smul_with_overflow(size, extent)
        size = builder.extract_value(product, 0)
        overflow = builder.or_(overflow, builder.extract_value(product, 1))
    with builder.if_then(overflow, likely=False):
        context.call_conv.return_user_exc(builder, ValueError, (
            "array is too big; `arr.size * arr.dtype.itemsize` is larger than the maximum "
            "possible size.",))
    strides = [itemsize]
    for extent in reversed(shapes[1:]):
        strides.append(builder.mul(strides[-1], extent))
    align = context.get_constant(types.uint32,
                                 context.get_preferred_array_alignment(arrtype.dtype))
    meminfo = context.nrt.meminfo_alloc_aligned(builder, size, align)
    data = builder.bitcast(context.nrt.meminfo_data(builder, meminfo),
                           context.get_data_type(arrtype.dtype).as_pointer())
    populate_array(ary, data=data,
                   shape=cgutils.pack_array(builder, list(shapes), ty=intp),
                   strides=cgutils.pack_array(builder, strides[::-1][:arrtype.ndim], ty=intp),
                   itemsize=itemsize, meminfo=meminfo)
    return ary


def _new_array(zero):
    def typer(typingctx, shape, dtype):
        ndim, nb_dtype = _dims(shape), parse_dtype(dtype)
        if ndim is None or nb_dtype is None:
            return None

        def codegen(context, builder, sig, args):
            shapes = _parse_shape(context, builder, sig.args[0], args[0])
            ary = _allocate(context, builder, sig.return_type, shapes)
            if zero:
                cgutils.memset(builder, ary.data, builder.mul(ary.itemsize, ary.nitems), 0)
            return ary._getvalue()
        return types.Array(nb_dtype, ndim, "C")(shape, dtype), codegen
    return typer


# `np.empty(shape, dtype)` and `np.zeros(shape, dtype)`, written where they are called
_empty = intrinsic(_new_array(False))
_zeros = intrinsic(_new_array(True))


@register_jitable
def _filled(shape, value):
    """`np.full(shape, value)` of float64 (a C-order loop, not `.flat`)."""
    out = _empty(shape, np.float64)
    flat = _flat(out)
    for k in range(flat.shape[0]):
        flat[k] = value
    return out


# ---- helpers written as code, not compiled on their own -------------------------------
# The commonest cases of the small helpers are typed (`type_callable`) and lowered
# (`lower_builtin`) straight into the generated function, as Numba does for `a[i]`; the
# overloads above serve the rest. Each saves a compilation of its own (a few hundredths
# of a second each, and more when the function calling it is optimised).

def _lowered(helper):
    """Decorate `typer(*arg types) -> (return type, arg types, codegen) or None`: `helper`
    called with those types is `codegen(context, builder, sig, args)`."""
    def decorate(typer):
        codegens = {}

        @type_callable(helper)
        def typing(context):
            def generic(*args):
                found = typer(*args)
                if found is None:
                    return None
                ret, arg_types, codegen = found
                sig = signature(ret, *arg_types)
                codegens[sig.args] = codegen
                return sig
            generic.__signature__ = inspect.signature(typer)
            return generic

        @lower_builtin(helper, types.VarArg(types.Any))
        def lower(context, builder, sig, args):
            return codegens[sig.args](context, builder, sig, args)
        return typer
    return decorate


def _borrowed(context, builder, sig, args):
    """The first argument, returned as is."""
    return impl_ret_borrowed(context, builder, sig.return_type, args[0])


def _new_like(context, builder, x_type, x, dtype, zero=False):
    """A new C-order array of `dtype` with the shape of array `x`."""
    shapes = cgutils.unpack_tuple(builder, make_array(x_type)(context, builder, x).shape,
                                  count=x_type.ndim)
    ary = _allocate(context, builder, types.Array(dtype, x_type.ndim, "C"), shapes)
    if zero:
        cgutils.memset(builder, ary.data, builder.mul(ary.itemsize, ary.nitems), 0)
    return ary


def _full_like(context, builder, x_type, x, dtype, value, value_type):
    """A new array of `dtype` with the shape of `x`, every element `value`."""
    ary = _new_like(context, builder, x_type, x, dtype)
    data = context.get_value_as_data(builder, dtype,
                                     context.cast(builder, value, value_type, dtype))
    with cgutils.for_range(builder, ary.nitems) as loop:
        builder.store(data, builder.gep(ary.data, [loop.index]))
    return ary._getvalue()


def _element_index(array, index):
    """`index`'s type, unliteral, if `array[index]` is one element, else None."""
    if not _is_array(array):
        return None
    if isinstance(index, types.Integer):
        return types.unliteral(index) if array.ndim == 1 else None
    if (isinstance(index, types.UniTuple) and isinstance(index.dtype, types.Integer)
            and len(index) == array.ndim):
        return types.UniTuple(types.unliteral(index.dtype), len(index))
    return None


@_lowered(helpers.zeros_like)
def _zeros_like_code(x):
    if _is_array(x):
        return (types.Array(types.float64, x.ndim, "C"), (x,),
                lambda context, builder, sig, args: _new_like(
                    context, builder, sig.args[0], args[0], types.float64, zero=True)._getvalue())
    if _is_scalar(x):
        return (types.float64, (types.unliteral(x),),
                lambda context, builder, sig, args: context.get_constant(types.float64, 0.0))


@_lowered(helpers.size_of)
def _size_of_code(x):
    if _is_array(x):
        return (types.intp, (x,), lambda context, builder, sig, args:
                make_array(sig.args[0])(context, builder, args[0]).nitems)
    if _is_scalar(x):
        return (types.int64, (types.unliteral(x),),
                lambda context, builder, sig, args: context.get_constant(types.int64, 1))


@_lowered(helpers.log_height)
def _log_height_code(log):
    if isinstance(log, types.BaseTuple) and len(log) == 3 and _is_array(log[2]):
        def codegen(context, builder, sig, args):
            count = builder.extract_value(args[0], 2)
            return builder.load(make_array(sig.args[0][2])(context, builder, count).data)
        return log[2].dtype, (log,), codegen


@_lowered(helpers.trip_count)
def _trip_count_code(start, stop, step):
    if not all(isinstance(t, types.Integer) for t in (start, stop, step)):
        return None

    def codegen(context, builder, sig, args):
        start, stop, step = (context.cast(builder, v, t, types.int64)
                             for v, t in zip(args, sig.args))
        one = context.get_constant(types.int64, 1)
        zero = context.get_constant(types.int64, 0)
        up = builder.icmp_signed(">", step, zero)
        count = builder.select(up, builder.sub(builder.add(builder.sub(stop, start), step), one),
                               builder.sub(builder.sub(builder.sub(start, stop), step), one))
        by = builder.select(up, step, builder.neg(step))
        with cgutils.if_unlikely(builder, builder.icmp_signed("==", by, zero)):
            context.call_conv.return_user_exc(builder, ZeroDivisionError,
                                              ("integer division by zero",))
        # (a negative count gives at most 0 truncated as floored: 0 either way)
        trips = builder.sdiv(count, by)
        return builder.select(builder.icmp_signed(">", trips, zero), trips, zero)
    return types.int64, tuple(types.unliteral(t) for t in (start, stop, step)), codegen


@_lowered(helpers.stack_like)
def _stack_like_code(value, capacity):
    value, capacity = types.unliteral(value), types.unliteral(capacity)
    if isinstance(value, (types.Boolean, types.Integer, types.Float)) and \
            isinstance(capacity, types.Integer):
        # (float64 whatever the witness, as the overload below)
        def codegen(context, builder, sig, args):
            shapes = _parse_shape(context, builder, sig.args[1], args[1])
            return _allocate(context, builder, sig.return_type, shapes)._getvalue()
        return types.Array(types.float64, 1, "C"), (value, capacity), codegen


@_lowered(helpers.restore)
def _restore_code(stack, slot, like):
    if not isinstance(slot, types.Integer):
        return None
    like, slot = types.unliteral(like), types.unliteral(slot)
    if (_is_array(stack) and stack.ndim == 1
            and isinstance(like, (types.Integer, types.Float, types.Boolean))):
        def codegen(context, builder, sig, args):
            get = context.get_function(operator.getitem, signature(stack.dtype, stack, slot))
            return context.cast(builder, get(builder, args[:2]), stack.dtype, like)
        return like, (stack, slot, like), codegen
    if isinstance(stack, types.List) and not _is_scalar(like):
        def codegen(context, builder, sig, args):
            get = context.get_function(operator.getitem, signature(stack.dtype, stack, slot))
            return get(builder, args[:2])
        return stack.dtype, (stack, slot, like), codegen


@_lowered(helpers.unbroadcast)
@_lowered(helpers.broadcast_like)
def _number_onto_code(grad, x):
    """`broadcast_like` and `unbroadcast` of a number `grad`: itself onto a number,
    spread over an array."""
    grad = types.unliteral(grad)
    if _is_scalar(x) and _is_scalar(grad):
        return grad, (grad, types.unliteral(x)), _borrowed
    if _is_array(x) and _is_scalar(grad):
        return types.Array(grad, x.ndim, "C"), (grad, x), _spread_code


def _spread_code(context, builder, sig, args):
    """`np.full(x.shape, grad)` for arguments (grad, x): the dtype is grad's type."""
    return _full_like(context, builder, sig.args[1], args[1], sig.args[0], args[0], sig.args[0])


@_lowered(helpers.seed_like)
def _seed_like_code(result, cotangent):
    cotangent = types.unliteral(cotangent)
    if (_is_array(result) and _is_array(cotangent) and 0 < cotangent.ndim <= result.ndim
            and isinstance(cotangent.dtype, (types.Integer, types.Float, types.Boolean))):
        return (types.Array(types.float64, result.ndim, "C"), (result, cotangent),
                _seed_array_code)
    if not _is_scalar(cotangent):
        return None
    if _is_scalar(result):
        return (types.float64, (types.unliteral(result), cotangent),
                lambda context, builder, sig, args: context.cast(
                    builder, args[1], sig.args[1], types.float64))
    if _is_array(result):
        return (types.Array(types.float64, result.ndim, "C"), (result, cotangent),
                lambda context, builder, sig, args: _full_like(
                    context, builder, sig.args[0], args[0], types.float64, args[1], sig.args[1]))


def _seed_array_code(context, builder, sig, args):
    """`seed_like(result, cotangent)` of arrays: `np.ones(result.shape) * cotangent` as
    float64, C order, their broadcast shape (the loops `_seed_array_of` writes)."""
    rtype, ctype = sig.args
    res = make_array(rtype)(context, builder, args[0])
    cot = make_array(ctype)(context, builder, args[1])
    rdim, cdim = rtype.ndim, ctype.ndim
    extra = rdim - cdim
    one = context.get_constant(types.intp, 1)
    shapes = cgutils.unpack_tuple(builder, res.shape, count=rdim)
    cshapes = cgutils.unpack_tuple(builder, cot.shape, count=cdim)
    cstrides = cgutils.unpack_tuple(builder, cot.strides, count=cdim)
    for d in range(cdim):
        o, c = shapes[d + extra], cshapes[d]
        bad = builder.and_(builder.icmp_signed("!=", c, o),
                           builder.and_(builder.icmp_signed("!=", o, one),
                                        builder.icmp_signed("!=", c, one)))
        with cgutils.if_unlikely(builder, bad):
            context.call_conv.return_user_exc(
                builder, ValueError, ("operands could not be broadcast together",))
        shapes[d + extra] = builder.select(builder.icmp_signed("==", o, one), c, o)
    out = _allocate(context, builder, sig.return_type, shapes)
    with cgutils.loop_nest(builder, shapes, one.type) as index:
        cindex = [builder.select(builder.icmp_signed("==", cshapes[d], one),
                                 context.get_constant(types.intp, 0), index[d + extra])
                  for d in range(cdim)]
        ptr = cgutils.get_item_pointer2(context, builder, cot.data, cshapes, cstrides,
                                        ctype.layout, cindex)
        value = context.cast(builder, load_item(context, builder, ctype, ptr),
                             ctype.dtype, types.float64)
        store_item(context, builder, sig.return_type, value,
                   cgutils.get_item_pointer(context, builder, sig.return_type, out, index))
    return out._getvalue()


@_lowered(helpers.grad_at)
def _grad_at_code(grad, index):
    index = _element_index(grad, index)
    if index is not None:
        def codegen(context, builder, sig, args):
            return context.get_function(operator.getitem, sig)(builder, args)
        return grad.dtype, (grad, index), codegen


@_lowered(helpers.zero_at)
def _zero_at_code(grad, index):
    index = _element_index(grad, index)
    if index is not None:
        def codegen(context, builder, sig, args):
            zero = context.get_constant(types.float64, 0.0)
            context.get_function(operator.setitem, signature(
                types.none, grad, index, types.float64))(builder, (args[0], args[1], zero))
            return impl_ret_borrowed(context, builder, grad, args[0])
        return grad, (grad, index), codegen


@_lowered(helpers.add_at)
def _add_at_code(array, index, value):
    if _is_array(array) and _is_view(array, index):
        return _add_view_code(array, index, value)
    index, value = _element_index(array, index), types.unliteral(value)
    if index is None or not isinstance(value, (types.Integer, types.Float)):
        return None
    dtype = array.dtype
    if not isinstance(dtype, (types.Integer, types.Float)):
        return None

    def codegen(context, builder, sig, args):
        old = context.get_function(operator.getitem, signature(dtype, array, index))(
            builder, args[:2])
        add_sig = context.typing_context.resolve_function_type(operator.iadd, (dtype, value), {})
        new = context.get_function(operator.iadd, add_sig)(builder, (
            context.cast(builder, old, dtype, add_sig.args[0]),
            context.cast(builder, args[2], value, add_sig.args[1])))
        context.get_function(operator.setitem, signature(
            types.none, array, index, add_sig.return_type))(builder, (args[0], args[1], new))
        return impl_ret_borrowed(context, builder, array, args[0])
    return array, (array, index, value), codegen


def _add_view_code(array, index, value):
    """`add_at` into a region (slices, maybe with integers): `view = array[index];
    view += value` in place, as the overload's `add_view` does, written into the caller."""
    value = types.unliteral(value)
    if not isinstance(value, (types.Integer, types.Float, types.Array)):
        return None
    get_sig = _resolve(operator.getitem, (array, index))
    if get_sig is None:
        return None
    view = get_sig.return_type
    add_sig = _resolve(operator.iadd, (view, value))
    if add_sig is None or add_sig.return_type != view:
        return None
    index = get_sig.args[1]

    def codegen(context, builder, sig, args):
        got = context.get_function(operator.getitem, get_sig)(builder, args[:2])
        added = context.get_function(operator.iadd, add_sig)(builder, (got, args[2]))
        context.nrt.decref(builder, view, added)
        context.nrt.decref(builder, view, got)
        return impl_ret_borrowed(context, builder, array, args[0])
    return array, (array, index, value), codegen


def _resolve(op, arg_types):
    """The signature Numba's typing gives `op(*arg_types)`, or None (no such operation:
    the overload below then reports it as before)."""
    try:
        return cpu_target.typing_context.resolve_function_type(op, arg_types, {})
    except Exception:       # (Numba's typing of int_array += float raises AttributeError)
        return None


@_lowered(helpers.undo_log)
def _undo_log_code(array):
    if not _is_array(array):
        return None
    parts = (types.Array(types.int64, 1, "C"), types.Array(array.dtype, 1, "C"),
             types.Array(types.int64, 1, "C"))
    log = types.BaseTuple.from_types(parts)

    def codegen(context, builder, sig, args):
        sixteen, two = (context.get_constant(types.intp, n) for n in (16, 2))
        where = _allocate(context, builder, parts[0], [sixteen])
        old = _allocate(context, builder, parts[1], [sixteen])
        count = _allocate(context, builder, parts[2], [two])
        cgutils.memset(builder, count.data, builder.mul(count.itemsize, count.nitems), 0)
        return context.make_tuple(builder, log, [where._getvalue(), old._getvalue(),
                                                 count._getvalue()])
    return log, (array,), codegen


@overload(helpers.zeros_like)
def _zeros_like(x):
    if _is_array(x):
        return lambda x: _zeros(x.shape, np.float64)
    if _is_scalar(x):
        return lambda x: 0.0


@overload(helpers.seed_like)
def _seed_like(result, cotangent):
    if _is_array(result) and _is_scalar(cotangent):
        # (1.0 * c is c: one array, where `np.ones(...) * c` makes two)
        return lambda result, cotangent: _filled(result.shape, np.float64(cotangent))
    if (_is_array(result) and _is_array(cotangent) and 0 < cotangent.ndim <= result.ndim
            and isinstance(cotangent.dtype, (types.Integer, types.Float, types.Boolean))):
        return _seed_array_of(result.ndim, cotangent.ndim)
    if _is_array(result):
        return lambda result, cotangent: _filled(result.shape, 1.0) * cotangent
    if _is_scalar(result):
        return lambda result, cotangent: np.float64(cotangent)


@functools.lru_cache(maxsize=None)
def _seed_array_of(rdim, cdim):
    """`seed_like(result, cotangent)` of arrays with `rdim` and `cdim` <= `rdim` dimensions:
    `np.ones(result.shape) * cotangent` (float64, their broadcast shape), as loops written
    out for these ranks (the array expression costs several times more to compile)."""
    extra = rdim - cdim
    lines = ["def seed(result, cotangent):"]
    for d in range(rdim):
        lines.append(f"    o{d} = result.shape[{d}]")
    for d in range(cdim):
        r = d + extra
        lines += [f"    c{d} = cotangent.shape[{d}]",
                  f"    if c{d} != o{r}:",
                  f"        if o{r} == 1:",
                  f"            o{r} = c{d}",
                  f"        elif c{d} != 1:",
                  "            raise ValueError('operands could not be broadcast together')"]
    shape = "".join(f"o{d}, " for d in range(rdim))
    lines.append(f"    out = _empty(({shape}), np.float64)")
    indent = "    "
    for d in range(rdim):
        lines.append(f"{indent}for i{d} in range(o{d}):")
        indent += "    "
    index = "".join(f"0 if c{d} == 1 else i{d + extra}, " for d in range(cdim))
    target = "".join(f"i{d}, " for d in range(rdim))
    lines.append(f"{indent}out[{target}] = cotangent[{index}]")
    lines.append("    return out")
    namespace = {"np": np, "_empty": _empty}
    exec("\n".join(lines), namespace)
    return namespace["seed"]


@functools.lru_cache(maxsize=None)
def _sum_to_shape_of(gdim, xdim, as_float):
    """`unbroadcast(grad, x)` of an array `grad` (`gdim` dimensions) and an array `x`
    (`xdim`): `grad` itself if it has `x`'s shape (as float64 if `as_float`), else `grad`
    summed over the axes along which `x` was broadcast. One function, with nested loops
    over `grad` written out for these ranks (an `np.ndindex` loop in a function of its
    own compiles several times slower)."""
    extra = gdim - xdim
    lines = ["def unbroadcast(grad, x):"]
    if gdim == xdim:
        lines += ["    if grad.shape == x.shape:",
                  "        return grad.astype(np.float64)" if as_float else "        return grad"]
    lines += ["    out = _zeros(x.shape, np.float64)",
              "    flat = _flat(out)"]
    for d in range(xdim):
        lines.append(f"    n{d} = x.shape[{d}]")
    indent = "    "
    for d in range(gdim):
        lines.append(f"{indent}for i{d} in range(grad.shape[{d}]):")
        indent += "    "
    pos = "0"
    for d in range(xdim):
        pos = f"({pos}) * n{d} + (0 if n{d} == 1 else i{d + extra})"
    index = ", ".join(f"i{d}" for d in range(gdim)) or "()"
    lines.append(f"{indent}flat[{pos}] += grad[{index}]")
    lines.append("    return out")
    namespace = {"np": np, "_zeros": _zeros, "_flat": _flat}
    exec("\n".join(lines), namespace)
    return namespace["unbroadcast"]


@overload(helpers.unbroadcast)
def _unbroadcast(grad, x):
    if _is_scalar(x):
        if _is_array(grad):
            return lambda grad, x: np.sum(grad)
        return lambda grad, x: grad
    if _is_array(x):
        if _is_scalar(grad):
            return _spread(grad)
        if _is_array(grad):
            if grad.ndim < x.ndim:      # (not from broadcasting: grad spread over x)
                return lambda grad, x: _zeros(x.shape, np.float64) + grad
            return _sum_to_shape_of(grad.ndim, x.ndim, grad.dtype != types.float64)


def _spread(grad):
    """The implementation of `(grad, x) -> an array shaped like x, every element grad`,
    for a number `grad`."""
    dtype = types.unliteral(grad)

    def spread(grad, x):
        out = _empty(x.shape, dtype)
        flat = _flat(out)
        for k in range(flat.shape[0]):
            flat[k] = grad
        return out
    return spread


@overload(helpers.broadcast_like)
def _broadcast_like(grad, x):
    if _is_array(x):
        return _spread(grad)
    return lambda grad, x: grad


@overload(helpers.extremum_grad)
def _extremum_grad(g, ans, x):
    if _is_array(x):
        def impl(g, ans, x):
            mask = (x == ans).astype(np.float64)
            return g * mask / np.sum(mask)
        return impl
    return lambda g, ans, x: g


@overload(helpers.add_at)
def _add_at(array, index, value):
    if isinstance(index, types.Array) and isinstance(index.dtype, types.Integer):
        # Integer-array index: add once per entry, so repeated indices accumulate.
        if index.ndim != 1:
            return None
        scalar = _is_scalar(value)

        def scatter(array, index, value):
            for k in range(index.shape[0]):
                array[index[k]] += value if scalar else value[k]
            return array
        return scatter
    if _is_array(array) and _is_view(array, index):
        # A region (slices, maybe with integers): add into the view, in place. (Numba's
        # `array[index] += value` then copies the view onto itself, through a new array.)
        def add_view(array, index, value):
            view = array[index]
            view += value
            return array
        return add_view

    def add(array, index, value):
        array[index] += value
        return array
    return add


def _is_view(array, index):
    """Whether `array[index]` is a view of `array`: basic indexing by slices and
    integers, with at least one slice and no more parts than `array` has dimensions."""
    parts = list(index) if isinstance(index, types.BaseTuple) else [index]
    return (len(parts) <= array.ndim
            and all(isinstance(p, (types.SliceType, types.Integer)) for p in parts)
            and any(isinstance(p, types.SliceType) for p in parts))


@overload(helpers.size_of)
def _size_of(x):
    if _is_array(x):
        return lambda x: x.size
    return lambda x: 1


def _dot_grad(left):
    def typer(g, x, y):
        if not (_is_array(x) and x.ndim > 0 and _is_array(y) and y.ndim > 0):
            if left:
                return lambda g, x, y: helpers.unbroadcast(g * y, x)
            return lambda g, x, y: helpers.unbroadcast(g * x, y)
        if x.ndim == 1 and y.ndim == 1:
            return (lambda g, x, y: g * y) if left else (lambda g, x, y: g * x)
        if x.ndim == 1 and y.ndim == 2:
            return (lambda g, x, y: np.dot(y, g)) if left else (lambda g, x, y: np.outer(x, g))
        if x.ndim == 2 and y.ndim == 1:
            return (lambda g, x, y: np.outer(g, y)) if left else (lambda g, x, y: np.dot(x.T, g))
        if x.ndim == 2 and y.ndim == 2:
            from .linalg_helpers_numba import _product     # (it imports this module)
            return (lambda g, x, y: _product(g, y.T)) if left else (lambda g, x, y: _product(x.T, g))
    return typer


def _transposed(context, builder, ty, value):
    """(the type of `value.T`, `value.T`) for a 2-D array `value` of type `ty`: a view (the
    same data, shape and strides swapped) borrowing `value`'s reference."""
    t_ty = ty.copy(layout={"C": "F", "F": "C"}.get(ty.layout, "A"))
    ary = make_array(ty)(context, builder, value)
    view = make_array(t_ty)(context, builder)
    populate_array(view, data=ary.data,
                   shape=cgutils.pack_array(builder, cgutils.unpack_tuple(builder, ary.shape)[::-1]),
                   strides=cgutils.pack_array(builder,
                                              cgutils.unpack_tuple(builder, ary.strides)[::-1]),
                   itemsize=ary.itemsize, meminfo=ary.meminfo, parent=ary.parent)
    return t_ty, view._getvalue()


def _dot_grad_code(left):
    """`dot_grad_left(g, x, y)` (g @ y.T) or `dot_grad_right` (x.T @ g) of matrices of one
    float dtype, written into the calling function: `linalg_helpers_numba._product`'s code
    on the transposed view (the overload below compiled a function of its own for each)."""
    def typer(g, x, y):
        if not all(_is_array(t) and t.ndim == 2 for t in (g, x, y)):
            return None
        from .linalg_helpers_numba import _product_code     # (it imports this module)
        other = y if left else x
        t_ty = other.copy(layout={"C": "F", "F": "C"}.get(other.layout, "A"))
        found = _product_code(g, t_ty) if left else _product_code(t_ty, g)
        if found is None:
            return None
        ret, operands, product = found

        def codegen(context, builder, sig, args):
            g_ty, x_ty, y_ty = sig.args
            if left:
                _, t = _transposed(context, builder, y_ty, args[2])
                pair = (args[0], t)
            else:
                _, t = _transposed(context, builder, x_ty, args[1])
                pair = (t, args[0])
            return product(context, builder, signature(ret, *operands), pair)
        return ret, (g, x, y), codegen
    return typer


_lowered(helpers.dot_grad_left)(_dot_grad_code(True))
_lowered(helpers.dot_grad_right)(_dot_grad_code(False))
overload(helpers.dot_grad_left)(_dot_grad(True))
overload(helpers.dot_grad_right)(_dot_grad(False))


@overload(helpers.log_or_zero)
def _log_or_zero(x):
    if _is_array(x):
        return lambda x: np.log(np.where(x == 0, 1.0, x))
    return lambda x: np.log(x) if x != 0 else 0.0


@overload(helpers.trip_count)
def _trip_count(start, stop, step):
    def impl(start, stop, step):        # (helpers.trip_count without `max`: one less compile)
        if step > 0:
            n = (stop - start + step - 1) // step
        else:
            n = (start - stop - step - 1) // -step
        return n if n > 0 else 0 * n
    return impl


@overload(helpers.stack_like)
def _stack_like(value, capacity):
    value = types.unliteral(value)
    if _is_array(value):
        return lambda value, capacity: [value] * capacity
    if isinstance(value, (types.Boolean, types.Integer, types.Float)):
        # float64 whatever the witness: a name that starts as `0` or `False`
        # may hold floats later in the loop; `restore` casts back.
        return lambda value, capacity: _empty(capacity, np.float64)


@overload(helpers.grow)
def _grow(stack):
    if isinstance(stack, types.Array):
        dtype = stack.dtype

        def bigger(stack):
            new = _empty(2 * stack.shape[0] + 16, dtype)
            for i in range(stack.shape[0]):     # (a loop: a slice copy costs Numba
                new[i] = stack[i]               # seconds to compile, this a tenth)
            return new
        return bigger

    def longer(stack):
        first = stack[0]
        for _ in range(len(stack) + 16):
            stack.append(first)
        return stack
    return longer


@overload(helpers.restore)
def _restore(stack, slot, like):
    like = types.unliteral(like)
    if isinstance(like, (types.Integer, types.Float, types.Boolean)):
        cast = like
        return lambda stack, slot, like: cast(stack[slot])
    return lambda stack, slot, like: stack[slot]


@overload(np.ndim)
def _ndim(x):
    """`np.ndim`, which Numba lacks: a compile-time constant."""
    if _is_array(x):
        ndim = x.ndim
        return lambda x: ndim
    if _is_scalar(x):
        return lambda x: 0


# ---- undo logs for writes into arrays ------------------------------------
# A log is (entries, old values, counts), counts being [entries, values] used. An
# entry is the flat position of an element overwritten, whose old value is the next
# in `old`; or, for a whole array saved at once (`log_all`), ~size (negative), the
# array's elements being the next `size` old values (no position stored per element,
# and one copy puts them back). Both arrays grow when full.
# Arrays written into are C-contiguous (made by adjit's copies, NumPy
# constructors or arithmetic), so `reshape(size)` views their elements.
# `undo_log` and `log_height` are written as code (above), and so are the others for
# C-contiguous arrays and elements given by integers (below); the overloads that follow
# serve the rest, compiled once per type, with `_log_room` (growing) shared.

def _is_element(array, index):
    """Whether `array[index]` is one element: an integer per dimension."""
    if isinstance(index, types.Integer):
        return array.ndim == 1
    if isinstance(index, types.BaseTuple):
        return len(index) == array.ndim and all(isinstance(t, types.Integer) for t in index)
    return False


def _move(dst, start, src, first, m):
    """In Numba only: `dst[start:start + m] = src[first:first + m]`, for 1-D arrays."""
    dst[start:start + m] = src[first:first + m]


@_lowered(_move)
def _move_code(dst, start, src, first, m):
    # (one `memmove` for C-contiguous arrays of one dtype: a loop of `a[i] = b[j]` checks
    # each index's sign, which keeps LLVM from vectorising it, and a slice copy costs
    # seconds to compile)
    if not all(_is_array(a) and a.ndim == 1 and a.layout == "C" for a in (dst, src)) \
            or dst.dtype != src.dtype \
            or not all(isinstance(i, types.Integer) for i in (start, first, m)):
        return None

    def codegen(context, builder, sig, args):
        to = make_array(sig.args[0])(context, builder, args[0])
        of = make_array(sig.args[2])(context, builder, args[2])
        start, first, m = (context.cast(builder, args[k], sig.args[k], types.intp)
                           for k in (1, 3, 4))
        size = context.get_abi_sizeof(context.get_data_type(sig.args[0].dtype))
        cgutils.raw_memmove(builder, builder.gep(to.data, [start]),
                            builder.gep(of.data, [first]), m, size)
        return context.get_dummy_value()
    start, first, m = (types.unliteral(t) for t in (start, first, m))
    return types.none, (dst, start, src, first, m), codegen


@overload(_move)
def _move_other(dst, start, src, first, m):
    if _is_array(dst) and _is_array(src):
        def impl(dst, start, src, first, m):
            for k in range(m):
                dst[start + k] = src[first + k]
        return impl


@register_jitable
def _grown(stack, used, m):
    """`stack` if it has room for `m` more than its first `used` items, else a copy of
    those in a new array twice as long and `m` more (a log of a few megabytes comes
    back from the allocator warm from the last call; one eight times as long came
    from the system each time, its pages faulted in afresh)."""
    if used + m <= stack.shape[0]:
        return stack
    bigger = _empty(2 * stack.shape[0] + m, stack.dtype)
    _move(bigger, 0, stack, 0, used)
    return bigger


@register_jitable
def _log_room(log, entries, values):
    """`log`, with room for `entries` more entries and `values` more old values."""
    where, old, count = log
    if count[0] + entries <= where.shape[0] and count[1] + values <= old.shape[0]:
        return log
    return (_grown(where, count[0], entries), _grown(old, count[1], values), count)


def _flat(array):
    """In Numba only: the elements of a C-contiguous `array`, as a 1-D view."""
    return array.reshape(array.size)


@_lowered(_flat)
def _flat_code(array):
    # (written as code, for the C layout: `array.reshape(size)` costs each function that
    # calls it a few hundredths of a second to compile)
    if not (_is_array(array) and array.layout == "C"):
        return None

    def codegen(context, builder, sig, args):
        if sig.args[0].ndim == 1:
            return impl_ret_borrowed(context, builder, sig.return_type, args[0])
        ary = make_array(sig.args[0])(context, builder, args[0])
        out = make_array(sig.return_type)(context, builder)
        populate_array(out, data=ary.data, shape=[ary.nitems], strides=[ary.itemsize],
                       itemsize=ary.itemsize, meminfo=ary.meminfo, parent=ary.parent)
        return impl_ret_borrowed(context, builder, sig.return_type, out._getvalue())
    return array.copy(ndim=1, layout="C"), (array,), codegen


@overload(_flat)
def _flat_other(array):
    if _is_array(array):
        return lambda array: array.reshape(array.size)


@functools.lru_cache(maxsize=None)
def _log_element(ndim, tuple_index):
    """`log_write` of one element of an array of `ndim` dimensions: its flat position
    (negative indices counted from the end) and old value pushed, written out."""
    lines = ["def element(log, array, index):", "    pos = 0"]
    for d in range(ndim):
        lines += [f"    i = index[{d}]" if tuple_index else "    i = index",
                  "    if i < 0:", f"        i += array.shape[{d}]",
                  f"    pos = pos * array.shape[{d}] + i"]
    lines += ["    log = _log_room(log, 1, 1)",
              "    where, old, count = log",
              "    where[count[0]] = pos",
              "    old[count[1]] = array[index]",
              "    count[0] += 1",
              "    count[1] += 1",
              "    return log"]
    namespace = {"_log_room": _log_room}
    exec("\n".join(lines), namespace)
    return namespace["element"]


# The log helpers of the commonest case (C-contiguous arrays, the log made by `undo_log`
# for the array's dtype, an element given by integers) are written as code into the
# function that calls them, as `undo_log` and `log_height` are: compiled on their own
# they were six functions (`log_all`, `_log_room`, `_grown` twice, `undo_to`, a
# `log_write`), a second and more of heat's first call. The overloads below serve the
# rest (slices, other layouts) and are the reference these follow step for step.

def _log_of(log, array):
    """Whether `log` is an undo log (`undo_log`'s tuple) for C-contiguous `array`."""
    return (isinstance(log, types.BaseTuple) and len(log) == 3
            and all(_is_array(t) and t.ndim == 1 and t.layout == "C" for t in log)
            and log[0].dtype == types.int64 and log[2].dtype == types.int64
            and _is_array(array) and array.layout == "C" and log[1].dtype == array.dtype)


class _Log:
    """An undo log's parts in LLVM: `where`, `old` (arrays), `count`, and the counts
    `n` (entries) and `v` (values) loaded from it."""

    def __init__(self, context, builder, log_type, log):
        self.context, self.builder, self.type, self.value = context, builder, log_type, log
        self.where, self.old, self.count = (
            make_array(t)(context, builder, builder.extract_value(log, k))
            for k, t in enumerate(log_type))
        self.n_ptr = self.count.data
        self.v_ptr = builder.gep(self.count.data, [context.get_constant(types.intp, 1)])
        self.n, self.v = builder.load(self.n_ptr), builder.load(self.v_ptr)

    def grown(self, part, used, m):
        """(A new reference) the log's `where` (part 0) or `old` (1) if it has room for
        `m` more items after its first `used`, else a copy of those in a new array
        twice as long and `m` more (`_grown`)."""
        context, builder = self.context, self.builder
        arr_type = self.type[part]
        ary = (self.where, self.old)[part]
        value = ary._getvalue()
        slot = cgutils.alloca_once(builder, value.type)
        length = builder.extract_value(ary.shape, 0)
        with builder.if_else(builder.icmp_signed(">", builder.add(used, m), length),
                             likely=False) as (grow, keep):
            with grow:
                two = context.get_constant(types.intp, 2)
                new = _allocate(context, builder, arr_type,
                                [builder.add(builder.mul(two, length), m)])
                cgutils.raw_memcpy(builder, new.data, ary.data, used,
                                   context.get_abi_sizeof(context.get_data_type(arr_type.dtype)))
                builder.store(new._getvalue(), slot)
            with keep:
                context.nrt.incref(builder, arr_type, value)
                builder.store(value, slot)
        return builder.load(slot)

    def with_room(self, entries, values):
        """(A new reference) the log with room for `entries` more entries and `values`
        more old values (`_log_room`); `self.where` and `self.old` become its arrays."""
        context, builder = self.context, self.builder
        where = self.grown(0, self.n, entries)
        old = self.grown(1, self.v, values)
        count = builder.extract_value(self.value, 2)
        context.nrt.incref(builder, self.type[2], count)
        self.where = make_array(self.type[0])(context, builder, where)
        self.old = make_array(self.type[1])(context, builder, old)
        return context.make_tuple(builder, self.type, [where, old, count])

    def undo_one(self, array, pos, v):
        """Put back the entry at `pos` (its old values end at `v`); returns where they start."""
        context, builder = self.context, self.builder
        slot = cgutils.alloca_once_value(builder, v)
        with builder.if_else(builder.icmp_signed(">=", pos, pos.type(0))) as (element, whole):
            with element:
                start = builder.sub(v, v.type(1))
                builder.store(builder.load(builder.gep(self.old.data, [start])),
                              builder.gep(array.data, [pos]))
                builder.store(start, slot)
            with whole:             # (a whole array: ~pos elements)
                m = builder.not_(pos)
                start = builder.sub(v, m)
                cgutils.raw_memmove(builder, array.data, builder.gep(self.old.data, [start]), m,
                                    context.get_abi_sizeof(context.get_data_type(self.type[1].dtype)))
                builder.store(start, slot)
        return builder.load(slot)

    def set_counts(self, n, v):
        self.builder.store(n, self.n_ptr)
        self.builder.store(v, self.v_ptr)


def _flat_position(context, builder, array_type, ary, index_type, index):
    """The flat position in C-contiguous `ary` of the element at integer `index` (one per
    dimension, a negative one counted from the end), as `_log_element` computes it."""
    if isinstance(index_type, types.BaseTuple):
        parts = [context.cast(builder, builder.extract_value(index, d), index_type[d], types.intp)
                 for d in range(array_type.ndim)]
    else:
        parts = [context.cast(builder, index, index_type, types.intp)]
    shapes = cgutils.unpack_tuple(builder, ary.shape, count=array_type.ndim)
    pos = context.get_constant(types.intp, 0)
    for i, extent in zip(parts, shapes):
        i = builder.select(builder.icmp_signed("<", i, i.type(0)), builder.add(i, extent), i)
        pos = builder.add(builder.mul(pos, extent), i)
    return pos


def _element_of(array, index):
    """`index`'s type (integers unliteral) if it names one element of `array`, else None."""
    index = types.unliteral(index)
    if isinstance(index, types.Integer):
        return index if array.ndim == 1 else None
    if (isinstance(index, types.UniTuple) and isinstance(index.dtype, types.Integer)
            and len(index) == array.ndim):
        return index
    return None


@_lowered(helpers.log_write)
def _log_write_code(log, array, index):
    if not _log_of(log, array):
        return None
    index = _element_of(array, index)
    if index is None:
        return None

    def codegen(context, builder, sig, args):
        ary = make_array(sig.args[1])(context, builder, args[1])
        pos = _flat_position(context, builder, sig.args[1], ary, sig.args[2], args[2])
        log = _Log(context, builder, sig.args[0], args[0])
        one = context.get_constant(types.intp, 1)
        out = log.with_room(one, one)
        builder.store(pos, builder.gep(log.where.data, [log.n]))
        builder.store(builder.load(builder.gep(ary.data, [pos])), builder.gep(log.old.data, [log.v]))
        log.set_counts(builder.add(log.n, one), builder.add(log.v, one))
        return out
    return log, (log, array, index), codegen


@_lowered(helpers.log_all)
def _log_all_code(log, array, room=None):
    if not _log_of(log, array):
        return None
    if room is not None and not isinstance(types.unliteral(room), types.Integer):
        return None
    arg_types = (log, array) if room is None else (log, array, types.unliteral(room))

    def codegen(context, builder, sig, args):
        ary = make_array(sig.args[1])(context, builder, args[1])
        log = _Log(context, builder, sig.args[0], args[0])
        intp = lambda k: context.get_constant(types.intp, k)
        m = ary.nitems
        full = builder.or_(
            builder.icmp_signed(">", builder.add(log.n, intp(1)),
                                builder.extract_value(log.where.shape, 0)),
            builder.icmp_signed(">", builder.add(log.v, m), builder.extract_value(log.old.shape, 0)))
        # ahead = max(1, min(room, WHOLE_ROOM // max(m, 1))), as many arrays as room is
        # made for when the log is full (none otherwise: nothing grows)
        room = context.cast(builder, args[2], sig.args[2], types.intp) if len(args) == 3 \
            else intp(1)
        per = builder.sdiv(intp(helpers.WHOLE_ROOM),
                           builder.select(builder.icmp_signed(">", m, intp(1)), m, intp(1)))
        ahead = builder.select(builder.icmp_signed("<", room, per), room, per)
        ahead = builder.select(builder.icmp_signed(">", ahead, intp(1)), ahead, intp(1))
        ahead = builder.select(full, ahead, intp(0))
        out = log.with_room(ahead, builder.mul(ahead, m))
        cgutils.raw_memmove(builder, builder.gep(log.old.data, [log.v]), ary.data, m,
                            context.get_abi_sizeof(context.get_data_type(sig.args[1].dtype)))
        builder.store(builder.not_(m), builder.gep(log.where.data, [log.n]))
        log.set_counts(builder.add(log.n, intp(1)), builder.add(log.v, m))
        return out
    return log, arg_types, codegen


@_lowered(helpers.undo_write)
def _undo_write_code(log, array, index):
    if not _log_of(log, array) or _element_of(array, index) is None:
        return None

    def codegen(context, builder, sig, args):
        ary = make_array(sig.args[1])(context, builder, args[1])
        log = _Log(context, builder, sig.args[0], args[0])
        n = builder.sub(log.n, log.n.type(1))
        v = log.undo_one(ary, builder.load(builder.gep(log.where.data, [n])), log.v)
        log.set_counts(n, v)
        return context.get_dummy_value()
    return types.none, (log, array, _element_of(array, index)), codegen


@_lowered(helpers.undo_to)
def _undo_to_code(log, array, height):
    if not _log_of(log, array) or not isinstance(types.unliteral(height), types.Integer):
        return None

    def codegen(context, builder, sig, args):
        ary = make_array(sig.args[1])(context, builder, args[1])
        log = _Log(context, builder, sig.args[0], args[0])
        height = context.cast(builder, args[2], sig.args[2], types.int64)
        v = cgutils.alloca_once_value(builder, log.v)
        # for j in range(n - 1, height - 1, -1): j = n - 1 - k, k < n - height
        with cgutils.for_range(builder, builder.sub(log.n, height)) as loop:
            j = builder.sub(builder.sub(log.n, log.n.type(1)), loop.index)
            builder.store(log.undo_one(ary, builder.load(builder.gep(log.where.data, [j])),
                                       builder.load(v)), v)
        log.set_counts(height, builder.load(v))
        return context.get_dummy_value()
    return types.none, (log, array, types.unliteral(height)), codegen


@overload(helpers.undo_log)
def _undo_log(array):
    if _is_array(array):
        dtype = array.dtype
        return lambda array: (_empty(16, np.int64), _empty(16, dtype), _zeros(2, np.int64))


@overload(helpers.log_write)
def _log_write(log, array, index):
    if not _is_array(array):
        return None
    for part in index if isinstance(index, types.BaseTuple) else (index,):
        if isinstance(part, types.Array) and not isinstance(part.dtype, types.Boolean):
            from numba.core.errors import TypingError
            raise TypingError(helpers._FANCY_WRITE)
    if _is_element(array, index):
        return _log_element(array.ndim, isinstance(index, types.BaseTuple))

    def region(log, array, index):
        positions = np.ravel(np.arange(array.size).reshape(array.shape)[index])
        m = positions.shape[0]
        log = _log_room(log, m, m)
        where, old, count = log
        flat = _flat(array)
        n, v = count[0], count[1]
        for j in range(m):
            where[n + j] = positions[j]
            old[v + j] = flat[positions[j]]
        count[0] = n + m
        count[1] = v + m
        return log
    return region


@overload(helpers.log_all)
def _log_all(log, array, room=1):
    if _is_array(array):
        whole_room = helpers.WHOLE_ROOM

        def impl(log, array, room=1):
            m = array.size
            where, old, count = log
            if count[0] + 1 > where.shape[0] or count[1] + m > old.shape[0]:
                # (room for `room` arrays, as far as WHOLE_ROOM goes: one allocation
                # instead of a doubling, and a copy of all that is held, every few calls)
                ahead = max(1, min(room, whole_room // max(m, 1)))
                log = _log_room(log, ahead, ahead * m)
            where, old, count = log
            _move(old, count[1], _flat(array), 0, m)
            where[count[0]] = ~m
            count[0] += 1
            count[1] += m
            return log
        return impl


@overload(helpers.undo_write)
def _undo_write(log, array, index):
    if not _is_array(array):
        return None
    if _is_element(array, index):
        def element(log, array, index):
            where, old, count = log
            n, v = count[0] - 1, count[1]
            pos = where[n]
            if pos >= 0:
                v -= 1
                _flat(array)[pos] = old[v]
            else:           # (a whole array: not logged just before an element's write)
                v -= ~pos
                _move(_flat(array), 0, old, v, ~pos)
            count[0] = n
            count[1] = v
        return element
    return lambda log, array, index: helpers.undo_to(log, array, log[2][0] - array[index].size)


@overload(helpers.log_height)
def _log_height(log):
    return lambda log: log[2][0]


@overload(helpers.undo_to)
def _undo_to(log, array, height):
    if _is_array(array):
        def impl(log, array, height):
            where, old, count = log
            flat = _flat(array)
            v = count[1]
            for j in range(count[0] - 1, height - 1, -1):
                pos = where[j]
                if pos >= 0:
                    v -= 1
                    flat[pos] = old[v]
                else:
                    v -= ~pos
                    _move(flat, 0, old, v, ~pos)
            count[0] = height
            count[1] = v
        return impl


@overload(helpers.snapshot)
def _snapshot(x):
    if _is_array(x):
        return lambda x: x.copy()
    return lambda x: x


@overload(helpers.must_be_scalar)
def _must_be_scalar(x):
    if _is_array(x):
        from numba.core.errors import TypingError
        raise TypingError(helpers._SHARED)
    return lambda x: None


@overload(helpers.grad_at)
def _grad_at(grad, index):
    if not _is_array(grad):
        return None
    if _is_element(grad, index):
        return lambda grad, index: grad[index]
    return lambda grad, index: grad[index].copy()


@overload(helpers.zero_at)
def _zero_at(grad, index):
    if _is_array(grad):
        def impl(grad, index):
            grad[index] = 0.0
            return grad
        return impl


@overload(helpers.tangent_like)
def _tangent_like(tangent, ans):
    if _is_array(ans):
        return lambda tangent, ans: tangent + _zeros(ans.shape, np.float64)
    return lambda tangent, ans: tangent


# ---- tangents of operations whose JVP needs a helper ---------------------------------

@overload(helpers.sort_tangent)
def _sort_tangent(g, x):
    if not _is_array(x):
        return None

    def impl(g, x):
        n = x.shape[-1]
        rows = np.ascontiguousarray(x).reshape(x.size // n if n else 0, n)
        values = (np.ascontiguousarray(g) + np.zeros(x.shape)).reshape(rows.shape)
        out = np.empty(rows.shape)
        for r in range(rows.shape[0]):
            order = np.argsort(rows[r])
            for i in range(n):
                out[r, i] = values[r, order[i]]
        return out.reshape(x.shape)
    return impl


@overload(helpers.prod_others_tangent)
def _prod_others_tangent(g, x, axis=None):
    from .array_helpers_numba import _gradient_typer, _groups
    if _is_scalar(x):
        return lambda g, x, axis=None: 0.0
    mask = _gradient_typer(x, axis)
    if mask is None:
        return None
    ndim = x.ndim

    def impl(g, x, axis=None):
        groups, kept, count = _groups(x.shape, mask(ndim, axis))
        flat = np.ascontiguousarray(x).reshape(x.size)
        tangent = (np.ascontiguousarray(g) + np.zeros(x.shape)).reshape(x.size)
        rest = np.ones(count)
        ratio = np.zeros(count)
        at_zeros = np.zeros(count)
        zeros = np.zeros(count, np.intp)
        for i in range(x.size):
            f = groups[i]
            if flat[i] == 0:
                zeros[f] += 1
                at_zeros[f] += tangent[i]
            else:
                rest[f] *= flat[i]
                ratio[f] += tangent[i] / flat[i]
        out = np.zeros(x.size)
        for i in range(x.size):
            f = groups[i]
            if zeros[f] == 0:
                out[i] = rest[f] / flat[i] * (ratio[f] - tangent[i] / flat[i])
            elif zeros[f] == 1:
                out[i] = rest[f] * ratio[f] if flat[i] == 0 else at_zeros[f] * rest[f] / flat[i]
            elif zeros[f] == 2 and flat[i] == 0:
                out[i] = rest[f] * (at_zeros[f] - tangent[i])
        return out.reshape(x.shape)
    return impl


@overload(helpers.cumprod_tangent)
def _cumprod_tangent(g, ans, x, axis=None):
    from .array_helpers_numba import _line
    if not (_is_array(x) and x.ndim > 0):
        return None
    if not (isinstance(axis, (types.NoneType, types.Omitted)) or axis is None
            or isinstance(axis, types.Integer)):
        return None
    flat_result = isinstance(axis, (types.NoneType, types.Omitted)) or axis is None

    def impl(g, ans, x, axis=None):
        length, step = _line(x.shape, axis)
        flat = np.ascontiguousarray(x).reshape(x.size)
        tangent = (np.ascontiguousarray(g) + np.zeros(x.shape)).reshape(x.size)
        product = np.ones(x.size)
        ratio = np.zeros(x.size)
        zeros = np.zeros(x.size, np.intp)
        at_zero = np.zeros(x.size)
        out = np.zeros(x.size)
        for i in range(x.size):
            if (i // step) % length != 0:       # carry the line's running values along
                product[i], ratio[i] = product[i - step], ratio[i - step]
                zeros[i], at_zero[i] = zeros[i - step], at_zero[i - step]
            if flat[i] == 0:
                zeros[i] += 1
                at_zero[i] = tangent[i]
            else:
                product[i] *= flat[i]
                ratio[i] += tangent[i] / flat[i]
            if zeros[i] == 0:
                out[i] = product[i] * ratio[i]
            elif zeros[i] == 1:
                out[i] = product[i] * at_zero[i]
        return out if flat_result else out.reshape(x.shape)
    return impl


@overload(helpers.cholesky_tangent)
def _cholesky_tangent(g, ans):
    if not (_is_array(g) and _is_array(ans)):
        return None

    def impl(g, ans):
        sym = 0.5 * (g + g.T)
        inner = np.linalg.solve(ans, np.ascontiguousarray(np.linalg.solve(ans, sym).T)).T
        phi = np.tril(inner) - 0.5 * np.diag(np.diag(inner))
        return ans @ phi
    return impl


@overload(helpers.eigh_tangent)
def _eigh_tangent(g, w, v):
    if not (_is_array(g) and _is_array(w) and _is_array(v)):
        return None

    def impl(g, w, v):
        sym = 0.5 * (g + g.T)
        inner = v.T @ sym @ v
        n = w.shape[0]
        dw = np.empty(n)
        scaled = np.zeros((n, n))
        for i in range(n):
            dw[i] = inner[i, i]
            for j in range(n):
                if i != j:
                    scaled[i, j] = inner[i, j] / (w[j] - w[i])
        return dw, v @ scaled
    return impl


@overload(helpers.eigvalsh_tangent)
def _eigvalsh_tangent(g, a):
    if not (_is_array(g) and _is_array(a)):
        return None

    def impl(g, a):
        w, v = np.linalg.eigh(a)
        sym = 0.5 * (g + g.T)
        sv = sym @ v
        out = np.zeros(w.shape[0])
        for i in range(w.shape[0]):
            for k in range(v.shape[0]):
                out[i] += v[k, i] * sv[k, i]
        return out
    return impl


@overload(helpers.grad_or_zero)
def _grad_or_zero(grad, like):
    if isinstance(grad, (types.NoneType, types.Omitted)) or grad is types.none:
        return lambda grad, like: helpers.zeros_like(like)
    return lambda grad, like: grad
