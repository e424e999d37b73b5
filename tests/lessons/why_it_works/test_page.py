"""AppTest for "Why does it work?": the page opens, Train draws the map, the neighbours and the before/after
number; a link restores the screen; picking a picture changes the neighbours."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.pages.apptest import open_app

PAGE = "pages/9_Why_does_it_work.py"


def _open(**query: str) -> AppTest:
    return open_app(PAGE, **query)


def _captions(app: AppTest) -> list[str]:
    """The captions under the chosen picture and its neighbours."""
    return [image.proto.imgs[0].caption for image in app.get("image")]


def test_train_draws_the_map_the_neighbours_and_the_number():
    """Test whether the page opens with nothing trained, and Train shows the map, the bars, both metrics (the
    grass-only network's share far below the one after more pictures) and the under-the-hood code."""
    app = _open()
    assert not app.exception
    assert app.title[0].value == "Why does it work?"
    assert not app.get("plotly_chart")
    next(button for button in app.button if button.label == "Train the networks").click().run()
    assert not app.exception
    assert app.query_params["why_it_works_trained"] in ("1", ["1"])
    assert len(app.get("plotly_chart")) == 2  # the map and the bars
    before, after = (float(metric.value.rstrip("%")) for metric in app.metric)
    assert before <= 10 and after >= 45
    assert app.selectbox(key="why_it_works_picture").value == 300  # the first surprise picture: a bunny off grass
    assert _captions(app)[0].endswith("— it says elephant")  # lesson 1's network takes it for an elephant
    text = " ".join(element.value for element in app.markdown)
    assert "show the same animal" in text and "the network trained with grass behind every bunny" in text
    assert app.expander[0].label == "Under the hood"
    code = [element.value for element in app.expander[0].code]
    assert len(code) == 3 and "WhyItWorksSettings(" in code[-1]


def test_a_link_restores_the_network_the_picture_and_the_colours():
    """Test whether a shared link (trained, the third network, coloured by ground, a chosen picture) shows that
    screen without pressing anything, and picking another picture changes the neighbour sentence."""
    app = _open(why_it_works_trained="1", why_it_works_stage="After more pictures", why_it_works_colour="ground",
                why_it_works_picture="picture 1: a bunny on grass")
    assert not app.exception
    assert app.segmented_control(key="why_it_works_stage").value == "more_pictures"
    assert app.segmented_control(key="why_it_works_colour").value == "ground"
    picker = app.selectbox(key="why_it_works_picture")
    assert picker.value == 0
    sentence = next(element.value for element in app.markdown if "most like this one" in element.value)
    assert "the network shown more pictures" in sentence
    assert _captions(app)[0].startswith("chosen: a bunny on grass")
    picker.set_value(305).run()  # surprise picture 6 (the map lists 300 ordinary pictures first)
    assert not app.exception
    captions = _captions(app)
    assert captions[0] == "chosen: an elephant on grass — it says elephant"  # the third network gets it right
    assert len(captions) == 1 + 5 and all(caption.startswith(f"{rank}. ") for rank, caption in
                                          enumerate(captions[1:], start=1))


def test_tsne_map_and_pictures_on_the_map():
    """Test whether switching to t-SNE and turning on the pictures keeps the page working (one map, with 400
    thumbnails)."""
    app = _open(why_it_works_trained="1", why_it_works_projection="t-SNE")
    assert not app.exception
    app.toggle(key="why_it_works_thumbnails").set_value(True).run()
    assert not app.exception
    import json

    figure = json.loads(app.get("plotly_chart")[0].proto.spec)
    assert len(figure["layout"]["images"]) == 400


def test_the_photo_step_opens_on_request_and_follows_the_chosen_photo():
    """Test whether step 3 reads no photo until its switch is on (the default page stays quick), then shows the
    chosen photo's nearest pictures (the coffee first: its close-up is the most alike) and the photo map, and
    picking the cat puts the close-up of its face first."""
    app = _open(why_it_works_trained="1")
    assert not app.exception
    assert len(app.get("plotly_chart")) == 2  # the map and the bars: no photo map yet
    app.toggle(key="why_it_works_photos").set_value(True).run()
    assert not app.exception
    assert len(app.get("plotly_chart")) == 3
    captions = _captions(app)
    start = captions.index("chosen: a cup of coffee")
    assert captions[start + 1].startswith("1. the coffee cup, close up")
    app.selectbox(key="why_it_works_photo").set_value("chelsea").run()
    assert not app.exception
    captions = _captions(app)
    assert captions[captions.index("chosen: a cat") + 1].startswith("1. the cat's face, close up")
