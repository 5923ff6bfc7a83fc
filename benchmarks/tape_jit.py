"""Benchmark: a 10^5-iteration loop on the tape, as one `adjit.jit` operation vs. op by op.

    python benchmarks/tape_jit.py [--n N] [--repeat R]

The loop is `simulate` below (a damped recurrence, one state variable and two
parameters). Timed, after one warm-up call each (which compiles the jit
function and its adjoint), medians over repeats:

  jit on the tape    `adjit.jit(simulate)` called on Variables inside a GradientTape:
                     the tape gets one entry; `tape.gradient` calls the compiled adjoint
  tensors on the tape  the same loop run on adjit tensors: every operation of every
                     iteration is a tape entry, and `tape.gradient` walks them all
  adjit.grad         the compiled gradient called directly (no tape), for reference

Printed: the number of tape entries each way, the forward (recording) and
gradient times, and the gradients (which must agree; they are also checked
against central finite differences of the compiled function).
"""
import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)  # benchmark this checkout, installed or not

import adjit  # noqa: E402


def simulate(a, b, n):
    """x_{k+1} = x_k + 0.001 * (a sin(x_k) - b x_k + 1); returns x_n."""
    x = 0.5
    for k in range(n):
        x = x + 0.001 * (a * np.sin(x) - b * x + 1.0)
    return x


jit_simulate = adjit.jit(simulate)


def on_tape(fn, n):
    a, b = adjit.Variable(0.8), adjit.Variable(0.3)
    t0 = time.perf_counter()
    with adjit.GradientTape(persistent=True) as tape:
        y = fn(a, b, n)
    t1 = time.perf_counter()
    entries = len(tape.recorded_operations)
    ga, gb = tape.gradient(y, [a, b])
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, entries, (float(ga), float(gb)), float(y)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    n = args.n

    grad = adjit.grad(simulate, wrt=("a", "b"))
    t0 = time.perf_counter()
    on_tape(jit_simulate, 10)
    grad(0.8, 0.3, 10)
    print(f"warm-up (compiles the jit function, its adjoint and adjit.grad): "
          f"{time.perf_counter() - t0:.2f} s")

    jit_runs, tensor_runs, direct = [], [], []
    for _ in range(args.repeat):
        jit_runs.append(on_tape(jit_simulate, n))
        tensor_runs.append(on_tape(simulate, n))
        t0 = time.perf_counter()
        direct_grads = grad(0.8, 0.3, n)
        direct.append(time.perf_counter() - t0)

    h = 1e-6
    fd = ((simulate_compiled(0.8 + h, 0.3, n) - simulate_compiled(0.8 - h, 0.3, n)) / (2 * h),
          (simulate_compiled(0.8, 0.3 + h, n) - simulate_compiled(0.8, 0.3 - h, n)) / (2 * h))

    def row(name, runs):
        forward = statistics.median(r[0] for r in runs)
        backward = statistics.median(r[1] for r in runs)
        entries, grads = runs[0][2], runs[0][3]
        print(f"{name:<20} {entries:>9} {forward * 1e3:>12.2f} {backward * 1e3:>12.2f}   "
              f"da={grads[0]:.12g} db={grads[1]:.12g}")
        return forward + backward

    print(f"\nn = {n} iterations, median of {args.repeat} runs")
    print(f"{'':<20} {'entries':>9} {'forward ms':>12} {'gradient ms':>12}")
    jit_total = row("jit on the tape", jit_runs)
    tensor_total = row("tensors on the tape", tensor_runs)
    print(f"{'adjit.grad':<20} {'-':>9} {'':>12} {statistics.median(direct) * 1e3:>12.2f}   "
          f"da={direct_grads[0]:.12g} db={direct_grads[1]:.12g}")
    print(f"{'finite differences':<20} {'':>9} {'':>12} {'':>12}   "
          f"da={fd[0]:.12g} db={fd[1]:.12g}")
    print(f"\nthe jit operation: 1 tape entry instead of {tensor_runs[0][2]}; forward + gradient "
          f"{tensor_total / jit_total:.0f}x faster than the loop on tensors")
    agree = all(abs(j - t) <= 1e-9 * max(1.0, abs(t))
                for j, t in zip(jit_runs[0][3], tensor_runs[0][3]))
    print("gradients agree (jit vs tensors, 1e-9 relative):", agree)


def simulate_compiled(a, b, n):
    return jit_simulate(a, b, n)


if __name__ == "__main__":
    main()
