"""The class link and its QR code (issue 13, part): the link is the screen's address with its settings, a link only
this computer can open is recognised, and the QR code decodes back to the link (read by OpenCV's detector)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from core.classroom import class_link, on_network, only_this_computer, qr_png


def _decode(png: bytes) -> str:
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    text, _, _ = cv2.QRCodeDetector().detectAndDecode(image)
    return text


def test_the_link_is_the_page_with_the_screens_settings():
    """Test whether the class link keeps the page's address and carries every setting of the address bar
    (sorted, repeated values kept), and no fragment."""
    link = class_link("http://10.0.0.5:8501/Bunnies_and_grass", {"seed": "3", "bunnies_grass": "90",
                                                                  "methods": ["ig", "gradcam"]})
    assert link == "http://10.0.0.5:8501/Bunnies_and_grass?bunnies_grass=90&methods=ig&methods=gradcam&seed=3"
    assert class_link("http://10.0.0.5:8501/", {}) == "http://10.0.0.5:8501/"


@pytest.mark.parametrize("link, local", [
    ("http://localhost:8501/Batch_size", True), ("http://127.0.0.1:8501/", True), ("http://[::1]:8501/", True),
    ("http://192.168.1.20:8501/", False), ("http://netlens.school.example:8080/", False),
])
def test_a_link_only_this_computer_can_open_is_recognised(link: str, local: bool):
    """Test whether localhost, 127.x and ::1 count as "only this computer", and network addresses or names not."""
    assert only_this_computer(link) is local


def test_the_network_address_replaces_localhost_and_keeps_the_rest():
    """Test whether swapping in the network address keeps the port, the page and the settings."""
    assert on_network("http://localhost:8501/Batch_size?seed=2", "192.168.1.20") == \
        "http://192.168.1.20:8501/Batch_size?seed=2"


def test_the_qr_code_reads_back_as_the_link():
    """Test whether the QR code of a long class link is a PNG that OpenCV's QR detector decodes to the very same
    link, at the sidebar's size and the room's."""
    link = "http://192.168.1.20:8501/Bunnies_and_grass?bunnies_grass=90&bunnies_pictures=1000&bunnies_trained=1&seed=3"
    for scale in (8, 14):
        png = qr_png(link, scale=scale)
        assert png.startswith(b"\x89PNG")
        assert _decode(png) == link
    with pytest.raises(ValueError):
        qr_png("")
