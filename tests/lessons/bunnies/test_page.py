"""The bunnies page in Streamlit's AppTest harness: trains, explains and retrains with small settings."""

from __future__ import annotations

import core.lessons.bunnies.experiment as experiment
from tests.pages.apptest import open_app

LESSON = "pages/1_Bunnies_and_grass.py"


_open = open_app


def _count_trainings(monkeypatch) -> list:  # type: ignore[no-untyped-def]
    """Count the page's calls of the lesson's train_model (the page imports it anew on every run)."""
    calls: list = []
    original = experiment.train_model
    monkeypatch.setattr(experiment, "train_model", lambda *a, **k: calls.append(1) or original(*a, **k))
    return calls


def test_the_lesson_trains_explains_checks_and_retrains():
    """Test the whole lesson with 500 pictures: scores, six maps, the agreement verdict, then 'show it
    more pictures' with a before/after comparison."""
    app = _open(LESSON)
    app.select_slider(key="bunnies_pictures").set_value(500)
    app.button(key="bunnies_train").click().run()
    assert not app.exception
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics["Right on ordinary pictures"].endswith("%")
    assert int(metrics["Right on surprise pictures"].rstrip("%")) <= 20  # grass behind every bunny
    verdicts = [box.value for box in app.success] + [box.value for box in app.warning]
    assert any("The map and the experiment" in verdict for verdict in verdicts)
    app.radio(key="bunnies_choice").set_value("a surprise picture").run()
    assert not app.exception
    assert any("It is a" in element.value for element in app.markdown)

    app.button(key="bunnies_retrain").click().run()
    assert not app.exception
    surprise = [metric.value for metric in app.metric if metric.label == "Right on surprise pictures"]
    assert len(surprise) == 3  # the headline, before, after
    assert int(surprise[2].rstrip("%")) > int(surprise[1].rstrip("%"))
    assert app.query_params["bunnies_more"] in ("1", ["1"])  # the link shows the comparison too


def test_a_shared_link_restores_the_settings():
    """Test whether ?bunnies_grass=&bunnies_pictures=&bunnies_trained=1 reproduces the teacher's screen
    without pressing anything."""
    app = _open(LESSON, bunnies_grass="50", bunnies_pictures="500", bunnies_trained="1", seed="2")
    assert not app.exception
    assert app.slider(key="bunnies_grass").value == 50
    assert app.select_slider(key="bunnies_pictures").value == 500
    assert app.number_input(key="seed").value == 2
    metrics = {metric.label: metric.value for metric in app.metric}
    assert int(metrics["Right on surprise pictures"].rstrip("%")) >= 80  # balanced pictures: no shortcut
    assert any("seed 2" in caption.value for caption in app.caption if caption.value.startswith("Trained in"))


def test_a_link_with_more_restores_the_before_and_after():
    """Test whether a link with bunnies_more=1 and the extra pictures shows the comparison straight away."""
    app = _open(LESSON, bunnies_pictures="500", bunnies_extra="250", bunnies_trained="1", bunnies_more="1",
                seed="3")
    assert not app.exception
    assert app.select_slider(key="bunnies_extra").value == 250
    assert any(header.value == "After: + 250 pictures" for header in app.subheader)


def test_nonsense_in_the_link_falls_back_to_defaults():
    """Test whether a hand-edited link with impossible values still opens the lesson with defaults."""
    app = _open(LESSON, bunnies_grass="banana", bunnies_pictures="7", bunnies_extra="3", seed="-4")
    assert not app.exception
    assert app.slider(key="bunnies_grass").value == 100
    assert app.select_slider(key="bunnies_pictures").value == 2000
    assert app.number_input(key="seed").value == 0


def test_settings_survive_a_visit_to_another_page():
    """Test whether the seed, presenter mode and the lesson's sliders are kept when the learner goes home
    and comes back (Streamlit forgets widget values on page switches unless they are kept)."""
    app = _open(LESSON)
    app.slider(key="bunnies_grass").set_value(80)
    app.number_input(key="seed").set_value(7)
    app.toggle(key="presenter").set_value(True)
    app.run()
    app.switch_page("streamlit_app.py").run()
    assert app.number_input(key="seed").value == 7 and app.toggle(key="presenter").value is True
    app.switch_page(LESSON).run()
    assert not app.exception
    assert app.slider(key="bunnies_grass").value == 80
    assert app.number_input(key="seed").value == 7


def test_a_second_session_reuses_the_first_sessions_network(monkeypatch):
    """Test whether a second browser session with the same settings gets the trained network from the
    shared store instead of training again (thirty students, one training)."""
    calls = _count_trainings(monkeypatch)
    first = _open(LESSON, bunnies_grass="95", bunnies_pictures="500", seed="31", bunnies_trained="1")
    assert not first.exception and len(calls) == 1
    second = _open(LESSON, bunnies_grass="95", bunnies_pictures="500", seed="31", bunnies_trained="1")
    assert not second.exception and len(calls) == 1
    caption = [c.value for c in first.caption if c.value.startswith("Trained in")]
    assert caption == [c.value for c in second.caption if c.value.startswith("Trained in")]


def test_moving_a_slider_after_training_does_not_retrain(monkeypatch):
    """Test whether results stay those of the last Train press until Train is pressed again."""
    calls = _count_trainings(monkeypatch)
    app = _open(LESSON, bunnies_pictures="500", seed="41")
    app.button(key="bunnies_train").click().run()
    assert len(calls) == 1
    assert app.query_params["bunnies_trained"] in ("1", ["1"])
    app.slider(key="bunnies_grass").set_value(60).run()
    assert not app.exception and len(calls) == 1
    assert any("You changed the settings" in box.value for box in app.info)
    assert "bunnies_trained" not in app.query_params  # the link no longer claims these settings were trained
    app.button(key="bunnies_train").click().run()
    assert len(calls) == 2 and not any("You changed the settings" in box.value for box in app.info)


def test_a_teacher_can_prepare_the_lesson_from_the_page_before_anything_is_trained(monkeypatch):
    """Test whether "For teachers: prepare this lesson for a class" is there before any training, counts what is
    ready, and its button trains every reachable network into the lesson's stores (here the reachable settings are
    cut to one small network, seed 41, to keep the test short), after which the count says all are ready."""
    from core.lessons.bunnies import entries
    from core.lessons.bunnies.experiment import BunniesSettings
    from pages.shared.layout import cache

    small = BunniesSettings(num_train=200, epochs=1, num_test=40, num_check=8, seed=41)
    monkeypatch.setattr(entries, "reachable", lambda seed: [small])
    app = open_app("pages/1_Bunnies_and_grass.py", seed="41")
    assert not app.exception
    app.toggle(key="bunnies_teacher").set_value(True).run()
    assert "0 of the 1" in next(element.value for element in app.markdown if "networks the controls" in element.value)
    next(button for button in app.button if button.key == "bunnies_prepare").click().run()
    assert not app.exception
    assert any(element.value.startswith("Prepared: 3 results computed") for element in app.success)
    assert cache().store("bunnies", "training").get(small.training_key()) is not None
    app.run()
    assert "1 of the 1" in next(element.value for element in app.markdown if "networks the controls" in element.value)
