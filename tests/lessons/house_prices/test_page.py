"""AppTest for the house-price lesson: nudge, run, explode, start again."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


def _dollars(app: AppTest) -> float:
    return float(app.metric[0].value.strip("$").replace(",", ""))


def test_nudging_lowers_the_error_and_raw_square_feet_explode():
    """Test whether Nudge and Run lower the typical error, raw square feet with the same step explode with a
    plain message, and Start again resets the knobs."""
    app = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120).run()
    app.switch_page("pages/3_The_house-price_formula.py").run()
    assert not app.exception
    start = _dollars(app)
    app.button[0].click().run()
    after_one = _dollars(app)
    app.button[1].click().run()
    after_run = _dollars(app)
    assert start > after_one > after_run
    app.toggle(key="house_raw").set_value(True).run()
    app.button[1].click().run()
    assert not app.exception and any("exploded" in box.value for box in app.error)
    app.button[2].click().run()
    assert [slider.value for slider in app.slider[:3]] == [0.0, 0.0, 0.0] and _dollars(app) == start
