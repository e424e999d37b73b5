"""AppTest for "Batch size": the page opens, Train compares the batch sizes, a link restores the screen."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.pages.apptest import open_app

PAGE = "pages/7_Batch_size.py"


def _open(**query: str) -> AppTest:
    return open_app(PAGE, **query)


def test_train_compares_the_batch_sizes():
    """Test whether the page opens with no set-up, and Train draws the curves, the table and the takeaway."""
    app = _open()
    assert not app.exception
    assert app.title[0].value == "Batch size"
    assert not app.dataframe  # nothing trained before the press
    train = next(button for button in app.button if button.label == "Train")
    train.click().run()
    assert not app.exception
    table = app.dataframe[0].value
    assert list(table["pictures per nudge"]) == ["1", "8", "64", "all 512"]
    assert list(table["nudges per pass"]) == [512, 64, 8, 1]
    assert set(table["pictures seen"]) == {4 * 512}
    assert all(value.endswith("%") for value in table["right at the end"])
    text = " ".join(element.value for element in app.markdown)
    assert "Best here" in text
    assert len(app.get("plotly_chart")) == 2
    assert app.expander[0].label == "Under the hood"


def test_a_shared_link_restores_the_comparison():
    """Test whether ?sizes=&passes=&trained=1 shows the same comparison without pressing anything."""
    app = _open(sizes="5", passes="1", trained="1", seed="3")  # 5 = 1 and 8 pictures per nudge
    assert not app.exception
    assert app.number_input(key="netlens_seed").value == 3
    table = app.dataframe[0].value
    assert list(table["pictures per nudge"]) == ["1", "8"]
    assert set(table["pictures seen"]) == {512}
