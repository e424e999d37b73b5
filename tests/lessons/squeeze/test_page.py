"""AppTest for "Squeezing it onto a phone": the page opens, one press trains and squeezes, the downloads are the
measured files, a link restores the screen, and the phone budget moves only the line."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from core.lessons.squeeze.experiment import KINDS, NAMES
from tests.pages.apptest import open_app

PAGE = "pages/8_Squeezing_it_onto_a_phone.py"


def _open(**query: str) -> AppTest:
    return open_app(PAGE, **query)


def test_one_press_trains_squeezes_and_offers_every_network():
    """Test whether the page opens with nothing trained, and "Train and squeeze" shows the chart, the table (one
    row per network, sizes in KB), the few-labels chart, one download per network, the maps and their table."""
    app = _open()
    assert not app.exception
    assert app.title[0].value == "Squeezing it onto a phone"
    assert not app.dataframe
    next(button for button in app.button if button.label == "Train and squeeze").click().run()
    assert not app.exception
    assert app.query_params["squeeze_trained"] in ("1", ["1"])
    table = app.dataframe[0].value
    assert list(table["network"]) == [NAMES[key] for key in KINDS]
    assert all(size.endswith(" KB") for size in table["file size"])
    assert list(table["fits the phone"]) == ["no", "yes", "yes", "yes", "yes"]
    assert len(app.get("plotly_chart")) == 2
    downloads = app.get("download_button")
    assert len(downloads) == len(KINDS)
    maps = app.dataframe[1].value
    assert list(maps["network"]) == [NAMES[key] for key in KINDS]
    text = " ".join(element.value for element in app.markdown)
    assert "Occlusion" in text and "cannot run on it" in text
    assert "explanation survives" in text and "With only 40 labelled pictures" in text
    assert app.expander[0].label == "Under the hood"
    assert len(app.expander[0].code) == 5


def test_a_shared_link_restores_the_run_and_the_budget_moves_only_the_line():
    """Test whether ?squeeze_trained=1&squeeze_phone=20 KB (the slider's label) shows the default run without a press (from the store:
    the budget is no part of what is trained), judged against 20 KB: the int8 and pruned copies no longer fit."""
    from pages.shared.layout import cache

    app = _open(squeeze_trained="1", squeeze_phone="20 KB")
    assert not app.exception
    assert app.select_slider(key="squeeze_phone").value == 20
    assert list(app.dataframe[0].value["fits the phone"]) == ["no", "no", "no", "yes", "yes"]
    training = cache().store("squeeze", "training")
    assert training.queue is cache().queue
    assert all(key.phone_kb == 50.0 for key in training._items)
