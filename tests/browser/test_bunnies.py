"""Real headless Chromium against a fresh `streamlit run`: the bunnies lesson."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import fresh_page, EXCEPTION, screenshot, settle

pytestmark = pytest.mark.browser


def test_training_in_the_browser_shows_scores_maps_and_the_check(fresh_server, page):
    """Test whether pressing Train shows the two scores, the six maps and the agreement verdict."""
    page.goto(f"{fresh_server}/Bunnies_and_grass")
    settle(page)
    page.get_by_role("button", name="Train the network").click()
    page.get_by_text("Right on surprise pictures").first.wait_for(timeout=120_000)
    page.get_by_text("The map and the experiment").wait_for(timeout=120_000)
    settle(page)
    assert page.locator(EXCEPTION).count() == 0
    images = page.locator('[data-testid="stImage"] img')
    assert images.count() >= 8  # the picture, six maps and the legend strip
    for name in ("Integrated Gradients", "Grad-CAM", "Occlusion", "SmoothGrad", "GradientShap", "Saliency"):
        assert page.get_by_text(name, exact=True).count() >= 1, name
    screenshot(page, "bunnies_trained")
    page.get_by_role("button", name="Show it more pictures and retrain").click()
    page.get_by_text("After: +").wait_for(timeout=120_000)
    settle(page)
    assert page.locator(EXCEPTION).count() == 0
    screenshot(page, "bunnies_more_pictures")


def _screen(page) -> dict:  # type: ignore[no-untyped-def]
    """What the learner sees: the metrics, the slider values, the captions (but the training time), which
    picture is explained, and the numbers in the three figures (learning curve, evidence per part, background
    swap)."""
    page.wait_for_function("() => [...document.querySelectorAll('.js-plotly-plot')].filter(plot => plot.data)"
                           ".length === 3", timeout=60_000)
    return {
        "metrics": page.locator('[data-testid="stMetricValue"]').all_inner_texts(),
        "sliders": page.locator('[data-testid="stSliderThumbValue"]').all_inner_texts(),
        # the training time is the one thing a second training (a restarted server) may change
        "captions": [re.sub(r"Trained in [0-9.]+ s", "Trained in … s", text)
                     for text in page.locator('[data-testid="stCaptionContainer"]').all_inner_texts()],
        "picture": page.get_by_text("It is a").first.inner_text(),
        "chosen": page.locator('[data-testid="stRadio"] label:has(input:checked)').first.inner_text(),
        "images": page.locator('[data-testid="stImage"] img').count(),
        "figures": page.evaluate(
            "() => [...document.querySelectorAll('.js-plotly-plot')].map(plot => (plot.data || []).map(trace => "
            "['x', 'y'].map(axis => { const values = trace[axis]; if (!values) return null; "
            "return Array.from(values._inputArray || values).map(v => typeof v === 'string' ? v : Number(v)); })))"),
    }


def test_a_trained_screen_survives_the_link_into_a_fresh_browser(fresh_server, page, browser):
    """Test whether grass, pictures, Train, the surprise-picture choice and its number, and 'show it more
    pictures' all go into the address, and whether that address, opened in a fresh browser context, shows
    the same screen: same slider values, scores, explained picture, figures and before/after comparison."""
    page.goto(f"{fresh_server}/Bunnies_and_grass")
    settle(page)
    grass, pictures = page.get_by_role("slider").nth(0), page.get_by_role("slider").nth(1)
    grass.focus()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")  # 100 % → 90 %
    page.wait_for_url("**bunnies_grass=90**", timeout=30_000)
    settle(page)
    pictures.focus()
    page.keyboard.press("ArrowLeft")  # 2,000 → 1,000 pictures
    page.wait_for_url("**bunnies_pictures=1000**", timeout=30_000)
    settle(page)
    page.get_by_role("button", name="Train the network").click()
    page.get_by_text("The map and the experiment").wait_for(timeout=120_000)
    settle(page)
    assert "bunnies_trained=1" in page.url
    page.get_by_text("a surprise picture").click()
    page.wait_for_url("**bunnies_choice=**", timeout=30_000)
    settle(page)
    number = page.get_by_role("slider").nth(2)  # grass, pictures, then "which one"
    number.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")  # picture 1 → 3
    page.wait_for_url("**bunnies_number_surprise=3**", timeout=30_000)
    settle(page)
    page.get_by_role("button", name="Show it more pictures and retrain").click()
    page.get_by_text("After: + 500 pictures").wait_for(timeout=180_000)
    settle(page)
    assert page.locator(EXCEPTION).count() == 0
    seen = _screen(page)
    assert seen["sliders"][:3] == ["90%", "1000", "3"] and seen["chosen"] == "a surprise picture"
    link = page.url
    assert "bunnies_more=1" in link and "bunnies_trained=1" in link
    screenshot(page, "bunnies_link_before")

    with fresh_page(browser, link) as other:
        other.get_by_text("After: + 500 pictures").wait_for(timeout=120_000)
        settle(other)
        assert other.locator(EXCEPTION).count() == 0
        assert _screen(other) == seen
        screenshot(other, "bunnies_from_link")
