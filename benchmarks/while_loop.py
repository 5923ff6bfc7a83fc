"""Benchmark: a `while` loop of data-dependent length, 10^7 iterations.

    python benchmarks/while_loop.py [--n N] [--repeat R]

The function is `decay` below: a `while` loop whose trip count adjit cannot
know before it runs, so every loop-carried value is pushed onto a stack that
grows (doubling) as the loop goes. Printed: the medians of the Numba primal,
adjit's gradient and a hand-written Numba adjoint with a stack preallocated
to the exact length (which a user could only write knowing the trip count),
their ratios, the gradient against the exact derivative, and the peak
resident memory of the process (ru_maxrss) before and after the first
gradient call, so the stack's cost is visible: adjit saves one float64 per
iteration (`s`), in a stack that doubles, so old and new stack coexist for
a moment while it grows.
"""
import argparse
import os
import resource
import statistics
import sys
import time

os.environ["NUMBA_NUM_THREADS"] = "1"

import numba  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import adjit  # noqa: E402


def decay(x, n):
    s = x
    k = 0
    while k < n and s > 1e-300:
        s = s * 0.9999999 + 1e-9 * np.sin(s)
        k = k + 1
    return s


@numba.njit(cache=False)
def hand_adjoint(x, n):
    tape = np.empty(n)
    s = x
    k = 0
    while k < n and s > 1e-300:
        tape[k] = s
        s = s * 0.9999999 + 1e-9 * np.sin(s)
        k = k + 1
    bs = 1.0
    for j in range(k - 1, -1, -1):
        bs = bs * (0.9999999 + 1e-9 * np.cos(tape[j]))
    return s, bs


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    n, x = args.n, 0.7
    primal = numba.njit(decay)
    grad = adjit.grad(decay)
    before = peak_mb()
    start = time.perf_counter()
    g = grad(x, n)
    first = time.perf_counter() - start
    after_first = peak_mb()
    primal(x, n)
    hand_adjoint(x, n)
    times = {"numba primal": [], "adjit grad": [], "hand-written adjoint": []}
    for _ in range(args.repeat):
        for label, call in (("numba primal", lambda: primal(x, n)),
                            ("adjit grad", lambda: grad(x, n)),
                            ("hand-written adjoint", lambda: hand_adjoint(x, n))):
            start = time.perf_counter()
            call()
            times[label].append(time.perf_counter() - start)
    med = {label: statistics.median(t) for label, t in times.items()}
    _, exact = hand_adjoint(x, n)
    print(f"while loop, n = {n:,} iterations ({args.repeat} repeats, medians)")
    for label, t in med.items():
        print(f"  {label:22s} {t * 1e3:9.1f} ms")
    print(f"  adjit / primal         {med['adjit grad'] / med['numba primal']:9.2f}x")
    print(f"  adjit / hand-written   {med['adjit grad'] / med['hand-written adjoint']:9.2f}x")
    print(f"  first call (compile + run) {first:.2f} s")
    print(f"  gradient {g!r}, hand-written {exact!r}, relative difference "
          f"{abs(g - exact) / abs(exact):.1e}")
    print(f"  peak memory: {before:.0f} MB before the first gradient, {after_first:.0f} MB after "
          f"(the saved values take {8 * n / 2**20:.0f} MB)")


if __name__ == "__main__":
    main()
