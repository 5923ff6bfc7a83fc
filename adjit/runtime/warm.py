"""Warm start: the generated module of a function, found without transforming it.

A transform is a function of: the function's source (text, file, first line),
`wrt`, the ranks it is specialised to and whether it returns the value; what
every name it reads denotes (numbers are compiled in as constants; a call
resolves to a gradient rule, a user's rule, or a user's function whose source
is transformed in turn, with the names *it* reads); and adjit's own code (the
compiler, the rules, the helpers), Python's, gast's, NumPy's and Numba's
versions. `key` hashes all of that, computed without the transform: each
function's names are read from its parsed source, conservatively (every name
and dotted name in it but its parameters, and the builtins its namespace
shadows, as control lowering writes `len` and `range`), and each value is
described by what identifies it across processes. A value with no such
description (an array, an object) makes the function uncacheable here: it is
transformed as before. The key names a file in the cache directory holding the
generated module's text and what `pipeline.Generated` carries beside it.

Within a process, a function called by the one differentiated is transformed
once and reused (`resolve._CALLEES`, each with the namespace it saw then), so a
key is used, to look up or to store, only when every such function already
transformed in this process was transformed with the description it has now.
"""

import ast
import builtins
import functools
import hashlib
import inspect
import json
import sys
import textwrap
import types

import gast
import numpy as np

from . import cache, resolve, rules, stamp

_FORMAT = 1
_LOOKUPS = {"hits": 0, "misses": 0, "stored": 0}    # for tests: what this process did


class _Uncacheable(Exception):
    """A value the key cannot describe: transform as before."""


@functools.lru_cache(maxsize=None)
def _adjit_digest():
    """adjit's code as this process read it (`stamp`), and the versions of what
    it runs on."""
    import numba
    return repr((stamp.DIGEST, sys.version, sys.implementation.cache_tag, sys.flags.optimize,
                 gast.__version__, np.__version__, numba.__version__))


def _digest_text(text):
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _source_of(func):
    """What `transform.source.get_source` reads: (file, first line, dedented text)."""
    func = inspect.unwrap(func)
    filename = inspect.getsourcefile(func) or inspect.getfile(func)
    lines, first = inspect.getsourcelines(func)
    return filename, first, textwrap.dedent("".join(lines))


def _chains(tree, params):
    """Every name and dotted name (`np.linalg.norm` as its prefixes) in `tree`."""
    found = set()
    for node in ast.walk(tree):
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Name) and node.id not in params:
            parts.append(node.id)
            parts.reverse()
            for k in range(1, len(parts) + 1):
                found.add(tuple(parts[:k]))
    return found


# Names the compiler may write itself (control lowering writes `len` and `range`)
# and resolve in the function's namespace, and the modules it spells calls with.
_ALWAYS = ("np", "numpy", "math", "len", "range", "enumerate", "zip", "reversed", "float", "int",
           "bool", "abs", "min", "max", "sum")


class _Describer:
    """Describes functions and the values their names denote, for `key`."""

    def __init__(self):
        self.functions = {}     # "module:qualname@file:line" -> description
        self.externals = {}     # name -> object: what users' rules hand the module
        self.objects = {}       # same keys -> the function objects described

    def function(self, func, namespace):
        filename, first, text = _source_of(func)
        ident = f"{func.__module__}:{func.__qualname__}@{filename}:{first}"
        if ident in self.functions:
            return ident
        self.functions[ident] = None        # recursion: described once
        self.objects[ident] = func
        tree = ast.parse(text)
        fdef = tree.body[0]
        if not isinstance(fdef, (ast.FunctionDef, ast.AsyncFunctionDef)):
            raise _Uncacheable(ident)
        args = fdef.args
        params = {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs}
        params |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
        fdef.decorator_list = []            # as `transform.source` drops them
        chains = _chains(fdef, params)
        chains |= {(n,) for n in _ALWAYS}
        chains |= {(n,) for n in namespace if n in builtins.__dict__ and not n.startswith("__")}
        names = {}
        for chain in sorted(chains):
            names[".".join(chain)] = self.value(self._lookup(chain, namespace))
        self.functions[ident] = {"name": func.__name__, "text": _digest_text(text),
                                 "names": names}
        return ident

    @staticmethod
    def _lookup(chain, namespace):
        marker = _Absent
        if chain[0] in namespace:
            value = namespace[chain[0]]
        elif hasattr(builtins, chain[0]):
            value = getattr(builtins, chain[0])
        else:
            return marker
        for part in chain[1:]:
            try:
                value = getattr(value, part)
            except Exception:
                return marker
        return value

    def value(self, value):
        if value is _Absent:
            return ["absent"]
        kind = type(value)
        if value is None or kind in (bool, int, float, complex, str, bytes) \
                or isinstance(value, (np.bool_, np.number)):
            return ["const", kind.__module__, kind.__qualname__, repr(value)]
        if isinstance(value, types.ModuleType):
            return ["module", value.__name__]
        try:
            custom = rules.custom_rule(value)
        except TypeError:
            custom = None
        if custom is not None:
            prim = rules.lookup(value)
            for name, obj in prim.externals:
                self.externals[name] = obj
            forward = getattr(value, "func", value)
            forward = getattr(forward, "py_func", forward)
            return ["custom", _qualified(value), _code_digest(forward),
                    _qualified(custom), _code_digest(custom), list(prim.params), prim.name]
        if inspect.isfunction(value) and not resolve._library(value):
            return ["function", self.function(value, resolve.namespace_of(value))]
        if isinstance(value, type):
            return ["type", value.__module__, value.__qualname__]
        module = getattr(value, "__module__", None) or ""
        name = getattr(value, "__qualname__", None) or getattr(value, "__name__", None)
        if callable(value) and isinstance(name, str) and \
                (module.split(".")[0] in ("numpy", "scipy", "math", "builtins")
                 or module.split(".")[0] in sys.stdlib_module_names):
            return ["library", kind.__module__, kind.__qualname__, module, name]
        raise _Uncacheable(f"{type(value).__name__} value")


class _AbsentType:
    pass


_Absent = _AbsentType()


def _qualified(obj):
    return f"{getattr(obj, '__module__', '')}:{getattr(obj, '__qualname__', repr(type(obj)))}"


def _code_digest(function):
    try:
        return _digest_text(inspect.getsource(function))
    except (OSError, TypeError):
        raise _Uncacheable("a rule without source") from None


_TRUSTED = {}   # callee unit -> its description when this process transformed it


class Key:
    """What a transform depends on, hashed (`digest`), and how to check it."""

    def __init__(self, digest, describer):
        self.digest = digest
        self.describer = describer

    def callees(self):
        """(unit, description) of every function described that this process has a unit of."""
        found = []
        for ident, func in self.describer.objects.items():
            known = resolve._CALLEES.get(func)
            if known is not None and known[0] is func.__code__:
                found.append((known[1].callee, self.describer.functions[ident]))
        return found

    def consistent(self):
        """Whether every function this process already transformed was transformed
        with the description it has now (see the module's docstring)."""
        return all(_TRUSTED.get(unit) == described for unit, described in self.callees())

    def transformed(self, before):
        """After a transform: trust the units it created (`before`: `callees()` before it)."""
        existing = {id(unit) for unit, _ in before}
        for unit, described in self.callees():
            if id(unit) not in existing:
                _TRUSTED[unit] = described


def _user_rules():
    """Every rule the user registered (`custom_vjp`, `defvjp`), wherever it applies:
    a rule given to `np.sum` changes the code of `x.sum()`, which names no `np.sum`."""
    described = []
    for rule, prim in rules._CUSTOM.values():
        forward, jitted_rule = (obj for _, obj in prim.externals)
        forward = getattr(forward, "py_func", forward)
        described.append([prim.name, list(prim.params), _qualified(forward), _code_digest(forward),
                          _qualified(rule), _code_digest(rule)])
    return sorted(described)


def key(func, namespace, wrt, ranks, with_value, fingerprint, helper_names):
    """The `Key` of transforming `func` (reading `namespace`) this way, or None."""
    if cache.cache_dir() is None:
        return None
    describer = _Describer()
    try:
        ident = describer.function(func, namespace)
        user_rules = _user_rules()
    except (_Uncacheable, OSError, TypeError, SyntaxError, ValueError, RecursionError):
        return None
    except Exception:       # the registry is not what this expects: no key, no harm
        return None
    material = {
        "rules": user_rules,
        "format": _FORMAT, "adjit": _adjit_digest(), "fingerprint": fingerprint,
        "helpers": sorted(helper_names), "function": ident, "functions": describer.functions,
        "wrt": list(wrt), "ranks": None if ranks is None else sorted(ranks.items()),
        "with_value": bool(with_value),
    }
    try:
        text = json.dumps(material, sort_keys=True)
    except (TypeError, ValueError):
        return None
    return Key(hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest(), describer)


def lookup(found, generated_class):
    """The `generated_class` (pipeline.Generated) stored under `found`, or None."""
    if not found.consistent():
        return None
    entry = cache.read_entry(found.digest)
    try:
        data = json.loads(entry) if entry is not None else None
        if data is None or data.get("format") != _FORMAT:
            raise ValueError
        externals = {name: found.describer.externals[name] for name in data["externals"]}
        generated = generated_class(
            text=data["text"], function=data["function"],
            line_map={int(k): v for k, v in data["line_map"].items()},
            params=list(data["params"]), wrt=tuple(data["wrt"]), filename=data["filename"],
            externals=externals)
    except (ValueError, KeyError, TypeError, AttributeError):
        _LOOKUPS["misses"] += 1
        return None
    _LOOKUPS["hits"] += 1
    return generated


def store(found, generated):
    """Remember `generated` under `found`, if the transform saw what `found` describes
    and adjit's files are still those this process runs."""
    if not found.consistent() or not stamp.unchanged():
        return
    if any(found.describer.externals.get(name) is not obj
           for name, obj in generated.externals.items()):
        return
    data = {"format": _FORMAT, "text": generated.text, "function": generated.function,
            "line_map": {str(k): v for k, v in generated.line_map.items()},
            "params": list(generated.params), "wrt": list(generated.wrt),
            "filename": generated.filename, "externals": sorted(generated.externals)}
    try:
        cache.write_entry(found.digest, json.dumps(data, sort_keys=True))
    except (OSError, TypeError, ValueError):
        return
    _LOOKUPS["stored"] += 1
