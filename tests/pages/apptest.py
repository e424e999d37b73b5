"""How the page tests open the app: at the entry page (which owns the navigation), then switch, as a browser would."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 180  # a cold `import torch` alone can take longer than AppTest's default 3 s


def open_app(page: str | None = None, **query: str) -> AppTest:
    """The app with `query` in its address bar, run once, then switched to `page` (a path under pages/)."""
    app = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=TIMEOUT)
    for name, value in query.items():
        app.query_params[name] = value
    app.run()
    if page is not None:
        app.switch_page(page).run()
    return app
