"""adjit: source-transformation automatic differentiation for Python, compiled with Numba.

    import adjit

    @adjit.grad
    def f(x, y):
        return x ** 2 * y

    f(3.0, 2.0)          # 12.0
    print(f.source)      # the generated adjoint
"""

from .runtime import stamp as _stamp  # noqa: F401 -- first: what adjit's code is (runtime.warm)
from .api import GradFunction, grad, show, value_and_grad, vjp
from .check import check_grad
from .higher import hessian, hvp, jacobian, jvp
from .runtime.custom import custom_vjp, defvjp
from .transform import TransformError
from . import optimizers
from .jit import jit
from .runtime.tape import GradientTape, UnconnectedGradients
from .runtime.tensor import Tensor, Variable, constant, convert_to_tensor

__all__ = ["GradFunction", "TransformError", "check_grad", "custom_vjp", "defvjp", "grad",
           "hessian", "hvp", "jacobian", "jvp", "show", "value_and_grad", "vjp"]
__all__ += ["GradientTape", "Tensor", "UnconnectedGradients", "Variable", "constant",
            "convert_to_tensor", "jit"]
__version__ = "0.1.0"
