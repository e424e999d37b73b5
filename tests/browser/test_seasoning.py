"""Real headless Chromium against a fresh `streamlit run`: the seasoning lesson (smallest budget: 5 trials of 1
network, 1 seed per strength, set through the address bar, to keep the run short)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import EXCEPTION, fresh_page, screenshot, settle

pytestmark = pytest.mark.browser

TABLE = '[data-testid="stDataFrame"]'
SMALL = "seasoning_trials=5&seasoning_executions=1&seasoning_seeds=1"


def _lines(page) -> list[str]:  # type: ignore[no-untyped-def]
    """The takeaway lines under the curve: numbers of these very networks."""
    return [text.strip() for text in page.locator('[data-testid="stMarkdownContainer"] li').all_inner_texts()]


def test_the_seasoning_lesson_cooks_tastes_and_tunes_in_the_browser(fresh_server, page, browser):
    """Test whether Cook, Taste and Start the tuner each draw their results with no exception box, and whether the
    address bar alone brings a fresh browser the same curve and the same study without a press."""
    page.goto(f"{fresh_server}/Seasoning_to_taste?{SMALL}")
    settle(page)
    assert page.locator(EXCEPTION).count() == 0
    page.get_by_role("button", name="Cook with and without").click()
    page.get_by_text("Right on surprise pictures").first.wait_for(timeout=120_000)
    settle(page)
    assert page.locator(EXCEPTION).count() == 0
    screenshot(page, "seasoning_pinch")

    page.get_by_role("button", name="Taste 6 strengths × 1").click()
    page.get_by_text("Most surprise pictures right", exact=False).wait_for(timeout=180_000)
    settle(page)
    page.get_by_role("button", name="Start the tuner").click()
    page.locator(TABLE).first.wait_for(timeout=180_000)
    settle(page)
    assert page.locator(EXCEPTION).count() == 0
    expect(page.get_by_text("best trade-offs", exact=False).first).to_be_visible()
    url, lines = page.url, _lines(page)
    assert "seasoning_tuned=1" in url and "seasoning_tasted=1" in url and "seasoning_cooked=1" in url, url
    summary = page.get_by_text("trials,", exact=False).first.inner_text()
    screenshot(page, "seasoning_tuned")

    with fresh_page(browser, url) as other:
        other.locator(TABLE).first.wait_for(timeout=180_000)
        settle(other)
        assert other.locator(EXCEPTION).count() == 0
        assert _lines(other) == lines
        assert other.get_by_text("trials,", exact=False).first.inner_text() == summary
        screenshot(other, "seasoning_from_link")


def test_the_chosen_trial_opens_in_lesson_one_and_comes_back(fresh_server, page):
    """Test whether, after a small study, the link "Open trial N's network in lesson 1's maps" opens the bunnies
    lesson with that network's results and maps under a banner naming the trial (no training, no exception box),
    and "Back to lesson 10" returns to the same study without running it again."""
    page.goto(f"{fresh_server}/Seasoning_to_taste?seasoning_trials=5&seasoning_executions=1&seasoning_tuned=1")
    page.locator(TABLE).first.wait_for(timeout=180_000)
    settle(page)
    summary = page.get_by_text("trials,", exact=False).first.inner_text()
    link = page.get_by_role("link", name="network in lesson 1's maps")
    trial = link.inner_text().split("Open trial ")[1].split("'s")[0]
    link.click()
    page.get_by_text("handed over from lesson 10", exact=False).wait_for(timeout=120_000)
    page.get_by_text("Evidence on the grass", exact=False).first.wait_for(timeout=180_000)
    settle(page)
    assert page.locator(EXCEPTION).count() == 0
    expect(page.get_by_text(f"trial {trial} of the tuner", exact=False).first).to_be_visible()
    assert "handoff=" in page.url and "bunnies_trained" not in page.url
    screenshot(page, "seasoning_handoff_in_lesson_1")
    page.get_by_role("link", name="Back to lesson 10").click()
    page.locator(TABLE).first.wait_for(timeout=60_000)
    settle(page)
    assert page.locator(EXCEPTION).count() == 0
    assert page.get_by_text("trials,", exact=False).first.inner_text() == summary
