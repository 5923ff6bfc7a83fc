"""Gradient rules for NumPy's array products, shape functions, selection and linear algebra.

Part of the one registry: these rules register through `rules.defrule`
exactly as those in `rules.py` do (which imports this module at its end).
"""

from .rules import defrule  # noqa: F401
