"""Minimise the Rosenbrock function, written as an explicit loop, with adjit's gradient.

    python examples/rosenbrock.py

The gradient adjit generates is compared with the textbook formula at random
points, then used for gradient descent with a backtracking line search.
"""

import numpy as np

import adjit


def rosenbrock(x):
    s = 0.0
    for i in range(len(x) - 1):
        a = x[i + 1] - x[i] ** 2
        b = 1.0 - x[i]
        s = s + 100.0 * a * a + b * b
    return s


def rosenbrock_gradient(x):
    """The gradient by hand, vectorised: the reference adjit is checked against."""
    g = np.zeros_like(x)
    a = x[1:] - x[:-1] ** 2
    g[:-1] += -400.0 * a * x[:-1] - 2.0 * (1.0 - x[:-1])
    g[1:] += 200.0 * a
    return g


def main():
    grad = adjit.value_and_grad(rosenbrock)
    rng = np.random.default_rng(0)
    worst = 0.0
    for _ in range(5):
        x = rng.uniform(-2.0, 2.0, 8)
        _, g = grad(x)
        exact = rosenbrock_gradient(x)
        worst = max(worst, float(np.max(np.abs(g - exact) / (1.0 + np.abs(exact)))))
    print(f"largest relative difference from the exact gradient: {worst:.1e}")

    x = np.array([-1.2, 1.0, -1.2, 1.0])
    value, g = grad(x)
    t = 1e-3
    for step in range(1, 5001):
        t *= 2.0      # try a longer step first, then halve until it decreases f enough
        while rosenbrock(x - t * g) > value - 0.5 * t * g @ g:
            t *= 0.5
        x = x - t * g
        value, g = grad(x)
        if step % 1000 == 0:
            print(f"step {step:5d}  f = {value:.3e}  |grad| = {np.linalg.norm(g):.3e}")
    print("minimiser found:", np.array2string(x, precision=4))
    print("the exact minimiser is all ones")


if __name__ == "__main__":
    main()
