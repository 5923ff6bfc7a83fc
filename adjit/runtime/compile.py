"""Compile generated modules: write them to disk, import them, jit them with Numba.

The generated module is written to the cache directory under a name derived
from a hash of its text and registered in `sys.modules`, so Numba can store
machine code beside it (in the cache directory's `__pycache__`) and a later
process reuses it. Numba errors are translated to the user's own line.

Numba's cache files for generated modules are written with a SHA-256 of their
contents (`CheckedCache`): a file cut short or garbled, by a crash or a full
disk, is found out before it is unpickled and is rebuilt, never loaded. They
always go to the adjit cache directory, which `cache.cache_dir` has checked, even
when `NUMBA_CACHE_DIR` points elsewhere.
"""

import functools
import hashlib
import os
import pathlib
import pickle
import re

import numba
from numba.core import caching, codegen, compiler
from numba.core.runtime import nrt
from numba.cpython import hashing  # noqa: F401 -- puts the hash secret in LLVM's symbol table

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


class DamagedCacheFile(OSError):
    """A Numba cache file whose contents do not match its checksum.

    An OSError, so that Numba treats the entry as missing: it compiles the
    function again and overwrites the file."""


class _CheckedCacheFile(caching.IndexDataCacheFile):
    """Numba's index (.nbi) and data (.nbc) files, each prefixed with a tag and the
    SHA-256 of the rest. Files in Numba's own format, or from another version of
    this one, count as missing."""

    _TAG = b"adjit-numba-cache-1\n"

    def _dump(self, obj):
        payload = super()._dump(obj)
        return self._TAG + hashlib.sha256(payload).digest() + payload

    def _checked(self, path):
        """The unpickled contents of `path`; DamagedCacheFile if they are not intact."""
        with open(path, "rb") as f:
            blob = f.read()
        start = len(self._TAG) + 32
        payload = blob[start:]
        if not blob.startswith(self._TAG) or hashlib.sha256(payload).digest() != blob[len(self._TAG):start]:
            raise DamagedCacheFile(f"damaged or foreign Numba cache file {path}")
        try:
            return pickle.loads(payload)
        except Exception as exc:        # intact bytes that do not unpickle here
            raise DamagedCacheFile(f"unreadable Numba cache file {path}: {exc}") from None

    def _save_index(self, overloads):
        data = self._dump((self._version, self._source_stamp, overloads))
        with self._open_for_write(self._index_path) as f:
            f.write(data)

    def _load_index(self):
        try:
            version, stamp, overloads = self._checked(self._index_path)
        except FileNotFoundError:
            return {}
        except (DamagedCacheFile, TypeError, ValueError):
            return {}                   # rewritten when the function is compiled again
        if version != self._version or stamp != self._source_stamp:
            return {}
        return overloads

    def _load_data(self, name):
        return self._checked(self._data_path(name))


class _GeneratedModuleLocator(caching.InTreeCacheLocator):
    """Numba's cache files go to `__pycache__` beside the generated module, in the
    adjit cache directory, whatever NUMBA_CACHE_DIR says.

    An entry is tied to the module's contents, not to its modification time as
    Numba's are: processes writing the same module at once each replace the file
    (with the same text), and an entry saved by one stays valid for the others."""

    def get_source_stamp(self):
        with open(self._py_file, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()

    def ensure_cache_path(self):
        path = self.get_cache_path()
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            pass
        if os.path.islink(path) or not os.path.isdir(path):
            raise OSError(f"{path} is not a directory")

    @classmethod
    def from_function(cls, py_func, py_file):
        if not os.path.exists(py_file):
            return None
        self = cls(py_func, py_file)
        try:
            self.ensure_cache_path()
        except OSError:
            return None
        return self


class _CheckedCacheImpl(caching.CompileResultCacheImpl):
    _locator_classes = [_GeneratedModuleLocator]


class CheckedCache(caching.FunctionCache):
    """Numba's per-function cache for a generated module, with checksummed files.

    Anything that goes wrong while loading an entry (a damaged file, machine code
    that cannot be rebuilt) makes it a miss: the function is compiled again and
    the entry rewritten."""

    _impl_class = _CheckedCacheImpl

    def __init__(self, py_func):
        super().__init__(py_func)
        self._cache_file.__class__ = _CheckedCacheFile

    def load_overload(self, sig, target_context):
        """The cached machine code for `sig`, or None.

        Numba's own `load_overload` first refreshes the target context: it imports
        and installs every typing and lowering implementation it has (and, through
        `numba.np.arraymath`, scipy.linalg to check for BLAS): about 0.35 s of CPU,
        most of a warm process's start. Loading machine code needs none of that,
        only what links it: the runtime's symbols (`rtsys.initialize`, the first
        step of that refresh), the hash secret's (`numba.cpython.hashing`, imported
        above) and those of Numba's C helpers (registered when the context is made).
        So the refresh is left to the first compilation, which does it anyway
        (`numba.core.compiler`); a gradient whose code calls BLAS imports scipy's
        when it first runs, from Numba's C helpers, as compiled code always does."""
        try:
            nrt.rtsys.initialize(target_context)
            with self._guard_against_spurious_io_errors():
                return self._load_overload(sig, target_context)
        except Exception:
            return None

    def save_overload(self, sig, data):
        try:
            super().save_overload(sig, data)
        except OSError:                 # a full disk, a cache cleared meanwhile: the
            pass                        # gradient is compiled all the same


# ---- the optimisation level of generated code ------------------------------------------
# Numba optimises every function at -O3 (NUMBA_OPT). Most of the first call of an array
# gradient is LLVM optimising the generated adjoint at that level: lstm's adjoint (about 25
# array expressions, each a loop nest that LLVM sees whole) spent ~9 of its 10 s of
# compilation in LLVM. -O3's passes over the module, and its function passes on a big
# function (non-trivial loop unswitching copies each broadcasting loop nest for each
# invariant test), cost two to three times -O2's there, for the same machine code speed:
# the adjoints of the benchmark workloads run as fast and give bit-identical results at
# -O2 (measured one against the other in one process). Small functions (heat's loops of
# scalar updates) do run a few per cent faster for -O3's function passes, which cost them
# little: a function of fewer than _BIG_FUNCTION basic blocks keeps them.
# A lower NUMBA_OPT (a user debugging at -O0) applies here too.

ADJOINT_OPT = 2
_BIG_FUNCTION = 400     # basic blocks (benchmarks: heat's adjoint 172, mlp's 699, lstm's 1462)


def _level(wanted):
    return min(wanted, int(numba.core.config.OPT))


class _AdjointLibrary(codegen.JITCodeLibrary):
    """Numba's code library, optimising at ADJOINT_OPT instead of NUMBA_OPT: the
    module passes always, the function passes on big functions only."""

    def _optimize_functions(self, ll_module):
        ll_module.data_layout = self._codegen._data_layout
        for func in ll_module.functions:
            big = sum(1 for _ in func.blocks) >= _BIG_FUNCTION
            fpm, pb = self._codegen._function_pass_manager(
                opt=_level(ADJOINT_OPT) if big else int(numba.core.config.OPT))
            with self._recorded_timings.record(f"Function passes on {func.name!r}", pb):
                fpm.run(func, pb)

    def _optimize_final_module(self):
        # (as Numba's: a cheap pass that inlines, reference-count pruning, the full pass)
        cheap, cheap_builder = self._codegen._module_pass_manager(
            loop_vectorize=self._codegen._loopvect, slp_vectorize=False,
            opt=self._codegen._opt_level, cost="cheap")
        with self._recorded_timings.record("Module passes (cheap)", cheap_builder):
            cheap.run(self._final_module, cheap_builder)
        if not numba.core.config.LLVM_REFPRUNE_PASS:
            self._final_module = codegen.remove_redundant_nrt_refct(self._final_module)
        full, full_builder = self._codegen._module_pass_manager(opt=_level(ADJOINT_OPT))
        with self._recorded_timings.record("Module passes (full)", full_builder):
            full.run(self._final_module, full_builder)


class _AdjointCompiler(compiler.Compiler):
    """Numba's compiler, putting the function's code in an `_AdjointLibrary`."""

    def compile_extra(self, func):
        if self.state.library is None:
            self.state.library = _AdjointLibrary(self.state.targetctx.codegen(),
                                                 func.__qualname__)
            self.state.library.enable_object_caching()     # (as Numba's lowering does)
        return super().compile_extra(func)


def register_jitable(function):
    """Numba's `register_jitable` for the functions a generated module defines besides its
    gradient (the user's functions it calls, and their adjoints): compiled, when called from
    compiled code, at ADJOINT_OPT as the gradient is; plain Python otherwise."""
    return numba.extending.register_jitable(pipeline_class=_AdjointCompiler)(function)


def _is_generated_code(function):
    """Whether `function` comes from a module adjit generated (`cache.module_path`)."""
    return (function.__module__ or "").startswith("adjit_generated_")


def jit(function):
    """A lazily compiling Numba dispatcher for `function`, cached on disk if possible.

    A function of a generated module is optimised at ADJOINT_OPT and, in the cache
    directory, gets a `CheckedCache`; any other (a user's function, for `adjit.jit`)
    is Numba's as usual, with Numba's own cache; nothing is cached when the cache
    directory is not usable."""
    generated = _is_generated_code(function)
    options = {"pipeline_class": _AdjointCompiler} if generated else {}
    directory = cache.cache_dir()
    if directory is None:
        return numba.njit(cache=False, **options)(function)
    dispatcher = numba.njit(**options)(function)
    if generated and cache.is_generated(function.__code__.co_filename, directory):
        try:
            dispatcher._cache = CheckedCache(function)
        except (RuntimeError, OSError):     # no usable __pycache__, or the module was
            pass                            # cleared meanwhile: compile without a cache
    else:
        dispatcher.enable_caching()
    return dispatcher


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
