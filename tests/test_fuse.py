"""The fusion pass (adjit/transform/fuse.py): single-use temporaries are inlined into the
one statement reading them, so Numba fuses elementwise chains; nothing moves across what
could change its value.

Transform tests run `fuse` on small programs written as generated code and compare the
text; where moving an expression would give a wrong answer, both versions are run to
show it. Gradient tests check fused adjoints against central finite differences,
compiled (`jit=True`: no fallback) and as Python, each gradient built once."""

import functools
import textwrap

import gast
import numpy as np
import pytest

import adjit
from adjit.runtime import helpers
from adjit.transform import fuse
from fd import assert_close, numeric_gradient


def parse(text):
    return gast.parse(textwrap.dedent(text)).body[0]


def unparse(fdef):
    import ast
    return ast.unparse(gast.gast_to_ast(gast.Module(body=[fdef], type_ignores=[]))).strip()


def fused(text, keep=()):
    """The function in `text` fused, as text (normalised through the parser)."""
    return unparse(fuse.fuse(parse(text), keep=keep))


def same(text):
    return unparse(parse(text))


def run(text, *args):
    namespace = {"np": np, **{name: getattr(helpers, name) for name in helpers.HELPERS}}
    namespace.update({"g_adjoint": lambda v: (2.0 * v,)})
    exec(text, namespace)
    fdef = parse(text)
    return namespace[fdef.name](*args)


def assert_unchanged(text, keep=()):
    assert fused(text, keep) == same(text)


# ---- what is inlined ------------------------------------------------------------

def test_a_chain_becomes_one_expression():
    text = """
    def f(x):
        item1 = x[1:]
        item2 = x[:-1]
        pow3 = item2 ** 2
        sub4 = item1 - pow3
        pow5 = sub4 ** 2
        mul6 = 100.0 * pow5
        sub8 = 1.0 - x[:-1]
        pow9 = sub8 ** 2
        add10 = mul6 + pow9
        result = np.sum(add10)
        return result
    """
    out = fused(text)
    assert "result = np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)" in out
    assert out.count("\n") == 2                    # def, one assignment, return
    x = np.linspace(0.1, 2.0, 7)
    assert run(out, x) == run(same(text), x)


def test_scalars_and_pure_calls_are_inlined_keeping_the_tree():
    text = """
    def f(x, g):
        mul1 = x * 2
        sin2 = np.sin(mul1)
        u3 = unbroadcast(g, x)
        neg4 = -sin2
        y = u3 * neg4 / (1.0 + sin2 * 0)
        return y
    """
    out = fused(text)
    assert "mul1" not in out and "u3" not in out and "neg4" not in out
    assert "sin2 = np.sin(x * 2)" in out          # read twice: stays
    assert "y = unbroadcast(g, x) * -sin2 / (1.0 + sin2 * 0)" in out


def test_user_names_adjoints_and_renames_stay():
    text = """
    def f(x, x1):
        r2 = x * 2
        bx1 = x1 * 3
        s_2 = x + 1
        mul3 = r2 + bx1
        y = mul3 + s_2
        return y
    """
    out = fused(text, keep={"r2", "x1", "y", "x"})
    assert "r2 = x * 2" in out and "bx1 = x1 * 3" in out and "s_2 = x + 1" in out
    assert "y = r2 + bx1 + s_2" in out


def test_recomputed_temporaries_in_two_loops_are_each_inlined():
    text = """
    def f(x, n, stack_s):
        s = x
        for i in range(n):
            stack_s[i] = s
            mul1 = x * i
            sin2 = np.sin(mul1)
            s = s + sin2 * s
        for i in range(n - 1, -1, -1):
            s = restore(stack_s, i, s)
            mul1 = x * i
            sin2 = np.sin(mul1)
            y = sin2 * s
        return y
    """
    out = fused(text)
    assert out.count("s = s + np.sin(x * i) * s") == 1
    assert out.count("y = np.sin(x * i) * s") == 1
    assert "mul1" not in out and "sin2" not in out


def test_a_value_read_by_an_impure_call_is_inlined_into_its_arguments():
    text = """
    def f(x):
        item1 = x[0]
        grads2 = g_adjoint(item1)
        y = grads2[0]
        return y
    """
    out = fused(text)
    assert "grads2 = g_adjoint(x[0])\n    y = grads2[0]" in out      # the call itself stays


# ---- what is not inlined: each barrier ------------------------------------------

def test_used_twice_or_returned_or_unused_stays():
    assert_unchanged("""
    def f(x):
        mul1 = x * 2
        y = mul1 + mul1
        return y
    """)
    assert_unchanged("""
    def f(x):
        mul1 = x * 2
        return mul1
    """)
    assert_unchanged("""
    def f(x):
        mul1 = x * 2
        return x
    """)


def test_reassigned_operand_is_a_barrier():
    text = """
    def f(x):
        mul1 = x * 2
        x = x + 1
        y = mul1 + x
        return y
    """
    assert_unchanged(text)
    assert run(same(text), 1.0) == 4.0
    assert run("def f(x):\n    x = x + 1\n    y = x * 2 + x\n    return y", 1.0) != 4.0


def test_restore_is_a_barrier():
    # The reverse sweep reassigns a name from its stack: the expression read the old value.
    assert_unchanged("""
    def f(x, stack_s, s):
        mul1 = s * 2
        s = restore(stack_s, 0, s)
        y = mul1 + s
        return y
    """)


@pytest.mark.parametrize("write", [
    "a[0] = 5.0",                                     # a user's write
    "stack_a[0] = a",                                 # a stack push
    "w = add_at(w, 0, 5.0)",                          # in-place helpers
    "w = zero_at(w, 0)",
    "log = log_write(log, w, 0)",
    "undo_write(log, w, 0)",
    "undo_to(log, w, 0)",
    "stack_a = grow(stack_a)",
    "must_be_scalar(a)",
    "h = g_adjoint(a)",                               # a user function's adjoint
    "h = np.random.rand()",                           # state
    "h = np.add(a, a, out=a)",                        # an output argument
    "if a[1] > 0:\n            a[1] = 2.0",          # a write inside an if
    "for k in range(2):\n            w[k] = 1.0",    # a write inside a loop
])
def test_anything_that_may_write_is_a_barrier(write):
    text = f"""
    def f(a, w, log, stack_a):
        item1 = a[0]
        {write}
        y = item1 * 2
        return y
    """
    assert_unchanged(text)


def test_moving_across_a_write_would_be_wrong():
    # `w` shares `a`'s memory: only the barrier on `add_at` (not the names) keeps it right.
    text = """
    def f(a):
        w = a
        item1 = a[0]
        w = add_at(w, 0, 5.0)
        y = item1 * 2
        return y
    """
    assert_unchanged(text, keep={"w", "a", "y"})
    assert run(same(text), np.array([1.0, 2.0])) == 2.0
    wrong = "def f(a):\n    w = a\n    w = add_at(w, 0, 5.0)\n    y = a[0] * 2\n    return y"
    assert run(wrong, np.array([1.0, 2.0])) == 12.0


def test_a_read_in_a_nested_body_or_header_stays():
    for body in ("if c:\n                y = mul1 + 1", "for i in range(n):\n                y = mul1 + i",
                 "while mul1 > 0:\n                y = 1", "if mul1 > 0:\n                y = 1",
                 "for i in range(mul1):\n                y = i"):
        assert_unchanged(f"""
        def f(x, c, n):
            y = 0
            mul1 = x * 2
            {body}
            return y
        """)


def test_loop_carried_and_after_loop_values_stay():
    # Read in the next round before it is assigned again:
    assert_unchanged("""
    def f(x, n):
        mul1 = x
        y = 0
        for i in range(n):
            y = y + mul1
            mul1 = x * i
        return y
    """)
    # Read once in the loop, and again after it:
    text = """
    def f(x, n):
        y = 0
        mul1 = x
        for i in range(n):
            mul1 = x * i
            y = y + mul1
        z = mul1 + y
        return z
    """
    out = fused(text)
    assert "mul1 = x * i" in out and "y = y + mul1" in out
    # ... and a loop that leaves by `break` before the one read:
    assert_unchanged("""
    def f(x, n):
        y = 0
        mul1 = x
        for i in range(n):
            mul1 = x * i
            if i > 2:
                break
            y = y + mul1
        z = mul1 + y
        return z
    """)


def test_a_break_after_the_read_keeps_a_value_the_loop_leaves_with():
    text = """
    def f(x, n):
        y = 0.0
        mul1 = x
        for i in range(n):
            mul1 = x * i
            y = y + mul1
            if i > 2:
                break
            mul1 = x
        z = mul1 + y
        return z
    """
    assert_unchanged(text)
    assert run(same(text), 1.0, 10) == 3.0 + 6.0


def test_an_impure_call_before_the_read_in_the_same_statement_is_a_barrier():
    assert_unchanged("""
    def f(a):
        item1 = a[0]
        y = g_adjoint(a)[0] + item1
        return y
    """)


def test_never_into_an_assignment_target_or_out_of_an_impure_expression():
    assert_unchanged("""
    def f(a, i):
        zeros1 = np.zeros(3)
        zeros1[i] = 1.0
        return a
    """)
    assert_unchanged("""
    def f(a):
        grads1 = g_adjoint(a)
        y = grads1[0]
        return y
    """)
    assert_unchanged("""
    def f(a, i):
        add1 = i + 1
        a[add1] = 2.0
        return a
    """)


def test_pure_helpers_are_runtime_helpers_and_barriers_are_not_pure():
    assert fuse.PURE_HELPERS <= set(helpers.HELPERS)
    for barrier in ("add_at", "zero_at", "log_write", "undo_write", "undo_to", "grow",
                    "must_be_scalar", "restore", "stack_like", "undo_log", "log_height"):
        assert barrier not in fuse.PURE_HELPERS
    # A new helper is a barrier until it is listed.
    assert not fuse.pure_function(gast.Name(id="log_all", ctx=gast.Load(), annotation=None,
                                            type_comment=None))


def test_the_unfused_trees_are_left_alone():
    fdef = parse("""
    def f(x):
        mul1 = x * 2
        y = mul1 + 1
        return y
    """)
    before = unparse(fdef)
    [copy] = fuse.fused([fdef])
    assert unparse(fdef) == before and "y = x * 2 + 1" in unparse(copy)


# ---- gradients of fused adjoints against finite differences ----------------------

def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def logistic(w, X, y):
    z = X @ w
    return np.mean(np.log1p(np.exp(-y * z)))


def softmax_xent(W, b, X):
    z = X @ W + b
    zmax = np.max(z, axis=1, keepdims=True)
    e = np.exp(z - zmax)
    p = e / np.sum(e, axis=1, keepdims=True)
    return -np.sum(np.log(p[:, 0] + 1e-3)) + np.sum(np.tanh(W) ** 2 * 0.5)


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def gated(x, h0, n):
    h = h0
    for t in range(n):
        g = sigmoid(x * t + h) * np.tanh(h - x)
        h = h * 0.5 + g[::-1] * x
    return np.sum(h * h)


def writes(x, n):
    a = x * 2.0
    s = 0.0
    for i in range(n):
        v = a[i] * x[i] + np.sin(x[i])
        a[i] = v * v - a[(i + 1) % n]
        s = s + a[i] * x[(i + 2) % n]
    return s + np.sum(a ** 2 - a[0] * x)


def swap_and_slices(x):
    a = x.copy()
    a[1:] = a[1:] + a[:-1] * x[1:]
    b = np.exp(a - a[0]) * x
    return np.sum(b[::2] * b[::2]) + np.sum(a[:-1] * b[1:])


RNG = np.random.default_rng(3)
GRADIENTS = [
    (rosenbrock, (RNG.normal(size=6),), 0),
    (logistic, (RNG.normal(size=4), RNG.normal(size=(5, 4)), np.sign(RNG.normal(size=5))), 0),
    (softmax_xent, (RNG.normal(size=(3, 4)), RNG.normal(size=4), RNG.normal(size=(5, 3))), (0, 1)),
    (gated, (RNG.normal(size=5), RNG.normal(size=5), 4), (0, 1)),
    (writes, (RNG.normal(size=5), 5), 0),
    (swap_and_slices, (RNG.normal(size=6) * 0.5,), 0),
]


@functools.lru_cache(maxsize=None)
def gradient(func, wrt, jit):
    return adjit.grad(func, wrt=wrt, jit=jit)


@pytest.mark.parametrize("jit", [False, True], ids=["python", "numba"])
@pytest.mark.parametrize("func, args, wrt", GRADIENTS, ids=[g[0].__name__ for g in GRADIENTS])
def test_fused_gradients_match_differences(func, args, wrt, jit):
    df = gradient(func, wrt, jit)
    got = df(*[a.copy() if isinstance(a, np.ndarray) else a for a in args])
    indices = wrt if isinstance(wrt, tuple) else (wrt,)
    got = got if isinstance(wrt, tuple) else (got,)
    for k, g in zip(indices, got):
        assert_close(g, numeric_gradient(func, args, k), context=f"{func.__name__} d/d{k}")


def test_fused_source_reads_like_the_user_wrote_it():
    source = gradient(rosenbrock, 0, False).source
    # The sum's terms are read once (the reverse sweep takes their shape from x[1:]);
    # sub4 and sub8 are read again in the reverse sweep.
    assert "    sub8 = 1.0 - x[:-1]\n    result = np.sum(100.0 * sub4 ** 2 + sub8 ** 2)\n" in source
    forward = gradient(gated, (0, 1), False).source
    # A user function's call stays a statement (saved for the loop's reverse, as is
    # tanh's value), and what it reads fuses into it.
    assert "        sigmoid3 = sigmoid(x * t + h)\n" in forward
    assert "        g = sigmoid3 * tanh5\n" in forward
