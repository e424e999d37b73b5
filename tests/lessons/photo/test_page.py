"""AppTest for "Your own photo": samples work with no set-up, uploads are checked, bad files get a message."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
PAGE = "pages/2_Your_own_photo.py"


def _open() -> AppTest:
    app = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=240).run()
    app.switch_page(PAGE).run()
    return app


def _uploaded(app: AppTest, name: str, data: bytes, mime: str) -> AppTest:
    app.radio(key="photo_source").set_value("Upload a photo").run()
    app.get("file_uploader")[0].set_value((name, data, mime))
    app.session_state["photo_methods"] = ["gradcam"]  # one quick method keeps the test short
    return app.run()


def test_a_sample_photo_works_with_no_set_up():
    """Test whether the page opens on the sample cat, names a cat among the top 5 and draws the maps."""
    app = _open()
    assert not app.exception
    answers = app.radio(key=next(key for key in app.session_state if str(key).startswith("photo_target_")))
    assert any(label in answers.options for label in ("tabby", "tiger cat", "Egyptian cat"))
    assert len(app.get("imgs")) >= 5 or app.get("image")  # the photo and its maps


def test_an_uploaded_photo_is_classified():
    """Test whether an uploaded photo (the coffee sample, renamed) is recognised as espresso."""
    app = _uploaded(_open(), "my_coffee.jpg", (ROOT / "assets/photos/coffee.jpg").read_bytes(), "image/jpeg")
    assert not app.exception
    target_radio = next(radio for radio in app.radio if radio.label == "Explain which answer?")
    assert target_radio.options[0] == "espresso"


def test_a_bad_file_gets_one_sentence_not_a_traceback():
    """Test whether an HTML page renamed .jpg is refused with a plain message and the page keeps working."""
    app = _uploaded(_open(), "holiday.jpg", b"<!DOCTYPE html><html><body>not a photo</body></html>", "image/jpeg")
    assert not app.exception
    assert any("not a photo" in error.value for error in app.error)
    app.radio(key="photo_source").set_value("A sample photo").run()
    assert not app.exception and not app.error


def test_the_bunny_world_network_asks_for_lesson_one_first():
    """Test whether choosing the bunny-world network before training it links back instead of failing."""
    app = _open()
    app.radio(key="photo_network").set_value("Bunny-world network (from lesson 1)").run()
    assert not app.exception
    assert any("trained in the first lesson" in info.value for info in app.info)


def test_the_bunny_world_network_looks_at_a_photo_after_lesson_one():
    """Test whether, once lesson 1 has trained its network, the photo page shows that network's two answers
    and its maps of the photo shrunk to 64 × 64, with the honest warning."""
    app = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=240)
    app.query_params["pictures"] = "500"
    app.query_params["trained"] = "1"
    app.run()
    app.switch_page("pages/1_Bunnies_and_grass.py").run()
    assert not app.exception
    app.switch_page(PAGE).run()
    app.radio(key="photo_network").set_value("Bunny-world network (from lesson 1)").run()
    assert not app.exception
    assert any("confidently wrong" in element.value for element in app.markdown)
    assert not any("trained in the first lesson" in info.value for info in app.info)
