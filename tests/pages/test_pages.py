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
