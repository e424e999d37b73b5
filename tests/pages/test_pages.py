"""Streamlit's AppTest harness: the home page, every lesson page, presenter mode, stores kept per lesson."""

from __future__ import annotations


import pytest

from core.lessons import SYLLABUS
from tests.pages.apptest import open_app

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
    from core.lessons import SYLLABUS

    app = _open()
    app.toggle(key="presenter").set_value(True).run()
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
    app.toggle(key="presenter").set_value(False).run()
    assert not [expander for expander in app.expander if expander.label.startswith("The story")]


def test_each_lesson_keeps_its_results_in_its_own_stores():
    """Test whether a lesson's picture sets and trainings land in that lesson's stores only, so a student dragging
    the practice-pile slider through every size cannot push another lesson's trainings or reports out (picture
    sets and maps, cheap to make again, share one byte budget across lessons by design: issue 9)."""
    from core.store import BUDGETS
    from pages.shared.layout import cache

    shared = cache()
    before = {key: len(store) for key, store in shared._stores.items() if key[0] != "splits" and key[1] not in BUDGETS}
    splits = {kind: len(shared.store("splits", kind)) for kind in ("pictures", "training")}
    app = _open("pages/6_Splitting_the_data.py", splits_trained="1", splits_pictures="16")
    app.select_slider(key="splits_pictures").set_value(64).run()
    assert not app.exception
    assert len(shared.store("splits", "pictures")) >= splits["pictures"] + 2
    assert len(shared.store("splits", "training")) >= splits["training"] + 2
    after = {key: len(store) for key, store in shared._stores.items() if key[0] != "splits" and key[1] not in BUDGETS}
    assert after == {**{key: 0 for key in after}, **before}
