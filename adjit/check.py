"""`check_grad`: adjit's gradient against central finite differences.

When a gradient looks wrong, `adjit.check_grad(f, *args, wrt=...)` is the
first thing to run: it differentiates `f` with adjit, estimates the same
gradient by central differences of `f` itself (plain Python, no adjit
involved), and raises `AssertionError` naming the worst element (argument,
index, analytic and numeric values) when they disagree.
"""

import numpy as np

from . import api

# Default relative tolerances by precision: float32 differences are noisy.
_RTOL = {np.dtype(np.float64): 1e-5, np.dtype(np.float32): 2e-2, np.dtype(np.float16): 1e-1}


def _dtype(value):
    return np.asarray(value).dtype if np.asarray(value).dtype.kind == "f" else np.dtype(np.float64)


def _step(value, dtype, eps):
    """The central-difference step for an element of value `value`: the cube root of the
    precision's machine epsilon (balancing truncation against rounding), relative to
    the element's size."""
    base = np.finfo(dtype).eps ** (1.0 / 3.0) if eps is None else eps
    return base * max(1.0, abs(float(value)))


def _total(f, args):
    out = f(*args)
    return float(np.sum(out))


def numeric_gradient(f, args, position, eps=None):
    """Central differences of `sum(f(*args))` with respect to `args[position]`."""
    x = args[position]
    dtype = _dtype(x)
    if np.ndim(x) == 0:
        h = _step(x, dtype, eps)
        plus, minus = list(args), list(args)
        plus[position] = type(x)(x + h) if isinstance(x, np.floating) else x + h
        minus[position] = type(x)(x - h) if isinstance(x, np.floating) else x - h
        # The step as the precision represents it.
        return (_total(f, plus) - _total(f, minus)) / (float(plus[position]) - float(minus[position]))
    x = np.asarray(x)
    grad = np.zeros(x.shape, dtype=np.float64)
    for index in np.ndindex(x.shape):
        h = _step(x[index], dtype, eps)
        shifted, points = [], []
        for sign in (1, -1):
            moved = x.copy()
            moved[index] = x[index] + sign * h
            call = list(args)
            call[position] = moved
            shifted.append(_total(f, call))
            points.append(float(moved[index]))
        grad[index] = (shifted[0] - shifted[1]) / (points[0] - points[1])
    return grad


def check_grad(f, *args, wrt=0, eps=None, rtol=None, jit=None):
    """Compare adjit's gradient of `f` at `args` with central finite differences.

    `eps` is the finite-difference step relative to each element's size (by
    default the cube root of its precision's machine epsilon, about 6e-6 for
    float64 and 5e-3 for float32); `rtol` the relative tolerance (1e-5 for
    float64, 2e-2 for float32), applied to the larger of the element's size and
    the gradient's largest element (so tiny elements are compared absolutely).
    Raises `AssertionError` naming the worst element when they disagree;
    returns the largest absolute difference.
    """
    df = api.grad(f, wrt=wrt, jit=jit)
    analytic = df(*args)
    names = df.wrt
    single = not isinstance(wrt, (tuple, list))
    grads = (analytic,) if single else tuple(analytic)
    positions = [list(df._params).index(n) for n in names]
    worst = (0.0, None)
    largest = 0.0
    for name, position, grad in zip(names, positions, grads):
        numeric = np.asarray(numeric_gradient(f, list(args), position, eps), dtype=np.float64)
        grad = np.asarray(grad, dtype=np.float64)
        tolerance = (rtol if rtol is not None else _RTOL.get(_dtype(args[position]), 1e-5))
        scale = max(1.0, float(np.max(np.abs(numeric))) if numeric.size else 1.0)
        difference = np.abs(grad - numeric)
        if not np.all(np.isfinite(grad)):
            difference = np.where(np.isfinite(grad), difference, np.inf)
        if difference.size:
            largest = max(largest, float(np.max(difference)))
        allowed = tolerance * np.maximum(np.abs(numeric), 1e-3 * scale)
        excess = np.where(difference > allowed, difference / allowed, 0.0)
        if excess.size and float(np.max(excess)) > worst[0]:
            index = np.unravel_index(int(np.argmax(excess)), excess.shape) if excess.ndim else ()
            worst = (float(np.max(excess)), (name, index, float(grad[index]), float(numeric[index]),
                                             float(difference[index])))
    if worst[1] is not None:
        name, index, a, n, d = worst[1]
        where = f"{name}[{', '.join(map(str, index))}]" if index else name
        raise AssertionError(
            f"adjit's gradient of {getattr(f, '__name__', f)} disagrees with central finite "
            f"differences at {where}: analytic {a!r}, numeric {n!r} (difference {d:.3g}, "
            f"largest difference {largest:.3g})")
    return largest
