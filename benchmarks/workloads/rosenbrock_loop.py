"""Rosenbrock's function of 10^6 variables as an explicit loop over x[i].

The hand-written adjoint is one fused, vectorised pass with no tape. Peers are the
vectorised Rosenbrock (see _rosenbrock_peers.py).
"""
import numba

from ._rosenbrock_peers import autograd_grad, hand_grad, inputs, jax_grad, torch_grad  # noqa: F401

NAME = "rosenbrock_loop"
LOOP = True
WRT = ("x",)


def f(x):
    s = 0.0
    for i in range(x.shape[0] - 1):
        s = s + 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
    return s


primal = numba.njit(f)
