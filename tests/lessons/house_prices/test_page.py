"""AppTest for the house-price lesson: nudge, run, explode, start again, and a link that restores the nudges."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.pages.apptest import open_app

PAGE = "pages/3_The_house-price_formula.py"


def _dollars(app: AppTest) -> float:
    return float(app.metric[0].value.strip("$").replace(",", ""))


def _knobs(app: AppTest) -> list[float]:
    return [app.slider(key=key).value for key in ("house_prices_x", "house_prices_y", "house_prices_z")]


def test_nudging_lowers_the_error_and_raw_square_feet_explode():
    """Test whether Nudge and Run lower the typical error, raw square feet with the same step explode with a
    plain message, and Start again resets the knobs."""
    app = open_app(PAGE)
    assert not app.exception
    start = _dollars(app)
    app.button[0].click().run()
    after_one = _dollars(app)
    app.button[1].click().run()
    after_run = _dollars(app)
    assert start > after_one > after_run
    assert any("51 nudges taken" in caption.value for caption in app.caption)
    app.toggle(key="house_prices_raw").set_value(True).run()
    assert not app.exception and any("exploded" in box.value for box in app.error)
    app.button[2].click().run()
    assert _knobs(app) == [0.0, 0.0, 0.0] and _dollars(app) == start and not app.error


def test_a_knob_moved_by_hand_starts_the_nudges_from_there():
    """Test whether moving a knob after some nudges makes the knobs as they are the new start, with no nudges."""
    app = open_app(PAGE)
    app.button[1].click().run()
    nudged = _knobs(app)
    app.slider(key="house_prices_x").set_value(30.0).run()
    assert not app.exception
    assert _knobs(app) == [30.0, *nudged[1:]]
    assert app.query_params["house_prices_start"] in (f"30,{nudged[1]:g},{nudged[2]:g}",
                                                      [f"30,{nudged[1]:g},{nudged[2]:g}"])
    assert "house_prices_nudges" not in app.query_params
    assert not any("nudges taken" in caption.value for caption in app.caption)


def test_a_link_restores_the_start_the_nudges_and_the_step():
    """Test whether a link with a start, a count of nudges, a step size and a seed opens on the knobs those
    nudges reach, and an impossible count in a link is ignored rather than an error."""
    app = open_app(PAGE, house_prices_start="10,-5,80", house_prices_nudges="7", house_prices_rate="0.01", seed="2")
    assert not app.exception
    assert app.select_slider(key="house_prices_rate").value == 0.01
    assert any("7 nudges taken from X = 10, Y = -5, Z = 80." in caption.value for caption in app.caption)
    by_hand = open_app(PAGE, seed="2")  # the same screen reached with the buttons
    by_hand.slider(key="house_prices_x").set_value(10.0).run()
    by_hand.slider(key="house_prices_y").set_value(-5.0).run()
    by_hand.slider(key="house_prices_z").set_value(80.0).run()
    by_hand.select_slider(key="house_prices_rate").set_value(0.01).run()
    for _ in range(7):
        by_hand.button[0].click().run()
    assert _knobs(app) == _knobs(by_hand) and _dollars(app) == _dollars(by_hand)
    broken = open_app(PAGE, house_prices_nudges="lots", house_prices_start="1,2")
    assert not broken.exception and _knobs(broken) == [0.0, 0.0, 0.0]
