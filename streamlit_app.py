"""NetLens home: what it is, and the syllabus."""

import streamlit as st

from core.lessons import SYLLABUS
from pages.shared.layout import setup_page

setup_page("Home", "🔍")
st.title("NetLens")
st.markdown(
    "**NetLens shows what a neural network is actually doing.** It trains small networks live, in seconds, "
    "and then shows which pixels drove each answer — and checks whether that explanation can be trusted."
)
st.subheader("Lessons")
for number, lesson in enumerate(SYLLABUS, start=1):
    if lesson.page is not None:
        with st.container(border=True):
            st.markdown(f"{number}. **{lesson.title}** — {lesson.idea}")
            st.page_link(lesson.page, label=f"Open “{lesson.title}”", icon=":material/arrow_forward:")
    else:
        st.markdown(f"{number}. {lesson.title} — {lesson.idea} *(being written)*")
