"""Gradient rules for functions joining a tuple of arrays, linear algebra returning two
values, and casts (`x.astype(np.float32)`).

Part of the one registry (imported at the end of `rules_arrays`). A parameter
taking a tuple or list of arrays gets one gradient per element, written
`tuple(<piece k> for k in range(len(arrays)))`: the tape runs it as Python,
the compiler writes out one statement per element with `k` a constant
(`templates.PerElement`). `np.linalg.slogdet` and `np.linalg.eigh` return two
values; their rules get `g` and `ans` as pairs.
"""

import numpy as np

from . import join_helpers, rules
from .helpers import eigh_tangent  # noqa: F401
from .join_helpers import (astype_grad, concatenate_piece, eigh_grad,  # noqa: F401
                           hstack_piece, stack_piece, vstack_piece)
from .rules import defjvp, defrule


@defrule((np.concatenate, "concatenate_of", "np.concatenate"), shape="unknown")
def concatenate(g, ans, arrays, axis=0):
    return tuple(concatenate_piece(g, arrays, k, axis) for k in range(len(arrays))), None


@defrule((np.stack, "np.stack"), shape="unknown")
def stack(g, ans, arrays, axis=0):
    return tuple(stack_piece(g, k, axis) for k in range(len(arrays))), None


@defrule((np.vstack, "np.vstack"), shape="unknown")
def vstack(g, ans, tup):
    return tuple(vstack_piece(g, tup, k) for k in range(len(tup)))


@defrule((np.hstack, "np.hstack"), shape="unknown")
def hstack(g, ans, tup):
    return tuple(hstack_piece(g, tup, k) for k in range(len(tup)))


# `np.array([x, y])`, `np.array([[a, b], [c, d]])`: each element's gradient is the
# matching element of `g` (`k` a tuple of positions when the lists nest).
# `np.array(x)` of an array is `np.copy(x)` (see `rules.lookup`).
@defrule((np.array, "np.array"), shape="unknown")
def array(g, ans, object, dtype=None):
    return tuple(g[k] for k in range(len(object))), None


# `sign, logdet = np.linalg.slogdet(a)`: only `logdet` has a gradient, inv(a)^T.
@defrule((np.linalg.slogdet, "np.linalg.slogdet"), shape="unknown", results=2)
def slogdet(g, ans, a):
    return g[1] * np.linalg.inv(a).T


# `w, v = np.linalg.eigh(a)`, `a` symmetric: the gradient is symmetric too.
@defrule((np.linalg.eigh, "np.linalg.eigh"), shape="unknown", results=2)
def eigh(g, ans, a):
    return eigh_grad(g[0], g[1], ans[0], ans[1])


# `x.astype(dtype)`: the gradient goes back in `x`'s type; a cast to integers is flat.
@defrule((np.ndarray.astype, "astype_of", "x.astype"), shape="unknown")
def astype(g, ans, x, dtype):
    return astype_grad(g, ans, x), None


rules.METHODS["astype"] = np.ndarray.astype


# ---- forward mode (tangent rules) ----------------------------------------------------
# Joining is linear in the arrays joined: the tangent joins their tangents.

defjvp(concatenate, linear=("arrays",))
defjvp(stack, linear=("arrays",))
defjvp(vstack, linear=("tup",))
defjvp(hstack, linear=("tup",))
defjvp(array, linear=("object",))
defjvp((join_helpers.concatenate_piece, "concatenate_piece"),
       (join_helpers.stack_piece, "stack_piece"), (join_helpers.vstack_piece, "vstack_piece"),
       (join_helpers.hstack_piece, "hstack_piece"), (join_helpers.astype_grad, "astype_grad"),
       linear=("g",))


# d log|det a| = trace(a^-1 da); the sign does not move.
@defjvp(slogdet)
def slogdet_jvp(g, ans, a):
    return (0.0, np.trace(np.linalg.solve(a, g)))


@defjvp(eigh)
def eigh_jvp(g, ans, a):
    return eigh_tangent(g, ans[0], ans[1])


# The tangent in the result's type; zero for a cast to integers or booleans.
@defjvp(astype)
def astype_jvp(g, ans, x, dtype):
    return astype_grad(g, ans, ans), None
