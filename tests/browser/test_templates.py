"""Real headless Chromium against a fresh `streamlit run`: the templates lesson."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core.lessons import SYLLABUS
from tests.browser.conftest import EXCEPTION, screenshot, settle

pytestmark = pytest.mark.browser


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
