"""Tensors and Variables as values: operators, comparisons, NumPy functions, methods,
indexing, conversions; what is recorded and what is refused."""

import numpy as np
import pytest

import adjit
from adjit import GradientTape, Tensor, Variable, constant
from fd import assert_close, numeric_gradient


def test_repr_and_str():
    assert repr(constant(1.0)) == "<Tensor: shape=(), dtype=float64, numpy=1.0>"
    assert repr(constant(np.float32(2.5))) == "<Tensor: shape=(), dtype=float32, numpy=2.5>"
    assert repr(constant(3)) == "<Tensor: shape=(), dtype=int64, numpy=3>"
    assert "shape=(2,)" in repr(constant([1.0, 2.0]))
    v = Variable(2.0, name="w")
    assert repr(v) == "<Variable 'w:0' shape=() dtype=float64, numpy=2.0>"
    assert v.name == "w:0"
    assert Variable(1.0).name == "Variable:0"
    assert f"{constant(1.23456):.2f}" == "1.23"


def test_numpy_shape_dtype():
    t = constant([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert isinstance(t.numpy(), np.ndarray)
    assert t.shape == (2, 3) and t.shape == [2, 3] and t.shape.as_list() == [2, 3]
    assert t.shape[0] == 2 and t.shape[1:] == (3,)
    assert t.dtype == np.float64 and t.ndim == 2 and len(t) == 2
    s = constant(2.5)
    assert float(s.numpy()) == 2.5 and s.numpy().shape == ()
    assert float(s) == 2.5 and int(constant(7)) == 7
    a = t.numpy()
    a[0, 0] = 100.0                       # a copy: the tensor is unchanged
    assert float(t[0, 0]) == 1.0
    assert np.asarray(t).shape == (2, 3)
    assert np.asarray(Variable([1.0, 2.0])).tolist() == [1.0, 2.0]


def test_tensors_are_immutable_and_unhashable():
    t = constant([1.0, 2.0])
    with pytest.raises(TypeError, match="item assignment"):
        t[0] = 3.0
    with pytest.raises(TypeError):
        hash(t)
    assert t.ref() == t.ref() and t.ref().deref() is t
    assert {Variable(1.0).ref(): 1}


def test_operators_match_numpy():
    a0, b0 = np.array([1.5, -2.0, 3.0]), np.array([0.5, 4.0, -1.0])
    a, b = constant(a0), constant(b0)
    pairs = [(a + b, a0 + b0), (a - b, a0 - b0), (a * b, a0 * b0), (a / b, a0 / b0),
             (a ** 2, a0 ** 2), (2.0 ** b, 2.0 ** b0), (a // b, a0 // b0), (a % b, a0 % b0),
             (-a, -a0), (+a, a0), (abs(a), abs(a0)), (1.0 - a, 1.0 - a0), (3 / a, 3 / a0),
             (a0 + b, a0 + b0), (b0 * a, b0 * a0), (a @ b, a0 @ b0)]
    for t, expected in pairs:
        assert isinstance(t, Tensor)
        assert_close(t.numpy(), expected)


def test_comparisons_give_booleans_usable_in_if():
    x = constant(2.0)
    assert (x > 1.0).dtype == np.bool_
    assert x > 1 and x >= 2 and x < 3 and x <= 2 and x == 2.0 and x != 1.0
    if x < 0:
        pytest.fail("2 < 0")
    v = Variable(-1.0)
    assert v < 0
    assert (constant([1.0, 2.0]) == constant([1.0, 3.0])).numpy().tolist() == [True, False]
    with pytest.raises(ValueError):
        bool(constant([1.0, 2.0]) > 0)
    assert (constant(1.0) == None) is False       # noqa: E711


def test_a_branch_on_a_tensor_inside_a_tape():
    def f(x):
        if x > 0:
            return x * x
        return -x * 3.0

    for x0, expected in [(2.0, 4.0), (-2.0, -3.0)]:
        x = Variable(x0)
        with GradientTape() as tape:
            y = f(x)
        assert float(tape.gradient(y, x)) == expected


def test_numpy_functions_on_tensors_return_tensors():
    t = constant([[1.0, 2.0], [3.0, 4.0]])
    assert isinstance(np.sin(t), Tensor)
    assert isinstance(np.sum(t, axis=0), Tensor)
    assert np.sum(t, axis=0).shape == (2,)
    assert np.shape(t) == (2, 2) and np.ndim(t) == 2 and np.size(t) == 4
    assert isinstance(np.argmax(t), Tensor) and int(np.argmax(t)) == 3
    assert np.allclose(t, t.numpy())
    assert isinstance(t.sum(axis=1, keepdims=True), Tensor)
    assert t.T.shape == (2, 2) and float(t.T[0, 1]) == 3.0
    assert t.reshape(4).shape == (4,) and t.reshape(1, 4).shape == (1, 4)
    assert t.reshape((4, 1)).shape == (4, 1)
    assert t.astype(np.float32).dtype == np.float32
    assert [float(r[0]) for r in t] == [1.0, 3.0]


def test_methods_are_recorded():
    x0 = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])

    def f(x):
        return (x.sum(axis=0) * x.mean(axis=1, keepdims=True)).sum() + x.max() * x.T.min() \
            + x.reshape(3, 2).prod(axis=0).sum() + x.std() + x.ravel().cumsum().sum() \
            + x.var(axis=1).sum()

    x = constant(x0)
    with GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    assert_close(tape.gradient(y, x).numpy(), numeric_gradient(f, [x0], 0))


def test_ufunc_method_calls():
    x0 = np.array([[1.0, 2.0], [3.0, 4.0]])
    x = constant(x0)
    with GradientTape(persistent=True) as tape:
        tape.watch(x)
        a = np.add.reduce(x)            # axis 0, as NumPy's ufunc.reduce
        b = np.multiply.reduce(x, axis=1)
        c = np.add.accumulate(x, axis=1)
    assert_close(a.numpy(), x0.sum(axis=0))
    assert_close(tape.gradient(a, x).numpy(), np.ones((2, 2)))
    assert_close(tape.gradient(b, x).numpy(), [[2.0, 1.0], [4.0, 3.0]])
    assert_close(tape.gradient(c, x).numpy(), [[2.0, 1.0], [2.0, 1.0]])
    with GradientTape() as tape:
        tape.watch(x)
        with pytest.raises(LookupError, match="outer"):
            np.multiply.outer(x, x)


def test_function_without_rule_on_watched_tensor_is_refused():
    x = constant([1.0, 2.0])
    with GradientTape() as tape:
        tape.watch(x)
        with pytest.raises(LookupError, match="np.median"):
            np.median(x)
        with pytest.raises(TypeError, match="immutable"):
            np.sin(x, out=np.zeros(2))
    assert float(np.median(x)) == 1.5          # unwatched: computed


def test_functions_without_gradient_give_plain_results():
    x = constant([1.7, -2.2, 0.5])
    with GradientTape() as tape:
        tape.watch(x)
        idx = np.argmax(x)
        rounded = np.round(x)
        floors = np.floor(x)
        mask = np.isfinite(x)
        zeros = np.zeros_like(x)
        y = np.sum(x * rounded) + x[idx] + np.sum(floors * x) + np.sum(zeros)
    assert mask.dtype == np.bool_
    g = tape.gradient(y, x)
    assert_close(g.numpy(), np.round(x.numpy()) + np.floor(x.numpy()) + [1.0, 0.0, 0.0])


# ---- indexing -------------------------------------------------------------------------------

INDEXES = [
    (0,), (slice(1, None),), (slice(None, None, -1),), (Ellipsis, 1), (1, slice(0, 2)),
    (np.array([0, 0, 2]),), (None, 1), (slice(None), np.array([2, 0])),
    (np.array([True, False, True]),), (-1, -2),
]


@pytest.mark.parametrize("index", INDEXES, ids=[str(i) for i in range(len(INDEXES))])
def test_indexing_is_differentiable(index):
    rng = np.random.default_rng(3)
    x0 = rng.normal(size=(3, 4))

    def f(x):
        return np.sum(np.sin(x[index]) * 2.0)

    x = constant(x0)
    with GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    assert_close(tape.gradient(y, x).numpy(), numeric_gradient(f, [x0], 0))


def test_index_with_tensors_and_iteration():
    x0 = np.array([1.0, 2.0, 3.0])
    x = Variable(x0)
    i = constant(2)
    with GradientTape() as tape:
        y = x[i] * x[0] + sum(e * e for e in x)
    assert_close(tape.gradient(y, x).numpy(), [3.0 + 2.0, 4.0, 1.0 + 6.0])
    assert list(range(5))[constant(3)] == 3          # __index__


def test_variable_behaves_like_its_value():
    v = Variable(np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert v.shape == (2, 2) and v.dtype == np.float64 and len(v) == 2
    assert float(v[1, 0]) == 3.0
    assert float(v.sum()) == 10.0 and v.T.shape == (2, 2)
    assert float(np.sum(v)) == 10.0
    assert isinstance(v + 1.0, Tensor) and isinstance(1.0 - v, Tensor)
    assert isinstance(v.read_value(), Tensor) and isinstance(v.value(), Tensor)
    assert float(Variable(2.5)) == 2.5 and int(Variable(3)) == 3
    w = Variable(lambda: np.ones(2))
    assert w.numpy().tolist() == [1.0, 1.0]
    w2 = v
    w2 += 1.0                              # rebinds w2 to a Tensor, as in TensorFlow 2
    assert isinstance(w2, Tensor) and float(v[0, 0]) == 1.0


def test_convert_to_tensor_stacks_lists_of_tensors():
    x = Variable(2.0)
    with GradientTape() as tape:
        stacked = adjit.convert_to_tensor([x, x * x, 1.0])
        y = np.sum(stacked * np.array([1.0, 2.0, 3.0]))
    assert stacked.shape == (3,)
    assert float(tape.gradient(y, x)) == 1.0 + 2.0 * 4.0


def test_constant_with_shape_and_dtype():
    assert constant(0.5, shape=(2, 3)).numpy().tolist() == [[0.5] * 3] * 2
    assert constant([1, 2, 3, 4], shape=[2, 2]).shape == (2, 2)
    assert constant([1, 2], dtype=np.float32).dtype == np.float32


def test_batched_matmul():
    rng = np.random.default_rng(5)
    a0, b0 = rng.normal(size=(2, 3, 4)), rng.normal(size=(4, 5))

    def f(a, b):
        return np.sum(np.tanh(a @ b))

    a, b = constant(a0), constant(b0)
    with GradientTape() as tape:
        tape.watch([a, b])
        y = f(a, b)
    assert_close(float(y), f(a0, b0))
    ga, gb = tape.gradient(y, [a, b])
    assert_close(ga.numpy(), numeric_gradient(f, [a0, b0], 0))
    assert_close(gb.numpy(), numeric_gradient(f, [a0, b0], 1))
