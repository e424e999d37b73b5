"""Plotly figures of the photo lesson: the top-5 answers, and the two trust checks (deletion, randomisation)."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from core.figures import PALETTE, _layout


def top_predictions(labels: Sequence[str], probabilities: Sequence[float], highlight: int | None = None) -> go.Figure:
    """Horizontal confidence bars, best at the top; the bar at position `highlight` stands out."""
    colours = [PALETTE[5] if index == highlight else PALETTE[4] for index in range(len(labels))]
    figure = go.Figure(go.Bar(x=[100 * p for p in probabilities], y=list(labels), orientation="h",
                              marker_color=colours, text=[f"{100 * p:.0f}%" for p in probabilities],
                              textposition="outside", cliponaxis=False))
    _layout(figure, "What the network thinks it is", height=300)
    figure.update_xaxes(title="confidence (%)", range=[0, 110])
    figure.update_yaxes(autorange="reversed")
    return figure


def deletion_curves(fractions: np.ndarray, most_first: np.ndarray, least_first: np.ndarray, random_order: np.ndarray,
                    method: str) -> go.Figure:
    """The explained class's log-odds as more of the picture is blurred away: the map's most important patches
    first, its least important first, and in random order."""
    figure = go.Figure()
    figure.add_scatter(x=100 * fractions, y=most_first, mode="lines+markers", name=f"most important first ({method})",
                       line=dict(color=PALETTE[5], width=3))
    figure.add_scatter(x=100 * fractions, y=least_first, mode="lines", name="least important first",
                       line=dict(color=PALETTE[4], width=2))
    figure.add_scatter(x=100 * fractions, y=random_order, mode="lines", name="random order",
                       line=dict(color="#777", width=2, dash="dash"))
    figure.add_hline(y=0, line=dict(color="#bbb", width=1), annotation_text="50 / 50",
                     annotation_position="bottom right")
    _layout(figure, "Blur away what the map points at", height=400)
    figure.update_layout(legend=dict(y=-0.3))  # three entries: below the axis title, not over it
    figure.update_xaxes(title="share of the picture blurred (%)", range=[0, 100])
    figure.update_yaxes(title="how sure it is (log-odds; 0 = 50/50)")
    return figure


def randomisation_similarity(layers: Sequence[str], similarity: np.ndarray) -> go.Figure:
    """How much the map still resembles the original as more of the network is scrambled."""
    figure = go.Figure(go.Scatter(x=list(range(1, len(layers) + 1)), y=list(similarity), mode="lines+markers",
                                  line=dict(color=PALETTE[4], width=3), text=list(layers),
                                  hovertemplate="%{text}<br>similarity %{y:.2f}<extra></extra>"))
    figure.add_hrect(y0=0.5, y1=1.05, fillcolor="#D55E00", opacity=0.08, line_width=0,
                     annotation_text="still the same map: suspicious", annotation_position="top left")
    _layout(figure, "Scramble the network, redraw the map", height=340)
    figure.update_xaxes(title="layers scrambled (from the output backwards)", dtick=1)
    lowest = min(-0.2, float(np.min(similarity)) - 0.1) if len(similarity) else -0.2  # never clip a step off
    figure.update_yaxes(title="similarity to the original map", range=[lowest, 1.05])
    return figure
