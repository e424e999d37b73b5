"""Plotly figures for the squeeze lesson: size on disk against accuracy with the phone's budget, and the
few-labels comparison."""

from __future__ import annotations

from typing import Sequence

import plotly.graph_objects as go

from core.figures import FONT, PALETTE
from core.lessons.squeeze.experiment import FewLabels
from core.lessons.squeeze.measure import KINDS, Squeezed

COLOURS: dict[str, str] = dict(zip(KINDS, (PALETTE[7], PALETTE[4], PALETTE[2], PALETTE[5], PALETTE[0])))
SYMBOLS: dict[str, str] = {"big": "circle", "int8": "square", "pruned": "diamond", "distilled": "triangle-up",
                           "scratch": "triangle-down"}


def size_accuracy(models: Sequence[Squeezed], phone_kb: float, height: int = 440) -> go.Figure:
    """One marker per network: file size on disk (KB, x) against right answers on new pictures (%, y); a dashed
    vertical line at the phone's budget, its room shaded."""
    if not models:
        raise ValueError("no networks to draw")
    figure = go.Figure()
    largest = max(max(model.kb for model in models), phone_kb)
    figure.add_vrect(x0=0, x1=phone_kb, fillcolor="#009E73", opacity=0.07, line_width=0)
    figure.add_vline(x=phone_kb, line_dash="dash", line_color="#009E73", line_width=2,
                     annotation_text=f"fits a phone: {phone_kb:g} KB", annotation_position="bottom left",
                     annotation_font=dict(color="#00704f", size=14))
    for model in models:  # a legend, not labels beside the markers: the two small networks sit on top of each other
        figure.add_trace(go.Scatter(
            x=[model.kb], y=[100 * model.accuracy], mode="markers", name=f"{model.name} ({model.kb:.0f} KB)",
            marker=dict(size=16, color=COLOURS[model.key], symbol=SYMBOLS[model.key], line=dict(width=1, color="#333")),
            hovertemplate=f"{model.name}: %{{x:.1f}} KB, %{{y:.1f}}% right<extra></extra>",
        ))
    lowest = min(100 * model.accuracy for model in models)
    figure.update_xaxes(title_text="size of the saved file (KB)", range=[0, largest * 1.12], showgrid=True,
                        gridcolor="#eee", rangemode="tozero")
    figure.update_yaxes(title_text="right on new pictures", ticksuffix="%", showgrid=True, gridcolor="#eee",
                        range=[max(0.0, min(lowest - 6, 90.0)), 101])
    figure.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), font=FONT, plot_bgcolor="white",
                         legend=dict(orientation="h", yanchor="top", y=-0.22, x=0, font=dict(size=13)))
    return figure


def few_labels_bars(few: FewLabels, same_scratch: float, same_distilled: float, num_train: int,
                    height: int = 300) -> go.Figure:
    """Grouped bars: the small network from scratch and distilled, with all the labelled pictures and with few."""
    groups = [f"all {num_train:,} pictures labelled", f"only {few.labelled} labelled<br>(+ {few.unlabelled:,} "
              "nobody labelled)"]
    figure = go.Figure()
    for key, values in (("scratch", (same_scratch, few.scratch_accuracy)),
                        ("distilled", (same_distilled, few.distilled_accuracy))):
        figure.add_bar(x=groups, y=[100 * value for value in values], name="small, from scratch" if key == "scratch"
                       else "small, distilled from the big one", marker_color=COLOURS[key],
                       text=[f"{100 * value:.0f}%" for value in values], textposition="outside", cliponaxis=False,
                       hovertemplate="%{x}: %{y:.1f}% right<extra></extra>")
    figure.add_hline(y=50, line_dash="dot", line_color="#999")  # guessing
    figure.update_yaxes(range=[0, 108], ticksuffix="%", title_text="right on new pictures", showgrid=True,
                        gridcolor="#eee")
    figure.update_layout(barmode="group", height=height, margin=dict(l=10, r=10, t=20, b=10), font=FONT,
                         plot_bgcolor="white", legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0))
    return figure
