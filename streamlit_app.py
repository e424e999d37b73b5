"""NetLens home: what it is, and the syllabus (generated from core.lessons.SYLLABUS)."""

import streamlit as st

import pages.shared.layout  # noqa: F401, I001 - first: the whole syllabus in one go (see pages/*.py)

from core.lessons import SYLLABUS
from pages.shared.layout import setup_page

setup_page()
st.title("NetLens")
st.markdown(
    "**NetLens shows what a neural network is actually doing.** It trains small networks live, in seconds, "
    "and then shows which pixels drove each answer — and checks whether that explanation can be trusted."
)
st.subheader("Lessons")
for number, lesson in enumerate(SYLLABUS, start=1):
    page = getattr(lesson, "page", None)
    if page:
        with st.container(border=True):
            st.markdown(f"{number}. **{lesson.title}** — {lesson.idea}")
            st.page_link(page, label=f"Open “{lesson.title}”", icon=":material/arrow_forward:")
    else:
        st.markdown(f"{number}. {lesson.title} — {lesson.idea} *(being written)*")
