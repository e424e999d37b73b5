"""Real headless Chromium against a fresh `streamlit run`: the splits lesson."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core.lessons import SYLLABUS
from tests.browser.conftest import EXCEPTION, screenshot, settle

pytestmark = pytest.mark.browser


def test_the_splits_lesson_trains_and_retrains_live_in_the_browser(fresh_server, page):
    """Test whether "Splitting the data" shows the three piles, trains on Train with the three curves and the
    exam score, and after that retrains at once when the practice pile grows."""
    page.goto(f"{fresh_server}/Splitting_the_data")
    settle(page)
    expect(page.get_by_text("Mock exam", exact=False).first).to_be_visible(timeout=60_000)
    page.get_by_role("button", name="Train").first.click()
    page.get_by_text("Exam score to report").first.wait_for(timeout=120_000)
    settle(page)
    assert page.locator(EXCEPTION).count() == 0
    expect(page.get_by_text("It memorised.")).to_have_count(1)
    screenshot(page, "splits")
    page.goto(f"{fresh_server}/Splitting_the_data?pictures=1024&trained=1")
    page.get_by_text("Exam score to report").first.wait_for(timeout=120_000)
    settle(page)
    assert page.locator(EXCEPTION).count() == 0
    screenshot(page, "splits_many_pictures")
