"""Every test process: results are kept in memory only unless a test gives a cache of its own (the on-disk cache
would otherwise carry results from one test, or one run, into the next). Servers the browser tests start get a
fresh folder each (tests/browser/conftest.py)."""

from __future__ import annotations

import os

os.environ["NETLENS_CACHE"] = "off"
