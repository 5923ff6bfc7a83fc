"""Numba implementations of the helpers in `helpers`, chosen by type at compile time.

Importing this module registers an `overload` for each helper, so the same
name in generated code compiles to scalar code for scalars and array code
for arrays, with no run-time test of which it is.
"""

import numpy as np
from numba import types
from numba.extending import overload, register_jitable

from . import helpers


def _is_array(t):
    return isinstance(t, types.Array)


def _is_scalar(t):
    return isinstance(t, (types.Number, types.Boolean))


@overload(helpers.zeros_like)
def _zeros_like(x):
    if _is_array(x):
        return lambda x: np.zeros(x.shape)
    if _is_scalar(x):
        return lambda x: 0.0


@overload(helpers.seed_like)
def _seed_like(result, cotangent):
    if _is_array(result) and _is_scalar(cotangent):
        # (1.0 * c is c: one array, where `np.ones(...) * c` makes two)
        return lambda result, cotangent: np.full(result.shape, np.float64(cotangent))
    if _is_array(result):
        return lambda result, cotangent: np.ones(result.shape) * cotangent
    if _is_scalar(result):
        return lambda result, cotangent: np.float64(cotangent)


@register_jitable
def _sum_to_shape(grad, x):
    """Sum `grad` into an array shaped like `x`, over the broadcast axes."""
    out = np.zeros(x.shape)
    flat = out.reshape(out.size)
    extra = grad.ndim - x.ndim
    strides = np.empty(x.ndim, np.intp)
    step = 1
    for d in range(x.ndim - 1, -1, -1):
        strides[d] = step
        step *= x.shape[d]
    for index in np.ndindex(grad.shape):
        f = 0
        for d in range(x.ndim):
            if x.shape[d] != 1:
                f += index[d + extra] * strides[d]
        flat[f] += grad[index]
    return out


@overload(helpers.unbroadcast)
def _unbroadcast(grad, x):
    if _is_scalar(x):
        if _is_array(grad):
            return lambda grad, x: np.sum(grad)
        return lambda grad, x: grad
    if _is_array(x):
        if _is_scalar(grad):
            return lambda grad, x: np.full(x.shape, grad)
        if grad.ndim == x.ndim:
            as_float = grad.dtype != types.float64

            def same_rank(grad, x):
                if grad.shape == x.shape:
                    return grad.astype(np.float64) if as_float else grad
                return _sum_to_shape(grad, x)
            return same_rank
        return lambda grad, x: _sum_to_shape(grad, x)


@overload(helpers.broadcast_like)
def _broadcast_like(grad, x):
    if _is_array(x):
        return lambda grad, x: np.full(x.shape, grad)
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
            return (lambda g, x, y: np.dot(g, y.T)) if left else (lambda g, x, y: np.dot(x.T, g))
    return typer


overload(helpers.dot_grad_left)(_dot_grad(True))
overload(helpers.dot_grad_right)(_dot_grad(False))


@overload(helpers.log_or_zero)
def _log_or_zero(x):
    if _is_array(x):
        return lambda x: np.log(np.where(x == 0, 1.0, x))
    return lambda x: np.log(x) if x != 0 else 0.0


@overload(helpers.trip_count)
def _trip_count(start, stop, step):
    return helpers.trip_count


@overload(helpers.stack_like)
def _stack_like(value, capacity):
    value = types.unliteral(value)
    if _is_array(value):
        return lambda value, capacity: [value] * capacity
    if isinstance(value, (types.Boolean, types.Integer, types.Float)):
        # float64 whatever the witness: a name that starts as `0` or `False`
        # may hold floats later in the loop; `restore` casts back.
        return lambda value, capacity: np.empty(capacity)


@overload(helpers.grow)
def _grow(stack):
    if isinstance(stack, types.Array):
        def bigger(stack):
            new = np.empty(2 * stack.shape[0] + 16, stack.dtype)
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
# A log is (positions, old values, [count]): the flat positions of the
# elements overwritten and what they held, in arrays that double when full.
# Arrays written into are C-contiguous (made by adjit's copies, NumPy
# constructors or arithmetic), so `reshape(size)` views their elements.

def _is_element(array, index):
    """Whether `array[index]` is one element: an integer per dimension."""
    if isinstance(index, types.Integer):
        return array.ndim == 1
    if isinstance(index, types.BaseTuple):
        return len(index) == array.ndim and all(isinstance(t, types.Integer) for t in index)
    return False


def _flat_position(array, index):
    """A jitted `(array, index) -> int`: where element `index` sits in `array.reshape(size)`."""
    if isinstance(index, types.Integer):
        return register_jitable(lambda array, index: index + array.shape[0] if index < 0 else index)
    lines = ["def position(array, index):", "    pos = 0"]
    for d in range(len(index)):
        lines += [f"    i = index[{d}]",
                  f"    if i < 0:", f"        i += array.shape[{d}]",
                  f"    pos = pos * array.shape[{d}] + i"]
    lines.append("    return pos")
    namespace = {}
    exec("\n".join(lines), namespace)
    return register_jitable(namespace["position"])


@register_jitable
def _log_push(log, flat, positions):
    where, old, count = log
    n = count[0]
    m = positions.shape[0]
    if n + m > where.shape[0]:
        size = max(2 * where.shape[0], n + m)
        bigger_where = np.empty(size, np.int64)
        bigger_old = np.empty(size, old.dtype)
        for j in range(n):          # (loops compile much faster than slice copies)
            bigger_where[j] = where[j]
            bigger_old[j] = old[j]
        where, old = bigger_where, bigger_old
    for j in range(m):
        where[n + j] = positions[j]
        old[n + j] = flat[positions[j]]
    count[0] = n + m
    return (where, old, count)


@register_jitable
def _log_push_one(log, flat, position):
    """`_log_push` of one element, allocating nothing unless the log is full."""
    where, old, count = log
    n = count[0]
    if n == where.shape[0]:
        bigger_where = np.empty(2 * n + 16, np.int64)
        bigger_old = np.empty(2 * n + 16, old.dtype)
        for j in range(n):
            bigger_where[j] = where[j]
            bigger_old[j] = old[j]
        where, old = bigger_where, bigger_old
    where[n] = position
    old[n] = flat[position]
    count[0] = n + 1
    return (where, old, count)


@register_jitable
def _log_pop(log, flat, m):
    where, old, count = log
    n = count[0]
    for j in range(n - 1, n - m - 1, -1):
        flat[where[j]] = old[j]
    count[0] = n - m


@overload(helpers.undo_log)
def _undo_log(array):
    if _is_array(array):
        dtype = array.dtype
        return lambda array: (np.empty(16, np.int64), np.empty(16, dtype), np.zeros(1, np.int64))


@overload(helpers.log_write)
def _log_write(log, array, index):
    if not _is_array(array):
        return None
    for part in index if isinstance(index, types.BaseTuple) else (index,):
        if isinstance(part, types.Array) and not isinstance(part.dtype, types.Boolean):
            from numba.core.errors import TypingError
            raise TypingError(helpers._FANCY_WRITE)
    if _is_element(array, index):
        position = _flat_position(array, index)

        def element(log, array, index):
            return _log_push_one(log, array.reshape(array.size), position(array, index))
        return element

    def region(log, array, index):
        positions = np.ravel(np.arange(array.size).reshape(array.shape)[index])
        return _log_push(log, array.reshape(array.size), positions)
    return region


@overload(helpers.log_all)
def _log_all(log, array):
    if _is_array(array):
        return lambda log, array: _log_push(log, array.reshape(array.size), np.arange(array.size))


@overload(helpers.undo_write)
def _undo_write(log, array, index):
    if not _is_array(array):
        return None
    if _is_element(array, index):
        return lambda log, array, index: _log_pop(log, array.reshape(array.size), 1)
    return lambda log, array, index: _log_pop(log, array.reshape(array.size), array[index].size)


@overload(helpers.log_height)
def _log_height(log):
    return lambda log: log[2][0]


@overload(helpers.undo_to)
def _undo_to(log, array, height):
    if _is_array(array):
        return lambda log, array, height: _log_pop(log, array.reshape(array.size),
                                                   log[2][0] - height)


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
        return lambda tangent, ans: tangent + np.zeros(ans.shape)
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
