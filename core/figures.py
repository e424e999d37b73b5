"""The plotting style every lesson's Plotly figures share: colour-blind-safe palette, font, layout."""

from __future__ import annotations

import plotly.graph_objects as go

# Okabe–Ito palette: distinguishable with the common forms of colour blindness.
PALETTE = ("#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#0072B2", "#D55E00", "#F0E442", "#000000")
FONT = dict(size=15)


def _layout(figure: go.Figure, title: str, height: int = 320) -> go.Figure:
    figure.update_layout(
        title=dict(text=title, font=dict(size=17)),
        height=height,
        margin=dict(l=10, r=10, t=50, b=10),
        font=FONT,
        legend=dict(orientation="h", yanchor="top", y=-0.18, xanchor="left", x=0.0),
        plot_bgcolor="white",
    )
    figure.update_xaxes(showgrid=True, gridcolor="#eee")
    figure.update_yaxes(showgrid=True, gridcolor="#eee")
    return figure

