"""Logistic-regression loss on a 20000 x 100 design matrix; gradient w.r.t. w.

mean(log(1 + exp(-y * (X @ w)))) with labels y in {-1, +1}. Two matrix-vector
products dominate (X @ w forward, r @ X backward); the hand-written adjoint
fuses the elementwise part into one loop between them.
"""
import numba
import numpy as np

from . import jax_x64

NAME = "logistic"
LOOP = False
WRT = ("w",)


def f(w, X, y):
    z = X @ w
    return np.mean(np.log1p(np.exp(-y * z)))


def inputs(size):
    m, d = {"full": (20000, 100), "quick": (2000, 100), "test": (9, 4)}[size]
    rng = np.random.default_rng(2)
    X = rng.normal(size=(m, d))
    w_true = rng.normal(size=d)
    y = np.where(X @ w_true + rng.normal(size=m) > 0.0, 1.0, -1.0)
    w = 0.1 * rng.normal(size=d)
    return (w, X, y)


primal = numba.njit(f)


@numba.njit
def hand_grad(w, X, y):
    m = X.shape[0]
    z = X @ w
    r = np.empty(m)
    for k in range(m):
        e = np.exp(-y[k] * z[k])
        r[k] = -y[k] * e / ((1.0 + e) * m)      # d mean(log1p(e)) / d z_k
    return (r @ X,)


def jax_grad(args):
    jax = jax_x64()
    import jax.numpy as jnp

    def loss(w, X, y):
        return jnp.mean(jnp.log1p(jnp.exp(-y * (X @ w))))

    dloss = jax.jit(jax.grad(loss))
    w, X, y = (jnp.asarray(a) for a in args)
    return lambda: (np.asarray(dloss(w, X, y)),)


def torch_grad(args):
    import torch
    w, X, y = (torch.from_numpy(a) for a in args)
    w.requires_grad_()

    def run():
        loss = torch.mean(torch.log1p(torch.exp(-y * (X @ w))))
        (gw,) = torch.autograd.grad(loss, w)
        return (gw.numpy(),)
    return run


def autograd_grad(args):
    import autograd
    import autograd.numpy as anp

    def loss(w, X, y):
        return anp.mean(anp.log1p(anp.exp(-y * anp.dot(X, w))))

    dloss = autograd.grad(loss)
    return lambda: (dloss(*args),)
