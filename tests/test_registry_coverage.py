"""Every function in the rule registry is differentiated by a finite-difference test.

The programs of the table-driven gradient tests (each run compiled and as Python, on
several inputs, against central differences) must call every NumPy and `math`
function and every array method the registry has a rule for. A rule added without a
program using it fails here."""

import pathlib
import re

from adjit.runtime import rules

HERE = pathlib.Path(__file__).parent
# Modules of programs that test_ufuncs, test_reductions, test_methods, test_arrays and
# test_language, test_gradients differentiate in both modes against finite differences.
PROGRAMS = ["ufuncs.py", "reductions.py", "methods.py", "arrays.py", "language_programs.py", "programs.py",
            "test_ufuncs.py", "test_reductions.py", "test_methods.py", "test_arrays.py",
            "test_tape_rules_nn.py"]


def _used(shown, text):
    if shown.startswith("x."):              # a method: `.sum(`
        return re.search(re.escape(shown[1:]) + r"\b", text) is not None
    return re.search(r"(?<![\w.])" + re.escape(shown) + r"\b", text) is not None


def test_every_registered_function_has_a_gradient_test():
    text = "".join((HERE / name).read_text() for name in PROGRAMS)
    shown = {entry[2] for entry in rules._RULES.values() if entry[2]}
    missing = sorted(name for name in shown if not _used(name, text))
    assert not missing, f"no finite-difference test program uses {missing}"


def test_the_registry_has_at_least_100_numpy_entries():
    shown = {entry[2] for entry in rules._RULES.values() if entry[2]}
    numpy_names = {name for name in shown if name.startswith(("np.", "x."))}
    assert len(numpy_names) >= 100, sorted(numpy_names)
