"""Lennard-Jones energy of 400 particles as a double loop over pairs; gradient
w.r.t. the positions (the negated forces).

The hand-written adjoint is the force loop an MD programmer writes: one pass
over pairs, the pair's force added to both particles, no tape. The peers
vectorise over the 79,800 pairs (np.triu_indices), as a competent user of each
would.
"""
import numba
import numpy as np

from . import jax_x64

NAME = "lennard_jones"
LOOP = True
WRT = ("pos",)


def f(pos, eps, sig):
    n = pos.shape[0]
    e = 0.0
    for i in range(n):
        for j in range(i + 1, n):
            dx = pos[i, 0] - pos[j, 0]
            dy = pos[i, 1] - pos[j, 1]
            dz = pos[i, 2] - pos[j, 2]
            r2 = dx * dx + dy * dy + dz * dz
            s6 = (sig * sig / r2) ** 3
            e = e + 4.0 * eps * (s6 * s6 - s6)
    return e


def inputs(size):
    n = {"full": 400, "quick": 150, "test": 5}[size]
    side = int(np.ceil(n ** (1.0 / 3.0)))
    grid = np.stack(np.meshgrid(*[np.arange(side)] * 3, indexing="ij"), axis=-1).reshape(-1, 3)
    rng = np.random.default_rng(4)
    pos = 1.2 * grid[:n] + 0.1 * rng.uniform(-1.0, 1.0, (n, 3))   # a jittered lattice
    return (pos, 1.0, 1.0)


primal = numba.njit(f)


@numba.njit
def hand_grad(pos, eps, sig):
    n = pos.shape[0]
    g = np.zeros((n, 3))
    s2 = sig * sig
    for i in range(n):
        xi, yi, zi = pos[i, 0], pos[i, 1], pos[i, 2]
        gx = gy = gz = 0.0
        for j in range(i + 1, n):
            dx = xi - pos[j, 0]
            dy = yi - pos[j, 1]
            dz = zi - pos[j, 2]
            r2 = dx * dx + dy * dy + dz * dz
            q = s2 / r2
            s6 = q * q * q
            c = -24.0 * eps * (2.0 * s6 - 1.0) * s6 / r2    # dE/d(r2) times d(r2)/d(dx) / dx
            gx += c * dx
            gy += c * dy
            gz += c * dz
            g[j, 0] -= c * dx
            g[j, 1] -= c * dy
            g[j, 2] -= c * dz
        g[i, 0] += gx
        g[i, 1] += gy
        g[i, 2] += gz
    return (g,)


def jax_grad(args):
    jax = jax_x64()
    import jax.numpy as jnp
    pos, eps, sig = args
    i, j = np.triu_indices(pos.shape[0], 1)

    def energy(pos):
        d = pos[i] - pos[j]
        s6 = (sig * sig / jnp.sum(d * d, axis=1)) ** 3
        return jnp.sum(4.0 * eps * (s6 * s6 - s6))

    denergy = jax.jit(jax.grad(energy))
    p = jnp.asarray(pos)
    return lambda: (np.asarray(denergy(p)),)


def torch_grad(args):
    import torch
    pos0, eps, sig = args
    i, j = (torch.from_numpy(k) for k in np.triu_indices(pos0.shape[0], 1))
    pos = torch.from_numpy(pos0).requires_grad_()

    def run():
        d = pos[i] - pos[j]
        s6 = (sig * sig / torch.sum(d * d, dim=1)) ** 3
        e = torch.sum(4.0 * eps * (s6 * s6 - s6))
        (g,) = torch.autograd.grad(e, pos)
        return (g.numpy(),)
    return run


def autograd_grad(args):
    import autograd
    import autograd.numpy as anp
    pos, eps, sig = args
    i, j = np.triu_indices(pos.shape[0], 1)

    def energy(pos):
        d = pos[i] - pos[j]
        s6 = (sig * sig / anp.sum(d * d, axis=1)) ** 3
        return anp.sum(4.0 * eps * (s6 * s6 - s6))

    denergy = autograd.grad(energy)
    return lambda: (denergy(pos),)
