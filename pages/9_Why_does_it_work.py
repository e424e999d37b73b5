"""Lesson: Why does it work? — the network's perceptual space, where alike pictures sit close together."""

from __future__ import annotations

import pages.shared.layout  # noqa: F401, I001 - first of all: it imports the whole syllabus in one go (two first
# visits importing two lessons' packages at once deadlocked on Python's import locks, issue 9)
import numpy as np
import streamlit as st

from core.lessons.why_it_works import LESSON
from core.lessons.why_it_works.experiment import (
    PROJECTION_NAMES,
    PROJECTIONS,
    STAGE_NAMES,
    STAGE_WHO,
    STAGES,
    LessonData,
    WhyItWorksResult,
    WhyItWorksSettings,
    article,
    make_lesson_data,
    nearest,
    project,
    spaces,
    takeaways,
)
from core.images import ImageRejected, load_image
from core.lessons.photo.experiment import digest
from core.lessons.why_it_works.figures import COLOUR_BY, photo_map, share_bars, space_map
from core.lessons.why_it_works.photos import PhotoSpace, closest, embed, photo_layout, photo_space
from core.overlay import enlarge
from core.scenes import COARSE_CLASSES
from pages.shared.layout import computed, failed, photo_network, setup_page, store, story, url_flag

EXTRA_OPTIONS = (250, 500, 1000)
DEFAULT = WhyItWorksSettings()
STEPS = LESSON.steps
MAP_KEY = "why_it_works_map"
PICTURE_KEY = "why_it_works_picture"

settings = setup_page("why_it_works")


def trained(chosen: WhyItWorksSettings) -> WhyItWorksResult:
    """The three spaces for `chosen`: from the lesson's shared store, or trained now (in the server's one training
    queue) behind a progress bar."""
    data: LessonData = computed(store(LESSON.id, "pictures"), chosen.data_key(),
                                f"Drawing {chosen.num_train + chosen.extra_pictures + 2 * chosen.map_size:,} pictures…",
                                lambda on_progress: make_lesson_data(chosen, on_progress))
    return computed(store(LESSON.id, "training"), chosen, "Training the two networks…",
                    lambda on_progress: spaces(chosen, data, on_progress),
                    "Someone else is training these very networks right now — waiting for their result.")


def laid_out(chosen: WhyItWorksSettings, result: WhyItWorksResult, stage: str, method: str) -> np.ndarray:
    """The 2-D map of one network's space: PCA in milliseconds, t-SNE about a second (stored for everyone)."""
    return computed(store(LESSON.id, "maps"), (chosen, stage, method), "Laying out the map…",
                    lambda on_progress: project(result.space(stage).points, method, seed=chosen.seed))


def follow_click(options: list[int]) -> None:
    """A click on the map (a selected point) chooses that picture in the picker, once per new click."""
    selection = st.session_state.get(MAP_KEY)
    points = (selection or {}).get("selection", {}).get("points", []) if isinstance(selection, dict) else \
        getattr(getattr(selection, "selection", None), "points", []) or []
    clicked = next((point.get("customdata") for point in points if point.get("customdata") is not None), None)
    if isinstance(clicked, list):
        clicked = clicked[0] if clicked else None
    if clicked is not None and clicked != st.session_state.get("_why_it_works_clicked"):
        st.session_state["_why_it_works_clicked"] = clicked
        if int(clicked) in options:
            st.session_state[PICTURE_KEY] = int(clicked)


def gallery(result: WhyItWorksResult, stage: str, chosen_index: int, neighbours: np.ndarray) -> None:
    """The chosen picture and the pictures this network finds most similar, with what it says about each."""
    pictures, space = result.data.map, result.space(stage)
    columns = st.columns(1 + len(neighbours))
    said = [COARSE_CLASSES[int(p)] for p in space.predictions]
    columns[0].image(enlarge(pictures.images[chosen_index], 2), width="stretch",
                     caption=f"chosen: {article(pictures.animal(chosen_index))} on {pictures.grounds[chosen_index]} "
                             f"— it says {said[chosen_index]}")
    for rank, (column, index) in enumerate(zip(columns[1:], neighbours), start=1):
        same = "same animal" if pictures.labels[index] == pictures.labels[chosen_index] else "OTHER animal"
        column.image(enlarge(pictures.images[index], 2), width="stretch",
                     caption=f"{rank}. {article(pictures.animal(index))} on {pictures.grounds[index]} ({same})")


def photos_read() -> PhotoSpace:
    """The sample photos and the gallery as the photo network reads them: once per server, for everyone."""
    return computed(store(LESSON.id, "results"), "photo_space", "Reading the photos…",
                    lambda on_progress: photo_space(photo_network(), on_progress))


def uploaded_point(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """An uploaded photo (decoded like every upload: size and format checked) and its 1,280 numbers."""
    def read(on_progress):  # type: ignore[no-untyped-def]
        image = load_image(data)
        return image, embed(photo_network(), [image])[0]

    return computed(store(LESSON.id, "maps"), ("upload", digest(data)), "Reading your photo…", read)


def photo_step(photos: PhotoSpace) -> None:
    """Pick a photo of the collection or upload one; see the pictures the photo network finds most alike."""
    names = [photo.name for photo in photos.photos]
    left, right = st.columns([2, 3])
    picked_name = left.selectbox("Photo", names, format_func=lambda name: photos.photos[names.index(name)].description,
                                 key="why_it_works_photo", bind="query-params")
    given = right.file_uploader("…or drop your own photo here (it takes the chosen photo's place; JPEG or PNG, up to 10 MB)",
                                type=["jpg", "jpeg", "png", "gif", "webp", "bmp", "tif", "tiff"],
                                key="why_it_works_upload")
    images, points = [photo.image for photo in photos.photos], photos.points
    labels = [photo.description for photo in photos.photos]
    query, query_name = photos.index(picked_name), photos.photos[photos.index(picked_name)].description
    if given is not None:
        try:
            image, point = uploaded_point(given.getvalue())
        except ImageRejected as error:
            st.warning(str(error))
        else:
            images, points, labels = images + [image], np.vstack([points, point]), labels + ["your photo"]
            query, query_name = len(images) - 1, "your photo"
    near = closest(points[query], points, leave_out=query)
    st.markdown(f"The pictures the ImageNet network finds most like **{query_name}**, most alike first (how alike: "
                "100 % = the same 1,280 numbers in the same proportions):")
    columns = st.columns(1 + len(near))
    columns[0].image(images[query], caption=f"chosen: {query_name}", width="stretch")
    for rank, (column, (index, similarity)) in enumerate(zip(columns[1:], near), start=1):
        column.image(images[index], caption=f"{rank}. {labels[index]} — {similarity:.0%} alike", width="stretch")
    layout = photo_layout(points, seed=0)
    st.plotly_chart(photo_map(layout, images, labels, query, [index for index, _ in near]), key="why_it_works_photo_map",
                    config={"scrollZoom": False})
    st.caption(f"The {len(images)} photos placed by the ImageNet network (flattened from its 1,280 numbers per photo by MDS, "
               "which keeps alike photos close; the axes have no units). It was never told what is in these pictures: it learned its numbers on a "
               "million other photos, and alike things still land close together — the cat next to the close-up "
               "of its face, the cup next to the coffee.")


# ---------------------------------------------------------------------------------------------------- page
st.title(LESSON.title)
story(LESSON.id, settings.presenter)

controls = st.columns([3, 1.4], vertical_alignment="bottom")
extra = controls[0].select_slider("Extra pattern-breaking pictures for the third network (bunnies off grass, "
                                  "elephants on it)", options=EXTRA_OPTIONS, value=DEFAULT.extra_pictures,
                                  key="why_it_works_extra", bind="query-params")
train_clicked = controls[1].button("Train the networks", type="primary", width="stretch")

chosen = WhyItWorksSettings(extra_pictures=int(extra), seed=settings.seed)
if train_clicked:
    st.session_state["why_it_works_shown"] = chosen
elif "why_it_works_shown" not in st.session_state and st.query_params.get("why_it_works_trained") == "1":
    st.session_state["why_it_works_shown"] = chosen  # a shared link: show what it describes without a press
shown: WhyItWorksSettings | None = st.session_state.get("why_it_works_shown")
url_flag("why_it_works_trained", shown is not None and shown == chosen)

if shown is None:
    st.info(f"Press **Train the networks**: it trains lesson 1's network (every bunny on grass) and the same "
            f"network shown {int(extra):,} more pictures — about ten seconds — then draws their inner maps.")
    st.stop()
if shown != chosen:
    st.info(f"You changed the settings. Press **Train the networks** to see them; below: {shown.extra_pictures:,} "
            f"extra pictures, seed {shown.seed}.")

try:
    result = trained(shown)
except Exception as error:  # noqa: BLE001 - one line for the user, details in the log
    failed("train the networks", error)
    st.stop()

pictures = result.data.map
# The picker's choices: the surprise pictures first (the first one, a bunny off the grass, is the default), then
# the ordinary ones. A default at the top keeps a click on the map (which sets the picker) free of warnings.
options = [int(i) for i in np.flatnonzero(pictures.surprise)] + [int(i) for i in np.flatnonzero(~pictures.surprise)]
follow_click(options)

# ------------------------------------------------------------------------------------------- 1. the map
st.header(f"1. {STEPS[0]}")
choices = st.columns([3.4, 1.4, 1.3], vertical_alignment="bottom")
stage = choices[0].segmented_control("Whose space?", STAGES, default="grass_only", format_func=STAGE_NAMES.get,
                                     key="why_it_works_stage", bind="query-params") or "grass_only"
colour_by = choices[1].segmented_control("Colour by", COLOUR_BY, default="animal", key="why_it_works_colour",
                                         bind="query-params") or "animal"
method = choices[2].segmented_control("Flatten with", PROJECTIONS, default="pca", format_func=PROJECTION_NAMES.get,
                                      key="why_it_works_projection", bind="query-params") or "pca"
map_area = st.container()  # filled once the picture is picked (the picker sits below, in step 2)

# ------------------------------------------------------------------------------------ 2. nearest neighbours
st.header(f"2. {STEPS[1]}")
picked = int(st.selectbox("Picture (or click a dot on the map)", options, format_func=pictures.describe,
                          key=PICTURE_KEY, bind="query-params"))
space = result.space(stage)
near = nearest(space.points, picked, np.arange(len(pictures)), shown.neighbours)
same = int(np.count_nonzero(pictures.labels[near] == pictures.labels[picked]))
st.markdown(f"The {shown.neighbours} pictures **{STAGE_WHO[stage]}** finds most like this one "
            f"(closest first, measured in its whole space): **{same} of {shown.neighbours}** show the same animal.")
gallery(result, stage, picked, near)

with map_area:
    try:
        layout = laid_out(shown, result, stage, method)
    except Exception as error:  # noqa: BLE001 - one line for the user, details in the log
        failed("lay out the map", error)
        st.stop()
    thumbnails = st.toggle("Show the pictures themselves on the map", key="why_it_works_thumbnails",
                           bind="query-params")
    st.plotly_chart(space_map(layout, pictures, space, colour_by, picked, near, thumbnails), key=MAP_KEY,
                    on_select="rerun", selection_mode="points", config={"scrollZoom": False})
    st.caption(f"Each dot is one of {len(pictures)} pictures, placed by {STAGE_WHO[stage]}: close dots are "
               f"pictures it finds alike. Diamonds with a black edge are the {shown.num_surprise} surprise pictures "
               f"(bunnies off grass, elephants on grass); the ringed one is the picture of step 2, joined to its "
               f"nearest neighbours. The axes have no units: {PROJECTION_NAMES[method]} flattens the network's "
               f"{space.points.shape[1]} numbers per picture onto the screen. Point at a dot to read it; click it to "
               "pick it.")

# ------------------------------------------------------------------------------------------ 3. photos
st.header(f"3. {STEPS[2]}")
st.markdown(LESSON.text("photos"))
if st.toggle("Open the photo network's space (it reads 20 photos: about a second)", key="why_it_works_photos",
             bind="query-params"):
    try:
        photo_step(photos_read())
    except Exception as error:  # noqa: BLE001 - one line for the user, details in the log
        failed("read the photos", error)

# ------------------------------------------------------------------------------- 4. before and after
st.header(f"4. {STEPS[3]}")
left, right = st.columns([4, 5])
left.plotly_chart(share_bars([result.space(name) for name in STAGES]), key="why_it_works_bars")
with right:
    metrics = st.columns(2)
    metrics[0].metric("Grass behind every bunny", f"{result.space('grass_only').animal_share:.0%}",
                      help="surprise pictures whose nearest ordinary pictures are mostly their own animal")
    metrics[1].metric(f"After {shown.extra_pictures:,} more pictures", f"{result.space('more_pictures').animal_share:.0%}",
                      delta=f"{100 * (result.space('more_pictures').animal_share - result.space('grass_only').animal_share):+.0f} points")
    st.markdown("\n".join(f"- {line}" for line in takeaways(result)))
    st.caption("Right on the surprise pictures: "
               + ", ".join(f"{STAGE_NAMES[name].lower()}: {result.space(name).accuracy_surprise:.0%}" for name in STAGES))
st.markdown(LESSON.text("takeaway"))

with st.expander("Under the hood"):
    st.markdown(LESSON.text("under_the_hood"))
    code = LESSON.excerpts()
    st.markdown("Where the features are read: the network's own layers, stopped before the last one "
                "(from `core/lessons/why_it_works/experiment.py`, `features`):")
    st.code(code["features"], language="python")
    st.markdown("How the surprise pictures' places are counted (`sorted_by_animal`):")
    st.code(code["sorted"], language="python")
    st.markdown("The three spaces on this page, from Python:")
    st.code(LESSON.snippet(shown), language="python")
    st.caption(f"Both trainings and the features took {result.seconds:.1f} s on this computer.")
