"""Real headless Chromium against a fresh `streamlit run`: the splits lesson."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import fresh_page, EXCEPTION, screenshot, settle

pytestmark = pytest.mark.browser

SCORE = "Exam score to report"


def _metrics(page) -> list[str]:  # type: ignore[no-untyped-def]
    """The three scores under the curves: practice pile, final exam (and its gap), exam score to report."""
    return [text.strip() for text in page.locator('[data-testid="stMetric"]').all_inner_texts()]


def _final_exam_curve(page) -> list[float]:  # type: ignore[no-untyped-def]
    """The final-exam curve as the browser drew it (the figure's third trace, in percent)."""
    return page.locator(".js-plotly-plot").first.evaluate("plot => Array.from(plot.data[2].y)")


def _slider(page):  # type: ignore[no-untyped-def]
    return page.locator('[data-testid="stSlider"]').filter(has_text="Pictures to practise on").get_by_role("slider")


def _wait_for_pictures(page, pictures: int) -> None:  # type: ignore[no-untyped-def]
    """Wait until the page has run with `pictures` practice pictures and has finished drawing."""
    expect(page.get_by_text(f"Practice pile · {pictures:,} pictures", exact=False)).to_have_count(1, timeout=120_000)
    page.get_by_text(SCORE).first.wait_for(timeout=120_000)
    settle(page)


def test_the_splits_lesson_trains_and_retrains_live_in_the_browser(fresh_server, page):
    """Test whether "Splitting the data" shows the three piles, trains on Train with the three curves and the
    exam score, and after that retrains at once when the practice-pile slider is moved in the page (keyboard on
    its thumb, no new address typed): other scores, another final-exam curve, and the address bar following."""
    page.goto(f"{fresh_server}/Splitting_the_data")
    settle(page)
    expect(page.get_by_text("Mock exam", exact=False).first).to_be_visible(timeout=60_000)
    page.get_by_role("button", name="Train").first.click()
    page.get_by_text(SCORE).first.wait_for(timeout=120_000)
    settle(page)
    assert page.locator(EXCEPTION).count() == 0
    expect(page.get_by_text("It memorised.")).to_have_count(1)
    before, curve_before = _metrics(page), _final_exam_curve(page)
    screenshot(page, "splits")

    slider = _slider(page)
    slider.focus()
    for _ in range(5):  # 32 → 64 → 128 → 256 → 512 → 1,024 pictures
        slider.press("ArrowRight")
    expect(slider).to_have_attribute("aria-valuetext", "1024")
    _wait_for_pictures(page, 1024)
    assert page.locator(EXCEPTION).count() == 0
    expect(page.get_by_text("It learnt, not memorised.")).to_have_count(1)
    after, curve_after = _metrics(page), _final_exam_curve(page)
    assert after != before
    assert after[2] != before[2], (before, after)  # the exam score to report changed
    assert curve_after != curve_before and curve_after[-1] > curve_before[-1] + 15
    assert "splits_pictures=1024" in page.url and "splits_trained=1" in page.url, page.url
    screenshot(page, "splits_many_pictures")


def test_a_copied_link_shows_the_same_training_in_a_fresh_browser(fresh_server, page, browser):
    """Test whether, after training, moving the slider to 64 and shuffling the answers, the address bar alone
    brings another browser (fresh context, nothing shared but the server) the same controls, the same scores,
    the same takeaways and the same curves, without pressing Train."""
    page.goto(f"{fresh_server}/Splitting_the_data")
    settle(page)
    page.get_by_role("button", name="Train").first.click()
    page.get_by_text(SCORE).first.wait_for(timeout=120_000)
    settle(page)
    slider = _slider(page)
    slider.focus()
    slider.press("ArrowRight")  # 32 → 64
    _wait_for_pictures(page, 64)
    page.get_by_text("Shuffle the answers (labels)").click()
    expect(page.get_by_text("Nothing to learn, only to memorise.")).to_have_count(1, timeout=120_000)
    settle(page)
    url = page.url
    assert "splits_pictures=64" in url and "splits_shuffle=true" in url and "splits_trained=1" in url, url
    scores, curve = _metrics(page), _final_exam_curve(page)
    takeaways = page.locator('[data-testid="stMarkdownContainer"] li').all_inner_texts()
    assert len(takeaways) >= 2

    with fresh_page(browser, url) as other:
        _wait_for_pictures(other, 64)
        assert other.locator(EXCEPTION).count() == 0
        expect(_slider(other)).to_have_attribute("aria-valuetext", "64")
        expect(other.get_by_role("switch", name="Shuffle the answers (labels)")).to_be_checked()
        assert _metrics(other) == scores
        assert other.locator('[data-testid="stMarkdownContainer"] li').all_inner_texts() == takeaways
        assert _final_exam_curve(other) == curve
        screenshot(other, "splits_from_link")
