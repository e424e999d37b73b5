"""Lesson: How many pictures do I need? — bunny vs elephant needs few, bunny breed vs bunny breed many."""

from __future__ import annotations

import pages.shared.layout  # noqa: F401, I001 - first of all: it imports the whole syllabus in one go (two first
# visits importing two lessons' packages at once deadlocked on Python's import locks, issue 9)
from dataclasses import replace

import streamlit as st

from core.lessons.how_many_pictures import LESSON
from core.lessons.how_many_pictures.experiment import (
    COARSE,
    CURVE_NAMES,
    FINE,
    TARGET,
    Curves,
    HowManySettings,
    TestSet,
    make_tests,
    headline,
    learning_curves,
    transfer_line,
)
from core.lessons.how_many_pictures.figures import learning_curves as curves_figure
from core.lessons.how_many_pictures.figures import map_tiles, outline
from core.overlay import enlarge, map_scale
from core.scenes import ear_tip_mask
from pages.shared.layout import computed, failed, map_legend, setup_page, store, story, url_flag

DEFAULT = HowManySettings()
SEED_CHOICES = (1, 3, 5)
TARGET_CHOICES = (80, 85, 90, 95)  # % right
MAP_COLUMNS = 4

settings = setup_page("how_many_pictures")


def describe(chosen: HowManySettings) -> str:
    transfer = ", with the transfer curve" if chosen.transfer else ""
    return (f"{chosen.seeds} seed{'s' if chosen.seeds != 1 else ''} per point{transfer}, seed {chosen.seed} "
            f"({chosen.trainings} trainings)")


def test_pictures(chosen: HowManySettings) -> dict[str, TestSet]:
    """Both tasks' test pictures, drawn once per server (before Train, so the first points come sooner)."""
    return computed(store(LESSON.id, "pictures"), chosen.data_key(),
                    f"Drawing {2 * chosen.num_test:,} test pictures…", lambda on_progress: make_tests(chosen))


def curves_for(chosen: HowManySettings, tests: dict[str, TestSet],
               live_chart) -> Curves:  # type: ignore[no-untyped-def]
    """The curves for `chosen`: from the lesson's shared store, or trained now (in the server's training queue)
    behind a progress bar, each point drawn on `live_chart` as its training finishes."""

    def draw(points) -> None:  # type: ignore[no-untyped-def]
        live_chart.plotly_chart(curves_figure(points, chosen.sizes, chosen.seeds, target, chosen.curves),
                                key=f"how_many_pictures_live_{len(points)}")

    def compute(on_progress):  # type: ignore[no-untyped-def]
        draw(())  # the empty chart (axes and legend) at once
        return learning_curves(chosen, on_progress, draw, tests)

    return computed(store(LESSON.id, "training"), chosen.training_key(),
                    f"Training {chosen.trainings} small networks, two at a time…", compute,
                    "Someone else is training these very curves right now — waiting for their result.")


# ---------------------------------------------------------------------------------------------------- page
st.title(LESSON.title)
story(LESSON.id, settings.presenter)

st.subheader(f"1. {LESSON.steps[0]}")
try:
    shown_examples = test_pictures(replace(DEFAULT, seed=settings.seed))
except Exception as error:  # noqa: BLE001 - one line for the user, details in the log
    failed("draw the pictures", error)
    st.stop()
easy, hard = st.columns(2, gap="large")
easy.markdown(f"**Easy: {CURVE_NAMES[COARSE]}**")
easy.image([enlarge(image) for image in shown_examples[COARSE].images[:MAP_COLUMNS]],
           caption=["bunny" if label == 0 else "elephant" for label in shown_examples[COARSE].labels[:MAP_COLUMNS]],
           width=105)
hard.markdown(f"**Hard: {CURVE_NAMES[FINE]}** — the telling part, the ear tips, outlined")
hard.image([outline(image, ear_tip_mask(spec, DEFAULT.image_size))
            for image, spec in zip(shown_examples[FINE].images[:MAP_COLUMNS], shown_examples[FINE].specs)],
           caption=["meadow: plain" if label == 0 else "hollow: black tips"
                    for label in shown_examples[FINE].labels[:MAP_COLUMNS]],
           width=105)

st.subheader(f"2. {LESSON.steps[1]}")
controls = st.columns([1.6, 1.8, 1.8, 1.1], vertical_alignment="bottom")
seeds = controls[0].select_slider("Tries per point (seeds)", options=SEED_CHOICES, value=DEFAULT.seeds,
                                  key="how_many_pictures_seeds", bind="query-params",
                                  help="Each point is trained this many times from different seeds; the band "
                                       "shows how far they spread.")
transfer = controls[1].toggle("Add: breeds with a head start", value=DEFAULT.transfer,
                              key="how_many_pictures_transfer", bind="query-params",
                              help="A third curve, dashed: the breed networks start from what the "
                                   "bunny-vs-elephant network learned, instead of from nothing.")
target_percent = controls[2].select_slider("Target for the headline (% right)", options=TARGET_CHOICES,
                                           value=round(100 * TARGET), key="how_many_pictures_target",
                                           bind="query-params", help="Only the sentence changes: it is read off "
                                                                     "the same curves.")
target = int(target_percent) / 100
train_clicked = controls[3].button("Train", type="primary", width="stretch")

chosen = HowManySettings(seeds=int(seeds), transfer=bool(transfer), seed=settings.seed)
if train_clicked:
    st.session_state["how_many_pictures_shown"] = chosen
elif "how_many_pictures_shown" not in st.session_state and st.query_params.get("how_many_pictures_trained") == "1":
    st.session_state["how_many_pictures_shown"] = chosen  # a shared link: show what it describes without a press
shown: HowManySettings | None = st.session_state.get("how_many_pictures_shown")
url_flag("how_many_pictures_trained", shown is not None and shown == chosen)

if shown is None:
    st.info(f"Press **Train**: {chosen.trainings} small networks learn, two at a time, and each one appears on the "
            "chart as soon as it is done (about a minute in all).")
    st.stop()
if shown != chosen:
    st.info(f"You changed the settings. Press **Train** to see them; below: {describe(shown)}.")

chart = st.empty()
try:
    curves = curves_for(shown, test_pictures(shown), chart)
except Exception as error:  # noqa: BLE001 - one line for the user, details in the log
    failed("train the networks", error)
    st.stop()
chart.plotly_chart(curves_figure(curves.points, shown.sizes, shown.seeds, target, shown.curves),
                   key="how_many_pictures_curves")
st.markdown(headline(curves, target))
line = transfer_line(curves, target)
if line:
    st.markdown(line)
st.caption("Each dot is the average of the seeds' tries, the shaded band runs from the worst try to the best. "
           "Dotted lines: the target, and guessing (50 %).")
st.dataframe(
    [
        {"curve": CURVE_NAMES[curve]}
        | {f"{size:,} of each": f"{100 * value:.0f}%" for size, value in zip(curves.band(curve).sizes,
                                                                           curves.band(curve).mean)}
        for curve in shown.curves
    ],
    hide_index=True,
    width="stretch",
)

st.subheader(f"3. {LESSON.steps[2]}")
maps = curves.maps
if maps is None:
    st.info("No maps for these settings.")
else:
    small, large = maps.small, maps.large
    left, right = st.columns(2)
    left.metric(f"Evidence on the ear tips, {small.per_class:,} pictures of each", f"{small.tip_share:.1%}",
                help=f"{small.focus:.1f}× the ear tips' share of the picture ({small.tip_area:.1%})")
    right.metric(f"Evidence on the ear tips, {large.per_class:,} pictures of each", f"{large.tip_share:.1%}",
                 help=f"{large.focus:.1f}× the ear tips' share of the picture ({large.tip_area:.1%})")
    st.markdown(f"The ear tips are only **{small.tip_area:.1%}** of each picture. The network trained on "
                f"{small.per_class:,} pictures of each breed ({small.accuracy:.0%} right) puts "
                f"**{small.tip_share:.1%}** of its evidence there ({small.focus:.0f}× their share); the one trained "
                f"on {large.per_class:,} ({large.accuracy:.0%} right) puts **{large.tip_share:.1%}** there "
                f"({large.focus:.0f}× their share). Measured on {len(maps.images)} breed test pictures.")
    scale = map_scale(large.maps[:MAP_COLUMNS])
    small_scale = map_scale(small.maps[:MAP_COLUMNS])
    for title, item, item_scale in ((f"Trained on {small.per_class:,} of each", small, small_scale),
                                    (f"Trained on {large.per_class:,} of each", large, scale)):
        st.markdown(f"**{title}**")
        st.image(map_tiles(maps.images[:MAP_COLUMNS], item.maps[:MAP_COLUMNS], item_scale),
                 caption=[f"says {'hollow' if answer else 'meadow'} ({'right' if answer == label else 'wrong'}) · "
                          f"{share:.0%} on the tips"
                          for answer, label, share in zip(item.predicted[:MAP_COLUMNS], maps.labels[:MAP_COLUMNS],
                                                          item.tip_shares[:MAP_COLUMNS])],
                 width=160)
    map_legend([maps.method])

st.markdown(LESSON.text("takeaway"))

with st.expander("Under the hood"):
    st.markdown(LESSON.text("under_the_hood"))
    code = LESSON.excerpts()
    st.markdown("How many nudges one training makes (from `HowManySettings.nudges`):")
    st.code(code["nudges"], language="python")
    st.markdown("How a transfer network starts (from `train_network`):")
    st.code(code["start"], language="python")
    st.markdown("Each training, in its thread, on one torch thread (from `learning_curves`):")
    st.code(code["threads"], language="python")
    st.markdown("The order the trainings start in (from `_jobs`):")
    st.code(code["order"], language="python")
    st.markdown("The whole chart, from Python:")
    st.code(LESSON.snippet(shown), language="python")
    st.caption(f"All {len(curves.points)} trainings took {curves.seconds:.1f} s on this computer; the first point "
               f"was on the chart after {curves.first_point_seconds:.1f} s.")
