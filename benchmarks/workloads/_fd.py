"""Central finite differences of a workload's plain function, and the
comparison every system's gradient must pass (in the suite and the tests)."""
import inspect

import numpy as np


def wrt_positions(w):
    params = list(inspect.signature(w.f).parameters)
    return [params.index(name) for name in w.WRT]


def finite_differences(f, args, positions, h=1e-6):
    """d f / d args[p] for each p in positions, by central differences with a
    step of h relative to each element (at least h)."""
    grads = []
    for p in positions:
        v = args[p]

        def at(value):
            return f(*args[:p], value, *args[p + 1:])
        if isinstance(v, np.ndarray):
            g = np.empty_like(v)
            for k in np.ndindex(v.shape):
                step = h * max(1.0, abs(v[k]))
                up, down = v.copy(), v.copy()
                up[k] += step
                down[k] -= step
                g[k] = (at(up) - at(down)) / (2.0 * step)
            grads.append(g)
        else:
            step = h * max(1.0, abs(v))
            grads.append((at(v + step) - at(v - step)) / (2.0 * step))
    return grads


def disagreement(got, want):
    """The worst relative error over the differentiated arguments, each as
    max |got - want| / max |want|; got must have want's structure and shapes."""
    if len(got) != len(want):
        return np.inf
    worst = 0.0
    for g, r in zip(got, want):
        g, r = np.asarray(g, dtype=float), np.asarray(r, dtype=float)
        if g.shape != r.shape or not np.all(np.isfinite(g)):
            return np.inf
        scale = max(np.max(np.abs(r)), 1e-300)
        worst = max(worst, float(np.max(np.abs(g - r))) / scale)
    return worst


def as_tuple(grads):
    return grads if isinstance(grads, tuple) else (grads,)
