"""Shared test setup: a private adjit cache directory and the tests dir on sys.path."""

import os
import pathlib
import sys
import tempfile

HERE = pathlib.Path(__file__).parent
sys.path.insert(0, str(HERE))

if "ADJIT_CACHE_DIR" not in os.environ:
    # One private cache for the whole run: compiled gradients are shared by
    # all tests, and nothing is written to the user's own cache.
    os.environ["ADJIT_CACHE_DIR"] = tempfile.mkdtemp(prefix="adjit-tests-")
