"""Real headless Chromium against a fresh `streamlit run`: the why_it_works lesson (the network's space)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import EXCEPTION, fresh_page, screenshot, settle

pytestmark = pytest.mark.browser

CHART = '[data-testid="stPlotlyChart"]'


def _picker(page) -> str:  # type: ignore[no-untyped-def]
    """The picture chosen in step 2, as its picker shows it."""
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text="click a dot on the map")
    return box.get_by_role("combobox").input_value().strip()


def _metrics(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [text.strip() for text in page.locator('[data-testid="stMetricValue"]').all_inner_texts()]


def test_the_map_trains_and_a_click_picks_a_picture(fresh_server, page, browser):
    """Test whether Train draws the map and the before/after bars with no exception box, a click on a dot of the
    map picks that picture (the picker and the neighbours change), and the address bar alone brings another
    browser the same network, picture and numbers."""
    page.goto(f"{fresh_server}/Why_does_it_work")
    settle(page)
    page.get_by_role("button", name="Train the networks").click()
    page.locator(CHART).nth(1).wait_for(timeout=240_000)
    settle(page)
    assert page.locator(EXCEPTION).count() == 0
    assert _picker(page).startswith("surprise picture 1: a bunny on")
    before, after = _metrics(page)
    assert int(before.rstrip("%")) <= 10 < 45 <= int(after.rstrip("%"))
    screenshot(page, "why_it_works")

    page.locator('[data-testid="stButtonGroup"] button').filter(has_text="After more pictures").click()
    settle(page)
    points = page.locator(f"{CHART} .scatterlayer .trace").first.locator("path.point")
    points.nth(3).click(force=True)  # an ordinary bunny (colour: animal, first trace)
    settle(page)
    picked = _picker(page)
    assert picked.startswith("picture ") and "a bunny on" in picked, picked
    assert page.locator(EXCEPTION).count() == 0
    screenshot(page, "why_it_works_clicked")
    url = page.url
    assert "why_it_works_trained=1" in url and "why_it_works_stage=" in url and "why_it_works_picture=" in url, url

    with fresh_page(browser, url) as other:
        other.locator(CHART).nth(1).wait_for(timeout=240_000)
        settle(other)
        assert other.locator(EXCEPTION).count() == 0
        assert _picker(other) == picked
        assert _metrics(other) == [before, after]
        expect(other.get_by_text("the network shown more pictures", exact=False).first).to_be_visible()
        screenshot(other, "why_it_works_from_link")
        other.get_by_text("Show the pictures themselves on the map").click()  # 400 small pictures on the map
        settle(other)
        assert other.locator(EXCEPTION).count() == 0
        expect(other.locator(f"{CHART} image").first).to_be_attached()
        screenshot(other, "why_it_works_pictures")


def test_an_uploaded_photo_finds_its_twin_in_the_photo_space(fresh_server, page, tmp_path):
    """Test whether, on a shared link with the photo step open, uploading a photo (the cat, mirrored, as a JPEG)
    shows it as the chosen photo with the cat or the close-up of its face as its most alike picture, and the
    photo map, with no exception box; a file that is not a picture gets one plain line, not a traceback."""
    from PIL import Image

    from core.lessons.why_it_works.photos import collection

    photo = tmp_path / "my_cat.jpg"
    Image.fromarray(collection()[1].image).transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(photo, quality=85)
    page.goto(f"{fresh_server}/Why_does_it_work?why_it_works_trained=1&why_it_works_photos=true")
    page.locator(CHART).nth(2).wait_for(timeout=240_000)
    settle(page)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(photo))
    page.get_by_text("chosen: your photo").wait_for(timeout=60_000)
    settle(page)
    assert page.locator(EXCEPTION).count() == 0
    first = page.get_by_text("1. ", exact=False).filter(has_text="alike").first.inner_text()
    assert "cat" in first, first
    page.get_by_text("chosen: your photo").scroll_into_view_if_needed()
    screenshot(page, "why_it_works_photo_upload")
    junk = tmp_path / "not_a_photo.png"
    junk.write_bytes(b"this is not a picture" * 20)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(junk))
    page.get_by_text("not a picture NetLens can read").wait_for(timeout=60_000)
    settle(page)
    assert page.locator(EXCEPTION).count() == 0
