"""AppTest for "Seasoning to taste": the page opens, Cook trains plain and seasoned, a link restores the curve and
a study (smallest budget: 5 trials of 1 network, 1 seed per strength, to keep the run short)."""

from __future__ import annotations

from urllib.parse import parse_qs

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


def test_the_chosen_trial_opens_in_lesson_one_with_one_click():
    """Test whether "Open trial N's network in lesson 1's maps" switches to the bunnies page, which shows that very
    network (its scores on lesson 1's 32-pixel pictures, every map method, the evidence) under a banner naming the
    trial, trains nothing itself, links back, and keeps the handed-over network out of its own stores."""
    from core.lessons.bunnies.experiment import BunniesSettings
    from pages.shared.layout import cache

    app = _open(seasoning_trials="5", seasoning_executions="1", seasoning_tuned="1", seed="2")
    assert not app.exception
    chosen = app.selectbox(key="seasoning_pick").value
    trained_before = len(cache().store("bunnies", "training"))
    link = next(element for element in app.get("page_link") if "lesson 1's maps" in element.proto.label)
    assert link.proto.label == f"Open trial {chosen}'s network in lesson 1's maps"
    (token,) = parse_qs(link.proto.query_string)["handoff"]  # what the link carries: the session's token
    app.switch_page("pages/1_Bunnies_and_grass.py")
    app.query_params["handoff"] = token
    app.run()
    assert not app.exception
    assert app.title[0].value == "Bunnies and grass"
    banner = next(element.value for element in app.info if "handed over from lesson 10" in element.value)
    assert f"trial {chosen} of the tuner" in banner
    assert len(cache().store("bunnies", "training")) == trained_before  # nothing trained for it
    assert [metric.label for metric in app.metric][:2] == ["Right on ordinary pictures", "Right on surprise pictures"]
    assert any(metric.label.startswith("Evidence on the grass") for metric in app.metric)
    captions = [image.proto.imgs[0].caption for image in app.get("image")]
    assert "the picture" in captions and "Integrated Gradients" in captions
    assert "bunnies_trained" not in app.query_params  # a link cannot carry a handed-over network
    results = cache().store("bunnies", "results")
    assert not any(isinstance(key, tuple) and key[:1] == ("scores",) and isinstance(key[1], BunniesSettings)
                   and key[1].image_size == 32 and key[1].seed == 2 for key in results._items)
    next(button for button in app.button if button.key == "bunnies_train").click().run()  # back to its own network
    assert not app.exception
    assert not any("handed over" in element.value for element in app.info)


def test_a_hand_off_link_from_another_session_says_so_in_one_line():
    """Test whether opening lesson 1 with a hand-off token this session never offered (a copied link) shows one
    plain warning and the page's usual start, not an exception."""
    app = open_app("pages/1_Bunnies_and_grass.py", handoff="0123456789ab")
    assert not app.exception
    assert any("handed over in another browser session" in element.value for element in app.warning)
    assert any("press **Train the network**" in element.value for element in app.info)
