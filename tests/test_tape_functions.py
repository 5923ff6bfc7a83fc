"""NumPy functions on the tape, through the registry's rules, against central finite
differences: elementwise functions, broadcasting binaries, reductions with axes,
array products, shapes, selections, joins and linear algebra, each on two inputs."""

import numpy as np
import pytest

from adjit import GradientTape, constant
from fd import assert_close, numeric_gradient


def positive(shape, rng):
    return rng.uniform(0.5, 2.0, size=shape)


def unit(shape, rng):
    return rng.uniform(-0.8, 0.8, size=shape)


def normal(shape, rng):
    return rng.normal(size=shape)


def above_one(shape, rng):
    return rng.uniform(1.2, 3.0, size=shape)


def spd(shape, rng):
    a = rng.normal(size=shape)
    return a @ a.T + shape[0] * np.eye(shape[0])


# name -> (function of arrays, [(shape, sampler) per argument])
UNARY = {
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "exp": np.exp, "expm1": np.expm1,
    "tanh": np.tanh, "arctan": np.arctan, "sinh": np.sinh, "cosh": np.cosh, "exp2": np.exp2,
    "cbrt": np.cbrt, "square": np.square, "arcsinh": np.arcsinh, "deg2rad": np.deg2rad,
    "rad2deg": np.rad2deg, "abs": np.abs, "fabs": np.fabs, "negative": np.negative,
    "positive": np.positive,
}
UNARY_POSITIVE = {"log": np.log, "log1p": np.log1p, "sqrt": np.sqrt, "log2": np.log2,
                  "log10": np.log10, "reciprocal": np.reciprocal}
UNARY_UNIT = {"arcsin": np.arcsin, "arccos": np.arccos, "arctanh": np.arctanh}

CASES = {}
for name, func in UNARY.items():
    CASES[name] = (func, [((2, 3), normal)])
for name, func in UNARY_POSITIVE.items():
    CASES[name] = (func, [((2, 3), positive)])
for name, func in UNARY_UNIT.items():
    CASES[name] = (func, [((4,), unit)])
CASES["arccosh"] = (np.arccosh, [((3,), above_one)])

BINARY = {"add": np.add, "subtract": np.subtract, "multiply": np.multiply,
          "divide": np.divide, "maximum": np.maximum, "minimum": np.minimum,
          "hypot": np.hypot, "arctan2": np.arctan2, "logaddexp": np.logaddexp,
          "logaddexp2": np.logaddexp2, "fmax": np.fmax, "fmin": np.fmin}
for name, func in BINARY.items():
    CASES[name] = (func, [((3, 4), normal), ((4,), normal)])
    CASES[name + "-column"] = (func, [((3, 1), normal), ((3, 4), normal)])
CASES["power"] = (np.power, [((3, 4), positive), ((3, 1), normal)])
CASES["float_power"] = (np.float_power, [((2, 2), positive), ((2,), normal)])
CASES["mod"] = (np.mod, [((3,), positive), ((3,), above_one)])
CASES["fmod"] = (np.fmod, [((3,), positive), ((3,), above_one)])
CASES["pow-operator"] = (lambda x, y: x ** y, [((3,), positive), ((), normal)])

for axis in (None, 0, 1, -1, (0, 1)):
    for keep in (False, True):
        tag = f"axis={axis}-keep={keep}"
        CASES[f"sum-{tag}"] = (lambda x, a=axis, k=keep: np.sum(x, axis=a, keepdims=k),
                               [((3, 4), normal)])
        CASES[f"mean-{tag}"] = (lambda x, a=axis, k=keep: np.mean(x, axis=a, keepdims=k),
                                [((3, 4), normal)])
        CASES[f"prod-{tag}"] = (lambda x, a=axis, k=keep: np.prod(x, axis=a, keepdims=k),
                                [((2, 3), normal)])
        CASES[f"max-{tag}"] = (lambda x, a=axis, k=keep: np.max(x, axis=a, keepdims=k),
                               [((3, 4), normal)])
        CASES[f"min-{tag}"] = (lambda x, a=axis, k=keep: np.min(x, axis=a, keepdims=k),
                               [((3, 4), normal)])
        CASES[f"std-{tag}"] = (lambda x, a=axis, k=keep: np.std(x, axis=a, keepdims=k),
                               [((3, 4), normal)])
        CASES[f"var-{tag}"] = (lambda x, a=axis, k=keep: np.var(x, axis=a, keepdims=k),
                               [((3, 4), normal)])
CASES["sum-whole"] = (np.sum, [((3, 4), normal)])
CASES["mean-whole"] = (np.mean, [((3, 4), normal)])
CASES["max-whole"] = (np.max, [((5,), normal)])
CASES["amin-whole"] = (np.amin, [((5,), normal)])
CASES["prod-whole"] = (np.prod, [((4,), normal)])
CASES["cumsum"] = (np.cumsum, [((3, 2), normal)])
CASES["cumsum-axis"] = (lambda x: np.cumsum(x, axis=1), [((3, 2), normal)])
CASES["cumprod"] = (np.cumprod, [((4,), normal)])
CASES["cumprod-axis"] = (lambda x: np.cumprod(x, axis=0), [((3, 2), normal)])
CASES["norm"] = (np.linalg.norm, [((3, 2), normal)])
CASES["norm-axis"] = (lambda x: np.linalg.norm(x, axis=1), [((3, 2), normal)])

CASES["dot"] = (np.dot, [((3, 4), normal), ((4, 2), normal)])
CASES["dot-vector"] = (np.dot, [((4,), normal), ((4,), normal)])
CASES["matmul-operator"] = (lambda a, b: a @ b, [((3, 4), normal), ((4,), normal)])
CASES["matmul-vector-matrix"] = (lambda a, b: a @ b, [((4,), normal), ((4, 2), normal)])
CASES["matmul"] = (np.matmul, [((2, 3), normal), ((3, 3), normal)])
CASES["matmul-batched"] = (np.matmul, [((2, 2, 3), normal), ((2, 3, 2), normal)])
CASES["outer"] = (np.outer, [((3,), normal), ((2,), normal)])
CASES["inner"] = (np.inner, [((2, 3), normal), ((4, 3), normal)])
CASES["vdot"] = (np.vdot, [((2, 2), normal), ((2, 2), normal)])
CASES["tensordot"] = (lambda a, b: np.tensordot(a, b, 1), [((2, 3), normal), ((3, 2), normal)])
CASES["einsum"] = (lambda a, b: np.einsum("ij,jk->ik", a, b), [((2, 3), normal),
                                                               ((3, 2), normal)])
CASES["trace"] = (np.trace, [((3, 3), normal)])
CASES["diag"] = (np.diag, [((3,), normal)])
CASES["diag-of-matrix"] = (np.diag, [((3, 3), normal)])
CASES["diagonal"] = (lambda x: np.diagonal(x, 1), [((3, 4), normal)])
CASES["triu"] = (np.triu, [((3, 3), normal)])
CASES["tril"] = (lambda x: np.tril(x, -1), [((3, 3), normal)])

CASES["ravel"] = (lambda x: np.ravel(x) * np.arange(6.0), [((2, 3), normal)])
CASES["reshape"] = (lambda x: np.reshape(x, (3, 2)) * np.arange(6.0).reshape(3, 2),
                    [((2, 3), normal)])
CASES["transpose"] = (lambda x: np.transpose(x) * np.arange(6.0).reshape(3, 2),
                      [((2, 3), normal)])
CASES["transpose-axes"] = (lambda x: np.transpose(x, (1, 2, 0)) * np.arange(24.0).reshape(3, 4, 2),
                           [((2, 3, 4), normal)])
CASES["swapaxes"] = (lambda x: np.swapaxes(x, 0, 1) * np.arange(6.0).reshape(3, 2),
                     [((2, 3), normal)])
CASES["moveaxis"] = (lambda x: np.moveaxis(x, 0, -1) * np.arange(24.0).reshape(3, 4, 2),
                     [((2, 3, 4), normal)])
CASES["expand_dims"] = (lambda x: np.expand_dims(x, 1) * np.arange(3.0).reshape(3, 1, 1),
                        [((3, 2), normal)])
CASES["squeeze"] = (lambda x: np.squeeze(x, 1) * np.arange(3.0), [((3, 1), normal)])
CASES["broadcast_to"] = (lambda x: np.broadcast_to(x, (2, 3)) * np.arange(6.0).reshape(2, 3),
                         [((3,), normal)])
CASES["tile"] = (lambda x: np.tile(x, 2) * np.arange(6.0), [((3,), normal)])
CASES["repeat"] = (lambda x: np.repeat(x, 2) * np.arange(6.0), [((3,), normal)])
CASES["repeat-axis"] = (lambda x: np.repeat(x, 2, axis=0) * np.arange(8.0).reshape(4, 2),
                        [((2, 2), normal)])
CASES["flip"] = (lambda x: np.flip(x) * np.arange(4.0), [((4,), normal)])
CASES["flip-axis"] = (lambda x: np.flip(x, 1) * np.arange(6.0).reshape(2, 3), [((2, 3), normal)])
CASES["roll"] = (lambda x: np.roll(x, 1) * np.arange(4.0), [((4,), normal)])
CASES["rot90"] = (lambda x: np.rot90(x) * np.arange(6.0).reshape(3, 2), [((2, 3), normal)])
CASES["take"] = (lambda x: np.take(x, [0, 2, 2]) * np.arange(3.0), [((4,), normal)])
CASES["take-axis"] = (lambda x: np.take(x, [1, 1], axis=1) * np.arange(4.0).reshape(2, 2),
                      [((2, 3), normal)])
CASES["take_along_axis"] = (lambda x: np.take_along_axis(x, np.array([[1], [0]]), axis=1),
                            [((2, 3), normal)])
CASES["sort"] = (lambda x: np.sort(x) * np.arange(4.0), [((4,), normal)])
CASES["where"] = (lambda x, y: np.where(x > 0, x * y, y * y), [((3, 2), normal), ((2,), normal)])
CASES["clip"] = (lambda x: np.clip(x, -0.5, 0.5), [((6,), normal)])
CASES["concatenate"] = (lambda a, b: np.concatenate([a, b * b], axis=1) * np.arange(10.0)
                        .reshape(2, 5), [((2, 3), normal), ((2, 2), normal)])
CASES["stack"] = (lambda a, b: np.stack([a, a * b]) * np.arange(6.0).reshape(2, 3),
                  [((3,), normal), ((3,), normal)])
CASES["vstack"] = (lambda a, b: np.vstack([a, b]) * np.arange(6.0).reshape(2, 3),
                   [((3,), normal), ((3,), normal)])
CASES["hstack"] = (lambda a, b: np.hstack([a, b]) * np.arange(5.0), [((3,), normal),
                                                                     ((2,), normal)])

CASES["inv"] = (np.linalg.inv, [((3, 3), spd)])
CASES["solve"] = (np.linalg.solve, [((3, 3), spd), ((3,), normal)])
CASES["det"] = (np.linalg.det, [((3, 3), normal)])
CASES["cholesky"] = (lambda a: np.linalg.cholesky(0.5 * (a + a.T)), [((3, 3), spd)])
CASES["eigvalsh"] = (lambda a: np.linalg.eigvalsh(0.5 * (a + a.T)) * np.arange(1.0, 4.0),
                     [((3, 3), spd)])
CASES["slogdet"] = (lambda a: np.linalg.slogdet(a)[1], [((3, 3), spd)])


@pytest.mark.parametrize("name", sorted(CASES))
def test_function_on_the_tape(name):
    func, specs = CASES[name]
    rng = np.random.default_rng(sum(map(ord, name)))
    for _ in range(2):
        values = [sampler(shape, rng) for shape, sampler in specs]

        def f(*xs):
            return np.sum(np.sin(func(*xs)) + func(*xs) ** 2)

        tensors = [constant(v) for v in values]
        with GradientTape() as tape:
            tape.watch(tensors)
            y = f(*tensors)
        assert_close(float(y), f(*values), rtol=1e-10, context=name)
        grads = tape.gradient(y, tensors)
        for k, (grad, v) in enumerate(zip(grads, values)):
            assert grad.shape == v.shape, name
            assert_close(grad.numpy(), numeric_gradient(f, values, k), rtol=1e-5, atol=1e-6,
                         context=f"{name} argument {k}")
