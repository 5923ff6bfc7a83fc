"""Gradient rules the tape needed that the registry lacked.

Part of the one registry (imported at the end of `rules_arrays`), serving the
compiler too. `np.bincount(x, weights)` sums `weights` into the bins `x`
names: it is the scatter-add that the gradients of selections are written
with (`take_grad`, `tile_grad`, `repeat_grad`, `diagonal_grad`,
`sort_grad`), so with its rule (a gather: `np.take`) nested tapes can
differentiate a selection's gradient again, to any order. The activations of
`adjit.tf.nn` (`relu`, `sigmoid`, `softplus`, `softmax`) are written with
registered functions and need no rule of their own.
"""

import numpy as np

from .rules import defjvp, defrule


# `x` non-negative integers (no gradient); the gradient of a weight is that of its bin.
@defrule((np.bincount, "np.bincount"), shape="unknown")
def bincount(g, ans, x, weights=None, minlength=0):
    return None, np.take(g, x), None


defjvp(bincount, linear=("weights",))
