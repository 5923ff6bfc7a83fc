"""The README tells the truth: its table of functions is the registry's."""

import pathlib

from adjit.runtime import rules


def test_function_table_matches_registry():
    readme = (pathlib.Path(__file__).parent.parent / "README.md").read_text()
    block = readme.split("<!-- functions:start -->")[1].split("<!-- functions:end -->")[0]
    assert block.strip() == rules.markdown_table().strip(), \
        "README's function table is stale: regenerate it with `python -m adjit functions`"
