"""The compiler: Python function source in, adjoint source out.

Pure functions from AST to AST (gast): no NumPy arrays, no Numba. See
`pipeline` for the order of the passes.
"""

from .errors import TransformError

__all__ = ["TransformError"]
