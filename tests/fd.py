"""Central finite differences, written independently of adjit, for checking gradients."""

import numpy as np


def numeric_gradient(f, args, index, step=1e-6):
    """d sum(f(*args)) / d args[index] by central differences (step relative to the value)."""
    args = list(args)
    x = args[index]

    def value(v):
        args[index] = v
        return float(np.sum(f(*args)))

    if isinstance(x, np.ndarray):
        grad = np.zeros(x.shape)
        for idx in np.ndindex(x.shape):
            h = step * max(1.0, abs(float(x[idx])))
            plus, minus = x.copy(), x.copy()
            plus[idx] += h
            minus[idx] -= h
            grad[idx] = (value(plus) - value(minus)) / (2 * h)
        args[index] = x
        return grad
    h = step * max(1.0, abs(x))
    result = (value(x + h) - value(x - h)) / (2 * h)
    args[index] = x
    return result


def assert_close(actual, expected, rtol=1e-5, atol=1e-6, context=""):
    actual = np.asarray(actual, dtype=float)
    expected = np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape, f"shape {actual.shape} != {expected.shape} {context}"
    scale = max(1.0, float(np.max(np.abs(expected))) if expected.size else 1.0)
    error = float(np.max(np.abs(actual - expected))) if expected.size else 0.0
    assert error <= atol + rtol * scale, (
        f"gradient differs from finite differences by {error:.3g} (scale {scale:.3g}) {context}\n"
        f"adjit:   {actual}\nnumeric: {expected}")
