"""Real headless Chromium against a fresh `streamlit run`: the squeeze lesson."""

from __future__ import annotations

import pytest
import torch
from playwright.sync_api import expect

from core.lessons.squeeze.int8 import load_int8
from tests.browser.conftest import EXCEPTION, fresh_page, screenshot, settle

pytestmark = pytest.mark.browser

TABLE = '[data-testid="stDataFrame"]'


def _train(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name="Train and squeeze").click()
    page.get_by_text("Does the explanation survive the squeeze?").wait_for(timeout=180_000)
    settle(page)


def _screen(page) -> dict:  # type: ignore[no-untyped-def]
    """What the learner sees: slider values, download labels (names and KB), the sentences (but the timing ones,
    which another run may change by a hair), and the chart's points."""
    page.wait_for_function("() => [...document.querySelectorAll('.js-plotly-plot')].filter(plot => plot.data)"
                           ".length === 2", timeout=60_000)
    sentences = page.locator('[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li')
    return {
        "sliders": page.locator('[data-testid="stSliderThumbValue"]').all_inner_texts(),
        "downloads": page.locator('[data-testid="stDownloadButton"]').all_inner_texts(),
        "sentences": [text for text in sentences.all_inner_texts() if "The clock" not in text],
        "chart": page.evaluate("() => [...document.querySelectorAll('.js-plotly-plot')][0].data.map(trace => "
                               "[Array.from(trace.x)[0], Array.from(trace.y)[0]])"),
    }


def test_the_squeeze_lesson_trains_and_every_download_is_a_weights_only_file(fresh_server, page):
    """Test whether one press draws the chart, the tables, the maps and five downloads, whether a downloaded
    file is what the page says (a state_dict that torch.load(weights_only=True) reads, as big as its label), and
    whether "Under the hood" opens on its text and the five pieces of code."""
    page.goto(f"{fresh_server}/Squeezing_it_onto_a_phone")
    settle(page)
    _train(page)
    assert page.locator(EXCEPTION).count() == 0
    expect(page.locator('[data-testid="stDownloadButton"]')).to_have_count(5)
    assert page.locator('[data-testid="stImage"] img').count() >= 4 * 6 + 1  # 4 pictures × (picture + 5 maps), legend
    screenshot(page, "squeeze")
    with page.expect_download() as caught:
        page.get_by_role("button", name="8-bit copy (int8)").click()
    path = caught.value.path()
    data = open(path, "rb").read()
    label = page.locator('[data-testid="stDownloadButton"]').nth(1).inner_text()
    assert f"{len(data) / 1000:.0f} KB" in label, label
    network = load_int8(data)  # torch.load(weights_only=True), quietly (core/lessons/squeeze/int8.py)
    assert network.features[0].weight().dtype == torch.qint8
    settle(page)  # the download reruns the page; until it settles the old screen may still be there beside the new
    page.get_by_test_id("stExpander").get_by_text("Under the hood").first.click()
    expect(page.locator('[data-testid="stExpander"] [data-testid="stCode"]')).to_have_count(5)
    page.locator('[data-testid="stExpander"]').scroll_into_view_if_needed()
    screenshot(page, "squeeze_under_the_hood")


def test_a_copied_link_shows_the_same_squeeze_in_a_fresh_browser(fresh_server, page, browser):
    """Test whether, after choosing 75 % pruning, training and then a 20 KB phone, the address bar alone brings a
    fresh browser the same sliders, files, sentences and chart, without pressing anything."""
    page.goto(f"{fresh_server}/Squeezing_it_onto_a_phone")
    settle(page)
    prune = page.locator('[data-testid="stSlider"]').filter(has_text="Share of the filters").get_by_role("slider")
    prune.focus()
    prune.press("ArrowRight")  # 50 % → 75 %
    page.wait_for_url("**squeeze_prune=75**", timeout=30_000)
    settle(page)
    _train(page)
    phone = page.locator('[data-testid="stSlider"]').filter(has_text="Room on the pretend phone").get_by_role("slider")
    phone.focus()
    phone.press("ArrowLeft")
    phone.press("ArrowLeft")  # 50 KB → 20 KB: only the line moves, nothing is retrained
    page.wait_for_url("**squeeze_phone=20**", timeout=30_000)
    settle(page)
    assert page.locator(EXCEPTION).count() == 0
    assert "squeeze_trained=1" in page.url
    before = _screen(page)
    assert any("does not fit in the phone's 20 KB" in text for text in before["sentences"]), before["sentences"]
    screenshot(page, "squeeze_before_link")

    with fresh_page(browser, page.url) as other:
        other.get_by_text("Does the explanation survive the squeeze?").wait_for(timeout=180_000)
        settle(other)
        assert other.locator(EXCEPTION).count() == 0
        assert _screen(other) == before
        screenshot(other, "squeeze_from_link")
