"""Helpers for the rules of array methods, called by generated code.

Like `helpers`, each is one plain Python/NumPy function here (for
`jit=False` and the tape) with a Numba `overload` chosen by type at compile
time in `array_helpers_numba`.
"""

import numpy as np


def reshape_to(x, shape, *more):
    """`x.reshape(shape, *more)`: `shape` is an int, a tuple of ints, or the first of
    several ints (`x.reshape(3, 2)`); -1 stands for the remaining length. The
    result is C-ordered whatever `x`'s memory layout (a transposed array, say)."""
    return np.reshape(x, (shape,) + more if more else shape)


HELPERS = ("reshape_to",)
