"""Command line: `python -m adjit demo`, `show FILE.py:FUNCTION`, `functions`, `cache [clear]`.

Installed, the same commands are `adjit demo`, `adjit cache clear`, ...
"""

import argparse
import importlib.util
import pathlib
import sys


def _load_function(spec):
    path, _, name = spec.rpartition(":")
    if not path or not name:
        raise SystemExit(f"expected FILE.py:FUNCTION, got {spec!r}")
    file = pathlib.Path(path).resolve()
    if not file.is_file():
        raise SystemExit(f"no such file: {path}")
    module_spec = importlib.util.spec_from_file_location(file.stem, file)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[file.stem] = module
    sys.path.insert(0, str(file.parent))
    module_spec.loader.exec_module(module)
    if not hasattr(module, name):
        raise SystemExit(f"{path} defines no function {name!r}")
    return getattr(module, name)


def _size(n):
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000


def _cache_command(action):
    import warnings
    from .runtime import cache
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        directory = cache.cache_dir()
    if directory is None:
        reason = str(caught[0].message) if caught else "it cannot be used"
        print(reason, file=sys.stderr)
        return 1
    if action == "clear":
        before = cache.size_bytes()
        removed = cache.clear()
        print(f"removed {removed} files ({_size(before - cache.size_bytes())}) from {directory}")
        return 0
    modules, numba_files = cache.count()
    print(f"{directory}: {_size(cache.size_bytes())} "
          f"({modules} generated modules, {numba_files} Numba cache files)")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m adjit", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="differentiate a sample loop and show its adjoint")
    show = commands.add_parser("show", help="print the generated adjoint of FILE.py:FUNCTION")
    show.add_argument("target", metavar="FILE.py:FUNCTION")
    show.add_argument("--wrt", default="0",
                      help="argument(s) to differentiate: a position or name, comma-separated")
    commands.add_parser("functions", help="print the table of differentiable operations (Markdown)")
    cache_parser = commands.add_parser(
        "cache", help="show the compilation cache's directory and size; 'cache clear' empties it")
    cache_parser.add_argument("action", nargs="?", choices=("info", "clear"), default="info",
                              help="info (the default): directory, size, file counts; "
                                   "clear: delete generated modules and Numba's cache files")
    args = parser.parse_args(argv)
    if args.command == "cache":
        return _cache_command(args.action)
    if args.command == "demo":
        from . import demo
        return demo.main()
    if args.command == "functions":
        from .runtime import rules
        print(rules.markdown_table())
        return 0
    import adjit
    func = _load_function(args.target)
    wrt = tuple(int(w) if w.strip().lstrip("-").isdigit() else w.strip() for w in args.wrt.split(","))
    try:
        df = adjit.grad(func, wrt=wrt[0] if len(wrt) == 1 else wrt)
    except adjit.TransformError as exc:
        print(f"adjit: {exc}", file=sys.stderr)
        return 1
    adjit.show(df)
    return 0


if __name__ == "__main__":
    sys.exit(main())
