"""Lesson: Squeezing it onto a phone — a big network, shrunk three ways, against a small one trained directly."""

from __future__ import annotations

import pages.shared.layout  # noqa: F401, I001 - first of all: it imports the whole syllabus in one go (two first
# visits importing two lessons' packages at once deadlocked on Python's import locks, issue 9)
import streamlit as st

from core.lessons.squeeze import LESSON
from core.lessons.squeeze.experiment import (
    HOW,
    KINDS,
    MAP_METHOD,
    NAMES,
    SqueezeData,
    SqueezeResult,
    SqueezeSettings,
    make_data,
    run_squeeze,
    with_budget,
)
from core.lessons.squeeze.figures import few_labels_bars, size_accuracy
from core.lessons.squeeze.words import few_labels_words, fits_words, map_verdict, maps_summary, speed_words
from core.overlay import enlarge, map_scale, overlay
from pages.shared.layout import computed, failed, map_legend, setup_page, store, story, url_flag

DEFAULT = SqueezeSettings()
PRUNE_CHOICES = (0.25, 0.5, 0.75)
PICTURE_CHOICES = (300, 1000, 2000)
PHONE_CHOICES = (20, 35, 50, 100)
SHOWN_PICTURES = 4  # check pictures whose maps are drawn side by side

settings = setup_page("squeeze")


def describe(chosen: SqueezeSettings) -> str:
    return (f"{chosen.num_train:,} labelled pictures, pruning cuts {chosen.prune_share:.0%} of the filters, "
            f"seed {chosen.seed}")


def squeezed(chosen: SqueezeSettings) -> SqueezeResult:
    """The run for `chosen`: from the lesson's shared store, or trained now (in the server's training queue)
    behind a progress bar."""
    data: SqueezeData = computed(store(LESSON.id, "pictures"), chosen.data_key(),
                                 f"Drawing {chosen.num_train + chosen.unlabelled + chosen.num_test:,} pictures…",
                                 lambda on_progress: make_data(chosen, on_progress))
    return computed(store(LESSON.id, "training"), chosen.training_key(), "Training the big network…",
                    lambda on_progress: run_squeeze(chosen.training_key(), data, on_progress),
                    "Someone else is training these very networks right now — waiting for their result.")


# ---------------------------------------------------------------------------------------------------- page
st.title(LESSON.title)
story(LESSON.id, settings.presenter)

controls = st.columns([2, 2, 2, 1.4], vertical_alignment="bottom")
# The link carries each slider's label ("75%", "20 KB"), so the labels stay short.
share = controls[0].select_slider("Share of the filters pruning cuts out", options=PRUNE_CHOICES,
                                  value=DEFAULT.prune_share, format_func=lambda value: f"{value:.0%}",
                                  key="squeeze_prune", bind="query-params")
pictures = controls[1].select_slider("Labelled pictures to learn from", options=PICTURE_CHOICES,
                                     value=DEFAULT.num_train, key="squeeze_pictures", bind="query-params")
phone = controls[2].select_slider("Room on the pretend phone", options=PHONE_CHOICES, value=int(DEFAULT.phone_kb),
                                  format_func=lambda value: f"{value} KB", key="squeeze_phone", bind="query-params")
train_clicked = controls[3].button("Train and squeeze", type="primary", width="stretch")

chosen = SqueezeSettings(num_train=int(pictures), prune_share=float(share), seed=settings.seed).training_key()
if train_clicked:
    st.session_state["squeeze_shown"] = chosen
elif "squeeze_shown" not in st.session_state and st.query_params.get("squeeze_trained") == "1":
    st.session_state["squeeze_shown"] = chosen  # a shared link: show what it describes without a press
shown: SqueezeSettings | None = st.session_state.get("squeeze_shown")
url_flag("squeeze_trained", shown is not None and shown == chosen)

if shown is None:
    st.info("Press **Train and squeeze**: it trains one big network, squeezes it three ways and trains two small "
            "ones — about ten seconds.")
    st.stop()
if shown != chosen:
    st.info(f"You changed the settings. Press **Train and squeeze** to try them; below: {describe(shown)}.")

try:
    result = with_budget(squeezed(shown), float(phone))
except Exception as error:  # noqa: BLE001 - one line for the user, details in the log
    failed("train and squeeze the networks", error)
    st.stop()

# ------------------------------------------------------------------------------------ 1. three ways to squeeze
st.header(f"1. {LESSON.steps[0]}")
chart_column, text_column = st.columns([3, 2])
chart_column.plotly_chart(size_accuracy(result.models, result.settings.phone_kb), key="squeeze_chart")
with text_column:
    st.markdown(fits_words(result))
    st.markdown(speed_words(result))
st.dataframe(
    [
        {
            "network": model.name,
            "what it is": HOW[model.key],
            "file size": f"{model.kb:.1f} KB",
            "fits the phone": "yes" if model.kb <= result.settings.phone_kb else "no",
            "right on new pictures": f"{model.accuracy:.1%}",
            "filters per layer": " · ".join(map(str, model.filters)),
            "weights": model.weights,
            "ms per picture, one at a time": round(model.ms_one, 3),
            "ms per picture, 64 at once": round(model.ms_batch, 4),
        }
        for model in result.models
    ],
    column_config={"ms per picture, one at a time": st.column_config.NumberColumn(format="%.3f"),
                   "ms per picture, 64 at once": st.column_config.NumberColumn(format="%.4f")},
    hide_index=True,
    width="stretch",
)
st.caption("File size: the saved file, measured on disk. Milliseconds: measured on this server's processor, one "
           "core, the middle of several tries — they vary a little from run to run.")
st.markdown("**Take them with you.** Each file holds the network's numbers only (a PyTorch `state_dict`, no code): "
            "`torch.load(file, weights_only=True)` reads it.")
with st.container(horizontal=True):
    for model in result.models:
        st.download_button(f"{model.name} · {model.kb:.0f} KB", data=model.file, icon=":material/download:",
                           file_name=f"netlens_squeeze_{model.key}_seed{result.settings.seed}.pt",
                           mime="application/octet-stream", key=f"squeeze_download_{model.key}")

# ---------------------------------------------------------------------------------- 2. why not train the small one
st.header(f"2. {LESSON.steps[1]}")
bars_column, words_column = st.columns([3, 2])
bars_column.plotly_chart(few_labels_bars(result.few, result.model("scratch").accuracy,
                                         result.model("distilled").accuracy, result.settings.num_train),
                         key="squeeze_few")
bars_column.caption("Dotted line: guessing. The same small network, the same nudges, the same test pictures in "
                    "all four bars; only what it learns from changes.")
words_column.markdown(few_labels_words(result))

# ------------------------------------------------------------------------------- 3. does the explanation survive
st.header(f"3. {LESSON.steps[2]}")
st.markdown("The same pictures, explained by every network: which patches, covered up, would change its answer "
            "most. **Occlusion** draws every map here, because it only needs the network's answers — the gradient "
            "methods of the other lessons (Integrated Gradients, Saliency, Grad-CAM) need gradients, and an int8 "
            "network has none: they cannot run on it.")
header = st.columns(len(KINDS) + 1)
header[0].markdown("**picture**")
for column, key in zip(header[1:], KINDS):
    column.markdown(f"**{NAMES[key]}**")
for index in range(min(SHOWN_PICTURES, len(result.check_images))):
    row = st.columns(len(KINDS) + 1)
    image = result.check_images[index]
    row[0].image(enlarge(image, 4), width="stretch")
    scale = map_scale(result.picture_maps(index))  # one scale per row, so the networks' maps compare
    for column, key in zip(row[1:], KINDS):
        column.image(overlay(image, result.maps[key][index], scale=scale, zoom=4), width="stretch")
map_legend([MAP_METHOD])
st.dataframe(
    [
        {
            "network": NAMES[comparison.key],
            "maps alike? (rank correlation with the big network's)": round(comparison.rank_correlation, 2),
            "evidence on the grass": f"{comparison.grass_share:.0%}",
            "grass's share of the picture": f"{comparison.grass_area:.0%}",
        }
        for comparison in result.comparisons
    ],
    hide_index=True,
    width="stretch",
)
st.markdown(maps_summary(result))
st.markdown("\n".join(f"- {map_verdict(result, key)}" for key in KINDS[1:]))
st.markdown(LESSON.text("takeaway"))

with st.expander(LESSON.steps[3]):
    st.markdown(LESSON.text("under_the_hood"))
    code = LESSON.excerpts()
    st.markdown("Int8, the lines that run (from `core/lessons/squeeze/int8.py`, `quantise`):")
    st.code(code["int8"], language="python")
    st.markdown("Pruning, step 1 — mask the weakest filters (from `core/lessons/squeeze/pruning.py`, `mask_filters`):")
    st.code(code["mask"], language="python")
    st.markdown("Pruning, step 3 — after fine-tuning with the masks on, cut the filters out for real (`thinned`):")
    st.code(code["thin"], language="python")
    st.markdown("Distillation, the loss the small network learns from (from `experiment.py`, `distillation_loss`):")
    st.code(code["distillation"], language="python")
    st.markdown("The whole run on this page, from Python:")
    st.code(LESSON.snippet(shown), language="python")
    big_kb = result.model("big").kb
    st.caption(f"Measured here: while its masks were on, the pruned network's file was "
               f"{result.masked_file_bytes / 1000:.0f} KB — {result.masked_file_bytes / 1000 / big_kb:.1f}× the big "
               f"network's {big_kb:.0f} KB — and {result.model('pruned').kb:.0f} KB once the filters were really "
               f"cut out. The whole run took {result.seconds:.1f} s on this computer.")
