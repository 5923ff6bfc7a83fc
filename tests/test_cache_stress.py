"""The compilation cache under stress, end to end through adjit.grad and Numba:
processes compiling the same function at once, damaged Numba cache files,
refused cache directories, and the `adjit cache` command."""

import importlib.util
import os
import pathlib
import pickle
import subprocess
import sys
import textwrap
import time
import tomllib
import uuid
import warnings

import numba
import pytest

import adjit
from adjit import __main__ as cli
from adjit.runtime import cache

REPO = pathlib.Path(__file__).resolve().parents[1]

# A function whose generated module is new to every test (the constant differs),
# so no test finds another's module already imported or cached.
USER_MODULE = textwrap.dedent(
    """
    import numpy as np

    C = {c!r}

    def f(x, n):
        s = 0.0
        for i in range(n):
            s = s + C * x * x * i + np.sin(x * i)
        return s

    def expected(x, n):
        i = np.arange(n)
        return C * x * n * (n - 1) + float(np.sum(i * np.cos(x * i)))
    """
)


def _user_module(tmp_path):
    name = f"cache_user_{uuid.uuid4().hex[:12]}"
    c = 1.0 + int(uuid.uuid4().hex[:8], 16) / 2**40
    path = tmp_path / f"{name}.py"
    path.write_text(USER_MODULE.format(c=c))
    return path


def _import(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def cdir(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("ADJIT_CACHE_DIR", str(d))
    return d


def _env(cache_dir):
    return dict(os.environ, ADJIT_CACHE_DIR=str(cache_dir),
                PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))


_WORKER = textwrap.dedent(
    """
    import importlib.util, os, sys, time, warnings
    warnings.simplefilter("error")          # a CacheWarning or fallback would fail the run
    import adjit
    path, go = sys.argv[1], sys.argv[2]
    spec = importlib.util.spec_from_file_location(os.path.basename(path)[:-3], path)
    user = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(user)
    while not os.path.exists(go):
        time.sleep(0.001)
    df = adjit.grad(user.f)
    for x in (0.3, 1.7):
        got, want = df(x, 40), user.expected(x, 40)
        assert abs(got - want) <= 1e-9 * max(1.0, abs(want)), (got, want)
    dispatchers = [d for d in [df._compiled] + [v._compiled for v in getattr(df, "_variants", {}).values()]
                   if hasattr(d, "stats")]
    print("hits", sum(sum(d.stats.cache_hits.values()) for d in dispatchers),
          "misses", sum(sum(d.stats.cache_misses.values()) for d in dispatchers))
    """
)


def _leftovers(directory):
    """Temporary files of adjit's or Numba's writes left in the cache."""
    return [p.name for p in directory.rglob("*") if ".tmp" in p.name]


def test_eight_processes_at_once_then_a_warm_one(tmp_path):
    cdir = tmp_path / "cache"
    user = _user_module(tmp_path)
    go = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", _WORKER, str(user), str(go)],
                              env=_env(cdir), cwd=str(tmp_path), text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(8)]
    time.sleep(1.0)
    go.touch()
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
        assert out.startswith("hits"), out
    assert _leftovers(cdir) == []
    modules = [p for p in cdir.iterdir() if p.suffix == ".py"]
    assert modules
    for path in modules:                # each whole: its text is what its name says
        text = path.read_text()
        assert cache.module_path(text, "f")[0].name == path.name
    # the cache they leave is usable: a ninth process compiles nothing
    out = subprocess.run([sys.executable, "-c", _WORKER, str(user), str(go)], env=_env(cdir),
                         cwd=str(tmp_path), text=True, capture_output=True, timeout=600)
    assert out.returncode == 0, out.stderr
    hits, misses = int(out.stdout.split()[1]), int(out.stdout.split()[3])
    assert hits >= 1 and misses == 0, out.stdout


def _numba_files(cdir, suffix):
    return sorted((cdir / "__pycache__").glob(f"*{suffix}"))


def _dispatchers(df):
    """The Numba dispatchers behind `df` (one per specialisation, if it has several)."""
    found = [df._compiled] + [v._compiled for v in getattr(df, "_variants", {}).values()]
    return [d for d in found if hasattr(d, "stats")]


def _grad_stats(f, expected):
    """Whether a new gradient of `f` was loaded from the cache: (1, 0) if it was,
    (0, 1) if it was compiled; its value is checked against `expected`."""
    df = adjit.grad(f)
    got, want = df(0.9, 30), expected(0.9, 30)
    assert abs(got - want) <= 1e-9 * max(1.0, abs(want))
    dispatchers = _dispatchers(df)
    assert dispatchers
    hits = sum(sum(d.stats.cache_hits.values()) for d in dispatchers)
    misses = sum(sum(d.stats.cache_misses.values()) for d in dispatchers)
    assert (hits > 0) != (misses > 0)
    return int(hits > 0), int(misses > 0)


def _cut(data):
    return data[: len(data) // 2]


def _garble(data):
    middle = len(data) // 2
    return data[:middle] + bytes(b ^ 0x5A for b in data[middle:middle + 64]) + data[middle + 64:]


@pytest.mark.parametrize("suffix, damage", [
    (".nbi", _cut), (".nbi", _garble), (".nbi", lambda d: b""),
    (".nbc", _cut), (".nbc", _garble), (".nbc", lambda d: b""),
])
def test_damaged_numba_cache_file_is_rebuilt_not_loaded(cdir, tmp_path, suffix, damage):
    user = _import(_user_module(tmp_path))
    assert _grad_stats(user.f, user.expected) == (0, 1)        # compiled, cached
    assert _grad_stats(user.f, user.expected) == (1, 0)        # loaded from the cache
    victims = _numba_files(cdir, suffix)
    assert victims
    for victim in victims:
        victim.write_bytes(damage(victim.read_bytes()))
    assert _grad_stats(user.f, user.expected) == (0, 1)        # detected: compiled again
    assert _grad_stats(user.f, user.expected) == (1, 0)        # and the cache rebuilt
    assert _leftovers(cdir) == []


def test_numba_cache_in_plain_numba_format_is_replaced(cdir, tmp_path):
    # what an older adjit (Numba's own cache=True) left: unchecked pickles
    user = _import(_user_module(tmp_path))
    _grad_stats(user.f, user.expected)
    for index in _numba_files(cdir, ".nbi"):
        index.write_bytes(pickle.dumps(numba.__version__) + pickle.dumps(("stamp", {})))
    assert _grad_stats(user.f, user.expected) == (0, 1)
    assert _grad_stats(user.f, user.expected) == (1, 0)


def test_numba_cache_dir_does_not_move_adjits_cache(cdir, tmp_path, monkeypatch):
    elsewhere = tmp_path / "numba-cache-dir"
    elsewhere.mkdir()
    monkeypatch.setattr(numba.config, "CACHE_DIR", str(elsewhere))
    user = _import(_user_module(tmp_path))
    assert _grad_stats(user.f, user.expected) == (0, 1)
    assert list(elsewhere.iterdir()) == []
    assert _numba_files(cdir, ".nbi")


def _refused_end_to_end(cdir, tmp_path):
    user = _import(_user_module(tmp_path))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = adjit.grad(user.f)
        got = df(0.9, 30)
        assert adjit.grad(user.f)(0.9, 30) == got
    want = user.expected(0.9, 30)
    assert abs(got - want) <= 1e-9 * max(1.0, abs(want))
    refusals = [w for w in caught if issubclass(w.category, cache.CacheWarning)]
    assert len(refusals) == 1 and str(cdir) in str(refusals[0].message)
    assert list(cdir.iterdir()) == []               # nothing written into it
    assert [d.stats.cache_path for d in _dispatchers(df)] == [None]    # Numba caches nothing


def test_world_writable_cache_dir_never_used(cdir, tmp_path):
    cdir.mkdir()
    os.chmod(cdir, 0o777)
    _refused_end_to_end(cdir, tmp_path)


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to chown")
def test_cache_dir_of_another_user_never_used(cdir, tmp_path):
    cdir.mkdir(mode=0o700)
    os.chown(cdir, 12345, 12345)
    _refused_end_to_end(cdir, tmp_path)


# ---------------------------------------------------------------- adjit cache [clear]

def test_cache_command_shows_and_clears(cdir, tmp_path, capsys):
    user = _import(_user_module(tmp_path))
    _grad_stats(user.f, user.expected)
    size = cache.size_bytes()
    assert size > 0
    assert cli.main(["cache"]) == 0
    out = capsys.readouterr().out
    modules, numba_files = cache.count()
    warm_entries = cache.count_warm()       # generated modules found without a transform
    assert modules >= 1 and numba_files >= 2
    assert str(cdir) in out and f"{modules} generated modules" in out
    assert f"{numba_files} Numba cache files" in out
    assert cli.main(["cache", "clear"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"removed {modules + numba_files + warm_entries} files") and str(cdir) in out
    assert cache.size_bytes() == 0 and cache.count() == (0, 0) and cache.count_warm() == 0
    # the next gradient compiles and caches again
    assert _grad_stats(user.f, user.expected) == (0, 1)
    assert cache.count() == (modules, numba_files)


def test_cache_clear_keeps_other_files_and_fresh_temporaries(cdir):
    cdir.mkdir(mode=0o700)
    mine = cdir / "notes.txt"
    mine.write_text("keep")
    name = f"f_{'a' * 20}.py"
    fresh = cdir / f".{name}.x1.tmp"
    old = cdir / f".{name}.x2.tmp"
    fresh.write_text("being written")
    old.write_text("left by a crash")
    os.utime(old, (time.time() - 7200,) * 2)
    (cdir / name).write_text("x = 1\n")
    assert cache.clear() == 2
    assert mine.exists() and fresh.exists() and not old.exists()


def test_cache_command_on_a_refused_dir(cdir, capsys):
    cdir.mkdir()
    os.chmod(cdir, 0o777)
    (cdir / f"f_{'b' * 20}.py").write_text("x = 1\n")
    assert cli.main(["cache", "clear"]) == 1
    assert "writable by group or others" in capsys.readouterr().err
    assert (cdir / f"f_{'b' * 20}.py").exists()       # never touched


def test_cache_clear_from_the_shell(cdir):
    cdir.mkdir(mode=0o700)
    (cdir / f"g_{'c' * 20}.py").write_text("x = 1\n")
    env = _env(cdir)
    run = subprocess.run([sys.executable, "-m", "adjit", "cache", "clear"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("removed 1 files")
    assert list(cdir.iterdir()) == []


def test_console_script_is_adjit_main():
    with open(REPO / "pyproject.toml", "rb") as f:
        scripts = tomllib.load(f)["project"]["scripts"]
    assert scripts["adjit"] == "adjit.__main__:main"
