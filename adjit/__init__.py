"""adjit: source-transformation automatic differentiation for Python, compiled with Numba.

    import adjit

    @adjit.grad
    def f(x, y):
        return x ** 2 * y

    f(3.0, 2.0)          # 12.0
    print(f.source)      # the generated adjoint
"""

from .api import GradFunction, grad, show, value_and_grad, vjp
from .check import check_grad
from .higher import hessian, hvp, jacobian, jvp
from .runtime.custom import custom_vjp, defvjp
from .transform import TransformError
from . import optimizers

__all__ = ["GradFunction", "TransformError", "check_grad", "custom_vjp", "defvjp", "grad",
           "hessian", "hvp", "jacobian", "jvp", "show", "value_and_grad", "vjp"]
__version__ = "0.1.0"
