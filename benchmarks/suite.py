"""adjit's benchmark suite: gradients of nine workloads, adjit against a hand-written
Numba adjoint, the Numba primal and the peers (JAX, PyTorch, autograd).

    python benchmarks/suite.py                     # everything, full sizes (~15-25 min)
    python benchmarks/suite.py --quick             # smaller sizes, fewer repeats
    python benchmarks/suite.py --only heat,lstm    # some workloads
    python benchmarks/suite.py --threads 2         # let every system use 2 threads
    python benchmarks/suite.py --no-compile-times  # skip the fresh-process compile timings
    python benchmarks/suite.py --json out.json     # also save every figure (and minima)
    python benchmarks/suite.py --clock cpu         # process CPU time: steadier on a busy machine

For each workload (benchmarks/workloads/NAME.py), in order:

1. correctness at a tiny size: the hand-written adjoint, adjit's gradient
   (jit=None and jit=False) and each installed peer against central finite
   differences of the plain Python function; then, at the benchmark size,
   adjit and the peers against the hand-written adjoint. A system that fails
   is reported and not timed.
2. timing: every system is called once (warm-up, compilation), then the
   systems run round-robin, one call each per round, for --repeat rounds;
   the table shows medians. A peer whose call would take more than
   --peer-cap seconds runs a loop k times shorter (workloads with `shrink`),
   and its time is multiplied by k (marked `*k` in the notes).
3. compile times, each in a fresh process (python suite.py --child ...):
   Numba compiling the primal alone; adjit's first gradient (transform +
   compile + one call at a tiny size) with an empty ADJIT_CACHE_DIR; and a
   second process reusing that cache, timed from adjit.grad(f) to the first
   gradient (import adjit excluded). The first two pay Numba's one-off
   start-up (LLVM initialisation) before the clock starts; the warm one does
   not, as a user's second process would not.

Ratios: adjit/hand (1.0 means no overhead over an expert's adjoint),
adjit/primal (cost of a gradient in function evaluations), peer/adjit (the
fastest installed peer's time over adjit's: above 1 means adjit is faster),
first-call adjit/numba. The last line is the geometric-mean summary.

Single-threaded by default (see benchmarks/README.md): adjit's generated code
is single-threaded, so the peers get one thread too.
"""
import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PEERS = ("jax", "torch", "autograd")


def thread_env(threads):
    """Environment variables that hold every system to `threads` threads; set
    before numba, numpy's BLAS, jax or torch is imported."""
    n = str(threads)
    env = {"NUMBA_NUM_THREADS": n, "OMP_NUM_THREADS": n, "OPENBLAS_NUM_THREADS": n,
           "MKL_NUM_THREADS": n}
    if threads == 1:
        env["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    return env


def parse():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="smaller sizes and 5 repeats: a smoke run of a few minutes")
    p.add_argument("--only", default="", help="comma-separated workload names")
    p.add_argument("--threads", type=int, default=1, help="threads for every system (default 1)")
    p.add_argument("--repeat", type=int, default=None, help="timed rounds (default 15, quick 5)")
    p.add_argument("--peers", default=",".join(PEERS),
                   help="peers to run if installed (default jax,torch,autograd; '' for none)")
    p.add_argument("--peer-cap", type=float, default=1.0,
                   help="seconds: a slower peer call is timed on a shorter loop and scaled")
    p.add_argument("--no-compile-times", action="store_true",
                   help="skip the first-call / warm-cache measurements in fresh processes")
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="wall: time.perf_counter (default); cpu: time.process_time, the CPU time "
                        "of the whole process (steadier on a busy machine)")
    p.add_argument("--json", default=None, help="write every figure to this file")
    p.add_argument("--child", nargs=2, metavar=("KIND", "NAME"), help=argparse.SUPPRESS)
    return p.parse_args()


ARGS = parse()
os.environ.update(thread_env(ARGS.threads))
sys.path.insert(0, REPO)    # benchmark this checkout of adjit, installed or not
sys.path.insert(0, HERE)    # the workloads package

import numba  # noqa: E402
import numpy as np  # noqa: E402

from workloads import NAMES, load  # noqa: E402
from workloads._fd import as_tuple, disagreement, finite_differences, wrt_positions  # noqa: E402

FD_RTOL = 1e-5       # finite differences at the tiny size
HAND_RTOL = 1e-7     # adjit against the hand-written adjoint at the benchmark size
PEER_RTOL = 1e-6     # peers against the hand-written adjoint


# ----------------------------------------------------------------------------- children

def adjit_wrt(w):
    """w.WRT as adjit.grad's wrt: one name alone, not a 1-tuple (adjit's gradient
    of wrt=("x",) comes back as a bare value that it then fails to unpack)."""
    return w.WRT[0] if len(w.WRT) == 1 else w.WRT


def pay_numba_startup():
    numba.njit(lambda v: np.sin(v) * 2.0)(1.0)


def child(kind, name):
    """One compile-time measurement in this fresh process; prints JSON."""
    w = load(name)
    args = w.inputs("test")
    out = {}
    if kind == "numba":
        pay_numba_startup()
        t0 = time.perf_counter()
        w.primal(*args)
        out["seconds"] = time.perf_counter() - t0
    else:
        if kind == "adjit-cold":
            pay_numba_startup()
        t0 = time.perf_counter()
        import adjit
        out["import"] = time.perf_counter() - t0
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            t0 = time.perf_counter()
            df = adjit.grad(w.f, wrt=adjit_wrt(w))
            out["transform"] = time.perf_counter() - t0
            df(*args)
            out["seconds"] = time.perf_counter() - t0
        out["warnings"] = [str(c.message) for c in caught]
    print("CHILD " + json.dumps(out))


def run_child(kind, name, env):
    cmd = [sys.executable, os.path.abspath(__file__), "--threads", str(ARGS.threads),
           "--child", kind, name]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    for line in proc.stdout.splitlines():
        if line.startswith("CHILD "):
            return json.loads(line[6:])
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return {"error": tail}


def compile_times(name):
    env = dict(os.environ)
    cache = tempfile.mkdtemp(prefix="adjit-bench-cache-")
    os.chmod(cache, 0o700)
    env["ADJIT_CACHE_DIR"] = cache
    try:
        numba_t = run_child("numba", name, env)
        cold = run_child("adjit-cold", name, env)
        warm = run_child("adjit-warm", name, env)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return {"numba_compile": numba_t.get("seconds"), "adjit_first": cold.get("seconds"),
            "adjit_transform": cold.get("transform"), "adjit_warm": warm.get("seconds"),
            "import_adjit_warm": warm.get("import"),
            "errors": [d["error"] for d in (numba_t, cold, warm) if "error" in d]
            + [f"adjit warned: {m}" for d in (cold, warm) for m in d.get("warnings", [])]}


# ----------------------------------------------------------------------------- systems

def load_peers(wanted):
    """The installed peers among `wanted`, set to float64 and ARGS.threads threads."""
    found = {}
    for peer in wanted:
        try:
            if peer == "jax":
                from workloads import jax_x64
                jax_x64()
            elif peer == "torch":
                import torch
                torch.set_num_threads(ARGS.threads)
            elif peer == "autograd":
                import autograd  # noqa: F401
            found[peer] = True
        except ImportError:
            pass
    return found


def adjit_system(w, args, jit=None):
    """adjit's gradient of w.f as a zero-argument call, or (None, problem)."""
    import adjit
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            df = adjit.grad(w.f, wrt=adjit_wrt(w), jit=jit)
            df(*args)
        except adjit.TransformError as exc:
            return None, "refused: " + " ".join(str(exc).split())
        except Exception as exc:  # noqa: BLE001 -- a crash is a finding, not the end of the run
            return None, f"failed: {type(exc).__name__}: {' '.join(str(exc).split())}"
    fallback = [str(c.message) for c in caught if "as Python" in str(c.message)]
    problem = "falls back to Python: " + fallback[0] if fallback else None
    if len(w.WRT) == 1:
        return (lambda: (df(*args),)), problem
    return (lambda: df(*args)), problem


def check_small(w, peers, notes):
    """Every system against finite differences at the tiny size; the names of
    those that fail."""
    args = w.inputs("test")
    want = finite_differences(w.f, args, wrt_positions(w))
    failed = set()

    def judge(label, call):
        try:
            err = disagreement(as_tuple(call()), want)
        except Exception as exc:  # noqa: BLE001
            notes.append(f"{label}: failed at the test size: {type(exc).__name__}: {exc}")
            failed.add(label)
            return
        if not err <= FD_RTOL:
            notes.append(f"{label}: WRONG gradient at the test size "
                         f"(max rel. error {err:.2e} against finite differences)")
            failed.add(label)

    judge("hand", lambda: w.hand_grad(*args))
    for jit in (None, False):
        call, problem = adjit_system(w, args, jit=jit)
        label = "adjit" if jit is None else "adjit(jit=False)"
        if call is None:
            notes.append(f"{label}: {problem}")
            failed.add(label)
        else:
            if problem:
                notes.append(f"{label}: {problem}")
            judge(label, call)
    for peer in peers:
        try:
            judge(peer, getattr(w, f"{peer}_grad")(args))
        except Exception as exc:  # noqa: BLE001
            notes.append(f"{peer}: failed at the test size: {type(exc).__name__}: {exc}")
            failed.add(peer)
    return failed


def time_once(call):
    clock = time.process_time if ARGS.clock == "cpu" else time.perf_counter
    t0 = clock()
    call()
    return clock() - t0


def peer_system(w, peer, args, notes):
    """A peer's zero-argument call at the benchmark size, or on a loop k times
    shorter when a full call would take more than --peer-cap s: (call, k, args used)."""
    build = getattr(w, f"{peer}_grad")
    k = 1
    if hasattr(w, "shrink"):
        probe_k = 1000
        probe = build(w.shrink(args, probe_k))
        probe()
        estimate = time_once(probe) * probe_k
        while estimate / k > ARGS.peer_cap:
            k *= 10
        if k >= probe_k:
            return probe, probe_k, w.shrink(args, probe_k)
    used = w.shrink(args, k) if k > 1 else args
    return build(used), k, used


# ----------------------------------------------------------------------------- one workload

def bench(name, peers, size, repeat):
    w = load(name)
    notes = []
    row = {"name": name, "loop": w.LOOP, "ms": {}, "scale": {}, "notes": notes}
    print(f"\n== {name}: {(w.__doc__ or '').strip().splitlines()[0]}", flush=True)

    failed = check_small(w, peers, notes)
    print(f"   checked against finite differences at the test size"
          f"{': FAILED ' + ', '.join(sorted(failed)) if failed else ': all agree'}", flush=True)

    args = w.inputs(size)
    systems = {"primal": lambda: w.primal(*args)}
    hand = w.hand_grad(*args)
    if "hand" not in failed:
        systems["hand"] = lambda: w.hand_grad(*args)
    if "adjit" not in failed:
        call, problem = adjit_system(w, args)
        if problem:
            notes.append(f"adjit: {problem}")
        if call is not None:
            err = disagreement(as_tuple(call()), hand)
            if err <= HAND_RTOL:
                systems["adjit"] = call
            else:
                notes.append(f"adjit: WRONG at the benchmark size: max rel. error {err:.2e} "
                             "against the hand-written adjoint")
    for peer in peers:
        if peer in failed:
            continue
        try:
            call, k, used = peer_system(w, peer, args, notes)
            err = disagreement(as_tuple(call()), as_tuple(w.hand_grad(*used)))
        except Exception as exc:  # noqa: BLE001
            notes.append(f"{peer}: failed at the benchmark size: {type(exc).__name__}: {exc}")
            continue
        if err > PEER_RTOL:
            notes.append(f"{peer}: disagrees with the hand-written adjoint at the benchmark "
                         f"size (max rel. error {err:.2e}); not timed")
            continue
        systems[peer] = call
        if k > 1:
            row["scale"][peer] = k
            notes.append(f"{peer}: timed on a loop {k}x shorter, time x{k} (*)")

    # Warm-up (every system has run once above; run again so each is hot), then
    # round-robin. A slow system gets fewer rounds (at least 3, ~30 s at most).
    first = {label: time_once(call) for label, call in systems.items()}
    rounds = {label: max(3, min(repeat, int(30.0 / max(t, 1e-9))))
              for label, t in first.items()}
    times = {label: [] for label in systems}
    labels = list(systems)
    for r in range(max(rounds.values())):
        order = labels[r % len(labels):] + labels[:r % len(labels)]
        for label in order:
            if len(times[label]) < rounds[label]:
                times[label].append(time_once(systems[label]))
    for label, ts in times.items():
        row["ms"][label] = statistics.median(ts) * 1e3 * row["scale"].get(label, 1)
        row.setdefault("min_ms", {})[label] = min(ts) * 1e3 * row["scale"].get(label, 1)
    row["rounds"] = rounds
    print_row(row, peers, header=False)
    for note in notes:
        print(f"   {note}")
    return row


# ----------------------------------------------------------------------------- report

def ratios(row, peers):
    ms = row["ms"]
    out = {}
    if "adjit" in ms:
        if "hand" in ms:
            out["adjit/hand"] = ms["adjit"] / ms["hand"]
        out["adjit/primal"] = ms["adjit"] / ms["primal"]
        peer_ms = [ms[p] for p in peers if p in ms]
        if peer_ms:
            out["peer/adjit"] = min(peer_ms) / ms["adjit"]
            out["best_peer"] = min((ms[p], p) for p in peers if p in ms)[1]
    ct = row.get("compile") or {}
    if ct.get("adjit_first") and ct.get("numba_compile"):
        out["first/numba"] = ct["adjit_first"] / ct["numba_compile"]
    return out


def fmt_ms(v):
    if v is None:
        return "-"
    return f"{v:.3g}" if v < 1000 else f"{v:.0f}"


def print_row(row, peers, header=True):
    cols = ["primal", "hand", "adjit"] + list(peers)
    if header:
        print(f"{'workload':<16}" + "".join(f"{c + ' ms':>12}" for c in cols)
              + f"{'adj/hand':>9}{'adj/prim':>9}{'peer/adj':>9}"
              + f"{'1st s':>7}{'numba s':>8}{'1st/nb':>7}{'warm s':>7}")
    r = ratios(row, peers)
    ms = row["ms"]
    cells = "".join(f"{fmt_ms(ms.get(c)) + ('*' if c in row['scale'] else ''):>12}" for c in cols)
    rr = "".join(f"{(format(r[k], '.2f') + 'x') if k in r else '-':>9}"
                 for k in ("adjit/hand", "adjit/primal", "peer/adjit"))
    ct = row.get("compile") or {}

    def sec(k):
        return f"{ct[k]:.2f}" if ct.get(k) is not None else "-"
    cc = f"{sec('adjit_first'):>7}{sec('numba_compile'):>8}" \
         f"{(format(r['first/numba'], '.2f') + 'x') if 'first/numba' in r else '-':>7}" \
         f"{sec('adjit_warm'):>7}"
    print(f"{row['name']:<16}{cells}{rr}{cc}", flush=True)


def geomean(values):
    values = [v for v in values if v is not None and v > 0]
    return math.exp(sum(map(math.log, values)) / len(values)) if values else float("nan")


def summary(rows, peers):
    rs = [(row, ratios(row, peers)) for row in rows]
    hand = [(r["adjit/hand"], row["name"]) for row, r in rs if "adjit/hand" in r]
    peer = [(r["peer/adjit"], row["name"]) for row, r in rs if "peer/adjit" in r]
    loop_peer = [(r["peer/adjit"], row["name"]) for row, r in rs
                 if "peer/adjit" in r and row["loop"]]
    first = [r["first/numba"] for _, r in rs if "first/numba" in r]
    warm = [(row["compile"]["adjit_warm"], row["name"]) for row in rows
            if (row.get("compile") or {}).get("adjit_warm") is not None]
    missing = [row["name"] for row, r in rs if "adjit" not in row["ms"]]
    parts = []
    if hand:
        worst = max(hand)
        parts.append(f"adjit/hand {geomean([v for v, _ in hand]):.2f}x "
                     f"(max {worst[0]:.2f}x {worst[1]})")
    if peer:
        parts.append(f"peer/adjit {geomean([v for v, _ in peer]):.2f}x")
    if loop_peer:
        low = min(loop_peer)
        parts.append(f"loops min {low[0]:.2f}x {low[1]}")
    if first:
        parts.append(f"first call/numba compile {geomean(first):.2f}x (max {max(first):.2f}x)")
    if warm:
        hi = max(warm)
        parts.append(f"warm first gradient max {hi[0]:.2f} s {hi[1]}")
    if missing:
        parts.append(f"adjit not timed: {', '.join(missing)}")
    return "geomean over " + f"{len(rows)} workloads: " + "; ".join(parts)


def main():
    if ARGS.child:
        child(*ARGS.child)
        return
    names = [n.strip() for n in ARGS.only.split(",") if n.strip()] or list(NAMES)
    for n in names:
        load(n)     # unknown names fail before anything runs
    peers = [p for p in (q.strip() for q in ARGS.peers.split(",")) if p]
    unknown = [p for p in peers if p not in PEERS]
    if unknown:
        raise SystemExit(f"unknown peer {unknown[0]!r}: choose from {', '.join(PEERS)} ('' for none)")
    peers = [p for p in peers if p in load_peers(peers)]
    size = "quick" if ARGS.quick else "full"
    repeat = ARGS.repeat or (5 if ARGS.quick else 15)
    import adjit  # noqa: F401 -- so its import is not charged to the first workload
    print(f"adjit suite: {len(names)} workloads, {size} sizes, {repeat} rounds, "
          f"{ARGS.threads} thread(s), {ARGS.clock} clock; "
          f"peers installed: {', '.join(peers) or 'none'}")
    rows = []
    for name in names:
        row = bench(name, peers, size, repeat)
        if not ARGS.no_compile_times:
            row["compile"] = compile_times(name)
            if row["compile"]["errors"]:
                row["notes"].extend("compile-time child: " + e for e in row["compile"]["errors"])
            ct = row["compile"]
            print(f"   first gradient {ct['adjit_first'] or float('nan'):.2f} s "
                  f"(transform {ct['adjit_transform'] or float('nan'):.2f} s), numba primal "
                  f"compile {ct['numba_compile'] or float('nan'):.2f} s, warm cache "
                  f"{ct['adjit_warm'] or float('nan'):.2f} s", flush=True)
        rows.append(row)
    print(f"\nmedians in ms ({size} sizes, {ARGS.threads} thread(s), {ARGS.clock} clock); "
          "* = peer timed on a shorter loop and scaled\n")
    print_row(rows[0], peers, header=True)
    for row in rows[1:]:
        print_row(row, peers, header=False)
    notes = [(row["name"], n) for row in rows for n in row["notes"]]
    if notes:
        print()
        for name, n in notes:
            print(f"{name}: {n}")
    line = summary(rows, peers)
    if ARGS.json:
        with open(ARGS.json, "w") as fh:
            json.dump({"size": size, "threads": ARGS.threads, "peers": peers, "rows": rows,
                       "ratios": {row["name"]: ratios(row, peers) for row in rows},
                       "summary": line}, fh, indent=1)
    print()
    print(line)


if __name__ == "__main__":
    main()
