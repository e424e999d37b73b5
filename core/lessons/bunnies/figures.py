"""Plotly figures of the bunnies lesson: the learning curve, evidence per part, the background swap."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from core.figures import PALETTE, _layout
from core.fit import Progress
from core.scenes import PARTS


def learning_curve(history: Sequence[Progress], total_passes: float | None = None) -> go.Figure:
    """Accuracy on the training pictures as training goes on (x: passes through the pictures)."""
    passes = [report.epoch for report in history]
    accuracy = [100 * report.accuracy for report in history]
    figure = go.Figure(go.Scatter(x=passes, y=accuracy, mode="lines+markers", name="right answers while learning",
                                  line=dict(color=PALETTE[4], width=3)))
    figure.add_hline(y=50, line_dash="dot", line_color="#999", annotation_text="guessing", annotation_position="bottom right")
    _layout(figure, "How often it is right while it learns")
    figure.update_yaxes(title="right answers (%)", range=[0, 102])
    figure.update_xaxes(title="times it has seen every picture", range=[0, total_passes] if total_passes else None)
    return figure


def evidence_by_part(
    shares: dict[str, Sequence[float]], names: dict[str, str], area: Sequence[float] | None = None
) -> go.Figure:
    """Grouped bars: for each part of the scene, the share of the evidence each method puts there (%),
    with the share of the picture the part covers as a reference."""
    figure = go.Figure()
    if area is not None:
        figure.add_bar(x=list(PARTS), y=[100 * value for value in area], name="share of the picture",
                       marker=dict(color="rgba(0,0,0,0)", line=dict(color="#444", width=2)))
    for index, (key, values) in enumerate(shares.items()):
        figure.add_bar(x=list(PARTS), y=[100 * value for value in values], name=names.get(key, key),
                       marker_color=PALETTE[index % len(PALETTE)])
    _layout(figure, "Where the evidence comes from", height=400)
    figure.update_yaxes(title="share of the evidence (%)")
    figure.update_layout(barmode="group", margin=dict(b=90))
    return figure


def background_swap(
    original: np.ndarray, swapped: np.ndarray, on_grass: np.ndarray, labels: np.ndarray, classes: Sequence[str]
) -> go.Figure:
    """Confidence in the right answer before and after swapping the ground, for each animal, on grass
    and off it. (N,) arrays; `labels` index `classes`."""
    groups = []
    for label, animal in enumerate(classes):
        animals = animal[:-1] + "ies" if animal.endswith("y") else animal + "s"
        groups.append((f"{animals}: grass → other ground", (labels == label) & on_grass))
        groups.append((f"{animals}: other ground → grass", (labels == label) & ~on_grass))
    groups = [(name, rows) for name, rows in groups if rows.any()]
    figure = go.Figure()
    for name, values, colour in (("original ground", original, PALETTE[2]), ("swapped ground", swapped, PALETTE[5])):
        figure.add_bar(y=[label for label, _ in groups], x=[100 * float(values[rows].mean()) for _, rows in groups],
                       name=name, marker_color=colour, orientation="h")
    _layout(figure, "Same animal, different ground", height=400)
    figure.update_xaxes(title="confidence in the right answer (%)", range=[0, 100])
    figure.update_yaxes(autorange="reversed")
    figure.update_layout(barmode="group", margin=dict(b=90))
    return figure
