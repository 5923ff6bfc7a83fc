"""An LSTM-like recurrence over 200 steps (batch 16, 32 inputs, 64 hidden);
gradient of sum(h_T^2) w.r.t. the weights Wx, Wh and the bias b.

Each step is two small matrix products and elementwise gates. The
hand-written adjoint does what an expert does: one big product for the input
projection of all steps before the loop, gates and cell states saved in
preallocated tapes, a fused elementwise reverse step, and one big product
each for dWx and dWh after the loop (only dh = dg @ Wh.T stays per step).
JAX uses lax.scan; PyTorch and autograd loop over the steps.
"""
import numba
import numpy as np

from . import jax_x64, njit_with_helpers

NAME = "lstm"
LOOP = True
WRT = ("Wx", "Wh", "b")


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def f(Wx, Wh, b, xs):
    H = Wh.shape[0]
    h = np.zeros((xs.shape[1], H))
    c = np.zeros((xs.shape[1], H))
    for t in range(xs.shape[0]):
        g = xs[t] @ Wx + h @ Wh + b
        i = sigmoid(g[:, :H])
        fg = sigmoid(g[:, H:2 * H])
        o = sigmoid(g[:, 2 * H:3 * H])
        u = np.tanh(g[:, 3 * H:])
        c = fg * c + i * u
        h = o * np.tanh(c)
    return np.sum(h * h)


def inputs(size):
    T, B, I, H = {"full": (200, 16, 32, 64), "quick": (50, 16, 32, 64),
                  "test": (4, 2, 3, 2)}[size]
    rng = np.random.default_rng(6)
    Wx = rng.normal(size=(I, 4 * H)) / np.sqrt(I)
    Wh = rng.normal(size=(H, 4 * H)) / np.sqrt(H)
    b = 0.1 * rng.normal(size=4 * H)
    xs = rng.normal(size=(T, B, I))
    return (Wx, Wh, b, xs)


primal = njit_with_helpers(f, sigmoid)


@numba.njit
def hand_grad(Wx, Wh, b, xs):
    T, B, I = xs.shape
    H = Wh.shape[0]
    X2 = xs.reshape(T * B, I)
    G = (X2 @ Wx).reshape(T, B, 4 * H)      # input projection of every step at once
    hs = np.zeros((T + 1, B, H))
    cs = np.zeros((T + 1, B, H))
    tcs = np.empty((T, B, H))               # tanh(c_t)
    for t in range(T):
        hw = hs[t] @ Wh
        for k in range(B):
            for j in range(H):
                gi = 1.0 / (1.0 + np.exp(-(G[t, k, j] + hw[k, j] + b[j])))
                gf = 1.0 / (1.0 + np.exp(-(G[t, k, H + j] + hw[k, H + j] + b[H + j])))
                go = 1.0 / (1.0 + np.exp(-(G[t, k, 2 * H + j] + hw[k, 2 * H + j] + b[2 * H + j])))
                gu = np.tanh(G[t, k, 3 * H + j] + hw[k, 3 * H + j] + b[3 * H + j])
                G[t, k, j], G[t, k, H + j], G[t, k, 2 * H + j], G[t, k, 3 * H + j] = gi, gf, go, gu
                c = gf * cs[t, k, j] + gi * gu
                cs[t + 1, k, j] = c
                tc = np.tanh(c)
                tcs[t, k, j] = tc
                hs[t + 1, k, j] = go * tc
    dh = 2.0 * hs[T]
    dc = np.zeros((B, H))
    dG = np.empty((T, B, 4 * H))
    for t in range(T - 1, -1, -1):
        for k in range(B):
            for j in range(H):
                gi, gf, go, gu = G[t, k, j], G[t, k, H + j], G[t, k, 2 * H + j], G[t, k, 3 * H + j]
                tc = tcs[t, k, j]
                d = dc[k, j] + dh[k, j] * go * (1.0 - tc * tc)
                dG[t, k, j] = d * gu * gi * (1.0 - gi)
                dG[t, k, H + j] = d * cs[t, k, j] * gf * (1.0 - gf)
                dG[t, k, 2 * H + j] = dh[k, j] * tc * go * (1.0 - go)
                dG[t, k, 3 * H + j] = d * gi * (1.0 - gu * gu)
                dc[k, j] = d * gf
        dh = dG[t] @ Wh.T
    dG2 = dG.reshape(T * B, 4 * H)
    dWx = X2.T @ dG2
    dWh = hs[:T].reshape(T * B, H).T @ dG2
    db = np.zeros(4 * H)
    for r in range(T * B):
        for j in range(4 * H):
            db[j] += dG2[r, j]
    return (dWx, dWh, db)


def jax_grad(args):
    jax = jax_x64()
    import jax.numpy as jnp

    def loss(Wx, Wh, b, xs):
        H = Wh.shape[0]

        def step(carry, x):
            h, c = carry
            g = x @ Wx + h @ Wh + b
            i, fg, o = (jax.nn.sigmoid(g[:, k * H:(k + 1) * H]) for k in range(3))
            c = fg * c + i * jnp.tanh(g[:, 3 * H:])
            return (o * jnp.tanh(c), c), None

        zeros = jnp.zeros((xs.shape[1], H))
        (h, _), _ = jax.lax.scan(step, (zeros, zeros), xs)
        return jnp.sum(h * h)

    dloss = jax.jit(jax.grad(loss, argnums=(0, 1, 2)))
    a = [jnp.asarray(v) for v in args]
    return lambda: tuple(np.asarray(g) for g in dloss(*a))


def torch_grad(args):
    import torch
    Wx, Wh, b, xs = (torch.from_numpy(v) for v in args)
    params = [p.requires_grad_() for p in (Wx, Wh, b)]
    H = Wh.shape[0]

    def run():
        h = torch.zeros(xs.shape[1], H, dtype=torch.float64)
        c = torch.zeros(xs.shape[1], H, dtype=torch.float64)
        for t in range(xs.shape[0]):
            g = xs[t] @ Wx + h @ Wh + b
            i, fg, o = (torch.sigmoid(g[:, k * H:(k + 1) * H]) for k in range(3))
            c = fg * c + i * torch.tanh(g[:, 3 * H:])
            h = o * torch.tanh(c)
        loss = torch.sum(h * h)
        return tuple(g.numpy() for g in torch.autograd.grad(loss, params))
    return run


def autograd_grad(args):
    import autograd
    import autograd.numpy as anp

    def loss(Wx, Wh, b, xs):
        H = Wh.shape[0]
        h = anp.zeros((xs.shape[1], H))
        c = anp.zeros((xs.shape[1], H))
        for t in range(xs.shape[0]):
            g = anp.dot(xs[t], Wx) + anp.dot(h, Wh) + b
            i, fg, o = (1.0 / (1.0 + anp.exp(-g[:, k * H:(k + 1) * H])) for k in range(3))
            c = fg * c + i * anp.tanh(g[:, 3 * H:])
            h = o * anp.tanh(c)
        return anp.sum(h * h)

    dloss = autograd.grad(loss, argnum=(0, 1, 2))
    return lambda: tuple(dloss(*args))
