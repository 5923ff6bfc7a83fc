"""Benchmark: a Hessian-vector product against a gradient, on the loop of benchmarks/loop.py.

    python benchmarks/hvp.py [--n N] [--repeat R] [--x X] [--v V]

The function is `recurrence` from benchmarks/loop.py. Systems timed in the same
run, round-robin (each repeat runs every system once, in the same order) after
one warm-up call each; medians over repeats are reported:

  numba primal     numba.njit(recurrence): the function value alone
  adjit grad       adjit.grad(recurrence)(x, n): d s / d x (reverse mode)
  adjit hvp        adjit.hvp(recurrence)(x, n, v): d2 s / dx2 * v (forward over reverse:
                   the tangent of the generated adjoint, compiled by Numba)
  adjit jvp        adjit.jvp(recurrence, (x, n), (v, 0)): d s / d x * v (forward mode)

The figure of merit is hvp/grad: forward over reverse costs a small constant times a
gradient (the goal is at most 4x). Before timing, the Hessian-vector product is
checked against (fourth-order) central differences of the gradient, and the jvp
against those of the function.
"""
import argparse
import os
import statistics
import sys
import time

os.environ["NUMBA_NUM_THREADS"] = "1"   # as loop.py: one core for every system

import numba  # noqa: E402
import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))   # benchmark this checkout, installed or not
sys.path.insert(0, HERE)

from loop import recurrence  # noqa: E402


def derivative(f, x, h):
    """f'(x) by the fourth-order central difference (the loop's derivatives grow fast)."""
    return (8 * (f(x + h) - f(x - h)) - (f(x + 2 * h) - f(x - 2 * h))) / (12 * h)


def fail(msg):
    sys.exit("hvp.py: CHECK FAILED: " + msg)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=10**6, help="iterations (default 10**6)")
    p.add_argument("--repeat", type=int, default=15, help="timed repeats (default 15)")
    p.add_argument("--x", type=float, default=0.7, help="point of evaluation")
    p.add_argument("--v", type=float, default=1.0, help="the vector (a number here)")
    a = p.parse_args()
    n, x, v = a.n, a.x, a.v

    import adjit
    t0 = time.perf_counter()
    grad = adjit.grad(recurrence, jit=True)
    grad(x, n)
    first_grad = time.perf_counter() - t0
    t0 = time.perf_counter()
    hvp = adjit.hvp(recurrence, jit=True)
    hvp(x, n, v)
    first_hvp = time.perf_counter() - t0
    jvp_fn = adjit.jvp
    jvp_fn(recurrence, (x, n), (v, 0), jit=True)
    primal = numba.njit(cache=False)(recurrence)
    primal(x, n)

    # Correctness before speed, at a size where differences are well conditioned.
    for xc in (0.3, 0.7, 1.1):
        small = 50
        h = 1e-4 * abs(xc)
        want = derivative(lambda t: grad(t, small), xc, h) * v
        got = hvp(xc, small, v)
        if not np.isclose(got, want, rtol=1e-6):
            fail(f"hvp at x={xc}, n={small} is {got!r}, differences of the gradient give {want!r}")
        want = derivative(lambda t: recurrence(t, small), xc, h) * v
        got = jvp_fn(recurrence, (xc, small), (v, 0), jit=True)[1]
        if not np.isclose(got, want, rtol=1e-6):
            fail(f"jvp at x={xc}, n={small} is {got!r}, differences give {want!r}")

    systems = [("numba primal", lambda: primal(x, n)), ("adjit grad", lambda: grad(x, n)),
               ("adjit hvp", lambda: hvp(x, n, v)),
               ("adjit jvp", lambda: jvp_fn(recurrence, (x, n), (v, 0), jit=True))]
    for _, fn in systems:       # warm-up
        fn()
    times = {name: [] for name, _ in systems}
    for _ in range(a.repeat):
        for name, fn in systems:
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    med = {name: statistics.median(ts) * 1e3 for name, ts in times.items()}
    best = {name: min(ts) * 1e3 for name, ts in times.items()}

    print(f"d2 recurrence/dx2 * v at x={x}, v={v}, n={n:,}: {hvp(x, n, v)!r}")
    print(f"median of {a.repeat} round-robin repeats, NUMBA_NUM_THREADS=1\n")
    print(f"{'system':<16}{'median ms':>11}{'/ primal':>10}{'/ grad':>9}{'min ms':>10}")
    prim, g = med["numba primal"], med["adjit grad"]
    for name, _ in systems:
        print(f"{name:<16}{med[name]:>11.3f}{med[name] / prim:>9.2f}x"
              f"{med[name] / g:>8.2f}x{best[name]:>10.3f}")
    print()
    print(f"first calls (transform + compile + 1 run): grad {first_grad:.2f} s, "
          f"hvp {first_hvp:.2f} s")
    print(f"hvp/grad = {med['adjit hvp'] / g:.2f}x (goal: at most 4x), "
          f"jvp/primal = {med['adjit jvp'] / prim:.2f}x")


if __name__ == "__main__":
    main()
