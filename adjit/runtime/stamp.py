"""What adjit's own code was when this process read it.

Imported first of all adjit's modules (see `adjit/__init__.py`), so `DIGEST`,
a hash of every Python file of the package, describes the code this process
runs: the compiler, the rules and the helpers, everything a generated module
depends on. `unchanged()` says whether the files are still those: a file
edited or replaced (an upgrade) while the process runs makes it False, and
then the process must not record anything under `DIGEST` (`runtime.warm`).
"""

import hashlib
import os
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _files():
    return sorted(ROOT.rglob("*.py"))


def _stat(path):
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino


def _read():
    stats, digest = {}, hashlib.sha256()
    for path in _files():
        stats[path] = _stat(path)       # before reading: a later write changes it
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return stats, digest.hexdigest()


_STATS, DIGEST = _read()


def unchanged():
    """Whether every Python file of adjit is still the one `DIGEST` was made of."""
    files = _files()
    return len(files) == len(_STATS) and all(_STATS.get(p) == _stat(p) for p in files)
