"""Random programs in forward mode: `adjit.jvp` against central differences of the program
and `adjit.hvp` (the tangent of the generated adjoint) against differences of its
gradient, on the programs of tests/program_gen.py (loops, while, break/continue, early
return, local arrays written in place, helper calls with tuple results).

Points where differences are not trustworthy are rejected as in test_random_programs.py
(a data condition or `abs` near its kink, a stencil taking another path). Python only
(`ADJIT_RANDOM_EXAMPLES // 30` programs, 10 by default): compiled tangents of the same
code are checked in test_forward_language.py and test_higher.py.
"""

import os

from hypothesis import assume, given, settings
from hypothesis import strategies as st

import adjit
import test_random_programs as T
from program_gen import load_module, programs, run_instrumented

EXAMPLES = max(1, int(os.environ.get("ADJIT_RANDOM_EXAMPLES", "300")) // 30)
DIRECTION = (0.7, -1.3)


def fourth_order(f, h):
    """d/dt f(t) at 0 from f(+-h), f(+-2h)."""
    return (8 * (f(h) - f(-h)) - (f(2 * h) - f(-2 * h))) / (12 * h)


@T._seeded
@settings(max_examples=EXAMPLES, **T._SETTINGS)
@given(prog=programs(), x=T.coords, y=T.coords, n=T.counts)
def test_random_programs_forward(progdir, prog, x, y, n):
    plain, f0, fd, ctx = T._prepare(prog, x, y, n, progdir)
    u, v = DIRECTION
    value, tangent = T._call("adjit.jvp(prog)", ctx, adjit.jvp, plain, (x, y, n), (u, v, 0))
    want = u * fd["x"] + v * fd["y"]
    assert abs(tangent - want) <= T._tol(want), f"jvp {tangent!r}, differences {want!r}{ctx}"
    assert abs(value - f0) <= 1e-9 * max(1.0, abs(f0)), f"jvp's value {value!r} != {f0!r}{ctx}"

    # The Hessian along (u, v): differences of adjit's gradient (checked by the gradient
    # tests) along a path that keeps the branches of the centre point.
    inst = load_module(prog.instrumented_source, progdir)
    h = 1e-4
    _, _, trace = run_instrumented(inst, x, y, n)
    for s in (h, -h, 2 * h, -2 * h):
        assume(run_instrumented(inst, x + s * u, y + s * v, n)[2] == trace)
    grad = adjit.grad(plain, wrt=("x", "y"), jit=False)
    hv = T._call("adjit.hvp(prog)", ctx, adjit.hvp(plain, wrt=("x", "y"), jit=False),
                 x, y, n, DIRECTION)
    for k in range(2):
        want = fourth_order(lambda s: grad(x + s * u, y + s * v, n)[k], h)
        assert abs(hv[k] - want) <= 1e-4 * max(1.0, abs(want)), (
            f"hvp[{k}] {hv[k]!r}, differences of the gradient {want!r}{ctx}")


progdir = T.progdir
