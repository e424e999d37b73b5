"""AppTest for "Programs as templates": the race runs with no set-up, the budget and searcher controls change what
is shown, a link restores the screen, and the replay runs."""

from __future__ import annotations

from core.lessons.templates import TemplatesSettings
from tests.pages.apptest import open_app

PAGE = "pages/4_Programs_as_templates.py"


def _searches(app) -> dict[str, tuple[str, str]]:  # type: ignore[no-untyped-def]
    table = app.dataframe[0].value
    return {row["search"]: (row["practice: wrong"], row["new pictures: right"]) for _, row in table.iterrows()}


def test_the_race_runs_and_the_budget_changes_it():
    """Test whether the page opens with the race of 300 programs, shows gradient descent's program as code, and
    moving the budget to 30 reruns the race with different results."""
    app = open_app(PAGE)
    assert not app.exception
    assert app.title[0].value == "Programs as templates"
    assert set(_searches(app)) == {"Random search", "Hill climbing", "Gradient descent"}
    text = " ".join(element.value for element in app.caption)
    assert "gradient descent holds after 300 of 300 tries" in text
    assert app.code[0].value.startswith("def is_it_a_face(dark):")
    before = _searches(app)
    app.select_slider(key="templates_budget").set_value(30).run()
    assert not app.exception
    text = " ".join(element.value for element in app.caption)
    assert "after 30 of 30 tries" in text
    assert _searches(app) != before


def test_choosing_a_searcher_and_a_point_shows_its_program_then():
    """Test whether picking random search and an early point shows that searcher's program at that point."""
    app = open_app(PAGE)
    app.selectbox(key="templates_searcher").set_value("random").run()
    assert not app.exception
    text = " ".join(element.value for element in app.caption)
    assert "random search holds after 300 of 300 tries" in text
    points = app.select_slider(key="templates_tried").options
    app.select_slider(key="templates_tried").set_value(points[3]).run()
    text = " ".join(element.value for element in app.caption)
    assert f"random search holds after {points[3]} of 300 tries" in text


def test_a_shared_link_restores_the_race_and_replay_runs():
    """Test whether a link with a budget of 100, hill climbing and seed 2 opens on that screen, and Replay (from an
    early point) draws every snapshot of the search in turn and ends on the last try."""
    app = open_app(PAGE, templates_budget="100", templates_searcher="Hill climbing", seed="2")
    assert not app.exception
    assert app.number_input(key="seed").value == 2
    assert app.select_slider(key="templates_budget").value == 100
    text = " ".join(element.value for element in app.caption)
    assert "hill climbing holds after 100 of 100 tries" in text
    points = app.select_slider(key="templates_tried").options
    app.select_slider(key="templates_tried").set_value(points[2]).run()
    assert f"hill climbing holds after {points[2]} of 100 tries" in " ".join(element.value for element in app.caption)
    replay = next(button for button in app.button if "Replay" in button.label)
    replay.click().run()
    assert not app.exception
    text = " ".join(element.value for element in app.caption)
    assert "hill climbing holds after 100 of 100 tries" in text
    assert app.select_slider(key="templates_tried").value == 100
    charts = [chart.proto.id for chart in app.get("plotly_chart")]  # each placeholder keeps its last frame
    assert any(f"templates_race_replay_{len(points) - 1}" in chart for chart in charts)  # one frame per snapshot


def test_the_race_waits_in_the_training_queue():
    """Test whether the page's race is kept in the lesson's "training" store — the one that computes in the
    server's single training queue — and not in a store that would let thirty races run at once."""
    from pages.shared.layout import cache

    open_app(PAGE, seed="6")
    server = cache()
    training = server.store("templates", "training")
    assert training.get(TemplatesSettings(seed=6)) is not None and training.queue is server.queue
    assert server.store("templates", "results").get(TemplatesSettings(seed=6)) is None
