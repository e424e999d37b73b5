"""Real headless Chromium against a fresh `streamlit run`: the house_prices lesson."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import fresh_page, EXCEPTION, screenshot, settle

pytestmark = pytest.mark.browser

START_ERROR = "$401,646"  # the typical error of X = Y = Z = 0 in the town of seed 0


def _screen(page) -> dict:  # type: ignore[no-untyped-def]
    """What the learner sees: the error, the knobs, the captions, and the error curve's and path's points."""
    page.wait_for_function("() => [...document.querySelectorAll('.js-plotly-plot')].filter(plot => plot.data)"
                           ".length === 3", timeout=30_000)  # the three figures drawn
    return {
        "error": page.locator('[data-testid="stMetricValue"]').first.inner_text(),
        "knobs": page.locator('[data-testid="stSliderThumbValue"]').all_inner_texts(),  # X, Y, Z, step size
        "captions": page.locator('[data-testid="stCaptionContainer"]').all_inner_texts(),
        "figures": page.evaluate(
            "() => [...document.querySelectorAll('.js-plotly-plot')].map(plot => (plot.data || []).map(trace => "
            "['x', 'y', 'z'].map(axis => { const values = trace[axis]; if (!values) return null; "
            "return Array.from(values._inputArray || values).map(v => Array.isArray(v) ? v : Number(v)); })))"),
    }


def test_the_nudges_survive_the_link_into_a_fresh_browser(fresh_server, page, browser):
    """Test whether Run 50, Nudge once and a smaller step size change the error (the count of nudges appears only
    after them), and whether the page's address, opened in a fresh browser context, shows the same knobs, error,
    error curve and path on the landscape — and keeps them across a switch to another page and back."""
    page.goto(f"{fresh_server}/The_house-price_formula")
    settle(page)
    assert page.locator('[data-testid="stMetricValue"]').first.inner_text() == START_ERROR
    page.get_by_role("button", name="Run 50", exact=True).click()
    page.get_by_text("50 nudges taken from X = 0, Y = 0, Z = 0.").wait_for(timeout=30_000)
    settle(page)
    page.get_by_role("button", name="Nudge once", exact=True).click()
    page.get_by_text("51 nudges taken").wait_for(timeout=30_000)
    settle(page)
    error = page.locator('[data-testid="stMetricValue"]').first
    before = error.inner_text()
    step_size = page.get_by_role("slider").nth(3)  # the three knobs, then the step size
    step_size.focus()
    page.keyboard.press("ArrowLeft")  # 0.02 → 0.01
    page.wait_for_url("**house_prices_rate=0.01**", timeout=30_000)
    expect(error).not_to_have_text(before, timeout=30_000)  # the address changes before the page reruns
    settle(page)
    page.get_by_role("tab", name="Error landscape").click()
    settle(page)
    assert page.locator(EXCEPTION).count() == 0
    seen = _screen(page)
    assert seen["error"] != START_ERROR and seen["knobs"][3] == "0.01"
    curve = seen["figures"][1][0]  # the error after each nudge: the start and 51 nudges
    assert len(curve[1]) == 52
    link = page.url
    assert "house_prices_nudges=51" in link
    screenshot(page, "house_prices")

    with fresh_page(browser, link) as other:
        other.get_by_text("51 nudges taken").wait_for(timeout=30_000)
        other.get_by_role("tab", name="Error landscape").click()
        settle(other)
        assert other.locator(EXCEPTION).count() == 0
        assert _screen(other) == seen
        screenshot(other, "house_prices_from_link")
        other.get_by_role("link", name="NetLens home").click()  # a page switch empties the address bar …
        settle(other)
        other.get_by_role("link", name="The house-price formula", exact=True).first.click()
        other.get_by_text("51 nudges taken").wait_for(timeout=30_000)  # … and the lesson comes back as it was
        settle(other)
        other.wait_for_url(re.compile(r"house_prices_nudges=51.*house_prices_rate=0\.01|"
                                      r"house_prices_rate=0\.01.*house_prices_nudges=51"), timeout=30_000)
