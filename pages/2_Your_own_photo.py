"""Lesson: Your own photo — what does a real network look at, and does that map deserve trust?"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from core.explain import METHODS, explain
from core.figures import deletion_curves, randomisation_similarity, top_predictions
from core.images import ImageRejected, load_image
from core.lessons import lesson_text
from core.overlay import enlarge, map_scale, overlay
from core.photo import (
    DEFAULT_METHODS,
    deletion,
    digest,
    explain_photo,
    overlay_png,
    predict,
    randomisation,
    square_view,
)
from core.photo_model import load_photo_model, model_view
from core.scenes import COARSE_CLASSES
from core.training import predict_proba
from pages.shared.legacy import failed, map_legend, setup_page, stores, story

PHOTOS = Path(__file__).resolve().parent.parent / "assets" / "photos"
SAMPLES = {"a cat": "chelsea.jpg", "a cup of coffee": "coffee.jpg", "a photographer with a tripod": "camera.jpg",
           "an astronaut": "astronaut.jpg", "a rocket launch": "rocket.jpg"}
IMAGENET, BUNNY_WORLD = "ImageNet network (1,000 everyday things)", "Bunny-world network (from lesson 1)"

settings = setup_page("Your own photo", "📷")
shared = stores()


@st.cache_resource
def photo_network():  # type: ignore[no-untyped-def]
    """The ImageNet network, loaded once per server and shared read-only (maps hold its lock)."""
    return load_photo_model()


def picture_bytes() -> tuple[bytes, str] | None:
    source = st.radio("Picture", ["A sample photo", "Upload a photo", "Take a photo"], horizontal=True,
                      key="photo_source", label_visibility="collapsed")
    if source == "A sample photo":
        name = st.selectbox("Sample photo", list(SAMPLES), key="photo_sample")
        return (PHOTOS / SAMPLES[name]).read_bytes(), name
    if source == "Upload a photo":
        upload = st.file_uploader("Drop a photo here (JPEG, PNG, GIF, WebP, BMP or TIFF, up to 10 MB)",
                                  type=["jpg", "jpeg", "png", "gif", "webp", "bmp", "tif", "tiff"], key="photo_upload")
        return (upload.getvalue(), upload.name) if upload is not None else None
    shot = st.camera_input("Take a photo", key="photo_camera")
    return (shot.getvalue(), "your photo") if shot is not None else None


def decoded(data: bytes) -> np.ndarray:
    return shared.results.get_or_compute(("photo", digest(data)), lambda: load_image(data))  # type: ignore[return-value]


# ---------------------------------------------------------------------------------------------------- page
st.title("Your own photo")
story("photo", settings.presenter)

choice_column, model_column = st.columns([3, 2])
with choice_column:
    chosen = picture_bytes()
with model_column:
    network_name = st.radio("Which network looks at it?", [IMAGENET, BUNNY_WORLD], key="photo_network")

if chosen is None:
    st.info("Choose a picture above to begin.")
    st.stop()
data, picture_name = chosen
try:
    picture = decoded(data)
except ImageRejected as rejection:
    st.error(str(rejection))
    st.stop()
except Exception as error:  # noqa: BLE001 - one line for the user, details in the log
    failed("open this picture", error)
    st.stop()
key = digest(data)

if network_name == BUNNY_WORLD:
    trained_config = st.session_state.get("bunnies_shown")
    result = shared.training.get(trained_config) if trained_config is not None else None
    if result is None:
        st.info("The bunny-world network is trained in the first lesson. Train it there, then come back.")
        st.page_link("pages/1_Bunnies_and_grass.py", label="Go to Bunnies and grass", icon=":material/arrow_back:")
        st.stop()
    st.markdown(lesson_text("photo", "bunny_world"))
    small_model = result.model()
    view = square_view(picture, 64)
    probabilities = predict_proba(small_model, view[None])[0]
    order = np.argsort(-probabilities)
    labels = [COARSE_CLASSES[index] for index in order]
    left, right = st.columns([1, 2])
    left.image(enlarge(view, 4), caption="what the bunny-world network sees (64 × 64)", width=256)
    right.plotly_chart(top_predictions(labels, probabilities[order], highlight=0), key="bunny_predictions")
    target = int(order[0])
    maps = {method: explain(small_model, view[None], target, method, seed=settings.seed)[0] for method in DEFAULT_METHODS}
    columns = st.columns(len(maps))
    for column, (method, attribution) in zip(columns, maps.items()):
        column.image(overlay(view, attribution, zoom=3, signed=METHODS[method].signed), caption=METHODS[method].name,
                     width="stretch")
    map_legend(list(maps))
    st.stop()

network = photo_network()
try:
    predictions = shared.results.get_or_compute(("predictions", key), lambda: predict(network, picture))
except Exception as error:  # noqa: BLE001
    failed("classify this picture", error)
    st.stop()
view = model_view(picture)
left, right = st.columns([1, 2])
with left:
    st.image(view, caption=f"{picture_name}: what the network sees (the middle, 224 × 224)", width=300)
with right:
    labels = [prediction.label for prediction in predictions]
    target_label = st.radio("Explain which answer?", labels, horizontal=True, key=f"photo_target_{key}")
    rank = labels.index(target_label)
    st.plotly_chart(top_predictions(labels, [p.probability for p in predictions], highlight=rank), key="predictions")
target = predictions[rank].index

st.header("Where does it look?")
controls = st.columns([3, 2, 2])
methods = controls[0].multiselect("Methods", list(METHODS), default=list(DEFAULT_METHODS),
                                  format_func=lambda method: METHODS[method].name, key="photo_methods")
opacity = controls[1].slider("Map opacity", 0.0, 1.0, 0.75, 0.05, key="photo_opacity")
shared_scale = controls[2].toggle("Same colour scale for all maps", key="photo_shared_scale",
                                  help="Off: each map uses its own full range. On: one scale for all, so a weak map looks weak.")
if not methods:
    st.info("Choose at least one method.")
    st.stop()
maps: dict[str, np.ndarray] = {}
missing = [method for method in methods if shared.maps.get(("photo", key, target, method, settings.seed)) is None]
bar = st.progress(0.0, text="Drawing the maps…") if missing else None
for index, method in enumerate(methods):
    if bar is not None:
        bar.progress(index / len(methods), text=f"Drawing the maps… ({METHODS[method].name})")
    try:
        maps[method] = shared.maps.get_or_compute(("photo", key, target, method, settings.seed),
                                                  lambda method=method: explain_photo(network, picture, target, method,
                                                                                      seed=settings.seed))
    except Exception as error:  # noqa: BLE001
        failed(f"draw the {METHODS[method].name} map", error)
if bar is not None:
    bar.empty()
scale = map_scale(np.stack([np.abs(m) for m in maps.values()])) if shared_scale and maps else None
columns = st.columns(min(len(maps), 5))
for index, (method, attribution) in enumerate(maps.items()):
    columns[index % len(columns)].image(
        overlay(view, attribution, scale=scale, opacity=opacity, zoom=1, signed=METHODS[method].signed),
        caption=METHODS[method].name, width="stretch",
    )
map_legend(list(maps))
download_column, _ = st.columns([2, 3])
to_download = download_column.selectbox("Download a map as a picture", list(maps),
                                        format_func=lambda method: METHODS[method].name, key="photo_download_method")
download_column.download_button(
    "Download PNG", overlay_png(picture, maps[to_download], to_download, opacity=opacity, scale=scale),
    file_name=f"netlens-{to_download}-{predictions[rank].label.replace(' ', '_')}.png", mime="image/png",
)

st.header("Does this map deserve trust?")
st.markdown(lesson_text("photo", "trust"))
check_column, _ = st.columns([2, 3])
checked = check_column.selectbox("Check the map of", list(maps), format_func=lambda method: METHODS[method].name,
                                 key="photo_check_method")
trust_key = ("trust", key, target, checked, settings.seed)
if shared.results.get(trust_key) is None and not st.button(f"Run both checks on {METHODS[checked].name}"):
    st.caption("Each check redraws the picture or the map several times; Grad-CAM takes about a second, "
               "Integrated Gradients and Occlusion up to half a minute.")
    st.stop()
with st.spinner("Running the checks…"):
    try:
        removal, scrambling = shared.results.get_or_compute(trust_key, lambda: (
            deletion(network, picture, target, maps[checked]),
            randomisation(network, picture, target, checked, seed=settings.seed),
        ))
    except Exception as error:  # noqa: BLE001
        failed("run the checks", error)
        st.stop()
first, second = st.columns(2)
with first:
    st.plotly_chart(deletion_curves(removal.fractions, removal.map_confidence, removal.random_confidence,
                                    METHODS[checked].name), key="deletion")
    if removal.passes:
        st.success(f"Passes: greying out what the map points at lowers the confidence faster than random "
                   f"(average {removal.map_area:.0%} against {removal.random_area:.0%}).")
    else:
        st.warning(f"Fails: greying out what the map points at does not hurt more than random "
                   f"(average {removal.map_area:.0%} against {removal.random_area:.0%}).")
with second:
    st.plotly_chart(randomisation_similarity(list(scrambling.layers), scrambling.similarity), key="randomisation")
    if scrambling.passes:
        st.success("Passes: once the network is scrambled, the map changes — it was showing what the network learned.")
    else:
        st.warning("Fails: the map stays much the same on a scrambled network — it shows the picture more than the network.")
