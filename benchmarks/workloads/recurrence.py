"""A scalar recurrence loop, 10^6 iterations: s <- s + sin(x i) s + x; d s / d x.

Sequential by nature: nothing to vectorise. The hand-written adjoint tapes s
(one float per iteration) and recomputes sin/cos in the reverse sweep. JAX
uses lax.fori_loop; PyTorch and autograd run the Python loop (a competent
user has no other way), so they are timed on a shorter loop and scaled.
"""
import numba
import numpy as np

from . import jax_x64

NAME = "recurrence"
LOOP = True
WRT = ("x",)


def f(x, n):
    s = x
    for i in range(n):
        s = s + np.sin(x * i) * s + x
    return s


def inputs(size):
    n = {"full": 10**6, "quick": 10**5, "test": 50}[size]
    return (0.7, n)


def shrink(args, k):
    x, n = args
    return (x, max(1, n // k))


primal = numba.njit(f)


@numba.njit
def hand_grad(x, n):
    tape = np.empty(n)
    s = x
    for i in range(n):
        tape[i] = s
        s = s + np.sin(x * i) * s + x
    # s_{i+1} = s_i (1 + sin(x i)) + x
    bs = 1.0
    bx = 0.0
    for i in range(n - 1, -1, -1):
        xi = x * i
        bx += bs * (tape[i] * i * np.cos(xi) + 1.0)
        bs = bs * (1.0 + np.sin(xi))
    return (bx + bs,)           # s_0 = x


def jax_grad(args):
    jax = jax_x64()
    import jax.numpy as jnp

    def g(x, n):
        def body(i, s):
            return s + jnp.sin(x * i) * s + x
        return jax.lax.fori_loop(0, n, body, x)

    dg = jax.jit(jax.grad(g), static_argnums=1)
    x, n = args
    return lambda: (float(dg(x, n)),)


def torch_grad(args):
    import torch
    x0, n = args
    x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)

    def run():
        s = x
        for i in range(n):
            s = s + torch.sin(x * i) * s + x
        (gx,) = torch.autograd.grad(s, x)
        return (gx.item(),)
    return run


def autograd_grad(args):
    import autograd
    import autograd.numpy as anp

    def g(x, n):
        s = x
        for i in range(n):
            s = s + anp.sin(x * i) * s + x
        return s

    dg = autograd.grad(g)
    x, n = args
    return lambda: (float(dg(x, n)),)
