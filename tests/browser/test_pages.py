"""Real headless Chromium against a fresh `streamlit run`: pages render, deep links work, Train gives maps."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core.lessons import SYLLABUS
from tests.browser.conftest import EXCEPTION, screenshot, settle

pytestmark = pytest.mark.browser


def test_every_page_loads_without_an_exception_box(fresh_server, page):
    """Test whether the home page and every lesson page render with no exception box."""
    page.goto(fresh_server)
    settle(page)
    page.get_by_role("heading", name="NetLens", exact=True).wait_for()
    expect(page.locator('[data-testid="stSidebar"]').get_by_text("Splitting the data")).to_have_count(1, timeout=30_000)
    assert page.locator(EXCEPTION).count() == 0
    screenshot(page, "home")
    for lesson in SYLLABUS:
        if lesson.page is None:
            continue
        page.goto(f"{fresh_server}/{lesson.page.split('_', 1)[1].removesuffix('.py')}")
        settle(page)
        assert page.locator(EXCEPTION).count() == 0, lesson.title


def test_deep_link_on_a_fresh_server_shows_the_lesson_and_our_navigation(fresh_server, page):
    """Test whether the very first visitor of a fresh server, arriving by a deep link, gets the lesson with
    NetLens's own navigation and no "Page not found" dialog (PITFALLS: streamlit#8860)."""
    page.goto(f"{fresh_server}/Bunnies_and_grass?bunnies_grass=90&seed=3")
    settle(page)
    page.get_by_role("heading", name="Bunnies and grass").first.wait_for()
    assert page.get_by_text("Page not found").count() == 0
    assert page.locator(EXCEPTION).count() == 0
    sidebar = page.locator('[data-testid="stSidebar"]')
    expect(sidebar.get_by_text("NetLens home")).to_have_count(1, timeout=30_000)
    expect(sidebar.get_by_text("Bunnies and grass")).to_have_count(1)
    assert sidebar.get_by_text("streamlit app").count() == 0  # Streamlit's own file-name navigation stayed hidden
    grass_slider = page.locator('[data-testid="stSlider"]').filter(has_text="photographed on grass").first
    expect(grass_slider).to_contain_text("90%")  # the link's settings were restored
    expect(page.get_by_text("elephants in 10% of theirs")).to_have_count(1)
    screenshot(page, "bunnies_deep_link")
