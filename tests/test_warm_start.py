"""A second process with a warm cache: what it does (and does not do) before its
first gradient. No timings: behaviour only."""

import os
import pathlib
import subprocess
import sys
import textwrap

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
    print("hits", hits, "misses", misses, "refreshes", before, len(refreshes))
    """
)


def _run(tmp_path, cache_dir):
    env = dict(os.environ, ADJIT_CACHE_DIR=str(cache_dir),
               PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run([sys.executable, "-c", _WORKER, str(tmp_path)], env=env, text=True,
                         capture_output=True, timeout=600, cwd=str(tmp_path))
    assert out.returncode == 0, out.stderr
    words = out.stdout.split()
    return {words[k]: int(words[k + 1]) for k in (0, 2, 4)} | {"refreshes after": int(words[6])}


def test_warm_process_loads_without_refreshing_numba(tmp_path):
    (tmp_path / "user.py").write_text(USER)
    cache_dir = tmp_path / "cache"
    cold = _run(tmp_path, cache_dir)
    assert cold["misses"] >= 1 and cold["refreshes"] >= 1
    warm = _run(tmp_path, cache_dir)
    assert warm["hits"] >= 1 and warm["misses"] == 0
    # Loading machine code does not make Numba load its implementations; the
    # user's own compilation afterwards does, and works.
    assert warm["refreshes"] == 0
    assert warm["refreshes after"] >= 1
