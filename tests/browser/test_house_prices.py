"""Real headless Chromium against a fresh `streamlit run`: the house_prices lesson."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core.lessons import SYLLABUS
from tests.browser.conftest import EXCEPTION, screenshot, settle

pytestmark = pytest.mark.browser


def test_the_house_price_lesson_nudges_in_the_browser(fresh_server, page):
    """Test whether pressing Run 50 (nudges) updates the error and the figures, with no exception box."""
    page.goto(f"{fresh_server}/The_house-price_formula")
    settle(page)
    page.get_by_role("button", name="Run 50", exact=True).click()
    settle(page)
    expect(page.get_by_text("How wrong it is, nudge after nudge").first).to_be_attached(timeout=30_000)
    assert page.locator(EXCEPTION).count() == 0
    screenshot(page, "house_prices")
    page.get_by_role("tab", name="Error landscape").click()
    settle(page)
    screenshot(page, "house_prices_landscape")
