"""Numba implementations of the helpers in `linalg_helpers`, chosen by type at compile time.

Importing this module registers an `overload` for each helper. Where the
result's number of dimensions depends on an argument's value (`tensordot`'s
`axes`, `einsum`'s subscripts, `squeeze`'s axis), the argument must be a
constant in the user's code: the overload asks Numba for its literal value.
"""

import numba
import numpy as np
from numba import types
from numba.core import cgutils
from numba.core.errors import TypingError
from numba.core.typing import signature
from numba.np.arrayobj import make_array
from numba.np.linalg import dot_3_mm, ensure_blas, make_contiguous
from numba.extending import overload, register_jitable
from numba.np.unsafe.ndarray import to_fixed_tuple

from . import linalg_helpers as H
from .helpers_numba import _allocate, _empty, _filled, _lowered, _zeros


def _array(t, *ndims):
    return isinstance(t, types.Array) and (not ndims or t.ndim in ndims)


def _number(t):
    return isinstance(t, (types.Number, types.Boolean))


def _none(t):
    return t is None or isinstance(t, (types.NoneType, types.Omitted))


# ---- products ------------------------------------------------------------------

def _product(a, b):
    """In Numba only: `np.dot(a, b)`, the product of two matrices of the same float dtype
    written into the calling function (see `_product_code`); others are `np.dot`'s."""
    return np.dot(a, b)


@_lowered(_product)
def _product_code(a, b):
    # Numba's `np.dot` compiles a function of its own (and one for `np.dot(a, b, out)`, and
    # `np.empty`) for each pair of layouts it meets: `g @ y.T` and `x.T @ g` of C arrays
    # are the pairs (C, F) and (F, C), so the gradient of one product compiles `np.dot`
    # three times. Here the product is BLAS called in place by Numba's own lowering of
    # `np.dot(a, b, out)` (`dot_3_mm`: gemm for any pair of C and F layouts, gemv or dot
    # where one side is a vector, zeros when empty; any other layout copied first, as
    # Numba's `np.dot` does), on a new C array: the same calls, so the same numbers.
    if not (_array(a, 2) and _array(b, 2) and a.dtype == b.dtype
            and a.dtype in (types.float32, types.float64)):
        return None
    out_type = types.Array(a.dtype, 2, "C")

    def codegen(context, builder, sig, args):
        ensure_blas()
        with make_contiguous(context, builder, sig, args) as (sig, args):
            a = make_array(sig.args[0])(context, builder, args[0])
            b = make_array(sig.args[1])(context, builder, args[1])
            m, _ = cgutils.unpack_tuple(builder, a.shape)
            _, n = cgutils.unpack_tuple(builder, b.shape)
            out = _allocate(context, builder, out_type, [m, n])._getvalue()
            filled = dot_3_mm(context, builder, signature(out_type, *sig.args, out_type),
                              (args[0], args[1], out))
            context.nrt.decref(builder, out_type, filled)   # (returned borrowed: a reference more)
        return out
    return out_type, (a, b), codegen


@overload(_product)
def _product_other(a, b):
    return lambda a, b: np.dot(a, b)


@overload(H.matmul_of)
def _matmul_of(a, b):
    if _array(a, 1, 2) and _array(b, 1, 2):
        return lambda a, b: _product(a, b)
    return None


@overload(H.inner_of)
def _inner_of(a, b):
    if _number(a) and _number(b):
        return lambda a, b: a * b
    if _array(a, 1, 2) and _array(b, 1):
        return lambda a, b: np.dot(a, b)
    if _array(a, 1) and _array(b, 2):
        return lambda a, b: np.dot(b, a)
    if _array(a, 2) and _array(b, 2):
        return lambda a, b: _product(a, b.T)
    return None


@register_jitable
def _sizes(a, b, axes):
    q = 1
    for i in range(axes):
        q *= b.shape[i]
    if q == 0:
        return 0, 0, 0
    return a.size // q, q, b.size // q


def _constant_int(t):
    """The value of an int argument known when compiling (a literal, or a default), or None."""
    if isinstance(t, types.IntegerLiteral):
        return t.literal_value
    if isinstance(t, types.Omitted):
        return t.value
    if isinstance(t, int):
        return t
    return None


def _pair_count(axes):
    """How many axes `axes=(axes_of_a, axes_of_b)` sums over (known from its type), or None."""
    if not isinstance(axes, types.BaseTuple) or len(axes) != 2:
        return None
    counts = [1 if isinstance(t, types.Integer) else len(t) if isinstance(t, types.BaseTuple)
              and all(isinstance(e, types.Integer) for e in t) else None for t in axes]
    return counts[0] if counts[0] is not None and counts[0] == counts[1] else None


@register_jitable
def _permutation(ndim, summed, last):
    """The axes of an array of `ndim` axes with `summed` (negative from the end too) put
    last (`last`) or first, the others keeping their order."""
    summed = np.asarray(summed).reshape(-1)
    n = summed.size
    is_summed = _zeros(ndim, np.bool_)
    perm = _empty(ndim, np.intp)
    for k in range(n):
        axis = summed[k] % ndim
        is_summed[axis] = True
        perm[ndim - n + k if last else k] = axis
    j = 0 if last else n
    for axis in range(ndim):
        if not is_summed[axis]:
            perm[j] = axis
            j += 1
    return perm


def _paired(helper, a, b, count, grad_of=None):
    """`helper` (a tensordot helper with int axes) for `axes` a pair: on `a` and `b`
    transposed so that the summed axes are last in `a` and first in `b`; a gradient
    (`grad_of` "a" or "b") is transposed back."""
    na, nb = a.ndim, b.ndim
    if grad_of is None:
        def product(a, b, axes=2):
            at = np.transpose(a, to_fixed_tuple(_permutation(na, axes[0], True), na))
            bt = np.transpose(b, to_fixed_tuple(_permutation(nb, axes[1], False), nb))
            return helper(at, bt, count)
        return product

    def gradient(g, a, b, axes=2):
        perm_a = _permutation(na, axes[0], True)
        perm_b = _permutation(nb, axes[1], False)
        at = np.transpose(a, to_fixed_tuple(perm_a, na))
        bt = np.transpose(b, to_fixed_tuple(perm_b, nb))
        out = helper(g, at, bt, count)
        if grad_of == "a":
            back = to_fixed_tuple(np.argsort(perm_a), na)
        else:
            back = to_fixed_tuple(np.argsort(perm_b), nb)
        return np.ascontiguousarray(np.transpose(out, back))
    return gradient


@overload(H.tensordot_of)
def _tensordot_of(a, b, axes=2):
    if not (_array(a) and _array(b)):
        return None
    count = _pair_count(axes)
    if count is not None:
        return _paired(H.tensordot_of, a, b, count)
    n = _constant_int(axes)
    if n is not None:
        free_a = a.ndim - n
        ndim = a.ndim + b.ndim - 2 * n
        if free_a < 0 or b.ndim < n:
            raise TypingError(f"np.tensordot: axes={n} is more than the arrays have")
        if ndim == 0:
            def full(a, b, axes=2):
                return np.sum(np.ascontiguousarray(a).ravel() * np.ascontiguousarray(b).ravel())
            return full

        def impl(a, b, axes=2):
            p, q, r = _sizes(a, b, n)
            out = _product(np.ascontiguousarray(a).reshape((p, q)),
                           np.ascontiguousarray(b).reshape((q, r)))
            shape = _empty(ndim, np.intp)
            for i in range(free_a):
                shape[i] = a.shape[i]
            for i in range(b.ndim - n):
                shape[free_a + i] = b.shape[n + i]
            return out.reshape(to_fixed_tuple(shape, ndim))
        return impl
    if isinstance(axes, types.Integer):
        return lambda a, b, axes=2: numba.literally(axes)
    return None


def _as_matrix(g):
    if _number(g):
        if g == types.float64:
            return lambda g, p, r: _filled((p, r), g)
        return lambda g, p, r: np.full((p, r), g)
    return lambda g, p, r: np.ascontiguousarray(g).reshape((p, r))


@overload(H.tensordot_grad_left)
def _tensordot_grad_left(g, a, b, axes=2):
    if not (_array(a) and _array(b)) or not (_array(g) or _number(g)):
        return None
    count = _pair_count(axes)
    if count is not None:
        return _paired(H.tensordot_grad_left, a, b, count, "a")
    as_matrix = register_jitable(_as_matrix(g))

    def impl(g, a, b, axes=2):
        p, q, r = _sizes(a, b, axes)
        out = _product(as_matrix(g, p, r), np.ascontiguousarray(b).reshape((q, r)).T)
        return np.ascontiguousarray(out).reshape(a.shape)
    return impl


@overload(H.tensordot_grad_right)
def _tensordot_grad_right(g, a, b, axes=2):
    if not (_array(a) and _array(b)) or not (_array(g) or _number(g)):
        return None
    count = _pair_count(axes)
    if count is not None:
        return _paired(H.tensordot_grad_right, a, b, count, "b")
    as_matrix = register_jitable(_as_matrix(g))

    def impl(g, a, b, axes=2):
        p, q, r = _sizes(a, b, axes)
        out = _product(np.ascontiguousarray(a).reshape((p, q)).T, as_matrix(g, p, r))
        return np.ascontiguousarray(out).reshape(b.shape)
    return impl


def _subscripts(subscripts):
    """The literal subscripts of an einsum call, or None to ask Numba for the literal."""
    if not isinstance(subscripts, types.StringLiteral):
        return None
    spec = subscripts.literal_value.replace(" ", "")
    if spec not in H.EINSUM:
        raise TypingError(f"adjit: np.einsum is differentiated for the subscripts "
                          f"{', '.join(repr(s) for s in H.EINSUM)} only, not "
                          f"{subscripts.literal_value!r}")
    return spec


@overload(H.einsum_of)
def _einsum_of(subscripts, x, y=None):
    spec = _subscripts(subscripts)
    if spec is None:
        return None
    if spec in ("ij,jk->ik", "ij,j->i", "i,i->"):
        return lambda subscripts, x, y=None: np.dot(x, y)
    if spec == "ij->ji":
        return lambda subscripts, x, y=None: np.transpose(x).copy()
    if spec == "ii->":
        return lambda subscripts, x, y=None: np.trace(x)
    return lambda subscripts, x, y=None: np.sum(x * y)        # "ij,ij->"


@overload(H.einsum_grad_first)
def _einsum_grad_first(g, subscripts, x, y=None):
    spec = _subscripts(subscripts)
    if spec is None:
        return None
    if spec == "ij,jk->ik":
        return lambda g, subscripts, x, y=None: _product(g, y.T)
    if spec == "ij,j->i":
        return lambda g, subscripts, x, y=None: np.outer(g, y)
    if spec in ("i,i->", "ij,ij->"):
        return lambda g, subscripts, x, y=None: g * y
    if spec == "ij->ji":
        return lambda g, subscripts, x, y=None: np.transpose(g).copy()
    return lambda g, subscripts, x, y=None: g * np.eye(x.shape[0])      # "ii->"


@overload(H.einsum_grad_second)
def _einsum_grad_second(g, subscripts, x, y):
    spec = _subscripts(subscripts)
    if spec is None:
        return None
    if spec in ("ij,jk->ik", "ij,j->i"):
        return lambda g, subscripts, x, y: _product(x.T, g)
    if spec in ("i,i->", "ij,ij->"):
        return lambda g, subscripts, x, y: g * x
    raise TypingError(f"adjit: np.einsum {spec!r} has one operand")


# ---- diagonals -------------------------------------------------------------------

@register_jitable
def _diagonal_grad(g, x, offset):
    out = _zeros(x.shape, np.float64)
    start = max(-offset, 0)
    for i in range(len(g)):
        out[start + i, start + i + offset] = g[i]
    return out


@overload(H.diag_grad)
def _diag_grad(g, x, k):
    if _array(x, 1):
        return lambda g, x, k: np.diag(g, k).copy()
    if _array(x, 2):
        return lambda g, x, k: _diagonal_grad(g, x, k)
    return None


@overload(H.diagonal_of)
def _diagonal_of(x, offset=0):
    if not _array(x, 2):
        return None

    def impl(x, offset=0):
        start = max(-offset, 0)
        n = max(0, min(x.shape[0] - start, x.shape[1] - start - offset))
        out = _empty(n, x.dtype)
        for i in range(n):
            out[i] = x[start + i, start + i + offset]
        return out
    return impl


@overload(H.diagonal_grad)
def _diagonal_grad_ov(g, x, offset=0):
    if _array(x, 2):
        return lambda g, x, offset=0: _diagonal_grad(g, x, offset)
    return None


# ---- shapes --------------------------------------------------------------------

@overload(H.flat_copy)
def _flat_copy(x):
    if _array(x):
        return lambda x: x.flatten()
    return None


@overload(H.squeeze_of)
def _squeeze_of(x, axis=None):
    if not _array(x):
        return None
    if _none(axis):
        raise TypingError("np.squeeze without an axis: how many dimensions remain is only "
                          "known at run time; give the axis")
    if isinstance(axis, types.Integer):
        ndim = x.ndim - 1

        def impl(x, axis=None):
            a = axis if axis >= 0 else axis + x.ndim
            if x.shape[a] != 1:
                raise ValueError("cannot select an axis to squeeze out which has size not "
                                 "equal to one")
            shape = _empty(ndim, np.intp)
            k = 0
            for i in range(x.ndim):
                if i != a:
                    shape[k] = x.shape[i]
                    k += 1
            return np.ascontiguousarray(x).reshape(to_fixed_tuple(shape, ndim))
        return impl
    return None


@overload(H.transpose_back)
def _transpose_back(g, axes):
    if not _array(g):
        return None
    if _none(axes):
        return lambda g, axes: np.transpose(g)
    if isinstance(axes, types.UniTuple):
        count = axes.count

        def impl(g, axes):
            inverse = np.argsort(np.array(axes))
            return np.transpose(g, to_fixed_tuple(inverse, count))
        return impl
    return None


@register_jitable
def _source(p, out_shape, x_shape, kind, k, axis):
    """The flat position in `x` of the flat position `p` of `np.tile(x, reps)`
    (kind 0; shapes padded to the same length) or `np.repeat(x, k, axis)` (kind 1)."""
    src = 0
    step = 1
    for d in range(len(out_shape) - 1, -1, -1):
        i = p % out_shape[d]
        p //= out_shape[d]
        if kind == 0:
            i = i % x_shape[d]
        elif d == axis:
            i = i // k
        src += i * step
        step *= x_shape[d]
    return src


def _reps_array(reps):
    if isinstance(reps, types.Integer):
        return register_jitable(lambda reps: np.array([reps], np.intp))
    if isinstance(reps, types.UniTuple) and isinstance(reps.dtype, types.Integer):
        return register_jitable(lambda reps: np.array(reps, np.intp))
    return None


@register_jitable
def _tile_shapes(x, reps):
    d = max(x.ndim, len(reps))
    out_shape = _empty(d, np.intp)
    x_shape = _empty(d, np.intp)
    for i in range(d):
        out_shape[i] = 1
        x_shape[i] = 1
    for i in range(x.ndim):
        x_shape[d - x.ndim + i] = x.shape[i]
    for i in range(d):
        out_shape[i] = x_shape[i]
    for i in range(len(reps)):
        out_shape[d - len(reps) + i] *= reps[i]
    return out_shape, x_shape


@overload(H.tile_of)
def _tile_of(x, reps):
    as_array = _reps_array(reps)
    if not _array(x) or as_array is None:
        return None
    ndim = max(x.ndim, 1 if isinstance(reps, types.Integer) else reps.count)

    def impl(x, reps):
        out_shape, x_shape = _tile_shapes(x, as_array(reps))
        flat = np.ascontiguousarray(x).ravel()
        size = 1
        for n in out_shape:
            size *= n
        out = _empty(size, x.dtype)
        for p in range(size):
            out[p] = flat[_source(p, out_shape, x_shape, 0, 0, 0)]
        return out.reshape(to_fixed_tuple(out_shape, ndim))
    return impl


@overload(H.tile_grad)
def _tile_grad(g, x, reps):
    as_array = _reps_array(reps)
    if not _array(x) or not _array(g) or as_array is None:
        return None

    def impl(g, x, reps):
        out_shape, x_shape = _tile_shapes(x, as_array(reps))
        flat = np.ascontiguousarray(g).ravel()
        out = _zeros(x.size, np.float64)
        for p in range(flat.size):
            out[_source(p, out_shape, x_shape, 0, 0, 0)] += flat[p]
        return out.reshape(x.shape)
    return impl


@register_jitable
def _repeat_shapes(x, repeats, axis):
    a = axis if axis >= 0 else axis + x.ndim
    x_shape = _empty(x.ndim, np.intp)
    for i in range(x.ndim):
        x_shape[i] = x.shape[i]
    out_shape = x_shape.copy()
    out_shape[a] *= repeats
    return out_shape, x_shape, a


@overload(H.repeat_of)
def _repeat_of(x, repeats, axis=None):
    if not _array(x) or not isinstance(repeats, types.Integer):
        return None
    if _none(axis):
        return lambda x, repeats, axis=None: np.repeat(x, repeats)
    if not isinstance(axis, types.Integer):
        return None
    ndim = x.ndim

    def impl(x, repeats, axis=None):
        out_shape, x_shape, a = _repeat_shapes(x, repeats, axis)
        flat = np.ascontiguousarray(x).ravel()
        out = _empty(flat.size * repeats, x.dtype)
        for p in range(out.size):
            out[p] = flat[_source(p, out_shape, x_shape, 1, repeats, a)]
        return out.reshape(to_fixed_tuple(out_shape, ndim))
    return impl


@overload(H.repeat_grad)
def _repeat_grad(g, x, repeats, axis=None):
    if not _array(x) or not _array(g) or not isinstance(repeats, types.Integer):
        return None
    if _none(axis):
        def flat(g, x, repeats, axis=None):
            out = _zeros(x.size, np.float64)
            gf = np.ascontiguousarray(g).ravel()
            for p in range(gf.size):
                out[p // repeats] += gf[p]
            return out.reshape(x.shape)
        return flat
    if not isinstance(axis, types.Integer):
        return None

    def impl(g, x, repeats, axis=None):
        out_shape, x_shape, a = _repeat_shapes(x, repeats, axis)
        gf = np.ascontiguousarray(g).ravel()
        out = _zeros(x.size, np.float64)
        for p in range(gf.size):
            out[_source(p, out_shape, x_shape, 1, repeats, a)] += gf[p]
        return out.reshape(x.shape)
    return impl


# ---- selection -----------------------------------------------------------------

@overload(H.take_grad)
def _take_grad(g, x, indices):
    if not _array(x):
        return None
    if isinstance(indices, types.Integer):
        def one(g, x, indices):
            out = _zeros(x.size, np.float64)
            out[indices] += g
            return out.reshape(x.shape)
        return one
    if _array(indices) and isinstance(indices.dtype, types.Integer) and _array(g):
        def many(g, x, indices):
            out = _zeros(x.size, np.float64)
            flat = np.ascontiguousarray(indices).ravel()
            gf = np.ascontiguousarray(g).ravel()
            for p in range(flat.size):
                out[flat[p]] += gf[p]
            return out.reshape(x.shape)
        return many
    return None


@overload(H.sort_grad)
def _sort_grad(g, x):
    if not (_array(x) and _array(g)):
        return None

    def impl(g, x):
        n = x.shape[-1] if x.ndim else 1
        xs = np.ascontiguousarray(x).reshape((-1, n))
        gs = np.ascontiguousarray(g).reshape((-1, n))
        out = _zeros(xs.shape, np.float64)
        for row in range(xs.shape[0]):
            order = np.argsort(xs[row])
            for j in range(n):
                out[row, order[j]] = gs[row, j]
        return out.reshape(x.shape)
    return impl


# ---- linear algebra --------------------------------------------------------------

@overload(H.cholesky_grad)
def _cholesky_grad(g, ans):
    if not (_array(g, 2) and _array(ans, 2)):
        return None

    def impl(g, ans):
        phi = np.tril(_product(ans.T, g))
        for i in range(phi.shape[0]):
            phi[i, i] *= 0.5
        inv = np.linalg.inv(ans)
        s = _product(_product(inv.T, phi), inv)
        return 0.5 * (s + s.T)
    return impl


@overload(H.eigvalsh_grad)
def _eigvalsh_grad(g, a):
    if not (_array(g, 1) and _array(a, 2)):
        return None

    def impl(g, a):
        w, v = np.linalg.eigh(a)
        return _product(v * g, v.T)
    return impl
