"""The array types the plain-Python helpers treat as arrays: NumPy's, and the tape's Tensor.

Helpers tell numbers from arrays with `isinstance(x, ARRAYS)`. The tape's
`Tensor` derives from `ArrayLike`, so when the tape runs a gradient rule on
tensors (to record it for a higher derivative) the helpers take their array
path, where every NumPy call on a tensor is recorded. Numba never sees these
checks: compiled code uses the overloads in the `*_numba.py` modules.
"""

import numpy as np


class ArrayLike:
    """Base of array wrappers whose NumPy calls are recorded (the tape's `Tensor`)."""

    __slots__ = ()


ARRAYS = (np.ndarray, ArrayLike)
