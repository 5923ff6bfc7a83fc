"""A second process with a warm cache: what it does (and does not do) before its
first gradient. No timings: behaviour only."""

import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]

USER = textwrap.dedent(
    """
    import numpy as np

    C = 1.5

    def g(u):
        return np.sin(u) * C

    def f(x, n):
        s = 0.0
        for i in range(n):
            s = s + np.sum(g(x * i)) + np.sum(x * x)
        return s
    """
)

# Counts Numba's refreshes of its CPU target (imports and installs every
# implementation it has) and checks the gradient, then compiles a user's own
# function with np.dot in the same process: Numba must still work as usual.
_WORKER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, sys.argv[1])
    import numpy as np
    import numba
    from numba.core.registry import cpu_target
    import adjit
    import user
    ctx = cpu_target.target_context
    refreshes = []
    original = ctx.refresh
    ctx.refresh = lambda: (refreshes.append(1), original())[1]
    df = adjit.grad(user.f)
    x = np.linspace(0.1, 1.0, 5)
    got = df(x, 7)
    want = sum(np.cos(x * i) * i * user.C + 2 * x for i in range(7))
    assert np.allclose(got, want, rtol=1e-12, atol=1e-12), (got, want)
    dispatchers = [d for d in [df._compiled] + [v._compiled for v in df._variants.values()]
                   if hasattr(d, "stats")]
    hits = sum(sum(d.stats.cache_hits.values()) for d in dispatchers)
    misses = sum(sum(d.stats.cache_misses.values()) for d in dispatchers)
    before = len(refreshes)
    dot = numba.njit(lambda a, b: np.dot(a, b) + np.sum(a))
    assert dot(x, x) == np.dot(x, x) + np.sum(x)
    assert np.allclose(df(x, 7), want, rtol=1e-12, atol=1e-12)
    # another rank, only in the second process: compiled there, after the loads
    x2 = np.linspace(0.1, 1.0, 6).reshape((2, 3) if sys.argv[2] == "warm" else (6,))
    want2 = sum(np.cos(x2 * i) * i * user.C + 2 * x2 for i in range(7))
    assert np.allclose(df(x2, 7), want2, rtol=1e-12, atol=1e-12)
    print("hits", hits, "misses", misses, "refreshes", before, len(refreshes))
    """
)


def _run(tmp_path, cache_dir, which):
    env = dict(os.environ, ADJIT_CACHE_DIR=str(cache_dir),
               PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run([sys.executable, "-c", _WORKER, str(tmp_path), which], env=env, text=True,
                         capture_output=True, timeout=600, cwd=str(tmp_path))
    assert out.returncode == 0, out.stderr
    words = out.stdout.split()
    return {words[k]: int(words[k + 1]) for k in (0, 2, 4)} | {"refreshes after": int(words[6])}


def test_warm_process_loads_without_refreshing_numba(tmp_path):
    (tmp_path / "user.py").write_text(USER)
    cache_dir = tmp_path / "cache"
    code = _adjit_code()
    cold = _run(tmp_path, cache_dir, "cold")
    assert cold["misses"] >= 1 and cold["refreshes"] >= 1
    warm = _run(tmp_path, cache_dir, "warm")
    _same_adjit_code(code)
    assert warm["hits"] >= 1 and warm["misses"] == 0
    # Loading machine code does not make Numba load its implementations; the
    # user's own compilation afterwards does, and works.
    assert warm["refreshes"] == 0
    assert warm["refreshes after"] >= 1


# ---------------------------------------------------------------- the warm-start lookup

USER_DEPS = textwrap.dedent(
    """
    import numpy as np
    import adjit

    C = {c}

    def g(u):
        return {g}

    @adjit.custom_vjp
    def h(u):
        return u * u

    @h.defvjp
    def h_vjp(u, ans, g):
        return {rule} * g

    def f(x, y):
        s = 0.0
        for i in range(3):
            s = s + g(x * y) * C + h(x)
        return s
    """
)

# Runs the gradient, counting the transforms it ran (pipeline.adjoint_module calls).
_LOOKUP_WORKER = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, sys.argv[1])
    import adjit
    from adjit.runtime import warm
    from adjit.transform import pipeline
    runs = []
    original = pipeline.adjoint_module
    pipeline.adjoint_module = lambda *a, **k: (runs.append(1), original(*a, **k))[1]
    import user_deps as user
    wrt = sys.argv[2]
    df = adjit.grad(user.f, wrt=wrt)
    print(json.dumps({"grad": df(0.7, 1.3), "transforms": len(runs), "hits": warm._LOOKUPS["hits"]}))
    """
)


def _write_user(tmp_path, c=1.5, g="np.sin(u)", rule="2.0 * u"):
    path = tmp_path / "user_deps.py"
    path.write_text(USER_DEPS.format(c=c, g=g, rule=rule))
    for stale in (tmp_path / "__pycache__").glob("user_deps*"):
        stale.unlink()


def _grad_run(tmp_path, wrt="x"):
    import json
    env = dict(os.environ, ADJIT_CACHE_DIR=str(tmp_path / "cache"),
               PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run([sys.executable, "-c", _LOOKUP_WORKER, str(tmp_path), wrt], env=env,
                         text=True, capture_output=True, timeout=600, cwd=str(tmp_path))
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.splitlines()[-1])


def _expected(c=1.5, dg=lambda u: np.cos(u), rule=lambda u: 2.0 * u, x=0.7, y=1.3, wrt="x"):
    if wrt == "x":
        return 3 * (dg(x * y) * y * c + rule(x))
    return 3 * dg(x * y) * x * c


import numpy as np  # noqa: E402


def _adjit_code():
    from adjit.runtime import stamp
    return stamp._read()[1]


def _same_adjit_code(before):
    """Skip if adjit's own files changed meanwhile (someone editing the checkout):
    then every key changes, rightly, and a warm process transforms again."""
    if _adjit_code() != before:
        pytest.skip("adjit's files changed during the test")


def test_warm_process_runs_no_transform_and_any_change_misses(tmp_path):
    code = _adjit_code()
    _write_user(tmp_path)
    cold = _grad_run(tmp_path)
    assert cold["transforms"] >= 2 and cold["hits"] == 0
    assert np.isclose(cold["grad"], _expected(), rtol=1e-12)
    warm = _grad_run(tmp_path)
    _same_adjit_code(code)
    assert warm["transforms"] == 0 and warm["hits"] == 2       # decoration and first call
    assert warm["grad"] == cold["grad"]
    # a global number the code compiles in
    _write_user(tmp_path, c=2.5)
    run = _grad_run(tmp_path)
    assert run["transforms"] >= 2 and np.isclose(run["grad"], _expected(c=2.5), rtol=1e-12)
    # the source of a function it calls
    _write_user(tmp_path, c=2.5, g="u * u * u")
    run = _grad_run(tmp_path)
    assert run["transforms"] >= 2
    assert np.isclose(run["grad"], _expected(c=2.5, dg=lambda u: 3 * u * u), rtol=1e-12)
    # the user's gradient rule of a function it calls
    _write_user(tmp_path, c=2.5, g="u * u * u", rule="5.0 * u")
    run = _grad_run(tmp_path)
    assert run["transforms"] >= 2
    assert np.isclose(run["grad"], _expected(c=2.5, dg=lambda u: 3 * u * u, rule=lambda u: 5.0 * u),
                      rtol=1e-12)
    # another argument differentiated
    run = _grad_run(tmp_path, wrt="y")
    assert run["transforms"] >= 2
    assert np.isclose(run["grad"], _expected(c=2.5, dg=lambda u: 3 * u * u, wrt="y"), rtol=1e-12)
    # and back to the first version: its entries are still there
    _write_user(tmp_path)
    run = _grad_run(tmp_path)
    _same_adjit_code(code)
    assert run["transforms"] == 0 and run["grad"] == cold["grad"]


def test_damaged_warm_entry_is_ignored(tmp_path):
    code = _adjit_code()
    _write_user(tmp_path)
    cold = _grad_run(tmp_path)
    entries = sorted((tmp_path / "cache").glob("warm_*.json"))
    assert len(entries) == 2
    for path in entries:
        data = path.read_bytes()
        path.write_bytes(data[:-10] + b"0123456789")
    run = _grad_run(tmp_path)
    assert run["transforms"] >= 2 and run["grad"] == cold["grad"]
    run = _grad_run(tmp_path)          # rewritten by the transform
    _same_adjit_code(code)
    assert run["transforms"] == 0 and run["grad"] == cold["grad"]


def _import_user(tmp_path, name, text):
    import importlib.util
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(text))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_key_covers_adjit_code_options_and_values(tmp_path, monkeypatch):
    import uuid
    from adjit.runtime import compile as compiling
    from adjit.runtime import helpers, resolve, warm
    monkeypatch.setenv("ADJIT_CACHE_DIR", str(tmp_path / "cache"))
    name = f"warm_user_{uuid.uuid4().hex[:8]}"
    user = _import_user(tmp_path, name, """
        import numpy as np
        K = 2.0
        DATA = np.ones(3)
        def f(x, n):
            return np.sin(x) * K * n
        def uses_array(x):
            return x * DATA[0]
        import adjit
        @adjit.grad
        def decorated(x):
            return np.sin(x)
        """)

    def digest(func=user.f, wrt=("x",), ranks=None, with_value=True):
        found = warm.key(func, resolve.namespace_of(func), wrt, ranks, with_value,
                         compiling.fingerprint(), helpers.HELPERS)
        return found and found.digest

    base = digest()
    assert base == digest()
    assert base != digest(wrt=("n",))
    assert base != digest(ranks={"x": 0, "n": 0})
    assert digest(ranks={"x": 0, "n": 0}) != digest(ranks={"x": 1, "n": 0})
    assert base != digest(with_value=False)
    user.K = 3.0
    assert base != digest()
    user.K = 2.0
    assert base == digest()
    monkeypatch.setattr(user, "np", __import__("math"))      # np.sin: another function
    assert base != digest()
    monkeypatch.undo()
    monkeypatch.setenv("ADJIT_CACHE_DIR", str(tmp_path / "cache"))
    assert base == digest()
    # a rule of the user's anywhere (one given to np.sum changes `x.sum()`, which names
    # no np.sum)
    from adjit.runtime import rules
    monkeypatch.setattr(rules, "_CUSTOM", dict(rules._CUSTOM))
    user.other = _import_user(tmp_path, name + "_other", """
        def other(u):
            return u
        def other_vjp(u, ans, g):
            return g
        """)
    import adjit
    adjit.defvjp(user.other.other, user.other.other_vjp)
    assert base != digest()
    monkeypatch.setattr(warm, "_adjit_digest", lambda: "another adjit")
    assert base != digest()
    # the decorator is not part of what is transformed
    assert digest(func=user.decorated.__wrapped__, wrt=("x",)) is not None
    # a global that is not a number, a type, a module or a function: no key at all
    assert digest(func=user.uses_array) is None


def test_callee_transformed_with_other_values_is_not_cached(tmp_path, monkeypatch):
    import uuid
    import adjit
    from adjit.runtime import warm
    monkeypatch.setenv("ADJIT_CACHE_DIR", str(tmp_path / "cache"))
    name = f"warm_callee_{uuid.uuid4().hex[:8]}"
    user = _import_user(tmp_path, name, """
        K = 2.0
        def g(u):
            return u * K
        def f(x):
            return g(x) * 1.0
        def f2(x):
            return g(x) * 3.0
        """)
    adjit.grad(user.f, jit=False)
    stored = warm._LOOKUPS["stored"]
    assert stored >= 1
    user.K = 5.0        # g was transformed, in this process, when K was 2.0
    adjit.grad(user.f2, jit=False)
    assert warm._LOOKUPS["stored"] == stored


def test_clear_removes_warm_entries(tmp_path, monkeypatch):
    from adjit.runtime import cache
    monkeypatch.setenv("ADJIT_CACHE_DIR", str(tmp_path / "cache"))
    cache.write_entry("ab" * 32, "{}")
    assert cache.read_entry("ab" * 32) == "{}"
    assert cache.clear() >= 1
    assert cache.read_entry("ab" * 32) is None
