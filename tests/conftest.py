"""Test-wide setup: the helper modules in ``tests/`` (e.g. ``_parity``) are importable from every folder."""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).parent))
