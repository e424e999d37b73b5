"""AppTest for "How many pictures do I need?": the page opens, Train draws the curves, a link restores the screen.

The tests ask for one seed per point and no transfer curve (12 trainings instead of the page's default 54), the
smallest setting that still draws every part of the page."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.pages.apptest import open_app

PAGE = "pages/5_How_many_pictures.py"
QUICK = dict(how_many_pictures_seeds="1", how_many_pictures_transfer="false")


def _texts(app: AppTest) -> str:
    return " ".join(element.value for element in app.markdown)


def test_the_page_opens_with_both_tasks_and_trains_nothing_before_the_press():
    """Test whether the page opens with no set-up, shows example pictures of both tasks and waits for Train."""
    app = open_app(PAGE)
    assert not app.exception
    assert app.title[0].value == "How many pictures do I need?"
    assert not app.dataframe and not app.get("plotly_chart")
    assert len(app.get("image")) == 2  # the two rows of example pictures, one per task
    assert [len(image.proto.imgs) for image in app.get("image")] == [4, 4]
    assert "Press **Train**" in app.info[0].value and "54 small networks" in app.info[0].value


def test_train_draws_the_curves_the_headline_and_the_maps():
    """Test whether Train (one seed, no transfer) draws the chart, a headline computed from it, a table with one
    row per curve, the two ear-tip numbers and the under-the-hood code."""
    app = open_app(PAGE, **QUICK)
    assert not app.exception
    next(button for button in app.button if button.label == "Train").click().run()
    assert not app.exception
    assert app.query_params["how_many_pictures_trained"] in ("1", ["1"])
    table = app.dataframe[0].value
    assert list(table["curve"]) == ["bunny vs elephant", "bunny breed vs bunny breed"]
    assert list(table.columns)[1:] == ["5 of each", "10 of each", "30 of each", "100 of each", "300 of each",
                                       "1,000 of each"]
    assert "To reach 90%" in _texts(app) or "did not reach 90%" in _texts(app)
    assert len(app.get("plotly_chart")) == 1
    assert [metric.label for metric in app.metric] == ["Evidence on the ear tips, 30 pictures of each",
                                                       "Evidence on the ear tips, 1,000 pictures of each"]
    assert all(metric.value.endswith("%") for metric in app.metric)
    assert app.expander[0].label == "Under the hood"
    code = [element.value for element in app.expander[0].code]
    assert len(code) == 5 and all(text.strip() for text in code)
    assert "HowManySettings(sizes=(5, 10, 30, 100, 300, 1000), seeds=1, transfer=False" in code[-1]


def test_a_shared_link_restores_the_curves_and_the_target_changes_only_the_sentence():
    """Test whether a link with the trained flag shows those curves without a press, with the controls as the
    link says, and a target of 80 % in the link rewrites the headline from the same stored curves."""
    app = open_app(PAGE, **QUICK, how_many_pictures_trained="1", how_many_pictures_target="80")
    assert not app.exception
    assert app.select_slider(key="how_many_pictures_seeds").value == 1
    assert app.toggle(key="how_many_pictures_transfer").value is False
    assert app.select_slider(key="how_many_pictures_target").value == 80
    assert "80%" in _texts(app) and "90%" not in _texts(app).split("What to tell")[0]
    from pages.shared.layout import cache

    training = cache().store("how_many_pictures", "training")
    assert training.queue is cache().queue
    assert any(key.seeds == 1 and not key.transfer and key.target == 0.9 for key in training._items)
