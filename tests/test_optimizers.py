"""Optimisers (adjit.optimizers.SGD / Adam) against the update formulas written out by hand.

Every expected value here is computed independently of adjit: closed-form
iterates of gradient descent on a quadratic, hand-computed numbers, or the
Keras formulas re-written step by step with Python floats. The figures
quoted from TensorFlow's documentation (0.9, 0.1 then 0.18, 9.9) are real
TensorFlow answers.
"""

import math
import warnings

import numpy as np
import pytest

import adjit
from adjit.optimizers import SGD, Adam, schedules


class DuckVariable:
    """The least a variable must offer: numpy(), assign_sub, a name (as a tape Variable does)."""

    def __init__(self, value, name=None):
        self.value = np.array(value)
        self.name = name

    def numpy(self):
        return self.value.copy()

    def assign_sub(self, delta):
        self.value = self.value - np.asarray(delta)


def quadratic_grad(a, x):
    """Gradient of 0.5 * sum(a * x**2)."""
    return a * x


# -- SGD ---------------------------------------------------------------------------------

@pytest.mark.parametrize("lr", [0.01, 0.1, 0.3])
def test_sgd_matches_closed_form_iterates(lr):
    # x_k = x_0 * (1 - lr * a)**k for the quadratic 0.5 * a * x**2.
    a = np.array([1.0, 2.0, 0.5, 3.0])
    x0 = np.array([1.0, -2.0, 3.0, 0.25])
    x = x0.copy()
    opt = SGD(learning_rate=lr)
    for _ in range(25):
        opt.apply_gradients([(quadratic_grad(a, x), x)])
    np.testing.assert_allclose(x, x0 * (1 - lr * a) ** 25, rtol=1e-12, atol=1e-300)
    assert opt.iterations == 25


def test_sgd_momentum_hand_computed():
    # f = x**2, g = 2x, lr 0.1, momentum 0.9, from x = 1:
    # v1 = -0.2, x1 = 0.8; v2 = -0.18 - 0.16 = -0.34, x2 = 0.46; v3 = -0.306 - 0.092 = -0.398, x3 = 0.062
    x = np.array(1.0)
    opt = SGD(learning_rate=0.1, momentum=0.9)
    seen = []
    for _ in range(3):
        opt.apply_gradients([(2 * x, x)])
        seen.append(float(x))
    np.testing.assert_allclose(seen, [0.8, 0.46, 0.062], rtol=1e-12)
    np.testing.assert_allclose(opt.get_slot(x, "momentum"), -0.398, rtol=1e-12)


def test_sgd_nesterov_hand_computed():
    # Same problem with Nesterov: x += 0.9 * v - lr * g after v is updated.
    # step 1: g = 2, v = -0.2, x = 1 - 0.18 - 0.2 = 0.62
    # step 2: g = 1.24, v = -0.18 - 0.124 = -0.304, x = 0.62 - 0.2736 - 0.124 = 0.2224
    x = np.array(1.0)
    opt = SGD(learning_rate=0.1, momentum=0.9, nesterov=True)
    seen = []
    for _ in range(2):
        opt.apply_gradients([(2 * x, x)])
        seen.append(float(x))
    np.testing.assert_allclose(seen, [0.62, 0.2224], rtol=1e-12)


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_momentum_matches_loop_of_floats(nesterov):
    a = np.array([0.5, 1.5, 4.0])
    x = np.array([2.0, -1.0, 0.5])
    ref = [float(v) for v in x]
    vel = [0.0] * 3
    lr, mu = 0.05, 0.8
    opt = SGD(lr, mu, nesterov)                 # positional, in Keras's order
    for _ in range(30):
        opt.apply_gradients(zip([quadratic_grad(a, x)], [x]))
        for i in range(3):
            g = a[i] * ref[i]
            vel[i] = mu * vel[i] - lr * g
            ref[i] += mu * vel[i] - lr * g if nesterov else vel[i]
    np.testing.assert_allclose(x, ref, rtol=1e-12)


def test_tensorflow_documentation_figures():
    # tf.keras.optimizers.SGD docs: loss = var**2 / 2 from var = 1.
    var = np.array(1.0)
    SGD(learning_rate=0.1).apply_gradients([(var.copy(), var)])
    assert float(var) == pytest.approx(0.9)
    var = np.array(1.0)
    opt = SGD(learning_rate=0.1, momentum=0.9)
    opt.apply_gradients([(var.copy(), var)])
    assert 1.0 - float(var) == pytest.approx(0.1)
    before = float(var)
    opt.apply_gradients([(var.copy(), var)])
    assert before - float(var) == pytest.approx(0.18)
    # tf.keras.optimizers.Adam docs: the first step is -learning_rate * sign(grad).
    var = np.array(10.0)
    Adam(learning_rate=0.1).apply_gradients([(var.copy(), var)])
    assert float(var) == pytest.approx(9.9)


# -- Adam --------------------------------------------------------------------------------

def adam_reference(a, x0, steps, lr, b1, b2, eps, amsgrad=False):
    """Keras's Adam, one coordinate at a time with Python floats."""
    xs = [float(v) for v in x0]
    out = []
    for x, ai in zip(xs, a):
        m = v = vhat = 0.0
        for t in range(1, steps + 1):
            g = ai * x
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            vhat = max(vhat, v)
            lr_t = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
            x -= lr_t * m / (math.sqrt(vhat if amsgrad else v) + eps)
        out.append(x)
    return out


@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("lr, b1, b2, eps", [(0.001, 0.9, 0.999, 1e-7), (0.1, 0.5, 0.9, 1e-3)])
def test_adam_matches_keras_formula(amsgrad, lr, b1, b2, eps):
    a = np.array([1.0, 10.0, 0.1, 2.0])
    x0 = np.array([1.0, -0.5, 3.0, 1e-6])
    x = x0.copy()
    opt = Adam(learning_rate=lr, beta_1=b1, beta_2=b2, epsilon=eps, amsgrad=amsgrad)
    for _ in range(40):
        opt.apply_gradients([(quadratic_grad(a, x), x)])
    np.testing.assert_allclose(x, adam_reference(a, x0, 40, lr, b1, b2, eps, amsgrad), rtol=1e-10)


def test_adam_first_step_is_learning_rate_times_sign():
    # t = 1: m = 0.1 g, v = 0.001 g**2, step = lr * sqrt(0.001) / 0.1 * m / (sqrt(v) + eps)
    #      = lr * g / (|g| + eps / sqrt(0.001)); epsilon is added to sqrt(v), not to sqrt(v_hat).
    g = np.array([3.0, -0.02, 1e-6])
    x = np.zeros(3)
    Adam(learning_rate=0.5).apply_gradients([(g, x)])
    np.testing.assert_allclose(x, -0.5 * g / (np.abs(g) + 1e-7 / math.sqrt(0.001)), rtol=1e-12)


def test_adam_defaults_are_keras():
    opt = Adam()
    assert (float(opt.learning_rate), opt.beta_1, opt.beta_2, opt.epsilon, opt.amsgrad) == \
        (0.001, 0.9, 0.999, 1e-7, False)
    assert float(SGD().learning_rate) == 0.01 and SGD().momentum == 0.0


# -- apply_gradients: pairs, None gradients, kinds of variables -----------------------------

def test_apply_gradients_takes_a_one_shot_zip_and_several_variables():
    w, b = np.array([1.0, 2.0]), np.array(0.5)
    opt = SGD(learning_rate=0.25)
    opt.apply_gradients(zip([np.array([4.0, -4.0]), 2.0], [w, b]))   # a float gradient too
    np.testing.assert_allclose(w, [0.0, 3.0])
    assert float(b) == 0.0
    opt.apply_gradients((g, v) for g, v in [(np.ones(2), w)])        # a generator
    np.testing.assert_allclose(w, [-0.25, 2.75])
    assert opt.iterations == 2 and opt.iterations.numpy() == 2


def test_none_gradient_is_skipped_with_a_warning_naming_the_variable():
    x, y = DuckVariable(1.0, name="kept"), DuckVariable(2.0, name="unused")
    opt = SGD(learning_rate=0.5)
    with pytest.warns(UserWarning, match="unused"):
        opt.apply_gradients([(1.0, x), (None, y)])
    assert float(x.numpy()) == 0.5 and float(y.numpy()) == 2.0


def test_all_gradients_none_raises_value_error():
    x = np.array([1.0])
    with pytest.raises(ValueError, match="No gradients provided for any variable"):
        Adam().apply_gradients([(None, x)])
    with pytest.raises(ValueError, match="No gradients provided for any variable"):
        SGD().apply_gradients(zip([None, None], [x, np.array(2.0)]))
    np.testing.assert_array_equal(x, [1.0])


def test_lr_is_the_old_spelling():
    opt = SGD(lr=0.2)
    assert float(opt.learning_rate) == 0.2
    x = np.array(1.0)
    opt.apply_gradients([(1.0, x)])
    assert float(x) == pytest.approx(0.8)
    assert float(Adam(lr=0.05).learning_rate) == 0.05
    with pytest.raises(ValueError, match="lr"):
        SGD(learning_rate=0.1, lr=0.2)


def test_learning_rate_readable_and_settable():
    opt = SGD(learning_rate=0.1)
    opt.learning_rate = 0.5
    x = np.array(2.0)
    opt.apply_gradients([(1.0, x)])
    assert float(x) == 1.5
    opt.learning_rate.assign(0.25)               # as with a Keras 3 variable
    opt.apply_gradients([(1.0, x)])
    assert float(x) == 1.25 and float(opt.lr) == 0.25


def test_float32_stays_float32():
    a = np.array([1.0, 3.0], dtype=np.float32)
    for opt in (SGD(0.1, momentum=0.9), Adam(0.01)):
        x = np.array([1.0, -1.0], dtype=np.float32)
        for _ in range(5):
            opt.apply_gradients([(a * x, x)])        # float32 gradient
        opt.apply_gradients([(np.array([0.1, 0.2]), x)])    # float64 gradient, cast
        assert x.dtype == np.float32
        assert all(s.dtype == np.float32 for s in opt._slots[id(x)][1].values())
        v = DuckVariable(np.float32(2.0))
        opt.apply_gradients([(1.0, v)])
        assert v.numpy().dtype == np.float32


def test_float32_values_follow_the_formula():
    x0 = np.array([1.0, -2.0], dtype=np.float32)
    x = x0.copy()
    opt = Adam(0.05)
    for _ in range(10):
        opt.apply_gradients([(x * np.float32(2.0), x)])
    np.testing.assert_allclose(x, adam_reference([2.0, 2.0], x0, 10, 0.05, 0.9, 0.999, 1e-7),
                               rtol=1e-5)


def test_duck_variable_is_updated_with_assign_sub():
    v = DuckVariable([1.0, 2.0], name="w")
    opt = Adam(0.1)
    opt.apply_gradients([(np.array([1.0, -1.0]), v)])
    np.testing.assert_allclose(v.numpy(), [0.9, 2.1], rtol=1e-5)


@pytest.mark.parametrize("bad", [1.0, 3, np.float64(2.0)])
def test_python_float_cannot_be_updated_in_place(bad):
    with pytest.raises(TypeError, match="in place"):
        SGD().apply_gradients([(1.0, bad)])


def test_bad_variables_and_gradients_are_refused():
    with pytest.raises(TypeError, match="float"):
        SGD().apply_gradients([(np.ones(2), np.array([1, 2]))])
    frozen = np.ones(2)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        SGD().apply_gradients([(np.ones(2), frozen)])
    with pytest.raises(ValueError, match="shape"):
        SGD().apply_gradients([(np.ones(3), np.ones(2))])
    with pytest.raises(TypeError, match="pairs"):
        SGD().apply_gradients([np.ones(2)])
    with pytest.raises(TypeError, match="unexpected"):
        SGD(learning_rat=0.1)
    with pytest.raises(ValueError, match="momentum"):
        SGD(momentum=1.5)


def test_a_variable_seen_later_gets_fresh_slots_and_the_global_step():
    # Keras uses the optimiser's step count (not the variable's) in Adam's bias correction.
    x, y = np.array(1.0), np.array(1.0)
    opt = Adam(0.1)
    opt.apply_gradients([(1.0, x)])
    opt.apply_gradients([(1.0, x), (1.0, y)])
    lr_t = 0.1 * math.sqrt(1 - 0.999 ** 2) / (1 - 0.9 ** 2)
    assert float(y) == pytest.approx(1.0 - lr_t * 0.1 / (math.sqrt(0.001) + 1e-7), rel=1e-12)


# -- schedules, decay, clipping, weight decay ----------------------------------------------

def test_schedule_is_called_with_the_step_count():
    x = np.array(0.0)
    seen = []
    opt = SGD(learning_rate=lambda step: seen.append(int(step)) or 0.1 * (step + 1))
    for _ in range(3):
        opt.apply_gradients([(-1.0, x)])
    assert seen == [0, 1, 2]
    assert float(x) == pytest.approx(0.1 + 0.2 + 0.3)


def test_exponential_decay():
    sched = schedules.ExponentialDecay(0.5, decay_steps=2, decay_rate=0.1)
    assert [sched(s) for s in (0, 1, 2)] == pytest.approx([0.5, 0.5 * 0.1 ** 0.5, 0.05])
    stair = schedules.ExponentialDecay(0.5, decay_steps=2, decay_rate=0.1, staircase=True)
    assert [stair(s) for s in (0, 1, 2, 3)] == pytest.approx([0.5, 0.5, 0.05, 0.05])
    x = np.array(0.0)
    opt = SGD(learning_rate=stair)
    for _ in range(4):
        opt.apply_gradients([(-1.0, x)])
    assert float(x) == pytest.approx(1.1)
    assert float(opt.learning_rate) == pytest.approx(0.005)


def test_keras2_decay():
    x = np.array(0.0)
    opt = SGD(learning_rate=1.0, decay=0.5)
    for _ in range(3):
        opt.apply_gradients([(-1.0, x)])
    assert float(x) == pytest.approx(1 + 1 / 1.5 + 1 / 2.0)


def test_clipping():
    g = np.array([3.0, 4.0])                          # norm 5
    x = np.zeros(2)
    SGD(1.0, clipnorm=1.0).apply_gradients([(g, x)])
    np.testing.assert_allclose(x, [-0.6, -0.8])
    x = np.zeros(2)
    SGD(1.0, clipvalue=3.5).apply_gradients([(g, x)])
    np.testing.assert_allclose(x, [-3.0, -3.5])
    x, y = np.zeros(2), np.zeros(1)
    SGD(1.0, global_clipnorm=6.5).apply_gradients([(g, x), (np.array([12.0]), y)])   # norm 13
    np.testing.assert_allclose(np.concatenate([x, y]), [-1.5, -2.0, -6.0])
    with pytest.raises(ValueError, match="Only one"):
        SGD(clipnorm=1.0, clipvalue=1.0)


def test_weight_decay_is_decoupled():
    # Keras 3: var -= var * weight_decay * lr, then the usual step.
    x = np.array(2.0)
    SGD(0.1, weight_decay=0.5).apply_gradients([(1.0, x)])
    assert float(x) == pytest.approx(2.0 - 2.0 * 0.05 - 0.1)


# -- with adjit.grad ---------------------------------------------------------------------

def least_squares(w, A, b):
    r = A @ w - b
    return np.sum(r * r)


def test_native_gradient_descent_with_adjit_grad():
    # Gradient descent on |Aw - b|^2: w <- w - lr * 2 A^T (A w - b), written out by hand.
    rng = np.random.default_rng(3)
    A, b = rng.normal(size=(12, 3)), rng.normal(size=12)
    dloss = adjit.grad(least_squares)
    w = np.zeros(3)
    ref = np.zeros(3)
    opt = SGD(learning_rate=0.01)
    for _ in range(50):
        opt.apply_gradients([(dloss(w, A, b), w)])
        ref = ref - 0.01 * 2 * A.T @ (A @ ref - b)
    np.testing.assert_allclose(w, ref, rtol=1e-10)
    w = np.zeros(3)
    opt = Adam(learning_rate=0.1)
    for _ in range(500):
        opt.apply_gradients([(dloss(w, A, b), w)])
    np.testing.assert_allclose(w, np.linalg.lstsq(A, b, rcond=None)[0], atol=1e-4)


def test_minimize_needs_a_tape_for_a_tensor_loss():
    with pytest.raises(ValueError, match="tape"):
        SGD().minimize(1.0, [np.ones(1)])


def test_no_warning_when_every_gradient_is_given():
    x = np.ones(2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Adam().apply_gradients([(np.ones(2), x)])


def test_a_callable_without_arguments_is_called_each_step():
    # Keras calls a learning-rate callable that is not a schedule with no argument.
    rates = iter([0.5, 0.25])
    x = np.array(0.0)
    opt = SGD(learning_rate=lambda: next(rates))
    opt.apply_gradients([(-1.0, x)])
    opt.apply_gradients([(-1.0, x)])
    assert float(x) == 0.75


# -- on adjit Variables, with gradients from the tape --------------------------------------

def test_tensorflow_documentation_figures_with_minimize_on_variables():
    # The examples of tf.keras.optimizers.SGD and Adam's documentation, run as written there.
    var = adjit.Variable(1.0)
    SGD(learning_rate=0.1).minimize(lambda: (var ** 2) / 2.0, [var])
    assert float(var.numpy()) == pytest.approx(0.9)
    var = adjit.Variable(1.0)
    opt = SGD(learning_rate=0.1, momentum=0.9)
    val0 = float(var.numpy())
    opt.minimize(lambda: (var ** 2) / 2.0, [var])
    val1 = float(var.numpy())
    opt.minimize(lambda: (var ** 2) / 2.0, [var])
    assert (val0 - val1, val1 - float(var.numpy())) == pytest.approx((0.1, 0.18))
    var = adjit.Variable(10.0)
    step_count = Adam(learning_rate=0.1).minimize(lambda: (var ** 2) / 2.0, [var]).numpy()
    assert step_count == 1 and float(var.numpy()) == pytest.approx(9.9)


def test_minimize_with_a_tensor_loss_and_its_tape():
    w = adjit.Variable(np.array([1.0, -2.0]))
    opt = SGD(learning_rate=0.25)
    with adjit.GradientTape() as tape:
        loss = np.sum(w * w)                        # gradient 2 w
    opt.minimize(loss, [w], tape=tape)
    np.testing.assert_allclose(w.numpy(), [0.5, -1.0])


def test_tape_gradients_update_variables_and_keep_float32():
    a = np.array([1.0, 3.0])
    x0 = np.array([2.0, -1.0])
    x = adjit.Variable(x0.astype(np.float32), name="x")
    assert x.dtype == np.float32
    opt = Adam(learning_rate=0.05)
    for _ in range(10):
        with adjit.GradientTape() as tape:
            loss = 0.5 * np.sum(a * x * x)           # gradient a * x
        grads = tape.gradient(loss, [x])
        opt.apply_gradients(zip(grads, [x]))
    assert x.dtype == np.float32 and x.numpy().dtype == np.float32
    np.testing.assert_allclose(x.numpy(), adam_reference(a, x0, 10, 0.05, 0.9, 0.999, 1e-7),
                               rtol=1e-5)


def test_unconnected_variable_warns_with_its_name():
    w = adjit.Variable(1.0, name="weight")
    b = adjit.Variable(2.0, name="bias")
    with adjit.GradientTape() as tape:
        loss = 3.0 * w
    grads = tape.gradient(loss, [w, b])
    assert grads[1] is None
    with pytest.warns(UserWarning, match="bias"):
        SGD(learning_rate=0.1).apply_gradients(zip(grads, [w, b]))
    assert float(w.numpy()) == pytest.approx(0.7) and float(b.numpy()) == 2.0
    with pytest.raises(ValueError, match="No gradients provided for any variable"):
        SGD().apply_gradients([(None, w), (None, b)])


def test_a_tensor_cannot_be_optimised():
    with pytest.raises(TypeError, match="Tensor"):
        SGD().apply_gradients([(1.0, adjit.constant(1.0))])


def test_keras_names_in_adjit_tf():
    import adjit.tf as tf
    assert tf.keras.optimizers.SGD is SGD and tf.keras.optimizers.Adam is Adam
    assert float(tf.keras.optimizers.SGD(lr=0.3).learning_rate) == 0.3
    assert tf.keras.optimizers.schedules.ExponentialDecay is schedules.ExponentialDecay
