"""Real headless Chromium against a fresh `streamlit run`: the photo lesson, and its links."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core.lessons.photo.experiment import digest
from tests.browser.conftest import EXCEPTION, ROOT, screenshot, settle

pytestmark = pytest.mark.browser
COFFEE = ROOT / "assets" / "photos" / "coffee.jpg"
QUICK = "photo_methods=Grad-CAM&photo_methods=Saliency"  # two quick maps keep the link tests short


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
        expect(page.get_by_test_id("stImage").filter(has_text=name).first).to_be_visible()
    screenshot(page, "photo")
    page.get_by_role("button", name="Run both checks on Grad-CAM").click()
    page.get_by_text("Scramble the network, redraw the map").wait_for(timeout=120_000)
    settle(page)
    assert page.locator(EXCEPTION).count() == 0
    screenshot(page, "photo_trust")


def _screen(page) -> dict:  # type: ignore[no-untyped-def]
    """What the learner sees, once it stops changing (a rerun can start a moment after a click): the chosen
    sample, the chosen answers of the radios, the methods, the opacity, the pictures' captions and the numbers
    of the top-5 chart."""
    page.get_by_text("Under the hood").wait_for(timeout=120_000)  # the page's last element
    shown = None
    for _ in range(60):
        settle(page)
        page.wait_for_timeout(1000)
        settle(page)
        now = _read(page)
        if now == shown:
            return now
        shown = now
    raise AssertionError(f"the screen kept changing: {shown}")


def _read(page) -> dict:  # type: ignore[no-untyped-def]
    page.wait_for_function("() => [...document.querySelectorAll('.js-plotly-plot')].some(plot => plot.data)",
                           timeout=60_000)
    return {
        "selects": page.locator('[data-testid="stSelectbox"] input').evaluate_all("inputs => inputs.map(i => i.value)"),
        "radios": page.locator('[data-testid="stRadio"] label:has(input:checked)').all_inner_texts(),
        "methods": page.get_by_test_id("stMultiSelect").inner_text(),
        "sliders": page.get_by_test_id("stSliderThumbValue").all_inner_texts(),
        "captions": page.get_by_test_id("stImage").all_inner_texts(),
        "figures": page.evaluate(
            "() => [...document.querySelectorAll('.js-plotly-plot')].map(plot => (plot.data || []).map(trace => "
            "Array.from(trace.x._inputArray || trace.x).map(Number).concat(Array.from(trace.y))))"),
    }


def _fresh_page(browser):  # type: ignore[no-untyped-def]
    return browser.new_context(viewport={"width": 1366, "height": 768}).new_page()


def test_a_changed_sample_and_answer_survive_the_link_into_a_fresh_browser(fresh_server, page, browser):
    """Test whether choosing the cat sample and its second answer goes into the address, and whether that
    address, opened in a fresh browser context, shows the same screen (sample, answer, methods, maps, chart)."""
    page.goto(f"{fresh_server}/Your_own_photo?{QUICK}")
    _screen(page)
    page.get_by_role("combobox", name="Sample photo").click()
    page.get_by_role("option", name="a cat").click()
    page.wait_for_url("**photo_sample=**", timeout=30_000)
    page.get_by_text("tiger cat", exact=True).first.wait_for(timeout=60_000)
    settle(page)
    page.get_by_test_id("stRadio").filter(has_text="tiger cat").get_by_text("Egyptian cat", exact=True).click()
    page.wait_for_url("**photo_target=Egyptian**", timeout=30_000)
    teacher = _screen(page)
    assert "Egyptian cat" in teacher["radios"] and any(text == "a cat" for text in teacher["selects"])
    assert page.locator(EXCEPTION).count() == 0
    screenshot(page, "photo_link_teacher")

    student = _fresh_page(browser)
    try:
        student.goto(page.url)
        assert _screen(student) == teacher
        assert student.locator(EXCEPTION).count() == 0
        screenshot(student, "photo_link_student")
    finally:
        student.context.close()


def test_an_uploaded_photo_survives_the_link_into_a_fresh_browser(fresh_server, page, browser, tmp_path):
    """Test whether an uploaded photo's fingerprint goes into the address and a fresh browser context opening
    that address sees the same photo (its name), the same answers and the same maps, with nothing to upload."""
    page.goto(f"{fresh_server}/Your_own_photo?{QUICK}")
    settle(page)
    page.get_by_text("Upload a photo").click()
    settle(page)
    upload = tmp_path / "my_coffee.jpg"
    upload.write_bytes(COFFEE.read_bytes())
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(upload))
    page.wait_for_url(f"**photo_photo={digest(COFFEE.read_bytes())}**", timeout=60_000)
    teacher = _screen(page)
    assert any(text.startswith("my_coffee.jpg: what the network sees") for text in teacher["captions"])

    student = _fresh_page(browser)
    try:
        student.goto(page.url)
        assert _screen(student) == teacher
        assert student.locator(EXCEPTION).count() == 0
        screenshot(student, "photo_uploaded_link_student")
    finally:
        student.context.close()


def test_a_link_to_a_photo_the_server_does_not_keep_says_so_plainly(fresh_server, page):
    """Test whether a link naming a photo this server does not keep (expired, or from another server) says so
    in one sentence and offers the uploader, with no exception."""
    page.goto(f"{fresh_server}/Your_own_photo?photo_photo=0123456789abcdef")
    settle(page)
    page.get_by_text("This photo is no longer kept on the server — upload it again.").wait_for(timeout=60_000)
    assert page.locator(EXCEPTION).count() == 0
    expect(page.get_by_test_id("stFileUploader")).to_be_visible()
    screenshot(page, "photo_link_expired")
