"""A two-layer MLP's softmax cross-entropy: batch 256, 784-256-10, ReLU hidden layer.

Gradient w.r.t. all four parameters (W1, b1, W2, b2). Three matrix products
dominate the gradient (X.T @ dh, h.T @ dz, dz @ W2.T) and one the forward
(X @ W1); the hand-written adjoint calls BLAS for those and fuses bias, ReLU
and the log-softmax into loops. Numba cannot compile np.max(..., axis=1,
keepdims=True), so its primal spells the log-softmax as a loop.
"""
import numba
import numpy as np

from . import jax_x64

NAME = "mlp"
LOOP = False
WRT = ("W1", "b1", "W2", "b2")


def f(W1, b1, W2, b2, X, Y):
    h = np.maximum(X @ W1 + b1, 0.0)
    z = h @ W2 + b2
    zmax = np.max(z, axis=1, keepdims=True)
    logp = z - zmax - np.log(np.sum(np.exp(z - zmax), axis=1, keepdims=True))
    return -np.sum(Y * logp) / X.shape[0]


def inputs(size):
    batch, d, hidden, classes = {"full": (256, 784, 256, 10), "quick": (64, 784, 256, 10),
                                 "test": (6, 5, 4, 3)}[size]
    rng = np.random.default_rng(3)
    X = rng.normal(size=(batch, d))
    Y = np.eye(classes)[rng.integers(0, classes, batch)]
    W1 = rng.normal(size=(d, hidden)) * np.sqrt(2.0 / d)
    b1 = 0.1 * rng.normal(size=hidden)
    W2 = rng.normal(size=(hidden, classes)) * np.sqrt(1.0 / hidden)
    b2 = 0.1 * rng.normal(size=classes)
    return (W1, b1, W2, b2, X, Y)


@numba.njit
def primal(W1, b1, W2, b2, X, Y):
    h = np.maximum(X @ W1 + b1, 0.0)
    z = h @ W2 + b2
    total = 0.0
    for k in range(z.shape[0]):
        zmax = np.max(z[k])
        lse = zmax + np.log(np.sum(np.exp(z[k] - zmax)))
        total += np.sum(Y[k] * (z[k] - lse))
    return -total / X.shape[0]


@numba.njit
def hand_grad(W1, b1, W2, b2, X, Y):
    batch, hidden = X.shape[0], W1.shape[1]
    classes = W2.shape[1]
    h = X @ W1
    for k in range(batch):
        for j in range(hidden):
            v = h[k, j] + b1[j]
            h[k, j] = v if v > 0.0 else 0.0
    dz = h @ W2
    for k in range(batch):                  # dz = (softmax(z) * sum(Y) - Y) / batch
        zmax = -np.inf
        for c in range(classes):
            dz[k, c] += b2[c]
            zmax = max(zmax, dz[k, c])
        total = 0.0
        ysum = 0.0
        for c in range(classes):
            dz[k, c] = np.exp(dz[k, c] - zmax)
            total += dz[k, c]
            ysum += Y[k, c]
        for c in range(classes):
            dz[k, c] = (dz[k, c] / total * ysum - Y[k, c]) / batch
    dW2 = h.T @ dz
    db2 = np.zeros(classes)
    for k in range(batch):
        for c in range(classes):
            db2[c] += dz[k, c]
    dh = dz @ W2.T
    db1 = np.zeros(hidden)
    for k in range(batch):
        for j in range(hidden):
            if h[k, j] <= 0.0:
                dh[k, j] = 0.0
            db1[j] += dh[k, j]
    dW1 = X.T @ dh
    return (dW1, db1, dW2, db2)


def jax_grad(args):
    jax = jax_x64()
    import jax.numpy as jnp

    def loss(W1, b1, W2, b2, X, Y):
        h = jax.nn.relu(X @ W1 + b1)
        logp = jax.nn.log_softmax(h @ W2 + b2, axis=1)
        return -jnp.sum(Y * logp) / X.shape[0]

    dloss = jax.jit(jax.grad(loss, argnums=(0, 1, 2, 3)))
    a = [jnp.asarray(v) for v in args]
    return lambda: tuple(np.asarray(g) for g in dloss(*a))


def torch_grad(args):
    import torch
    W1, b1, W2, b2, X, Y = (torch.from_numpy(v) for v in args)
    params = [p.requires_grad_() for p in (W1, b1, W2, b2)]

    def run():
        h = torch.relu(X @ W1 + b1)
        logp = torch.log_softmax(h @ W2 + b2, dim=1)
        loss = -torch.sum(Y * logp) / X.shape[0]
        return tuple(g.numpy() for g in torch.autograd.grad(loss, params))
    return run


def autograd_grad(args):
    import autograd
    import autograd.numpy as anp
    from autograd.scipy.special import logsumexp

    def loss(W1, b1, W2, b2, X, Y):
        h = anp.maximum(anp.dot(X, W1) + b1, 0.0)
        z = anp.dot(h, W2) + b2
        logp = z - logsumexp(z, axis=1, keepdims=True)
        return -anp.sum(Y * logp) / X.shape[0]

    dloss = autograd.grad(loss, argnum=(0, 1, 2, 3))
    return lambda: tuple(dloss(*args))
