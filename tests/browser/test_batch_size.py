"""Real headless Chromium against a fresh `streamlit run`: the batch_size lesson."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import fresh_page, EXCEPTION, screenshot, settle

pytestmark = pytest.mark.browser

TABLE = '[data-testid="stTable"], [data-testid="stDataFrame"]'


def _takeaways(page) -> list[str]:  # type: ignore[no-untyped-def]
    """The takeaway lines under the table: numbers of these very curves (nudges, points lost, %, seconds)."""
    return [text.strip() for text in page.locator('[data-testid="stMarkdownContainer"] li').all_inner_texts()]


def _pills(page) -> list[str]:  # type: ignore[no-untyped-def]
    """The chosen batch sizes, as the pills show them."""
    pressed = page.locator('[data-testid="stButtonGroup"] button[aria-pressed="true"]')
    return [text.strip() for text in pressed.all_inner_texts()]


def test_the_batch_size_lesson_trains_in_the_browser(fresh_server, page):
    """Test whether pressing Train on the batch-size lesson draws the side-by-side curves and the table."""
    page.goto(f"{fresh_server}/Batch_size")
    settle(page)
    page.get_by_role("button", name="Train").first.click()
    page.locator(TABLE).first.wait_for(timeout=120_000)
    settle(page)
    assert page.locator(EXCEPTION).count() == 0
    expect(page.get_by_text("Best here", exact=False)).to_have_count(1)
    screenshot(page, "batch_size")


def test_a_copied_link_shows_the_same_comparison_in_a_fresh_browser(fresh_server, page, browser):
    """Test whether, after adding 4 pictures per nudge, choosing 2 passes and training, the address bar alone
    brings another browser (fresh context, nothing shared but the server) the same pills, the same slider and
    the same comparison — the same takeaway numbers — without pressing Train."""
    page.goto(f"{fresh_server}/Batch_size")
    settle(page)
    page.get_by_role("button", name="4", exact=True).click()
    settle(page)
    thumb = page.locator('[data-testid="stSlider"]').filter(has_text="Times it looks through").get_by_role("slider")
    thumb.focus()
    thumb.press("ArrowLeft")  # 4 passes → 2
    settle(page)
    page.get_by_role("button", name="Train").first.click()
    page.locator(TABLE).first.wait_for(timeout=120_000)
    settle(page)
    expect(page.get_by_text("Best here", exact=False)).to_have_count(1)
    url = page.url
    assert re.search(r"batch_size_passes=2", url) and "batch_size_trained=1" in url, url
    chosen, takeaways = _pills(page), _takeaways(page)
    assert chosen == ["1", "4", "8", "64", "all 512"]
    assert any("1,024 pictures seen" in line for line in takeaways), takeaways  # 2 passes through 512
    screenshot(page, "batch_size_before_link")

    with fresh_page(browser, url) as other:
        other.locator(TABLE).first.wait_for(timeout=120_000)
        settle(other)
        assert other.locator(EXCEPTION).count() == 0
        assert _pills(other) == chosen
        expect(other.locator('[data-testid="stSlider"]').filter(has_text="Times it looks through")
               .get_by_role("slider")).to_have_attribute("aria-valuetext", "2")
        assert _takeaways(other) == takeaways
        expect(other.locator('[data-testid="stPlotlyChart"]')).to_have_count(2)
        screenshot(other, "batch_size_from_link")
