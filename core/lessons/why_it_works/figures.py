"""Plotly figures for the "why does it work?" lesson: the map of a network's space, and the before/after bars."""

from __future__ import annotations

import base64
import io
from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from PIL import Image

from core.figures import FONT, PALETTE
from core.lessons.why_it_works.experiment import STAGE_NAMES, MapPictures, Space, article
from core.scenes import COARSE_CLASSES, GROUNDS

COLOUR_BY: tuple[str, ...] = ("animal", "ground")
ANIMAL_COLOURS = {"bunny": PALETTE[0], "elephant": PALETTE[4]}  # orange, blue
GROUND_COLOURS = {"grass": PALETTE[2], "sand": PALETTE[6], "snow": "#9aa3ad", "dirt": PALETTE[5]}
MAP_HEIGHT = 520


def _thumbnail_uri(image: np.ndarray, side: int) -> str:
    """A small PNG of a (H, W, 3) picture as a data URI (what Plotly's layout images take)."""
    buffer = io.BytesIO()
    Image.fromarray(image).resize((side, side), Image.Resampling.BILINEAR).save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def space_map(layout: np.ndarray, pictures: MapPictures, space: Space, colour_by: str = "animal",
              chosen: int | None = None, neighbours: Sequence[int] = (), thumbnails: bool = False,
              height: int = MAP_HEIGHT) -> go.Figure:
    """The pictures laid out by the network (one point each, (N, 2) `layout`): colour by animal or by ground;
    ordinary pictures as dots, surprise pictures as big diamonds with a black edge; the chosen picture ringed and
    joined to its nearest neighbours. `thumbnails` puts each picture itself at its point. Each point carries its
    index as customdata, so a click (selection) tells which picture it was."""
    if colour_by not in COLOUR_BY:
        raise ValueError(f"colour_by must be one of {', '.join(COLOUR_BY)}, got {colour_by!r}")
    if len(layout) != len(pictures):
        raise ValueError(f"{len(layout)} points for {len(pictures)} pictures")
    figure = go.Figure()
    groups = COARSE_CLASSES if colour_by == "animal" else GROUNDS
    colours = ANIMAL_COLOURS if colour_by == "animal" else GROUND_COLOURS
    animals = np.array([pictures.animal(i) for i in range(len(pictures))])
    grounds = np.array(pictures.grounds)
    values = animals if colour_by == "animal" else grounds
    said = [COARSE_CLASSES[int(p)] for p in space.predictions]
    for surprise in (False, True):
        for group in groups:
            index = np.flatnonzero((values == group) & (pictures.surprise == surprise))
            if len(index) == 0:
                continue
            name = f"{group}{' — surprise picture' if surprise else ''}"
            figure.add_trace(go.Scatter(
                x=layout[index, 0], y=layout[index, 1], mode="markers", name=name,
                legendgroup="surprise" if surprise else "ordinary",
                marker=dict(color=colours[group], size=13 if surprise else 8,
                            symbol="diamond" if surprise else "circle",
                            line=dict(color="black" if surprise else "white", width=1.5 if surprise else 0.5),
                            opacity=0.35 if thumbnails and not surprise else 0.9),
                customdata=index,
                text=[f"{'Surprise: ' if surprise else ''}{article(animals[i])} on {grounds[i]} — the network says "
                      f"{said[i]}" for i in index],
                hovertemplate="%{text}<br>(click to see its nearest neighbours)<extra></extra>",
            ))
    if thumbnails:
        size = 0.09  # in axis units: the layout spans [-1, 1]
        # All at once: one add_layout_image call per picture took ~50 ms each (Plotly re-validates the layout).
        figure.update_layout(images=[
            dict(source=_thumbnail_uri(pictures.images[index], 24), x=float(layout[index, 0]),
                 y=float(layout[index, 1]), xref="x", yref="y", sizex=size, sizey=size, xanchor="center",
                 yanchor="middle", layer="below")
            for index in range(len(pictures))
        ])
    if chosen is not None:
        for other in neighbours:
            figure.add_trace(go.Scatter(x=[layout[chosen, 0], layout[other, 0]], y=[layout[chosen, 1], layout[other, 1]],
                                        mode="lines", line=dict(color="#333", width=1.5, dash="dot"),
                                        hoverinfo="skip", showlegend=False))
        figure.add_trace(go.Scatter(x=[layout[chosen, 0]], y=[layout[chosen, 1]], mode="markers", name="chosen picture",
                                    marker=dict(size=26, symbol="circle-open", color="black", line=dict(width=3)),
                                    hoverinfo="skip"))
    figure.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, range=[-1.12, 1.12])
    figure.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, range=[-1.12, 1.12])
    figure.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10), font=FONT, plot_bgcolor="#fafafa",
                         legend=dict(orientation="v", x=1.01, y=1.0, title_text=f"colour: {colour_by}"),
                         clickmode="event+select", dragmode="pan")
    return figure


def share_bars(spaces: Sequence[Space], height: int = 300) -> go.Figure:
    """One bar per network: share of surprise pictures sitting among their own animal (%), with 50 % dotted."""
    if not spaces:
        raise ValueError("no spaces to draw")
    names = [STAGE_NAMES[space.stage] for space in spaces]
    shares = [100 * space.animal_share for space in spaces]
    figure = go.Figure(go.Bar(
        x=names, y=shares, marker_color=[PALETTE[7 if i == 0 else (5 if i == 1 else 2)] for i in range(len(spaces))],
        text=[f"{value:.0f}%" for value in shares], textposition="outside", cliponaxis=False,
        hovertemplate="%{x}: %{y:.0f}% of the surprise pictures sit among their own animal<extra></extra>",
    ))
    figure.add_hline(y=50, line_dash="dot", line_color="#999")
    figure.update_yaxes(range=[0, 110], ticksuffix="%", showgrid=True, gridcolor="#eee",
                        title_text="among their own animal")
    figure.update_layout(height=height, margin=dict(l=10, r=10, t=20, b=10), font=FONT, plot_bgcolor="white")
    return figure


def photo_map(layout: np.ndarray, images: Sequence[np.ndarray], names: Sequence[str], query: int | None = None,
              neighbours: Sequence[int] = (), height: int = 460) -> go.Figure:
    """The photo network's space flattened (N, 2 `layout`): each photo drawn at its point, named on hover; the
    photo in question (`query`) ringed and joined to its nearest pictures."""
    if not len(layout) == len(images) == len(names):
        raise ValueError(f"{len(layout)} points for {len(images)} photos and {len(names)} names")
    figure = go.Figure(go.Scatter(
        x=layout[:, 0], y=layout[:, 1], mode="markers", marker=dict(size=36, color="rgba(0,0,0,0)"),
        text=list(names), hovertemplate="%{text}<extra></extra>", showlegend=False,
    ))
    size = 0.2  # in axis units: the layout spans [-1, 1]
    figure.update_layout(images=[
        dict(source=_thumbnail_uri(_square(image), 48), x=float(x), y=float(y), xref="x", yref="y", sizex=size,
             sizey=size, xanchor="center", yanchor="middle", layer="above")
        for image, (x, y) in zip(images, layout)
    ])
    if query is not None:
        for other in neighbours:
            figure.add_trace(go.Scatter(x=[layout[query, 0], layout[other, 0]], y=[layout[query, 1], layout[other, 1]],
                                        mode="lines", line=dict(color=PALETTE[0], width=3, dash="dot"),
                                        hoverinfo="skip", showlegend=False))
        figure.add_trace(go.Scatter(x=[layout[query, 0]], y=[layout[query, 1]], mode="markers", showlegend=False,
                                    marker=dict(size=64, symbol="square-open", color=PALETTE[0], line=dict(width=4)),
                                    hoverinfo="skip"))
    figure.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, range=[-1.2, 1.2])
    figure.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, range=[-1.2, 1.2])
    figure.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10), font=FONT, plot_bgcolor="#fafafa",
                         dragmode="pan")
    return figure


def _square(image: np.ndarray) -> np.ndarray:
    """The central square of a (H, W, 3) picture (thumbnails are square)."""
    height, width = image.shape[:2]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    return image[top : top + side, left : left + side]
