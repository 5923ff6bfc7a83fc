"""What rosenbrock_loop and rosenbrock_vec share: the hand-written adjoint and
the peers. A competent JAX, PyTorch or autograd user writes Rosenbrock
vectorised whichever way the adjit user wrote it (a Python loop over 10^6
elements would be hopeless in each of them), so both workloads race the same
vectorised peers.
"""
import numba
import numpy as np

from . import jax_x64


def inputs(size):
    n = {"full": 10**6, "quick": 10**5, "test": 7}[size]
    rng = np.random.default_rng(1)
    return (rng.uniform(-1.5, 1.5, n),)


@numba.njit
def hand_grad(x):
    """One pass, in gather form: g[i] reads x[i - 1], x[i], x[i + 1] and writes only
    g[i], so the loop has no loop-carried dependence and LLVM vectorises it
    (3-4x faster here than adding each term's gradient into g[i] and g[i + 1])."""
    n = x.shape[0]
    g = np.empty(n)
    g[0] = -400.0 * (x[1] - x[0] * x[0]) * x[0] - 2.0 * (1.0 - x[0])
    for i in range(1, n - 1):
        xi = x[i]
        g[i] = (200.0 * (xi - x[i - 1] * x[i - 1]) - 400.0 * (x[i + 1] - xi * xi) * xi
                - 2.0 * (1.0 - xi))
    g[n - 1] = 200.0 * (x[n - 1] - x[n - 2] * x[n - 2])
    return (g,)


def jax_grad(args):
    jax = jax_x64()
    import jax.numpy as jnp

    def f(x):
        return jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    df = jax.jit(jax.grad(f))
    x = jnp.asarray(args[0])
    return lambda: (np.asarray(df(x)),)


def torch_grad(args):
    import torch
    x = torch.from_numpy(args[0]).requires_grad_()

    def run():
        y = torch.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)
        (gx,) = torch.autograd.grad(y, x)
        return (gx.numpy(),)
    return run


def autograd_grad(args):
    import autograd
    import autograd.numpy as anp

    def f(x):
        return anp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    df = autograd.grad(f)
    x = args[0]
    return lambda: (df(x),)
