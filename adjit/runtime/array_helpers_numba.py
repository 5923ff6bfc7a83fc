"""Numba implementations of the helpers in `array_helpers`, chosen by type at compile time.

Importing this module registers an `overload` for each helper.
"""

import numpy as np
from numba import types
from numba.extending import overload

from . import array_helpers


@overload(array_helpers.reshape_to)
def _reshape_to(x, shape, *more):
    if not isinstance(x, types.Array):
        return None
    # Numba reshapes C-contiguous arrays only; `ascontiguousarray` returns a
    # C array unchanged and copies any other layout (a transpose, a slice).
    if not more:
        if isinstance(shape, types.Integer) or (
                isinstance(shape, types.BaseTuple)
                and all(isinstance(t, types.Integer) for t in shape)):
            return lambda x, shape, *more: np.ascontiguousarray(x).reshape(shape)
        return None
    if isinstance(shape, types.Integer) and all(isinstance(t, types.Integer) for t in more):
        return lambda x, shape, *more: np.ascontiguousarray(x).reshape((shape,) + more)
    return None
