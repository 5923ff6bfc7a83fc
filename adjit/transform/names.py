"""Fresh, readable names for generated code.

A `Namer` knows every name the user's function uses and hands out new ones
that never collide with them or with each other: temporaries named after the
operation that produced them (`mul1`, `sin2`), adjoints named after their
primal (`x` -> `bx`), stacks after the variable they save (`stack_s`).
Invariant: the same function always gets the same names, in the same order.
"""

import gast


def walk(tree):
    """`list(gast.walk(tree))`: every node under `tree`, in the same (breadth-first)
    order, found about three times faster (no generator per node). A list: a pass
    that replaces nodes while it walks must use `gast.walk`."""
    found = [tree]
    append = found.append
    ast_node = gast.AST
    for node in found:          # (the list grows as it is read)
        for field in node._fields:
            value = getattr(node, field, None)
            if isinstance(value, ast_node):
                append(value)
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, ast_node):
                        append(item)
    return found


def names_in(tree):
    """Every identifier appearing in `tree` (variables, arguments, globals)."""
    found = set()
    for node in walk(tree):
        if isinstance(node, gast.Name):
            found.add(node.id)
        elif isinstance(node, gast.FunctionDef):
            found.add(node.name)
    return found


class Namer:
    """Hands out names that are unused in the function being transformed."""

    def __init__(self, taken):
        self.taken = set(taken)
        self.counter = 0
        self.adjoints = {}

    def reserve(self, name):
        self.taken.add(name)
        return name

    def unique(self, base):
        """`base` itself if free, else `base_2`, `base_3`, ..."""
        if base not in self.taken:
            return self.reserve(base)
        n = 2
        while f"{base}_{n}" in self.taken:
            n += 1
        return self.reserve(f"{base}_{n}")

    def temp(self, base):
        """A numbered temporary: `mul1`, `sin2`, ... (one counter per function)."""
        while True:
            self.counter += 1
            name = f"{base}{self.counter}"
            if name not in self.taken:
                return self.reserve(name)

    def adjoint(self, name):
        """The adjoint of variable `name`: `bx` for `x`, stable per name."""
        if name not in self.adjoints:
            self.adjoints[name] = self.unique("b" + name)
        return self.adjoints[name]


def element_name(array, index, taken, suffix=""):
    """A fresh name for what concerns the element `array[index]` (`bpos_i_0_sum`,
    `bx_i_plus_1_sum`, `pos_i_0`), added to `taken`."""
    parts = index.elts if isinstance(index, gast.Tuple) else [index]
    base = "_".join([array] + [_index_word(part) for part in parts]) + suffix
    candidate, k = base, 1
    while candidate in taken:
        k += 1
        candidate = f"{base}_{k}"
    taken.add(candidate)
    return candidate


def _index_word(part):
    """A name's piece for an index: `i`, `0`, `i_plus_1`, `i_minus_2`."""
    if isinstance(part, gast.Name):
        return part.id
    if isinstance(part, gast.Constant):
        return str(part.value).replace("-", "minus_")
    if isinstance(part, gast.BinOp) and isinstance(part.left, gast.Name) \
            and isinstance(part.right, gast.Constant):
        op = "plus" if isinstance(part.op, gast.Add) else "minus"
        return f"{part.left.id}_{op}_{part.right.value}"
    return "at"
