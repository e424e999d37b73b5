"""AppTest for "Splitting the data": the page opens, Train shows memorising, the slider closes the gap, a link
restores the screen."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.pages.apptest import open_app

PAGE = "pages/6_Splitting_the_data.py"


def _open(**query: str) -> AppTest:
    return open_app(PAGE, **query)


def _percent(text: str) -> int:
    return int(text.rstrip("%"))


def _metrics(app: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in app.metric}


def test_the_page_opens_and_train_shows_memorising():
    """Test whether the page opens with no set-up showing the three piles, and Train draws the curves with
    a practice score of 100 % and a final exam at least 20 points lower."""
    app = _open()
    assert not app.exception
    assert app.title[0].value == "Splitting the data"
    assert app.select_slider(key="splits_pictures").value == 32
    assert app.toggle(key="splits_shuffle").value is False
    assert len(app.get("image")) == 3  # practice pile, mock exam, final exam
    assert not app.get("plotly_chart") and not app.metric  # nothing trained before the press
    next(button for button in app.button if button.label == "Train").click().run()
    assert not app.exception
    assert len(app.get("plotly_chart")) == 1
    metrics = _metrics(app)
    assert _percent(metrics["Right on the practice pile"]) >= 99
    assert _percent(metrics["Right on the final exam"]) <= _percent(metrics["Right on the practice pile"]) - 20
    text = " ".join(element.value for element in app.markdown)
    assert "It memorised" in text and "When to stop" in text
    assert app.expander[0].label == "Under the hood"
    code = [element.value for element in app.expander[0].code]
    assert len(code) == 5 and all(text.strip() for text in code)  # four excerpts and the snippet
    assert "SplitSettings(num_practice=32, shuffle_answers=False" in code[-1]
    assert app.query_params["splits_trained"] in ("1", ["1"])


def test_moving_the_slider_after_training_trains_again_and_closes_the_gap():
    """Test whether moving the main control retrains at once (no second press) and 1,024 pictures bring the
    final exam within a few points of practice (the address bar following is the browser's part: a bound
    widget's parameter is written by the frontend, see tests/browser/test_splits.py)."""
    app = _open(seed="1")
    next(button for button in app.button if button.label == "Train").click().run()
    before = _metrics(app)
    app.select_slider(key="splits_pictures").set_value(1024).run()
    assert not app.exception
    after = _metrics(app)
    assert after != before
    assert _percent(after["Right on the final exam"]) >= _percent(before["Right on the final exam"]) + 15
    assert _percent(after["Right on the practice pile"]) - _percent(after["Right on the final exam"]) <= 6
    assert "It learnt, not memorised" in " ".join(element.value for element in app.markdown)


def test_a_shared_link_restores_the_training():
    """Test whether ?splits_pictures=&splits_shuffle=true&splits_trained=1&seed= shows that very training
    without pressing anything."""
    app = _open(splits_pictures="64", splits_shuffle="true", splits_trained="1", seed="2")
    assert not app.exception
    assert app.select_slider(key="splits_pictures").value == 64
    assert app.toggle(key="splits_shuffle").value is True
    assert app.number_input(key="seed").value == 2
    metrics = _metrics(app)
    assert _percent(metrics["Right on the practice pile"]) >= 99  # 64 random answers, learnt by heart
    assert abs(_percent(metrics["Right on the final exam"]) - 50) <= 12  # guessing
    assert "answers were shuffled" in " ".join(element.value for element in app.markdown)
    again = _open(splits_pictures="64", splits_shuffle="true", splits_trained="1", seed="2")
    assert _metrics(again) == metrics


def test_nonsense_in_the_link_falls_back_to_defaults():
    """Test whether a hand-edited link with impossible values still opens the lesson with its defaults."""
    app = _open(splits_pictures="33", splits_shuffle="banana", splits_trained="7")
    assert not app.exception
    assert app.select_slider(key="splits_pictures").value == 32
    assert app.toggle(key="splits_shuffle").value is False
    assert not app.get("plotly_chart")


def test_training_goes_through_the_lessons_own_training_store():
    """Test whether the training lands in the splits lesson's "training" store (the server's one training queue)
    and its piles in its "pictures" store."""
    from pages.shared.layout import cache

    app = _open(splits_pictures="16", splits_trained="1", seed="7")
    assert not app.exception
    training, pictures = cache().store("splits", "training"), cache().store("splits", "pictures")
    assert training.queue is cache().queue
    assert any(key.seed == 7 and key.num_practice == 16 for key in training._items)
    assert any(key[1] == 16 and key[-1] == 7 for key in pictures._items)
