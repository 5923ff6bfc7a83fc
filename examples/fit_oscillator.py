"""Fit a damped oscillator to noisy measurements with scipy's L-BFGS-B and adjit's gradient.

    pip install scipy        # this example's only extra dependency
    python examples/fit_oscillator.py

A mass on a spring, released from rest and slowed by friction, moves as

    y(t) = A * exp(-k t) * cos(w t + phi)

The script makes 400 noisy measurements of such a motion, then recovers
(A, k, w, phi) by least squares: the loss is written as a plain loop over the
measurements, `adjit.grad(loss)` gives its gradient compiled with Numba, and
`scipy.optimize.minimize(loss, p0, jac=adjit.grad(loss), method="L-BFGS-B")`
does the rest. It prints the true and fitted parameters and the residual.
"""

import math

import numpy as np
from scipy.optimize import minimize

import adjit

TRUE = np.array([2.0, 0.3, 3.0, 0.5])       # A, k, w, phi


def loss(p, t, y):
    """Mean squared error of the model with parameters p = (A, k, w, phi)."""
    total = 0.0
    for i in range(t.shape[0]):
        model = p[0] * math.exp(-p[1] * t[i]) * math.cos(p[2] * t[i] + p[3])
        r = model - y[i]
        total += r * r
    return total / t.shape[0]


def measurements(seed=0, n=400, noise=0.05):
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 10.0, n)
    A, k, w, phi = TRUE
    y = A * np.exp(-k * t) * np.cos(w * t + phi) + noise * rng.normal(size=n)
    return t, y


def main():
    t, y = measurements()
    gradient = adjit.grad(loss)
    p0 = np.array([1.0, 0.1, 2.8, 0.0])          # a rough guess: frequency within 10%
    adjit.check_grad(loss, p0, t, y)              # adjit's gradient agrees with finite differences
    fit = minimize(loss, p0, args=(t, y), jac=gradient, method="L-BFGS-B")
    print(f"converged: {fit.success} after {fit.nit} iterations ({fit.message})")
    print(f"true   A, k, w, phi: {TRUE}")
    print(f"fitted A, k, w, phi: {np.round(fit.x, 4)}")
    print(f"root mean square residual: {math.sqrt(fit.fun):.4f} (noise level 0.05)")


if __name__ == "__main__":
    main()
