"""Real headless Chromium against a fresh `streamlit run`: the "How many pictures do I need?" lesson."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import EXCEPTION, fresh_page, screenshot, settle

pytestmark = pytest.mark.browser

HEADLINE = "To reach"
TABLE = '[data-testid="stTable"], [data-testid="stDataFrame"]'


def _points_drawn(page) -> int:  # type: ignore[no-untyped-def]
    """How many mean points the chart on screen shows, over all its curves (bands excluded)."""
    return page.locator(".js-plotly-plot").first.evaluate(
        "plot => plot.data.filter(trace => trace.fill !== 'toself').reduce((sum, trace) => sum + trace.x.length, 0)")


def _headline(page) -> str:  # type: ignore[no-untyped-def]
    return page.get_by_text(HEADLINE, exact=False).first.inner_text().strip()


def test_the_curves_appear_point_by_point_and_a_link_shows_the_same_in_a_fresh_browser(fresh_server, page, browser):
    """Test whether pressing Train on the lesson (its default: 54 trainings) puts points on the chart while it
    trains — with a progress bar, before the training is over — then draws the whole chart, a computed headline,
    the table and the two ear-tip numbers with no exception box; and whether the address bar alone brings a
    fresh browser the same headline and the same numbers without pressing Train."""
    page.goto(f"{fresh_server}/How_many_pictures")
    settle(page)
    expect(page.get_by_text("Hard: bunny breed vs bunny breed", exact=False)).to_be_visible(timeout=60_000)
    page.get_by_role("button", name="Train").first.click()
    progress = page.locator('[data-testid="stProgress"]')
    progress.first.wait_for(timeout=60_000)
    page.wait_for_function(
        """() => { const plot = document.querySelector('.js-plotly-plot');
                   return plot && plot.data
                       && plot.data.some(trace => trace.fill !== 'toself' && trace.x.length > 0); }""",
        timeout=60_000)
    assert progress.count() >= 1  # the chart already has points and the training is still going
    live = _points_drawn(page)
    assert 1 <= live < 18, live  # 6 sizes × 3 curves of mean points at the end
    screenshot(page, "how_many_pictures_live")

    page.locator(TABLE).first.wait_for(timeout=240_000)
    settle(page)
    assert page.locator(EXCEPTION).count() == 0
    assert _points_drawn(page) == 18
    headline = _headline(page)
    assert "more pictures" in headline, headline
    metrics = page.locator('[data-testid="stMetric"]').all_inner_texts()
    assert len(metrics) == 2 and all("%" in text for text in metrics), metrics
    url = page.url
    assert "how_many_pictures_trained=1" in url, url
    screenshot(page, "how_many_pictures")

    with fresh_page(browser, url) as other:
        other.locator(TABLE).first.wait_for(timeout=240_000)
        settle(other)
        assert other.locator(EXCEPTION).count() == 0
        assert _headline(other) == headline
        assert other.locator('[data-testid="stMetric"]').all_inner_texts() == metrics
        assert _points_drawn(other) == 18
        screenshot(other, "how_many_pictures_from_link")
