"""Real headless Chromium against a fresh `streamlit run`: the photo lesson."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core.lessons import SYLLABUS
from tests.browser.conftest import EXCEPTION, screenshot, settle

pytestmark = pytest.mark.browser


def test_the_photo_lesson_shows_predictions_and_maps_for_a_sample(fresh_server, page):
    """Test whether "Your own photo" renders the sample's top-5 chart and five maps in real Chromium, and the
    trust checks run from their button."""
    page.goto(f"{fresh_server}/Your_own_photo")
    settle(page)
    page.get_by_text("What the network thinks it is").first.wait_for(timeout=120_000)
    page.get_by_text("Does this map deserve trust?").wait_for(timeout=120_000)
    settle(page)
    assert page.locator(EXCEPTION).count() == 0
    for name in ("Grad-CAM", "Integrated Gradients", "Occlusion", "SmoothGrad", "GradientShap"):
        expect(page.get_by_text(name, exact=True).first).to_be_visible()
    screenshot(page, "photo")
    page.get_by_role("button", name="Run both checks on Grad-CAM").click()
    page.get_by_text("Scramble the network, redraw the map").wait_for(timeout=120_000)
    settle(page)
    assert page.locator(EXCEPTION).count() == 0
    screenshot(page, "photo_trust")
