"""Benchmark: gradient of a scalar recurrence, adjit vs. Numba vs. a hand-written adjoint.

    python benchmarks/loop.py [--n N] [--repeat R] [--x X] [--cold-cache]

The function is `recurrence` below, written as an adjit user would write it.
Systems timed, round-robin (each repeat runs every system once, in the same
order) after one warm-up call each; medians over repeats are reported:

  numba primal          numba.njit(recurrence): the function value alone
  adjit grad            adjit.grad(recurrence)(x, n): d s / d x
  hand-written adjoint  an expert's Numba adjoint (tape of s, reverse loop)
  jax grad              jax.jit(jax.grad(f)) with lax.fori_loop, if jax is installed

Ratios: adjit/primal is the cost of the gradient in units of one function
evaluation (reverse mode's theoretical bound is a small constant, ~2-4x);
adjit/hand-written is the overhead of generated code over an expert's code
(1.0x is the goal). Also printed: adjit's first-call time (decoration +
transform + compile + first call; depends on whether the on-disk cache is
warm, use --cold-cache for a fresh cache) and Numba's compile time of the
primal alone.
"""
import argparse
import atexit
import os
import shutil
import statistics
import sys
import tempfile
import time

# One thread: parallel runtime pools only add timing noise here (the loop is
# sequential), and every system then gets the same single core.
os.environ["NUMBA_NUM_THREADS"] = "1"

import numba  # noqa: E402
import numpy as np  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)  # benchmark this checkout, installed or not


def recurrence(x, n):
    s = x
    for i in range(n):
        s = s + np.sin(x * i) * s + x
    return s


@numba.njit(cache=False)
def hand_grad(x, n):
    """d recurrence / d x: forward sweep taping s, then the exact reverse sweep."""
    tape = np.empty(n)
    s = x
    for i in range(n):
        tape[i] = s
        s = s + np.sin(x * i) * s + x
    # s_{i+1} = s_i * (1 + sin(x i)) + x
    #   d s_{i+1} / d s_i = 1 + sin(x i)
    #   d s_{i+1} / d x   = s_i * i * cos(x i) + 1      (explicit dependence)
    bs = 1.0
    bx = 0.0
    for i in range(n - 1, -1, -1):
        xi = x * i
        bx += bs * (tape[i] * i * np.cos(xi) + 1.0)
        bs = bs * (1.0 + np.sin(xi))
    return bx + bs  # s_0 = x


def make_jax_grad():
    """jax.jit(jax.grad(f)) with n static (reverse mode of fori_loop needs a scan)."""
    try:
        import jax
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    def f(x, n):
        def body(i, s):
            return s + jnp.sin(x * i) * s + x
        return jax.lax.fori_loop(0, n, body, x)

    g = jax.jit(jax.grad(f), static_argnums=1)
    return lambda x, n: float(g(x, n))


def fail(msg):
    sys.exit("loop.py: CHECK FAILED: " + msg)


def check(primal, grad, name, ref=None, xs=(0.3, 0.7, 1.1), n=50, rtol=1e-6):
    """Compare `grad` with central differences of `primal`, or with `ref` if given."""
    for x in xs:
        g = grad(x, n)
        if ref is None:
            h = 1e-6 * abs(x)
            want = (primal(x + h, n) - primal(x - h, n)) / (2 * h)
            what = "central finite differences give"
        else:
            want, what = ref(x, n), "the hand-written adjoint gives"
        if not np.isclose(g, want, rtol=rtol, atol=0.0):
            fail(f"{name} gradient at x={x}, n={n} is {g!r}, {what} {want!r} "
                 f"(rel. err {abs(g - want) / abs(want):.2e} > {rtol:g})")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=10**6, help="iterations (default 10**6)")
    p.add_argument("--repeat", type=int, default=15, help="timed repeats (default 15)")
    p.add_argument("--x", type=float, default=0.7, help="point of evaluation")
    p.add_argument("--cold-cache", action="store_true",
                   help="use a fresh empty ADJIT_CACHE_DIR for the first-call time")
    a = p.parse_args()
    n, x = a.n, a.x
    if a.cold_cache:
        os.environ["ADJIT_CACHE_DIR"] = tempfile.mkdtemp(prefix="adjit-bench-")
        atexit.register(shutil.rmtree, os.environ["ADJIT_CACHE_DIR"], True)
    cache_dir = os.environ.get("ADJIT_CACHE_DIR",
                               os.path.join(os.path.expanduser("~"), ".cache", "adjit"))
    cache_warm = os.path.isdir(cache_dir) and any(os.scandir(cache_dir))

    # Pay Numba's one-off start-up cost (LLVM init, typing tables) up front so
    # neither compile time below is charged for it.
    numba.njit(cache=False)(lambda v: np.sin(v) * 2.0)(1.0)

    t0 = time.perf_counter()
    primal = numba.njit(cache=False)(recurrence)
    primal(x, n)
    numba_compile = time.perf_counter() - t0  # compile + one run at size n

    import adjit
    t0 = time.perf_counter()
    df = adjit.grad(recurrence)
    g_adjit = df(x, n)
    adjit_first = time.perf_counter() - t0  # transform + compile + one run at size n

    # Correctness before speed.
    check(primal, hand_grad, "hand-written adjoint")
    check(primal, df, "adjit", ref=hand_grad, rtol=1e-9)
    g_hand = hand_grad(x, n)
    if not np.isfinite(g_hand):
        fail(f"gradient at x={x}, n={n} is {g_hand!r}; pick another --x")
    if not np.isclose(g_adjit, g_hand, rtol=1e-9, atol=0.0):
        fail(f"adjit gradient at x={x}, n={n} is {g_adjit!r}, hand-written gives "
             f"{g_hand!r} (rel. err {abs(g_adjit - g_hand) / abs(g_hand):.2e} > 1e-9)")

    systems = [("numba primal", primal), ("adjit grad", df),
               ("hand-written adjoint", hand_grad)]
    jgrad = make_jax_grad()
    if jgrad is not None:
        check(primal, jgrad, "jax", ref=hand_grad, rtol=1e-9)
        systems.append(("jax grad", jgrad))

    for _, fn in systems:  # warm-up
        fn(x, n)
    times = {name: [] for name, _ in systems}
    for _ in range(a.repeat):
        for name, fn in systems:
            t0 = time.perf_counter()
            fn(x, n)
            times[name].append(time.perf_counter() - t0)
    med = {name: statistics.median(ts) * 1e3 for name, ts in times.items()}
    best = {name: min(ts) * 1e3 for name, ts in times.items()}  # for noisy machines

    prim, hand = med["numba primal"], med["hand-written adjoint"]
    print(f"d recurrence/dx at x={x}, n={n:,}: {g_adjit!r}")
    print(f"median of {a.repeat} round-robin repeats, NUMBA_NUM_THREADS=1\n")
    print(f"{'system':<22}{'median ms':>11}{'/ primal':>10}{'/ hand':>9}{'min ms':>10}")
    for name, _ in systems:
        print(f"{name:<22}{med[name]:>11.3f}{med[name] / prim:>9.2f}x"
              f"{med[name] / hand:>8.2f}x{best[name]:>10.3f}")
    print()
    print(f"adjit first call (grad + transform + compile + 1 run): {adjit_first:.3f} s "
          f"(cache dir {cache_dir} was {'non-empty, maybe warm' if cache_warm else 'empty: cold'})")
    print(f"numba primal compile (first call, incl. 1 run):      {numba_compile:.3f} s")
    print(f"adjit/primal = {med['adjit grad'] / prim:.2f}x, "
          f"adjit/hand-written = {med['adjit grad'] / hand:.2f}x")


if __name__ == "__main__":
    main()
