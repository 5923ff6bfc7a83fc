"""Random array programs for property tests: broadcasting, reductions, loops, branches.

`source(rng)` writes `def prog(a, x, y, n):` where `a` is a scalar, `x` has
shape (3,) and `y` shape (2, 3). Expressions read elements, rows, columns and
slices (`x[1]`, `y[0]`, `y[:, 2]`, `x[1:]`), mix shapes through broadcasting,
reduce them (`np.sum`, `np.mean`, `np.dot`, `@`), and pass them through
bounded functions, so values stay finite. Loops update a variable in place of
itself (loop-carried); branches test `np.sum(...) > c`.
"""

import numpy as np

SHAPES = {"a": (), "x": (3,), "y": (2, 3)}
UNARY = ["np.sin({})", "np.tanh({})", "np.cos({})", "np.exp(np.sin({}))", "np.sqrt(1.0 + {} * {})",
         "np.log(1.0 + {} * {})", "np.abs({})", "np.arctan({})", "({}) ** 2", "-({})"]


def _broadcast(s, t):
    return tuple(np.broadcast_shapes(s, t))


class _Writer:
    def __init__(self, rng):
        self.rng = rng
        self.shapes = dict(SHAPES)
        self.lines = []
        self.count = 0

    def expr(self, depth=0):
        r = self.rng
        choice = r.random()
        if depth > 2 or choice < 0.3:
            name = r.choice(sorted(self.shapes))
            shape = self.shapes[name]
            if r.random() < 0.3 and shape == (3,):
                return r.choice([(f"{name}[{r.randint(-3, 2)}]", ()),
                                 (f"np.sum({name}[1:] * {name}[:-1])", ())])
            if r.random() < 0.3 and shape == (2, 3):
                return r.choice([(f"{name}[{r.randint(0, 1)}]", (3,)),
                                 (f"{name}[{r.randint(0, 1)}, {r.randint(-3, 2)}]", ()),
                                 (f"{name}[0:1]", (1, 3)),
                                 (f"np.sum({name}[:, {r.randint(0, 2)}])", ())])
            return name, shape
        if choice < 0.5:
            e, s = self.expr(depth + 1)
            f = r.choice(UNARY)
            return f.format(*([e] * f.count("{}"))), s
        if choice < 0.8:
            (e1, s1), (e2, s2) = self.expr(depth + 1), self.expr(depth + 1)
            op = r.choice(["+", "-", "*", "/", "max"])
            if op == "/":
                return f"({e1} / (1.0 + {e2} * {e2}))", _broadcast(s1, s2)
            if op == "max":
                return f"np.maximum({e1}, {e2})", _broadcast(s1, s2)
            return f"({e1} {op} {e2})", _broadcast(s1, s2)
        if choice < 0.9:
            e, _ = self.expr(depth + 1)
            return (f"np.sum({e})" if r.random() < 0.5 else f"np.mean({e})"), ()
        (e1, s1), (e2, s2) = self.expr(depth + 1), self.expr(depth + 1)
        if s1 == (3,) and s2 == (3,):
            return f"np.dot({e1}, {e2})", ()
        if s1 == (2, 3) and s2 == (3,):
            return f"np.sum({e1} @ {e2})", ()
        return f"({e1} * 0.5 + {e2})", _broadcast(s1, s2)

    def statement(self, indent, depth=0):
        r = self.rng
        pad = " " * indent
        choice = r.random()
        if choice < 0.55 or depth >= 2:
            e, s = self.expr()
            self.count += 1
            target = r.choice(sorted(self.shapes) + ["t", "u"]) if r.random() < 0.6 else f"v{self.count}"
            if depth > 0 and target in self.shapes and self.shapes[target] != s:
                target = f"w{self.count}"
            self.lines.append(f"{pad}{target} = np.tanh({e})")
            if depth == 0:
                self.shapes[target] = s
        elif choice < 0.8:
            cond, _ = self.expr()
            self.lines.append(f"{pad}if np.sum({cond}) > {r.uniform(-1, 1):.2f}:")
            before = dict(self.shapes)
            self.statement(indent + 4, depth + 1)
            self.shapes = dict(before)
            self.lines.append(f"{pad}else:")
            self.statement(indent + 4, depth + 1)
            self.shapes = before
        else:
            var = r.choice(sorted(self.shapes))
            e, s = self.expr()
            if _broadcast(s, self.shapes[var]) != self.shapes[var]:
                e = f"np.sum({e})"
            self.lines.append(f"{pad}for i in range(n):")
            self.lines.append(f"{pad}    {var} = np.sin({var} * 0.9 + {e} * 0.1 + 0.05 * i)")


def source(rng):
    """The text of one random program (`rng` is a `random.Random`)."""
    writer = _Writer(rng)
    for _ in range(rng.randint(2, 6)):
        writer.statement(4)
    e, _ = writer.expr()
    writer.lines.append(f"    return np.sum({e}) + np.sum(x) * 0.1")
    return "import numpy as np\n\n\ndef prog(a, x, y, n):\n" + "\n".join(writer.lines) + "\n"
