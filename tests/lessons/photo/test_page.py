"""AppTest for "Your own photo": samples work with no set-up, uploads are checked and kept for their link, bad
files and forgotten photos get a message, the address bar restores the screen."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from core.explain import METHODS
from core.lessons.photo.experiment import DEFAULT_METHODS, digest
from tests.pages.apptest import open_app

ROOT = Path(__file__).resolve().parents[3]
PAGE = "pages/2_Your_own_photo.py"
COFFEE = (ROOT / "assets/photos/coffee.jpg").read_bytes()
EXPIRED = "This photo is no longer kept on the server — upload it again."


def _open(**query: str) -> AppTest:
    return open_app(PAGE, **query)


def _captions(app: AppTest) -> list[str]:
    """The captions of the pictures on screen (the photo, each map, the colour scales)."""
    return [image.proto.imgs[0].caption for image in app.get("image")]


def _uploaded(app: AppTest, name: str, data: bytes, mime: str) -> AppTest:
    app.radio(key="photo_source").set_value("Upload a photo").run()
    app.get("file_uploader")[0].set_value((name, data, mime))
    app.session_state["photo_methods"] = ["gradcam"]  # one quick method keeps the test short
    return app.run()


def test_a_sample_photo_works_with_no_set_up():
    """Test whether the page opens on the sample cup of coffee, names espresso first, draws one map for each
    default method (not merely the photo), and shows the verdicts measured in advance with their reason."""
    app = _open()
    assert not app.exception
    answers = app.radio(key="photo_target")
    assert answers.options[0] == "espresso" and answers.value == "espresso"
    captions = _captions(app)
    assert captions[0].startswith("a cup of coffee: what the network sees")
    assert [caption for caption in captions if caption in {m.name for m in METHODS.values()}] == [
        METHODS[method].name for method in DEFAULT_METHODS]
    verdicts = app.dataframe[0].value
    assert list(verdicts["method"]) == [METHODS[method].name for method in DEFAULT_METHODS]
    assert dict(zip(verdicts["method"], verdicts["deletion check"]))["SmoothGrad"] == "fails"
    assert (verdicts["deletion check"] == "passes").sum() == 4
    assert any("Why SmoothGrad fails here" in block.value for block in app.markdown)


def test_the_link_restores_sample_methods_class_opacity_and_scale():
    """Test whether an address bar naming the coffee, two methods, the second answer, an opacity and the
    shared scale opens on exactly that screen."""
    app = _open(photo_sample="a cup of coffee", photo_methods=["Grad-CAM", "Saliency"], photo_target="cup",
                photo_opacity="0.5", photo_shared_scale="true")
    assert not app.exception
    assert app.selectbox(key="photo_sample").value == "coffee"
    assert app.multiselect(key="photo_methods").value == ["gradcam", "saliency"]
    assert app.radio(key="photo_target").value == "cup"
    assert app.slider(key="photo_opacity").value == 0.5 and app.toggle(key="photo_shared_scale").value is True
    assert [caption for caption in _captions(app) if caption in ("Grad-CAM", "Saliency")] == ["Grad-CAM", "Saliency"]
    assert any("saliency" in block.value and "target='top2'" in block.value for block in app.code)


def test_an_uploaded_photo_is_classified_and_its_link_shows_it_elsewhere():
    """Test whether an uploaded photo (the coffee sample, renamed) is recognised as espresso, its fingerprint
    goes into the address bar, and a new session opening that address sees the same photo and answers."""
    app = _uploaded(_open(), "my_coffee.jpg", COFFEE, "image/jpeg")
    assert not app.exception
    assert app.radio(key="photo_target").options[0] == "espresso"
    assert app.query_params["photo_photo"] in (digest(COFFEE), [digest(COFFEE)])
    other = _open(photo_source="Upload a photo", photo_photo=digest(COFFEE), photo_methods="Grad-CAM")
    assert not other.exception and not other.warning
    assert other.radio(key="photo_target").options[0] == "espresso"
    assert _captions(other)[0].startswith("my_coffee.jpg: what the network sees")


def test_a_link_to_a_photo_the_server_does_not_keep_says_so():
    """Test whether a link naming an unknown (or expired) photo says so in one plain sentence, with the
    uploader there to upload it again, and no traceback."""
    app = _open(photo_photo="0123456789abcdef")
    assert not app.exception
    assert [warning.value for warning in app.warning] == [EXPIRED]
    assert app.radio(key="photo_source").value == "Upload a photo" and app.get("file_uploader")


def test_a_bad_file_gets_one_sentence_not_a_traceback():
    """Test whether an HTML page renamed .jpg is refused with a plain message, is not kept for a link, and the
    page keeps working."""
    app = _uploaded(_open(), "holiday.jpg", b"<!DOCTYPE html><html><body>not a photo</body></html>", "image/jpeg")
    assert not app.exception
    assert any("not a photo" in error.value for error in app.error)
    assert "photo_photo" not in app.query_params
    app.radio(key="photo_source").set_value("A sample photo").run()
    assert not app.exception and not app.error


def test_the_bunny_world_network_asks_for_lesson_one_first():
    """Test whether choosing the bunny-world network before training it links back instead of failing."""
    app = _open()
    app.radio(key="photo_network").set_value("bunny-world").run()
    assert not app.exception
    assert any("trained in the first lesson" in info.value for info in app.info)


def test_the_bunny_world_network_looks_at_a_photo_after_lesson_one():
    """Test whether, once lesson 1 has trained its network, the photo page shows that network's two answers
    and its maps of the photo shrunk to 64 × 64, with the honest warning."""
    app = open_app("pages/1_Bunnies_and_grass.py", bunnies_pictures="500", bunnies_trained="1")
    assert not app.exception
    app.switch_page(PAGE).run()
    app.radio(key="photo_network").set_value("bunny-world").run()
    assert not app.exception
    assert any("confidently wrong" in element.value for element in app.markdown)
    assert not any("trained in the first lesson" in info.value for info in app.info)
    assert [caption for caption in _captions(app) if caption in {m.name for m in METHODS.values()}] == [
        METHODS[method].name for method in DEFAULT_METHODS]
