"""Forward mode through the rules of rules_joins.py (tuples of arrays, two results, casts):
jvp against central differences of the function, and hvp (forward over the generated
adjoint) against central differences of the gradient. Every case runs as Python; two
also compiled (jvp; hvp for one), as compiling each costs seconds."""

import numpy as np
import pytest

import adjit
import arrays as A
from fd import assert_close

CASES = [(A.concatenates, [(2, 3), (2, 2)]), (A.stacks, [(3,), (3,)]),
         (A.vstacks_hstacks, [(3,), (2, 3)]), (A.array_literals, [(), ()]),
         (A.slogdet, [(3, 3)]), (A.eigh, [(3, 3)]), (A.casts, [(4,)])]
COMPILED = {A.concatenates, A.slogdet}
PARAMS = [pytest.param(f, shapes, jit, id=f"{f.__name__}-{'numba' if jit is None else 'python'}")
          for f, shapes in CASES for jit in ((False, None) if f in COMPILED else (False,))]


def _draw(rng, shape):
    value = rng.normal(size=shape)
    return float(value) if shape == () else value


def _arguments(f, shapes, rng):
    args = [_draw(rng, s) for s in shapes]
    if f is A.slogdet:
        args[0] = args[0] + 3.0 * np.eye(3)
    return args


def _along(args, tangents, h):
    return [a + h * t for a, t in zip(args, tangents)]


@pytest.mark.parametrize("f, shapes, jit", PARAMS)
def test_jvp_against_differences(f, shapes, jit):
    rng = np.random.default_rng(5)
    for _ in range(2):
        args = _arguments(f, shapes, rng)
        tangents = [_draw(rng, s) for s in shapes]
        value, tangent = adjit.jvp(f, tuple(args), tuple(tangents), jit=jit)
        h = 1e-6
        numeric = (f(*_along(args, tangents, h)) - f(*_along(args, tangents, -h))) / (2 * h)
        assert_close(value, f(*args), rtol=1e-12)
        assert_close(tangent, numeric, rtol=1e-5)


@pytest.mark.parametrize("f, shapes, jit", [p for p in PARAMS if p.values[0] is not A.eigh
                                             and p.id != "concatenates-numba"])
def test_hvp_against_differences_of_the_gradient(f, shapes, jit):
    rng = np.random.default_rng(6)
    grad = adjit.grad(f, wrt=0, jit=False)
    hvp = adjit.hvp(f, wrt=0, jit=jit)
    for _ in range(2):
        args = _arguments(f, shapes, rng)
        v = _draw(rng, shapes[0])
        h = 1e-5
        up, down = list(args), list(args)
        up[0], down[0] = args[0] + h * v, args[0] - h * v
        numeric = (np.asarray(grad(*up)) - np.asarray(grad(*down))) / (2 * h)
        assert_close(hvp(*args, v), numeric, rtol=1e-5, atol=1e-6)


def test_hessian_through_eigh_eigenvectors_is_refused_not_wrong():
    """eigh's adjoint helper has no tangent rule yet: a clear error at the user's line."""
    with pytest.raises(adjit.TransformError, match="eigh_grad"):
        adjit.hvp(A.eigh, jit=False)(np.eye(3) + 0.1, np.ones((3, 3)))
