"""`tf.linalg`: matrix products and the linear algebra the registry differentiates."""

import numpy as np

from ._convert import axis as _axis
from ._convert import result, tensor
from .array_ops import norm  # noqa: F401


def matrix_transpose(a, name=None, conjugate=False):
    return result(np.swapaxes(tensor(a), -1, -2))


def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False,
           a_is_sparse=False, b_is_sparse=False, output_type=None, name=None):
    """a @ b (stacks of matrices too), transposing either first if asked."""
    a, b = tensor(a), tensor(b)
    if transpose_a or adjoint_a:
        a = np.swapaxes(a, -1, -2)
    if transpose_b or adjoint_b:
        b = np.swapaxes(b, -1, -2)
    return result(a @ b)


def tensordot(a, b, axes, name=None):
    return result(np.tensordot(tensor(a), tensor(b), axes))


def einsum(equation, *inputs, **kwargs):
    return result(np.einsum(equation, *[tensor(x) for x in inputs]))


def inv(input, adjoint=False, name=None):  # noqa: A002
    return result(np.linalg.inv(tensor(input)))


def det(input, name=None):  # noqa: A002
    return result(np.linalg.det(tensor(input)))


def slogdet(input, name=None):  # noqa: A002
    sign, logdet = np.linalg.slogdet(tensor(input))
    return result(sign), result(logdet)


def logdet(matrix, name=None):
    """log(det(matrix)) of a Hermitian positive definite matrix."""
    return slogdet(matrix)[1]


def solve(matrix, rhs, adjoint=False, name=None):
    return result(np.linalg.solve(tensor(matrix), tensor(rhs)))


def cholesky(input, name=None):  # noqa: A002
    return result(np.linalg.cholesky(tensor(input)))


def eigvalsh(tensor_, name=None):
    return result(np.linalg.eigvalsh(tensor(tensor_)))


def eigh(tensor_, name=None):
    w, v = np.linalg.eigh(tensor(tensor_))
    return result(w), result(v)


def trace(x, name=None):
    return result(np.trace(tensor(x)))


def diag_part(input, k=0, name=None):  # noqa: A002
    return result(np.diagonal(tensor(input), k))


def diag(diagonal, k=0, name=None):
    return result(np.diag(tensor(diagonal), k))


def l2_normalize(x, axis=None, epsilon=1e-12, name=None):
    from .math import l2_normalize as normalize
    return normalize(x, _axis(axis), epsilon)
