"""`import adjit.tf as tf`: TensorFlow 2's names and semantics (values and gradients from
exact formulas or central finite differences), and small TF-2 programs run unchanged."""

import warnings

import numpy as np
import pytest

import adjit.tf as tf
from fd import assert_close, numeric_gradient

SPEC_NAMES = ["GradientTape", "Variable", "constant", "matmul", "reduce_sum", "reduce_mean",
              "square", "sqrt", "exp", "log", "sin", "cos", "tanh", "sigmoid", "reshape",
              "transpose", "UnconnectedGradients"]
MATH_NAMES = ["log", "exp", "sqrt", "square", "sin", "cos", "tanh", "sigmoid", "reduce_sum",
              "reduce_mean", "reduce_max", "reduce_min", "reduce_prod", "abs", "pow", "add",
              "multiply", "subtract", "divide", "log1p", "softplus", "maximum", "minimum"]


def test_spec_names_exist():
    for name in SPEC_NAMES:
        assert hasattr(tf, name), name
    for name in MATH_NAMES:
        assert callable(getattr(tf.math, name)), name
    for name in ["relu", "softmax", "sigmoid", "tanh", "log_softmax", "softplus"]:
        assert callable(getattr(tf.nn, name)), name
    assert tf.keras.optimizers.SGD and tf.keras.optimizers.Adam
    assert tf.UnconnectedGradients.ZERO.value == "zero"


def test_dtypes_compare_with_numpy():
    assert tf.float32 == np.float32 and tf.float64 == np.float64 and tf.int32 == np.int32
    assert tf.constant(1.0, dtype=tf.float32).dtype == tf.float32
    assert tf.constant(1.0).dtype == tf.float64
    assert tf.cast(tf.constant([1.7, -2.5]), tf.int32).numpy().tolist() == [1, -2]


def grad_of(f, *values):
    """tape gradient of f at `values` (each watched), as ndarrays."""
    tensors = [tf.constant(v) for v in values]
    with tf.GradientTape() as tape:
        tape.watch(tensors)
        y = f(*tensors)
    return [g.numpy() for g in tape.gradient(y, tensors)]


def check(f, *values, numpy_f=None):
    """f's tape gradient against finite differences of the same f run on tensors."""
    def plain(*xs):
        return np.sum(np.asarray(f(*[tf.constant(x) for x in xs])))
    for k, g in enumerate(grad_of(f, *values)):
        assert_close(g, numeric_gradient(plain, list(values), k))


X = np.array([[0.5, -1.2, 2.0], [1.5, 0.3, -0.7]])


@pytest.mark.parametrize("axis", [None, 0, 1, -1, [0, 1]])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("name", ["reduce_sum", "reduce_mean", "reduce_max", "reduce_min",
                                  "reduce_prod", "reduce_std", "reduce_variance",
                                  "reduce_logsumexp", "reduce_euclidean_norm"])
def test_reductions_take_axis_and_keepdims(name, axis, keepdims):
    func = getattr(tf.math, name)
    out = func(tf.constant(X), axis=axis, keepdims=keepdims)
    numpy_axis = tuple(axis) if isinstance(axis, list) else axis
    expected_shape = np.sum(X, axis=numpy_axis, keepdims=keepdims).shape
    assert out.shape == expected_shape
    check(lambda x: func(x, axis=axis, keepdims=keepdims) * 1.5, X)


def test_reductions_values():
    x = tf.constant(X)
    assert_close(tf.reduce_sum(x, axis=1).numpy(), X.sum(axis=1))
    assert_close(tf.reduce_mean(x, 0, True).numpy(), X.mean(axis=0, keepdims=True))
    assert_close(tf.math.reduce_logsumexp(x, axis=1).numpy(), np.log(np.exp(X).sum(axis=1)))
    assert_close(float(tf.math.reduce_logsumexp(tf.constant([1000.0, 1000.0]))),
                 1000.0 + np.log(2.0))


ELEMENTWISE = ["exp", "sin", "cos", "tanh", "sigmoid", "softplus", "square", "abs", "atan",
               "sinh", "negative", "log_sigmoid", "softsign", "expm1"]


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_math(name):
    check(lambda x: getattr(tf.math, name)(x), X)


@pytest.mark.parametrize("name", ["log", "sqrt", "log1p", "rsqrt", "reciprocal"])
def test_elementwise_math_of_positives(name):
    check(lambda x: getattr(tf.math, name)(x), np.abs(X) + 0.5)


def test_sigmoid_and_softplus_values_never_overflow():
    x = tf.constant([-800.0, -5.0, 0.0, 5.0, 800.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with tf.GradientTape() as tape:
            tape.watch(x)
            s = tf.sigmoid(x)
            p = tf.math.softplus(x)
            y = tf.reduce_sum(s + p)
        g = tape.gradient(y, x).numpy()
    xs = np.array([-800.0, -5.0, 0.0, 5.0, 800.0])
    sig = 1 / (1 + np.exp(-np.clip(xs, -700, 700)))
    assert_close(s.numpy(), sig, atol=1e-15)
    assert_close(p.numpy(), np.logaddexp(0, xs))
    assert_close(g, sig * (1 - sig) + sig, atol=1e-12)


def test_relu_gradient_at_zero_is_zero():
    x = tf.constant([-1.0, 0.0, 2.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(tf.nn.relu(x) * 3.0)
    assert tape.gradient(y, x).numpy().tolist() == [0.0, 0.0, 3.0]


@pytest.mark.parametrize("name, slope_at_zero", [("relu6", 0.0), ("leaky_relu", 0.2),
                                                 ("elu", 1.0), ("selu", 1.0507009873554805 *
                                                                1.6732632423543772)])
def test_activations_at_and_away_from_the_kink(name, slope_at_zero):
    act = getattr(tf.nn, name)
    check(lambda x: act(x), np.array([-2.0, -0.3, 0.4, 7.0, 3.0]))
    x = tf.constant(0.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = act(x)
    assert_close(tape.gradient(y, x).numpy(), slope_at_zero)


def test_elu_of_a_large_input_has_a_finite_gradient():
    x = tf.constant([1000.0, -1000.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(tf.nn.elu(x))
    assert tape.gradient(y, x).numpy().tolist() == [1.0, 0.0]


def test_maximum_and_minimum_give_ties_to_the_first_argument():
    a, b = tf.constant([1.0, 2.0, 3.0]), tf.constant([1.0, 5.0, 0.0])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([a, b])
        hi = tf.maximum(a, b)
        lo = tf.minimum(a, b)
    assert tape.gradient(hi, a).numpy().tolist() == [1.0, 0.0, 1.0]
    assert tape.gradient(hi, b).numpy().tolist() == [0.0, 1.0, 0.0]
    assert tape.gradient(lo, a).numpy().tolist() == [1.0, 1.0, 0.0]


@pytest.mark.parametrize("axis", [None, 0, -1])
def test_softmax_and_log_softmax(axis):
    x = X * 3.0
    soft = tf.nn.softmax(tf.constant(x), axis=axis).numpy()
    ax = -1 if axis is None else axis
    e = np.exp(x - x.max(axis=ax, keepdims=True))
    assert_close(soft, e / e.sum(axis=ax, keepdims=True))
    assert_close(tf.nn.log_softmax(tf.constant(x), axis=axis).numpy(),
                 np.log(e / e.sum(axis=ax, keepdims=True)))
    weights = np.arange(6.0).reshape(2, 3)
    check(lambda t: tf.nn.softmax(t, axis=axis) * weights, x)
    check(lambda t: tf.nn.log_softmax(t, axis=axis) * weights, x)


def test_cross_entropies():
    logits = np.array([[2.0, -1.0, 0.5], [0.1, 0.2, -3.0]])
    labels = np.array([[0.0, 1.0, 0.0], [0.3, 0.3, 0.4]])
    z = np.array([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    sig = tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.constant(z), logits=tf.constant(logits))
    p = 1 / (1 + np.exp(-logits))
    assert_close(sig.numpy(), -(z * np.log(p) + (1 - z) * np.log(1 - p)))
    check(lambda t: tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=t), logits)
    soft = tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=tf.constant(logits))
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    assert_close(soft.numpy(), -(labels * log_p).sum(axis=1))
    check(lambda t: tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=t), logits)
    sparse = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[2, 0], logits=logits)
    assert_close(sparse.numpy(), [-log_p[0, 2], -log_p[1, 0]])
    check(lambda t: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[2, 0], logits=t),
          logits)


def test_keras_losses():
    y_true, y_pred = np.array([[1.0, 0.0], [0.5, 2.0]]), np.array([[0.8, 0.1], [0.0, 2.5]])
    mse = tf.keras.losses.MeanSquaredError()(y_true, tf.constant(y_pred))
    assert_close(float(mse), np.mean((y_true - y_pred) ** 2))
    assert_close(tf.keras.losses.mean_squared_error(y_true, y_pred).numpy(),
                 np.mean((y_true - y_pred) ** 2, axis=-1))
    check(lambda t: tf.keras.losses.MeanSquaredError()(y_true, t), y_pred)
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    onehot = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    cce = tf.keras.losses.CategoricalCrossentropy()(onehot, probs)
    assert_close(float(cce), -np.mean(np.log([0.7, 0.8])))
    scce = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)([0, 2], np.log(probs))
    assert_close(float(scce), -np.mean(np.log([0.7, 0.8])))


# ---- arrays -------------------------------------------------------------------------------

def test_shape_functions_and_joins():
    a, b = np.arange(6.0).reshape(2, 3) / 7, np.arange(4.0).reshape(2, 2) / 3
    assert tf.concat([a, b], axis=1).shape == (2, 5)
    assert tf.stack([a, a], axis=1).shape == (2, 2, 3)
    assert tf.expand_dims(a, 0).shape == (1, 2, 3)
    assert tf.squeeze(tf.constant(np.ones((1, 3, 1)))).shape == (3,)
    assert tf.transpose(np.ones((2, 3, 4)), perm=[2, 0, 1]).shape == (4, 2, 3)
    assert tf.reshape(a, [3, -1]).shape == (3, 2)
    assert tf.tile(a, [2, 1]).shape == (4, 3)
    assert [p.shape for p in tf.split(np.ones((6, 2)), 3)] == [(2, 2)] * 3
    assert [p.shape for p in tf.split(np.ones((6, 2)), [1, 5])] == [(1, 2), (5, 2)]
    assert [u.shape for u in tf.unstack(a, axis=1)] == [(2,)] * 3
    check(lambda x, y: tf.concat([tf.sin(x), y * x[:, :2]], axis=1) * np.arange(10.0).reshape(2, 5),
          a, b)
    check(lambda x: tf.stack([x, x * x], axis=-1) * np.arange(12.0).reshape(2, 3, 2), a)
    check(lambda x: tf.reduce_sum(tf.split(x, [1, 2], axis=1)[1] ** 2), a)
    check(lambda x: tf.transpose(x) * np.arange(6.0).reshape(3, 2), a)
    check(lambda x: tf.reshape(x, [-1]) * np.arange(6.0), a)


def test_selections():
    params = np.arange(12.0).reshape(4, 3) / 5
    assert_close(tf.gather(params, [3, 0, 3]).numpy(), params[[3, 0, 3]])
    assert_close(tf.gather(params, [2, 1], axis=1).numpy(), params[:, [2, 1]])
    assert_close(tf.gather_nd(params, [[0, 1], [3, 2]]).numpy(), [params[0, 1], params[3, 2]])
    assert_close(tf.boolean_mask(params, [True, False, False, True]).numpy(), params[[0, 3]])
    assert tf.where(tf.constant([True, False, True])).numpy().tolist() == [[0], [2]]
    check(lambda p: tf.gather(p, [3, 0, 3]) ** 2, params)
    check(lambda p: tf.gather(p, [2, 2], axis=1) ** 2, params)
    check(lambda p: tf.gather_nd(p, [[0, 1], [3, 2], [0, 1]]) ** 2, params)
    check(lambda p: tf.boolean_mask(p, [True, False, False, True]) ** 3, params)
    check(lambda p: tf.where(p > 1.05, p * p, -p), params)
    check(lambda p: tf.clip_by_value(p, 0.5, 1.5) ** 2, params)


def test_norms():
    x = np.array([[3.0, -4.0], [1.0, 2.0]])
    assert_close(float(tf.norm(x)), np.sqrt(30.0))
    assert_close(tf.norm(x, axis=1).numpy(), [5.0, np.sqrt(5.0)])
    assert_close(tf.norm(x, ord=1, axis=0).numpy(), [4.0, 6.0])
    check(lambda t: tf.norm(t, axis=1), x)
    check(lambda t: tf.math.l2_normalize(t, axis=1) * np.arange(4.0).reshape(2, 2), x)


def test_matmul_with_transposes_and_batches():
    rng = np.random.default_rng(6)
    a, b = rng.normal(size=(3, 2)), rng.normal(size=(4, 3))
    assert_close(tf.matmul(a, b, transpose_a=True, transpose_b=True).numpy(), a.T @ b.T)
    check(lambda x, y: tf.matmul(x, y, transpose_a=True, transpose_b=True), a, b)
    p, q = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 4, 2))
    assert_close(tf.matmul(p, q).numpy(), p @ q)
    check(lambda x, y: tf.tanh(tf.matmul(x, y)), p, q)
    check(lambda x: tf.linalg.det(x @ tf.transpose(x) + np.eye(3)), a @ a.T + np.eye(3))


def test_new_tensors():
    assert tf.zeros([2, 3]).shape == (2, 3) and tf.zeros([2]).dtype == np.float64
    assert tf.ones((2,), dtype=tf.float32).dtype == np.float32
    assert tf.fill([2, 2], 7.0).numpy().tolist() == [[7.0, 7.0], [7.0, 7.0]]
    assert tf.eye(2).numpy().tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert tf.range(4).numpy().tolist() == [0, 1, 2, 3]
    assert tf.range(1.0, 2.0, 0.5).numpy().tolist() == [1.0, 1.5]
    assert_close(tf.linspace(0.0, 1.0, 5).numpy(), [0, 0.25, 0.5, 0.75, 1.0])
    assert tf.one_hot([0, 2], 3).numpy().tolist() == [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    assert tf.zeros_like(tf.constant([1.0, 2.0])).numpy().tolist() == [0.0, 0.0]
    assert tf.shape(np.ones((2, 5))).numpy().tolist() == [2, 5]
    assert int(tf.size(np.ones((2, 5)))) == 10 and int(tf.rank(np.ones((2, 5)))) == 2


def test_random_is_seeded():
    tf.random.set_seed(7)
    a = tf.random.normal([3, 2], mean=1.0, stddev=0.5)
    b = tf.random.uniform([4], minval=-1.0, maxval=1.0, dtype=tf.float32)
    tf.random.set_seed(7)
    assert a.numpy().tolist() == tf.random.normal([3, 2], mean=1.0, stddev=0.5).numpy().tolist()
    assert b.dtype == np.float32 and np.all(np.abs(b.numpy()) <= 1.0)
    assert np.all(np.abs(tf.random.truncated_normal([100]).numpy()) <= 2.0)
    first, again = tf.random.normal([2], seed=3), tf.random.normal([2], seed=3)
    assert first.numpy().tolist() == again.numpy().tolist()


def test_cast_identity_stop_gradient():
    x = tf.Variable([1.0, 2.0])
    with tf.GradientTape(persistent=True) as tape:
        a = tf.cast(x, tf.float32) * 2.0
        b = tf.identity(x) * 3.0
        c = tf.stop_gradient(x) * x
        d = tf.cast(x, tf.int32)
    assert tape.gradient(a, x).numpy().tolist() == [2.0, 2.0]
    assert tape.gradient(a, x).dtype == np.float64
    assert tape.gradient(b, x).numpy().tolist() == [3.0, 3.0]
    assert tape.gradient(c, x).numpy().tolist() == [1.0, 2.0]
    assert tape.gradient(d, x) is None


def test_math_extras():
    x, y = np.array([0.0, 1.5, 2.0]), np.array([3.0, 0.5, 0.0])
    assert_close(tf.math.divide_no_nan(x, y).numpy(), [0.0, 3.0, 0.0])
    assert_close(tf.math.xlogy(x, y + 1.0).numpy(), x * np.log(y + 1.0))
    assert_close(tf.math.squared_difference(x, y).numpy(), (x - y) ** 2)
    assert_close(tf.math.cumsum(x, exclusive=True, reverse=True).numpy(), [3.5, 2.0, 0.0])
    check(lambda t: tf.math.divide_no_nan(t, y), x + 1.0)
    check(lambda t: tf.math.cumsum(t * t, reverse=True) * np.array([1.0, 2.0, 3.0]), x)
    assert int(tf.argmax(tf.constant([[1.0, 5.0], [3.0, 0.0]]))[0]) == 1     # axis 0
    assert tf.math.add_n([x, y, x]).numpy().tolist() == (2 * x + y).tolist()


# ---- optimisers and programs ------------------------------------------------------------------

@pytest.mark.parametrize("make", [lambda: tf.keras.optimizers.SGD(learning_rate=0.1),
                                  lambda: tf.keras.optimizers.SGD(lr=0.1),
                                  lambda: tf.optimizers.SGD(0.1)])
def test_sgd_on_a_quadratic(make):
    # f(x) = (x - 3)^2: x_{k+1} = x_k - 0.1 * 2 (x_k - 3), so x_k - 3 = 0.8^k (x_0 - 3)
    x = tf.Variable(10.0)
    opt = make()
    for _ in range(20):
        with tf.GradientTape() as tape:
            loss = (x - 3.0) ** 2
        grads = tape.gradient(loss, [x])
        opt.apply_gradients(zip(grads, [x]))
    assert_close(float(x), 3.0 + 0.8 ** 20 * 7.0, rtol=1e-12)


def test_adam_first_step_moves_by_the_learning_rate():
    x = tf.Variable([1.0, -2.0])
    opt = tf.keras.optimizers.Adam(learning_rate=0.01)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(x ** 3)
    opt.apply_gradients(zip(tape.gradient(loss, [x]), [x]))
    # m_hat = g, v_hat = g^2: the step is lr * g / (|g| + eps') ~ lr * sign(g)
    assert_close(x.numpy(), [1.0 - 0.01, -2.0 - 0.01], rtol=1e-6)


def test_a_tensorflow_linear_regression_runs_unchanged():
    tf.random.set_seed(0)
    true_w, true_b = np.array([[2.0], [-3.0]]), 0.5
    features = tf.random.normal([50, 2])
    labels = tf.matmul(features, true_w) + true_b
    w = tf.Variable(tf.zeros([2, 1]))
    b = tf.Variable(0.0)
    optimizer = tf.keras.optimizers.SGD(learning_rate=0.2)

    @tf.function
    def train_step():
        with tf.GradientTape() as tape:
            predictions = tf.matmul(features, w) + b
            loss = tf.reduce_mean(tf.square(predictions - labels))
        gradients = tape.gradient(loss, [w, b])
        optimizer.apply_gradients(zip(gradients, [w, b]))
        return loss

    for _ in range(300):
        loss = train_step()
    assert float(loss) < 1e-12
    assert_close(w.numpy(), true_w, rtol=1e-6)
    assert_close(float(b), true_b, rtol=1e-6)


def test_apply_gradients_skips_none_with_a_warning():
    a, b = tf.Variable(1.0), tf.Variable(2.0)
    with tf.GradientTape() as tape:
        loss = a * 3.0
    grads = tape.gradient(loss, [a, b])
    with pytest.warns(UserWarning):
        tf.keras.optimizers.SGD(learning_rate=1.0).apply_gradients(zip(grads, [a, b]))
    assert float(a) == -2.0 and float(b) == 2.0


def test_print_and_function(capsys):
    tf.print("value", tf.constant([1.0, 2.0]))
    assert capsys.readouterr().out.strip() == "value [1. 2.]"
    assert tf.function(lambda x: x + 1)(1) == 2
    assert tf.function(jit_compile=True)(len)([1]) == 1


def test_module_lists_its_variables_and_trains():
    # TensorFlow's "basic training loops" guide: y = 3 x + 2 fitted by a tf.Module
    class Model(tf.Module):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.w = tf.Variable(5.0)
            self.b = tf.Variable(0.0)
            self.frozen = tf.Variable(1.0, trainable=False)
            self.layers = [tf.Variable([1.0, 2.0])]

        def __call__(self, x):
            return self.w * x + self.b

    model = Model()
    assert model.trainable_variables == (model.b, model.layers[0], model.w)
    assert len(model.variables) == 4
    tf.random.set_seed(1)
    x = tf.random.normal([100])
    y = x * 3.0 + 2.0
    for _ in range(200):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(y - model(x)))
        dw, db = tape.gradient(loss, [model.w, model.b])
        model.w.assign_sub(0.1 * dw)
        model.b.assign_sub(0.1 * db)
    assert_close([float(model.w), float(model.b)], [3.0, 2.0], rtol=1e-8)
