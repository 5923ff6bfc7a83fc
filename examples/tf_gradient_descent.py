"""Gradient descent written for TensorFlow 2, run by adjit.

    python examples/tf_gradient_descent.py

This is a TensorFlow 2 program: replace the import line with
`import tensorflow as tf` and it runs unchanged under TensorFlow. It
minimises f(x) = 3x**2 + 2x - 1 (minimum at x = -1/3) for 100 steps, first
by hand with `assign_sub`, then with `tf.keras.optimizers.SGD`, and fits a
linear regression y = X w + b by full-batch gradient descent with SGD.
"""

import numpy as np

import adjit.tf as tf

LEARNING_RATE = 0.01
X0 = 2.0


def f(x):
    return 3 * x ** 2 + 2 * x - 1


# 100 steps of x <- x - lr * f'(x), by hand.
x = tf.Variable(X0)
for step in range(100):
    with tf.GradientTape() as tape:
        y = f(x)
    dy_dx = tape.gradient(y, x)
    x.assign_sub(LEARNING_RATE * dy_dx)
print(f"assign_sub: x after 100 steps = {float(x.numpy())!r}, f(x) = {float(f(x).numpy())!r}")

# The same steps taken by a Keras optimizer.
x = tf.Variable(X0)
opt = tf.keras.optimizers.SGD(learning_rate=LEARNING_RATE)
for step in range(100):
    with tf.GradientTape() as tape:
        y = f(x)
    grads = tape.gradient(y, [x])
    opt.apply_gradients(zip(grads, [x]))
print(f"keras SGD: x after 100 steps = {float(x.numpy())!r}, "
      f"iterations = {int(opt.iterations.numpy())}")

# Linear regression: y = X w + b + noise, fitted by gradient descent on the mean squared error.
rng = np.random.default_rng(0)
features = rng.normal(size=(200, 3))
labels = features @ np.array([[2.0], [-1.0], [0.5]]) + 0.3 + 0.1 * rng.normal(size=(200, 1))

X = tf.constant(features)
Y = tf.constant(labels)
w = tf.Variable(np.zeros((3, 1)))
b = tf.Variable(np.zeros(1))
opt = tf.keras.optimizers.SGD(learning_rate=0.1, momentum=0.5)
for epoch in range(200):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(tf.matmul(X, w) + b - Y))
    grads = tape.gradient(loss, [w, b])
    opt.apply_gradients(zip(grads, [w, b]))
    if epoch % 50 == 0:
        print(f"linear regression epoch {epoch}: loss {float(loss.numpy()):.6f}")
print("linear regression loss:", float(loss.numpy()))
print("linear regression w:", w.numpy().ravel().tolist())
print("linear regression b:", b.numpy().ravel().tolist())
