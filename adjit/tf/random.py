"""`tf.random`: random tensors (float64 by default), seeded by `set_seed` and `seed=`."""

import numpy as np

from ..runtime.tensor import new_tensor
from ._convert import constant_of, dtype_or
from ._convert import shape as _shape

_state = {"seed": None, "generator": np.random.default_rng()}


def set_seed(seed):
    """Make the random functions repeatable from here on."""
    _state["seed"] = seed
    _state["generator"] = np.random.default_rng(seed)


def _generator(seed=None):
    if seed is None:
        return _state["generator"]
    return np.random.default_rng([_state["seed"] or 0, int(seed)])


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None, name=None):
    values = _generator(seed).normal(constant_of(mean), constant_of(stddev), _shape(shape))
    return new_tensor(values.astype(dtype_or(dtype, np.float64)))


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None, name=None):
    """Normal values, redrawn where they fall more than two standard deviations out."""
    generator = _generator(seed)
    values = generator.standard_normal(_shape(shape))
    out = np.abs(values) > 2
    while out.any():
        values[out] = generator.standard_normal(int(out.sum()))
        out = np.abs(values) > 2
    values = values * constant_of(stddev) + constant_of(mean)
    return new_tensor(values.astype(dtype_or(dtype, np.float64)))


def uniform(shape, minval=0, maxval=None, dtype=None, seed=None, name=None):
    dtype = dtype_or(dtype, np.float64)
    generator = _generator(seed)
    if dtype.kind in "iu":
        if maxval is None:
            raise ValueError("uniform: an integer dtype needs maxval")
        values = generator.integers(constant_of(minval), constant_of(maxval), _shape(shape))
    else:
        maxval = 1.0 if maxval is None else constant_of(maxval)
        values = generator.uniform(constant_of(minval), maxval, _shape(shape))
    return new_tensor(values.astype(dtype))


def shuffle(value, seed=None, name=None):
    values = np.array(constant_of(value))
    _generator(seed).shuffle(values)
    return new_tensor(values)
