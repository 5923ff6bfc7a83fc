"""Everyday TensorFlow 2 gradient code, run by adjit.

    python examples/tf_basics.py

This is a TensorFlow 2 program: replace the import line with
`import tensorflow as tf` and it runs unchanged under TensorFlow, printing
the same numbers. It takes derivatives with `tf.GradientTape`: of a
polynomial at a Variable and at a watched constant, of a linear model's loss
with respect to its weights and bias, of g(x1, x2) = (x1 + 5) * x2**2 with
a persistent tape, a list of sources and watched constants, of a list of
targets, and the second derivatives of g with nested tapes.
"""

import adjit.tf as tf


def value(t):
    """A scalar tensor as a Python float (None stays None), for printing."""
    return None if t is None else float(t.numpy())


def values(t):
    """A tensor's elements as a list of Python floats, for printing."""
    return t.numpy().ravel().tolist()


# d/dx (x**2 - 3x + 2) at a Variable x = 2.
x = tf.Variable(2.0)
with tf.GradientTape() as tape:
    y = x ** 2 - 3 * x + 2
dy_dx = tape.gradient(y, x)
print("d/dx (x**2 - 3*x + 2) at x = 2:", value(dy_dx))

# d/dx (x**3 + 2x**2 + 1) at a constant x = 4: a constant is watched explicitly.
x = tf.constant(4.0)
with tf.GradientTape() as tape:
    tape.watch(x)
    y = x ** 3 + 2 * x ** 2 + 1
dy_dx = tape.gradient(y, x)
print("d/dx (x**3 + 2*x**2 + 1) at x = 4:", value(dy_dx))

# A linear model's squared-error loss and its gradients with respect to [w, b].
w = tf.Variable([[1.0], [2.0]])
b = tf.Variable(0.5)
inputs = tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
targets = tf.constant([[1.0], [2.0], [3.0]])
with tf.GradientTape() as tape:
    pred = tf.matmul(inputs, w) + b
    loss = tf.reduce_sum(tf.square(pred - targets))
dl_dw, dl_db = tape.gradient(loss, [w, b])
print("linear model loss:", value(loss))
print("linear model dloss/dw:", values(dl_dw))
print("linear model dloss/db:", value(dl_db))

# g(x1, x2) = (x1 + 5) * x2**2 at x1 = 2, x2 = 3: a persistent tape answers twice.
x1 = tf.Variable(2.0)
x2 = tf.Variable(3.0)
with tf.GradientTape(persistent=True) as tape:
    g = (x1 + 5) * x2 ** 2
dg_dx1 = tape.gradient(g, x1)
dg_dx2 = tape.gradient(g, x2)
del tape
print("persistent tape: dg/dx1 =", value(dg_dx1), "dg/dx2 =", value(dg_dx2))

# The same gradients at once, with a list of sources.
with tf.GradientTape() as tape:
    g = (x1 + 5) * x2 ** 2
dg_dx1, dg_dx2 = tape.gradient(g, [x1, x2])
print("list of sources: dg/dx1 =", value(dg_dx1), "dg/dx2 =", value(dg_dx2))

# And with watched constants instead of Variables.
c1 = tf.constant(2.0)
c2 = tf.constant(3.0)
with tf.GradientTape() as tape:
    tape.watch([c1, c2])
    g = (c1 + 5) * c2 ** 2
dg_dc1, dg_dc2 = tape.gradient(g, [c1, c2])
print("watched constants: dg/dx1 =", value(dg_dc1), "dg/dx2 =", value(dg_dc2))

# A list of targets is summed: d/dx (3x + x**2) at x = 5.
x = tf.Variable(5.0)
with tf.GradientTape() as tape:
    y1 = 3 * x
    y2 = x ** 2
print("list of targets [3*x, x**2] at x = 5:", value(tape.gradient([y1, y2], x)))

# Second derivatives of g with nested tapes: the outer tape records the inner gradient.
with tf.GradientTape(persistent=True) as outer:
    with tf.GradientTape() as inner:
        g = (x1 + 5) * x2 ** 2
    dg = inner.gradient(g, [x1, x2])
hessian = [[value(h) for h in outer.gradient(d, [x1, x2])] for d in dg]
del outer
print("second derivatives of g:", hessian)

# A source the target does not depend on: None, or zero on request.
z = tf.Variable(1.0)
with tf.GradientTape(persistent=True) as tape:
    y = x1 * 2.0
print("unconnected: default", value(tape.gradient(y, z)),
      "ZERO", value(tape.gradient(y, z, unconnected_gradients=tf.UnconnectedGradients.ZERO)))
del tape

# tf.math and tf.nn functions, and a reduction along an axis with keepdims.
m = tf.constant([[1.0, -2.0], [3.0, 0.5]])
with tf.GradientTape() as tape:
    tape.watch(m)
    rows = tf.reduce_mean(tf.nn.relu(m) * tf.math.log(m + 3.0), axis=1, keepdims=True)
    total = tf.reduce_sum(rows)
print("rows shape:", list(rows.shape))
print("d total / dm:", values(tape.gradient(total, m)))
