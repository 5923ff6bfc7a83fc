"""Compile generated modules: write them to disk, import them, jit them with Numba.

The generated module is written to the cache directory under a name derived
from a hash of its text and registered in `sys.modules`, so `njit(cache=True)`
can store machine code beside it and a later process reuses it. Numba errors
are translated to the user's own line.
"""

import functools
import hashlib
import os
import pathlib
import re

import numba

from . import cache
# Register the Numba versions of the helpers.
from . import array_helpers_numba, helpers_numba, join_helpers_numba, linalg_helpers_numba  # noqa: F401


class AdjitWarning(UserWarning):
    """adjit ran a function as Python because Numba could not compile it."""


@functools.lru_cache(maxsize=None)
def fingerprint():
    """A short hash of the runtime code that generated modules call into."""
    digest = hashlib.sha256()
    here = pathlib.Path(__file__).parent
    for path in sorted([*here.glob("*helpers*.py"), *here.glob("rules*.py")]):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def load(generated, stem):
    """Write and import the module of `generated`; return its adjoint function."""
    path, module_name = cache.write_module(generated.text, stem)
    module = cache.load_module(path, module_name)
    for name, obj in generated.externals.items():
        setattr(module, name, obj)      # functions with custom gradients, and their rules
    return getattr(module, generated.function), str(path)


def numba_errors():
    return (numba.core.errors.NumbaError,)


def jit(function):
    """A lazily compiling Numba dispatcher for `function` (cached on disk if possible)."""
    return numba.njit(cache=cache.cache_enabled())(function)


def user_line(exc, generated, path):
    """The user's (line number, reason) for a Numba error in the generated file at `path`."""
    message = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))
    filename = re.escape(os.path.basename(path))
    lineno = None
    pattern = rf'File "[^"]*{filename}", line (\d+)|{filename} \((\d+)\)'
    for match in re.finditer(pattern, message):
        generated_line = int(match.group(1) or match.group(2))
        lineno = generated.line_map.get(generated_line, lineno)
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    informative = [line for line in lines if not line.startswith(("Failed in", "During:", "File "))]
    reason = (informative or lines or [type(exc).__name__])[0]
    reason = re.sub(r",? defined at \S+ \(\d+\)", "", reason)
    return lineno, reason
