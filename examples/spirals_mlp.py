"""Train a two-layer neural network on the two-spirals problem with adjit and Adam.

    python examples/spirals_mlp.py

Two interleaved spirals of 2-D points, one per class, are separated by a
2-32-2 network (tanh hidden layer, softmax output). The loss is a plain
NumPy function of the weights; `adjit.grad(loss, wrt=("W1", "b1", "W2", "b2"))`
compiles its gradient with Numba, and `adjit.optimizers.Adam` takes the steps.
Each epoch prints the loss and accuracy on the whole data set, after a small
progress bar. Then the gradient of the same loss is taken through
`adjit.GradientTape` on `adjit.Variable`s, and the time per gradient of the
tape and of the compiled path are printed side by side.
"""

import sys
import time

import numpy as np

import adjit
from adjit.optimizers import Adam

HIDDEN = 32
EPOCHS = 40
BATCH = 16
LEARNING_RATE = 0.02


def two_spirals(n_per_class=200, noise=0.04, turns=1.5, seed=0):
    """Points on two interleaved spirals (class 0 and its mirror image, class 1)."""
    rng = np.random.default_rng(seed)
    angle = np.sqrt(rng.uniform(0.0, 1.0, n_per_class)) * turns * 2 * np.pi
    radius = angle / (turns * 2 * np.pi)
    arm = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    X = np.concatenate([arm, -arm]) + noise * rng.normal(size=(2 * n_per_class, 2))
    labels = np.concatenate([np.zeros(n_per_class, dtype=np.int64),
                             np.ones(n_per_class, dtype=np.int64)])
    return X, labels


def init_params(seed=1, hidden=HIDDEN):
    """W1, b1, W2, b2; a wide first layer so tanh units bend at the spirals' scale."""
    rng = np.random.default_rng(seed)
    W1 = 4.0 * rng.normal(size=(2, hidden))
    b1 = rng.normal(size=hidden)
    W2 = rng.normal(size=(hidden, 2)) / np.sqrt(hidden)
    b2 = np.zeros(2)
    return W1, b1, W2, b2


def loss(W1, b1, W2, b2, X, y):
    """Mean softmax cross-entropy of the network on inputs X and one-hot targets y."""
    h = np.tanh(X @ W1 + b1)
    z = h @ W2 + b2
    m = np.max(z, axis=1, keepdims=True)
    log_sum_exp = m + np.log(np.sum(np.exp(z - m), axis=1, keepdims=True))
    return np.sum(y * (log_sum_exp - z)) / X.shape[0]


def predict(W1, b1, W2, b2, X):
    return np.argmax(np.tanh(X @ W1 + b1) @ W2 + b2, axis=1)


def progress_line(epoch, batch, batches, text=""):
    width = 20
    filled = width * batch // batches
    return f"epoch {epoch:2d}/{EPOCHS} [{'#' * filled}{'.' * (width - filled)}] {text}"


def train(X, labels, params):
    """Mini-batch Adam; prints the whole data set's loss and accuracy after each epoch."""
    targets = np.eye(2)[labels]
    grad_loss = adjit.grad(loss, wrt=("W1", "b1", "W2", "b2"))
    opt = Adam(learning_rate=LEARNING_RATE)
    rng = np.random.default_rng(2)
    batches = (len(X) + BATCH - 1) // BATCH
    live = sys.stdout.isatty()
    start = time.perf_counter()
    for epoch in range(1, EPOCHS + 1):
        order = rng.permutation(len(X))
        for i in range(batches):
            batch = order[i * BATCH:(i + 1) * BATCH]
            grads = grad_loss(*params, X[batch], targets[batch])
            opt.apply_gradients(zip(grads, params))          # params updated in place
            if live:
                print("\r" + progress_line(epoch, i + 1, batches), end="", flush=True)
        accuracy = np.mean(predict(*params, X) == labels)
        print(("\r" if live else "") + progress_line(
            epoch, batches, batches,
            f"loss {loss(*params, X, targets):.4f}  accuracy {100 * accuracy:.1f}%"))
    print(f"trained {EPOCHS} epochs ({opt.iterations} Adam steps) in "
          f"{time.perf_counter() - start:.2f} s, including compilation")
    return accuracy


def per_call(fn, repeat):
    fn()                                   # compile / warm up
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def tape_gradient(params, X, targets):
    """The gradient of the same loss function, recorded on a tape over Variables."""
    variables = [adjit.Variable(p) for p in params]
    with adjit.GradientTape() as tape:
        value = loss(*variables, X, targets)
    return tape.gradient(value, variables)


def compare_tape_and_compiled(X, labels, params):
    targets = np.eye(2)[labels]
    grad_loss = adjit.grad(loss, wrt=("W1", "b1", "W2", "b2"))
    compiled = per_call(lambda: grad_loss(*params, X, targets), 200)
    taped = per_call(lambda: tape_gradient(params, X, targets), 50)
    print(f"gradient of the loss on all {len(X)} points: compiled {1e3 * compiled:.3f} ms, "
          f"tape {1e3 * taped:.3f} ms per gradient ({taped / compiled:.1f}x)")


def main():
    X, labels = two_spirals()
    params = init_params()
    accuracy = train(X, labels, params)
    print(f"final accuracy: {100 * accuracy:.1f}%")
    compare_tape_and_compiled(X, labels, params)


if __name__ == "__main__":
    main()
