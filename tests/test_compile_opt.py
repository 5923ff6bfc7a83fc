"""How generated gradients are compiled (`runtime.compile`): at ADJOINT_OPT rather than
Numba's -O3, and with arrays allocated by `helpers_numba._allocate`.

The optimisation level must not change a single result: each gradient compiled by adjit
is compared with the same generated code compiled by plain Numba (-O3), with LLVM's
function passes at -O2 on every function and on none, and with central finite
differences."""

import numba
import numpy as np
import pytest

import adjit
from adjit.runtime import compile as compiling
from adjit.runtime import helpers
from adjit.runtime.helpers_numba import _empty, _zeros
from fd import assert_close, numeric_gradient


def layer(W, b, X):
    """Array expressions with broadcasting, a product and reductions: a big adjoint."""
    h = np.tanh(X @ W + b)
    z = np.exp(-h * h) * h + 1.0 / (1.0 + np.exp(-h))
    return np.sum(z * z) + np.sum(np.log(1.0 + h * h)) / X.shape[0]


def stencil(u0, kappa, steps):
    """Loops of scalar updates: a small adjoint."""
    u = u0.copy()
    for t in range(steps):
        old = u.copy()
        for i in range(1, u.shape[0] - 1):
            u[i] = old[i] + kappa * (old[i - 1] - 2.0 * old[i] + old[i + 1])
    return np.sum(u * u) + kappa * u[0]


def _layer_inputs(seed):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=(5, 4))]


def _stencil_inputs(seed):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=7), 0.1 + 0.2 * rng.random(), 4]


CASES = {"layer": (layer, (0, 1, 2), _layer_inputs),
         "stencil": (stencil, (0, 1), _stencil_inputs)}
GRADS = {name: adjit.grad(f, wrt=wrt) for name, (f, wrt, _) in CASES.items()}
PYTHON_GRADS = {name: adjit.grad(f, wrt=wrt, jit=False) for name, (f, wrt, _) in CASES.items()}


@pytest.fixture(scope="module")
def variants():
    """name -> {label: a dispatcher of the generated gradient} for plain Numba (-O3),
    adjit with every function's passes at -O2 ("all big"), and adjit with only the
    module passes at -O2 ("none big")."""
    out = {}
    saved = compiling._BIG_FUNCTION
    try:
        for name, (f, wrt, inputs) in CASES.items():
            args = inputs(0)
            python = GRADS[name]._specialised(args, False)._python
            found = {"numba -O3": numba.njit(python)}
            for label, threshold in (("all big", 1), ("none big", 10 ** 9)):
                compiling._BIG_FUNCTION = threshold
                found[label] = numba.njit(pipeline_class=compiling._AdjointCompiler)(python)
                found[label](*args)                 # compiled now, at this threshold
            out[name] = found
    finally:
        compiling._BIG_FUNCTION = saved
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_results_as_numba_at_o3(variants, name):
    inputs = CASES[name][2]
    for seed in range(3):
        args = inputs(seed)
        expected = variants[name]["numba -O3"](*args)[1]
        for label in ("all big", "none big"):
            got = variants[name][label](*args)[1]
            for g, e in zip(got, expected):
                assert_close(g, e, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradients_match_finite_differences(name):
    f, wrt, inputs = CASES[name]
    for seed in range(3):
        args = inputs(seed)
        for df in (GRADS[name], PYTHON_GRADS[name]):
            got = df(*args)
            for k, g in zip(wrt, got):
                assert_close(g, numeric_gradient(f, args, k), rtol=1e-5, atol=1e-7)


def test_generated_code_gets_the_adjoint_library_and_user_code_does_not():
    args = _layer_inputs(0)
    GRADS["layer"](*args)
    compiled = GRADS["layer"]._specialised(args, False)._compiled
    libraries = [cres.library for cres in compiled.overloads.values()]
    assert libraries and all(isinstance(lib, compiling._AdjointLibrary) for lib in libraries)

    user = adjit.jit(stencil)
    assert_close(user(*_stencil_inputs(1)), stencil(*_stencil_inputs(1)), rtol=1e-12)
    libraries = [cres.library for cres in user._compiled.overloads.values()]
    assert libraries and not any(isinstance(lib, compiling._AdjointLibrary) for lib in libraries)


def test_a_lower_numba_opt_level_applies(monkeypatch):
    assert compiling._level(2) == min(2, int(numba.core.config.OPT))
    monkeypatch.setattr(numba.core.config, "OPT", 0)
    assert compiling._level(2) == 0


def test_register_jitable_leaves_python_callable():
    def cube(x):
        return x * x * x
    assert compiling.register_jitable(cube) is cube and cube(2.0) == 8.0


# ---- arrays allocated by `_allocate` (through `_empty`, `_zeros`, `stack_like`, ...)

@numba.njit
def _allocations(n, x):
    return (_zeros((n, 3, 2), np.float64), _empty(n, np.int32), _zeros((), np.float64),
            helpers.stack_like(1.0, n), helpers.zeros_like(x), helpers.unbroadcast(2.5, x),
            _zeros((n, 0), np.bool_))


@pytest.mark.parametrize("n", [0, 1, 5])
def test_allocated_arrays_are_numpys(n):
    x = np.ones((3, 4, 5))[:, ::2, 1:]
    zeros3, ints, scalar, stack, zeros_x, spread, empty2 = _allocations(n, x)
    expected = [np.zeros((n, 3, 2)), np.empty(n, np.int32), np.zeros(()), np.empty(n),
                np.zeros(x.shape), np.full(x.shape, 2.5), np.zeros((n, 0), np.bool_)]
    for got, want in zip((zeros3, ints, scalar, stack, zeros_x, spread, empty2), expected):
        assert got.shape == want.shape and got.dtype == want.dtype
        assert got.flags.c_contiguous
        if want.size:                       # (NumPy 2 gives empty arrays zero strides)
            assert got.strides == want.strides
    for got, want in zip((zeros3, scalar, zeros_x, spread), (expected[0], expected[2],
                                                              expected[4], expected[5])):
        assert np.array_equal(got, want)


def test_allocation_errors():
    with pytest.raises(ValueError, match="negative dimensions"):
        _allocations(-1, np.ones(2))
    with pytest.raises(ValueError, match="array is too big"):
        _allocations(2 ** 62, np.ones(2))


# ---- dot_grad_left / dot_grad_right of matrices, written into the calling function

@numba.njit
def _dot_grads(g, x, y):
    return helpers.dot_grad_left(g, x, y), helpers.dot_grad_right(g, x, y)


def _layouts(a):
    """`a` as a C array, an F array, a transposed view and a strided view (same values)."""
    wide = np.zeros((a.shape[0], 2 * a.shape[1]), a.dtype)
    wide[:, ::2] = a
    return [a, np.asfortranarray(a), np.ascontiguousarray(a.T).T, wide[:, ::2]]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("m, k, n", [(3, 4, 5), (1, 4, 1), (0, 3, 2), (3, 0, 2)])
def test_dot_grads_are_numpys_products(m, k, n, dtype):
    rng = np.random.default_rng(m * 100 + k * 10 + n)
    g = rng.normal(size=(m, n)).astype(dtype)
    cases = [(g, x, y) for x in _layouts(rng.normal(size=(m, k)).astype(dtype))
             for y in _layouts(rng.normal(size=(k, n)).astype(dtype))[:2]]
    cases.append((np.asfortranarray(g), cases[0][1], cases[0][2]))
    for g, x, y in cases:
        left, right = _dot_grads(g, x, y)
        assert left.dtype == dtype and right.dtype == dtype
        assert np.array_equal(left, np.dot(g, y.T)) and left.shape == (m, k)
        assert np.array_equal(right, np.dot(x.T, g)) and right.shape == (k, n)
