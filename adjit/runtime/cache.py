"""On-disk compilation cache for generated modules.

adjit writes every generated Python module to a file named after a hash of its
source, imports it from there, and lets Numba keep its machine code in the
``__pycache__`` directory next to it (``compile.CheckedCache``: checksummed
files), so a new process reuses both.

The cache directory is ``$ADJIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/adjit``,
else ``~/.cache/adjit``.  It is created readable by its owner only.  Because
Numba's cache files are pickles, a directory that is a symlink, is owned by
another user, or is writable by group or others is never used: adjit then warns
once (``CacheWarning``) and writes its modules to a private temporary directory
that is removed at exit.

Files are written atomically (temporary file + ``os.replace``), so processes
compiling the same function at once never see a partial module, and a module
file found cut short or garbled is rewritten together with its stale Numba
cache. ``clear()`` (``python -m adjit cache clear``) empties the cache; nothing
else removes anything from it.

Beside the modules, ``warm_<sha256>.json`` entries (``write_entry``, checksummed)
map everything a transform depends on to the module it generated, so that a
new process finds a gradient's module without transforming the function again
(``runtime.warm``).
"""

import atexit
import hashlib
import importlib.util
import os
import pathlib
import re
import shutil
import stat
import sys
import tempfile
import threading
import time
import types
import warnings

__all__ = [
    "CacheWarning",
    "cache_dir",
    "module_path",
    "write_module",
    "load_module",
    "cache_enabled",
    "is_generated",
    "clear",
    "size_bytes",
    "count",
    "count_warm",
    "read_entry",
    "write_entry",
]

_HASH_LEN = 20
_GENERATED = re.compile(r".+_[0-9a-f]{%d}\.py" % _HASH_LEN)
_GENERATED_TMP = re.compile(r"\..+_[0-9a-f]{%d}\.py\..+\.tmp" % _HASH_LEN)  # write_module's
_WARM = re.compile(r"warm_[0-9a-f]{64}\.json")                      # warm.py's entries
_WARM_TMP = re.compile(r"\.warm_[0-9a-f]{64}\.json\..+\.tmp")
_STALE_TMP_SECONDS = 3600   # a temporary file this old belongs to no running write

_lock = threading.RLock()
_warned = set()  # directory paths already warned about in this process
_private = None  # fallback temporary directory, created on first use


class CacheWarning(UserWarning):
    """The compilation cache directory cannot be used safely."""


def _default_dir():
    env = os.environ.get("ADJIT_CACHE_DIR")
    if env:
        return pathlib.Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return pathlib.Path(xdg).expanduser() / "adjit"
    return pathlib.Path.home() / ".cache" / "adjit"


def _problem(path):
    """Create ``path`` if missing; return why it is unusable, or None if safe."""
    try:
        if not os.path.lexists(path):
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(path, 0o700)  # exactly 0o700, whatever the umask
        st = os.lstat(path)
    except OSError as exc:
        return f"it cannot be created or inspected ({exc})"
    if stat.S_ISLNK(st.st_mode):
        return "it is a symbolic link"
    if not stat.S_ISDIR(st.st_mode):
        return "it is not a directory"
    if st.st_uid != os.getuid():
        return f"it is owned by uid {st.st_uid}, not by the current user (uid {os.getuid()})"
    if st.st_mode & 0o022:
        return f"it is writable by group or others (mode {stat.S_IMODE(st.st_mode):#o})"
    return None


def cache_dir() -> "pathlib.Path | None":
    """Return the usable cache directory, creating it (mode 0o700) if missing.

    Returns None, after warning once per process and directory with a
    ``CacheWarning``, when the directory is a symlink, owned by another user,
    writable by group or others, or cannot be created.
    """
    path = _default_dir()
    why = _problem(path)
    if why is None:
        return path
    with _lock:
        if str(path) not in _warned:
            _warned.add(str(path))
            warnings.warn(
                f"adjit cache directory {path} is not used because {why}; "
                "adjit compiles without a cache",
                CacheWarning,
                stacklevel=2,
            )
    return None


def _private_dir():
    global _private
    with _lock:
        if _private is None:
            _private = pathlib.Path(tempfile.mkdtemp(prefix="adjit-"))  # mode 0o700
            atexit.register(shutil.rmtree, _private, ignore_errors=True)
        return _private


def module_path(text: str, stem: str) -> "tuple[pathlib.Path, str]":
    """Return ``(path, module_name)`` for the generated module with source ``text``.

    The file is ``{stem}_{h}.py`` in ``cache_dir()`` (or a private temporary
    directory when there is no usable cache), where ``h`` is the first 20 hex
    digits of the SHA-256 of ``text``; the module is ``adjit_generated_{stem}_{h}``.
    """
    h = hashlib.sha256(text.encode("utf-8")).hexdigest()[:_HASH_LEN]
    directory = cache_dir() or _private_dir()
    return directory / f"{stem}_{h}.py", f"adjit_generated_{stem}_{h}"


def _remove_stale_numba_cache(path):
    pycache = path.parent / "__pycache__"
    prefix = path.stem + "."
    try:
        names = os.listdir(pycache)
    except OSError:
        return
    for name in names:
        if name.startswith(prefix):
            try:
                os.unlink(pycache / name)
            except OSError:
                pass


def write_module(text: str, stem: str) -> "tuple[pathlib.Path, str]":
    """Make sure the module file for ``text`` exists with exactly ``text``.

    An existing file with the right content is left untouched (so Numba's
    cache for it stays valid).  A missing, cut short or garbled file is written
    atomically (temporary file, fsync, ``os.replace``); for a garbled one, its
    Numba cache files in ``__pycache__`` are removed too.
    Returns ``(path, module_name)`` as ``module_path`` does.
    """
    path, name = module_path(text, stem)
    data = text.encode("utf-8")
    try:
        existing = path.read_bytes()
    except FileNotFoundError:
        existing = None
    if existing == data:
        return path, name
    _atomic_write(path, data)
    if existing is not None:
        _remove_stale_numba_cache(path)
    return path, name


def _atomic_write(path: pathlib.Path, data: bytes):
    """Write `data` to a temporary file beside `path` and rename it there: a reader sees
    the old file or the whole new one, never part of one."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:  # mkstemp creates it with mode 0o600
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


_ENTRY_TAG = "adjit-warm-entry-1 "


def write_entry(digest: str, text: str) -> None:
    """Store ``text`` as the warm-start entry ``digest`` (64 hex digits), atomically,
    prefixed with the SHA-256 of ``text``. Nothing happens without a usable cache."""
    directory = cache_dir()
    if directory is None or not re.fullmatch(r"[0-9a-f]{64}", digest):
        return
    data = text.encode("utf-8")
    head = (_ENTRY_TAG + hashlib.sha256(data).hexdigest() + "\n").encode()
    _atomic_write(directory / f"warm_{digest}.json", head + data)


def read_entry(digest: str) -> "str | None":
    """The text stored by ``write_entry(digest, text)``, or None if there is none or
    it is not intact (cut short, garbled)."""
    directory = cache_dir()
    if directory is None or not re.fullmatch(r"[0-9a-f]{64}", digest):
        return None
    try:
        blob = (directory / f"warm_{digest}.json").read_bytes()
    except OSError:
        return None
    head, sep, data = blob.partition(b"\n")
    if not sep or head != (_ENTRY_TAG + hashlib.sha256(data).hexdigest()).encode():
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def load_module(path: pathlib.Path, module_name: str) -> types.ModuleType:
    """Import the module file ``path`` as ``module_name`` (once per process).

    The module is registered in ``sys.modules`` before it is executed, as
    Numba's ``cache=True`` requires; an already imported module is returned.
    """
    with _lock:
        module = sys.modules.get(module_name)
        if module is not None:
            return module
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(module_name, None)
            raise
        return module


def is_generated(path, directory=None) -> bool:
    """True if ``path`` names a generated module file in the cache directory."""
    directory = cache_dir() if directory is None else directory
    if directory is None:
        return False
    path = pathlib.Path(path)
    return path.parent == pathlib.Path(directory) and _GENERATED.fullmatch(path.name) is not None


def cache_enabled() -> bool:
    """Return True if a usable on-disk cache directory exists."""
    return cache_dir() is not None


def clear() -> int:
    """Delete generated modules and Numba cache files; return how many files went.

    Only files named ``*_<20 hex digits>.py`` and warm-start entries
    (``warm_<64 hex digits>.json``) in the cache directory, temporary
    files of interrupted writes (over an hour old), and the contents of its
    ``__pycache__`` directory are removed. A process still running keeps the
    modules it has loaded; the next one compiles them again.
    """
    directory = cache_dir()
    if directory is None:
        return 0
    removed = 0
    now = time.time()
    for entry in directory.iterdir():
        stale_tmp = False
        if _GENERATED_TMP.fullmatch(entry.name):
            try:
                stale_tmp = now - entry.lstat().st_mtime > _STALE_TMP_SECONDS
            except OSError:
                pass
        if _WARM_TMP.fullmatch(entry.name):
            try:
                stale_tmp = now - entry.lstat().st_mtime > _STALE_TMP_SECONDS
            except OSError:
                pass
        if (_GENERATED.fullmatch(entry.name) or _WARM.fullmatch(entry.name) or stale_tmp) \
                and entry.is_file() and not entry.is_symlink():
            try:
                entry.unlink()
                removed += 1
            except FileNotFoundError:
                pass
    pycache = directory / "__pycache__"
    if pycache.is_dir() and not pycache.is_symlink():
        for root, dirs, files in os.walk(pycache, topdown=False):
            for name in files:
                try:
                    os.unlink(os.path.join(root, name))
                    removed += 1
                except FileNotFoundError:
                    pass
            for name in dirs:
                try:
                    os.rmdir(os.path.join(root, name))
                except OSError:
                    pass
    return removed


def count() -> "tuple[int, int]":
    """Return ``(generated modules, Numba cache files)`` in the cache directory."""
    directory = cache_dir()
    if directory is None:
        return 0, 0
    modules = sum(1 for e in directory.iterdir() if _GENERATED.fullmatch(e.name))
    numba_files = 0
    pycache = directory / "__pycache__"
    if pycache.is_dir() and not pycache.is_symlink():
        numba_files = sum(1 for name in os.listdir(pycache) if name.endswith((".nbi", ".nbc")))
    return modules, numba_files


def count_warm() -> int:
    """Return how many warm-start entries (``warm_<64 hex digits>.json``) the cache holds."""
    directory = cache_dir()
    if directory is None:
        return 0
    return sum(1 for e in directory.iterdir() if _WARM.fullmatch(e.name))


def size_bytes() -> int:
    """Return the total size in bytes of all files in the cache directory."""
    directory = cache_dir()
    if directory is None:
        return 0
    total = 0
    for root, _dirs, files in os.walk(directory):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total
