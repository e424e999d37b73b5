"""Real headless Chromium: the sidebar's class link shows the screen on show as a link and a QR code that decodes
to it (issue 13, part), and the count of connected browsers."""

from __future__ import annotations

import base64
import urllib.request

import pytest

from tests.browser.conftest import EXCEPTION, fresh_page, screenshot, settle

pytestmark = pytest.mark.browser


def _decode(png: bytes) -> str:
    import cv2
    import numpy as np

    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    return cv2.QRCodeDetector().detectAndDecode(image)[0]


def test_the_class_link_is_this_screen_and_its_qr_code_says_so(fresh_server, page, browser):
    """Test whether the class link panel, on a lesson with settings in the address bar, shows a link to this page
    with those settings (at this computer's network address when the address bar says 127.0.0.1), a QR code that
    decodes to exactly that link, and the number of connected browsers; "Show it big" opens a large code."""
    page.goto(f"{fresh_server}/Batch_size?batch_size_passes=8&seed=4")
    settle(page)
    with fresh_page(browser, f"{fresh_server}/"):  # a second browser on the server
        page.get_by_text("Class link (QR code)").click()  # the switch: off until a presenter asks
        page.get_by_text("connected to this server now").wait_for(timeout=30_000)
        settle(page)
        assert page.locator(EXCEPTION).count() == 0
        panel = page.locator('[data-testid="stSidebar"]')  # the panel is the sidebar's only code and picture
        link = panel.get_by_test_id("stCode").locator("code").inner_text().strip()
        assert "/Batch_size?" in link and "batch_size_passes=8" in link and "seed=4" in link, link
        assert link.split("/Batch_size")[0].split(":")[-1] == fresh_server.split(":")[-1]  # the same port
        source = panel.locator("img").first.get_attribute("src") or ""
        if source.startswith("data:"):
            png = base64.b64decode(source.split(",", 1)[1])
        else:
            with urllib.request.urlopen(f"{fresh_server}{source}" if source.startswith("/") else source) as response:
                png = response.read()
        assert _decode(png) == link
        count = panel.get_by_text("connected to this server now").inner_text()
        assert int(count.split()[0]) >= 2, count
        screenshot(page, "class_link")
        panel.get_by_role("button", name="Show it big for the room").click()
        dialog = page.locator('[role="dialog"]')
        dialog.get_by_text(link).wait_for(timeout=30_000)
        dialog.locator("img").first.wait_for(state="visible", timeout=30_000)
        settle(page)
        assert dialog.locator("img").first.bounding_box()["width"] >= 400
        screenshot(page, "class_link_big")
