"""`python -m adjit demo`: differentiate a loop, show its adjoint, check it."""

import time

import numpy as np

import adjit


def recurrence(x, n):
    s = x
    for i in range(n):
        s = s + np.sin(x * i) * s + x
    return s


def main():
    x, n = 0.7, 1000
    print("The function:\n")
    print("    def recurrence(x, n):\n        s = x\n        for i in range(n):\n"
          "            s = s + np.sin(x * i) * s + x\n        return s\n")
    start = time.perf_counter()
    df = adjit.grad(recurrence)
    gradient = df(x, n)
    elapsed = time.perf_counter() - start
    print("Its generated adjoint (adjit.show(adjit.grad(recurrence))):\n")
    adjit.show(df)
    h = 1e-6 * max(1.0, abs(x))
    numeric = (recurrence(x + h, n) - recurrence(x - h, n)) / (2 * h)
    error = abs(gradient - numeric) / max(1.0, abs(numeric))
    print(f"\nd recurrence / dx at x = {x}, n = {n}:")
    print(f"  adjit (compiled with Numba):  {gradient!r}")
    print(f"  central finite differences:   {float(numeric)!r}")
    print(f"  relative difference:          {error:.1e}  ({'agrees' if error < 1e-5 else 'DISAGREES'})")
    print(f"  transform + compile + first call: {elapsed:.2f} s (a warm disk cache makes this fast)")
    return 0 if error < 1e-5 else 1
