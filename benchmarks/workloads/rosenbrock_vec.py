"""Rosenbrock's function of 10^6 variables, vectorised with slices.

The hand-written adjoint is the same fused loop as rosenbrock_loop's (an
expert writes the loop, not the temporaries); so are the peers.
"""
import numba
import numpy as np

from ._rosenbrock_peers import autograd_grad, hand_grad, inputs, jax_grad, torch_grad  # noqa: F401

NAME = "rosenbrock_vec"
LOOP = False
WRT = ("x",)


def f(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


primal = numba.njit(f)
