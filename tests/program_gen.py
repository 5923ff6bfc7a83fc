"""Random straight-line / branching / looping scalar programs for adjit.

The generator builds a small IR of a function ``def prog(x, y, n):`` and renders
it to Python source text twice:

* ``Program.source`` - the plain program that adjit differentiates;
* ``Program.instrumented_source`` - the same program, except that every data
  dependent comparison ``a > c`` becomes ``_gt(a, c)`` and every ``abs(e)``
  becomes ``_abs(e)``.  The helpers record the distance to the non-smooth point
  (``abs(a - c)``, ``abs(e)``) into ``_MARGINS`` and the branch taken into
  ``_TRACE``, so a test can reject points where finite differences would
  straddle a kink.

Choices are made through a *chooser* so that the same code drives hypothesis
(``programs()`` strategy, shrinkable) and a plain ``random.Random``
(``random_program(seed)``, for quick self checks).

All values stay bounded: an interval-style pass (``_Bounds``) abstractly runs
the program (loops for their maximum trip count) and wraps any assignment whose
worst-case magnitude could exceed ``SOFT_CAP`` in ``np.tanh``/``np.arctan``, so
no program can overflow or produce NaN for ``|x|, |y| <= INPUT_BOUND`` and
``0 <= n <= MAX_N``.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Sequence, Tuple

INPUT_BOUND = 2.0  # |x|, |y| <= INPUT_BOUND
MAX_N = 4  # 0 <= n <= MAX_N
MAX_TRIPS = MAX_N + 1  # most iterations of any loop we generate (range(i + 1))
COUNTER_BOUND = float(MAX_N)  # largest value a loop counter can take
SOFT_CAP = 20.0  # wrap assignments whose worst-case magnitude exceeds this

FLOAT_NAMES = ["a", "b", "c", "s", "t", "u", "w", "z", "p", "q", "acc", "tmp", "bx", "by", "add1", "result", "value"]
# (bx, by, add1, result, value: names an adjoint generator might also use)
COUNTER_NAMES = ["i", "j", "k"]


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
    """``(c * i)``: a loop counter or ``n`` turned into a float."""

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


@dataclass
class Call(Expr):
    fn: int  # index into CALLS
    a: Expr

    def src(self, inst):
        return CALLS[self.fn][0].format(a=self.a.src(inst))

    def bound(self, env):
        return CALLS[self.fn][1](self.a.bound(env))


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


# --------------------------------------------------------------------------
# statements


@dataclass
class Assign:
    target: str
    expr: Expr
    wrap_kind: int
    wrapped: bool = False

    def lines(self, inst, ind):
        e = self.expr.src(inst)
        if self.wrapped:
            e = WRAPS[self.wrap_kind][0].format(e=e)
        return [f"{ind}{self.target} = {e}"]


@dataclass
class AugAssign:
    target: str
    op: str  # += -= *=
    expr: Expr
    wrapped: bool = False

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
        parts = []
        for e, wk, w in zip(self.exprs, self.wrap_kinds, self.wrapped):
            s = e.src(inst)
            parts.append(WRAPS[wk][0].format(e=s) if w else s)
        return [f"{ind}{', '.join(self.targets)} = {', '.join(parts)}"]


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


@dataclass
class For:
    var: str
    iter_src: str
    body: list

    def lines(self, inst, ind):
        out = [f"{ind}for {self.var} in {self.iter_src}:"]
        out.extend(_block_lines(self.body, inst, ind + "    "))
        return out


def _block_lines(stmts, inst, ind):
    out = []
    for s in stmts:
        out.extend(s.lines(inst, ind))
    return out


INSTRUMENT_HELPERS = '''
_MARGINS = []
_TRACE = []


def _reset():
    del _MARGINS[:]
    del _TRACE[:]


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
class Program:
    body: list
    ret: Expr
    name: str = "prog"

    def _render(self, inst):
        head = ["import math", "import numpy as np", ""]
        if inst:
            head.extend(INSTRUMENT_HELPERS.strip("\n").split("\n"))
            head.append("")
        head.append("")
        lines = [f"def {self.name}(x, y, n):"]
        lines.extend(_block_lines(self.body, inst, "    "))
        lines.append(f"    return {self.ret.src(inst)}")
        return "\n".join(head + lines) + "\n"

    @property
    def source(self):
        return self._render(False)

    @property
    def instrumented_source(self):
        return self._render(True)

    @property
    def function_source(self):
        """Only the ``def prog`` part (for messages)."""
        src = self.source
        return src[src.index("def ") :]


# --------------------------------------------------------------------------
# bound analysis (also decides which assignments get wrapped)


def _join(envs, keys):
    return {k: max(e[k] for e in envs) for k in keys}


def _run_block(stmts, env):
    for s in stmts:
        env = _run_stmt(s, env)
    return env


def _run_stmt(s, env):
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
        if b > SOFT_CAP:
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
    elif isinstance(s, If):
        outs = []
        for cond, body in s.branches:
            cond.check(env)
            outs.append(_run_block(body, env))
        outs.append(_run_block(s.orelse, env) if s.orelse is not None else env)
        keys = set(outs[0])
        for o in outs[1:]:
            keys &= set(o)
        env = _join(outs, keys)
    elif isinstance(s, For):
        keys = set(env)
        acc = [env]
        cur = env
        for _ in range(MAX_TRIPS):
            cur = _run_block(s.body, cur)
            cur = {k: cur[k] for k in keys}
            acc.append(cur)
        env = _join(acc, keys)
    else:  # pragma: no cover
        raise TypeError(s)
    return env


def finalize(prog: Program) -> Program:
    env = {"x": INPUT_BOUND, "y": INPUT_BOUND}
    env = _run_block(prog.body, env)
    prog.ret.bound(env)
    return prog


# --------------------------------------------------------------------------
# generation


@dataclass
class _Ctx:
    scope: List[str]  # float variables definitely assigned here
    counters: List[str]  # loop counters in scope (innermost last)
    loop_depth: int = 0
    if_depth: int = 0

    def child(self, **kw):
        c = _Ctx(list(self.scope), list(self.counters), self.loop_depth, self.if_depth)
        for k, v in kw.items():
            setattr(c, k, v)
        return c


class _Gen:
    def __init__(self, ch, max_stmts=6, max_expr_depth=3):
        self.ch = ch
        self.max_stmts = max_stmts
        self.max_expr_depth = max_expr_depth
        self.budget = 14  # total statements in the whole program

    # ---- expressions
    def leaf(self, ctx, need_var=False) -> Expr:
        if need_var:
            return Var(self.ch.choice(ctx.scope))
        kind = _weighted(self.ch, [("var", 6), ("const", 2), ("int", 1)])
        if kind == "var":
            return Var(self.ch.choice(ctx.scope))
        if kind == "const":
            return Const(_const(self.ch))
        name = self.ch.choice(ctx.counters + ["n"])
        return IntScaled(_const(self.ch, 1, 100), name)

    def expr(self, ctx, depth, need_var=True) -> Expr:
        """An expression of nesting depth <= ``depth``.

        With ``need_var`` it mentions at least one float variable, so no
        constant-only calls such as ``abs(0.72)`` are produced.
        """
        if depth <= 0:
            return self.leaf(ctx, need_var)
        kind = _weighted(
            self.ch,
            [
                ("leaf", 3),
                ("bin", 6),
                ("call", 5),
                ("div", 2),
                ("pow", 2),
                ("sqrtpow", 1),
                ("neg", 1),
                ("abs", 1),
            ],
        )
        if kind == "leaf":
            return self.leaf(ctx, need_var)
        if kind == "bin":
            op = self.ch.choice(["+", "*", "-"])
            a = self.expr(ctx, depth - 1, need_var)
            b = self.expr(ctx, depth - 1, False)
            if self.ch.integer(0, 2) == 0:
                a, b = b, a
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
        return Abs(self.expr(ctx, depth - 1))

    def top_expr(self, ctx):
        return self.expr(ctx, self.ch.integer(1, self.max_expr_depth))

    # ---- conditions
    def cond(self, ctx):
        kinds = [("data", 4), ("nint", 1)]
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
            return IntCond(f"n > {self.ch.integer(0, 3)}")
        i = self.ch.choice(ctx.counters)
        form = self.ch.integer(0, 4)
        if form == 0:
            return IntCond(f"{i} % 2 == 0")
        if form == 1:
            return IntCond(f"{i} % 3 == {self.ch.integer(0, 2)}")
        if form == 2:
            return IntCond(f"{i} > {self.ch.integer(0, 2)}")
        if form == 3:
            return IntCond(f"{i} < n - 1")
        if len(ctx.counters) >= 2:
            return IntCond(f"{ctx.counters[0]} == {ctx.counters[1]}")
        return IntCond(f"{i} == 1")

    # ---- statements
    def block(self, ctx, lo, hi):
        hi = max(lo, min(hi, self.budget))
        count = self.ch.integer(lo, hi)
        stmts = []
        for _ in range(count):
            if self.budget <= 0 and stmts:
                break
            self.budget -= 1
            stmts.append(self.stmt(ctx))
        return stmts

    def new_name(self, ctx):
        free = [v for v in FLOAT_NAMES if v not in ctx.scope]
        return self.ch.choice(free) if free else self.ch.choice(ctx.scope)

    def target(self, ctx):
        if _weighted(self.ch, [("new", 3), ("old", 2)]) == "new":
            return self.new_name(ctx)
        return self.ch.choice(ctx.scope)

    def stmt(self, ctx):
        kinds = [("assign", 6), ("aug", 2), ("tuple", 2)]
        if ctx.if_depth < 2 and ctx.if_depth + ctx.loop_depth < 3:
            kinds.append(("if", 3))
        if ctx.loop_depth < 2 and ctx.if_depth + ctx.loop_depth < 3:
            kinds.append(("for", 3))
        if ctx.loop_depth > 0:
            kinds.append(("damp", 3))
        kind = _weighted(self.ch, kinds)
        ch = self.ch
        if kind == "assign":
            e = self.top_expr(ctx)
            t = self.target(ctx)
            s = Assign(t, e, ch.integer(0, len(WRAPS) - 1))
            if t not in ctx.scope:
                ctx.scope.append(t)
            return s
        if kind == "damp":
            # loop-carried variable overwritten every iteration
            t = ch.choice(ctx.scope)
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
            t = ch.choice(ctx.scope)
            op = ch.choice(["+=", "*=", "-="])
            return AugAssign(t, op, self.top_expr(ctx))
        if kind == "tuple":
            k = ch.choice([2, 2, 3])
            targets = []
            pool = list(ctx.scope)
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
                a = ch.choice(ctx.scope)
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
        if kind == "if":
            nbranch = ch.choice([1, 1, 2, 3])
            has_else = ch.integer(0, 2) > 0
            branches = []
            outs = []
            for _ in range(nbranch):
                cond = self.cond(ctx)
                sub = ctx.child(if_depth=ctx.if_depth + 1)
                body = self.block(sub, 1, 3)
                branches.append((cond, body))
                outs.append(sub.scope)
            orelse = None
            if has_else:
                sub = ctx.child(if_depth=ctx.if_depth + 1)
                orelse = self.block(sub, 1, 3)
                outs.append(sub.scope)
                common = [v for v in outs[0] if all(v in o for o in outs[1:])]
                for v in common:
                    if v not in ctx.scope:
                        ctx.scope.append(v)
            return If(branches, orelse)
        # for loop
        free = [c for c in COUNTER_NAMES if c not in ctx.counters]
        var = ch.choice(free)
        forms = ["range(n)", "range(1, n + 1)", "range(n, 0, -1)"]
        if ctx.counters:
            outer = ctx.counters[-1]
            forms += [f"range({outer})", f"range({outer} + 1)"]
        it = ch.choice(forms)
        sub = ctx.child(loop_depth=ctx.loop_depth + 1, counters=ctx.counters + [var])
        body = self.block(sub, 1, 4)
        return For(var, it, body)

    def program(self):
        ctx = _Ctx(scope=["x", "y"], counters=[])
        body = self.block(ctx, 1, self.max_stmts)
        ret = self.top_expr(ctx)
        if _weighted(self.ch, [("expr", 1), ("all", 2)]) == "all":
            # make the result depend on every variable still in scope
            for v in ctx.scope:
                ret = Bin("+", ret, Bin("*", Const(_const(self.ch, -100, 100)), Var(v)))
        return finalize(Program(body, ret))


def generate(ch) -> Program:
    return _Gen(ch).program()


def random_program(seed) -> Program:
    return generate(RandomChooser(seed))


def programs():
    """Hypothesis strategy producing ``Program`` objects."""
    from hypothesis import strategies as st

    @st.composite
    def _programs(draw):
        return generate(DrawChooser(draw))

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
    import os
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
