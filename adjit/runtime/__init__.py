"""What runs: gradient rules, helpers for generated code, Numba glue, the cache."""
