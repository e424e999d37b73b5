"""Lesson: Your own photo — what does a real network look at, and does that map deserve trust?

Every control is in the address bar (`photo_*`); an uploaded or camera photo is kept on the server for an hour
by its fingerprint, which the link carries as `photo_photo=<fingerprint>`.
"""

from __future__ import annotations

import pages.shared.layout  # noqa: F401, I001 - first of all: it imports the whole syllabus in one go (two first
# visits importing two lessons' packages at once deadlocked on Python's import locks, issue 9)
from dataclasses import dataclass, replace

import numpy as np
import streamlit as st

from core.explain import METHODS
from core.fit import Progress
from core.images import ImageRejected, load_image
from core.lesson import lesson_text
from core.lessons.bunnies import LESSON as BUNNIES
from core.lessons.photo import PhotoSettings, excerpts, snippet
from core.lessons.photo.experiment import (
    BUNNY_WORLD_SIDE,
    DEFAULT_METHODS,
    NETWORKS,
    SAMPLES,
    bunny_world_map,
    bunny_world_predictions,
    common_scale,
    deletion,
    deletion_sentence,
    digest,
    explain_photo,
    overlay_png,
    predict,
    randomisation,
    randomisation_sentence,
    sample_bytes,
    square_view,
)
from core.lessons.photo.figures import deletion_curves, randomisation_similarity, top_predictions
from core.lessons.photo.kept import KeptPhotos
from core.lessons.photo.truth import shipped_verdicts, verdict_rows
from core.overlay import enlarge, overlay
from core.photo_model import model_view
from pages.shared.layout import computed, failed, map_legend, photo_network, setup_page, store, story

SAMPLE, UPLOAD, CAMERA = "A sample photo", "Upload a photo", "Take a photo"
KEPT = "photo_photo"  # the address bar's fingerprint of an uploaded (or camera) photo kept on the server
EXPIRED = "This photo is no longer kept on the server — upload it again."

settings = setup_page("photo")


@st.cache_resource
def kept_photos() -> KeptPhotos:
    """Uploaded photos, kept an hour for every session of this server, so their links work."""
    return KeptPhotos()


@st.cache_data
def code_excerpts() -> dict[str, str]:
    return excerpts()


@dataclass(frozen=True)
class Chosen:
    data: bytes
    name: str  # what the page calls it
    picture: str | None  # a sample's name; None for a new upload (its fingerprint comes once it decodes)


def forget_kept_photo() -> None:
    """A new source or file replaces the photo the link names."""
    if KEPT in st.query_params:
        del st.query_params[KEPT]


def chosen_photo() -> Chosen | str | None:
    """The picture chosen, the one sentence saying why the link's photo cannot be shown, or None (nothing yet)."""
    if KEPT in st.query_params and "photo_source" not in st.query_params and "photo_source" not in st.session_state:
        st.session_state["photo_source"] = UPLOAD  # a link naming a kept photo, whatever its source was
    source = st.radio("Picture", [SAMPLE, UPLOAD, CAMERA], horizontal=True, key="photo_source",
                      label_visibility="collapsed", bind="query-params", on_change=forget_kept_photo)
    if source == SAMPLE:
        forget_kept_photo()
        name = st.selectbox("Sample photo", list(SAMPLES), format_func=lambda key: SAMPLES[key].description,
                            key="photo_sample", bind="query-params")
        return Chosen(sample_bytes(name), SAMPLES[name].description, name)
    if source == UPLOAD:
        given = st.file_uploader("Drop a photo here (JPEG, PNG, GIF, WebP, BMP or TIFF, up to 10 MB)",
                                 type=["jpg", "jpeg", "png", "gif", "webp", "bmp", "tif", "tiff"], key="photo_upload",
                                 on_change=forget_kept_photo)
        name = given.name if given is not None else ""
    else:
        given = st.camera_input("Take a photo", key="photo_camera", on_change=forget_kept_photo)
        name = "your photo"
    if given is not None:
        return Chosen(given.getvalue(), name, None)
    if KEPT not in st.query_params:
        return None
    kept = kept_photos().get(st.query_params[KEPT])
    return EXPIRED if kept is None else Chosen(kept.data, kept.name, st.query_params[KEPT])


def decoded(data: bytes) -> np.ndarray:
    return store("photo", "pictures").get_or_compute(("decoded", digest(data)), lambda: load_image(data))  # type: ignore[return-value]


def drawn(kind: str, key: tuple, index: int, count: int, draw):  # type: ignore[no-untyped-def]
    """Map `index` of `count` on screen, from the shared store or drawn now behind the progress bar."""
    method = key[-2]

    def compute(on_progress):  # type: ignore[no-untyped-def]
        on_progress(Progress(index, count, stage=f"Drawing the maps ({METHODS[method].name})", unit="maps"))
        return draw()

    return computed(store("photo", "maps"), (kind, *key), "Drawing the maps…", compute)


def bunny_world_training():  # type: ignore[no-untyped-def]
    """The network this visitor trained in lesson 1 and its settings, while the server still holds it."""
    trained = st.session_state.get(f"{BUNNIES.id}_shown")
    found = store(BUNNIES.id, "training").get(trained.training_key()) if trained is not None else None
    return (trained, found) if found is not None else (None, None)


def under_the_hood(shown: PhotoSettings) -> None:
    with st.expander("Under the hood"):
        code = code_excerpts()
        st.markdown("How the network's answers are made (from `core/photo_model.py`, `top_predictions`):")
        st.code(code["answers"], language="python")
        st.markdown("How a map is made (from `core/lessons/photo/experiment.py`, `explain_photo`):")
        st.code(code["map"], language="python")
        st.markdown("This screen from Python" + ("" if shown.picture in SAMPLES else
                                                 " (save your photo as my_photo.jpg in the NetLens folder first)") + ":")
        st.code(snippet(shown), language="python")


# ---------------------------------------------------------------------------------------------------- page
st.title("Your own photo")
story("photo", settings.presenter)

choice_column, model_column = st.columns([3, 2])
with choice_column:
    chosen = chosen_photo()
with model_column:
    network_key = st.radio("Which network looks at it?", list(NETWORKS), format_func=lambda key: NETWORKS[key],
                           key="photo_network", bind="query-params")

if chosen is None:
    st.info("Choose a picture above to begin.")
    st.stop()
if isinstance(chosen, str):
    st.warning(chosen)
    st.stop()
try:
    picture = decoded(chosen.data)
except ImageRejected as rejection:
    st.error(str(rejection))
    st.stop()
except Exception as error:  # noqa: BLE001 - one line for the user, details in the log
    failed("open this picture", error)
    st.stop()
key = digest(chosen.data)
if chosen.picture is None:  # a new upload that decodes: keep it, and name it in the link
    try:
        kept_photos().keep(chosen.data, chosen.name)
        if st.query_params.get(KEPT) != key:
            st.query_params[KEPT] = key
    except ValueError:
        pass  # bigger than the whole store: it is shown, only its link will not work
photo_name = chosen.picture or key

if network_key == "bunny-world":
    trained, training = bunny_world_training()
    if training is None:
        st.info("The bunny-world network is trained in the first lesson. Train it there, then come back.")
        st.page_link(BUNNIES.page, label=f"Go to {BUNNIES.title}", icon=":material/arrow_back:")
        st.stop()
    st.markdown(lesson_text("photo", "bunny_world"))
    small_model = training.model()
    answers = store("photo", "results").get_or_compute(("bunny-world", trained.training_key(), key),
                                                       lambda: bunny_world_predictions(small_model, picture))
    view = square_view(picture, BUNNY_WORLD_SIDE)
    left, right = st.columns([1, 2])
    left.image(enlarge(view, 4), caption="what the bunny-world network sees (64 × 64)", width=256)
    right.plotly_chart(top_predictions([a.label for a in answers], [a.probability for a in answers], highlight=0),
                       key="photo_bunny_predictions")
    target = answers[0].index
    maps = {}
    for index, method in enumerate(DEFAULT_METHODS):
        try:
            maps[method] = drawn("bunny-world", (trained.training_key(), key, target, method, settings.seed), index,
                                 len(DEFAULT_METHODS), lambda method=method: bunny_world_map(
                                     small_model, picture, target, method, seed=settings.seed))
        except Exception as error:  # noqa: BLE001
            failed(f"draw the {METHODS[method].name} map", error)
    columns = st.columns(len(DEFAULT_METHODS))
    for column, (method, attribution) in zip(columns, maps.items()):
        column.image(overlay(view, attribution, zoom=3, signed=METHODS[method].signed), caption=METHODS[method].name,
                     width="stretch")
    map_legend(list(maps))
    under_the_hood(PhotoSettings(picture=photo_name, network="bunny-world", seed=settings.seed))
    st.stop()

network = photo_network()
try:
    predictions = computed(store("photo", "results"), ("predictions", key), "Reading the photo…",
                           lambda on_progress: predict(network, picture))
except Exception as error:  # noqa: BLE001
    failed("classify this picture", error)
    st.stop()
view = model_view(picture)
left, right = st.columns([1, 2])
with left:
    st.image(view, caption=f"{chosen.name}: what the network sees (the middle, 224 × 224)", width=300)
with right:
    labels = [prediction.label for prediction in predictions]
    target_label = st.radio("Explain which answer?", labels, horizontal=True, key="photo_target", bind="query-params")
    rank = labels.index(target_label)
    st.plotly_chart(top_predictions(labels, [p.probability for p in predictions], highlight=rank),
                    key="photo_predictions")
target = predictions[rank].index

st.header("Where does it look?")
controls = st.columns([3, 2, 2])
methods = controls[0].multiselect("Methods", list(METHODS), default=list(DEFAULT_METHODS),
                                  format_func=lambda method: METHODS[method].name, key="photo_methods",
                                  bind="query-params")
opacity = controls[1].slider("Map opacity", 0.0, 1.0, 0.75, 0.05, key="photo_opacity", bind="query-params")
shared_scale = controls[2].toggle("Same colour scale for all maps", key="photo_shared_scale", bind="query-params",
                                  help="Off: each map uses its own full range. On: one scale for all, so a weak map "
                                       "looks weak.")
if not methods:
    st.info("Choose at least one method.")
    st.stop()
shown = PhotoSettings(picture=photo_name, methods=tuple(methods), target=f"top{rank + 1}", opacity=float(opacity),
                      shared_scale=bool(shared_scale), network="imagenet", seed=settings.seed)
maps: dict[str, np.ndarray] = {}
for index, method in enumerate(methods):
    try:
        maps[method] = drawn("imagenet", (key, target, method, settings.seed), index, len(methods),
                             lambda method=method: explain_photo(network, picture, target, method, seed=settings.seed))
    except Exception as error:  # noqa: BLE001
        failed(f"draw the {METHODS[method].name} map", error)
if not maps:
    st.stop()
scale = common_scale(list(maps.values())) if shared_scale else None
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
    key="photo_download",
)


def measured_in_advance() -> None:
    """For a sample photo's first answer: every method's deletion verdict, measured before (`netlens truth`), and
    in plain words why a method fails there."""
    verdicts = shipped_verdicts()
    if shown.picture not in verdicts["samples"] or rank != 0:
        return
    sample = verdicts["samples"][shown.picture]
    st.markdown(f"**Measured in advance on this photo** (each method's map of \"{sample['label']}\"; average "
                "log-odds while blurring, lower is a bigger drop):")
    rows = [{**row, "method": METHODS[row["method"]].name} for row in verdict_rows(verdicts, shown.picture)]
    st.dataframe(rows, hide_index=True, width="content", key="photo_verdicts")
    try:
        st.markdown(lesson_text("photo", f"verdicts_{shown.picture}"))
    except ValueError:  # no words written for this sample: the table speaks for itself
        pass


def trust_checks() -> str | None:
    """The two checks of one map on screen (run from their button, or already in the shared store); the method
    checked, or None while they wait for the button."""
    st.header("Does this map deserve trust?")
    st.markdown(lesson_text("photo", "trust"))
    measured_in_advance()
    check_column, _ = st.columns([2, 3])
    checked = check_column.selectbox("Check the map of", list(maps), format_func=lambda method: METHODS[method].name,
                                     key="photo_check_method", bind="query-params")
    trust_key = ("trust", key, target, checked, settings.seed)
    if store("photo", "results").get(trust_key) is None and not st.button(
            f"Run both checks on {METHODS[checked].name}", key="photo_run_checks"):
        st.caption("Each check redraws the picture or the map several times; Grad-CAM takes about a second, "
                   "Integrated Gradients and Occlusion up to half a minute.")
        return None

    def both(on_progress):  # type: ignore[no-untyped-def]
        on_progress(Progress(0, 2, stage="Running the checks (blurring the picture)", unit="checks"))
        removal = deletion(network, picture, target, maps[checked])
        on_progress(Progress(1, 2, stage="Running the checks (scrambling the network)", unit="checks"))
        return removal, randomisation(network, picture, target, checked, seed=settings.seed)

    try:
        removal, scrambling = computed(store("photo", "results"), trust_key, "Running the checks…", both)
    except Exception as error:  # noqa: BLE001
        failed("run the checks", error)
        return None
    first, second = st.columns(2)
    with first:
        st.plotly_chart(deletion_curves(removal.fractions, removal.most_first, removal.least_first,
                                        removal.random_order, METHODS[checked].name), key="photo_deletion")
        (st.success if removal.passes else st.warning)(deletion_sentence(removal))
    with second:
        st.plotly_chart(randomisation_similarity(list(scrambling.layers), scrambling.similarity),
                        key="photo_randomisation")
        (st.success if scrambling.passes else st.warning)(randomisation_sentence(scrambling))
    return checked


checked = trust_checks()
under_the_hood(replace(shown, check=checked or ""))
