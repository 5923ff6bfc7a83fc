"""1-D heat equation, explicit scheme, 1000 steps on 1000 cells, written with
in-place element updates; gradient of sum(u_T^2) w.r.t. the initial state u0
and the diffusion number kappa.

The hand-written adjoint keeps every state in one preallocated tape (the
forward writes each step straight into its row, so nothing is copied), then
runs the transposed stencil backwards, accumulating d/d kappa on the way.
Peers update the interior with slices, a step at a time (JAX: lax.fori_loop).
"""
import numba
import numpy as np

from . import jax_x64

NAME = "heat"
LOOP = True
WRT = ("u0", "kappa")


def f(u0, kappa, steps):
    u = u0.copy()
    n = u.shape[0]
    for t in range(steps):
        old = u.copy()
        for i in range(1, n - 1):
            u[i] = old[i] + kappa * (old[i - 1] - 2.0 * old[i] + old[i + 1])
    return np.sum(u * u)


def inputs(size):
    n, steps = {"full": (1000, 1000), "quick": (200, 200), "test": (8, 5)}[size]
    rng = np.random.default_rng(5)
    return (rng.uniform(0.0, 1.0, n), 0.25, steps)


primal = numba.njit(f)


@numba.njit
def hand_grad(u0, kappa, steps):
    n = u0.shape[0]
    tape = np.empty((steps + 1, n))
    tape[0] = u0
    for t in range(steps):
        u, new = tape[t], tape[t + 1]
        new[0] = u[0]
        new[n - 1] = u[n - 1]
        for i in range(1, n - 1):
            new[i] = u[i] + kappa * (u[i - 1] - 2.0 * u[i] + u[i + 1])
    bu = 2.0 * tape[steps]
    bold = np.empty(n)
    bk = 0.0
    c = 1.0 - 2.0 * kappa
    for t in range(steps - 1, -1, -1):
        u = tape[t]
        b0, bn = bu[0], bu[n - 1]
        bu[0] = 0.0                         # the boundary cells are copied, not stenciled
        bu[n - 1] = 0.0
        for i in range(1, n - 1):
            bk += bu[i] * (u[i - 1] - 2.0 * u[i] + u[i + 1])
            bold[i] = c * bu[i] + kappa * (bu[i - 1] + bu[i + 1])
        bold[0] = b0 + kappa * bu[1]
        bold[n - 1] = bn + kappa * bu[n - 2]
        bu, bold = bold, bu
    return (bu, bk)


def jax_grad(args):
    jax = jax_x64()
    import jax.numpy as jnp

    def loss(u0, kappa, steps):
        def step(t, u):
            return u.at[1:-1].set(u[1:-1] + kappa * (u[:-2] - 2.0 * u[1:-1] + u[2:]))
        u = jax.lax.fori_loop(0, steps, step, u0)
        return jnp.sum(u * u)

    dloss = jax.jit(jax.grad(loss, argnums=(0, 1)), static_argnums=2)
    u0, kappa, steps = args
    u0 = jnp.asarray(u0)
    return lambda: tuple(np.asarray(g) for g in dloss(u0, kappa, steps))


def torch_grad(args):
    import torch
    u00, kappa0, steps = args
    u0 = torch.from_numpy(u00).requires_grad_()
    kappa = torch.tensor(kappa0, dtype=torch.float64, requires_grad=True)

    def run():
        u = u0
        for t in range(steps):
            inner = u[1:-1] + kappa * (u[:-2] - 2.0 * u[1:-1] + u[2:])
            u = torch.cat((u[:1], inner, u[-1:]))
        loss = torch.sum(u * u)
        gu, gk = torch.autograd.grad(loss, (u0, kappa))
        return (gu.numpy(), gk.item())
    return run


def autograd_grad(args):
    import autograd
    import autograd.numpy as anp

    def loss(u0, kappa, steps):
        u = u0
        for t in range(steps):
            inner = u[1:-1] + kappa * (u[:-2] - 2.0 * u[1:-1] + u[2:])
            u = anp.concatenate((u[:1], inner, u[-1:]))
        return anp.sum(u * u)

    dloss = autograd.grad(loss, argnum=(0, 1))
    return lambda: tuple(dloss(*args))
