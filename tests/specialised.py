"""Helpers for the tests of the passes that run on a gradient specialised to its
arguments' ranks (accumulate, elementwise_loops, invariant_reads).

Such a pass changes only the compiled module; `jit=False` runs the general one.
So each program is checked against central finite differences compiled, as
Python, and with the specialised module run as Python (what runs when Numba
cannot compile it). Compiled gradients are made once per test process.
"""

import numpy as np
from hypothesis import assume

import adjit
from fd import assert_close, numeric_gradient
from program_gen import load_module

MODES = {"python": False, "numba": True}
_GRADS = {}


def gradient(func, mode, wrt):
    """`adjit.grad(func, wrt=wrt)` for `mode` ("python" or "numba"), made once."""
    key = (func, mode, wrt)
    if key not in _GRADS:
        _GRADS[key] = adjit.grad(func, wrt=wrt, jit=MODES[mode])
    return _GRADS[key]


def case_id(case):
    """A test id for a case `(func, make_inputs, ...)`: the name and the first input's shape."""
    func, make = case[0], case[1]
    return f"{func.__name__}-{'x'.join(map(str, np.shape(make()[0])))}"


def fresh(args):
    """Copies of the array arguments (a gradient may not write into them, but the check
    must not depend on that)."""
    return [np.copy(a) if np.ndim(a) else a for a in args]


def specialised_python(df, args):
    """The gradients of `df` at `args` from its specialised module run as Python, one per
    name differentiated."""
    _, grads = df._specialised(list(args), False)._python(*fresh(args))
    return grads if len(df.wrt) > 1 else (grads,)


def check(func, wrt, args, grads, rtol=1e-5, atol=1e-6):
    """`grads` (one per name of `wrt`) against central differences of `func` at `args`
    (computed in float64)."""
    wide = [a.astype(np.float64) if isinstance(a, np.ndarray) else a for a in args]
    for name, g in zip(wrt, grads):
        index = func.__code__.co_varnames.index(name)
        assert_close(g, numeric_gradient(func, wide, index), rtol=rtol, atol=atol,
                     context=f"d{func.__name__}/d{name}")


def check_random_program(text, args, compiled, directory, prefix):
    """A random program `prog(x, w)` (source `text`) against central differences at
    `args`, compiled or from its specialised module as Python; points where the
    differences disagree with themselves at a coarser step are skipped (a kink)."""
    prog = load_module(text, directory, prefix=prefix).prog
    numeric = [numeric_gradient(prog, args, k) for k in range(len(args))]
    coarse = [numeric_gradient(prog, args, k, step=2e-6) for k in range(len(args))]
    assume(all(np.allclose(a, b, rtol=1e-4, atol=1e-6) for a, b in zip(numeric, coarse)))
    df = adjit.grad(prog, wrt=tuple(range(len(args))), jit=True if compiled else None)
    grads = df(*fresh(args)) if compiled else specialised_python(df, args)
    for g, expected in zip(grads, numeric):
        assert_close(g, expected, context=f"at {args}\n{text}\n{df.source_for(*args)}")
