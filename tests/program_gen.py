"""Random scalar programs for adjit: branches, loops, jumps, local arrays, helper calls.

The generator builds a small IR of a module holding ``def prog(x, y, n):``
(``x``, ``y`` floats, ``n`` a small int) and, optionally, helper functions
``def h1(u, v[, m]):`` that ``prog`` (or a later helper) calls.  It renders the
module to Python source text twice:

* ``Program.source`` - the plain module that adjit differentiates;
* ``Program.instrumented_source`` - the same module, except that every data
  dependent comparison ``a > c`` (in an ``if``, a ``while`` condition, a
  ``break``/``continue``/``return`` guard, under ``and``/``or``/``not``)
  becomes ``_gt(a, c)``, every ``abs(e)`` becomes ``_abs(e)``, and every loop
  body starts with ``_tick()``.  The helpers record the distance to the
  non-smooth point (``abs(a - c)``, ``abs(e)``) into ``_MARGINS`` and the
  branch taken into ``_TRACE``, so a test can reject points where finite
  differences would straddle a kink (a branch, a data-dependent trip count or
  break); ``_tick`` raises on a runaway loop.

Constructs are grouped into *features* that can be switched on and off
(``FEATURES``), because adjit learns them one at a time:

* ``boolops``  - ``and``/``or``/``not`` in conditions;
* ``while``    - ``while`` loops whose trip count depends on the data but is
  bounded: a counter guard (``k = 0`` ... ``while k < n and s < 0.5:`` with
  ``k += 1`` first in the body), ``while True:`` with a counter ``break`` first
  in the body (needs ``break``), or a variable that grows by at least 0.5 per
  trip (``while v < 1.0: v += 0.75 + 0.25 * np.sin(...)``);
* ``break``    - ``break`` and ``continue`` at any depth of ``for``/``while``
  loops, mostly behind data-dependent guards;
* ``return``   - early ``return`` inside branches, outside loops (every path
  still returns a float);
* ``loop_return`` - early ``return`` inside loops too (needs ``return``);
* ``arrays``   - local arrays (``np.zeros``/``np.ones``, ``.copy()``/``np.copy``
  of another) whose element reads (negative and counter indices) and sums
  (``np.sum(a)``, ``a.sum()``) feed the result;
* ``array_writes`` - element writes ``a[i] = e``, ``+=``, ``-=``, ``*=``,
  swaps ``a[j], a[j + 1] = a[j + 1], a[j]``, writes that kill a gradient
  (``a[1] = 0.0``), compare-and-swap steps, ``np.empty`` filled by a loop
  (needs ``arrays``);
* ``foreach``  - ``for v in a:`` over a local 1-D array (needs ``arrays``);
* ``helpers``  - calls to module-level helpers ``h1``, ``h2``, ``h3`` with
  branches and loops (and whatever else is on) of their own, a later helper
  possibly calling an earlier one, called in expressions and inside loops;
* ``helper_tuples`` - helpers returning ``p, q``, unpacked by the caller
  (needs ``helpers``);
* ``tuple_early_return`` - early ``return p, q`` in such a helper (needs
  ``helper_tuples`` and ``return``);
* ``flow_scope`` - after an ``if`` whose other branches all end in
  ``return``/``break``/``continue``, read a name that only the branches that
  fall through assign (off: only names every branch assigns are read after it).

``SUPPORTED_FEATURES`` is the set adjit differentiates today and is the
default; the environment variable ``ADJIT_RANDOM_FEATURES`` overrides it (see
``features_from_env``).

Choices are made through a *chooser* so that the same code drives hypothesis
(``programs()`` strategy, shrinkable) and a plain ``random.Random``
(``random_program(seed)``, for quick self checks).

All values stay bounded: an interval-style pass (``_Analyzer``) abstractly runs
the program (every loop for at most ``MAX_TRIPS`` trips, following ``break``,
``continue`` and ``return`` edges, each helper call analysed with the bounds of
its arguments) and wraps any assignment or helper result whose worst-case
magnitude could exceed ``SOFT_CAP`` in ``np.tanh``/``np.arctan``, so no program
can overflow or produce NaN for ``|x|, |y| <= INPUT_BOUND`` and
``0 <= n <= MAX_N``.  ``Program.ret_bound`` is the bound it proves for the
result.  Trip counts never exceed ``MAX_TRIPS`` (a ``for`` over an array: its
length, at most ``MAX_N + 3``) and array indices are always in range: every
counter is tracked as ``0 <= k <= n + d``.
"""

from __future__ import annotations

import math
import os
import random
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

INPUT_BOUND = 2.0  # |x|, |y| <= INPUT_BOUND
MAX_N = 4  # 0 <= n <= MAX_N (and 0 <= m <= MAX_N for a helper's int argument)
MAX_TRIPS = MAX_N + 2  # most iterations of a range/while loop (range(n + 2), while k <= n)
COUNTER_BOUND = float(MAX_N + 1)  # largest value a loop counter can take
SOFT_CAP = 20.0  # wrap assignments whose worst-case magnitude exceeds this
RUNAWAY = 100_000  # _tick() raises after this many loop trips in one call

FLOAT_NAMES = ["a", "b", "c", "s", "t", "u", "w", "z", "p", "q", "acc", "tmp", "bx", "by", "add1", "result", "value"]
# (bx, by, add1, result, value: names an adjoint generator might also use)
COUNTER_NAMES = ["i", "j", "k"]  # for-loop counters
WHILE_COUNTERS = ["it", "kt", "nt"]  # while-loop counters (they outlive their loop)
# local arrays and their size, as an offset to n (so every array has >= 2 elements)
ARRAY_SIZES = {"arr": 2, "buf": 2, "tab": 3, "vec": 3}
HELPER_NAMES = ["h1", "h2", "h3"]

FEATURES = ("boolops", "while", "break", "return", "loop_return", "arrays", "array_writes", "foreach",
            "helpers", "helper_tuples", "tuple_early_return", "flow_scope")
# what adjit differentiates today: the default feature set of the tests
SUPPORTED_FEATURES = frozenset(FEATURES)
_REQUIRES = {"loop_return": "return", "array_writes": "arrays", "foreach": "arrays", "helper_tuples": "helpers",
             "tuple_early_return": "helper_tuples"}


def parse_features(spec: Optional[str], default=SUPPORTED_FEATURES) -> frozenset:
    """A feature set from text.

    ``None`` or ``""`` gives ``default``; ``"all"`` every feature; ``"none"``
    none; ``"while,break"`` exactly those; ``"+while,-boolops"`` the default
    with changes (a list mixing both kinds applies in order, starting from the
    default if the first item has a sign).
    """
    if spec is None or not spec.strip():
        return frozenset(default)
    spec = spec.strip()
    if spec == "all":
        return frozenset(FEATURES)
    if spec == "none":
        return frozenset()
    items = [s.strip() for s in spec.split(",") if s.strip()]
    out = set(default) if items[0][0] in "+-" else set()
    for item in items:
        name = item.lstrip("+-")
        if name == "all":
            names = set(FEATURES)
        elif name in FEATURES:
            names = {name}
        else:
            raise ValueError(f"unknown random-program feature {name!r}; known: {', '.join(FEATURES)}, all")
        if item.startswith("-"):
            out -= names
        else:
            out |= names
    return frozenset(out)


def features_from_env() -> frozenset:
    """``ADJIT_RANDOM_FEATURES`` parsed by ``parse_features`` (default: ``SUPPORTED_FEATURES``)."""
    return parse_features(os.environ.get("ADJIT_RANDOM_FEATURES"))


# --------------------------------------------------------------------------
# choosers


class RandomChooser:
    def __init__(self, seed):
        self.rng = random.Random(seed)

    def integer(self, lo, hi):
        return self.rng.randint(lo, hi)

    def choice(self, seq):
        return seq[self.rng.randrange(len(seq))]


class DrawChooser:
    """Adapter around hypothesis' ``draw``."""

    def __init__(self, draw):
        from hypothesis import strategies as st

        self._st = st
        self.draw = draw

    def integer(self, lo, hi):
        return self.draw(self._st.integers(lo, hi))

    def choice(self, seq):
        return self.draw(self._st.sampled_from(list(seq)))


def _weighted(ch, items: Sequence[Tuple[object, int]]):
    """Pick from ``(item, weight)`` pairs; shrinks toward the first item."""
    flat = []
    for item, w in items:
        flat.extend([item] * w)
    return ch.choice(flat)


def _const(ch, lo=-200, hi=200, scale=100.0):
    v = ch.integer(lo, hi) / scale
    if v == 0.0:
        v = 0.0
    return v


# --------------------------------------------------------------------------
# expressions


class Expr:
    def src(self, inst: bool) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def bound(self, env) -> float:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass
class Var(Expr):
    name: str

    def src(self, inst):
        return self.name

    def bound(self, env):
        return env[self.name]


@dataclass
class IntScaled(Expr):
    """``(c * i)``: a loop counter, ``n`` or ``m`` turned into a float."""

    coef: float
    name: str

    def src(self, inst):
        return f"({_fmt(self.coef)} * {self.name})"

    def bound(self, env):
        return abs(self.coef) * COUNTER_BOUND


@dataclass
class Const(Expr):
    value: float

    def src(self, inst):
        return _fmt(self.value)

    def bound(self, env):
        return abs(self.value)


def _fmt(v: float) -> str:
    s = repr(float(v))
    return f"({s})" if v < 0 else s


@dataclass
class Bin(Expr):
    op: str
    a: Expr
    b: Expr

    def src(self, inst):
        return f"({self.a.src(inst)} {self.op} {self.b.src(inst)})"

    def bound(self, env):
        ba, bb = self.a.bound(env), self.b.bound(env)
        if self.op == "*":
            return ba * bb
        return ba + bb


# denominators that are bounded away from zero: (format, minimum value)
DENOMINATORS = [
    ("(1.0 + {d} * {d})", 1.0),
    ("(2.0 + np.sin({d}))", 1.0),
    ("(1.5 + np.cos({d}))", 0.5),
    ("(1.0 + {absd})", 1.0),
]


@dataclass
class Div(Expr):
    a: Expr
    den: int  # index into DENOMINATORS
    d: Expr

    def src(self, inst):
        fmt, _ = DENOMINATORS[self.den]
        dsrc = self.d.src(inst)
        absd = f"_abs({dsrc})" if inst else f"abs({dsrc})"
        return f"({self.a.src(inst)} / {fmt.format(d=dsrc, absd=absd)})"

    def bound(self, env):
        self.d.bound(env)
        return self.a.bound(env) / DENOMINATORS[self.den][1]


@dataclass
class Pow(Expr):
    a: Expr
    k: int

    def src(self, inst):
        return f"({self.a.src(inst)} ** {self.k})"

    def bound(self, env):
        return self.a.bound(env) ** self.k


@dataclass
class SqrtPow(Expr):
    """``((1.0 + d * d) ** 0.5)``: float exponent of a positive base."""

    d: Expr

    def src(self, inst):
        s = self.d.src(inst)
        return f"((1.0 + {s} * {s}) ** 0.5)"

    def bound(self, env):
        return math.sqrt(1.0 + self.d.bound(env) ** 2)


@dataclass
class Neg(Expr):
    a: Expr

    def src(self, inst):
        return f"(-{self.a.src(inst)})"

    def bound(self, env):
        return self.a.bound(env)


@dataclass
class Abs(Expr):
    a: Expr

    def src(self, inst):
        return f"{'_abs' if inst else 'abs'}({self.a.src(inst)})"

    def bound(self, env):
        return self.a.bound(env)


_E = math.e
# (format, bound(b_arg), duplicates-its-argument)
CALLS: List[Tuple[str, Callable[[float], float], bool]] = [
    ("np.sin({a})", lambda b: min(1.0, b), False),
    ("math.sin({a})", lambda b: min(1.0, b), False),
    ("np.cos({a})", lambda b: 1.0, False),
    ("math.cos({a})", lambda b: 1.0, False),
    ("np.tanh({a})", lambda b: min(1.0, b), False),
    ("np.arctan({a})", lambda b: min(math.pi / 2, b), False),
    ("np.exp(np.sin({a}))", lambda b: _E, False),
    ("np.exp(np.cos({a}))", lambda b: _E, False),
    ("np.exp(np.tanh({a}))", lambda b: _E, False),
    ("np.log(1.0 + {a} * {a})", lambda b: math.log1p(b * b), True),
    ("np.sqrt(1.0 + {a} * {a})", lambda b: math.sqrt(1.0 + b * b), True),
    ("np.sinh(np.sin({a}))", lambda b: math.sinh(1.0), False),
    ("np.cosh(np.sin({a}))", lambda b: math.cosh(1.0), False),
    ("np.sinh(np.tanh({a}))", lambda b: math.sinh(1.0), False),
    ("np.cosh(np.tanh({a}))", lambda b: math.cosh(1.0), False),
    ("np.arcsin(0.5 * np.sin({a}))", lambda b: math.pi / 6, False),
    ("np.arccos(0.5 * np.sin({a}))", lambda b: 2 * math.pi / 3, False),
    ("np.log1p({a} * {a})", lambda b: math.log1p(b * b), True),
    ("np.expm1(np.sin({a}))", lambda b: _E - 1.0, False),
    ("math.tan(0.5 * np.sin({a}))", lambda b: math.tan(0.5), False),
]
TANH = 4  # index of np.tanh in CALLS
SIN = 0


@dataclass
class Call(Expr):
    fn: int  # index into CALLS
    a: Expr

    def src(self, inst):
        return CALLS[self.fn][0].format(a=self.a.src(inst))

    def bound(self, env):
        return CALLS[self.fn][1](self.a.bound(env))


@dataclass
class ArrRead(Expr):
    """``arr[idx]``: one element of a local array (``idx`` is integer source)."""

    arr: str
    idx: str

    def src(self, inst):
        return f"{self.arr}[{self.idx}]"

    def bound(self, env):
        return env[self.arr]


ARRAY_REDUCTIONS = ["np.sum({a})", "{a}.sum()"]


@dataclass
class ArrSum(Expr):
    """``np.sum(arr)`` / ``arr.sum()`` of a local array."""

    arr: str
    form: int

    def src(self, inst):
        return ARRAY_REDUCTIONS[self.form].format(a=self.arr)

    def bound(self, env):
        return env[self.arr] * (MAX_N + ARRAY_SIZES[self.arr])


@dataclass
class HelperCall(Expr):
    """``h1(e1, e2[, m])``: a call of a helper returning one float."""

    helper: "Function"
    args: List[Expr]
    int_arg: Optional[str]

    def src(self, inst):
        parts = [a.src(inst) for a in self.args]
        if self.int_arg is not None:
            parts.append(self.int_arg)
        return f"{self.helper.name}({', '.join(parts)})"

    def bound(self, env):
        return self.helper.result_bounds([a.bound(env) for a in self.args])[0]


# wrappers used when an assignment could grow past SOFT_CAP:
# (format, bound(b)), with bound(b) <= b so a late wrap never invalidates bounds
WRAPS = [
    ("np.tanh({e})", lambda b: min(1.0, b)),
    ("np.arctan({e})", lambda b: min(math.pi / 2, b)),
    ("np.tanh(0.1 * {e})", lambda b: min(1.0, 0.1 * b)),
]


# --------------------------------------------------------------------------
# conditions


@dataclass
class DataCond:
    lhs: Expr
    op: str  # > < >= <=
    rhs: Expr

    def src(self, inst):
        if inst:
            fn = {">": "_gt", "<": "_lt", ">=": "_ge", "<=": "_le"}[self.op]
            return f"{fn}({self.lhs.src(inst)}, {self.rhs.src(inst)})"
        return f"{self.lhs.src(inst)} {self.op} {self.rhs.src(inst)}"

    def check(self, env):
        self.lhs.bound(env)
        self.rhs.bound(env)


@dataclass
class IntCond:
    text: str

    def src(self, inst):
        return self.text

    def check(self, env):
        pass


@dataclass
class BoolCond:
    """``c1 and c2`` / ``c1 or c2`` (short-circuit, as Python evaluates it)."""

    op: str  # and / or
    items: list

    def src(self, inst):
        parts = []
        for c in self.items:
            s = c.src(inst)
            parts.append(f"({s})" if isinstance(c, BoolCond) else s)
        return f" {self.op} ".join(parts)

    def check(self, env):
        for c in self.items:
            c.check(env)


@dataclass
class NotCond:
    item: object

    def src(self, inst):
        return f"not ({self.item.src(inst)})"

    def check(self, env):
        self.item.check(env)


# --------------------------------------------------------------------------
# statements


def _wrap(e: str, kind: int, wrapped: bool) -> str:
    return WRAPS[kind][0].format(e=e) if wrapped else e


@dataclass
class Assign:
    target: str
    expr: Expr
    wrap_kind: int
    wrapped: bool = False

    def lines(self, inst, ind):
        return [f"{ind}{self.target} = {_wrap(self.expr.src(inst), self.wrap_kind, self.wrapped)}"]


@dataclass
class AugAssign:
    target: str
    op: str  # += -= *=
    expr: Expr
    wrapped: bool = False
    can_wrap: bool = True  # False: the exact increment matters (a monotone while variable)

    def lines(self, inst, ind):
        e = self.expr.src(inst)
        if self.wrapped:
            e = f"np.tanh({e})"
        return [f"{ind}{self.target} {self.op} {e}"]


@dataclass
class TupleAssign:
    targets: List[str]
    exprs: List[Expr]
    wrap_kinds: List[int]
    wrapped: List[bool] = field(default_factory=list)

    def __post_init__(self):
        if not self.wrapped:
            self.wrapped = [False] * len(self.targets)

    def lines(self, inst, ind):
        parts = [_wrap(e.src(inst), wk, w) for e, wk, w in zip(self.exprs, self.wrap_kinds, self.wrapped)]
        return [f"{ind}{', '.join(self.targets)} = {', '.join(parts)}"]


@dataclass
class IntStmt:
    """Integer bookkeeping (``k = 0``, ``k += 1``): no floats involved."""

    text: str

    def lines(self, inst, ind):
        return [f"{ind}{self.text}"]


@dataclass
class If:
    branches: List[Tuple[object, list]]  # (cond, body)
    orelse: Optional[list]

    def lines(self, inst, ind):
        out = []
        for idx, (cond, body) in enumerate(self.branches):
            kw = "if" if idx == 0 else "elif"
            out.append(f"{ind}{kw} {cond.src(inst)}:")
            out.extend(_block_lines(body, inst, ind + "    "))
        if self.orelse is not None:
            out.append(f"{ind}else:")
            out.extend(_block_lines(self.orelse, inst, ind + "    "))
        return out


def _loop_body(body, inst, ind):
    out = [f"{ind}_tick()"] if inst else []
    return out + _block_lines(body, inst, ind)


@dataclass
class For:
    var: str
    iter_src: str
    body: list

    def lines(self, inst, ind):
        return [f"{ind}for {self.var} in {self.iter_src}:"] + _loop_body(self.body, inst, ind + "    ")


@dataclass
class ForEach:
    """``for var in arr:`` over a local array (``var`` is a float)."""

    var: str
    arr: str
    body: list

    def lines(self, inst, ind):
        return [f"{ind}for {self.var} in {self.arr}:"] + _loop_body(self.body, inst, ind + "    ")


@dataclass
class While:
    cond: object  # a condition, or None for ``while True``
    body: list

    def lines(self, inst, ind):
        head = "True" if self.cond is None else self.cond.src(inst)
        return [f"{ind}while {head}:"] + _loop_body(self.body, inst, ind + "    ")


class Break:
    def lines(self, inst, ind):
        return [f"{ind}break"]


class Continue:
    def lines(self, inst, ind):
        return [f"{ind}continue"]


@dataclass
class Return:
    exprs: List[Expr]
    wrap_kinds: List[int]
    wrapped: List[bool] = field(default_factory=list)
    can_wrap: bool = True

    def __post_init__(self):
        if not self.wrapped:
            self.wrapped = [False] * len(self.exprs)

    def lines(self, inst, ind):
        parts = [_wrap(e.src(inst), wk, w) for e, wk, w in zip(self.exprs, self.wrap_kinds, self.wrapped)]
        return [f"{ind}return {', '.join(parts)}"]


ARRAY_MAKERS = ["np.zeros({s})", "np.ones({s})", "np.empty({s})", "{src}.copy()", "np.copy({src})"]


@dataclass
class ArrNew:
    """A fresh local array: zeros, ones, empty (a fill loop follows), a copy of another."""

    name: str
    kind: int  # index into ARRAY_MAKERS
    src_arr: Optional[str] = None

    def lines(self, inst, ind):
        size = f"n + {ARRAY_SIZES[self.name]}"
        return [f"{ind}{self.name} = {ARRAY_MAKERS[self.kind].format(s=size, src=self.src_arr)}"]


@dataclass
class ArrAssign:
    """``arr[idx] = e`` / ``+=`` / ``-=`` / ``*=``."""

    arr: str
    idx: str
    op: str
    expr: Expr
    wrap_kind: int
    wrapped: bool = False

    def lines(self, inst, ind):
        e = self.expr.src(inst)
        if self.wrapped:
            e = WRAPS[self.wrap_kind][0].format(e=e) if self.op == "=" else f"np.tanh({e})"
        return [f"{ind}{self.arr}[{self.idx}] {self.op} {e}"]


@dataclass
class ArrSwap:
    arr: str
    i1: str
    i2: str

    def lines(self, inst, ind):
        a, i, j = self.arr, self.i1, self.i2
        return [f"{ind}{a}[{i}], {a}[{j}] = {a}[{j}], {a}[{i}]"]


@dataclass
class TupleCall:
    """``p, q = h(e1, e2[, m])`` for a helper returning a tuple."""

    targets: List[str]
    call: HelperCall

    def lines(self, inst, ind):
        return [f"{ind}{', '.join(self.targets)} = {self.call.src(inst)}"]


def _block_lines(stmts, inst, ind):
    out = []
    for s in stmts:
        out.extend(s.lines(inst, ind))
    return out


INSTRUMENT_HELPERS = f'''
_MARGINS = []
_TRACE = []
_TICKS = [0]


def _reset():
    del _MARGINS[:]
    del _TRACE[:]
    _TICKS[0] = 0


def _tick():
    _TICKS[0] += 1
    if _TICKS[0] > {RUNAWAY}:
        raise RuntimeError("runaway loop: the generator made a program that does not terminate")


def _gt(a, b):
    _MARGINS.append(abs(a - b))
    r = bool(a > b)
    _TRACE.append(r)
    return r


def _lt(a, b):
    _MARGINS.append(abs(a - b))
    r = bool(a < b)
    _TRACE.append(r)
    return r


def _ge(a, b):
    _MARGINS.append(abs(a - b))
    r = bool(a >= b)
    _TRACE.append(r)
    return r


def _le(a, b):
    _MARGINS.append(abs(a - b))
    r = bool(a <= b)
    _TRACE.append(r)
    return r


def _abs(a):
    _MARGINS.append(abs(a))
    _TRACE.append(bool(a >= 0))
    return abs(a)
'''


@dataclass
class Function:
    """``def name(params): body; return ret...``.  ``floats`` are the float parameters."""

    name: str
    floats: List[str]
    int_param: Optional[str]
    body: list
    ret: Return

    @property
    def arity(self):
        return len(self.ret.exprs)

    def lines(self, inst):
        params = self.floats + ([self.int_param] if self.int_param else [])
        out = [f"def {self.name}({', '.join(params)}):"]
        out.extend(_block_lines(self.body, inst, "    "))
        out.extend(self.ret.lines(inst, "    "))
        return out

    def result_bounds(self, arg_bounds):
        """Bounds of each returned value given bounds of the float arguments."""
        an = _Analyzer()
        env = an.block(self.body, dict(zip(self.floats, arg_bounds)))
        if env is not None:
            an.ret(self.ret, env)
        return [max(r[k] for r in an.returns) for k in range(self.arity)]


@dataclass(repr=False)
class Program:
    main: Function
    helpers: List[Function] = field(default_factory=list)
    features: frozenset = frozenset()
    ret_bound: float = math.inf

    @property
    def name(self):
        return self.main.name

    def __repr__(self):  # what hypothesis prints for a falsifying example
        return f"Program(features={sorted(self.features)}, source=\n{self.source})"

    def _repr_pretty_(self, printer, cycle):  # hypothesis' printer would list the IR instead
        printer.text(repr(self))

    @property
    def body(self):
        return self.main.body

    def _render(self, inst):
        lines = ["import math", "import numpy as np"]
        if inst:
            lines.append("")
            lines.extend(INSTRUMENT_HELPERS.strip("\n").split("\n"))
        for fn in self.helpers + [self.main]:
            lines.extend(["", ""] + fn.lines(inst))
        return "\n".join(lines) + "\n"

    @property
    def source(self):
        return self._render(False)

    @property
    def instrumented_source(self):
        return self._render(True)

    @property
    def function_source(self):
        """The functions only, without the imports (for messages)."""
        src = self.source
        return src[src.index("def ") :]


# --------------------------------------------------------------------------
# bound analysis (also decides which assignments get wrapped)


def _join(envs, keys):
    return {k: max(e[k] for e in envs) for k in keys}


class _Analyzer:
    """Abstract run over magnitude bounds: ``env`` maps a float variable or a
    local array (all of its elements) to a bound of its absolute value.

    A loop is run ``MAX_TRIPS`` times from its entry state, joining every
    state an iteration can end in (its end, each ``continue``) into the next
    trip and every state the loop can be left in (a ``break``, any trip's start)
    into the state after it; a ``return`` records the bounds it returns.
    Joining more states than can really occur only loosens the bounds.
    """

    def __init__(self):
        self.loops: List[dict] = []
        self.returns: List[List[float]] = []

    def block(self, stmts, env):
        """The state after ``stmts``, or None when every path through them jumps away."""
        for s in stmts:
            env = self.stmt(s, env)
            if env is None:
                return None
        return env

    def ret(self, s: Return, env):
        out = []
        for idx, e in enumerate(s.exprs):
            b = e.bound(env)
            if b > SOFT_CAP and s.can_wrap:
                s.wrapped[idx] = True
            if s.wrapped[idx]:
                b = WRAPS[s.wrap_kinds[idx]][1](b)
            out.append(b)
        self.returns.append(out)

    def loop(self, s, env):
        keys = set(env)
        frame = {"break": [], "continue": []}
        acc = [env]
        cur = env
        trips = MAX_N + ARRAY_SIZES[s.arr] if isinstance(s, ForEach) else MAX_TRIPS
        for _ in range(trips):
            start = dict(cur)
            if isinstance(s, While) and s.cond is not None:
                s.cond.check(start)
            if isinstance(s, ForEach):
                start[s.var] = start[s.arr]
            self.loops.append(frame)
            end = self.block(s.body, start)
            self.loops.pop()
            nxt = [e for e in [end] + frame["continue"] if e is not None]
            if not nxt:
                break  # every trip leaves the loop
            cur = _join(nxt, keys)
            acc.append(cur)
        if isinstance(s, While) and s.cond is not None:
            s.cond.check(cur)
        return _join(acc + frame["break"], keys)

    def stmt(self, s, env):
        env = dict(env)
        if isinstance(s, Assign):
            b = s.expr.bound(env)
            if b > SOFT_CAP:
                s.wrapped = True
            if s.wrapped:
                b = WRAPS[s.wrap_kind][1](b)
            env[s.target] = b
        elif isinstance(s, AugAssign):
            be = s.expr.bound(env)
            bt = env[s.target]
            b = bt * be if s.op == "*=" else bt + be
            if b > SOFT_CAP and s.can_wrap:
                s.wrapped = True
            if s.wrapped:
                be = min(1.0, be)
                b = bt * be if s.op == "*=" else bt + be
            env[s.target] = b
        elif isinstance(s, TupleAssign):
            new = []
            for idx, e in enumerate(s.exprs):
                b = e.bound(env)
                if b > SOFT_CAP:
                    s.wrapped[idx] = True
                if s.wrapped[idx]:
                    b = WRAPS[s.wrap_kinds[idx]][1](b)
                new.append(b)
            for t, b in zip(s.targets, new):
                env[t] = b
        elif isinstance(s, IntStmt):
            pass
        elif isinstance(s, If):
            outs = []
            for cond, body in s.branches:
                cond.check(env)
                outs.append(self.block(body, env))
            outs.append(self.block(s.orelse, env) if s.orelse is not None else env)
            outs = [o for o in outs if o is not None]
            if not outs:
                return None
            keys = set(outs[0])
            for o in outs[1:]:
                keys &= set(o)
            env = _join(outs, keys)
        elif isinstance(s, (For, ForEach, While)):
            env = self.loop(s, env)
        elif isinstance(s, Break):
            self.loops[-1]["break"].append(env)
            return None
        elif isinstance(s, Continue):
            self.loops[-1]["continue"].append(env)
            return None
        elif isinstance(s, Return):
            self.ret(s, env)
            return None
        elif isinstance(s, ArrNew):
            if s.kind == 0:
                env[s.name] = 0.0
            elif s.kind == 1:
                env[s.name] = 1.0
            elif s.kind == 2:
                env[s.name] = 0.0  # np.empty: a loop filling every element follows
            else:
                env[s.name] = env[s.src_arr]
        elif isinstance(s, ArrAssign):
            be = s.expr.bound(env)
            old = env[s.arr]
            if s.op == "=":
                b = be
                if b > SOFT_CAP:
                    s.wrapped = True
                if s.wrapped:
                    b = WRAPS[s.wrap_kind][1](b)
                env[s.arr] = max(old, b)
            else:
                b = old * be if s.op == "*=" else old + be
                if b > SOFT_CAP:
                    s.wrapped = True
                if s.wrapped:
                    be = min(1.0, be)
                    b = old * be if s.op == "*=" else old + be
                env[s.arr] = max(old, b)
        elif isinstance(s, ArrSwap):
            pass
        elif isinstance(s, TupleCall):
            bounds = s.call.helper.result_bounds([a.bound(env) for a in s.call.args])
            for t, b in zip(s.targets, bounds):
                env[t] = b
        else:  # pragma: no cover
            raise TypeError(s)
        return env


def finalize(prog: Program) -> Program:
    """Run the bound analysis over ``prog`` (wrapping what could grow too large)."""
    env = {"x": INPUT_BOUND, "y": INPUT_BOUND}
    an = _Analyzer()
    env = an.block(prog.main.body, env)
    if env is not None:
        an.ret(prog.main.ret, env)
    prog.ret_bound = max(r[0] for r in an.returns)
    return prog


# --------------------------------------------------------------------------
# generation


@dataclass
class _Ctx:
    scope: List[str]  # float variables definitely assigned here
    counters: List[str]  # integer counters usable here (innermost last)
    cmax: Dict[str, int] = field(default_factory=dict)  # counter -> d with 0 <= counter <= N + d
    ints: List[str] = field(default_factory=list)  # ["n"] in prog, ["m"] in a helper taking one
    arrays: List[str] = field(default_factory=list)  # local arrays definitely assigned here
    readonly: List[str] = field(default_factory=list)  # names that must not be assigned here
    helpers: List[Function] = field(default_factory=list)  # callable helpers
    loop_depth: int = 0
    if_depth: int = 0
    in_branch: bool = False  # directly inside an if (within the innermost loop, if any)
    arity: int = 1  # how many values this function returns
    in_helper: bool = False

    def child(self, **kw):
        c = _Ctx(
            list(self.scope), list(self.counters), dict(self.cmax), list(self.ints), list(self.arrays),
            list(self.readonly), list(self.helpers), self.loop_depth, self.if_depth, self.in_branch,
            self.arity, self.in_helper,
        )
        for k, v in kw.items():
            setattr(c, k, v)
        return c

    def writable(self):
        return [v for v in self.scope if v not in self.readonly]

    @property
    def N(self):
        return self.ints[0] if self.ints else None


_TERMINATORS = (Break, Continue, Return)


class _Gen:
    def __init__(self, ch, features=SUPPORTED_FEATURES, max_stmts=6, max_expr_depth=3):
        self.ch = ch
        self.f = frozenset(features)
        for feat, needs in _REQUIRES.items():  # (in dependency order)
            if feat in self.f and needs not in self.f:
                self.f = self.f - {feat}
        self.max_stmts = max_stmts
        self.max_expr_depth = max_expr_depth
        self.budget = 14  # total statements in the whole program

    def on(self, feature):
        return feature in self.f

    def returns_ok(self, ctx):
        """May this function return early, here?"""
        return (self.on("return") and (ctx.arity == 1 or self.on("tuple_early_return"))
                and (ctx.loop_depth == 0 or self.on("loop_return")))

    # ---- expressions
    def leaf(self, ctx, need_var=False) -> Expr:
        kinds = [("var", 6), ("const", 2), ("int", 1)]
        if ctx.arrays:
            kinds.append(("arr", 3))
        if not ctx.counters and not ctx.ints:
            kinds = [k for k in kinds if k[0] != "int"]
        if need_var:
            kinds = [k for k in kinds if k[0] in ("var", "arr")]
        kind = _weighted(self.ch, kinds)
        if kind == "var":
            return Var(self.ch.choice(ctx.scope))
        if kind == "arr":
            a = self.ch.choice(ctx.arrays)
            if self.ch.integer(0, 5) == 0:
                return ArrSum(a, self.ch.integer(0, len(ARRAY_REDUCTIONS) - 1))
            return ArrRead(a, self.index(ctx, a))
        if kind == "const":
            return Const(_const(self.ch))
        name = self.ch.choice(ctx.counters + ctx.ints)
        return IntScaled(_const(self.ch, 1, 100), name)

    def expr(self, ctx, depth, need_var=True) -> Expr:
        """An expression of nesting depth <= ``depth``.

        With ``need_var`` it mentions at least one float variable, so no
        constant-only calls such as ``abs(0.72)`` are produced.
        """
        if depth <= 0:
            return self.leaf(ctx, need_var)
        kinds = [
            ("leaf", 3),
            ("bin", 6),
            ("call", 5),
            ("div", 2),
            ("pow", 2),
            ("sqrtpow", 1),
            ("neg", 1),
            ("abs", 1),
        ]
        scalar_helpers = [h for h in ctx.helpers if h.arity == 1]
        if scalar_helpers:
            kinds.append(("helper", 2))
        kind = _weighted(self.ch, kinds)
        if kind == "leaf":
            return self.leaf(ctx, need_var)
        if kind == "bin":
            op = self.ch.choice(["+", "*", "-"])
            a = self.expr(ctx, depth - 1, need_var)
            b = self.expr(ctx, depth - 1, False)
            if self.ch.integer(0, 2) == 0:
                a, b = b, a
            if op == "-" and a.src(False) == b.src(False):
                op = "+"  # not a constant 0.0 (an abs or a comparison of it is always at its kink)
            return Bin(op, a, b)
        if kind == "call":
            fn = self.ch.integer(0, len(CALLS) - 1)
            sub = depth - 1 if not CALLS[fn][2] else min(depth - 1, 1)
            return Call(fn, self.expr(ctx, sub))
        if kind == "div":
            den = self.ch.integer(0, len(DENOMINATORS) - 1)
            return Div(self.expr(ctx, depth - 1, need_var), den, self.expr(ctx, min(depth - 1, 1)))
        if kind == "pow":
            return Pow(self.expr(ctx, depth - 1), self.ch.choice([2, 3]))
        if kind == "sqrtpow":
            return SqrtPow(self.expr(ctx, min(depth - 1, 1)))
        if kind == "neg":
            return Neg(self.expr(ctx, depth - 1))
        if kind == "helper":
            return self.helper_call(ctx, self.ch.choice(scalar_helpers), depth - 1)
        inner = self.expr(ctx, depth - 1)
        if isinstance(inner, (ArrRead, ArrSum)):
            return Neg(inner)  # an untouched element is exactly 0.0 (or 1.0): abs would sit at its kink
        return Abs(inner)

    def helper_call(self, ctx, h, depth):
        args = [self.expr(ctx, min(depth, 1), need_var=(i == 0)) for i in range(len(h.floats))]
        if args[1].src(False) == args[0].src(False):
            # equal arguments put every comparison of u with v at its kink
            args[1] = Bin("+", args[1], Const(self.ch.choice([0.5, -0.75, 1.25])))
        int_arg = None
        if h.int_param:
            # an int in 0..MAX_N: n / m, a counter that never exceeds it, or a constant
            opts = list(ctx.ints) + [c for c in ctx.counters if ctx.N is not None and ctx.cmax.get(c, 9) <= 0]
            opts += [str(self.ch.integer(0, 3))]
            int_arg = self.ch.choice(opts)
        return HelperCall(h, args, int_arg)

    def top_expr(self, ctx):
        return self.expr(ctx, self.ch.integer(1, self.max_expr_depth))

    # ---- array indices (integer source, always in range)
    def index(self, ctx, arr):
        s = ARRAY_SIZES[arr]  # size n + s
        forms = []
        for c in ctx.counters:
            d = ctx.cmax.get(c)
            if d is None:
                continue
            if d <= s - 1:
                forms += [(c, 4), (f"-1 - {c}", 1)]
            if d <= s - 2:
                forms.append((f"{c} + 1", 1))
            if d <= s:
                forms.append((f"n - {c}", 1))
            forms.append((f"{c} % 2", 1))
        consts = [str(k) for k in range(s)] + [str(-k) for k in range(1, s + 1)]
        forms.append(("const", 3))
        forms += [("n", 1), ("n + 1", 1)] if s >= 2 else [("n", 1)]
        idx = _weighted(self.ch, forms)
        if idx == "const":
            idx = self.ch.choice(consts)
        return idx

    def adjacent(self, ctx, arr):
        """Two distinct in-range indices, usually neighbours."""
        s = ARRAY_SIZES[arr]
        pairs = [(c, f"{c} + 1") for c in ctx.counters if ctx.cmax.get(c, 99) <= s - 2]
        pairs += [("0", "1"), ("-2", "-1"), ("0", "-1")]
        return self.ch.choice(pairs)

    # ---- conditions
    def simple_cond(self, ctx):
        kinds = [("data", 4)]
        if ctx.N is not None:
            kinds.append(("nint", 1))
        if ctx.counters:
            kinds.append(("counter", 3))
        kind = _weighted(self.ch, kinds)
        if kind == "data":
            shape = _weighted(self.ch, [("var", 3), ("expr", 2), ("two", 1)])
            if shape == "var":
                lhs = Var(self.ch.choice(ctx.scope))
            else:
                lhs = self.expr(ctx, self.ch.integer(1, 2))
            if shape == "two" and len(ctx.scope) >= 2:
                a = self.ch.choice(ctx.scope)
                b = self.ch.choice([v for v in ctx.scope if v != a])
                lhs, rhs = Var(a), Var(b)
            else:
                rhs = Const(_const(self.ch, -100, 100))
            op = self.ch.choice([">", "<", ">=", "<="])
            return DataCond(lhs, op, rhs)
        if kind == "nint":
            return IntCond(f"{ctx.N} > {self.ch.integer(0, 3)}")
        i = self.ch.choice(ctx.counters)
        form = self.ch.integer(0, 4)
        if form == 0:
            return IntCond(f"{i} % 2 == 0")
        if form == 1:
            return IntCond(f"{i} % 3 == {self.ch.integer(0, 2)}")
        if form == 2:
            return IntCond(f"{i} > {self.ch.integer(0, 2)}")
        if form == 3:
            return IntCond(f"{i} < {ctx.N} - 1" if ctx.N else f"{i} < 1")
        if len(ctx.counters) >= 2:
            return IntCond(f"{ctx.counters[0]} == {ctx.counters[1]}")
        return IntCond(f"{i} == 1")

    def cond(self, ctx, depth=2):
        if not self.on("boolops") or depth <= 0:
            return self.simple_cond(ctx)
        kind = _weighted(self.ch, [("simple", 5), ("and", 1), ("or", 1), ("not", 1)])
        if kind == "simple":
            return self.simple_cond(ctx)
        if kind == "not":
            return NotCond(self.cond(ctx, depth - 1))
        return BoolCond(kind, [self.cond(ctx, depth - 1) for _ in range(self.ch.choice([2, 2, 3]))])

    def data_cond(self, ctx):
        """A condition that depends on the data (used where a counter already bounds a loop)."""
        c = self.cond(ctx)
        while not _mentions_data(c):
            c = self.simple_cond(ctx)
        return c

    # ---- statements
    def block(self, ctx, lo, hi):
        hi = max(lo, min(hi, self.budget))
        count = self.ch.integer(lo, hi)
        stmts = []
        for _ in range(count):
            if self.budget <= 0 and stmts:
                break
            self.budget -= 1
            new = self.stmt(ctx)
            stmts.extend(new if isinstance(new, list) else [new])
            if isinstance(stmts[-1], _TERMINATORS):
                break  # no unreachable statements
        return stmts

    def new_name(self, ctx):
        free = [v for v in FLOAT_NAMES if v not in ctx.scope and v not in ctx.readonly]
        return self.ch.choice(free) if free else self.ch.choice(ctx.writable())

    def target(self, ctx):
        if _weighted(self.ch, [("new", 3), ("old", 2)]) == "new":
            return self.new_name(ctx)
        return self.ch.choice(ctx.writable())

    def ret_stmt(self, ctx):
        exprs = [self.top_expr(ctx) for _ in range(ctx.arity)]
        return Return(exprs, [self.ch.integer(0, len(WRAPS) - 1) for _ in exprs])

    def jump(self, ctx, kind):
        if kind == "break":
            return Break()
        if kind == "continue":
            return Continue()
        return self.ret_stmt(ctx)

    def stmt(self, ctx):
        ch = self.ch
        nest = ctx.if_depth + ctx.loop_depth
        kinds = [("assign", 6), ("aug", 2), ("tuple", 2)]
        if ctx.if_depth < 2 and nest < 3:
            kinds.append(("if", 3))
        if ctx.loop_depth < 2 and nest < 3:
            kinds.append(("for", 3))
            if self.on("while") and [c for c in WHILE_COUNTERS if c not in ctx.counters]:
                kinds.append(("while", 3))
            if self.on("foreach") and ctx.arrays:
                kinds.append(("foreach", 4))
        if ctx.loop_depth > 0:
            kinds.append(("damp", 3))
            if self.on("break"):
                kinds += [("guard", 3), ("break", 2 if ctx.in_branch else 1), ("continue", 1)]
        if self.returns_ok(ctx) and (ctx.in_branch or ctx.loop_depth > 0):
            kinds.append(("return", 2 if ctx.in_branch else 1))
        if self.returns_ok(ctx) and not ctx.in_branch:
            kinds.append(("guard_return", 1))
        if self.on("arrays") and not ctx.in_helper:
            kinds.append(("arr_new", 3 if not ctx.arrays else 2))
            if self.on("array_writes") and [a for a in ctx.arrays if a not in ctx.readonly]:
                kinds += [("arr_write", 6), ("arr_swap", 1), ("arr_sortstep", 1)]
        if ctx.helpers:
            kinds.append(("hcall", 3))
        kind = _weighted(ch, kinds)

        if kind == "assign":
            e = self.top_expr(ctx)
            t = self.target(ctx)
            s = Assign(t, e, ch.integer(0, len(WRAPS) - 1))
            if t not in ctx.scope:
                ctx.scope.append(t)
            return s
        if kind == "damp":
            # loop-carried variable overwritten every iteration
            t = ch.choice(ctx.writable())
            form = ch.integer(0, 2)
            e = self.expr(ctx, ch.integer(0, 2))
            if form == 0:
                rhs = Bin("+", Bin("*", Const(ch.choice([0.5, -0.5, 0.9, 0.25])), Var(t)), e)
            elif form == 1:
                rhs = Call(ch.choice([0, 4]), Bin(ch.choice(["+", "*"]), Var(t), e))
            else:
                rhs = Bin("*", Const(0.5), Call(ch.integer(0, len(CALLS) - 1), Bin("-", e, Var(t))))
            return Assign(t, rhs, ch.integer(0, len(WRAPS) - 1))
        if kind == "aug":
            t = ch.choice(ctx.writable())
            op = ch.choice(["+=", "*=", "-="])
            return AugAssign(t, op, self.top_expr(ctx))
        if kind == "tuple":
            return self.tuple_stmt(ctx)
        if kind == "if":
            return self.if_stmt(ctx)
        if kind == "for":
            return self.for_stmt(ctx)
        if kind == "while":
            return self.while_stmt(ctx)
        if kind == "foreach":
            arr = ch.choice(ctx.arrays)
            var = self.new_name(ctx)
            sub = self.loop_ctx(ctx)
            if var not in sub.scope:
                sub.scope.append(var)
            sub.readonly += [var, arr]
            body = self.block(sub, 1, 4)
            return ForEach(var, arr, body)
        if kind in ("break", "continue", "return"):
            return self.jump(ctx, kind)
        if kind in ("guard", "guard_return"):
            jk = "return" if kind == "guard_return" else _weighted(ch, [("break", 3), ("continue", 2)] + (
                [("return", 1)] if self.returns_ok(ctx) else []))
            sub = ctx.child(if_depth=ctx.if_depth + 1, in_branch=True)
            body = []
            if ch.integer(0, 2) == 0 and self.budget > 0:
                self.budget -= 1
                first = self.stmt(sub)
                body = first if isinstance(first, list) else [first]
            if not (body and isinstance(body[-1], _TERMINATORS)):
                body.append(self.jump(sub, jk))
            return If([(self.data_cond(ctx), body)], None)
        if kind == "arr_new":
            return self.arr_new(ctx)
        if kind == "arr_write":
            arr = ch.choice([a for a in ctx.arrays if a not in ctx.readonly])
            form = _weighted(ch, [("set", 3), ("aug", 3), ("kill", 1)])
            idx = self.index(ctx, arr)
            if form == "kill":
                return ArrAssign(arr, idx, "=", Const(ch.choice([0.0, 0.0, 1.0, -0.5])), 0)
            op = "=" if form == "set" else ch.choice(["+=", "-=", "*="])
            return ArrAssign(arr, idx, op, self.top_expr(ctx), ch.integer(0, len(WRAPS) - 1))
        if kind == "arr_swap":
            arr = ch.choice([a for a in ctx.arrays if a not in ctx.readonly])
            i1, i2 = self.adjacent(ctx, arr)
            return ArrSwap(arr, i1, i2)
        if kind == "arr_sortstep":
            # one compare-and-swap step of a bubble sort: data-dependent swap
            arr = ch.choice([a for a in ctx.arrays if a not in ctx.readonly])
            i1, i2 = self.adjacent(ctx, arr)
            op = ch.choice([">", "<"])
            # (an offset: untouched elements are equal, and equal elements sit at the kink)
            cond = DataCond(ArrRead(arr, i1), op, Bin("+", ArrRead(arr, i2), Const(ch.choice([0.25, -0.25, 0.5]))))
            return If([(cond, [ArrSwap(arr, i1, i2)])], None)
        if kind == "hcall":
            h = ch.choice(ctx.helpers)
            call = self.helper_call(ctx, h, ch.integer(0, 2))
            if h.arity == 1:
                t = self.target(ctx)
                if t not in ctx.scope:
                    ctx.scope.append(t)
                return Assign(t, call, ch.integer(0, len(WRAPS) - 1))
            targets = []
            while len(targets) < h.arity:
                t = self.target(ctx.child(scope=ctx.scope + targets))
                if t not in targets:
                    targets.append(t)
            for t in targets:
                if t not in ctx.scope:
                    ctx.scope.append(t)
            return TupleCall(targets, call)
        raise AssertionError(kind)  # pragma: no cover

    def tuple_stmt(self, ctx):
        ch = self.ch
        k = ch.choice([2, 2, 3])
        targets = []
        pool = ctx.writable()
        for _ in range(k):
            if pool and _weighted(ch, [("old", 2), ("new", 1)]) == "old":
                t = ch.choice(pool)
            else:
                t = self.new_name(ctx.child(scope=ctx.scope + targets))
            if t in targets:
                continue
            targets.append(t)
            if t in pool:
                pool.remove(t)
        if len(targets) < 2:
            # fall back to the classic swap-and-add
            a = ch.choice(ctx.writable())
            b = self.new_name(ctx.child(scope=ctx.scope + [a]))
            targets = [a, b]
        exprs = []
        for idx, t in enumerate(targets):
            if idx == 0 and len(targets) >= 2 and targets[1] in ctx.scope and ch.integer(0, 1):
                exprs.append(Var(targets[1]))  # a, b = b, ...
            else:
                exprs.append(self.expr(ctx, ch.integer(1, 2)))
        s = TupleAssign(targets, exprs, [ch.integer(0, len(WRAPS) - 1) for _ in targets])
        for t in targets:
            if t not in ctx.scope:
                ctx.scope.append(t)
        return s

    def if_stmt(self, ctx):
        ch = self.ch
        nbranch = ch.choice([1, 1, 2, 3])
        has_else = ch.integer(0, 2) > 0
        branches = []
        outs = []
        for _ in range(nbranch):
            cond = self.cond(ctx)
            sub = ctx.child(if_depth=ctx.if_depth + 1, in_branch=True)
            body = self.block(sub, 1, 3)
            branches.append((cond, body))
            outs.append((sub, body))
        orelse = None
        if has_else:
            sub = ctx.child(if_depth=ctx.if_depth + 1, in_branch=True)
            orelse = self.block(sub, 1, 3)
            outs.append((sub, orelse))
            # what every branch assigns (with flow_scope: every branch that falls
            # through) is defined after the if
            if self.on("flow_scope"):
                falls = [o for o, body in outs if not isinstance(body[-1], _TERMINATORS)]
            else:
                falls = [o for o, _ in outs]
            if falls:
                for v in falls[0].scope:
                    if v not in ctx.scope and all(v in o.scope for o in falls[1:]):
                        ctx.scope.append(v)
                for a in falls[0].arrays:
                    if a not in ctx.arrays and all(a in o.arrays for o in falls[1:]):
                        ctx.arrays.append(a)
        return If(branches, orelse)

    def loop_ctx(self, ctx, **kw):
        return ctx.child(loop_depth=ctx.loop_depth + 1, in_branch=False, **kw)

    def for_stmt(self, ctx):
        ch = self.ch
        free = [c for c in COUNTER_NAMES if c not in ctx.counters]
        var = ch.choice(free)
        N = ctx.N
        if N is not None:
            forms = [(f"range({N})", -1), (f"range(1, {N} + 1)", 0), (f"range({N}, 0, -1)", 0)]
            if ctx.arrays or self.on("arrays") and not ctx.in_helper:
                forms += [(f"range({N} + 2)", 1), (f"range({N} + 1)", 0)]
        else:
            forms = [("range(2)", 1), ("range(3)", 2)]
        outers = [c for c in ctx.counters if ctx.cmax.get(c, 99) <= 1]
        if outers:
            outer = outers[-1]
            d = ctx.cmax[outer]
            forms += [(f"range({outer})", d - 1), (f"range({outer} + 1)", d)]
        it, d = ch.choice(forms)
        sub = self.loop_ctx(ctx, counters=ctx.counters + [var])
        sub.cmax[var] = d
        body = self.block(sub, 1, 4)
        return For(var, it, body)

    def while_stmt(self, ctx):
        """A bounded while loop, with its set-up statements (a list)."""
        ch = self.ch
        forms = [("guarded", 4)]
        if self.on("break"):
            forms.append(("true", 2))
        forms.append(("monotone", 2))
        form = _weighted(ch, forms)
        if form == "monotone":
            # v grows by >= 0.5 a trip from |v| < 1 up to at most 1.5: <= 5 trips
            v = self.new_name(ctx)
            init = Assign(v, Call(TANH, self.expr(ctx, ch.integer(0, 2))), 0)
            limit = ch.choice([0.5, 1.0, 1.5, -0.25])
            sub = self.loop_ctx(ctx)
            if v not in sub.scope:
                sub.scope.append(v)
            sub.readonly.append(v)
            step = AugAssign(v, "+=", Bin("+", Const(0.75), Bin("*", Const(0.25),
                                                                Call(SIN, self.expr(sub, ch.integer(0, 2))))),
                             can_wrap=False)
            cond = DataCond(Var(v), "<", Const(limit))
            if self.on("boolops") and ch.integer(0, 2) == 0:
                # more conditions, only ever ending the loop sooner
                cond = BoolCond("and", [cond, self.cond(sub.child(scope=sub.scope))])
                if ch.integer(0, 1):
                    cond.items.reverse()
            body = [step] + self.block(sub, 0 if ch.integer(0, 1) else 1, 3)
            if v not in ctx.scope:
                ctx.scope.append(v)
            return [init, While(cond, body)]
        k = ch.choice([c for c in WHILE_COUNTERS if c not in ctx.counters])
        N = ctx.N
        if form == "guarded":
            # k = 0; while k < L [and/or data]: k += 1; ...   (k <= L in the body and after)
            if N is not None:
                limits = [(f"{k} < {N}", 0), (f"{k} < {N} + 1", 1), (f"{k} <= {N}", 1), (f"{k} < 3", 3)]
            else:
                limits = [(f"{k} < 2", 2), (f"{k} < 3", 3)]
            gtext, d = ch.choice(limits)
            sub = self.loop_ctx(ctx, counters=ctx.counters + [k])
            sub.cmax[k] = d
            guard = IntCond(gtext)
            if self.on("boolops") and ch.integer(0, 4) > 0:
                shape = _weighted(ch, [("and", 4), ("rand", 2), ("or", 1)])
                c = self.data_cond(sub)
                if shape == "and":
                    cond = BoolCond("and", [guard, c])
                elif shape == "rand":
                    cond = BoolCond("and", [c, guard])
                else:
                    # (k < L and c) or k < 1: still at most max(L, 1) trips
                    cond = BoolCond("or", [BoolCond("and", [guard, c]), IntCond(f"{k} < 1")])
                    sub.cmax[k] = max(d, 1)
            else:
                cond = guard
            body = [IntStmt(f"{k} += 1")] + self.block(sub, 1, 4)
            loop = While(cond, body)
            after = sub.cmax[k]
        else:
            # while True: k += 1; if k > L [or data]: break; ...
            if N is not None:
                limits = [(N, 0), (f"{N} - 1", 0), ("2", 2)]
            else:
                limits = [("2", 2), ("3", 3)]
            lim, d = ch.choice(limits)
            sub = self.loop_ctx(ctx, counters=ctx.counters + [k])
            sub.cmax[k] = d
            guard = IntCond(f"{k} > {lim}")
            if self.on("boolops") and ch.integer(0, 1):
                gctx = sub.child()
                gctx.cmax[k] = d + 1  # the guard also sees the last increment
                c = self.data_cond(gctx)
                items = [guard, c] if ch.integer(0, 1) else [c, guard]
                guard = BoolCond("or", items)
            body = [IntStmt(f"{k} += 1"), If([(guard, [Break()])], None)] + self.block(sub, 1, 4)
            loop = While(None, body)
            after = d + 1
        ctx.counters.append(k)  # the counter outlives the loop (and holds its trip count)
        ctx.cmax[k] = after
        return [IntStmt(f"{k} = 0"), loop]

    def arr_new(self, ctx):
        ch = self.ch
        names = [a for a in ARRAY_SIZES if a not in ctx.readonly]
        if ctx.arrays and ch.integer(0, 1):
            # a copy of an array (into another name for arrays of its size)
            src = ch.choice(ctx.arrays)
            partners = [a for a in names if a != src and ARRAY_SIZES[a] == ARRAY_SIZES[src]]
            if partners:
                name = ch.choice(partners)
                if name not in ctx.arrays:
                    ctx.arrays.append(name)
                return [ArrNew(name, ch.choice([3, 3, 4]), src)]
        fresh = [a for a in names if a not in ctx.arrays]
        name = ch.choice(fresh if fresh and ch.integer(0, 3) else names)
        kinds = [(0, 3), (1, 2)]
        free = [c for c in COUNTER_NAMES if c not in ctx.counters]
        if free and self.on("array_writes"):
            kinds.append((2, 2))
        kind = _weighted(ch, kinds)
        out = [ArrNew(name, kind)]
        if kind == 2:
            # np.empty: fill every element before anything reads it
            var = ch.choice(free)
            sub = self.loop_ctx(ctx, counters=ctx.counters + [var])
            sub.arrays = [a for a in sub.arrays if a != name]  # its elements are garbage until filled
            sub.cmax[var] = ARRAY_SIZES[name] - 1
            fill = ArrAssign(name, var, "=", self.top_expr(sub), ch.integer(0, len(WRAPS) - 1))
            out.append(For(var, f"range(n + {ARRAY_SIZES[name]})", [fill]))
        if name not in ctx.arrays:
            ctx.arrays.append(name)
        return out

    def helper(self, index, callable_helpers):
        ch = self.ch
        arity = 2 if self.on("helper_tuples") and ch.integer(0, 2) == 0 else 1
        int_param = "m" if ch.integer(0, 1) else None
        ctx = _Ctx(scope=["u", "v"], counters=[], ints=[int_param] if int_param else [],
                   helpers=list(callable_helpers), arity=arity, in_helper=True)
        saved = self.budget
        self.budget = 5
        body = self.block(ctx, 1, 3)
        self.budget = saved
        ret = self.ret_stmt(ctx)
        return Function(HELPER_NAMES[index], ["u", "v"], int_param, body, ret)

    def program(self):
        helpers = []
        if self.on("helpers"):
            for idx in range(self.ch.choice([1, 1, 1, 2, 2, 3])):
                helpers.append(self.helper(idx, helpers))
        ctx = _Ctx(scope=["x", "y"], counters=[], ints=["n"], helpers=list(helpers))
        body = []
        if self.on("arrays") and self.ch.integer(0, 1):
            body = self.arr_new(ctx)  # an array at the top, for the rest to use
            self.budget -= 1
        body += self.block(ctx, 1, self.max_stmts)
        # every helper is called somewhere: call the ones nothing calls yet at the end
        forced = []
        for h in reversed(helpers):
            if not any(h is c for c in _called(body)):
                call = HelperCall(h, [self.expr(ctx, 1), self.expr(ctx, 1, False)][: len(h.floats)],
                                  "n" if h.int_param else None)
                targets = []
                while len(targets) < h.arity:
                    targets.append(self.new_name(ctx.child(scope=ctx.scope + targets)))
                body.append(Assign(targets[0], call, 0) if h.arity == 1 else TupleCall(targets, call))
                forced += [t for t in targets if t not in forced]
                ctx.scope += [t for t in targets if t not in ctx.scope]
        ret = self.top_expr(ctx)
        if _weighted(self.ch, [("expr", 1), ("all", 2)]) == "all":
            # make the result depend on every variable still in scope
            for v in ctx.scope:
                ret = Bin("+", ret, Bin("*", Const(_const(self.ch, -100, 100)), Var(v)))
            for a in ctx.arrays:
                ret = Bin("+", ret, Bin("*", Const(_const(self.ch, -100, 100)), ArrRead(a, self.index(ctx, a))))
        else:
            for v in forced:
                ret = Bin("+", ret, Bin("*", Const(_const(self.ch, -100, 100)), Var(v)))
        main = Function("prog", ["x", "y"], "n", body, Return([ret], [0], can_wrap=False))
        return finalize(Program(main, helpers, self.f))


def _nodes(obj):
    """Every IR node reachable from ``obj`` (not descending into called helpers)."""
    if isinstance(obj, (list, tuple)):
        for item in obj:
            yield from _nodes(item)
    elif hasattr(obj, "__dataclass_fields__") or isinstance(obj, (Break, Continue)):
        yield obj
        for name in getattr(obj, "__dataclass_fields__", ()):
            if not (isinstance(obj, HelperCall) and name == "helper"):
                yield from _nodes(getattr(obj, name))


def _called(stmts):
    """The helpers called (directly, or through another helper called) in ``stmts``."""
    out = []
    todo = [n.helper for n in _nodes(stmts) if isinstance(n, HelperCall)]
    while todo:
        h = todo.pop()
        if not any(h is o for o in out):
            out.append(h)
            todo += [n.helper for n in _nodes([h.body, h.ret]) if isinstance(n, HelperCall)]
    return out


def _mentions_data(cond):
    if isinstance(cond, DataCond):
        return True
    if isinstance(cond, BoolCond):
        return any(_mentions_data(c) for c in cond.items)
    if isinstance(cond, NotCond):
        return _mentions_data(cond.item)
    return False


def generate(ch, features=None) -> Program:
    return _Gen(ch, features_from_env() if features is None else features).program()


def random_program(seed, features=None) -> Program:
    return generate(RandomChooser(seed), features)


def programs(features=None):
    """Hypothesis strategy producing ``Program`` objects (``features``: default from the environment)."""
    from hypothesis import strategies as st

    feats = features_from_env() if features is None else frozenset(features)

    @st.composite
    def _programs(draw):
        return generate(DrawChooser(draw), feats)

    return _programs()


# --------------------------------------------------------------------------
# loading


def load_module(source: str, directory, prefix="adjit_randprog"):
    """Write ``source`` to a file in ``directory`` and import it.

    The module is registered in ``sys.modules`` under a name derived from a
    hash of the source, so that ``inspect.getsource`` works on its functions and
    the same program (e.g. while hypothesis replays or shrinks) maps to the same
    module and file.
    """
    import hashlib
    import importlib.util
    import sys

    digest = hashlib.sha1(source.encode()).hexdigest()[:16]
    name = f"{prefix}_{digest}"
    mod = sys.modules.get(name)
    if mod is not None and getattr(mod, "__adjit_randprog_source__", None) == source:
        return mod
    path = os.path.join(str(directory), name + ".py")
    with open(path, "w") as fh:
        fh.write(source)
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    mod.__adjit_randprog_source__ = source
    return mod


def run_instrumented(mod, x, y, n):
    """Call the instrumented ``prog``; return (value, margins, trace)."""
    mod._reset()
    v = mod.prog(x, y, n)
    return v, list(mod._MARGINS), list(mod._TRACE)
