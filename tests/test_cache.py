"""Tests for the on-disk compilation cache (adjit.runtime.cache)."""

import hashlib
import os
import pathlib
import stat
import subprocess
import sys
import textwrap
import time
import uuid
import warnings

import pytest

from adjit.runtime import cache

REPO = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture
def cdir(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("ADJIT_CACHE_DIR", str(d))
    return d


def _source(value=42):
    # unique per test run, so module names never clash in sys.modules
    return f"# {uuid.uuid4().hex}\nVALUE = {value}\n"


def test_default_dir_xdg(tmp_path, monkeypatch):
    monkeypatch.delenv("ADJIT_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_dir() == tmp_path / "xdg" / "adjit"
    assert (tmp_path / "xdg" / "adjit").is_dir()


def test_default_dir_home(tmp_path, monkeypatch):
    monkeypatch.delenv("ADJIT_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache.cache_dir() == tmp_path / ".cache" / "adjit"


def test_env_var_wins_and_dir_created_private(cdir, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert not cdir.exists()
    assert cache.cache_dir() == cdir
    assert stat.S_IMODE(os.lstat(cdir).st_mode) == 0o700
    assert cache.cache_enabled()
    # re-evaluated on every call
    other = tmp_path / "other"
    monkeypatch.setenv("ADJIT_CACHE_DIR", str(other))
    assert cache.cache_dir() == other


def _refused_once(path_repr_part):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert cache.cache_dir() is None
        assert cache.cache_dir() is None
        assert not cache.cache_enabled()
    msgs = [w for w in caught if issubclass(w.category, cache.CacheWarning)]
    assert len(msgs) == 1
    text = str(msgs[0].message)
    assert path_repr_part in text and "without a cache" in text
    return text


def test_world_writable_dir_refused(cdir):
    cdir.mkdir()
    os.chmod(cdir, 0o777)
    text = _refused_once(str(cdir))
    assert "writable" in text
    # falls back to a private temporary directory
    path, name = cache.module_path(_source(), "f")
    assert path.parent != cdir
    assert path.parent.name.startswith("adjit-")
    st = os.lstat(path.parent)
    assert st.st_uid == os.getuid() and stat.S_IMODE(st.st_mode) == 0o700
    # and writing/loading still works there
    path, name = cache.write_module(_source(7), "f")
    try:
        assert cache.load_module(path, name).VALUE == 7
    finally:
        sys.modules.pop(name, None)
    assert cache.size_bytes() == 0 and cache.clear() == 0


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to chown")
def test_dir_owned_by_other_user_refused(cdir):
    cdir.mkdir(mode=0o700)
    os.chown(cdir, 12345, 12345)
    text = _refused_once(str(cdir))
    assert "12345" in text


def test_symlink_dir_refused(cdir, tmp_path):
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    cdir.symlink_to(real)
    assert "symbolic link" in _refused_once(str(cdir))


def test_uncreatable_dir_refused(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("ADJIT_CACHE_DIR", str(blocker / "sub"))
    _refused_once(str(blocker / "sub"))


def test_module_path_names(cdir):
    text = "x = 1\n"
    h = hashlib.sha256(text.encode()).hexdigest()[:20]
    path, name = cache.module_path(text, "grad_f")
    assert path == cdir / f"grad_f_{h}.py"
    assert name == f"adjit_generated_grad_f_{h}"


def test_write_module_idempotent_and_content_addressed(cdir):
    a, b = _source(1), _source(2)
    pa, na = cache.write_module(a, "f")
    assert (pa, na) == cache.module_path(a, "f")
    assert pa.read_text() == a
    assert stat.S_IMODE(os.stat(pa).st_mode) == 0o600
    os.utime(pa, ns=(1_000_000_000, 1_000_000_000))
    assert cache.write_module(a, "f") == (pa, na)
    assert os.stat(pa).st_mtime_ns == 1_000_000_000  # not rewritten
    pb, nb = cache.write_module(b, "f")
    assert pb != pa and nb != na and pb.read_text() == b
    assert sorted(p.name for p in cdir.iterdir()) == sorted([pa.name, pb.name])  # no temp files


@pytest.mark.parametrize("damage", ["truncate", "garble"])
def test_damaged_file_rewritten_and_stale_numba_cache_removed(cdir, damage):
    text = _source() + "# padding\n" * 50
    path, _ = cache.write_module(text, "f")
    data = path.read_bytes()
    bad = data[: len(data) // 2] if damage == "truncate" else data[:-10] + b"\0" * 10
    path.write_bytes(bad)
    pycache = cdir / "__pycache__"
    pycache.mkdir()
    stale = pycache / f"{path.stem}.foo-1.py311.nbi"
    stale.write_bytes(b"stale")
    unrelated = pycache / f"g_{'0' * 20}.foo-1.py311.nbi"
    unrelated.write_bytes(b"keep")
    cache.write_module(text, "f")
    assert path.read_text() == text
    assert not stale.exists()
    assert unrelated.exists()


def test_load_module_registers_and_reuses(cdir):
    path, name = cache.write_module(_source(5), "f")
    try:
        mod = cache.load_module(path, name)
        assert sys.modules[name] is mod
        assert mod.VALUE == 5 and mod.__name__ == name
        assert cache.load_module(path, name) is mod
    finally:
        sys.modules.pop(name, None)


def test_load_module_failure_unregisters(cdir):
    path, name = cache.write_module(f"# {uuid.uuid4().hex}\nraise RuntimeError('boom')\n", "f")
    with pytest.raises(RuntimeError):
        cache.load_module(path, name)
    assert name not in sys.modules


_WORKER = textwrap.dedent(
    """
    import os, sys, time
    from adjit.runtime import cache
    with open(sys.argv[1], encoding="utf-8") as f:
        text = f.read()
    go = sys.argv[2]
    while not os.path.exists(go):
        time.sleep(0.001)
    for _ in range(20):
        path, name = cache.write_module(text, "conc")
        assert path.read_text() == text
    mod = cache.load_module(path, name)
    assert mod.VALUE == 99
    print("ok")
    """
)


def test_concurrent_processes(cdir, tmp_path):
    # large enough that a non-atomic write would be seen half done
    text = _source(99) + "# padding padding padding padding\n" * 30000
    src = tmp_path / "src.txt"
    src.write_text(text, encoding="utf-8")
    go = tmp_path / "go"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(src), str(go)],
            env=env, cwd=str(REPO), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for _ in range(8)
    ]
    time.sleep(0.5)
    go.touch()
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        assert out.strip() == "ok"
    path, _ = cache.module_path(text, "conc")
    assert path.read_text() == text
    assert [p.name for p in cdir.iterdir()] == [path.name]  # no leftover temp files


def test_clear_and_size_bytes(cdir):
    assert cache.size_bytes() == 0  # creates the empty dir
    p1, _ = cache.write_module(_source(1), "f")
    p2, _ = cache.write_module(_source(2), "g")
    pycache = cdir / "__pycache__"
    pycache.mkdir()
    nbi = pycache / f"{p1.stem}.f-1.py311.nbi"
    nbi.write_bytes(b"12345")
    unrelated = cdir / "notes.txt"
    unrelated.write_text("mine")
    other_py = cdir / "helper.py"
    other_py.write_text("x = 1\n")
    expected = sum(p.stat().st_size for p in (p1, p2, nbi, unrelated, other_py))
    assert cache.size_bytes() == expected
    assert cache.clear() == 3
    assert not p1.exists() and not p2.exists() and not nbi.exists()
    assert unrelated.read_text() == "mine" and other_py.exists()
    assert cache.size_bytes() == len("mine") + len("x = 1\n")
    assert cache.clear() == 0
