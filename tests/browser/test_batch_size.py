"""Real headless Chromium against a fresh `streamlit run`: the batch_size lesson."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core.lessons import SYLLABUS
from tests.browser.conftest import EXCEPTION, screenshot, settle

pytestmark = pytest.mark.browser


def test_the_batch_size_lesson_trains_in_the_browser(fresh_server, page):
    """Test whether pressing Train on the batch-size lesson draws the side-by-side curves and the table."""
    page.goto(f"{fresh_server}/Batch_size")
    settle(page)
    page.get_by_role("button", name="Train").first.click()
    page.locator('[data-testid="stTable"], [data-testid="stDataFrame"]').first.wait_for(timeout=120_000)
    settle(page)
    assert page.locator(EXCEPTION).count() == 0
    screenshot(page, "batch_size")
