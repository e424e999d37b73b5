"""AppTest for "Seasoning to taste": the page opens, Cook trains plain and seasoned, a link restores the curve and
a study (smallest budget: 5 trials of 1 network, 1 seed per strength, to keep the run short)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from core.lessons.seasoning.tuner import TunerSettings
from tests.pages.apptest import open_app

PAGE = "pages/10_Seasoning_to_taste.py"


def _open(**query: str) -> AppTest:
    return open_app(PAGE, **query)


def _flag(app: AppTest, name: str) -> bool:
    return app.query_params.get(name) in ("1", ["1"])


def test_cook_trains_plain_and_seasoned_side_by_side():
    """Test whether the page opens with nothing trained, and Cook shows both networks' three scores and their maps
    on four surprise pictures, with the map legend."""
    app = _open()
    assert not app.exception
    assert app.title[0].value == "Seasoning to taste"
    assert not app.metric and not app.dataframe
    cook = next(button for button in app.button if button.key == "seasoning_cook")
    app.select_slider(key="seasoning_strength").set_value(3.0)
    cook.click().run()
    assert not app.exception
    assert _flag(app, "seasoning_cooked")
    labels = [metric.label for metric in app.metric]
    assert labels.count("Right on surprise pictures") == 2 and labels.count("Evidence on the grass") == 2
    assert all(metric.value.endswith("%") for metric in app.metric)
    captions = [image.proto.imgs[0].caption for image in app.get("image")]
    assert sum(caption.startswith("says ") for caption in captions) == 8  # 4 surprise pictures × 2 networks
    text = " ".join(element.value for element in app.markdown)
    assert "strength 3" in text and "Orange" in text  # the row of the seasoned network, the map legend


def test_a_shared_link_restores_the_curve_and_the_study():
    """Test whether ?seasoning_seeds=1&seasoning_tasted=1&seasoning_trials=5&seasoning_executions=1&seasoning_tuned=1
    draws the curve and runs that study in the lesson's training store, without a press: the trials table, the
    figures, Optuna's own, the Pareto choice and the under-the-hood code."""
    from pages.shared.layout import cache

    app = _open(seasoning_seeds="1", seasoning_tasted="1", seasoning_trials="5", seasoning_executions="1",
                seasoning_tuned="1", seed="2")
    assert not app.exception
    assert app.select_slider(key="seasoning_trials").value == 5
    table = app.dataframe[0].value
    assert list(table["trial"]) == [0, 1, 2, 3, 4]
    assert "chosen" in set(table["result"])
    assert len(app.get("plotly_chart")) >= 4  # the curve, the trials, Optuna's Pareto front and history
    pick = app.selectbox(key="seasoning_pick")
    assert "the tuner's choice" in pick.format_func(pick.value)
    text = " ".join(element.value for element in app.markdown)
    assert "Most surprise pictures right" in text and "best trade-offs" in text
    code = [element.value for element in app.expander[-1].code]
    assert len(code) == 4 and "TunerSettings(trials=5, executions=1" in code[-1]
    training = cache().store("seasoning", "training")
    assert training.queue is cache().queue
    assert TunerSettings(trials=5, executions=1, seed=2) in training._items
    assert any(isinstance(key, tuple) and key[0] == "curve" and key[1].seeds == 1 and key[1].seed == 2
               for key in training._items)
