"""Source pass: from a Python function object to a gast tree of its definition.

Input: a plain Python function. Output: a `Source` holding the gast
`FunctionDef` (decorators dropped) whose `lineno` attributes are line numbers
in the user's own file, plus the file name and the file's lines.
Invariant: every statement and expression node in the tree carries the line
number of the user's line it came from, so any later pass can report errors
at the user's line.
"""

import ast
import dataclasses
import inspect
import linecache
import textwrap

import gast

from .errors import TransformError


@dataclasses.dataclass
class Source:
    """A parsed function and where it came from."""

    tree: gast.FunctionDef
    filename: str
    lines: list
    name: str

    def line(self, lineno):
        """The text of the user's line `lineno` (1-based), or ''."""
        if lineno is not None and 1 <= lineno <= len(self.lines):
            return self.lines[lineno - 1].rstrip("\n")
        return ""

    def error(self, message, node):
        """A TransformError pointing at `node`'s line in the user's file."""
        lineno = getattr(node, "lineno", None)
        return TransformError(message, self.filename, lineno, self.line(lineno))


def get_source(func):
    """Read and parse `func`'s definition."""
    func = inspect.unwrap(func)
    filename = inspect.getsourcefile(func) or inspect.getfile(func)
    try:
        lines, first = inspect.getsourcelines(func)
    except (OSError, TypeError) as exc:
        raise TransformError(
            f"cannot read the source of {getattr(func, '__qualname__', func)!r}: {exc}",
            filename,
        ) from None
    text = textwrap.dedent("".join(lines))
    module = ast.parse(text)
    if not module.body or not isinstance(module.body[0], (ast.FunctionDef, ast.AsyncFunctionDef)):
        raise TransformError(
            f"{getattr(func, '__qualname__', func)!r} is not defined by a def statement "
            "(lambdas cannot be differentiated)",
            filename,
            first,
            lines[0] if lines else None,
        )
    ast.increment_lineno(module, first - 1)
    fdef = module.body[0]
    fdef.decorator_list = []
    tree = gast.ast_to_gast(fdef)
    all_lines = linecache.getlines(filename) or lines
    return Source(tree=tree, filename=filename, lines=list(all_lines), name=func.__name__)
