"""Streamlit's AppTest harness: every page loads; the lesson trains, explains and retrains with small settings."""

from __future__ import annotations


import pytest

from core.lessons import SYLLABUS
from tests.pages.apptest import open_app

LESSON = "pages/1_Bunnies_and_grass.py"


_open = open_app


def test_home_page_names_netlens_and_lists_every_lesson():
    """Test whether the front door says what NetLens is and lists the whole syllabus."""
    app = _open()
    assert not app.exception
    assert app.title[0].value == "NetLens"
    text = " ".join(element.value for element in app.markdown)
    assert "what a neural network is actually doing" in text
    written = [lesson for lesson in SYLLABUS if lesson.page is None]
    assert all(lesson.title in text for lesson in written)


@pytest.mark.parametrize("lesson", [lesson for lesson in SYLLABUS if lesson.page], ids=lambda lesson: lesson.title)
def test_every_lesson_page_loads_without_an_exception(lesson):
    """Test whether each lesson page renders its title and controls with no exception."""
    app = _open(lesson.page)
    assert not app.exception
    assert app.title[0].value == lesson.title


def test_the_lesson_trains_explains_checks_and_retrains():
    """Test the whole lesson with 500 pictures: scores, six maps, the agreement verdict, then 'show it
    more pictures' with a before/after comparison."""
    app = _open(LESSON)
    app.select_slider(key="bunnies_pictures").set_value(500)
    app.button[0].click().run()
    assert not app.exception
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics["Right on ordinary pictures"].endswith("%")
    assert int(metrics["Right on surprise pictures"].rstrip("%")) <= 20  # grass behind every bunny
    verdicts = [box.value for box in app.success] + [box.value for box in app.warning]
    assert any("The map and the experiment" in verdict for verdict in verdicts)
    app.radio(key="bunnies_choice").set_value("a surprise picture").run()
    assert not app.exception
    assert any("It is a" in element.value for element in app.markdown)

    app.button[1].click().run()
    assert not app.exception
    surprise = [metric.value for metric in app.metric if metric.label == "Right on surprise pictures"]
    assert len(surprise) == 3  # the headline, before, after
    assert int(surprise[2].rstrip("%")) > int(surprise[1].rstrip("%"))


def test_a_shared_link_restores_the_settings():
    """Test whether ?grass=&pictures=&trained=1 reproduces the teacher's screen without pressing anything."""
    app = _open(LESSON, grass="50", pictures="500", trained="1", seed="2")
    assert not app.exception
    assert app.slider(key="bunnies_grass").value == 50
    assert app.number_input(key="netlens_seed").value == 2
    metrics = {metric.label: metric.value for metric in app.metric}
    assert int(metrics["Right on surprise pictures"].rstrip("%")) >= 80  # balanced pictures: no shortcut


def test_nonsense_in_the_link_falls_back_to_defaults():
    """Test whether a hand-edited link with impossible values still opens the lesson with defaults."""
    app = _open(LESSON, grass="banana", pictures="7", seed="-4")
    assert not app.exception
    assert app.slider(key="bunnies_grass").value == 100
    assert app.select_slider(key="bunnies_pictures").value == 2000
    assert app.number_input(key="netlens_seed").value == 0


def test_settings_survive_a_visit_to_another_page():
    """Test whether the seed, presenter mode and the lesson's sliders are kept when the learner goes home
    and comes back (Streamlit forgets widget values on page switches unless they are kept)."""
    app = _open(LESSON)
    app.slider(key="bunnies_grass").set_value(80)
    app.number_input(key="netlens_seed").set_value(7)
    app.toggle(key="netlens_presenter").set_value(True)
    app.run()
    app.switch_page("streamlit_app.py").run()
    assert app.number_input(key="netlens_seed").value == 7 and app.toggle(key="netlens_presenter").value is True
    app.switch_page(LESSON).run()
    assert not app.exception
    assert app.slider(key="bunnies_grass").value == 80
    assert app.number_input(key="netlens_seed").value == 7


def test_presenter_mode_folds_the_story_away_on_every_lesson():
    """Test whether, with presenter mode on, each built lesson shows its story only inside a collapsed
    expander (the presenter tells it), so the controls and figure move up; and shows it openly otherwise."""
    from core.lessons import SYLLABUS, lesson_text

    app = _open()
    app.toggle(key="netlens_presenter").set_value(True).run()
    for lesson in SYLLABUS:
        if lesson.page is None:
            continue
        app.switch_page(lesson.page).run()
        assert not app.exception, lesson.title
        folded = [expander for expander in app.expander if expander.label.startswith("The story")]
        assert len(folded) == 1, lesson.title
        first_line = folded[0].markdown[0].value.splitlines()[0]
        assert all(first_line not in element.value for element in app.main.markdown
                   if element not in folded[0].markdown), lesson.title
    app.toggle(key="netlens_presenter").set_value(False).run()
    assert not [expander for expander in app.expander if expander.label.startswith("The story")]


def test_a_second_session_reuses_the_first_sessions_network(monkeypatch):
    """Test whether a second browser session with the same settings gets the trained network from the
    shared store instead of training again (thirty students, one training)."""
    import core.shortcut

    calls = []
    original = core.shortcut.train_model

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(core.shortcut, "train_model", counting)
    first = _open(LESSON, grass="95", pictures="500", seed="31", trained="1")
    assert not first.exception and len(calls) == 1
    second = _open(LESSON, grass="95", pictures="500", seed="31", trained="1")
    assert not second.exception and len(calls) == 1
    caption = [c.value for c in first.caption if c.value.startswith("Trained in")]
    assert caption == [c.value for c in second.caption if c.value.startswith("Trained in")]


def test_moving_a_slider_after_training_does_not_retrain(monkeypatch):
    """Test whether results stay those of the last Train press until Train is pressed again."""
    import core.shortcut

    calls = []
    original = core.shortcut.train_model
    monkeypatch.setattr(core.shortcut, "train_model", lambda *a, **k: calls.append(1) or original(*a, **k))
    app = _open(LESSON, pictures="500", seed="41")
    app.button[0].click().run()
    assert len(calls) == 1
    app.slider(key="bunnies_grass").set_value(60).run()
    assert not app.exception and len(calls) == 1
    assert any("You changed the settings" in box.value for box in app.info)
    assert app.query_params["trained"] in ("0", ["0"])  # the link no longer claims these settings were trained
    app.button[0].click().run()
    assert len(calls) == 2 and not any("You changed the settings" in box.value for box in app.info)


def test_the_learning_lessons_keep_their_pictures_apart_from_the_bunny_lesson():
    """Test whether the splits and templates lessons store their picture sets in the small-pictures store, so a
    student dragging the practice-pile slider through every size cannot push the bunny lesson's ~50 MB sets out."""
    from core.splits import SplitConfig
    from core.templates import TemplateConfig
    from pages.shared.layout import _code_version, _stores

    app = _open("pages/6_Splitting_the_data.py")
    for size in (16, 64, 128):
        app.select_slider(key="splits_pictures").set_value(size).run()
        assert not app.exception
    app.switch_page("pages/4_Programs_as_templates.py").run()
    assert not app.exception
    shared = _stores(_code_version())
    for key in [SplitConfig(num_practice=size).data_key() for size in (16, 64, 128)] + [TemplateConfig().data_key()]:
        assert shared.small_pictures.get(key) is not None, key
        assert shared.pictures.get(key) is None, key
