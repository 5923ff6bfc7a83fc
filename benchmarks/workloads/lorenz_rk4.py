"""RK4 integration of the Lorenz system, 10^4 steps of dt = 0.001; gradient of
|state(T)|^2 w.r.t. the parameters (sigma, rho, beta).

The adjit user writes the right-hand side as a helper returning a tuple and
calls it four times per step. The hand-written adjoint tapes the state once
per step (3 floats), recomputes the RK stages in the reverse sweep and applies
the transposed Jacobian of the right-hand side by hand. JAX uses
lax.fori_loop; PyTorch and autograd run the Python loop, timed on a shorter
loop and scaled.
"""
import numba
import numpy as np

from . import jax_x64, njit_with_helpers

NAME = "lorenz_rk4"
LOOP = True
WRT = ("sigma", "rho", "beta")


def lorenz(x, y, z, sigma, rho, beta):
    return sigma * (y - x), x * (rho - z) - y, x * y - beta * z


def f(sigma, rho, beta, x, y, z, dt, n):
    for i in range(n):
        k1x, k1y, k1z = lorenz(x, y, z, sigma, rho, beta)
        k2x, k2y, k2z = lorenz(x + 0.5 * dt * k1x, y + 0.5 * dt * k1y, z + 0.5 * dt * k1z,
                               sigma, rho, beta)
        k3x, k3y, k3z = lorenz(x + 0.5 * dt * k2x, y + 0.5 * dt * k2y, z + 0.5 * dt * k2z,
                               sigma, rho, beta)
        k4x, k4y, k4z = lorenz(x + dt * k3x, y + dt * k3y, z + dt * k3z, sigma, rho, beta)
        x = x + dt / 6.0 * (k1x + 2.0 * k2x + 2.0 * k3x + k4x)
        y = y + dt / 6.0 * (k1y + 2.0 * k2y + 2.0 * k3y + k4y)
        z = z + dt / 6.0 * (k1z + 2.0 * k2z + 2.0 * k3z + k4z)
    return x * x + y * y + z * z


def inputs(size):
    n = {"full": 10**4, "quick": 10**3, "test": 20}[size]
    return (10.0, 28.0, 8.0 / 3.0, 1.0, 1.0, 1.0, 0.001, n)


def shrink(args, k):
    return args[:-1] + (max(1, args[-1] // k),)


primal = njit_with_helpers(f, lorenz)
_rhs = numba.njit(lorenz)


@numba.njit
def _rhs_vjp(x, y, z, sigma, rho, beta, a, b, c):
    """(a, b, c) times the Jacobian of the right-hand side: the gradients of
    x, y, z, sigma, rho, beta."""
    return (-sigma * a + (rho - z) * b + y * c, sigma * a - b + x * c, -x * b - beta * c,
            (y - x) * a, x * b, -z * c)


@numba.njit
def hand_grad(sigma, rho, beta, x, y, z, dt, n):
    tape = np.empty((n, 3))
    h = 0.5 * dt
    w = dt / 6.0
    for i in range(n):
        tape[i, 0] = x
        tape[i, 1] = y
        tape[i, 2] = z
        k1x, k1y, k1z = _rhs(x, y, z, sigma, rho, beta)
        k2x, k2y, k2z = _rhs(x + h * k1x, y + h * k1y, z + h * k1z, sigma, rho, beta)
        k3x, k3y, k3z = _rhs(x + h * k2x, y + h * k2y, z + h * k2z, sigma, rho, beta)
        k4x, k4y, k4z = _rhs(x + dt * k3x, y + dt * k3y, z + dt * k3z, sigma, rho, beta)
        x = x + w * (k1x + 2.0 * k2x + 2.0 * k3x + k4x)
        y = y + w * (k1y + 2.0 * k2y + 2.0 * k3y + k4y)
        z = z + w * (k1z + 2.0 * k2z + 2.0 * k3z + k4z)
    bx, by, bz = 2.0 * x, 2.0 * y, 2.0 * z
    bsig = brho = bbeta = 0.0
    for i in range(n - 1, -1, -1):
        x, y, z = tape[i, 0], tape[i, 1], tape[i, 2]
        k1x, k1y, k1z = _rhs(x, y, z, sigma, rho, beta)
        x2, y2, z2 = x + h * k1x, y + h * k1y, z + h * k1z
        k2x, k2y, k2z = _rhs(x2, y2, z2, sigma, rho, beta)
        x3, y3, z3 = x + h * k2x, y + h * k2y, z + h * k2z
        k3x, k3y, k3z = _rhs(x3, y3, z3, sigma, rho, beta)
        x4, y4, z4 = x + dt * k3x, y + dt * k3y, z + dt * k3z
        # stage 4: k4 = rhs(s + dt k3), weight w
        gx, gy, gz, gs, gr, gb = _rhs_vjp(x4, y4, z4, sigma, rho, beta, w * bx, w * by, w * bz)
        bsig += gs
        brho += gr
        bbeta += gb
        # stage 3: k3 = rhs(s + h k2), weight 2w, plus dt times stage 4's state gradient
        ax, ay, az = 2.0 * w * bx + dt * gx, 2.0 * w * by + dt * gy, 2.0 * w * bz + dt * gz
        nx, ny, nz = bx + gx, by + gy, bz + gz
        gx, gy, gz, gs, gr, gb = _rhs_vjp(x3, y3, z3, sigma, rho, beta, ax, ay, az)
        bsig += gs
        brho += gr
        bbeta += gb
        # stage 2
        ax, ay, az = 2.0 * w * bx + h * gx, 2.0 * w * by + h * gy, 2.0 * w * bz + h * gz
        nx, ny, nz = nx + gx, ny + gy, nz + gz
        gx, gy, gz, gs, gr, gb = _rhs_vjp(x2, y2, z2, sigma, rho, beta, ax, ay, az)
        bsig += gs
        brho += gr
        bbeta += gb
        # stage 1: k1 = rhs(s)
        ax, ay, az = w * bx + h * gx, w * by + h * gy, w * bz + h * gz
        nx, ny, nz = nx + gx, ny + gy, nz + gz
        gx, gy, gz, gs, gr, gb = _rhs_vjp(x, y, z, sigma, rho, beta, ax, ay, az)
        bsig += gs
        brho += gr
        bbeta += gb
        bx, by, bz = nx + gx, ny + gy, nz + gz
    return (bsig, brho, bbeta)


def jax_grad(args):
    jax = jax_x64()

    def loss(sigma, rho, beta, x, y, z, dt, n):
        def rhs(x, y, z):
            return sigma * (y - x), x * (rho - z) - y, x * y - beta * z

        def step(i, s):
            x, y, z = s
            k1 = rhs(x, y, z)
            k2 = rhs(x + 0.5 * dt * k1[0], y + 0.5 * dt * k1[1], z + 0.5 * dt * k1[2])
            k3 = rhs(x + 0.5 * dt * k2[0], y + 0.5 * dt * k2[1], z + 0.5 * dt * k2[2])
            k4 = rhs(x + dt * k3[0], y + dt * k3[1], z + dt * k3[2])
            return tuple(v + dt / 6.0 * (a + 2.0 * b + 2.0 * c + d)
                         for v, a, b, c, d in zip(s, k1, k2, k3, k4))

        x, y, z = jax.lax.fori_loop(0, n, step, (x, y, z))
        return x * x + y * y + z * z

    dloss = jax.jit(jax.grad(loss, argnums=(0, 1, 2)), static_argnums=7)
    return lambda: tuple(float(g) for g in dloss(*args))


def torch_grad(args):
    import torch
    sigma0, rho0, beta0, x0, y0, z0, dt, n = args
    params = [torch.tensor(v, dtype=torch.float64, requires_grad=True)
              for v in (sigma0, rho0, beta0)]
    sigma, rho, beta = params
    start = [torch.tensor(v, dtype=torch.float64) for v in (x0, y0, z0)]

    def rhs(x, y, z):
        return sigma * (y - x), x * (rho - z) - y, x * y - beta * z

    def run():
        x, y, z = start
        for i in range(n):
            k1 = rhs(x, y, z)
            k2 = rhs(x + 0.5 * dt * k1[0], y + 0.5 * dt * k1[1], z + 0.5 * dt * k1[2])
            k3 = rhs(x + 0.5 * dt * k2[0], y + 0.5 * dt * k2[1], z + 0.5 * dt * k2[2])
            k4 = rhs(x + dt * k3[0], y + dt * k3[1], z + dt * k3[2])
            x, y, z = (v + dt / 6.0 * (a + 2.0 * b + 2.0 * c + d)
                       for v, a, b, c, d in zip((x, y, z), k1, k2, k3, k4))
        loss = x * x + y * y + z * z
        return tuple(g.item() for g in torch.autograd.grad(loss, params))
    return run


def autograd_grad(args):
    import autograd

    dloss = autograd.grad(f, argnum=(0, 1, 2))   # f is plain Python on floats: autograd traces it
    return lambda: tuple(float(g) for g in dloss(*args))
