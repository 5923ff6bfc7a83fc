"""Random-program tests: adjit's gradients against finite differences.

``program_gen`` writes random scalar programs ``def prog(x, y, n):`` using the
subset adjit supports (arithmetic, ``**``, ``abs``, math/NumPy elementwise
functions, augmented and tuple assignment, ``if``/``elif``/``else`` on data and
on loop counters, nested ``for ... in range(...)`` loops).  Each program is
written to a file and imported, so ``inspect.getsource`` works, then
differentiated with ``adjit.grad`` / ``adjit.value_and_grad`` and compared with
central finite differences of the plain Python function.

Points where finite differences are not trustworthy are rejected with
``assume``: a data comparison or ``abs`` argument within ``MARGIN`` of its
kink, a finite-difference stencil that takes a different branch than the centre
point, or two step sizes that disagree with each other.
"""

import math
import os
import sys
import traceback
import warnings

import pytest
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis.control import currently_in_test_context
from hypothesis import strategies as st

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from program_gen import (  # noqa: E402
    INPUT_BOUND,
    INSTRUMENT_HELPERS,
    MAX_N,
    load_module,
    programs,
    run_instrumented,
)

import adjit  # noqa: E402

MARGIN = 1e-3  # min distance of every evaluated data condition / abs argument
RTOL = 1e-5
ATOL = 1e-6
VALUE_RTOL = 1e-9  # adjit's primal vs the plain function (jit may differ by ulps)

# x, y: a coarse grid point (ordered so that it shrinks toward 0) plus a fine
# offset; plain st.integers/st.floats cluster near 0 far too much.
_GRID = sorted(
    {round(k / 10, 1) for k in range(-int(INPUT_BOUND * 10), int(INPUT_BOUND * 10))},
    key=lambda v: (abs(v), v < 0),
)
coords = st.builds(lambda c, f: round(c + f / 1000, 3), st.sampled_from(_GRID), st.integers(0, 99))
counts = st.sampled_from(list(range(MAX_N + 1)))  # uniform, shrinks toward 0


@pytest.fixture(scope="module")
def progdir(tmp_path_factory):
    return tmp_path_factory.mktemp("adjit_random_programs")


def _tol(ref):
    return ATOL + RTOL * abs(ref)


def _finite_difference(plain, inst, args, idx, base_trace, require=assume):
    """Central differences with steps h and 2h; rejects unreliable points."""
    v = args[idx]
    estimates = []
    for mult in (1.0, 2.0):
        h = mult * 1e-6 * max(1.0, abs(v))
        vals = []
        pts = []
        for s in (h, -h):
            a = list(args)
            a[idx] = v + s
            _, _, trace = run_instrumented(inst, *a)
            # the stencil must follow exactly the branches of the centre point
            require(trace == base_trace)
            vals.append(plain(*a))
            pts.append(a[idx])
        estimates.append((vals[0] - vals[1]) / (pts[0] - pts[1]))
    d1, d2 = estimates
    # both step sizes must agree well within the tolerance we test against
    require(abs(d1 - d2) <= 0.25 * _tol(d1))
    return d1


def _prepare(prog, x, y, n, progdir):
    return _prepare_source(prog.source, prog.instrumented_source, x, y, n, progdir)


def _prepare_source(src, inst_src, x, y, n, progdir, require=assume):
    plain = load_module(src, progdir).prog
    inst = load_module(inst_src, progdir)
    args = (x, y, n)
    value, margins, trace = run_instrumented(inst, *args)
    require(not margins or min(margins) > MARGIN)
    f0 = plain(*args)
    assert math.isfinite(f0), "generator bug: non-finite value\n" + src
    assert f0 == value, "generator bug: instrumented copy differs\n" + src
    fd = {
        "x": _finite_difference(plain, inst, args, 0, trace, require),
        "y": _finite_difference(plain, inst, args, 1, trace, require),
    }
    ctx = f"\n--- program ---\n{src[src.index('def '):]}--- args: x={x!r}, y={y!r}, n={n!r}\n"
    ctx += f"plain value={f0!r}, finite differences: d/dx={fd['x']!r}, d/dy={fd['y']!r}"
    if currently_in_test_context():
        note(ctx)
    return plain, f0, fd, ctx


def _check_grad_value(got, name, fd, what, ctx):
    assert isinstance(got, float), f"{what}: gradient w.r.t. {name} is {type(got).__name__} {got!r}, not a float{ctx}"
    ref = fd[name]
    assert math.isfinite(got) and abs(got - ref) <= _tol(ref), (
        f"{what}: d/d{name} = {got!r}, finite differences give {ref!r} (diff {got - ref:.3g}){ctx}"
    )


def _call(what, ctx, fn, *args):
    try:
        return fn(*args)
    except AssertionError:
        raise
    except Exception as e:  # report the program with any adjit failure
        tb = "".join(traceback.format_exception(type(e), e, e.__traceback__)[-6:])
        msg = f"{what} raised {type(e).__name__}: {e}{ctx}\n--- adjit traceback (tail) ---\n{tb}"
    # raised outside the handler so it has no __context__: the origin of adjit's
    # exception (a generated file) varies between replays, and hypothesis would
    # report each variant as a distinct, flaky failure
    raise AssertionError(msg)


def _check_grad(plain, args, wrt, fd, ctx, jit):
    kw = {} if jit is None else {"jit": jit}
    what = f"adjit.grad(prog, wrt={wrt!r}{'' if jit is None else f', jit={jit}'})"
    g = _call(what, ctx, lambda: adjit.grad(plain, wrt=wrt, **kw))
    got = _call(what + "(x, y, n)", ctx, g, *args)
    _check_grads(got, wrt, fd, what, ctx)


def _check_grads(grads, wrt, fd, what, ctx):
    """One gradient per name in `wrt` (a tuple of them for a tuple `wrt`), each against fd."""
    if isinstance(wrt, tuple):
        assert isinstance(grads, tuple) and len(grads) == len(wrt), (
            f"{what} returned {grads!r}, expected a {len(wrt)}-tuple{ctx}")
        for name, gi in zip(wrt, grads):
            _check_grad_value(gi, name, fd, what, ctx)
    else:
        _check_grad_value(grads, wrt, fd, what, ctx)


def _check_value_and_grad(plain, args, f0, wrt, fd, ctx, jit):
    kw = {} if jit is None else {"jit": jit}
    what = f"adjit.value_and_grad(prog, wrt={wrt!r}{'' if jit is None else f', jit={jit}'})"
    vg = _call(what, ctx, lambda: adjit.value_and_grad(plain, wrt=wrt, **kw))
    out = _call(what + "(x, y, n)", ctx, vg, *args)
    assert isinstance(out, tuple) and len(out) == 2, f"{what} returned {out!r}, expected (value, grad){ctx}"
    value, grads = out
    assert math.isclose(value, f0, rel_tol=VALUE_RTOL, abs_tol=1e-12), (
        f"{what}: value {value!r} != plain function value {f0!r}{ctx}"
    )
    _check_grads(grads, wrt, fd, what, ctx)


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
@given(prog=programs(), x=coords, y=coords, n=counts)
def test_random_programs_python(progdir, prog, x, y, n):
    """jit=False: the generated adjoint runs as plain Python/NumPy."""
    plain, f0, fd, ctx = _prepare(prog, x, y, n, progdir)
    args = (x, y, n)
    for wrt in ("x", "y", ("x", "y")):
        _check_grad(plain, args, wrt, fd, ctx, jit=False)
    _check_value_and_grad(plain, args, f0, ("x", "y"), fd, ctx, jit=False)


def _is_fallback_warning(w):
    # adjit warns "adjit runs prog as Python: Numba cannot compile it (...)"
    text = str(w.message).lower()
    return "numba" in text and ("python" in text or "cannot" in text or "fall" in text)


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
@given(prog=programs(), x=coords, y=coords, n=counts, single=st.sampled_from(["x", "y"]))
def test_random_programs_numba(progdir, prog, x, y, n, single):
    """Default jit: primal and adjoint compiled with Numba (no fallback expected)."""
    plain, f0, fd, ctx = _prepare(prog, x, y, n, progdir)
    args = (x, y, n)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _check_grad(plain, args, ("x", "y"), fd, ctx, jit=None)
        _check_grad(plain, args, single, fd, ctx, jit=None)
        _check_value_and_grad(plain, args, f0, ("x", "y"), fd, ctx, jit=None)
        compiled = adjit.grad(plain, wrt=("x", "y"))(*args)
    fallbacks = [w for w in caught if _is_fallback_warning(w)]
    assert not fallbacks, (
        "adjit fell back from Numba for a program in the supported subset: "
        + "; ".join(f"{w.category.__name__}: {w.message}" for w in fallbacks)
        + ctx
    )
    # the compiled path must agree with the plain-Python path far more tightly
    # than finite differences can check
    python = _call("adjit.grad(prog, wrt=('x', 'y'), jit=False)", ctx,
                   lambda: adjit.grad(plain, wrt=("x", "y"), jit=False)(*args))
    for name, gc, gp in zip("xy", compiled, python):
        assert math.isclose(gc, gp, rel_tol=1e-9, abs_tol=1e-12), (
            f"d/d{name}: Numba path gives {gc!r}, jit=False gives {gp!r}{ctx}"
        )


# Programs the generator once produced that exposed adjit bugs, shrunk by hand.
# Plain text, no data-dependent branches or abs (so no instrumentation needed).
REGRESSIONS = [
    pytest.param(
        """
def prog(x, y, n):
    for j in range(n):
        u = np.sin(x)
        y = u
    for k in range(n):
        u = y
    return y
""",
        0.3,
        0.2,
        0,
        id="loop-local-undefined-when-n-is-0",
    ),
    pytest.param(
        """
def prog(x, y, n):
    for i in range(n):
        y = np.sin(y + x)
    for i in range(n):
        x += 1.0
    return y
""",
        0.0,
        0.0,
        1,
        id="inactive-var-overwritten-by-later-loop",
    ),
]


@pytest.mark.parametrize("jit", [False, None], ids=["python", "numba"])
@pytest.mark.parametrize("body, x, y, n", REGRESSIONS)
def test_random_program_regressions(progdir, body, x, y, n, jit):
    src = "import math\nimport numpy as np\n\n" + body
    inst_src = src + INSTRUMENT_HELPERS

    def require(ok):
        if not ok:  # pragma: no cover - the points are chosen to be valid
            pytest.fail("regression point is not usable for finite differences")

    plain, f0, fd, ctx = _prepare_source(src, inst_src, x, y, n, progdir, require)
    args = (x, y, n)
    for wrt in ("x", "y", ("x", "y")):
        _check_grad(plain, args, wrt, fd, ctx, jit=jit)
    _check_value_and_grad(plain, args, f0, ("x", "y"), fd, ctx, jit=jit)
