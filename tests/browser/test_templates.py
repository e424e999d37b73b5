"""Real headless Chromium against a fresh `streamlit run`: the templates lesson."""

from __future__ import annotations


import pytest
from playwright.sync_api import expect

from core.lessons.templates import TemplatesSettings
from core.lessons.templates.experiment import _snapshot_points
from tests.browser.conftest import fresh_page, EXCEPTION, screenshot, settle

pytestmark = pytest.mark.browser


def _screen(page) -> dict:  # type: ignore[no-untyped-def]
    """What the learner sees: the controls, the program as code, the captions, the table, and the race chart's
    lines and marker."""
    page.wait_for_function("() => [...document.querySelectorAll('.js-plotly-plot')].filter(plot => plot.data)"
                           ".length === 2", timeout=60_000)  # the race and the detectors' weights
    return {
        "controls": page.locator('[data-testid="stSliderThumbValue"]').all_inner_texts()
        + page.locator('[data-testid="stSelectbox"]').all_inner_texts(),
        "code": page.locator('[data-testid="stCode"]').first.inner_text(),
        "captions": page.locator('[data-testid="stCaptionContainer"]').all_inner_texts(),
        "table": page.locator('[data-testid="stDataFrame"]').first.inner_text(),
        "race": page.evaluate(
            "() => { const plot = document.querySelector('.js-plotly-plot'); return { "
            "lines: plot.data.map(trace => [trace.name, Array.from(trace.y._inputArray || trace.y)]), "
            "marker: (plot.layout.shapes || []).map(shape => shape.x0) }; }"),
    }


def test_the_templates_lesson_races_and_replays_in_the_browser(fresh_server, page):
    """Test whether "Programs as templates" shows the race, the program as code and the detectors' weights, and
    Replay steps through the search back to the last try with no exception box."""
    page.goto(f"{fresh_server}/Programs_as_templates")
    settle(page)
    page.get_by_text("holds after 300 of 300 tries").wait_for(timeout=120_000)
    expect(page.get_by_text("def is_it_a_face").first).to_be_visible()
    assert page.locator(EXCEPTION).count() == 0
    page.get_by_role("button", name="Replay").click()
    page.mouse.move(5, 700)  # no tooltip over the screenshot
    page.get_by_text("holds after 1 of 300 tries").wait_for(timeout=30_000)  # the replay starts at the first try
    page.get_by_text("holds after 300 of 300 tries").wait_for(timeout=60_000)
    settle(page)
    assert page.locator(EXCEPTION).count() == 0
    screenshot(page, "templates")


def test_the_race_on_screen_survives_the_link_into_a_fresh_browser(fresh_server, page, browser):
    """Test whether a smaller budget, another searcher and an earlier point of the search change the screen
    (the caption names them only after the change), and whether the page's address, opened in a fresh browser
    context, shows the same controls, program, captions, table and race chart."""
    page.goto(f"{fresh_server}/Programs_as_templates")
    settle(page)
    page.get_by_text("gradient descent holds after 300 of 300 tries").wait_for(timeout=120_000)
    budget = page.get_by_role("slider").nth(0)
    budget.focus()
    page.keyboard.press("ArrowLeft")  # 300 → 100 programs each
    page.get_by_text("gradient descent holds after 100 of 100 tries").wait_for(timeout=120_000)
    settle(page)
    page.locator('[data-testid="stSelectbox"]').first.click()
    page.get_by_role("option", name="Hill climbing").click()
    page.get_by_text("hill climbing holds after 100 of 100 tries").wait_for(timeout=30_000)
    settle(page)
    earlier = sorted(_snapshot_points(100, TemplatesSettings().snapshots))[-4]
    tried = page.get_by_role("slider").nth(1)
    tried.focus()
    for _ in range(3):
        page.keyboard.press("ArrowLeft")
    page.wait_for_url(f"**templates_tried={earlier}**", timeout=30_000)
    page.get_by_text(f"hill climbing holds after {earlier} of 100 tries").wait_for(timeout=30_000)
    settle(page)
    page.mouse.move(5, 700)
    assert page.locator(EXCEPTION).count() == 0
    seen = _screen(page)
    caption = next(text for text in seen["captions"] if "holds after" in text)
    assert caption.startswith("The program hill climbing holds after") and "of 100 tries" in caption
    assert seen["controls"][:2] == ["100", str(earlier)]
    link = page.url
    assert "templates_budget=100" in link and "templates_searcher=" in link
    screenshot(page, "templates_changed")

    with fresh_page(browser, link) as other:
        other.get_by_text(caption[:60]).wait_for(timeout=120_000)
        settle(other)
        other.mouse.move(5, 700)
        assert other.locator(EXCEPTION).count() == 0
        assert _screen(other) == seen
        screenshot(other, "templates_from_link")
