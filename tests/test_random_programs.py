"""Random-program tests: adjit's gradients against finite differences.

``program_gen`` writes random scalar programs ``def prog(x, y, n):``:
arithmetic, ``**``, ``abs``, math/NumPy elementwise functions, augmented and
tuple assignment, ``if``/``elif``/``else`` on data and on loop counters, nested
``for ... in range(...)`` loops, and - each behind a feature switch - ``and``/
``or``/``not`` in conditions, bounded data-dependent ``while`` loops, ``break``
and ``continue`` at any depth, early ``return``, local arrays with element
writes (``a[i] = e``, ``a[i] += e``, swaps, negative indices) and reads,
``for v in a`` over a local array, and calls to helper functions defined in the
same module (loops and branches of their own, tuple results, chained calls).
Each program is written to a file and imported, so ``inspect.getsource``
works, then differentiated with ``adjit.grad`` / ``adjit.value_and_grad`` and
compared with central finite differences of the plain Python function (never
with adjit's own output).

Points where finite differences are not trustworthy are rejected with
``assume``: a data comparison (in an ``if``, a ``while`` condition, a
``break``/``continue``/``return`` guard) or ``abs`` argument within ``MARGIN``
of its kink, a finite-difference stencil that takes a different branch or trip
count than the centre point, or two step sizes that disagree with each other.

Environment variables:

* ``ADJIT_RANDOM_EXAMPLES`` (default 300): programs run by the ``jit=False``
  test; the Numba test (about three times as slow per program: it compiles)
  runs a tenth as many, and the generator self-check as many.  CI runs the
  defaults; for a nightly-sized run start by hand, e.g.
  ``ADJIT_RANDOM_EXAMPLES=5000 python -m pytest tests/test_random_programs.py``
  (5000 Python programs, 500 compiled ones).
* ``ADJIT_RANDOM_SEED``: an integer seed instead of the fixed (derandomized)
  one, so repeated nightly runs explore different programs.
* ``ADJIT_RANDOM_FEATURES``: the constructs generated, default
  ``program_gen.SUPPORTED_FEATURES`` (what adjit differentiates today: every
  feature, since bc4639d); ``all``,
  ``none``, a list such as ``while,break,arrays`` or changes to the default such
  as ``+while,+break``.  Names: ``program_gen.FEATURES``.  The generator
  self-check (``test_generator_programs_run_as_python``) always uses every
  feature.
"""

import math
import os
import sys
import traceback
import warnings

import pytest
from hypothesis import HealthCheck, assume, given, note, seed, settings
from hypothesis.control import currently_in_test_context
from hypothesis import strategies as st

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from program_gen import (  # noqa: E402
    FEATURES,
    INPUT_BOUND,
    INSTRUMENT_HELPERS,
    MAX_N,
    features_from_env,
    load_module,
    programs,
    random_program,
    run_instrumented,
)

import adjit  # noqa: E402

MARGIN = 1e-3  # min distance of every evaluated data condition / abs argument
RTOL = 1e-5
ATOL = 1e-6
VALUE_RTOL = 1e-9  # adjit's primal vs the plain function (jit may differ by ulps)

PYTHON_EXAMPLES = int(os.environ.get("ADJIT_RANDOM_EXAMPLES", "300"))
NUMBA_EXAMPLES = max(1, PYTHON_EXAMPLES // 10)
_SEED = os.environ.get("ADJIT_RANDOM_SEED")
_SETTINGS = dict(
    deadline=None,
    derandomize=_SEED is None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


def _seeded(test):
    return seed(int(_SEED))(test) if _SEED is not None else test


# x, y: a coarse grid point (ordered so that it shrinks toward 0) plus a fine
# offset; plain st.integers/st.floats cluster near 0 far too much.
_GRID = sorted(
    {round(k / 10, 1) for k in range(-int(INPUT_BOUND * 10), int(INPUT_BOUND * 10))},
    key=lambda v: (abs(v), v < 0),
)
coords = st.builds(lambda c, f: round(c + f / 1000, 3), st.sampled_from(_GRID), st.integers(0, 99))
counts = st.sampled_from(list(range(MAX_N + 1)))  # uniform, shrinks toward 0
wrts = st.sampled_from([("x", "y"), "x", "y"])


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
    feats = ", ".join(f for f in FEATURES if f in prog.features) or "none"
    return _prepare_source(prog.source, prog.instrumented_source, x, y, n, progdir, features=feats)


def _prepare_source(src, inst_src, x, y, n, progdir, require=assume, features=None):
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
    if features is not None:
        ctx += f"generator features: {features}\n"
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


@_seeded
@settings(max_examples=PYTHON_EXAMPLES, **_SETTINGS)
@given(prog=programs(), x=coords, y=coords, n=counts, wrt=wrts, api=st.sampled_from(["grad", "value_and_grad"]))
def test_random_programs_python(progdir, prog, x, y, n, wrt, api):
    """jit=False: the generated adjoint runs as plain Python/NumPy.

    adjit takes a while to transform a program, so each example checks one
    API and one ``wrt`` (both drawn), over many examples."""
    plain, f0, fd, ctx = _prepare(prog, x, y, n, progdir)
    args = (x, y, n)
    if api == "grad":
        _check_grad(plain, args, wrt, fd, ctx, jit=False)
    else:
        _check_value_and_grad(plain, args, f0, wrt, fd, ctx, jit=False)


def _is_fallback_warning(w):
    # adjit warns "adjit runs prog as Python: Numba cannot compile it (...)"
    text = str(w.message).lower()
    return "numba" in text and ("python" in text or "cannot" in text or "fall" in text)


@_seeded
@settings(max_examples=NUMBA_EXAMPLES, **_SETTINGS)
@given(prog=programs(), x=coords, y=coords, n=counts, wrt=wrts)
def test_random_programs_numba(progdir, prog, x, y, n, wrt):
    """Default jit: primal and adjoint compiled with Numba (no fallback expected).

    ``grad`` and ``value_and_grad`` with the same (drawn) ``wrt`` share one
    compiled module, so each example pays for one Numba compilation."""
    plain, f0, fd, ctx = _prepare(prog, x, y, n, progdir)
    args = (x, y, n)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _check_value_and_grad(plain, args, f0, wrt, fd, ctx, jit=None)
        _check_grad(plain, args, wrt, fd, ctx, jit=None)
        compiled = adjit.grad(plain, wrt=wrt)(*args)
    fallbacks = [w for w in caught if _is_fallback_warning(w)]
    assert not fallbacks, (
        "adjit fell back from Numba for a program in the supported subset: "
        + "; ".join(f"{w.category.__name__}: {w.message}" for w in fallbacks)
        + ctx
    )
    # the compiled path must agree with the plain-Python path far more tightly
    # than finite differences can check
    python = _call(f"adjit.grad(prog, wrt={wrt!r}, jit=False)", ctx,
                   lambda: adjit.grad(plain, wrt=wrt, jit=False)(*args))
    if not isinstance(wrt, tuple):
        compiled, python = (compiled,), (python,)
    for name, gc, gp in zip(wrt if isinstance(wrt, tuple) else (wrt,), compiled, python):
        assert math.isclose(gc, gp, rel_tol=1e-9, abs_tol=1e-12), (
            f"d/d{name}: Numba path gives {gc!r}, jit=False gives {gp!r}{ctx}"
        )


# Programs the generator once produced that exposed adjit bugs, shrunk by hand.
# Plain text, not instrumented: the points are far from every branch's kink.
# The last item, ``(modes, why)``, marks a bug adjit still has in those modes
# ("python": jit=False, "numba": the default jit): the test expects the
# failure, and fails once the bug is fixed, so that the mark gets removed.
PY, NB = "python", "numba"


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
        None,
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
        None,
        id="inactive-var-overwritten-by-later-loop",
    ),
    pytest.param(
        """
def prog(x, y, n):
    for k in range(n):
        return y
    for k in range(n + 1):
        return x
    return y
""",
        0.5,
        0.3,
        0,
        None,
        id="return-inside-two-loops",
    ),
    pytest.param(
        """
def prog(x, y, n):
    for i in range(n):
        q = x
        while q < 0.0:
            y = q
    if x > 0.0:
        q = y
    return x * y
""",
        0.5,
        0.3,
        0,
        None,
        id="while-in-skipped-loop-adjoint-of-unbound-local",
    ),
    pytest.param(
        """
def prog(x, y, n):
    a = x
    for i in range(n):
        a += y
    return a + x
""",
        0.5,
        0.3,
        2,
        None,
        id="augmented-assignment-to-copy-of-argument-in-loop",
    ),
    pytest.param(
        """
def prog(x, y, n):
    if x > 0.01:
        b = x
        y, b = b, (x + x)
        x += x
    return x + y
""",
        0.5,
        0.3,
        0,
        None,
        id="augmented-assignment-after-tuple-assignment-in-branch",
    ),
    pytest.param(
        """
def prog(x, y, n):
    a = np.ones(n + 2)
    a[1] = y
    x, y = a[1], x
    x -= y
    return x + a[0]
""",
        0.5,
        0.3,
        1,
        None,
        id="element-read-in-tuple-assignment",
    ),
    pytest.param(
        """
def prog(x, y, n):
    buf = np.ones(n + 2)
    b = x
    for i in range(n):
        b = buf[i]
        buf[0] = y
        for v in buf:
            b = b * v
    return b
""",
        0.5,
        0.3,
        2,
        None,
        id="element-read-and-for-over-the-array",
    ),
    pytest.param(
        """
def prog(x, y, n):
    a = np.ones(n + 2)
    for i in range(n):
        a[0] = x
        y = a[0]
    return y
""",
        0.5,
        0.3,
        2,
        None,
        id="element-read-into-argument-in-loop",
    ),
    pytest.param(
        """
def prog(x, y, n):
    if x > 1.0:
        return x
    elif x > 0.0:
        return y
    else:
        a = x * y
    return a
""",
        -0.5,
        0.3,
        0,
        None,
        id="name-assigned-only-where-an-elif-chain-falls-through",
    ),
    pytest.param(
        """
def prog(x, y, n):
    for i in range(n):
        x = x * x
        y = x
    y *= x
    return x + y
""",
        0.5,
        -0.3,
        2,
        None,
        id="augmented-assignment-after-copy-in-loop",
    ),
    pytest.param(
        """
def h2(u, v):
    return u * v, u * v


def prog(x, y, n):
    b, x = h2(x, y)
    b += x
    return x + b
""",
        0.5,
        0.3,
        2,
        None,
        id="augmented-assignment-after-unpacking-a-call",
    ),
    pytest.param(
        """
def prog(x, y, n):
    if x > 0.0:
        if y > 0.0:
            c = x * y
        else:
            return y
        z = c
    else:
        return x
    return c
""",
        0.5,
        0.3,
        2,
        None,
        id="name-assigned-where-a-nested-if-falls-through",
    ),
    pytest.param(
        """
def prog(x, y, n):
    if x > 1.0:
        t = x
    else:
        if x < 0.0:
            return x
        t = y
    return t * x
""",
        -0.5,
        0.3,
        1,
        None,
        id="name-assigned-in-both-branches-one-of-which-may-return",
    ),
    pytest.param(
        """
def prog(x, y, n):
    if y < 0.0:
        v = x
    elif n > 1:
        return y
    else:
        v = y
    return v * x
""",
        0.5,
        0.3,
        1,
        None,
        id="name-assigned-around-an-elif-that-returns",
    ),
]


@pytest.mark.parametrize("jit", [False, None], ids=["python", "numba"])
@pytest.mark.parametrize("body, x, y, n, bug", REGRESSIONS)
def test_random_program_regressions(progdir, body, x, y, n, bug, jit):
    src = "import math\nimport numpy as np\n\n" + body
    inst_src = src + INSTRUMENT_HELPERS

    def require(ok):
        if not ok:  # pragma: no cover - the points are chosen to be valid
            pytest.fail("regression point is not usable for finite differences")

    plain, f0, fd, ctx = _prepare_source(src, inst_src, x, y, n, progdir, require)
    args = (x, y, n)
    mode = PY if jit is False else NB
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            # (compiled: one wrt, so that grad and value_and_grad share one compilation)
            for wrt in ("x", "y", ("x", "y")) if jit is False else (("x", "y"),):
                _check_grad(plain, args, wrt, fd, ctx, jit=jit)
            _check_value_and_grad(plain, args, f0, ("x", "y"), fd, ctx, jit=jit)
        fallbacks = [str(w.message) for w in caught if _is_fallback_warning(w)]
        assert not fallbacks, f"adjit fell back from Numba: {fallbacks}{ctx}"
    except AssertionError:
        if bug is not None and mode in bug[0]:
            pytest.xfail(f"known adjit bug: {bug[1]}")
        raise
    if bug is not None and mode in bug[0]:
        pytest.fail(f"fixed: adjit no longer shows the bug ({bug[1]}); drop its mark in REGRESSIONS")


# --------------------------------------------------------------------------
# the generator itself, with every feature on (adjit not involved)

_SELF_CHECK_POINTS = [(0.3, -0.7), (-1.9, 1.99), (1.234, 0.05), (-0.01, -1.5), (2.0, 2.0), (-2.0, -2.0)]
# a construct's text -> the feature that makes it; each must show up in generated programs
_CONSTRUCTS = {
    " and ": "boolops", " or ": "boolops", "not (": "boolops",
    "while ": "while", "while True:": "while",
    "break": "break", "continue": "continue",
    "np.zeros(": "arrays", "np.ones(": "arrays", "copy(": "arrays", "sum(": "arrays",
    "np.empty(": "array_writes", "] += ": "array_writes", "] = 0.0": "array_writes", "], ": "array_writes (swap)",
    " in arr:": "foreach", "def h": "helpers", ", m):": "helpers", "= h": "helper_tuples",
}


def test_generator_programs_run_as_python(progdir):
    """Every generated program (all features on) runs as plain Python, terminates,
    is finite and within the bound the generator proved, its instrumented copy
    gives the same value, and every feature's constructs do get generated."""
    import numpy as np

    seen = {text: 0 for text in _CONSTRUCTS}
    early_returns = 0
    for seed_ in range(PYTHON_EXAMPLES):
        prog = random_program(seed_, FEATURES)
        src = prog.source
        for text in seen:
            seen[text] += text in src
        early_returns += src.count("return") > src.count("def ")
        plain = load_module(src, progdir).prog
        inst = load_module(prog.instrumented_source, progdir)
        for (x, y), n in ((p, n) for p in _SELF_CHECK_POINTS for n in range(MAX_N + 1)):
            where = f"seed {seed_}, x={x}, y={y}, n={n}:\n{src}"
            with np.errstate(over="raise", invalid="raise", divide="raise"):
                value, _, _ = run_instrumented(inst, x, y, n)  # raises on a runaway loop
                f = plain(x, y, n)
            assert isinstance(f, float), f"result is {type(f).__name__}, not a float; {where}"
            assert math.isfinite(f) and f == value, f"plain {f!r}, instrumented {value!r}; {where}"
            assert abs(f) <= prog.ret_bound * (1 + 1e-9), f"|{f!r}| > proved bound {prog.ret_bound!r}; {where}"
    if PYTHON_EXAMPLES >= 200:
        rare = {text: count for text, count in seen.items() if count < PYTHON_EXAMPLES // 100}
        assert not rare, f"constructs (text: times seen) almost never generated: {rare}"
        assert early_returns >= PYTHON_EXAMPLES // 10


def test_feature_switches(monkeypatch):
    from program_gen import SUPPORTED_FEATURES, parse_features

    assert parse_features(None) == SUPPORTED_FEATURES
    assert parse_features("all") == frozenset(FEATURES)
    assert parse_features("none") == frozenset()
    assert parse_features("while,break") == {"while", "break"}
    assert parse_features("+while,-boolops") == (SUPPORTED_FEATURES | {"while"}) - {"boolops"}
    with pytest.raises(ValueError):
        parse_features("whiles")
    monkeypatch.setenv("ADJIT_RANDOM_FEATURES", "arrays")
    assert features_from_env() == {"arrays"}
    # a feature that is off never shows up
    for seed_ in range(50):
        src = random_program(seed_, {"arrays"}).source
        assert "while" not in src and "break" not in src and "def h" not in src and " and " not in src
        assert src.count("return") == 1
