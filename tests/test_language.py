"""The language of SPEC "What a differentiable function may contain", construct by construct.

Every case in tests/language_programs.py is differentiated with
`adjit.value_and_grad`, compiled (jit=None, the default: "numba") and as
Python (jit=False: "python"), on several inputs, and checked against central
finite differences of the plain function (tests/fd.py) or an exact formula:
the gradient, its type and shape, the value part, and that the caller's
arrays are left unchanged. Each gradient function is built once per mode and
shared by the tests (Numba's compile time dominates).

Test ids start with the construct group (loops, inplace, views, calls,
builtins): `pytest tests/test_language.py -k inplace`.

Inputs are drawn from a fixed seed per case and kept only where the function
is smooth: the same control-flow path (every line executed, in order, in the
programs and helpers) at each input moved by +-1e-4 in every differentiated
coordinate, and for kinks that no branch shows (abs, min, max, floor) a
hand-written margin. Finite differences are then valid.

Cases that adjit does not support yet are in NOT_YET, the one list of
expected failures (strict: a case that starts passing fails until its entry
is removed).
"""

import collections
import math
import sys
import zlib

import numpy as np
import pytest

import adjit
import language_helpers as LH
import language_programs as L
from fd import assert_close, numeric_gradient

TRIALS = 3           # inputs per case
PATH_STEP = 1e-4     # relative move under which the control-flow path must not change
MIN_MARGIN = 1e-3    # least distance from a kink of abs/min/max/floor

MODES = {"python": False, "numba": None}

# Expected failures: case name -> the construct that is not supported yet.
# A key may also be "name[python]" / "name[numba]" for one mode, or
# "value:name" / "gradient:name" / "refused_or_right:name" for one test.
# Remove an entry when its construct lands (strict xfail: a pass fails).
# A reason starting with "WRONG" is a silently wrong value or gradient.
NOT_YET = {}


# ---------------------------------------------------------------- inputs

def uniform(lo, hi, shape=None):
    return lambda rng: rng.uniform(lo, hi, shape) if shape else float(rng.uniform(lo, hi))


def normal(shape=None):
    return lambda rng: rng.normal(size=shape) if shape else float(rng.normal())


def const(value):
    return lambda rng: value


def copied(args):
    return tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)


def on_copies(func):
    """`func` called on copies of its arguments (some programs write into them)."""
    return lambda *args: func(*copied(args))


# ---------------------------------------------------------------- exact gradients and margins

def clip1(v):
    return min(max(v, -1.0), 1.0)


def distance_to_integer(v):
    v = np.asarray(v, dtype=float)
    return float(np.min(np.abs(v - np.round(v))))


def sorted_gaps(v):
    s = np.sort(np.ravel(v))
    return float(np.min(np.diff(s)))


def expect_bubble_sort(x, w):
    ranks = np.argsort(np.argsort(x))
    return w[ranks], np.sort(x)


def expect_kill_gradient(x):
    g = 8.0 * x
    g[2:5] = 0.0
    return (g,)


def expect_float_int(x, n):
    k = int(x * 3.0)
    return (k * (k + 1) / 2 + n + k,)


def expect_atan2_hypot(x, y):
    r = math.hypot(x, y)
    theta = math.atan2(y, x)
    return (-y / r + theta * x / r + 4.0 * x / math.hypot(2.0 * x, 1.0), x / r + theta * y / r)


def expect_clipped_square(x):
    return (2.0 * clip1(x),)


def expect_uses_clipped_square(x, n):
    g = math.cos(x)
    for i in range(n):
        c = (i + 1) * 0.5
        g += c * 2.0 * clip1(c * x)
    return (g,)


def expect_uses_product_st(x, y):
    return 2.0 + y, x


def expect_uses_ste_floor(x, w):
    return 4.0 * w, np.floor(x * 3.0) + x


def expect_uses_nb_floor(x):
    return (2.0 * x + math.floor(4.0 * x) + 1.0,)


def margin_abs_min_max(x, y):
    return min(abs(x - y), abs(math.sin(x)), abs(x * y - 0.3), abs(x - 0.5), abs(y - 0.5),
               abs(x + y), abs(x - 0.2), abs(y + 0.2))


def margin_reductions(x, m):
    return min(sorted_gaps(x), sorted_gaps(m))


def margin_uses_clipped_square(x, n):
    return min(abs(abs(x * (i + 1) * 0.5) - 1.0) for i in range(n))


# ---------------------------------------------------------------- the cases

Case = collections.namedtuple(
    "Case", "group func makers wrt expected margin custom")


def case(group, func, makers, wrt=0, expected=None, margin=None, custom=False):
    return Case(group, func, makers, wrt, expected, margin, custom)


def name_of(c):
    func = c.func
    while not hasattr(func, "__name__") and hasattr(func, "__wrapped__"):
        func = func.__wrapped__   # a custom_vjp object may hide its function's name
    return func.__name__


CASES = [
    # 1. loops and exits
    case("loops", L.while_and, [uniform(0.3, 2.0)]),
    case("loops", L.while_or_not, [uniform(0.1, 2.0), uniform(0.2, 1.5)], (0, 1)),
    case("loops", L.while_true_break, [uniform(0.2, 1.5)]),
    case("loops", L.while_scan, [uniform(-0.2, 1.0, (6,))]),
    case("loops", L.while_continue, [uniform(0.1, 1.5)]),
    case("loops", L.break_inner, [uniform(0.1, 1.0), const(4)]),
    case("loops", L.continue_nested, [normal(), const(4)]),
    case("loops", L.break_deep, [uniform(-1.0, 1.0), const(3)]),
    case("loops", L.return_in_loop, [uniform(0.1, 1.5), const(6)]),
    case("loops", L.return_nested, [uniform(-1.0, 1.0), uniform(0.2, 1.0), const(5)], (0, 1)),
    case("loops", L.return_in_while, [uniform(0.1, 1.3)]),
    case("loops", L.for_elements, [normal((5,))]),
    case("loops", L.for_elements_break, [uniform(-1.0, 1.5, (6,))]),
    case("loops", L.for_rows, [normal((4, 3)), normal((3,))], (0, 1)),
    case("loops", L.range_zero_trips, [normal(), const(3)]),
    case("loops", L.range_negative_step, [normal(), const(5)]),
    case("loops", L.range_outer_bound, [uniform(0.1, 1.0), const(4)]),
    # 2. arrays written in place
    case("inplace", L.setitem_loop, [normal((5,))]),
    case("inplace", L.augassign_add_sub, [normal((4,)), normal()], (0, 1)),
    case("inplace", L.augassign_mul_div, [normal((4,)), uniform(0.5, 2.0)], (0, 1)),
    case("inplace", L.setitem_2d, [normal((3,))]),
    case("inplace", L.slice_augmented, [normal((6,))]),
    case("inplace", L.slice_column_assign, [normal((5,)), normal((3, 3))], (0, 1)),
    case("inplace", L.negative_index, [normal((5,))]),
    case("inplace", L.bubble_sort_swap, [normal((5,)), normal((5,))], (0, 1),
         expected=expect_bubble_sort),
    case("inplace", L.swap_temp, [normal((5,)), normal((5,))], (0, 1)),
    case("inplace", L.overwrite_square, [uniform(-1.0, 1.0, (4,)), const(3)]),
    case("inplace", L.heat_explicit,
         [normal((6,)), uniform(0.1, 0.4), uniform(0.5, 1.5, (6,)), const(4)], (0, 1, 2)),
    case("inplace", L.heat_in_place, [uniform(-0.5, 0.5, (6,)), uniform(0.1, 0.4), const(4)],
         (0, 1)),
    case("inplace", L.heat_slices, [normal((6,)), uniform(0.1, 0.4), const(4)], (0, 1)),
    case("inplace", L.heat_copy_old, [uniform(-0.5, 0.5, (6,)), uniform(0.1, 0.4), const(4)],
         (0, 1)),
    case("inplace", L.write_then_read_outer, [normal((4,)), const(3)]),
    case("inplace", L.sparse_writes, [normal((4,))]),
    case("inplace", L.write_both_branches, [normal((5,))]),
    case("inplace", L.write_rows, [normal((3, 4)), uniform(0.5, 1.0, (4,)), const(3)], (0, 1)),
    case("inplace", L.write_while, [normal((5,))]),
    case("inplace", L.read_before_write_only, [normal((5,))]),
    case("inplace", L.write_direct_and_nested, [normal((5,))]),
    case("inplace", L.write_break, [normal((6,)), uniform(0.5, 1.0)]),
    case("inplace", L.kill_gradient, [normal((6,))], expected=expect_kill_gradient),
    case("inplace", L.local_zeros_ones_empty, [normal((4,))]),
    case("inplace", L.local_like_copy, [normal((4,))]),
    case("inplace", L.array_result_in_place, [normal((5,))]),
    case("inplace", L.reassigned_array_argument, [normal((4,))]),
    case("inplace", L.write_into_argument, [normal((4,))]),
    case("inplace", L.argument_augassign_whole, [normal((4,)), normal((4,))], (0, 1)),
    case("inplace", L.slice_shift_overlap, [normal((5,)), uniform(0.5, 1.5, (5,))], (0, 1)),
    case("inplace", L.copy_then_write, [normal((5,))]),
    # 3. calls to user functions
    case("calls", L.call_local_helper, [normal(), normal()], (0, 1)),
    case("calls", L.call_imported, [normal(), normal()], (0, 1)),
    case("calls", L.call_chain, [normal(), normal()], (0, 1)),
    case("calls", L.call_in_loop, [uniform(0.1, 1.0), const(5)]),
    case("calls", L.call_tuple_return, [uniform(0.3, 1.5), uniform(-1.0, 1.0)], (0, 1)),
    case("calls", L.shared_user_a, [normal(), const(3)]),
    case("calls", L.shared_user_b, [normal(), normal(), const(3)], (0, 1)),
    case("calls", L.call_array_helper, [normal((4,)), uniform(0.5, 1.5, (4,))], (0, 1)),
    case("calls", L.call_keyword, [normal()]),
    case("calls", L.clipped_square, [uniform(-3.0, 3.0)], expected=expect_clipped_square,
         margin=lambda x: abs(abs(x) - 1.0), custom=True),
    case("calls", L.uses_clipped_square, [uniform(0.2, 1.5), const(4)],
         expected=expect_uses_clipped_square, margin=margin_uses_clipped_square, custom=True),
    case("calls", L.uses_product_st, [normal(), normal()], (0, 1),
         expected=expect_uses_product_st, custom=True),
    case("calls", L.uses_ste_floor, [normal((4,)), normal((4,))], (0, 1),
         expected=expect_uses_ste_floor, margin=lambda x, w: distance_to_integer(x * 3.0),
         custom=True),
    case("calls", L.uses_nb_floor, [uniform(0.1, 2.0)], expected=expect_uses_nb_floor,
         margin=lambda x: distance_to_integer(x * 4.0), custom=True),
    # 4. attributes, methods, builtins
    case("builtins", L.shape_attributes, [normal((3, 4))]),
    case("builtins", L.transpose_dot_copy, [normal((3, 3)), normal((3,))], (0, 1)),
    case("builtins", L.reduction_methods, [normal((5,)), normal((2, 3))], (0, 1),
         margin=margin_reductions),
    case("builtins", L.reshape_method, [normal((6,))]),
    case("builtins", L.builtin_abs_min_max, [normal(), normal()], (0, 1),
         margin=margin_abs_min_max),
    case("builtins", L.float_int, [uniform(0.5, 3.0), const(2)], expected=expect_float_int),
    case("builtins", L.atan2_hypot, [uniform(0.3, 1.5), normal()], (0, 1),
         expected=expect_atan2_hypot),
    case("builtins", L.range_len, [normal((5,))]),
]

# Writes through views and aliases, and a helper writing into its argument:
# adjit may refuse them (TransformError) but must never return a wrong gradient.
REFUSED_OR_RIGHT = [
    case("views", L.view_slice_write, [normal((4,))]),
    case("views", L.alias_write, [normal((4,))]),
    case("views", L.row_view_write, [normal((3, 3))]),
    case("views", L.row_swap_view, [normal((3, 3))]),
    case("views", L.reshape_view_write, [normal((6,))]),
    case("views", L.argument_view_write, [normal((5,))]),
    case("views", L.call_mutating_helper, [normal((4,))]),
    case("views", L.alias_augassign, [normal((4,))]),
    case("views", L.view_augassign, [normal((4,))]),
    case("views", L.argument_alias_augassign, [normal((4,))]),
    case("views", L.row_loop_view_write, [normal((3, 3))]),
    case("views", L.fancy_index_augassign, [normal((4,)), const(np.array([0, 0, 1, 2]))]),
]

RECURSIVE = [(L.recursive, (0.5, 3)), (L.calls_mutual_recursion, (0.5,))]


def positions(c):
    return c.wrt if isinstance(c.wrt, tuple) else (c.wrt,)


def params(kind, cases):
    out = []
    for c in cases:
        name = name_of(c)
        for mode in MODES:
            marks = []
            for key in (name, f"{name}[{mode}]", f"{kind}:{name}", f"{kind}:{name}[{mode}]"):
                if key in NOT_YET:
                    reason = NOT_YET[key]
                    if not reason.startswith("WRONG"):
                        reason = f"not yet supported: {reason}"
                    marks = [pytest.mark.xfail(strict=True, reason=reason)]
                    break
            out.append(pytest.param(c, mode, marks=marks, id=f"{c.group}-{name}-{mode}"))
    return out


# ---------------------------------------------------------------- inputs away from kinks

_FILES = {L.__file__, LH.__file__}


def control_path(func, args):
    """The (function, line) sequence executed in the programs and helpers."""
    lines = []

    def tracer(frame, event, arg):
        if frame.f_code.co_filename not in _FILES:
            return None
        if event == "line":
            lines.append((frame.f_code.co_name, frame.f_lineno))
        return tracer

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        func(*copied(args))
    finally:
        sys.settrace(previous)
    return lines


def moved(args, position, index, delta):
    args = list(copied(args))
    if index is None:
        args[position] = args[position] + delta * max(1.0, abs(args[position]))
    else:
        args[position][index] += delta * max(1.0, abs(args[position][index]))
    return args


def smooth_at(c, args):
    if c.margin is not None and not c.margin(*args) > MIN_MARGIN:
        return False
    path = control_path(c.func, args)
    for position in positions(c):
        value = args[position]
        indices = list(np.ndindex(value.shape)) if isinstance(value, np.ndarray) else [None]
        for index in indices:
            for delta in (PATH_STEP, -PATH_STEP):
                if control_path(c.func, moved(args, position, index, delta)) != path:
                    return False
    return True


_inputs = {}


def inputs(c):
    """TRIALS argument tuples where `c.func` is smooth, from a seed fixed by the case's name."""
    name = name_of(c)
    if name not in _inputs:
        rng = np.random.default_rng(zlib.crc32(name.encode()))
        found = []
        for attempt in range(500):
            args = tuple(make(rng) for make in c.makers)
            if smooth_at(c, args):
                found.append(args)
                if len(found) == TRIALS:
                    break
        else:
            raise AssertionError(f"test setup: no {TRIALS} inputs away from kinks for {name}")
        _inputs[name] = found
    return _inputs[name]


def reference(c, args):
    """The expected gradients, a tuple in the order of `positions(c)`."""
    if c.expected is not None:
        return tuple(c.expected(*copied(args)))
    return tuple(numeric_gradient(on_copies(c.func), list(copied(args)), p) for p in positions(c))


# ---------------------------------------------------------------- building gradients once

_built = {}


def value_and_grad(c, mode):
    """Built once per case and mode; a refusal is not kept (it is quick to repeat)."""
    key = (name_of(c), mode)
    if key not in _built:
        try:
            _built[key] = adjit.value_and_grad(c.func, wrt=c.wrt, jit=MODES[mode])
        except adjit.TransformError as exc:
            # The message names the user's line. Without adjit's own frames pytest
            # reports the (many, expected) refusals in a fraction of the time.
            raise exc.with_traceback(None)
    return _built[key]


def run(vg, c, args):
    """(value, gradients as a tuple), checking that the caller's arrays are unchanged."""
    before = copied(args)
    value, grads = vg(*args)
    for position, (arg, old) in enumerate(zip(args, before)):
        if isinstance(old, np.ndarray):
            np.testing.assert_array_equal(
                arg, old, err_msg=f"{name_of(c)}: the gradient call changed argument {position}")
    grads = grads if isinstance(c.wrt, tuple) else (grads,)
    return value, grads


def check_gradients(c, args, grads):
    expected = reference(c, args)
    assert len(grads) == len(expected)
    for grad, want, position in zip(grads, expected, positions(c)):
        arg = args[position]
        if isinstance(arg, np.ndarray):
            assert isinstance(grad, np.ndarray), f"gradient of argument {position} is {type(grad)}"
            assert grad.shape == arg.shape and grad.dtype == arg.dtype
        else:
            assert isinstance(grad, float), f"gradient of argument {position} is {type(grad)}"
        assert_close(grad, want, context=f"{name_of(c)} wrt argument {position} at {args}")


def check_value(c, args, value):
    np.testing.assert_allclose(np.asarray(value, dtype=float),
                               np.asarray(on_copies(c.func)(*args), dtype=float),
                               rtol=1e-9, atol=1e-12, err_msg=f"{name_of(c)} value at {args}")


# ---------------------------------------------------------------- the tests

@pytest.mark.parametrize("c, mode", params("gradient", CASES))
def test_gradient(c, mode):
    vg = value_and_grad(c, mode)
    for args in inputs(c):
        value, grads = run(vg, c, args)
        check_gradients(c, args, grads)


@pytest.mark.parametrize("c, mode", params("value", CASES))
def test_value(c, mode):
    vg = value_and_grad(c, mode)
    for args in inputs(c):
        value, grads = run(vg, c, args)
        check_value(c, args, value)


@pytest.mark.parametrize("c, mode", params("refused_or_right", REFUSED_OR_RIGHT))
def test_refused_or_right(c, mode):
    try:
        vg = value_and_grad(c, mode)
    except adjit.TransformError:
        return
    for args in inputs(c):
        try:
            value, grads = run(vg, c, args)
        except adjit.TransformError:
            return
        check_value(c, args, value)
        check_gradients(c, args, grads)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("func, args", RECURSIVE, ids=[f.__name__ for f, _ in RECURSIVE])
def test_recursion_is_refused(func, args, mode):
    with pytest.raises(adjit.TransformError) as info:
        adjit.value_and_grad(func, jit=MODES[mode])(*args)
    assert info.value.filename == L.__file__


@pytest.mark.parametrize("c", CASES + REFUSED_OR_RIGHT,
                         ids=[f"{c.group}-{name_of(c)}" for c in CASES + REFUSED_OR_RIGHT])
def test_reference(c):
    """The test's own references, without adjit: the programs run, finite differences are
    finite, an exact formula agrees with them, and a custom rule differs from them (so the
    test would notice a compiler that ignores the rule)."""
    differs = False
    for args in inputs(c):
        numeric = tuple(numeric_gradient(on_copies(c.func), list(copied(args)), p)
                        for p in positions(c))
        assert all(np.all(np.isfinite(g)) for g in numeric)
        if c.expected is None:
            continue
        exact = tuple(c.expected(*copied(args)))
        if c.custom:
            differs |= any(not np.allclose(e, n, rtol=1e-3, atol=1e-3)
                           for e, n in zip(exact, numeric))
        else:
            for e, n in zip(exact, numeric):
                assert_close(e, n, context=f"exact formula for {name_of(c)} at {args}")
    if c.custom:
        assert differs, f"{name_of(c)}: the custom rule agrees with the true derivative here"
