"""The benchmark workloads, one module each, and what they share.

Every workload module defines:

  NAME        its name on the command line and in the table
  LOOP        True when the work is a loop adjit compiles (where adjit should
              beat every peer), False when it is a few large array operations
  WRT         the names of the arguments differentiated, a tuple
  f           the plain Python function, as an adjit user writes it
  inputs(size)  its arguments for size "full", "quick" or "test" (fixed seed)
  primal      Numba's compilation of f (or, where Numba cannot compile f as
              written, the same computation in a form it can)
  hand_grad   an expert's Numba adjoint: the gradients w.r.t. WRT, as a tuple
  jax_grad(args), torch_grad(args), autograd_grad(args)
              peers as a competent user of each writes them: given the
              arguments, set up once (tensors, jit) and return a function of
              no arguments that computes the gradients as a tuple of NumPy
              values. They import their package inside, so ImportError means
              "not installed".
  shrink(args, k)  (optional) the arguments with the loop k times shorter, so
              a peer that would take minutes is timed on a shorter loop and
              its time scaled by k (marked in the table)
"""

import types

import numba

NAMES = ("recurrence", "rosenbrock_loop", "rosenbrock_vec", "logistic", "mlp",
         "lorenz_rk4", "lennard_jones", "heat", "lstm")


def njit_with_helpers(f, *helpers):
    """numba.njit(f) where f calls plain Python helpers: the same code, with
    the helpers njit-compiled too (Numba cannot call a plain Python function)."""
    env = dict(f.__globals__)
    for h in helpers:
        env[h.__name__] = numba.njit(h)
    return numba.njit(types.FunctionType(f.__code__, env, f.__name__, f.__defaults__))


def jax_x64():
    """jax, set to float64 (every workload computes in float64)."""
    import jax
    jax.config.update("jax_enable_x64", True)
    return jax


def load(name):
    """The workload module called `name`."""
    import importlib
    if name not in NAMES:
        raise ValueError(f"no workload {name!r}; there are: {', '.join(NAMES)}")
    return importlib.import_module(f"{__name__}.{name}")
