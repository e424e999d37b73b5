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
    assert app.query_params["batch_size_trained"] in ("1", ["1"])
    table = app.dataframe[0].value
    assert list(table["pictures per nudge"]) == ["1", "8", "64", "all 512"]
    assert list(table["nudges per pass"]) == [512, 64, 8, 1]
    assert set(table["pictures seen"]) == {4 * 512}
    assert all(value.endswith("%") for value in table["right at the end"])
    text = " ".join(element.value for element in app.markdown)
    assert "Best here" in text
    assert len(app.get("plotly_chart")) == 2
    assert app.expander[0].label == "Under the hood"
    code = [element.value for element in app.expander[0].code]
    assert len(code) == 3 and all(text.strip() for text in code)  # two excerpts and the snippet
    assert "BatchSizeSettings(batch_sizes=(1, 8, 64, 0), passes=4" in code[-1]


def test_a_shared_link_restores_the_comparison():
    """Test whether ?batch_size_sizes=1&batch_size_sizes=8&batch_size_passes=1&batch_size_trained=1 shows that
    comparison without pressing anything, with the controls set as the link says."""
    app = _open(batch_size_sizes=["1", "8"], batch_size_passes="1", batch_size_trained="1", seed="3")
    assert not app.exception
    assert app.number_input(key="seed").value == 3
    assert app.pills(key="batch_size_sizes").value == [1, 8]
    assert app.select_slider(key="batch_size_passes").value == 1
    table = app.dataframe[0].value
    assert list(table["pictures per nudge"]) == ["1", "8"]
    assert set(table["pictures seen"]) == {512}


def test_the_whole_batch_in_the_link_and_nonsense_beside_it():
    """Test whether "all 512" travels in the link as its label, and impossible values fall back to defaults."""
    app = _open(batch_size_sizes=["all 512", "1000"], batch_size_passes="3", batch_size_trained="1")
    assert not app.exception
    assert app.pills(key="batch_size_sizes").value == [0]
    assert app.select_slider(key="batch_size_passes").value == 4
    assert list(app.dataframe[0].value["pictures per nudge"]) == ["all 512"]


def test_training_goes_through_the_lessons_own_training_store():
    """Test whether the comparison lands in the batch-size lesson's "training" store (the one training queue)
    and its pictures in its "pictures" store."""
    from pages.shared.layout import cache

    app = _open(batch_size_sizes=["64"], batch_size_passes="1", batch_size_trained="1", seed="4")
    assert not app.exception
    training, pictures = cache().store("batch_size", "training"), cache().store("batch_size", "pictures")
    assert training.queue is cache().queue
    assert any(key.seed == 4 and key.batch_sizes == (64,) for key in training._items)
    assert any(key[-1] == 4 for key in pictures._items)
