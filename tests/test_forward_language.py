"""Forward mode over the whole language: every program of tests/language_programs.py (loops
and exits, arrays written in place, views, calls, builtins) through `adjit.jvp` against
central differences of the program, and through `adjit.hvp` (the tangent of its generated
adjoint: stacks, undo logs, calls' adjoints) against central differences of its gradient.

Inputs are test_language's: away from kinks, where every coordinate can move without
changing the control-flow path. Python runs every program; Numba a few with the most
machinery (a while loop with `and`, nested exits, in-place updates in loops, calls).
A function with a custom gradient has no tangent rule: forward mode refuses it."""

import warnings

import numpy as np
import pytest

import adjit
import test_language as TL
from adjit.runtime.compile import AdjitWarning
from fd import assert_close

COMPILED = {"while_and", "break_deep", "return_nested", "heat_in_place", "bubble_sort_swap",
            "for_rows"}


def cases(compiled):
    out = []
    for c in TL.CASES:
        name = TL.name_of(c)
        if c.custom or (compiled and name not in COMPILED):
            continue
        out.append(pytest.param(c, id=f"{c.group}-{name}"))
    return out


def direction(c, args, seed=3):
    rng = np.random.default_rng(seed)
    return [(rng.normal(size=np.shape(a)) if isinstance(a, np.ndarray) else float(rng.normal()))
            if k in TL.positions(c) else None for k, a in enumerate(args)]


def along(func, args, tangents, step):
    """d/dh func(args + h tangents) at 0 by central differences (on copies: some programs
    write into their arguments)."""
    up = [a + step * t if t is not None else a for a, t in zip(TL.copied(args), tangents)]
    down = [a - step * t if t is not None else a for a, t in zip(TL.copied(args), tangents)]
    return (np.asarray(func(*up), dtype=float) - np.asarray(func(*down), dtype=float)) / (2 * step)


def check(c, jit):
    positions = TL.positions(c)
    for args in TL.inputs(c)[:2]:
        tangents = direction(c, args)
        given = tuple(t if t is not None else np.zeros(np.shape(a)) if np.ndim(a) else 0.0
                      for a, t in zip(args, tangents))
        before = TL.copied(args)
        with warnings.catch_warnings():
            warnings.simplefilter("error", AdjitWarning)
            value, tangent = adjit.jvp(c.func, args, given, jit=jit)
            hv = adjit.hvp(c.func, wrt=tuple(positions), jit=jit)(
                *args, tuple(tangents[p] for p in positions))
        for arg, old in zip(args, before):
            if isinstance(old, np.ndarray):
                np.testing.assert_array_equal(arg, old, err_msg="forward mode changed an argument")
        name = TL.name_of(c)
        assert_close(value, TL.on_copies(c.func)(*args), context=f"value of {name}")
        assert_close(tangent, along(TL.on_copies(c.func), args, tangents, 1e-6),
                     context=f"jvp of {name} at {args}")
        gradient = adjit.grad(c.func, wrt=tuple(positions), jit=False)

        def flat_gradient(*a):
            return np.concatenate([np.ravel(g) for g in gradient(*a)])
        want = along(flat_gradient, args, tangents, 1e-5)
        assert_close(np.concatenate([np.ravel(h) for h in hv]), want, rtol=1e-5, atol=1e-5,
                     context=f"hvp of {name} at {args}")


@pytest.mark.parametrize("c", cases(compiled=False))
def test_forward_mode_of_every_construct_as_python(c):
    check(c, False)


@pytest.mark.parametrize("c", cases(compiled=True))
def test_forward_mode_of_constructs_compiled(c):
    check(c, None)


@pytest.mark.parametrize("c", [pytest.param(c, id=TL.name_of(c)) for c in TL.CASES if c.custom])
def test_a_custom_gradient_has_no_tangent(c):
    """A custom_vjp function's rule is not differentiated again: forward mode refuses
    the function itself (TypeError) and calls to it (TransformError at the call)."""
    args = TL.inputs(c)[0]
    given = tuple(np.zeros(np.shape(a)) if np.ndim(a) else 0.0 for a in args)
    if isinstance(c.func, adjit.custom_vjp):
        with pytest.raises(TypeError, match="custom gradient"):
            adjit.jvp(c.func, args, given, jit=False)
    else:
        with pytest.raises(adjit.TransformError, match="custom gradient") as info:
            adjit.jvp(c.func, args, given, jit=False)
        assert info.value.filename == TL.L.__file__ and info.value.lineno is not None
