"""Forward mode: `adjit.jvp` of every rule against central differences, the registry's
tangent rules, and the generated tangent code, compiled by Numba (with no fallback to
Python) and as Python.

The functions are those the gradient tests use, one or a few rules each (ufuncs.py,
reductions.py, methods.py, and every case of arrays.CASES), plus the language's
constructs. Each also has its Hessian-vector product checked (forward over the generated
adjoint), which differentiates the tangents of the helpers adjoints call. Python runs
every function; Numba runs the functions that bundle several rules and a few others
(compiling dominates the time)."""

import functools
import warnings

import numpy as np
import pytest

import adjit
import arrays as A
import methods as M
import reductions as R
import ufuncs as U
from adjit.runtime import helpers, rules
from adjit.runtime.compile import AdjitWarning
from adjit.transform import TransformError
from fd import assert_close
from inputs import const, normal, uniform, well_conditioned

JIT = pytest.mark.parametrize("jit", [False, None], ids=["python", "numba"])


def no_fallback(fn, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("error", AdjitWarning)
        return fn(*args)


def directional(func, args, tangents, step=1e-6):
    """d/dh func(args + h tangents) at 0, by central differences."""
    up = [a + step * t if t is not None else a for a, t in zip(args, tangents)]
    down = [a - step * t if t is not None else a for a, t in zip(args, tangents)]
    return (np.asarray(func(*up), dtype=float) - np.asarray(func(*down), dtype=float)) / (2 * step)


def random_tangents(args, wrt, seed=7):
    rng = np.random.default_rng(seed)
    return [(rng.normal(size=np.shape(a)) if isinstance(a, np.ndarray) else float(rng.normal()))
            if k in wrt else None for k, a in enumerate(args)]


def zero_like(value):
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return np.zeros(value.shape)
    return 0.0 if isinstance(value, float) else None


@functools.lru_cache(maxsize=None)
def gradient(func, wrt):
    return adjit.grad(func, wrt=wrt, jit=False)


@functools.lru_cache(maxsize=None)
def hvp(func, wrt, jit):
    return adjit.hvp(func, wrt=wrt, jit=jit)


def check(func, args, wrt, jit, second=True):
    """jvp against differences of `func`, and the hvp against differences of its gradient."""
    wrt = wrt if isinstance(wrt, tuple) else (wrt,)
    tangents = random_tangents(args, wrt)
    given = tuple(t if t is not None else zero_like(a) for a, t in zip(args, tangents))
    value, tangent = no_fallback(lambda: adjit.jvp(func, tuple(args), given, jit=jit))
    assert_close(value, func(*args), rtol=1e-12, context=f"value of {func.__name__}")
    assert np.shape(tangent) == np.shape(value)
    assert_close(tangent, directional(func, args, tangents), context=f"jvp of {func.__name__}")
    if not second:
        return
    vectors = tuple(tangents[k] for k in wrt)
    hv = no_fallback(hvp(func, wrt, jit), *args, vectors)

    def flat_gradient(*a):
        return np.concatenate([np.ravel(g) for g in gradient(func, wrt)(*a)])
    want = directional(flat_gradient, args, tangents, step=1e-5)
    assert_close(np.concatenate([np.ravel(h) for h in hv]), want, rtol=1e-5, atol=1e-5,
                 context=f"hvp of {func.__name__}")


# (function, argument makers, wrt, whether Numba runs it too: True, or "jvp" for the jvp
# alone; whether its hvp is checked: cumprod, cholesky, eigvalsh and eigh have forward
# rules, their gradients' helpers not yet)
def case(func, makers, wrt=0, numba=False, second=True):
    return pytest.param(func, makers, wrt, numba, second, id=func.__name__)


UNARY = [U.np_exp2, U.np_log2, U.np_log10, U.np_cbrt, U.np_square, U.np_reciprocal, U.np_arcsinh,
         U.np_arccosh, U.np_arctanh, U.np_deg_rad]
BINARY = [U.np_operators_as_functions, U.np_hypot, U.np_arctan2, U.np_logaddexp, U.np_fmax_fmin]
# Every binary rule, its operands broadcast: a scalar, a row, a column, ...
BROADCAST = [U.broadcast_arithmetic, U.broadcast_functions, U.broadcast_selection,
             U.compiled_arithmetic, U.compiled_functions, U.compiled_selection]
SHAPES = [(), (4,), (3, 1), (1, 4), (3, 4), (2, 3, 4)]

CASES = [case(f, [uniform(0.2, 1.8, 5)]) for f in UNARY] + [
    case(f, [uniform(0.2, 1.8, 3, 4), uniform(0.2, 1.8, 4)], (0, 1)) for f in BINARY] + [
    case(f, [uniform(0.5, 1.5, *shape) for shape in SHAPES], tuple(range(len(SHAPES))),
         ) for f in BROADCAST] + [
    case(U.math_functions, [uniform(0.2, 1.8)], numba=True),
    case(U.math_binary, [uniform(0.2, 1.8), uniform(0.2, 1.8)], (0, 1)),
    case(U.builtin_max_min, [uniform(0.2, 1.8), uniform(0.2, 1.8)], (0, 1)),
    case(U.scalar_selection, [uniform(0.5, 1.5), uniform(0.5, 1.5)], (0, 1)),
    # reductions, with axis and keepdims; away from 0 (the product of many is small)
    case(R.sums, [uniform(0.3, 1.5, 3, 4)]),
    case(R.means, [uniform(0.3, 1.5, 3, 4)]),
    case(R.prods, [uniform(0.3, 1.5, 3, 4)]),
    case(R.extrema, [uniform(0.3, 1.5, 3, 4)]),
    case(R.spreads, [uniform(0.3, 1.5, 3, 4)]),
    case(R.cumulative, [uniform(0.3, 1.5, 3, 4)], second=False),
    case(R.norms, [uniform(0.3, 1.5, 3, 4)]),
    case(R.methods, [uniform(0.3, 1.5, 3, 4)]),
    # array methods, attributes and builtins
    case(M.attr_T, [normal(2, 3), normal(3, 2)], (0, 1)),
    case(M.method_transpose, [normal(3, 4)]),
    case(M.method_sum, [normal(2, 3)]),
    case(M.method_max, [normal(2, 3)]),
    case(M.reshape_dims, [normal(6), normal(3, 2)], (0, 1)),
    case(M.reshape_transposed, [normal(3, 4), normal(12)], (0, 1)),
    case(M.method_dot_chain, [normal(2, 3), normal(3)], (0, 1)),
    case(M.builtin_abs, [normal(2, 3)]),
    case(M.builtin_min_max, [normal(), normal()], (0, 1)),
    case(M.builtin_float_element, [normal(4)]),
    case(M.builtin_range, [normal(), const(5)]),
    case(M.int_counters_and_shapes, [normal(4), const(6)], numba=True),
    case(M.math_atan2_hypot, [uniform(0.2, 2.0), uniform(-2.0, 2.0)], (0, 1)),
]


def forward_helpers(v, m, b):
    """The tangents computed by helpers: sort, cumprod along an axis, cholesky, eigvalsh,
    eigh (its vectors through squares: their signs are arbitrary)."""
    spd = b @ b.T + 3.0 * np.eye(3)
    w, vectors = np.linalg.eigh(spd)
    return (np.sum(np.sort(v) * np.arange(5.0)) + np.sum(np.cumprod(m, axis=1) * m)
            + np.sum(np.linalg.cholesky(spd) * b) + np.sum(np.linalg.eigvalsh(spd) ** 2)
            + np.sum(vectors[:, 0] ** 2 * w))


def broadcast_mix(s, r, c, m):
    """Operands of different shapes (a number, a row, a column, a matrix): tangents spread."""
    return np.sum(np.sin(m + s) * (r - c) + np.maximum(c, r))


def axis_products(x):
    """np.prod over an axis and of a row: its second derivative goes through prod_others."""
    return np.sum(np.prod(x, axis=1) ** 2) + np.prod(x[0]) * x[1, 0]


def log_determinants(a):
    """`np.linalg.slogdet` of a matrix whose determinant moves with `a`."""
    sign, logdet = np.linalg.slogdet(a @ a.T + a)
    return logdet * 3.0 + sign


# The array programs of test_arrays.py (products, shapes, selection, linear algebra,
# joins), all as Python; these compiled too (joins of arrays: the jvp alone), and these
# without their hvp:
ARRAYS_COMPILED = {A.inv: True, A.slogdet: True, A.concatenates: "jvp"}
ARRAYS_FIRST_ONLY = {A.cholesky, A.eigvalsh, A.eigh}
CASES += [case(func, makers, wrt, numba=ARRAYS_COMPILED.get(func, False),
               second=func not in ARRAYS_FIRST_ONLY) for func, makers, wrt in A.CASES]
CASES += [case(log_determinants, [well_conditioned(3)]),
          case(axis_products, [uniform(0.3, 1.5, 3, 4)], numba=True)]
CASES += [case(forward_helpers, [normal(5), uniform(0.3, 1.5, 2, 4), normal(3, 3)], (0, 1, 2),
               numba=True, second=False),
          case(broadcast_mix, [uniform(0.5, 1.5), uniform(0.5, 1.5, 4), uniform(0.5, 1.5, 3, 1),
                               uniform(0.5, 1.5, 3, 4)], (0, 1, 2, 3), numba=True)]
# Numba compiles a few small bundles that between them reach every Numba overload of the
# tangent helpers (the large bundles take up to minutes to compile: Python only; test_higher
# compiles products through np.dot and `@`).
COMPILED = [c for c in CASES if c.values[3]]


def run(func, makers, wrt, second, jit):
    for seed in range(2):
        rng = np.random.default_rng(seed)
        args = [make(rng) for make in makers]
        check(func, args, wrt, jit, second=second and seed == 0)


@pytest.mark.parametrize("func, makers, wrt, numba, second", CASES)
def test_jvp_and_hvp_of_every_rule_as_python(func, makers, wrt, numba, second):
    run(func, makers, wrt, second, False)


@pytest.mark.parametrize("func, makers, wrt, numba, second", COMPILED)
def test_jvp_and_hvp_of_rule_bundles_compiled(func, makers, wrt, numba, second):
    run(func, makers, wrt, second and numba is True, None)


@pytest.mark.parametrize("func, makers, wrt", [
    pytest.param(func, makers, wrt, id=func.__name__) for func, makers, wrt in A.CASES
    if isinstance(wrt, tuple) and func not in ARRAYS_FIRST_ONLY])
def test_hvp_along_the_first_of_several_arguments_as_python(func, makers, wrt):
    """The other arguments are constants of the Hessian: joins and products of an array
    with a tangent and one without (the hvp of the others, with respect to all, has every
    operand's)."""
    args = [make(np.random.default_rng(0)) for make in makers]
    check(func, args, wrt[:1], False)


def test_hessian_through_eigh_eigenvectors_is_refused_not_wrong():
    """eigh's adjoint helper has no tangent rule yet: a clear error at the user's line."""
    with pytest.raises(adjit.TransformError, match="eigh_grad"):
        adjit.hvp(A.eigh, jit=False)(np.eye(3) + 0.1, np.ones((3, 3)))


# ---- the registry ----------------------------------------------------------------------

# Helpers generated adjoints call, whose tangent rule lets an adjoint be differentiated
# again. Not yet: the gradients of cholesky, eigvalsh, eigh and cumprod (first
# derivatives only) and custom rules' `grad_or_zero`.
ADJOINT_HELPERS = ["add_at", "zeros_like", "seed_like", "unbroadcast", "broadcast_like", "size_of",
                   "extremum_grad", "dot_grad_left", "dot_grad_right", "log_or_zero", "trip_count",
                   "stack_like", "grow", "restore", "snapshot", "must_be_scalar", "undo_log",
                   "log_write", "undo_write", "log_height", "undo_to", "grad_at", "zero_at",
                   "tangent_like", "sort_tangent", "unreduce", "reduced_size", "centered",
                   "prod_others", "extremum_share", "one_if_zero", "cumsum_grad", "clip_inside",
                   "clip_below", "clip_above", "diag_grad", "diagonal_grad", "repeat_grad",
                   "sort_grad", "take_grad", "tile_grad", "transpose_back", "tensordot_grad_left",
                   "tensordot_grad_right", "einsum_grad_first", "einsum_grad_second",
                   "concatenate_piece", "stack_piece", "vstack_piece", "hstack_piece",
                   "astype_grad"]


def test_every_rule_has_a_tangent_rule():
    """Every rule of the registry can be differentiated in forward mode: a new rule
    comes with its JVP (`rules.defjvp`), unless it is elementwise."""
    missing = [shown or target for key, (rule, spelling, shown, target, options)
               in rules._RULES.items() if rules._tangent_of_key(key) is None]
    assert not missing, f"no tangent rule for {missing}"


def test_every_helper_of_adjoints_has_a_tangent_rule():
    import gast
    for name in ADJOINT_HELPERS:
        assert name in helpers.HELPERS
        call = gast.Call(func=gast.Name(id=name, ctx=gast.Load(), annotation=None,
                                        type_comment=None), args=[], keywords=[])
        assert rules.tangent_rule(call, name) is not None, name


def test_a_jvp_must_name_the_parameters_of_its_rule():
    with pytest.raises(ValueError, match="parameters of"):
        @rules.defjvp(rules.sin)
        def wrong(g, ans, y):
            return g


# ---- the API ---------------------------------------------------------------------------

def scaled_sum(x, n, y):
    s = 0.0
    for i in range(n):
        s = s + x * y[i] ** 2
    return s * y


@JIT
def test_jvp_arguments_and_results(jit):
    y = np.array([1.0, 2.0, 3.0])
    # An integer argument gets no tangent, whatever is passed for it; None is a zero.
    value, tangent = adjit.jvp(scaled_sum, (0.5, 3, y), (2.0, 7, None), jit=jit)
    assert_close(value, scaled_sum(0.5, 3, y))
    assert isinstance(tangent, np.ndarray) and tangent.shape == (3,)
    assert_close(tangent, 2.0 * np.sum(y ** 2) * y)
    value, tangent = adjit.jvp(scaled_sum, (0.5, 3, y), (0.0, 0, np.ones(3)), jit=jit)
    assert_close(tangent, 0.5 * np.sum(2 * y) * y + 0.5 * np.sum(y ** 2) * np.ones(3))
    value, tangent = adjit.jvp(M.math_atan2_hypot, (0.7, 1.1), (1.0, 0.0), jit=jit)
    assert type(tangent) is float


def test_jvp_refuses_bad_tangents():
    y = np.array([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="shape"):
        adjit.jvp(scaled_sum, (0.5, 3, y), (1.0, 0, np.ones(2)))
    with pytest.raises(ValueError, match="number"):
        adjit.jvp(scaled_sum, (0.5, 3, y), (np.ones(2), 0, y))
    with pytest.raises(ValueError, match="tangents"):
        adjit.jvp(scaled_sum, (0.5, 3, y), (1.0,))
    with pytest.raises(TypeError, match="tuples"):
        adjit.jvp(scaled_sum, (0.5, 3, y), 1.0)


def test_generated_tangent_code_is_readable():
    from adjit import higher
    text = higher.forward(scaled_sum, ("x", "y"), False)[0]._generated.text
    assert "def scaled_sum_tangent(x, n, y, dx, dy):" in text
    # Each tangent is named after its value and assigned beside it.
    lines = [line.strip() for line in text.splitlines() if " = " in line]
    targets = [line.split(" = ")[0] for line in lines]
    for k, target in enumerate(targets):
        if target.startswith("d") and target[1:] in targets:
            assert target[1:] in targets[max(0, k - 1):k + 2], lines[k]
    assert "dresult = ds * y + dy * s" in text
    hessian_text = adjit.hessian(scaled_sum, wrt="x").source
    for text in (text, hessian_text):
        assert "__adjit" not in text and "this(" not in text
        import ast
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.stmt) and not isinstance(node, (ast.FunctionDef, ast.If,
                                                                        ast.For, ast.While)):
                assert node.lineno == node.end_lineno      # one statement per line
