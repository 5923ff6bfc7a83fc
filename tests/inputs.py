"""Makers of test inputs: each takes a `numpy.random.Generator` and returns an argument,
so that a test can draw its arguments afresh for each seed."""

import numpy as np


def normal(*shape):
    """Standard normal values of `shape` (a float for no shape)."""
    return lambda rng: rng.normal(size=shape) if shape else float(rng.normal())


def uniform(low, high, *shape):
    """Values uniform in [low, high) of `shape` (a float for no shape)."""
    return lambda rng: rng.uniform(low, high, shape) if shape else float(rng.uniform(low, high))


def well_conditioned(n):
    """An n x n matrix far from singular: normal values plus 3 on the diagonal."""
    return lambda rng: rng.normal(size=(n, n)) + 3.0 * np.eye(n)


def const(value):
    """`value` itself, whatever the seed (an index array, a count)."""
    return lambda rng: value
