"""Real headless Chromium against a fresh `streamlit run`: pages render, deep links work, Train gives maps."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core.lessons import SYLLABUS
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser

EXCEPTION = '[data-testid="stException"]'


def _settle(page) -> None:  # type: ignore[no-untyped-def]
    """Wait until the app has finished running its script."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=60_000)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=120_000
    )


def test_every_page_loads_without_an_exception_box(fresh_server, page):
    """Test whether the home page and every lesson page render with no exception box."""
    page.goto(fresh_server)
    _settle(page)
    page.get_by_role("heading", name="NetLens", exact=True).wait_for()
    expect(page.locator('[data-testid="stSidebar"]').get_by_text("Splitting the data")).to_have_count(1, timeout=30_000)
    assert page.locator(EXCEPTION).count() == 0
    screenshot(page, "home")
    for lesson in SYLLABUS:
        if lesson.page is None:
            continue
        page.goto(f"{fresh_server}/{lesson.page.split('_', 1)[1].removesuffix('.py')}")
        _settle(page)
        assert page.locator(EXCEPTION).count() == 0, lesson.title


def test_deep_link_on_a_fresh_server_shows_the_lesson_and_our_navigation(fresh_server, page):
    """Test whether the very first visitor of a fresh server, arriving by a deep link, gets the lesson with
    NetLens's own navigation and no "Page not found" dialog (PITFALLS: streamlit#8860)."""
    page.goto(f"{fresh_server}/Bunnies_and_grass?grass=90&seed=3")
    _settle(page)
    page.get_by_role("heading", name="Bunnies and grass").first.wait_for()
    assert page.get_by_text("Page not found").count() == 0
    assert page.locator(EXCEPTION).count() == 0
    sidebar = page.locator('[data-testid="stSidebar"]')
    expect(sidebar.get_by_text("NetLens home")).to_have_count(1, timeout=30_000)
    expect(sidebar.get_by_text("Bunnies and grass")).to_have_count(1)
    assert sidebar.get_by_text("streamlit app").count() == 0  # Streamlit's own file-name navigation stayed hidden
    grass_slider = page.locator('[data-testid="stSlider"]').filter(has_text="photographed on grass").first
    expect(grass_slider).to_contain_text("90%")  # the link's settings were restored
    expect(page.get_by_text("elephants in 10% of theirs")).to_have_count(1)
    screenshot(page, "bunnies_deep_link")


def test_training_in_the_browser_shows_scores_maps_and_the_check(fresh_server, page):
    """Test whether pressing Train shows the two scores, the six maps and the agreement verdict."""
    page.goto(f"{fresh_server}/Bunnies_and_grass")
    _settle(page)
    page.get_by_role("button", name="Train the network").click()
    page.get_by_text("Right on surprise pictures").first.wait_for(timeout=120_000)
    page.get_by_text("The map and the experiment").wait_for(timeout=120_000)
    _settle(page)
    assert page.locator(EXCEPTION).count() == 0
    images = page.locator('[data-testid="stImage"] img')
    assert images.count() >= 8  # the picture, six maps and the legend strip
    for name in ("Integrated Gradients", "Grad-CAM", "Occlusion", "SmoothGrad", "GradientShap", "Saliency"):
        assert page.get_by_text(name, exact=True).count() >= 1, name
    screenshot(page, "bunnies_trained")
    page.get_by_role("button", name="Show it more pictures and retrain").click()
    page.get_by_text("After: +").wait_for(timeout=120_000)
    _settle(page)
    assert page.locator(EXCEPTION).count() == 0
    screenshot(page, "bunnies_more_pictures")


def test_the_photo_lesson_shows_predictions_and_maps_for_a_sample(fresh_server, page):
    """Test whether "Your own photo" renders the sample's top-5 chart and five maps in real Chromium, and the
    trust checks run from their button."""
    page.goto(f"{fresh_server}/Your_own_photo")
    _settle(page)
    page.get_by_text("What the network thinks it is").first.wait_for(timeout=120_000)
    page.get_by_text("Does this map deserve trust?").wait_for(timeout=120_000)
    _settle(page)
    assert page.locator(EXCEPTION).count() == 0
    for name in ("Grad-CAM", "Integrated Gradients", "Occlusion", "SmoothGrad", "GradientShap"):
        expect(page.get_by_text(name, exact=True).first).to_be_visible()
    screenshot(page, "photo")
    page.get_by_role("button", name="Run both checks on Grad-CAM").click()
    page.get_by_text("Scramble the network, redraw the map").wait_for(timeout=120_000)
    _settle(page)
    assert page.locator(EXCEPTION).count() == 0
    screenshot(page, "photo_trust")


def test_the_house_price_lesson_nudges_in_the_browser(fresh_server, page):
    """Test whether pressing Run 50 (nudges) updates the error and the figures, with no exception box."""
    page.goto(f"{fresh_server}/The_house-price_formula")
    _settle(page)
    page.get_by_role("button", name="Run 50", exact=True).click()
    _settle(page)
    expect(page.get_by_text("How wrong it is, nudge after nudge").first).to_be_attached(timeout=30_000)
    assert page.locator(EXCEPTION).count() == 0
    screenshot(page, "house_prices")
    page.get_by_role("tab", name="Error landscape").click()
    _settle(page)
    screenshot(page, "house_prices_landscape")


def test_the_batch_size_lesson_trains_in_the_browser(fresh_server, page):
    """Test whether pressing Train on the batch-size lesson draws the side-by-side curves and the table."""
    page.goto(f"{fresh_server}/Batch_size")
    _settle(page)
    page.get_by_role("button", name="Train").first.click()
    page.locator('[data-testid="stTable"], [data-testid="stDataFrame"]').first.wait_for(timeout=120_000)
    _settle(page)
    assert page.locator(EXCEPTION).count() == 0
    screenshot(page, "batch_size")


def test_the_templates_lesson_races_and_replays_in_the_browser(fresh_server, page):
    """Test whether "Programs as templates" shows the race, the program as code and the detectors' weights, and
    Replay steps through the search back to the last try with no exception box."""
    page.goto(f"{fresh_server}/Programs_as_templates")
    _settle(page)
    page.get_by_text("holds after 300 of 300 tries").wait_for(timeout=120_000)
    expect(page.get_by_text("def is_it_a_face").first).to_be_visible()
    assert page.locator(EXCEPTION).count() == 0
    page.get_by_role("button", name="Replay").click()
    page.mouse.move(5, 700)  # no tooltip over the screenshot
    page.get_by_text("holds after 1 of 300 tries").wait_for(timeout=30_000)  # the replay starts at the first try
    page.get_by_text("holds after 300 of 300 tries").wait_for(timeout=60_000)
    _settle(page)
    assert page.locator(EXCEPTION).count() == 0
    screenshot(page, "templates")


def test_the_splits_lesson_trains_and_retrains_live_in_the_browser(fresh_server, page):
    """Test whether "Splitting the data" shows the three piles, trains on Train with the three curves and the
    exam score, and after that retrains at once when the practice pile grows."""
    page.goto(f"{fresh_server}/Splitting_the_data")
    _settle(page)
    expect(page.get_by_text("Mock exam", exact=False).first).to_be_visible(timeout=60_000)
    page.get_by_role("button", name="Train").first.click()
    page.get_by_text("Exam score to report").first.wait_for(timeout=120_000)
    _settle(page)
    assert page.locator(EXCEPTION).count() == 0
    expect(page.get_by_text("It memorised.")).to_have_count(1)
    screenshot(page, "splits")
    page.goto(f"{fresh_server}/Splitting_the_data?pictures=1024&trained=1")
    page.get_by_text("Exam score to report").first.wait_for(timeout=120_000)
    _settle(page)
    assert page.locator(EXCEPTION).count() == 0
    screenshot(page, "splits_many_pictures")
