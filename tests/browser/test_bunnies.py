"""Real headless Chromium against a fresh `streamlit run`: the bunnies lesson."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core.lessons import SYLLABUS
from tests.browser.conftest import EXCEPTION, screenshot, settle

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
